//! Every model query against a real, migrated database.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

mod common;

use diesel::result::{DatabaseErrorKind, Error};
use plumb_model::DisplayNameColumn::{Skip, Use};
use plumb_model::{
    Account, AccountChanges, AccountStatus, ApiKey, FeatureFlag, NewAccount, NewApiKey,
};

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
    let created = Account::create(&mut conn, &new_account("ada@example.com", "Ada"), Use).unwrap();
    assert_eq!(created.email, "ada@example.com");
    assert_eq!(created.display_name.as_deref(), Some("Ada"));
    assert_eq!(created.status, AccountStatus::Active);
    assert_eq!(created.created_at, created.updated_at);

    assert_eq!(
        Account::find(&mut conn, created.id, Use).unwrap(),
        Some(created.clone())
    );
    assert_eq!(
        Account::find_by_email(&mut conn, "ada@example.com", Use).unwrap(),
        Some(created.clone())
    );
    assert_eq!(
        Account::find(&mut conn, created.id + 1000, Use).unwrap(),
        None
    );
    assert_eq!(
        Account::find_by_email(&mut conn, "nobody@example.com", Use).unwrap(),
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
    let created = Account::create(&mut conn, &new, Use).unwrap();
    assert_eq!(
        created.display_name,
        Some(plumb_model::account::default_display_name(new.email))
    );
    assert_eq!(created.display_name.as_deref(), Some("grace.hopper"));
}

#[test]
fn a_duplicate_email_is_a_unique_violation() {
    let (_db, mut conn) = common::database();
    Account::create(&mut conn, &new_account("dup@example.com", "One"), Use).unwrap();
    let second = Account::create(&mut conn, &new_account("dup@example.com", "Two"), Use);
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
            Use,
        )
        .unwrap();
        assert_eq!(
            Account::find(&mut conn, created.id, Use)
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
            Account::create(&mut conn, &new_account(&email, "U"), Use)
                .unwrap()
                .id,
        );
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = Account::list(&mut conn, after, 3, Use).unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 3);
        after = page.last().map(|a| a.id);
        seen.extend(page.into_iter().map(|a| a.id));
    }
    assert_eq!(seen, ids);
    assert_eq!(
        Account::list(&mut conn, None, 0, Use).unwrap().len(),
        1,
        "a limit below 1 still returns a row"
    );
}

#[test]
fn update_changes_only_what_it_names_and_stamps_updated_at() {
    let (_db, mut conn) = common::database();
    let created =
        Account::create(&mut conn, &new_account("grace@example.com", "Grace"), Use).unwrap();
    let changes = AccountChanges {
        display_name: Some("Grace H."),
        ..Default::default()
    };
    let updated = Account::update(&mut conn, created.id, &changes, Use)
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
        Use,
    )
    .unwrap()
    .unwrap();
    assert_eq!(suspended.status, AccountStatus::Suspended);
    assert_eq!(suspended.display_name.as_deref(), Some("Grace H."));

    // No change named: still a valid update that only stamps updated_at.
    assert!(
        Account::update(&mut conn, created.id, &AccountChanges::default(), Use)
            .unwrap()
            .is_some()
    );
    assert_eq!(
        Account::update(&mut conn, created.id + 1000, &changes, Use).unwrap(),
        None
    );
}

#[test]
fn api_keys_are_created_listed_found_and_revoked() {
    let (_db, mut conn) = common::database();
    let owner = Account::create(&mut conn, &new_account("keys@example.com", "Keys"), Use).unwrap();
    let other =
        Account::create(&mut conn, &new_account("other@example.com", "Other"), Use).unwrap();
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

    let owner = Account::create(&mut conn, &new_account("gone@example.com", "Gone"), Use).unwrap();
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
fn skip_never_names_the_column_so_it_works_before_the_column_exists() {
    let (_db, mut conn) = common::database();
    without_display_name(&mut conn);
    let created = Account::create(
        &mut conn,
        &new_account("early@example.com", "ignored"),
        Skip,
    )
    .unwrap();
    assert_eq!(created.display_name, None);
    assert_eq!(
        Account::find(&mut conn, created.id, Skip).unwrap(),
        Some(created.clone())
    );
    assert_eq!(
        Account::find_by_email(&mut conn, "early@example.com", Skip).unwrap(),
        Some(created.clone())
    );
    assert_eq!(
        Account::list(&mut conn, None, 10, Skip).unwrap(),
        vec![created.clone()]
    );
    let changes = AccountChanges {
        status: Some(AccountStatus::Closed),
        display_name: Some("x"),
        ..Default::default()
    };
    let updated = Account::update(&mut conn, created.id, &changes, Skip)
        .unwrap()
        .unwrap();
    assert_eq!(updated.status, AccountStatus::Closed);
    assert!(
        Account::find(&mut conn, created.id, Use).is_err(),
        "Use names the missing column"
    );
}

#[test]
fn use_reads_rows_the_backfill_has_not_reached_as_absent() {
    use diesel::connection::SimpleConnection;
    let (_db, mut conn) = common::database();
    // The write phase: the column exists but is still nullable.
    conn.batch_execute(
        "ALTER TABLE accounts ALTER COLUMN display_name DROP NOT NULL; \
         INSERT INTO accounts (email) VALUES ('old@example.com')",
    )
    .unwrap();
    let old = Account::find_by_email(&mut conn, "old@example.com", Use)
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
        Account::create(&mut conn, &new, Use)
            .unwrap()
            .display_name
            .as_deref(),
        Some("new")
    );
}

#[test]
fn feature_flags_are_created_changed_and_listed() {
    let (_db, mut conn) = common::database();
    let seeded = FeatureFlag::all(&mut conn).unwrap();
    assert_eq!(seeded.len(), 1);
    assert_eq!(
        (seeded[0].name.as_str(), seeded[0].enabled),
        ("accounts.display_name", true)
    );

    let off = FeatureFlag::set(&mut conn, "accounts.display_name", false).unwrap();
    assert!(!off.enabled);
    assert!(off.updated_at >= seeded[0].updated_at);
    FeatureFlag::set(&mut conn, "another", true).unwrap();
    let names: Vec<(String, bool)> = FeatureFlag::all(&mut conn)
        .unwrap()
        .into_iter()
        .map(|f| (f.name, f.enabled))
        .collect();
    assert_eq!(
        names,
        [
            ("accounts.display_name".to_owned(), false),
            ("another".to_owned(), true)
        ]
    );
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
