//! Schema-aware feature flags over HTTP: the service works before the column exists, refuses
//! to turn the flag on until it does, and every instance picks up a change.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

mod common;

use std::time::{Duration, Instant};

use common::{TestServer, config, database, sql};
use diesel::PgConnection;
use diesel::connection::SimpleConnection;
use serde_json::{Value, json};

/// The database before the expand migration, with the flag off: what the release that
/// introduces the flag first runs against.
const BEFORE_EXPAND: &str =
    "UPDATE feature_flags SET enabled = false; ALTER TABLE accounts DROP COLUMN display_name;";
/// The expand migration's statement.
const EXPAND: &str = "ALTER TABLE accounts ADD COLUMN display_name TEXT";

fn flag(server: &TestServer) -> Value {
    let (status, body) = server.admin("GET", "/admin/flags", None);
    assert_eq!(status, 200, "{body}");
    body["flags"][0].clone()
}

fn set(server: &TestServer, enabled: bool) -> (u16, Value) {
    server.admin(
        "PUT",
        "/admin/flags/accounts.display_name",
        Some(json!({ "enabled": enabled })),
    )
}

#[test]
fn the_life_of_the_column_as_the_service_sees_it() {
    let db = database();
    sql(&db, BEFORE_EXPAND);
    let server = TestServer::start(config(&db, &[]));
    assert_eq!(
        flag(&server),
        json!({ "name": "accounts.display_name", "enabled": false, "column": "accounts.display_name", "column_state": "missing" })
    );

    // Flag off, column missing: both versions work and neither names the column.
    let (status, v1_created) = server.send(
        "POST",
        "/v1/accounts",
        json!({ "email": "early@example.com" }),
    );
    assert_eq!(status, 201, "{v1_created}");
    let id = v1_created["id"].as_i64().unwrap();
    let (status, v2_created) = server.send(
        "POST",
        "/v2/accounts",
        json!({ "email": "early2@example.com", "display_name": "E" }),
    );
    assert_eq!(status, 201, "{v2_created}");
    assert!(
        v2_created.get("display_name").is_none(),
        "not written while the flag is off: {v2_created}"
    );
    assert_eq!(server.get("/v2/accounts").0, 200);
    let (status, ready) = server.get("/readyz");
    assert_eq!(
        (status, &ready["pending"]),
        (200, &json!(["accounts.display_name"])),
        "{ready}"
    );
    let (_, v1_before) = server.get(&format!("/v1/accounts/{id}"));

    // The flag refuses to turn on before the column exists.
    let (status, error) = set(&server, true);
    assert_eq!(status, 409, "{error}");
    assert_eq!(error["code"], "schema_not_ready");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("accounts.display_name does not exist yet"),
        "{error}"
    );

    // Expand, then the flag goes on and the column is written and read.
    sql(&db, EXPAND);
    let (status, view) = set(&server, true);
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        (view["enabled"].as_bool(), view["column_state"].as_str()),
        (Some(true), Some("nullable"))
    );
    let (_, written) = server.send(
        "POST",
        "/v2/accounts",
        json!({ "email": "late@example.com", "display_name": "Late" }),
    );
    assert_eq!(written["display_name"], "Late");
    let (_, old) = server.get(&format!("/v2/accounts/{id}"));
    assert!(
        old.get("display_name").is_none(),
        "a row the backfill has not reached: {old}"
    );
    assert_eq!(server.get("/readyz"), (200, json!({ "status": "ready" })));

    // A v1 client sees exactly the same account whatever the flags.
    assert_eq!(server.get(&format!("/v1/accounts/{id}")), (200, v1_before));

    // Nullable column: turning the flag off again is allowed.
    assert_eq!(set(&server, false).0, 200);
}

#[test]
fn the_flag_refuses_to_turn_off_while_the_column_is_required() {
    let db = database();
    let server = TestServer::start(config(&db, &[]));
    assert_eq!(flag(&server)["column_state"], "not_null");
    let (status, error) = set(&server, false);
    assert_eq!(
        (status, error["code"].as_str()),
        (409, Some("schema_not_ready")),
        "{error}"
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("NOT NULL without a default"),
        "{error}"
    );
    assert_eq!(flag(&server)["enabled"], true);
}

#[test]
fn admin_endpoints_need_the_token() {
    let db = database();
    let server = TestServer::start(config(&db, &[]));
    let (status, error) = server.get("/admin/flags");
    assert_eq!(
        (status, error["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let (status, _) = server.call(
        "GET",
        "/admin/flags",
        None,
        &[("authorization", "Bearer wrong-token-wrong-token")],
    );
    assert_eq!(status, 401);
    // The token is checked before the body is read: a bad body tells nothing to a caller
    // without the token.
    let (status, error) = server.call(
        "PUT",
        "/admin/flags/accounts.display_name",
        Some("{not json"),
        &[("authorization", "Bearer wrong-token-wrong-token")],
    );
    assert_eq!(
        (status, error["code"].as_str()),
        (401, Some("unauthorized")),
        "{error}"
    );
    let (status, error) = server.admin(
        "PUT",
        "/admin/flags/no.such.flag",
        Some(json!({ "enabled": true })),
    );
    assert_eq!((status, error["code"].as_str()), (404, Some("not_found")));
    let (status, _) = server.admin(
        "PUT",
        "/admin/flags/accounts.display_name",
        Some(json!({ "on": true })),
    );
    assert_eq!(status, 400);

    let without = TestServer::start(config(&db, &[("PLUMB_ADMIN_TOKEN", "")]));
    let (status, error) = without.admin("GET", "/admin/flags", None);
    assert_eq!(
        (status, error["code"].as_str()),
        (403, Some("admin_disabled"))
    );
}

#[test]
fn every_instance_picks_up_a_change_within_its_refresh_interval() {
    let db = database();
    sql(
        &db,
        "UPDATE feature_flags SET enabled = false; ALTER TABLE accounts ALTER COLUMN display_name DROP NOT NULL",
    );
    let one = TestServer::start(config(&db, &[("PLUMB_FLAG_REFRESH_MS", "100")]));
    let two = TestServer::start(config(&db, &[("PLUMB_FLAG_REFRESH_MS", "100")]));
    assert_eq!(flag(&two)["enabled"], false);
    assert_eq!(set(&one, true).0, 200);
    // Bounded by the refresh interval; the generous deadline only keeps a slow machine green.
    let deadline = Instant::now() + Duration::from_secs(10);
    while flag(&two)["enabled"] != true {
        assert!(
            Instant::now() < deadline,
            "instance two never saw the change"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (_, account) = two.send(
        "POST",
        "/v2/accounts",
        json!({ "email": "two@example.com" }),
    );
    assert_eq!(
        account["display_name"], "two",
        "instance two now writes the column"
    );
}

#[test]
fn a_migration_that_makes_the_column_required_meanwhile_is_seen_before_the_flag_turns_off() {
    let db = database();
    // After the expand step: the flag on, the column still nullable.
    sql(
        &db,
        "ALTER TABLE accounts ALTER COLUMN display_name DROP NOT NULL",
    );
    // A lock timeout long enough that the flag's transaction waits for the migration.
    let server = TestServer::start(config(
        &db,
        &[
            ("PLUMB_LOCK_TIMEOUT_MS", "600000"),
            ("PLUMB_STATEMENT_TIMEOUT_MS", "600000"),
        ],
    ));
    assert_eq!(flag(&server)["column_state"], "nullable");
    let mut migration: PgConnection = db.connect().unwrap();
    migration
        .batch_execute(
            "BEGIN; UPDATE accounts SET display_name = '' WHERE display_name IS NULL; \
             ALTER TABLE accounts ALTER COLUMN display_name SET NOT NULL",
        )
        .unwrap();
    let mut watcher: PgConnection = db.connect().unwrap();
    std::thread::scope(|scope| {
        let turning_off = scope.spawn(|| set(&server, false));
        // The flag's check waits for the migration rather than reading the column as it was.
        while !common::server_waits_for_accounts(&mut watcher) {
            assert!(
                !turning_off.is_finished(),
                "the flag changed without waiting for the migration: {:?}",
                turning_off.join().unwrap()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        migration.batch_execute("COMMIT").unwrap();
        let (status, error) = turning_off.join().unwrap();
        assert_eq!(
            (status, error["code"].as_str()),
            (409, Some("schema_not_ready")),
            "{error}"
        );
    });
    assert_eq!(flag(&server)["enabled"], true);
}
