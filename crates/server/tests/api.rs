//! Every endpoint and every error status, over HTTP, against a real PostgreSQL.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

mod common;

use common::{TestServer, config, database, sql};
use serde_json::{Value, json};

fn create(server: &TestServer, version: &str, body: Value) -> Value {
    let (status, account) = server.send("POST", &format!("/{version}/accounts"), body);
    assert_eq!(status, 201, "{account}");
    account
}

#[test]
fn v1_accounts_are_created_read_listed_and_updated() {
    let db = database();
    let server = TestServer::start(config(&db, &[]));
    let created = create(&server, "v1", json!({ "email": "ada@example.com" }));
    assert_eq!(created["email"], "ada@example.com");
    assert_eq!(created["status"], "active");
    assert!(
        created.get("display_name").is_none(),
        "v1 knows no display_name: {created}"
    );
    let keys: Vec<&String> = created.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["created_at", "email", "id", "status", "updated_at"]);

    let id = created["id"].as_i64().unwrap();
    assert_eq!(
        server.get(&format!("/v1/accounts/{id}")),
        (200, created.clone())
    );
    let (status, page) = server.get("/v1/accounts");
    assert_eq!(status, 200);
    assert_eq!(page, json!({ "items": [created] }));

    let (status, updated) = server.send(
        "PATCH",
        &format!("/v1/accounts/{id}"),
        json!({ "status": "suspended" }),
    );
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["status"], "suspended");
    assert_eq!(updated["email"], "ada@example.com");
}

#[test]
fn v2_exposes_display_name_and_defaults_it_from_the_email() {
    let db = database();
    let server = TestServer::start(config(&db, &[]));
    let named = create(
        &server,
        "v2",
        json!({ "email": "grace@example.com", "display_name": "Grace Hopper" }),
    );
    assert_eq!(named["display_name"], "Grace Hopper");
    let unnamed = create(&server, "v2", json!({ "email": "linus@example.com" }));
    assert_eq!(unnamed["display_name"], "linus");
    // v1 creates fill it too while the service writes the column.
    let from_v1 = create(&server, "v1", json!({ "email": "ken@example.com" }));
    let (_, seen) = server.get(&format!("/v2/accounts/{}", from_v1["id"]));
    assert_eq!(seen["display_name"], "ken");

    let id = named["id"].as_i64().unwrap();
    let (status, renamed) = server.send(
        "PATCH",
        &format!("/v2/accounts/{id}"),
        json!({ "display_name": "Amazing Grace" }),
    );
    assert_eq!(
        (status, &renamed["display_name"]),
        (200, &json!("Amazing Grace"))
    );
    let (_, v1_view) = server.get(&format!("/v1/accounts/{id}"));
    assert!(v1_view.get("display_name").is_none());
}

#[test]
fn lists_walk_keyset_pages() {
    let db = database();
    let server = TestServer::start(config(&db, &[]));
    let ids: Vec<i64> = (0..5)
        .map(|n| {
            create(
                &server,
                "v2",
                json!({ "email": format!("u{n}@example.com") }),
            )["id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    let mut seen = Vec::new();
    let mut path = "/v2/accounts?limit=2".to_owned();
    loop {
        let (status, page) = server.get(&path);
        assert_eq!(status, 200, "{page}");
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_i64().unwrap()),
        );
        match page.get("next_after") {
            Some(after) => path = format!("/v2/accounts?limit=2&after={after}"),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    let (_, last) = server.get(&format!("/v2/accounts?after={}", ids[4]));
    assert_eq!(last, json!({ "items": [] }));
}

#[test]
fn api_keys_are_created_listed_and_revoked_and_their_secret_is_shown_once() {
    let db = database();
    let server = TestServer::start(config(&db, &[]));
    let owner = create(&server, "v1", json!({ "email": "keys@example.com" }))["id"]
        .as_i64()
        .unwrap();
    let other = create(&server, "v1", json!({ "email": "other@example.com" }))["id"]
        .as_i64()
        .unwrap();

    let (status, created) = server.send(
        "POST",
        &format!("/v2/accounts/{owner}/api-keys"),
        json!({ "label": "ci" }),
    );
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().unwrap();
    assert!(token.starts_with("plumb_") && token.len() == 70, "{token}");
    assert!(created["key"].get("token_hash").is_none());
    let key_id = created["key"]["id"].as_i64().unwrap();

    let (status, page) = server.get(&format!("/v1/accounts/{owner}/api-keys"));
    assert_eq!(status, 200);
    assert_eq!(page["items"], json!([created["key"]]));
    assert!(
        !page.to_string().contains(token),
        "the secret is never shown again"
    );

    let (status, revoked) = server.call(
        "DELETE",
        &format!("/v1/accounts/{owner}/api-keys/{key_id}"),
        None,
        &[],
    );
    assert_eq!(status, 200);
    assert!(revoked["revoked_at"].is_string());
    let (_, again) = server.call(
        "DELETE",
        &format!("/v1/accounts/{owner}/api-keys/{key_id}"),
        None,
        &[],
    );
    assert_eq!(
        again["revoked_at"], revoked["revoked_at"],
        "revoking twice keeps the first time"
    );

    let (status, error) = server.call(
        "DELETE",
        &format!("/v1/accounts/{other}/api-keys/{key_id}"),
        None,
        &[],
    );
    assert_eq!((status, error["code"].as_str()), (404, Some("not_found")));
    let (status, _) = server.send(
        "POST",
        "/v1/accounts/999999/api-keys",
        json!({ "label": "x" }),
    );
    assert_eq!(status, 404);
    let (status, _) = server.get("/v1/accounts/999999/api-keys");
    assert_eq!(status, 404);
}

#[test]
fn malformed_requests_are_400_with_a_json_error() {
    let db = database();
    let server = TestServer::start(config(&db, &[]));
    let cases: Vec<(&str, &str, Option<&str>)> = vec![
        ("POST", "/v1/accounts", Some("{not json")),
        ("POST", "/v1/accounts", Some(r#"{"email": 12}"#)),
        (
            "POST",
            "/v1/accounts",
            Some(r#"{"email": "a@example.com", "display_name": "A"}"#),
        ),
        (
            "POST",
            "/v1/accounts",
            Some(r#"{"email": "a@example.com", "status": "deleted"}"#),
        ),
        ("GET", "/v1/accounts/abc", None),
        ("GET", "/v1/accounts/0", None),
        ("GET", "/v1/accounts/99999999999999999999", None),
        ("GET", "/v1/accounts?limit=abc", None),
        ("GET", "/v1/accounts?page=2", None),
        ("DELETE", "/v1/accounts/1/api-keys/-3", None),
    ];
    for (method, path, body) in cases {
        let (status, error) = server.call(method, path, body, &[]);
        assert_eq!(status, 400, "{method} {path} {body:?}: {error}");
        assert_eq!(error["code"], "malformed", "{error}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (status, error) = server.call(
        "POST",
        "/v1/accounts",
        Some(r#"{"email": "a@example.com"}"#),
        &[("content-type", "text/plain")],
    );
    assert_eq!(
        (status, error["code"].as_str()),
        (400, Some("malformed")),
        "{error}"
    );
}

#[test]
fn invalid_values_are_422_naming_each_field() {
    let db = database();
    let server = TestServer::start(config(&db, &[]));
    let (status, error) = server.send(
        "POST",
        "/v2/accounts",
        json!({ "email": "not-an-email", "display_name": "   " }),
    );
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["code"], "invalid");
    let fields: Vec<&str> = error["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["/email", "/display_name"]);
    let (status, error) = server.get("/v2/accounts?limit=0");
    assert_eq!(
        (status, error["details"][0]["field"].as_str()),
        (422, Some("limit"))
    );
    let id = create(&server, "v1", json!({ "email": "k@example.com" }))["id"]
        .as_i64()
        .unwrap();
    let (status, _) = server.send(
        "POST",
        &format!("/v1/accounts/{id}/api-keys"),
        json!({ "label": "" }),
    );
    assert_eq!(status, 422);
}

#[test]
fn not_found_conflict_method_and_size_errors() {
    let db = database();
    let server = TestServer::start(config(&db, &[("PLUMB_BODY_LIMIT_BYTES", "1024")]));
    let (status, error) = server.get("/v1/accounts/424242");
    assert_eq!((status, error["code"].as_str()), (404, Some("not_found")));
    let (status, error) = server.send("PATCH", "/v2/accounts/424242", json!({}));
    assert_eq!((status, error["code"].as_str()), (404, Some("not_found")));
    let (status, error) = server.get("/v3/accounts");
    assert_eq!((status, error["code"].as_str()), (404, Some("not_found")));

    create(&server, "v1", json!({ "email": "dup@example.com" }));
    let (status, error) = server.send(
        "POST",
        "/v2/accounts",
        json!({ "email": "dup@example.com" }),
    );
    assert_eq!(
        (status, error["code"].as_str()),
        (409, Some("conflict")),
        "{error}"
    );
    let other = create(&server, "v1", json!({ "email": "other@example.com" }))["id"]
        .as_i64()
        .unwrap();
    let (status, _) = server.send(
        "PATCH",
        &format!("/v1/accounts/{other}"),
        json!({ "email": "dup@example.com" }),
    );
    assert_eq!(status, 409);

    let (status, error) = server.call("DELETE", "/v1/accounts", None, &[]);
    assert_eq!(
        (status, error["code"].as_str()),
        (405, Some("method_not_allowed"))
    );

    let huge = json!({ "email": format!("{}@example.com", "a".repeat(2000)) });
    let (status, error) = server.send("POST", "/v1/accounts", huge);
    assert_eq!(
        (status, error["code"].as_str()),
        (413, Some("too_large")),
        "{error}"
    );
}

#[test]
fn a_database_that_cannot_answer_in_time_is_503_not_500() {
    let db = database();
    let server = TestServer::start(config(&db, &[("PLUMB_LOCK_TIMEOUT_MS", "200")]));
    let id = create(&server, "v1", json!({ "email": "locked@example.com" }))["id"]
        .as_i64()
        .unwrap();
    let mut holder: diesel::PgConnection = db.connect().unwrap();
    use diesel::connection::SimpleConnection;
    holder
        .batch_execute("BEGIN; LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE;")
        .unwrap();
    let (status, error) = server.get(&format!("/v1/accounts/{id}"));
    assert_eq!(
        (status, error["code"].as_str()),
        (503, Some("unavailable")),
        "{error}"
    );
    holder.batch_execute("ROLLBACK").unwrap();
    assert_eq!(server.get(&format!("/v1/accounts/{id}")).0, 200);
}

#[test]
fn a_pool_with_no_free_connection_is_503() {
    let db = database();
    let server = TestServer::start(config(
        &db,
        &[
            ("PLUMB_POOL_SIZE", "1"),
            ("PLUMB_POOL_TIMEOUT_MS", "200"),
            ("PLUMB_LOCK_TIMEOUT_MS", "5000"),
        ],
    ));
    let id = create(&server, "v1", json!({ "email": "busy@example.com" }))["id"]
        .as_i64()
        .unwrap();
    let mut holder: diesel::PgConnection = db.connect().unwrap();
    use diesel::connection::SimpleConnection;
    holder
        .batch_execute("BEGIN; LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE;")
        .unwrap();
    std::thread::scope(|scope| {
        // This request takes the pool's only connection and waits on the lock.
        let waiting = scope.spawn(|| server.get(&format!("/v1/accounts/{id}")));
        std::thread::sleep(std::time::Duration::from_millis(300));
        let (status, error) = server.get(&format!("/v1/accounts/{id}"));
        assert_eq!(
            (status, error["code"].as_str()),
            (503, Some("unavailable")),
            "{error}"
        );
        holder.batch_execute("ROLLBACK").unwrap();
        assert_eq!(waiting.join().unwrap().0, 200);
    });
}

#[test]
fn health_readiness_and_the_openapi_document() {
    let db = database();
    let server = TestServer::start(config(&db, &[]));
    assert_eq!(server.get("/healthz"), (200, json!({ "status": "ok" })));
    assert_eq!(server.get("/readyz"), (200, json!({ "status": "ready" })));
    let (status, document) = server.get("/openapi.json");
    assert_eq!(status, 200);
    assert_eq!(document, plumb_contract::openapi::document().unwrap());
    let committed =
        std::fs::read_to_string(common::migrations_dir().join("../schemas/openapi.json")).unwrap();
    assert_eq!(document, serde_json::from_str::<Value>(&committed).unwrap());
}

#[test]
fn readiness_names_a_missing_column_the_code_needs() {
    let db = database();
    let server = TestServer::start(config(&db, &[]));
    sql(&db, "ALTER TABLE api_keys DROP COLUMN label");
    let (status, body) = server.get("/readyz");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["missing"], json!(["api_keys.label"]));
}

#[test]
fn readiness_is_503_when_the_database_is_gone() {
    let db = database();
    let server = TestServer::start(config(&db, &[("PLUMB_POOL_TIMEOUT_MS", "300")]));
    let name = db.name().to_owned();
    let admin = plumb_pg::PgServer::shared().unwrap();
    let mut conn = admin.connect().unwrap();
    plumb_pg::sql::drop_database(&mut conn, &name).unwrap();
    let (status, body) = server.get("/readyz");
    assert_eq!(
        (status, body["status"].as_str()),
        (503, Some("not_ready")),
        "{body}"
    );
    let (status, error) = server.get("/v1/accounts");
    assert_eq!(
        (status, error["code"].as_str()),
        (503, Some("unavailable")),
        "{error}"
    );
}

#[test]
fn a_405_names_what_the_resource_answers_and_head_answers_where_get_does() {
    let db = database();
    let server = TestServer::start(config(&db, &[]));
    let (status, allow, _) = server.bare("DELETE", "/v1/accounts");
    assert_eq!((status, allow.as_deref()), (405, Some("GET, HEAD, POST")));
    let (status, allow, _) = server.bare("POST", "/v2/accounts/1");
    assert_eq!((status, allow.as_deref()), (405, Some("GET, HEAD, PATCH")));
    let (status, allow, _) = server.bare("POST", "/healthz");
    assert_eq!((status, allow.as_deref()), (405, Some("GET, HEAD")));
    for path in ["/healthz", "/openapi.json", "/v1/accounts", "/v2/accounts"] {
        let (status, _, body) = server.bare("HEAD", path);
        assert_eq!((status, body.as_str()), (200, ""), "HEAD {path}");
    }
}

#[test]
fn a_body_must_be_a_json_object_not_an_array_read_by_position() {
    let db = database();
    let server = TestServer::start(config(&db, &[]));
    let id = create(&server, "v1", json!({ "email": "order@example.com" }))["id"]
        .as_i64()
        .unwrap();
    let (status, error) = server.send(
        "PATCH",
        &format!("/v1/accounts/{id}"),
        json!(["x@example.com", "closed"]),
    );
    assert_eq!(
        (status, error["code"].as_str()),
        (400, Some("malformed")),
        "{error}"
    );
    let (_, account) = server.get(&format!("/v1/accounts/{id}"));
    assert_eq!(
        account["email"], "order@example.com",
        "nothing changed: {account}"
    );
    let (status, _) = server.send("POST", "/v1/accounts", json!(["array@example.com"]));
    assert_eq!(status, 400);
}
