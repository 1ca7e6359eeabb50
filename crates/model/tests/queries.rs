//! Every model query against a real, migrated database.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

mod common;

use diesel::result::{DatabaseErrorKind, Error};
use plumb_model::{Account, AccountChanges, AccountStatus, ApiKey, NewAccount, NewApiKey};

fn new_account<'a>(email: &'a str, display_name: &'a str) -> NewAccount<'a> {
    NewAccount {
        email,
        status: AccountStatus::Active,
        display_name,
    }
}

#[test]
fn an_account_round_trips() {
    let (_db, mut conn) = common::database();
    let created = Account::create(&mut conn, &new_account("ada@example.com", "Ada")).unwrap();
    assert_eq!(created.email, "ada@example.com");
    assert_eq!(created.display_name, "Ada");
    assert_eq!(created.status, AccountStatus::Active);
    assert_eq!(created.created_at, created.updated_at);

    assert_eq!(
        Account::find(&mut conn, created.id).unwrap(),
        Some(created.clone())
    );
    assert_eq!(
        Account::find_by_email(&mut conn, "ada@example.com").unwrap(),
        Some(created.clone())
    );
    assert_eq!(Account::find(&mut conn, created.id + 1000).unwrap(), None);
    assert_eq!(
        Account::find_by_email(&mut conn, "nobody@example.com").unwrap(),
        None
    );
}

#[test]
fn a_duplicate_email_is_a_unique_violation() {
    let (_db, mut conn) = common::database();
    Account::create(&mut conn, &new_account("dup@example.com", "One")).unwrap();
    let second = Account::create(&mut conn, &new_account("dup@example.com", "Two"));
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
                display_name: "S",
            },
        )
        .unwrap();
        assert_eq!(
            Account::find(&mut conn, created.id)
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
            Account::create(&mut conn, &new_account(&email, "U"))
                .unwrap()
                .id,
        );
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = Account::list(&mut conn, after, 3).unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 3);
        after = page.last().map(|a| a.id);
        seen.extend(page.into_iter().map(|a| a.id));
    }
    assert_eq!(seen, ids);
    assert_eq!(
        Account::list(&mut conn, None, 0).unwrap().len(),
        1,
        "a limit below 1 still returns a row"
    );
}

#[test]
fn update_changes_only_what_it_names_and_stamps_updated_at() {
    let (_db, mut conn) = common::database();
    let created = Account::create(&mut conn, &new_account("grace@example.com", "Grace")).unwrap();
    let changes = AccountChanges {
        display_name: Some("Grace H."),
        ..Default::default()
    };
    let updated = Account::update(&mut conn, created.id, &changes)
        .unwrap()
        .unwrap();
    assert_eq!(updated.display_name, "Grace H.");
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
    )
    .unwrap()
    .unwrap();
    assert_eq!(suspended.status, AccountStatus::Suspended);
    assert_eq!(suspended.display_name, "Grace H.");

    // No change named: still a valid update that only stamps updated_at.
    assert!(
        Account::update(&mut conn, created.id, &AccountChanges::default())
            .unwrap()
            .is_some()
    );
    assert_eq!(
        Account::update(&mut conn, created.id + 1000, &changes).unwrap(),
        None
    );
}

#[test]
fn api_keys_are_created_listed_found_and_revoked() {
    let (_db, mut conn) = common::database();
    let owner = Account::create(&mut conn, &new_account("keys@example.com", "Keys")).unwrap();
    let other = Account::create(&mut conn, &new_account("other@example.com", "Other")).unwrap();
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

    let owner = Account::create(&mut conn, &new_account("gone@example.com", "Gone")).unwrap();
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
