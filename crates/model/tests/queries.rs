//! Every model query against a real, migrated database.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

mod common;

use diesel::result::{DatabaseErrorKind, Error};
use plumb_model::{
    Account, AccountChanges, AccountStatus, ApiKey, FeatureFlag, FlagError, GATED_COLUMNS, Gates,
    NewAccount, NewApiKey,
};

/// Every gate open: the code of a release whose flags are all on.
fn open() -> Gates {
    Gates::all_open()
}

/// Every gate closed: the code of a release before any gated column.
fn closed() -> Gates {
    Gates::closed()
}

fn new_account<'a>(email: &'a str, display_name: &'a str) -> NewAccount<'a> {
    NewAccount {
        email,
        status: AccountStatus::Active,
        display_name: Some(display_name),
    }
}

#[test]
fn an_account_round_trips() {
    let (_db, mut conn) = common::database();
    let created =
        Account::create(&mut conn, &new_account("ada@example.com", "Ada"), &open()).unwrap();
    assert_eq!(created.email, "ada@example.com");
    assert_eq!(created.display_name.as_deref(), Some("Ada"));
    assert_eq!(created.status, AccountStatus::Active);
    assert_eq!(created.created_at, created.updated_at);

    assert_eq!(
        Account::find(&mut conn, created.id, &open()).unwrap(),
        Some(created.clone())
    );
    assert_eq!(
        Account::find_by_email(&mut conn, "ada@example.com", &open()).unwrap(),
        Some(created.clone())
    );
    assert_eq!(
        Account::find(&mut conn, created.id + 1000, &open()).unwrap(),
        None
    );
    assert_eq!(
        Account::find_by_email(&mut conn, "nobody@example.com", &open()).unwrap(),
        None
    );
}

#[test]
fn an_account_created_without_a_display_name_gets_the_default_from_the_model() {
    // The migrated database has display_name NOT NULL without a default: a service that
    // imports this crate and gives no name must still be able to insert.
    let (_db, mut conn) = common::database();
    let new = NewAccount {
        email: "grace.hopper@example.com",
        status: AccountStatus::Active,
        display_name: None,
    };
    let created = Account::create(&mut conn, &new, &open()).unwrap();
    assert_eq!(
        created.display_name,
        Some(plumb_model::account::default_display_name(new.email))
    );
    assert_eq!(created.display_name.as_deref(), Some("grace.hopper"));
}

#[test]
fn a_duplicate_email_is_a_unique_violation() {
    let (_db, mut conn) = common::database();
    Account::create(&mut conn, &new_account("dup@example.com", "One"), &open()).unwrap();
    let second = Account::create(&mut conn, &new_account("dup@example.com", "Two"), &open());
    assert!(matches!(
        second,
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _))
    ));
}

#[test]
fn every_status_round_trips() {
    let (_db, mut conn) = common::database();
    for status in AccountStatus::ALL {
        let email = format!("{status}@example.com");
        let created = Account::create(
            &mut conn,
            &NewAccount {
                email: &email,
                status,
                display_name: Some("S"),
            },
            &open(),
        )
        .unwrap();
        assert_eq!(
            Account::find(&mut conn, created.id, &open())
                .unwrap()
                .unwrap()
                .status,
            status
        );
    }
}

#[test]
fn list_walks_keyset_pages_in_id_order() {
    let (_db, mut conn) = common::database();
    let mut ids = Vec::new();
    for n in 0..7 {
        let email = format!("user{n}@example.com");
        ids.push(
            Account::create(&mut conn, &new_account(&email, "U"), &open())
                .unwrap()
                .id,
        );
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = Account::list(&mut conn, after, 3, &open()).unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 3);
        after = page.last().map(|a| a.id);
        seen.extend(page.into_iter().map(|a| a.id));
    }
    assert_eq!(seen, ids);
    assert_eq!(
        Account::list(&mut conn, None, 0, &open()).unwrap().len(),
        1,
        "a limit below 1 still returns a row"
    );
}

#[test]
fn update_changes_only_what_it_names_and_stamps_updated_at() {
    let (_db, mut conn) = common::database();
    let created = Account::create(
        &mut conn,
        &new_account("grace@example.com", "Grace"),
        &open(),
    )
    .unwrap();
    let changes = AccountChanges {
        display_name: Some("Grace H."),
        ..Default::default()
    };
    let updated = Account::update(&mut conn, created.id, &changes, &open())
        .unwrap()
        .unwrap();
    assert_eq!(updated.display_name.as_deref(), Some("Grace H."));
    assert_eq!(updated.email, created.email);
    assert_eq!(updated.status, created.status);
    assert!(updated.updated_at >= created.updated_at);

    let suspended = Account::update(
        &mut conn,
        created.id,
        &AccountChanges {
            status: Some(AccountStatus::Suspended),
            ..Default::default()
        },
        &open(),
    )
    .unwrap()
    .unwrap();
    assert_eq!(suspended.status, AccountStatus::Suspended);
    assert_eq!(suspended.display_name.as_deref(), Some("Grace H."));

    // No change named: still a valid update that only stamps updated_at.
    assert!(
        Account::update(&mut conn, created.id, &AccountChanges::default(), &open())
            .unwrap()
            .is_some()
    );
    assert_eq!(
        Account::update(&mut conn, created.id + 1000, &changes, &open()).unwrap(),
        None
    );
}

#[test]
fn api_keys_are_created_listed_found_and_revoked() {
    let (_db, mut conn) = common::database();
    let owner =
        Account::create(&mut conn, &new_account("keys@example.com", "Keys"), &open()).unwrap();
    let other = Account::create(
        &mut conn,
        &new_account("other@example.com", "Other"),
        &open(),
    )
    .unwrap();
    let first = ApiKey::create(
        &mut conn,
        &NewApiKey {
            account_id: owner.id,
            label: "ci",
            token_hash: "h1",
        },
    )
    .unwrap();
    let second = ApiKey::create(
        &mut conn,
        &NewApiKey {
            account_id: owner.id,
            label: "laptop",
            token_hash: "h2",
        },
    )
    .unwrap();
    ApiKey::create(
        &mut conn,
        &NewApiKey {
            account_id: other.id,
            label: "x",
            token_hash: "h3",
        },
    )
    .unwrap();

    let listed = ApiKey::list_for_account(&mut conn, owner.id, None, 10).unwrap();
    assert_eq!(listed, vec![first.clone(), second.clone()]);
    assert_eq!(
        ApiKey::list_for_account(&mut conn, owner.id, Some(first.id), 10).unwrap(),
        vec![second.clone()]
    );
    assert_eq!(
        ApiKey::find_active_by_token_hash(&mut conn, "h1").unwrap(),
        Some(first.clone())
    );

    let revoked = ApiKey::revoke(&mut conn, owner.id, first.id)
        .unwrap()
        .unwrap();
    let revoked_at = revoked.revoked_at.expect("revoking stamps revoked_at");
    assert_eq!(
        ApiKey::find_active_by_token_hash(&mut conn, "h1").unwrap(),
        None
    );
    let again = ApiKey::revoke(&mut conn, owner.id, first.id)
        .unwrap()
        .unwrap();
    assert_eq!(
        again.revoked_at,
        Some(revoked_at),
        "revoking twice keeps the first time"
    );
    assert_eq!(
        ApiKey::revoke(&mut conn, other.id, second.id).unwrap(),
        None,
        "another account's key"
    );
}

#[test]
fn an_api_key_needs_an_existing_account_and_goes_with_it() {
    let (_db, mut conn) = common::database();
    let orphan = ApiKey::create(
        &mut conn,
        &NewApiKey {
            account_id: 424242,
            label: "x",
            token_hash: "h",
        },
    );
    assert!(matches!(
        orphan,
        Err(Error::DatabaseError(
            DatabaseErrorKind::ForeignKeyViolation,
            _
        ))
    ));

    let owner =
        Account::create(&mut conn, &new_account("gone@example.com", "Gone"), &open()).unwrap();
    ApiKey::create(
        &mut conn,
        &NewApiKey {
            account_id: owner.id,
            label: "k",
            token_hash: "hk",
        },
    )
    .unwrap();
    use diesel::prelude::*;
    diesel::delete(plumb_model::schema::accounts::table.find(owner.id))
        .execute(&mut conn)
        .unwrap();
    assert!(
        ApiKey::list_for_account(&mut conn, owner.id, None, 10)
            .unwrap()
            .is_empty()
    );
}

/// The database as it was before the expand migration: what code with the display_name flag
/// off must work against.
fn without_display_name(conn: &mut diesel::PgConnection) {
    use diesel::connection::SimpleConnection;
    conn.batch_execute("ALTER TABLE accounts DROP COLUMN display_name")
        .unwrap();
}

#[test]
fn a_closed_gate_never_names_the_column_so_it_works_before_the_column_exists() {
    let (_db, mut conn) = common::database();
    without_display_name(&mut conn);
    let created = Account::create(
        &mut conn,
        &new_account("early@example.com", "ignored"),
        &closed(),
    )
    .unwrap();
    assert_eq!(created.display_name, None);
    assert_eq!(
        Account::find(&mut conn, created.id, &closed()).unwrap(),
        Some(created.clone())
    );
    assert_eq!(
        Account::find_by_email(&mut conn, "early@example.com", &closed()).unwrap(),
        Some(created.clone())
    );
    assert_eq!(
        Account::list(&mut conn, None, 10, &closed()).unwrap(),
        vec![created.clone()]
    );
    let changes = AccountChanges {
        status: Some(AccountStatus::Closed),
        display_name: Some("x"),
        ..Default::default()
    };
    let updated = Account::update(&mut conn, created.id, &changes, &closed())
        .unwrap()
        .unwrap();
    assert_eq!(updated.status, AccountStatus::Closed);
    assert!(
        Account::find(&mut conn, created.id, &open()).is_err(),
        "an open gate names the missing column"
    );
}

#[test]
fn an_open_gate_reads_rows_the_backfill_has_not_reached_as_absent() {
    use diesel::connection::SimpleConnection;
    let (_db, mut conn) = common::database();
    // The write phase: the column exists but is still nullable.
    conn.batch_execute(
        "ALTER TABLE accounts ALTER COLUMN display_name DROP NOT NULL; \
         INSERT INTO accounts (email) VALUES ('old@example.com')",
    )
    .unwrap();
    let old = Account::find_by_email(&mut conn, "old@example.com", &open())
        .unwrap()
        .unwrap();
    assert_eq!(old.display_name, None);
    let new = NewAccount {
        email: "new@example.com",
        status: AccountStatus::Active,
        display_name: None,
    };
    // A new row is written whole: the default name, not a NULL for the backfill to find.
    assert_eq!(
        Account::create(&mut conn, &new, &open())
            .unwrap()
            .display_name
            .as_deref(),
        Some("new")
    );
}

#[test]
fn a_gated_column_the_migrations_make_required_has_its_flag_on() {
    // Inserts that skip a NOT NULL column without a default fail: its gate must be open in a
    // freshly migrated database, or the service could not create a row.
    use plumb_model::schema_state::{ColumnPresence, column_presence};
    let (_db, mut conn) = common::database();
    let gates = Gates::load(&mut conn).unwrap();
    for gated in GATED_COLUMNS {
        if column_presence(&mut conn, gated.table, gated.column).unwrap()
            == (ColumnPresence::NotNull { has_default: false })
        {
            assert!(
                gates.uses(*gated),
                "{} is required and its flag is off",
                gated.flag()
            );
        }
    }
}

#[test]
fn every_stored_flag_gates_a_column_of_the_model() {
    let (_db, mut conn) = common::database();
    for flag in FeatureFlag::all(&mut conn).unwrap() {
        assert!(
            plumb_model::gate::gated_column(&flag.name).is_some(),
            "the migrations seed {:?}, which gates no column of the model",
            flag.name
        );
    }
}

#[test]
fn the_flag_guard_keeps_each_flag_in_step_with_its_column() {
    use diesel::connection::SimpleConnection;
    for gated in GATED_COLUMNS {
        let (_db, mut conn) = common::database();
        let (table, column, flag) = (gated.table, gated.column, gated.flag());
        let gate_is_open =
            |conn: &mut diesel::PgConnection| Gates::load(conn).unwrap().uses(*gated);
        // Whatever the migrations made it: nullable, so that the flag may go either way.
        conn.batch_execute(&format!(
            "ALTER TABLE {table} ALTER COLUMN {column} DROP NOT NULL"
        ))
        .unwrap();
        let (off, _) = FeatureFlag::set(&mut conn, &flag, false).unwrap();
        assert!(!off.enabled && !gate_is_open(&mut conn), "{flag} off");
        let (on, _) = FeatureFlag::set(&mut conn, &flag, true).unwrap();
        assert!(on.enabled && gate_is_open(&mut conn), "{flag} on");

        // NOT NULL without a default: code that skips the column could not insert.
        conn.batch_execute(&format!(
            "ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT; \
             ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL"
        ))
        .unwrap();
        let refused = FeatureFlag::set(&mut conn, &flag, false).unwrap_err();
        assert!(
            matches!(refused, FlagError::ColumnRequired { .. }),
            "{refused:?}"
        );
        assert!(gate_is_open(&mut conn), "a refused change changes nothing");

        // A missing column: the flag may go off, and not on again.
        conn.batch_execute(&format!("ALTER TABLE {table} DROP COLUMN {column}"))
            .unwrap();
        FeatureFlag::set(&mut conn, &flag, false).unwrap();
        let refused = FeatureFlag::set(&mut conn, &flag, true).unwrap_err();
        assert!(
            matches!(refused, FlagError::ColumnMissing { .. }),
            "{refused:?}"
        );
        assert!(!gate_is_open(&mut conn));
    }
}

#[test]
fn a_flag_that_gates_no_column_is_refused_and_not_stored() {
    let (_db, mut conn) = common::database();
    let refused = FeatureFlag::set(&mut conn, "accounts.no_such_column", true).unwrap_err();
    let FlagError::Unknown { known, .. } = &refused else {
        panic!("{refused:?}");
    };
    for gated in GATED_COLUMNS {
        assert!(known.contains(&gated.flag()), "{refused}");
    }
    assert!(
        FeatureFlag::all(&mut conn)
            .unwrap()
            .iter()
            .all(|f| f.name != "accounts.no_such_column")
    );
}

#[test]
fn the_compiled_schema_rs_is_the_migrated_databases_public_tables() {
    use diesel::prelude::*;
    use diesel::sql_types::{Bool, Text};
    #[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
    struct Live {
        #[diesel(sql_type = Text)]
        table: String,
        #[diesel(sql_type = Text)]
        column: String,
        #[diesel(sql_type = Bool)]
        nullable: bool,
    }
    let (_db, mut conn) = common::database();
    let mut live: Vec<Live> = diesel::sql_query(
        "SELECT table_name::text AS table, column_name::text AS column, \
                is_nullable = 'YES' AS nullable \
         FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
    )
    .load(&mut conn)
    .unwrap();
    let mut compiled: Vec<Live> = plumb_model::schema_state::compiled_columns()
        .into_iter()
        .map(|c| Live {
            table: c.table,
            column: c.column,
            nullable: c.nullable,
        })
        .collect();
    live.sort();
    compiled.sort();
    assert!(!compiled.is_empty(), "schema.rs was read");
    assert_eq!(compiled, live);
}

#[test]
fn schema_state_sees_missing_and_nullable_columns() {
    use plumb_model::schema_state::{ColumnPresence, column_presence, missing_columns};
    let (_db, mut conn) = common::database();
    assert!(
        missing_columns(&mut conn).unwrap().is_empty(),
        "a fully migrated database lacks nothing"
    );
    assert_eq!(
        column_presence(&mut conn, "accounts", "display_name").unwrap(),
        ColumnPresence::NotNull { has_default: false }
    );
    assert_eq!(
        column_presence(&mut conn, "api_keys", "revoked_at").unwrap(),
        ColumnPresence::Nullable
    );
    without_display_name(&mut conn);
    assert_eq!(
        column_presence(&mut conn, "accounts", "display_name").unwrap(),
        ColumnPresence::Missing
    );
    let missing: Vec<String> = missing_columns(&mut conn)
        .unwrap()
        .into_iter()
        .map(|c| format!("{}.{}", c.table, c.column))
        .collect();
    assert_eq!(missing, ["accounts.display_name"]);
}
