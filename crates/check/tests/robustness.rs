//! Whatever SQL comes in, parsing, replay and rules never panic.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

use plumb_check::{Migration, Settings, check_migrations};

const WORDS: &[&str] = &[
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
    "random()",
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
    "LOCAL",
    "é",
    "\u{0}",
    "ENUM",
    "VALUE",
];

/// Deterministic pseudo-random SQL: the same inputs every run.
fn generate(seed: &mut u64, words: usize) -> String {
    let mut sql = String::new();
    for _ in 0..words {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        sql.push_str(WORDS[(*seed >> 33) as usize % WORDS.len()]);
        sql.push(' ');
    }
    sql
}

#[test]
fn arbitrary_sql_never_panics() {
    let settings = Settings::load(std::path::Path::new("/nonexistent")).unwrap();
    let mut seed = 42;
    for round in 0..2000 {
        let migrations: Vec<Migration> = (0..3)
            .map(|n| Migration {
                name: format!("2026-01-0{n}-000000_m"),
                version: format!("2026010{n}000000"),
                dir: format!("/m/{round}/{n}").into(),
                up: generate(&mut seed, 1 + round % 40).into(),
                down: (n % 2 == 0).then(|| "".into()),
                run_in_transaction: n != 1,
                post_deploy: n == 2,
            })
            .collect();
        let report = check_migrations(&migrations, &settings);
        for finding in &report.findings {
            assert!(finding.span.line >= 1 && finding.span.column >= 1);
        }
    }
}
