//! Whatever a workspace holds, `plumb check` reads it to the end: generated migrations,
//! `schema.rs`, model files, settings and API schemas go through the whole pipeline and every
//! output format. A case fails on
//! - a panic anywhere, also one a guard catches and turns into a finding (a panic hook counts
//!   them: the parser's guard would otherwise hide it);
//! - a stack overflow (it aborts this test binary);
//! - an input that runs away: each case runs under a watchdog that aborts the binary, naming
//!   the input, when one case has not finished after a minute. That is a hang detector with a
//!   margin of thousands, not a measure of speed (benchmarks measure speed).
//!
//! Bounded for CI; the fuzz targets (`scripts/fuzz.sh`) search the same inputs for hours.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Once, mpsc};
use std::time::Duration;

use plumb_check::report::{Format, render};
use proptest::prelude::*;

static PANICS: AtomicUsize = AtomicUsize::new(0);
/// Panics of the hook's own test, kept apart so that it may run beside the property.
static SELF_TEST_PANICS: AtomicUsize = AtomicUsize::new(0);
const SELF_TEST: &str = "the hook's own test";

fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<&str>() == Some(&SELF_TEST) {
                SELF_TEST_PANICS.fetch_add(1, Ordering::SeqCst);
                return;
            }
            PANICS.fetch_add(1, Ordering::SeqCst);
            default(info);
        }));
    });
}

/// One generated workspace; `None` leaves the file out.
#[derive(Debug, Clone)]
struct Workspace {
    migrations: Vec<String>,
    schema_rs: Option<String>,
    models: Option<String>,
    plumb_toml: Option<String>,
    diesel_toml: Option<String>,
    api: Option<String>,
}

impl Workspace {
    fn write(&self, root: &Path) {
        for (n, up) in self.migrations.iter().enumerate() {
            let dir = root.join(format!("migrations/2026-01-{:02}-000000_m", n + 1));
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join("up.sql"), up).unwrap();
            if n % 2 == 0 {
                fs::write(dir.join("down.sql"), "SELECT 1;\n").unwrap();
            }
        }
        fs::create_dir_all(root.join("src/models")).unwrap();
        let files = [
            ("src/schema.rs", &self.schema_rs),
            ("src/models/account.rs", &self.models),
            ("plumb.toml", &self.plumb_toml),
            ("diesel.toml", &self.diesel_toml),
            ("schemas/v1/Account.response.json", &self.api),
        ];
        for (path, text) in files {
            if let Some(text) = text {
                let path = root.join(path);
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(path, text).unwrap();
            }
        }
    }
}

/// Checks `workspace` on a thread of its own under the watchdog; returns how many panics the
/// check raised, caught or not.
fn check_survives(workspace: &Workspace) -> usize {
    count_panics();
    let before = PANICS.load(Ordering::SeqCst);
    let (done, finished) = mpsc::channel();
    let owned = workspace.clone();
    let check = std::thread::spawn(move || {
        let dir = tempfile::tempdir().unwrap();
        owned.write(dir.path());
        if let Ok(report) = plumb_check::check_workspace(dir.path(), None) {
            for finding in &report.findings {
                assert!(
                    finding.span.line >= 1 && finding.span.column >= 1,
                    "{finding:?}"
                );
            }
            for format in [Format::Human, Format::Json, Format::Github, Format::Sarif] {
                render(&report, format, true);
            }
        }
        let _ = done.send(());
    });
    // A panic drops the sender: only a minute without an answer is a runaway.
    if let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(Duration::from_secs(60)) {
        eprintln!("one case has run for a minute; its input:\n{workspace:#?}");
        std::process::abort();
    }
    // A panic that escaped the checker fails the case through the join.
    check.join().unwrap();
    PANICS.load(Ordering::SeqCst) - before
}

/// Text made of `words`, joined by spaces: near enough to the real thing to reach deep into
/// the readers, far enough to be wrong in every way.
fn text_of(words: &'static [&'static str], len: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(words), 0..len).prop_map(|w| w.join(" "))
}

/// Arbitrary text, or the same nesting a thousand levels deep.
fn nested(open: &'static str, close: &'static str) -> impl Strategy<Value = String> {
    (1usize..3_000).prop_map(move |depth| format!("{}1{}", open.repeat(depth), close.repeat(depth)))
}

const SQL: &[&str] = &[
    "ALTER",
    "TABLE",
    "accounts",
    "ADD",
    "COLUMN",
    "DROP",
    "CONSTRAINT",
    "CHECK",
    "NOT",
    "NULL",
    "VALID",
    "VALIDATE",
    "SET",
    "RESET",
    "lock_timeout",
    "=",
    "0",
    "'2s'",
    "CREATE",
    "INDEX",
    "CONCURRENTLY",
    "ON",
    "(",
    ")",
    ",",
    ";",
    "UNIQUE",
    "USING",
    "TYPE",
    "varchar(10)",
    "int",
    "DEFAULT",
    "now()",
    "RENAME",
    "TO",
    "BEGIN",
    "COMMIT",
    "UPDATE",
    "DELETE",
    "FROM",
    "WHERE",
    "x",
    "\"Quoted\"",
    "REFERENCES",
    "FOREIGN",
    "KEY",
    "PRIMARY",
    "GENERATED",
    "ALWAYS",
    "AS",
    "IDENTITY",
    "STORED",
    "$$",
    "DO",
    "--",
    "\n",
    "/*",
    "*/",
    "é",
    "\u{0}",
    "\u{feff}",
    "\u{b}",
    "ENUM",
    "VALUE",
    "VIEW",
    "MATERIALIZED",
    "SELECT",
    "INTO",
    "TRIGGER",
    "FUNCTION",
    "||",
    "set_config('lock_timeout', '0', false)",
    "plumb: allow",
    "-- plumb: post-deploy\n",
];

const RUST: &[&str] = &[
    "diesel::table!",
    "table!",
    "joinable!",
    "allow_tables_to_appear_in_same_query!",
    "{",
    "}",
    "(",
    ")",
    "<",
    ">",
    "->",
    ",",
    ";",
    "::",
    "accounts",
    "id",
    "email",
    "note",
    "Int8",
    "Text",
    "Nullable",
    "Varchar",
    "Timestamptz",
    "#[sql_name = \"x\"]",
    "#[max_length = 10]",
    "#[derive(Queryable, Selectable, Insertable, AsChangeset)]",
    "#[diesel(table_name = accounts)]",
    "#[table_name = \"accounts\"]",
    "#[cfg_attr(feature = \"db\", derive(Queryable))]",
    "#[diesel(column_name = \"e\")]",
    "#[diesel(check_for_backend(diesel::pg::Pg))]",
    "pub",
    "struct",
    "Account",
    "mod",
    "impl",
    "fn",
    "i64",
    "String",
    "Option",
    "Vec",
    "'a",
    "&",
    "\"",
    "//",
    "/*",
    "*/",
    "\n",
    "r#\"",
    "\"#",
    "é",
    "\u{0}",
];

const TOML: &[&str] = &[
    "[check]",
    "[lock]",
    "[rules]",
    "[columns.accounts]",
    "[print_schema]",
    "[print_schema.other]",
    "[migrations_directory]",
    "migrations = \"migrations\"",
    "schema-rs = \"src/schema.rs\"",
    "models = \"src/models\"",
    "api-schemas = \"schemas\"",
    "exclude = [\"**/*x*\"]",
    "pg-version = 12",
    "skip-before = \"2026\"",
    "timeout-ms = 0",
    "applied-by = \"plumb\"",
    "file = \"src/schema.rs\"",
    "patch_file = \"x.patch\"",
    "filter = { only_tables = [\"accounts\"] }",
    "schema = \"other\"",
    "dir = \"migrations\"",
    "id = \"Account.id\"",
    "email = \"sensitive\"",
    "note = \"internal\"",
    "down-missing = \"off\"",
    "M001 = \"warning\"",
    "=",
    "\"",
    "'",
    "[",
    "]",
    "\n",
    "é",
];

fn json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(
            &[
                "object",
                "string",
                "integer",
                "null",
                "array",
                "date-time",
                "#/$defs/A",
                "id",
                "email",
                "note",
                "",
            ][..]
        )
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        let key = prop::sample::select(
            &[
                "type",
                "properties",
                "required",
                "format",
                "enum",
                "$ref",
                "$defs",
                "allOf",
                "anyOf",
                "oneOf",
                "items",
                "nullable",
                "id",
                "email",
                "note",
                "A",
            ][..],
        );
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(key, inner, 0..6).prop_map(|m| Value::Object(
                m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    })
}

fn workspace() -> impl Strategy<Value = Workspace> {
    let sql = prop_oneof![
        4 => text_of(SQL, 60),
        1 => ".{0,200}",
        1 => nested("SELECT (", ")"),
    ];
    let rust = prop_oneof![
        4 => text_of(RUST, 80),
        1 => ".{0,200}",
        1 => (1usize..1_500).prop_map(|depth| format!(
            "diesel::table! {{ accounts (id) {{ id -> {}Int8{}, }} }}",
            "Nullable<".repeat(depth),
            ">".repeat(depth)
        )),
    ];
    (
        prop::collection::vec(sql, 1..4),
        prop::option::of(rust.clone()),
        prop::option::of(rust),
        prop::option::of(text_of(TOML, 20).prop_map(|t| t.replace("] ", "]\n"))),
        prop::option::of(text_of(TOML, 12).prop_map(|t| t.replace("] ", "]\n"))),
        prop::option::of(json().prop_map(|v| v.to_string())),
    )
        .prop_map(
            |(migrations, schema_rs, models, plumb_toml, diesel_toml, api)| Workspace {
                migrations,
                schema_rs,
                models,
                plumb_toml,
                diesel_toml,
                api,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        max_shrink_iters: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_workspace_is_read_to_the_end_without_a_panic(workspace in workspace()) {
        let panics = check_survives(&workspace);
        prop_assert_eq!(panics, 0, "the check panicked (and a guard caught it) on {:#?}", workspace);
    }
}

/// The property above must be able to fail: a panic that a guard catches is still counted.
#[test]
fn a_panic_caught_by_a_guard_is_still_counted() {
    count_panics();
    let caught =
        std::thread::spawn(|| std::panic::catch_unwind(|| std::panic::panic_any(SELF_TEST)))
            .join()
            .unwrap();
    assert!(caught.is_err());
    assert_eq!(SELF_TEST_PANICS.load(Ordering::SeqCst), 1);
}
