//! diesel.toml as diesel reads it, and schemas made by more than CREATE TABLE: the layouts of
//! real repositories, each reduced to the smallest workspace that shows it.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

mod common;

use std::fs;
use std::path::Path;

use common::{M, codes, human, workspace};
use plumb_check::check_workspace;

/// `accounts` as print-schema writes it from the base migration.
const ACCOUNTS_RS: &str = "diesel::table! {
    accounts (id) {
        id -> Int8,
        #[max_length = 100]
        email -> Varchar,
        note -> Nullable<Text>,
        amount -> Nullable<Numeric>,
    }
}
";

fn write(root: &Path, file: &str, text: &str) {
    let path = root.join(file);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn s_codes(root: &Path) -> Vec<&'static str> {
    let report = check_workspace(root, None).unwrap();
    let found: Vec<&'static str> = codes(&report)
        .into_iter()
        .filter(|c| c.starts_with('S'))
        .collect();
    if !found.is_empty() {
        eprintln!("{}", human(&report));
    }
    found
}

#[test]
fn a_patch_file_is_taken_out_before_comparing_and_its_lines_are_the_committed_files() {
    let dir = workspace(&[]);
    // The committed file narrows `note` by hand; the patch records that edit.
    let committed = ACCOUNTS_RS.replace("note -> Nullable<Text>", "note -> Text");
    write(dir.path(), "src/schema.rs", &committed);
    write(
        dir.path(),
        "src/schema.patch",
        "diff --git a/src/schema.rs b/src/schema.rs\nindex 1..2 100644\n--- a/src/schema.rs\n+++ b/src/schema.rs\n@@ -4,5 +4,5 @@\n         #[max_length = 100]\n         email -> Varchar,\n-        note -> Nullable<Text>,\n+        note -> Text,\n         amount -> Nullable<Numeric>,\n     }\n",
    );
    write(
        dir.path(),
        "diesel.toml",
        "[print_schema]\nfile = \"src/schema.rs\"\npatch_file = \"src/schema.patch\"\n",
    );
    assert_eq!(s_codes(dir.path()), Vec::<&str>::new());
    // Without the patch the same file disagrees with the migrations.
    write(
        dir.path(),
        "diesel.toml",
        "[print_schema]\nfile = \"src/schema.rs\"\n",
    );
    assert_eq!(s_codes(dir.path()), ["S005"]);
}

#[test]
fn a_patch_that_does_not_come_back_out_is_an_input_error_naming_it() {
    let dir = workspace(&[]);
    write(dir.path(), "src/schema.rs", ACCOUNTS_RS);
    write(
        dir.path(),
        "src/schema.patch",
        "--- a/src/schema.rs\n+++ b/src/schema.rs\n@@ -1,1 +1,1 @@\n-something else\n+nothing like it\n",
    );
    write(
        dir.path(),
        "diesel.toml",
        "[print_schema]\nfile = \"src/schema.rs\"\npatch_file = \"src/schema.patch\"\n",
    );
    let error = check_workspace(dir.path(), None).unwrap_err().to_string();
    assert!(
        error.contains("schema.patch") && error.contains("src/schema.rs"),
        "{error}"
    );
}

#[test]
fn each_print_schema_section_holds_the_tables_its_filter_lets_through() {
    let dir = workspace(&[M(
        "more",
        "CREATE TABLE audit_log (id bigint PRIMARY KEY, what text NOT NULL);\nCREATE TABLE internal_jobs (id bigint PRIMARY KEY);\n",
        None,
    )]);
    write(dir.path(), "src/schema.rs", ACCOUNTS_RS);
    write(
        dir.path(),
        "src/audit_schema.rs",
        "diesel::table! {\n    audit_log (id) {\n        id -> Int8,\n        what -> Text,\n    }\n}\n",
    );
    write(
        dir.path(),
        "diesel.toml",
        "[print_schema.main]\nfile = \"src/schema.rs\"\nfilter = { only_tables = [\"accounts\"] }\n\n[print_schema.audit]\nfile = \"src/audit_schema.rs\"\nfilter = { except_tables = [\"accounts\", \"internal_\"] }\n",
    );
    assert_eq!(s_codes(dir.path()), Vec::<&str>::new());
    // A table the filter lets through and the file lacks is still reported, in that file.
    write(
        dir.path(),
        "diesel.toml",
        "[print_schema.main]\nfile = \"src/schema.rs\"\nfilter = { only_tables = [\"accounts\"] }\n\n[print_schema.audit]\nfile = \"src/audit_schema.rs\"\nfilter = { except_tables = [\"accounts\"] }\n",
    );
    let report = check_workspace(dir.path(), None).unwrap();
    let missing: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.code == "S001")
        .map(|f| format!("{} {}", f.span.file.display(), f.message))
        .collect();
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert!(
        missing[0].starts_with("src/audit_schema.rs") && missing[0].contains("internal_jobs"),
        "{missing:?}"
    );
}

#[test]
fn views_tables_from_queries_other_schemas_and_trigger_filled_columns_are_modelled() {
    let dir = workspace(&[M(
        "kinds",
        "CREATE SCHEMA utils;\n\
         CREATE TABLE utils.saved_ddl (id int PRIMARY KEY, ddl text);\n\
         CREATE TABLE account_copy AS SELECT id, email, amount FROM accounts;\n\
         CREATE VIEW rich_accounts AS SELECT id, amount FROM accounts WHERE amount > 1000;\n\
         CREATE MATERIALIZED VIEW totals AS SELECT count(*) AS n FROM accounts;\n\
         ALTER TABLE accounts ADD COLUMN slug text NOT NULL DEFAULT '';\n\
         ALTER TABLE accounts ALTER COLUMN slug DROP DEFAULT;\n\
         CREATE FUNCTION set_slug() RETURNS trigger AS $$ BEGIN NEW.slug := lower(NEW.email); RETURN NEW; END $$ LANGUAGE plpgsql;\n\
         CREATE TRIGGER accounts_slug BEFORE INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION set_slug();\n",
        None,
    )]);
    let schema_rs = format!(
        "{}\ndiesel::table! {{\n    account_copy (id) {{\n        id -> Nullable<Int8>,\n        #[max_length = 100]\n        email -> Nullable<Varchar>,\n        amount -> Nullable<Numeric>,\n    }}\n}}\n\ndiesel::table! {{\n    rich_accounts (id) {{\n        id -> Nullable<Int8>,\n        amount -> Nullable<Numeric>,\n    }}\n}}\n",
        ACCOUNTS_RS.replace(
            "        amount -> Nullable<Numeric>,\n    }",
            "        amount -> Nullable<Numeric>,\n        slug -> Text,\n    }"
        )
    );
    write(dir.path(), "src/schema.rs", &schema_rs);
    write(
        dir.path(),
        "src/models.rs",
        "#[derive(Insertable)]\n#[diesel(table_name = accounts)]\npub struct NewAccount<'a> {\n    pub id: i64,\n    pub email: &'a str,\n}\n\n#[derive(Queryable)]\npub struct Total {\n    pub n: i64,\n}\n",
    );
    write(
        dir.path(),
        "diesel.toml",
        "[print_schema]\nfile = \"src/schema.rs\"\n",
    );
    assert_eq!(s_codes(dir.path()), Vec::<&str>::new());
    // Without the trigger, the insert lacks a required column.
    let up = dir
        .path()
        .join("migrations/2026-02-01-000000-0000_kinds/up.sql");
    let text = fs::read_to_string(&up).unwrap();
    fs::write(&up, text.replace("CREATE TRIGGER", "-- CREATE TRIGGER")).unwrap();
    assert_eq!(s_codes(dir.path()), ["S009"]);
}

/// Code outside the schema file's folder is read once `[check] code` names its folder: an
/// insert written as a call there is judged like a model's.
#[test]
fn check_code_names_further_folders_whose_insert_calls_are_judged() {
    let dir = workspace(&[]);
    write(dir.path(), "src/schema.rs", ACCOUNTS_RS);
    write(
        dir.path(),
        "diesel.toml",
        "[print_schema]\nfile = \"src/schema.rs\"\n",
    );
    // `email` is NOT NULL without a default (so is `id` here): this insert fails.
    write(
        dir.path(),
        "app/handlers/notes.rs",
        "pub fn add(conn: &mut PgConnection) {\n    diesel::insert_into(accounts::table)\n        .values(accounts::note.eq(\"x\"))\n        .execute(conn);\n}\n",
    );
    assert_eq!(s_codes(dir.path()), Vec::<&str>::new());
    write(dir.path(), "plumb.toml", "[check]\ncode = [\"app\"]\n");
    let report = check_workspace(dir.path(), None).unwrap();
    let missing: Vec<(String, usize)> = report
        .findings
        .iter()
        .filter(|f| f.name == "insert-missing-required-column" && f.message.contains("`email`"))
        .map(|f| (f.span.file.display().to_string(), f.span.line))
        .collect();
    assert_eq!(
        missing,
        [("app/handlers/notes.rs".to_owned(), 2)],
        "{}",
        human(&report)
    );
    assert!(
        report.findings[0]
            .message
            .contains("`insert_into(accounts)`")
    );
}
