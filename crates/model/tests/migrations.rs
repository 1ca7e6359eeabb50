//! The embedded migrations on a fresh database: all the way up, all the way down, up again.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

mod common;

use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use diesel_migrations::MigrationHarness;
use plumb_model::MIGRATIONS;
use plumb_pg::{PgServer, TestDatabase};

#[derive(QueryableByName, Debug, PartialEq)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
}

fn columns(conn: &mut PgConnection) -> Vec<Column> {
    diesel::sql_query(
        "SELECT table_name::text, column_name::text, is_nullable = 'YES' AS nullable \
         FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations' \
         ORDER BY table_name, ordinal_position",
    )
    .load(conn)
    .unwrap()
}

fn index_is_valid(conn: &mut PgConnection, name: &str) -> Option<bool> {
    #[derive(QueryableByName)]
    struct Valid {
        #[diesel(sql_type = Bool)]
        valid: bool,
    }
    diesel::sql_query(
        "SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         WHERE c.relname = $1",
    )
    .bind::<Text, _>(name)
    .get_result::<Valid>(conn)
    .optional()
    .unwrap()
    .map(|v| v.valid)
}

#[test]
fn migrations_run_all_the_way_up_down_and_up_again() {
    let server = PgServer::shared().unwrap();
    let database = TestDatabase::empty(server).unwrap();
    let mut conn = database.connect().unwrap();

    // What a service that imports this crate calls.
    let applied = plumb_model::run_pending_migrations(&mut conn).unwrap();
    let folders = std::fs::read_dir(common::migrations_dir()).unwrap().count();
    assert_eq!(
        applied.len(),
        folders,
        "every migration folder is embedded and applied"
    );
    let after_up = columns(&mut conn);
    let display_name = after_up
        .iter()
        .find(|c| c.table_name == "accounts" && c.column_name == "display_name")
        .expect("the history adds accounts.display_name");
    assert!(
        !display_name.nullable,
        "the enforce phase makes display_name NOT NULL"
    );
    assert_eq!(
        index_is_valid(&mut conn, "accounts_display_name_idx"),
        Some(true)
    );

    let reverted = conn.revert_all_migrations(MIGRATIONS).unwrap();
    assert_eq!(reverted.len(), folders);
    assert!(
        columns(&mut conn).is_empty(),
        "down.sql files leave no table behind"
    );
    assert_eq!(index_is_valid(&mut conn, "accounts_display_name_idx"), None);

    conn.run_pending_migrations(MIGRATIONS).unwrap();
    assert_eq!(
        columns(&mut conn),
        after_up,
        "applying again gives the same columns"
    );
    assert!(!conn.has_pending_migration(MIGRATIONS).unwrap());
}

#[test]
fn each_down_restores_the_columns_its_up_changed() {
    let server = PgServer::shared().unwrap();
    let database = TestDatabase::empty(server).unwrap();
    let mut conn = database.connect().unwrap();
    conn.run_pending_migrations(MIGRATIONS).unwrap();
    // Walk back one migration at a time and forward again: each step returns to the same shape.
    let mut shapes = vec![columns(&mut conn)];
    while conn.revert_last_migration(MIGRATIONS).is_ok() {
        shapes.push(columns(&mut conn));
        if conn.applied_migrations().unwrap().is_empty() {
            break;
        }
    }
    shapes.pop();
    while let Some(expected) = shapes.pop() {
        conn.run_next_migration(MIGRATIONS).unwrap();
        assert_eq!(columns(&mut conn), expected);
    }
}
