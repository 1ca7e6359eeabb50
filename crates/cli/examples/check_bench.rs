//! Benchmark of the full static check (families M, S, C, A, D and the changes since the base):
//!
//!     cargo run --release -p plumb --example check_bench
//!
//! Generates a git repository of 300 migrations (100 tables, each created and then given two
//! more columns), a matching `schema.rs`, 100 model files with a Queryable and an Insertable
//! struct each, 100 API response types and a column registry. Its first commit, without the
//! last 10 migrations, is the base; the work tree is the head. Times `plumb check --base HEAD`
//! end to end (the release binary, as CI runs it) and in process, 7 runs each, and prints the
//! median and the slowest.
#![allow(clippy::unwrap_used)] // a benchmark that cannot set up should fail loudly

use std::fmt::Write;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const TABLES: usize = 100;

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn migration(root: &Path, n: usize, name: &str, up: &str, down: &str) {
    let folder = format!("migrations/2026-01-01-{:06}-0000_{name}", n);
    write(root, &format!("{folder}/up.sql"), up);
    write(root, &format!("{folder}/down.sql"), down);
}

fn generate(root: &Path) {
    let mut n = 0;
    for t in 0..TABLES {
        n += 1;
        migration(
            root,
            n,
            &format!("create_t{t}"),
            &format!(
                "CREATE TABLE t{t} (id bigint PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());\n"
            ),
            &format!("DROP TABLE t{t};\n"),
        );
    }
    for extra in ["note", "score"] {
        for t in 0..TABLES {
            n += 1;
            let ty = if extra == "note" { "text" } else { "integer" };
            migration(
                root,
                n,
                &format!("add_t{t}_{extra}"),
                &format!("SET lock_timeout = '1s';\nALTER TABLE t{t} ADD COLUMN {extra} {ty};\n"),
                &format!("ALTER TABLE t{t} DROP COLUMN {extra};\n"),
            );
        }
    }
    assert_eq!(n, 300);
    let mut schema = String::from("// @generated automatically by Diesel CLI.\n");
    let mut registry = String::new();
    for t in 0..TABLES {
        let _ = write!(
            schema,
            "\ndiesel::table! {{\n    t{t} (id) {{\n        id -> Int8,\n        name -> Text,\n        created_at -> Timestamptz,\n        note -> Nullable<Text>,\n        score -> Nullable<Int4>,\n    }}\n}}\n"
        );
        let _ = write!(
            registry,
            "\n[columns.t{t}]\nid = \"T{t}.id\"\nname = \"T{t}.name\"\ncreated_at = \"internal\"\nnote = \"T{t}.note\"\nscore = \"internal\"\n"
        );
        write(
            root,
            &format!("crates/model/src/t{t}.rs"),
            &format!(
                "use diesel::prelude::*;\n\n#[derive(Queryable, Selectable)]\n#[diesel(table_name = t{t})]\npub struct T{t} {{\n    pub id: i64,\n    pub name: String,\n    pub created_at: chrono::DateTime<chrono::Utc>,\n    pub note: Option<String>,\n    pub score: Option<i32>,\n}}\n\n#[derive(Insertable)]\n#[diesel(table_name = t{t})]\npub struct NewT{t}<'a> {{\n    pub id: i64,\n    pub name: &'a str,\n}}\n"
            ),
        );
        write(
            root,
            &format!("schemas/v1/T{t}.response.json"),
            &format!(
                "{{\n  \"properties\": {{\n    \"id\": {{ \"type\": \"integer\", \"format\": \"int64\" }},\n    \"name\": {{ \"type\": \"string\" }},\n    \"note\": {{ \"type\": [\"string\", \"null\"] }}\n  }},\n  \"required\": [\"id\", \"name\"],\n  \"title\": \"T{t}\",\n  \"type\": \"object\"\n}}\n"
            ),
        );
    }
    write(root, "crates/model/src/schema.rs", &schema);
    write(
        root,
        "plumb.toml",
        &format!("[check]\nschema-rs = \"crates/model/src/schema.rs\"\n{registry}"),
    );
}

fn git(root: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap()
        .status
        .success();
    assert!(ok, "git {args:?}");
}

fn stats(mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    (
        times[times.len() / 2].as_secs_f64(),
        times.last().unwrap().as_secs_f64(),
    )
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    generate(root);
    // The base: everything but the last 10 migrations.
    let held_back: Vec<_> = {
        let mut names: Vec<_> = fs::read_dir(root.join("migrations"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        names.split_off(290)
    };
    let aside = tempfile::tempdir().unwrap();
    for path in &held_back {
        fs::rename(path, aside.path().join(path.file_name().unwrap())).unwrap();
    }
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "base"]);
    for path in &held_back {
        fs::rename(aside.path().join(path.file_name().unwrap()), path).unwrap();
    }

    let report =
        plumb_check::check_workspace_against(root, None, &plumb_check::Base::Rev("HEAD".into()))
            .unwrap();
    assert_eq!(
        report.findings.len(),
        0,
        "the generated head is clean: {:?}",
        report.findings.first()
    );
    println!(
        "generated: 300 migrations ({} statements), {TABLES} tables, {} model structs, 100 API types; base = first commit (290 migrations); {} changes since the base",
        report.statements,
        TABLES * 2,
        report.changes.len()
    );

    let binary = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/plumb");
    let mut end_to_end = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        let output = Command::new(&binary)
            .args(["check", "--base", "HEAD", "--format", "json"])
            .arg(root)
            .output()
            .expect("build the binary first: cargo build --release -p plumb");
        end_to_end.push(started.elapsed());
        assert_eq!(output.status.code(), Some(0));
    }
    let mut in_process = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        let report = plumb_check::check_workspace_against(
            root,
            None,
            &plumb_check::Base::Rev("HEAD".into()),
        )
        .unwrap();
        in_process.push(started.elapsed());
        assert!(report.findings.is_empty());
    }
    let (median, worst) = stats(end_to_end);
    println!(
        "plumb check --base HEAD (release binary, end to end): median {median:.3} s, slowest {worst:.3} s"
    );
    let (median, worst) = stats(in_process);
    println!("check_workspace_against (in process): median {median:.3} s, slowest {worst:.3} s");
}
