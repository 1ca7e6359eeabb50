//! Small files built to exhaust a recursive reader: the check finishes and says what it could
//! not analyse, whatever the depth. A stack overflow aborts this test binary, so each case
//! fails loudly if a reader recurses on a thread without the parser's stack.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

mod common;

use std::fs;

use common::M;
use plumb_check::check_workspace;

#[test]
fn deeply_nested_sql_is_checked_without_crashing() {
    let cases = [
        (
            "parentheses",
            format!("SELECT {}1{};\n", "(".repeat(4500), ")".repeat(4500)),
        ),
        (
            "calls",
            format!("SELECT {}1{};\n", "f(".repeat(3000), ")".repeat(3000)),
        ),
        (
            "subselects",
            format!("SELECT {}1{};\n", "(SELECT ".repeat(3000), ")".repeat(3000)),
        ),
        (
            "concatenation",
            format!("SELECT {};\n", vec!["'a'"; 10_000].join(" || ")),
        ),
    ];
    for (name, sql) in cases {
        let dir = common::workspace(&[M(name, &sql, None)]);
        let report = check_workspace(dir.path(), None).unwrap();
        assert_eq!(report.migrations, 2, "{name}");
    }
}

#[test]
fn deeply_nested_rust_in_schema_rs_and_models_is_read_without_crashing() {
    let dir = common::workspace(&[]);
    let root = dir.path();
    fs::create_dir_all(root.join("src/models")).unwrap();
    fs::write(
        root.join("diesel.toml"),
        "[print_schema]\nfile = \"src/schema.rs\"\n",
    )
    .unwrap();
    fs::write(
        root.join("plumb.toml"),
        "[check]\nmodels = \"src/models\"\n",
    )
    .unwrap();
    let nested = |open: &str, inner: &str, close: &str| {
        format!("{}{inner}{}", open.repeat(3000), close.repeat(3000))
    };
    fs::write(
        root.join("src/schema.rs"),
        format!(
            "diesel::table! {{\n    accounts (id) {{\n        id -> {},\n    }}\n}}\n",
            nested("Nullable<", "Int8", ">")
        ),
    )
    .unwrap();
    fs::write(
        root.join("src/models/account.rs"),
        format!(
            "#[derive(Queryable)]\n#[diesel(table_name = accounts)]\npub struct Account {{\n    pub id: {},\n}}\nfn f() {{ {} }}\n",
            nested("Option<", "i64", ">"),
            nested("{", "", "}")
        ),
    )
    .unwrap();
    let report = check_workspace(root, None).unwrap();
    assert_eq!(report.coverage.models, 1);
    assert_eq!(report.coverage.schema_files.len(), 1);
}
