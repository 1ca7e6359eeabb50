//! Each rule of family M on the form it must catch (a snapshot people review) and on the safe
//! forms it must leave alone.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

mod common;

use common::{M, check, codes, human};

const TIMEOUT: &str = "SET lock_timeout = '2s';\n";
const NO_TX: Option<&str> = Some("run_in_transaction = false\n");

/// The positive case, as people see it, and the safe forms, silent for this rule.
fn rule(code: &str, name: &str, positive: &[M<'_>], safe: &[&[M<'_>]]) {
    let report = check(positive);
    assert!(
        codes(&report).contains(&code),
        "{code} should fire:\n{}",
        human(&report)
    );
    insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!(name, human(&report));
    });
    for case in safe {
        let report = check(case);
        assert!(
            !codes(&report).contains(&code),
            "{code} should stay silent:\n{}",
            human(&report)
        );
    }
}

#[test]
fn add_column_required() {
    rule(
        "M001",
        "add-column-required",
        &[M(
            "add_a",
            &format!("{TIMEOUT}ALTER TABLE accounts ADD COLUMN a int NOT NULL;\n"),
            None,
        )],
        &[
            &[M(
                "add_a",
                &format!("{TIMEOUT}ALTER TABLE accounts ADD COLUMN a int NOT NULL DEFAULT 0;\n"),
                None,
            )],
            &[M(
                "add_a",
                &format!("{TIMEOUT}ALTER TABLE accounts ADD COLUMN a int;\n"),
                None,
            )],
            &[M(
                "new_table",
                "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN b int NOT NULL;\n",
                None,
            )],
        ],
    );
}

#[test]
fn add_column_rewrite() {
    rule(
        "M002",
        "add-column-rewrite",
        &[M(
            "add",
            &format!(
                "{TIMEOUT}ALTER TABLE accounts ADD COLUMN token uuid DEFAULT gen_random_uuid();\n\
                 ALTER TABLE accounts ADD COLUMN seq bigserial;\n\
                 ALTER TABLE accounts ADD COLUMN twice numeric GENERATED ALWAYS AS (amount * 2) STORED;\n\
                 ALTER TABLE accounts ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY;\n"
            ),
            None,
        )],
        &[
            &[M(
                "add",
                &format!(
                    "{TIMEOUT}ALTER TABLE accounts ADD COLUMN seen_at timestamptz DEFAULT now();\n"
                ),
                None,
            )],
            &[M(
                "add",
                &format!(
                    "{TIMEOUT}ALTER TABLE accounts ADD COLUMN kind text NOT NULL DEFAULT 'basic';\n"
                ),
                None,
            )],
            &[M(
                "new_table",
                "CREATE TABLE t (id bigserial PRIMARY KEY, token uuid DEFAULT gen_random_uuid());\n",
                None,
            )],
        ],
    );
}

#[test]
fn add_column_rewrite_knows_postgres_before_11() {
    let dir = common::workspace(&[M(
        "add",
        &format!("{TIMEOUT}ALTER TABLE accounts ADD COLUMN kind text DEFAULT 'basic';\n"),
        None,
    )]);
    let old = plumb_check::check_workspace(dir.path(), Some(10)).unwrap();
    assert_eq!(codes(&old), ["M002"]);
    assert!(old.findings[0].message.contains("before PostgreSQL 11"));
    assert!(codes(&plumb_check::check_workspace(dir.path(), Some(11)).unwrap()).is_empty());
}

#[test]
fn set_not_null_scan() {
    let check_first = format!(
        "{TIMEOUT}ALTER TABLE accounts ADD CONSTRAINT note_nn CHECK (note IS NOT NULL) NOT VALID;\n"
    );
    let validate = format!("{TIMEOUT}ALTER TABLE accounts VALIDATE CONSTRAINT note_nn;\n");
    rule(
        "M003",
        "set-not-null-scan",
        &[
            M("check", &check_first, None),
            M("validate", &validate, None),
            M(
                "together",
                &format!(
                    "{TIMEOUT}ALTER TABLE accounts ALTER COLUMN note SET NOT NULL, DROP CONSTRAINT note_nn;\n"
                ),
                None,
            ),
            M(
                "plain",
                &format!("{TIMEOUT}ALTER TABLE accounts ALTER COLUMN amount SET NOT NULL;\n"),
                None,
            ),
        ],
        &[&[
            M("check", &check_first, None),
            M("validate", &validate, None),
            M(
                "enforce",
                &format!(
                    "{TIMEOUT}ALTER TABLE accounts ALTER COLUMN note SET NOT NULL;\nALTER TABLE accounts DROP CONSTRAINT note_nn;\n"
                ),
                None,
            ),
        ]],
    );
}

#[test]
fn set_not_null_needs_a_validated_check_not_just_a_check() {
    let report = check(&[
        M(
            "check",
            &format!(
                "{TIMEOUT}ALTER TABLE accounts ADD CONSTRAINT note_nn CHECK (note IS NOT NULL) NOT VALID;\n"
            ),
            None,
        ),
        M(
            "enforce",
            &format!("{TIMEOUT}ALTER TABLE accounts ALTER COLUMN note SET NOT NULL;\n"),
            None,
        ),
    ]);
    assert_eq!(codes(&report), ["M003"]);
}

#[test]
fn index_not_concurrent() {
    rule(
        "M004",
        "index-not-concurrent",
        &[M(
            "index",
            &format!("{TIMEOUT}CREATE INDEX accounts_note_idx ON accounts (note);\n"),
            None,
        )],
        &[
            &[M(
                "index",
                "CREATE INDEX CONCURRENTLY accounts_note_idx ON accounts (note);\n",
                NO_TX,
            )],
            &[M(
                "new_table",
                "CREATE TABLE t (a int);\nCREATE INDEX t_a_idx ON t (a);\n",
                None,
            )],
        ],
    );
}

#[test]
fn drop_index_not_concurrent() {
    rule(
        "M005",
        "drop-index-not-concurrent",
        &[M(
            "drop",
            &format!("{TIMEOUT}DROP INDEX accounts_email_idx;\n"),
            None,
        )],
        &[
            &[M(
                "drop",
                "DROP INDEX CONCURRENTLY accounts_email_idx;\n",
                NO_TX,
            )],
            &[M(
                "new_table",
                "CREATE TABLE t (a int);\nCREATE INDEX t_a_idx ON t (a);\nDROP INDEX t_a_idx;\n",
                None,
            )],
        ],
    );
}

#[test]
fn concurrently_in_transaction() {
    rule(
        "M006",
        "concurrently-in-transaction",
        &[
            M(
                "in_diesel_transaction",
                "CREATE INDEX CONCURRENTLY a_idx ON accounts (note);\n",
                None,
            ),
            M(
                "two_statements",
                "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY b_idx ON accounts (amount);\n",
                NO_TX,
            ),
            M(
                "explicit",
                "BEGIN;\nDROP INDEX CONCURRENTLY a_idx;\nCOMMIT;\n",
                NO_TX,
            ),
        ],
        &[&[M(
            "alone",
            "-- a comment is not a statement\nCREATE INDEX CONCURRENTLY a_idx ON accounts (note);\n",
            NO_TX,
        )]],
    );
}

#[test]
fn constraint_without_not_valid() {
    rule(
        "M007",
        "constraint-without-not-valid",
        &[M(
            "constraints",
            &format!(
                "{TIMEOUT}ALTER TABLE accounts ADD CONSTRAINT positive CHECK (amount > 0);\n\
                 ALTER TABLE accounts ADD CONSTRAINT self_fk FOREIGN KEY (id) REFERENCES accounts (id);\n"
            ),
            None,
        )],
        &[
            &[M(
                "check",
                &format!(
                    "{TIMEOUT}ALTER TABLE accounts ADD CONSTRAINT positive CHECK (amount > 0) NOT VALID;\n"
                ),
                None,
            )],
            &[M(
                "new_table",
                "CREATE TABLE t (a int, CONSTRAINT a_positive CHECK (a > 0));\nALTER TABLE t ADD CONSTRAINT a_small CHECK (a < 10);\n",
                None,
            )],
        ],
    );
}

#[test]
fn not_null_not_valid_needs_postgres_18() {
    let dir = common::workspace(&[M(
        "nn",
        &format!("{TIMEOUT}ALTER TABLE accounts ADD CONSTRAINT note_nn NOT NULL note NOT VALID;\n"),
        None,
    )]);
    let on_15 = plumb_check::check_workspace(dir.path(), Some(15)).unwrap();
    assert_eq!(codes(&on_15), ["M007"], "{}", human(&on_15));
    assert!(on_15.findings[0].message.contains("needs PostgreSQL 18"));
    let on_18 = plumb_check::check_workspace(dir.path(), Some(18)).unwrap();
    assert!(codes(&on_18).is_empty(), "{}", human(&on_18));
}

#[test]
fn validate_same_transaction() {
    let add = format!(
        "{TIMEOUT}ALTER TABLE accounts ADD CONSTRAINT positive CHECK (amount > 0) NOT VALID;\n"
    );
    rule(
        "M008",
        "validate-same-transaction",
        &[M(
            "both",
            &format!("{add}ALTER TABLE accounts VALIDATE CONSTRAINT positive;\n"),
            None,
        )],
        &[&[
            M("add", &add, None),
            M(
                "validate",
                &format!("{TIMEOUT}ALTER TABLE accounts VALIDATE CONSTRAINT positive;\n"),
                None,
            ),
        ]],
    );
}

#[test]
fn unique_without_index() {
    rule(
        "M009",
        "unique-without-index",
        &[M(
            "unique",
            &format!(
                "{TIMEOUT}ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE (email);\n"
            ),
            None,
        )],
        &[&[
            M(
                "index",
                "CREATE UNIQUE INDEX CONCURRENTLY accounts_email_key ON accounts (email);\n",
                NO_TX,
            ),
            M(
                "attach",
                &format!(
                    "{TIMEOUT}ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE USING INDEX accounts_email_key;\n"
                ),
                None,
            ),
        ]],
    );
}

#[test]
fn column_type_rewrite() {
    rule(
        "M010",
        "column-type-rewrite",
        &[M(
            "types",
            &format!(
                "{TIMEOUT}ALTER TABLE accounts ALTER COLUMN id TYPE int;\n\
                 ALTER TABLE accounts ALTER COLUMN email TYPE varchar(50);\n\
                 ALTER TABLE accounts ALTER COLUMN amount TYPE numeric(12, 4);\n"
            ),
            None,
        )],
        &[&[M(
            "widen",
            &format!(
                "{TIMEOUT}ALTER TABLE accounts ALTER COLUMN email TYPE varchar(200);\n\
                 ALTER TABLE accounts ALTER COLUMN email TYPE text;\n\
                 ALTER TABLE accounts ALTER COLUMN amount TYPE numeric(14, 2);\n"
            ),
            None,
        )]],
    );
}

#[test]
fn rename_column_and_table() {
    rule(
        "M011",
        "rename-column",
        &[M(
            "rename",
            &format!("{TIMEOUT}ALTER TABLE accounts RENAME COLUMN note TO remark;\n"),
            None,
        )],
        &[&[M(
            "new_table",
            "CREATE TABLE t (a int);\nALTER TABLE t RENAME COLUMN a TO b;\n",
            None,
        )]],
    );
    rule(
        "M012",
        "rename-table",
        &[M(
            "rename",
            &format!("{TIMEOUT}ALTER TABLE accounts RENAME TO customers;\n"),
            None,
        )],
        &[&[M(
            "new_table",
            "CREATE TABLE t (a int);\nALTER TABLE t RENAME TO u;\n",
            None,
        )]],
    );
}

#[test]
fn drop_column_pre_deploy() {
    rule(
        "M013",
        "drop-column-pre-deploy",
        &[M(
            "drop",
            &format!("{TIMEOUT}ALTER TABLE accounts DROP COLUMN note;\n"),
            None,
        )],
        &[&[M(
            "drop",
            &format!("-- plumb: post-deploy\n{TIMEOUT}ALTER TABLE accounts DROP COLUMN note;\n"),
            None,
        )]],
    );
}

#[test]
fn unbatched_update() {
    rule(
        "M014",
        "unbatched-update",
        &[M(
            "update",
            "UPDATE accounts SET note = 'x' WHERE note IS NULL;\nDELETE FROM accounts WHERE amount < 0;\n",
            None,
        )],
        &[&[M(
            "new_table",
            "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);\nUPDATE t SET a = 2;\n",
            None,
        )]],
    );
}

#[test]
fn lock_timeout_missing() {
    rule(
        "M015",
        "lock-timeout-missing",
        &[
            M("none", "ALTER TABLE accounts ADD COLUMN a text;\n", None),
            M(
                "reset",
                &format!("{TIMEOUT}RESET lock_timeout;\nALTER TABLE accounts ADD COLUMN b text;\n"),
                None,
            ),
            M(
                "zero",
                "SET lock_timeout = 0;\nALTER TABLE accounts ADD COLUMN c text;\n",
                None,
            ),
            M(
                "local_ends_at_commit",
                "BEGIN;\nSET LOCAL lock_timeout = '1s';\nCOMMIT;\nALTER TABLE accounts ADD COLUMN d text;\n",
                NO_TX,
            ),
        ],
        &[
            &[M(
                "set",
                &format!("{TIMEOUT}ALTER TABLE accounts ADD COLUMN a text;\n"),
                None,
            )],
            &[M(
                "local",
                "SET LOCAL lock_timeout = '1s';\nALTER TABLE accounts ADD COLUMN a text;\n",
                None,
            )],
            &[M(
                "new_table",
                "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN b int;\n",
                None,
            )],
        ],
    );
}

#[test]
fn down_missing() {
    let dir = common::workspace(&[M(
        "add",
        &format!("{TIMEOUT}ALTER TABLE accounts ADD COLUMN a text;\n"),
        None,
    )]);
    let folder = std::fs::read_dir(dir.path().join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("_add"))
        .unwrap();
    assert!(codes(&plumb_check::check_workspace(dir.path(), None).unwrap()).is_empty());
    std::fs::remove_file(folder.join("down.sql")).unwrap();
    let report = plumb_check::check_workspace(dir.path(), None).unwrap();
    assert_eq!(codes(&report), ["M016"]);
    insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("down-missing", human(&report));
    });
    std::fs::write(folder.join("down.sql"), "  \n").unwrap();
    assert_eq!(
        codes(&plumb_check::check_workspace(dir.path(), None).unwrap()),
        ["M016"],
        "an empty down.sql reverses nothing"
    );
}

#[test]
fn syntax_error_is_one_finding_and_the_rest_is_still_checked() {
    rule(
        "M017",
        "syntax-error",
        &[M(
            "typo",
            &format!(
                "{TIMEOUT}ALTER TABLE accounts ADD COLUM a text;\nCREATE INDEX accounts_note_idx ON accounts (note);\n"
            ),
            None,
        )],
        &[&[M(
            "fine",
            &format!("{TIMEOUT}ALTER TABLE accounts ADD COLUMN a text;\n"),
            None,
        )]],
    );
    let report = check(&[M(
        "typo",
        &format!(
            "{TIMEOUT}ALTER TABLE accounts ADD COLUM a text;\nCREATE INDEX accounts_note_idx ON accounts (note);\n"
        ),
        None,
    )]);
    assert_eq!(codes(&report), ["M017", "M004"]);
}

#[test]
fn the_reference_repository_passes_clean() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let report = plumb_check::check_workspace(&root, None).unwrap();
    assert!(report.findings.is_empty(), "{}", human(&report));
    assert_eq!(report.migrations, 8);
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
        Some(plumb_check::schema::DefaultKind::Constant),
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
            Some(plumb_check::schema::DefaultKind::Volatile { .. })
        )
    };
    assert!(volatile("id") && volatile("token") && !volatile("seen"));
}

// Regressions found in review: each safe form stays silent, each unsafe one fires.

#[test]
fn a_check_named_like_postgres_names_it_still_proves_not_null() {
    let report = check(&[
        M(
            "check",
            &format!(
                "{TIMEOUT}ALTER TABLE accounts ADD CONSTRAINT accounts_note_check CHECK ((note IS NOT NULL)) NOT VALID;\n"
            ),
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
fn char_to_text_and_using_rewrite() {
    let report = check(&[M(
        "types",
        &format!(
            "{TIMEOUT}ALTER TABLE accounts ALTER COLUMN email TYPE text USING lower(email);\nALTER TABLE accounts ALTER COLUMN note TYPE text USING note::text;\n"
        ),
        None,
    )]);
    assert_eq!(
        codes(&report),
        ["M010"],
        "only the USING that computes: {}",
        human(&report)
    );
    let report = check(&[
        M(
            "add",
            &format!("{TIMEOUT}ALTER TABLE accounts ADD COLUMN code char(8);\n"),
            None,
        ),
        M(
            "widen",
            &format!("{TIMEOUT}ALTER TABLE accounts ALTER COLUMN code TYPE text;\n"),
            None,
        ),
    ]);
    assert_eq!(codes(&report), ["M010"], "{}", human(&report));
}

#[test]
fn inline_constraints_on_an_added_column_are_checked() {
    let report = check(&[M(
        "inline",
        &format!(
            "{TIMEOUT}ALTER TABLE accounts ADD COLUMN ref text UNIQUE;\nALTER TABLE accounts ADD COLUMN score int CHECK (score >= 0);\nALTER TABLE accounts ADD COLUMN parent bigint REFERENCES accounts (id);\n"
        ),
        None,
    )]);
    assert_eq!(
        codes(&report),
        ["M009", "M007", "M007"],
        "{}",
        human(&report)
    );
}

#[test]
fn a_new_table_referencing_an_existing_one_needs_a_lock_timeout() {
    let report = check(&[M(
        "new",
        "CREATE TABLE orders (id bigint PRIMARY KEY, account_id bigint REFERENCES accounts (id));\n",
        None,
    )]);
    assert_eq!(codes(&report), ["M015"], "{}", human(&report));
    let with = check(&[M(
        "new",
        &format!(
            "{TIMEOUT}CREATE TABLE orders (id bigint PRIMARY KEY, account_id bigint REFERENCES accounts (id));\n"
        ),
        None,
    )]);
    assert!(codes(&with).is_empty(), "{}", human(&with));
}

#[test]
fn tables_the_replay_never_saw_created_count_as_in_use() {
    let report = check(&[
        M(
            "unmodelled",
            "-- plumb: allow unmodelled-statement created from a query\nCREATE TABLE archive AS SELECT * FROM accounts;\n",
            None,
        ),
        M(
            "index",
            &format!("{TIMEOUT}CREATE INDEX archive_email_idx ON archive (email);\n"),
            None,
        ),
    ]);
    assert_eq!(codes(&report), ["M004"], "{}", human(&report));
}

#[test]
fn dropping_a_table_in_use_before_deploy_is_caught() {
    let report = check(&[M("drop", &format!("{TIMEOUT}DROP TABLE accounts;\n"), None)]);
    assert_eq!(codes(&report), ["M018"], "{}", human(&report));
    let post = check(&[M(
        "drop",
        &format!("-- plumb: post-deploy\n{TIMEOUT}DROP TABLE accounts;\n"),
        None,
    )]);
    assert!(codes(&post).is_empty(), "{}", human(&post));
}

#[test]
fn validate_after_another_alter_in_the_same_transaction_is_caught() {
    let report = check(&[
        M(
            "add",
            &format!(
                "{TIMEOUT}ALTER TABLE accounts ADD CONSTRAINT positive CHECK (amount > 0) NOT VALID;\n"
            ),
            None,
        ),
        M(
            "both",
            &format!(
                "{TIMEOUT}ALTER TABLE accounts ADD COLUMN nick text;\nALTER TABLE accounts VALIDATE CONSTRAINT positive;\n"
            ),
            None,
        ),
    ]);
    assert_eq!(codes(&report), ["M008"], "{}", human(&report));
}

#[test]
fn lock_timeout_follows_transactions() {
    let kept = check(&[M(
        "kept",
        "SET lock_timeout = '2s';\nBEGIN;\nSET LOCAL lock_timeout = '1s';\nCOMMIT;\nALTER TABLE accounts ADD COLUMN a text;\n",
        Some("run_in_transaction = false\n"),
    )]);
    assert!(
        codes(&kept).is_empty(),
        "the session value survives COMMIT: {}",
        human(&kept)
    );
    let undone = check(&[M(
        "undone",
        "BEGIN;\nSET lock_timeout = '2s';\nROLLBACK;\nALTER TABLE accounts ADD COLUMN a text;\n",
        Some("run_in_transaction = false\n"),
    )]);
    assert_eq!(
        codes(&undone),
        ["M015"],
        "ROLLBACK undoes the SET: {}",
        human(&undone)
    );
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
