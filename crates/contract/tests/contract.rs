//! What clients of each version see on the wire.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

use chrono::{TimeZone, Utc};
use plumb_contract::{Direction, catalog, v1, v2};
use serde_json::json;

fn v2_account(display_name: Option<&str>) -> v2::Account {
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    v2::Account {
        id: 7,
        email: "ada@example.com".into(),
        status: v2::AccountStatus::Active,
        display_name: display_name.map(str::to_owned),
        created_at: at,
        updated_at: at,
    }
}

#[test]
fn a_v1_request_with_a_field_v1_does_not_know_is_refused() {
    let body = json!({ "email": "ada@example.com", "display_name": "Ada" });
    let error = serde_json::from_value::<v1::CreateAccountRequest>(body).unwrap_err();
    assert!(
        error.to_string().contains("unknown field `display_name`"),
        "{error}"
    );
}

#[test]
fn a_v2_request_may_omit_the_new_field() {
    let request: v2::CreateAccountRequest =
        serde_json::from_value(json!({ "email": "a@example.com" })).unwrap();
    assert_eq!(request.display_name, None);
    assert_eq!(request.status, None);
}

#[test]
fn an_absent_response_field_is_left_out_never_null() {
    let without = serde_json::to_value(v2_account(None)).unwrap();
    assert!(without.get("display_name").is_none(), "{without}");
    let with = serde_json::to_value(v2_account(Some("Ada"))).unwrap();
    assert_eq!(with["display_name"], "Ada");
    assert_eq!(with["created_at"], "2026-03-01T12:00:00Z");
    assert_eq!(with["status"], "active");
}

#[test]
fn response_schemas_require_what_is_always_sent_and_nothing_else() {
    let account = catalog()
        .into_iter()
        .find(|e| {
            e.version == "v2" && e.type_name == "Account" && e.direction == Direction::Response
        })
        .unwrap()
        .schema();
    let required: Vec<&str> = account["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        required,
        ["id", "email", "status", "created_at", "updated_at"]
    );
    assert_eq!(
        account["properties"]["display_name"]["type"], "string",
        "never null on the wire"
    );
}

#[test]
fn request_schemas_reject_unknown_fields_and_response_schemas_allow_new_ones() {
    for entry in catalog() {
        let schema = entry.schema();
        let closed = schema.get("additionalProperties") == Some(&json!(false));
        match entry.direction {
            Direction::Request => assert!(closed, "{entry:?} should reject unknown fields"),
            Direction::Response => {
                assert!(!closed, "{entry:?} should let clients ignore new fields")
            }
        }
    }
}
