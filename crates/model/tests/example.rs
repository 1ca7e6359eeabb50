//! The example of another service using this crate, run on an empty database.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

#[path = "../examples/service.rs"]
mod service;

use plumb_pg::{PgServer, TestDatabase};

#[test]
fn the_example_service_migrates_an_empty_database_and_creates_an_account() {
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::empty(server).unwrap();
    let url = db.url().expose();
    let first = service::run(url, "first@example.com").unwrap();
    let migrations =
        diesel::migration::MigrationSource::<diesel::pg::Pg>::migrations(&plumb_model::MIGRATIONS)
            .unwrap();
    assert_eq!(
        first.applied.len(),
        migrations.len(),
        "every migration applied"
    );
    assert_eq!(first.account.email, "first@example.com");
    let gates = {
        let mut conn = db.connect().unwrap();
        plumb_model::Gates::load(&mut conn).unwrap()
    };
    if gates.uses(plumb_model::DISPLAY_NAME) {
        assert_eq!(first.account.display_name.as_deref(), Some("first"));
    }
    let again = service::run(url, "second@example.com").unwrap();
    assert!(again.applied.is_empty(), "nothing left to apply");
}
