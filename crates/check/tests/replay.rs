//! The replay: what the schema model records as migrations run, seen through whole workspaces.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

mod common;

use common::{M, check, codes, human};

const TIMEOUT: &str = "SET lock_timeout = '20ms';\n";
const NO_TX: Option<&str> = Some("run_in_transaction = false\n");

#[test]
fn the_reference_repository_passes_clean() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let report = plumb_check::check_workspace(&root, None).unwrap();
    assert!(report.findings.is_empty(), "{}", human(&report));
    // Every folder of migrations/ with an up.sql, counted here rather than by the reader.
    let folders = std::fs::read_dir(root.join("migrations"))
        .unwrap()
        .filter(|entry| entry.as_ref().unwrap().path().join("up.sql").is_file())
        .count();
    assert_eq!(report.migrations, folders);
    let accounts = &report.schema.tables["accounts"];
    let display_name = accounts.column("display_name").unwrap();
    assert!(
        !display_name.nullable,
        "the replay knows display_name ended NOT NULL"
    );
    assert!(
        accounts
            .constraint("accounts_display_name_not_null")
            .is_none(),
        "and that its helper check was dropped"
    );
    assert!(
        report
            .schema
            .indexes
            .contains_key("accounts_display_name_idx")
    );
}

#[test]
fn the_replay_records_types_defaults_and_validation() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let report = plumb_check::check_workspace(&root, None).unwrap();
    let created_at = report.schema.tables["accounts"]
        .column("created_at")
        .unwrap();
    assert_eq!(
        created_at.default,
        Some(plumb_check::sql::schema::DefaultKind::Constant),
        "now() is stable"
    );
    assert_eq!(created_at.sql_type.name, "timestamptz");
    assert!(
        report.schema.tables["api_keys"]
            .constraint("api_keys_token_hash_key")
            .unwrap()
            .validated
    );

    let report = check(&[M(
        "new_table",
        "CREATE TABLE t (id bigserial PRIMARY KEY, token uuid DEFAULT gen_random_uuid(), seen timestamptz DEFAULT now());\n",
        None,
    )]);
    let t = &report.schema.tables["t"];
    let volatile = |c: &str| {
        matches!(
            t.column(c).unwrap().default,
            Some(plumb_check::sql::schema::DefaultKind::Volatile { .. })
        )
    };
    assert!(volatile("id") && volatile("token") && !volatile("seen"));
}

#[test]
fn unnamed_constraints_get_postgres_names() {
    let report = check(&[
        M(
            "check",
            &format!("{TIMEOUT}ALTER TABLE accounts ADD CHECK (note IS NOT NULL) NOT VALID;\n"),
            None,
        ),
        M(
            "validate",
            &format!("{TIMEOUT}ALTER TABLE accounts VALIDATE CONSTRAINT accounts_note_check;\n"),
            None,
        ),
        M(
            "enforce",
            &format!("{TIMEOUT}ALTER TABLE accounts ALTER COLUMN note SET NOT NULL;\n"),
            None,
        ),
    ]);
    assert!(codes(&report).is_empty(), "{}", human(&report));
    let same = check(&[M(
        "both",
        &format!(
            "{TIMEOUT}ALTER TABLE accounts ADD CHECK (amount > 0) NOT VALID;\nALTER TABLE accounts VALIDATE CONSTRAINT accounts_amount_check;\n"
        ),
        None,
    )]);
    assert_eq!(codes(&same), ["M008"], "{}", human(&same));
}

#[test]
fn using_index_and_dropped_columns_keep_the_replay_right() {
    let report = check(&[
        M(
            "index",
            "CREATE UNIQUE INDEX CONCURRENTLY accounts_email_idx2 ON accounts (email);\n",
            NO_TX,
        ),
        M(
            "attach",
            &format!(
                "{TIMEOUT}ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE USING INDEX accounts_email_idx2;\n"
            ),
            None,
        ),
        M(
            "check",
            &format!(
                "{TIMEOUT}ALTER TABLE accounts ADD CONSTRAINT note_nn CHECK (note IS NOT NULL) NOT VALID;\n"
            ),
            None,
        ),
        M(
            "validate",
            &format!("{TIMEOUT}ALTER TABLE accounts VALIDATE CONSTRAINT note_nn;\n"),
            None,
        ),
        M(
            "drop",
            &format!("-- plumb: post-deploy\n{TIMEOUT}ALTER TABLE accounts DROP COLUMN note;\n"),
            None,
        ),
        M(
            "readd",
            &format!("{TIMEOUT}ALTER TABLE accounts ADD COLUMN note text;\n"),
            None,
        ),
        M(
            "enforce",
            &format!("{TIMEOUT}ALTER TABLE accounts ALTER COLUMN note SET NOT NULL;\n"),
            None,
        ),
    ]);
    assert_eq!(
        codes(&report),
        ["M003"],
        "the old proof went with the dropped column: {}",
        human(&report)
    );
    assert!(report.schema.indexes.contains_key("accounts_email_key"));
    assert!(
        !report.schema.indexes.contains_key("accounts_email_idx2"),
        "USING INDEX renames the index"
    );
}
