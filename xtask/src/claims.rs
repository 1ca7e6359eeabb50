//! `cargo xtask claims [--check] [--bindir DIR]...`: what the migration rules say PostgreSQL
//! does, against what servers of each version did.
//!
//! Each probe is a statement on a seeded table. On a throwaway cluster of each version, in a
//! transaction of a database of its own, it is run and watched: the strongest lock the
//! transaction then holds on the table (its own `pg_locks` rows), whether the table got new
//! storage (its `relfilenode`), whether it was scanned (`pg_stat_get_xact_numscans`), and
//! whether it failed. The same SQL, as two migrations (the setup, then the probe), goes through
//! the checker at that version. A rule agrees with the server when it fires exactly where the
//! danger it names was seen.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use plumb_check::{Migration, Settings, check_migrations};
use plumb_pg::{PgBinaries, PgServer, TestDatabase, ThrowawayCluster};

/// What a rule says a statement costs, and so what firing means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Claim {
    /// The table is rewritten (new storage, every row copied under ACCESS EXCLUSIVE).
    Rewrite,
    /// The table is scanned under a lock that blocks writes.
    ScanBlockingWrites,
    /// The statement takes ACCESS EXCLUSIVE on the table (queueing every query behind it).
    AccessExclusive,
    /// The statement fails (on a table that has rows, or on this version).
    Fails,
    /// The statement changes every row of the table in its one transaction.
    EveryRow,
}

struct Probe {
    rule: &'static str,
    what: &'static str,
    /// Run and committed before the probe (its own migration for the checker).
    setup: &'static str,
    sql: &'static str,
    claim: Claim,
}

/// The table every probe works on, with rows, an index and a table to reference.
const BASE: &str = "CREATE TABLE t (id bigint PRIMARY KEY, a integer, b text, v varchar(100));\n\
     CREATE INDEX t_b_idx ON t (b);\n\
     CREATE TABLE u (id bigint PRIMARY KEY);\n";
const ROWS: &str = "INSERT INTO u SELECT g FROM generate_series(1, 5000) g;\n\
     INSERT INTO t SELECT g, g, 'b' || g, 'v' FROM generate_series(1, 5000) g;\n\
     ANALYZE t; ANALYZE u;";
const ROW_COUNT: i64 = 5000;

/// `t` made a partitioned table with one partition holding the rows: the table watched is the
/// partitioned one.
const PARTITIONED_T: &str = "ALTER TABLE t RENAME TO t_plain;\n\
     CREATE TABLE t (id bigint NOT NULL, a integer) PARTITION BY RANGE (id);\n\
     CREATE TABLE t_low PARTITION OF t FOR VALUES FROM (1) TO (100000);\n\
     INSERT INTO t SELECT g, g FROM generate_series(1, 5000) g;";

const PROBES: &[Probe] = &[
    Probe {
        rule: "add-column-rewrite",
        what: "ADD COLUMN with a constant default",
        setup: "",
        sql: "ALTER TABLE t ADD COLUMN c integer DEFAULT 5;",
        claim: Claim::Rewrite,
    },
    Probe {
        rule: "add-column-rewrite",
        what: "ADD COLUMN with a volatile default",
        setup: "",
        sql: "ALTER TABLE t ADD COLUMN c timestamptz DEFAULT clock_timestamp();",
        claim: Claim::Rewrite,
    },
    Probe {
        rule: "add-column-required",
        what: "ADD COLUMN NOT NULL without a default",
        setup: "",
        sql: "ALTER TABLE t ADD COLUMN c integer NOT NULL;",
        claim: Claim::Fails,
    },
    Probe {
        rule: "add-column-required",
        what: "ADD COLUMN NOT NULL with a default",
        setup: "",
        sql: "ALTER TABLE t ADD COLUMN c integer NOT NULL DEFAULT 0;",
        claim: Claim::Fails,
    },
    Probe {
        rule: "column-type-rewrite",
        what: "integer to bigint",
        setup: "",
        sql: "ALTER TABLE t ALTER COLUMN a TYPE bigint;",
        claim: Claim::Rewrite,
    },
    Probe {
        rule: "column-type-rewrite",
        what: "varchar(100) to varchar(200)",
        setup: "",
        sql: "ALTER TABLE t ALTER COLUMN v TYPE varchar(200);",
        claim: Claim::Rewrite,
    },
    Probe {
        rule: "column-type-rewrite",
        what: "varchar(100) to text",
        setup: "",
        sql: "ALTER TABLE t ALTER COLUMN v TYPE text;",
        claim: Claim::Rewrite,
    },
    Probe {
        rule: "set-not-null-scan",
        what: "SET NOT NULL",
        setup: "",
        sql: "ALTER TABLE t ALTER COLUMN a SET NOT NULL;",
        claim: Claim::ScanBlockingWrites,
    },
    Probe {
        rule: "set-not-null-scan",
        what: "SET NOT NULL after a validated CHECK (a IS NOT NULL)",
        setup: "ALTER TABLE t ADD CONSTRAINT t_a_nn CHECK (a IS NOT NULL);",
        sql: "ALTER TABLE t ALTER COLUMN a SET NOT NULL;",
        claim: Claim::ScanBlockingWrites,
    },
    Probe {
        rule: "constraint-without-not-valid",
        what: "ADD CHECK",
        setup: "",
        sql: "ALTER TABLE t ADD CONSTRAINT t_a_pos CHECK (a > 0);",
        claim: Claim::ScanBlockingWrites,
    },
    Probe {
        rule: "constraint-without-not-valid",
        what: "ADD CHECK ... NOT VALID",
        setup: "",
        sql: "ALTER TABLE t ADD CONSTRAINT t_a_pos CHECK (a > 0) NOT VALID;",
        claim: Claim::ScanBlockingWrites,
    },
    Probe {
        rule: "constraint-without-not-valid",
        what: "ADD CONSTRAINT ... NOT NULL ... NOT VALID (PostgreSQL 18's form)",
        setup: "",
        sql: "ALTER TABLE t ADD CONSTRAINT t_a_nn NOT NULL a NOT VALID;",
        claim: Claim::Fails,
    },
    Probe {
        rule: "constraint-without-not-valid",
        what: "ADD FOREIGN KEY",
        setup: "",
        sql: "ALTER TABLE t ADD CONSTRAINT t_a_fk FOREIGN KEY (a) REFERENCES u (id);",
        claim: Claim::ScanBlockingWrites,
    },
    Probe {
        rule: "validate-same-transaction",
        what: "ADD CHECK NOT VALID, then VALIDATE, in one transaction",
        setup: "",
        sql: "ALTER TABLE t ADD CONSTRAINT t_a_pos CHECK (a > 0) NOT VALID;\n\
              ALTER TABLE t VALIDATE CONSTRAINT t_a_pos;",
        claim: Claim::ScanBlockingWrites,
    },
    Probe {
        rule: "validate-same-transaction",
        what: "VALIDATE of a constraint added NOT VALID by an earlier migration",
        setup: "ALTER TABLE t ADD CONSTRAINT t_a_pos CHECK (a > 0) NOT VALID;",
        sql: "ALTER TABLE t VALIDATE CONSTRAINT t_a_pos;",
        claim: Claim::ScanBlockingWrites,
    },
    Probe {
        rule: "index-not-concurrent",
        what: "CREATE INDEX",
        setup: "",
        sql: "CREATE INDEX t_a_idx ON t (a);",
        claim: Claim::ScanBlockingWrites,
    },
    Probe {
        rule: "unique-without-index",
        what: "ADD UNIQUE",
        setup: "",
        sql: "ALTER TABLE t ADD CONSTRAINT t_a_key UNIQUE (a);",
        claim: Claim::ScanBlockingWrites,
    },
    Probe {
        rule: "unique-without-index",
        what: "ADD UNIQUE USING INDEX",
        setup: "CREATE UNIQUE INDEX t_a_key ON t (a);",
        sql: "ALTER TABLE t ADD CONSTRAINT t_a_key UNIQUE USING INDEX t_a_key;",
        claim: Claim::ScanBlockingWrites,
    },
    Probe {
        rule: "index-concurrently-partitioned",
        what: "CREATE INDEX CONCURRENTLY on a partitioned table",
        setup: "CREATE TABLE p (id bigint NOT NULL, a integer) PARTITION BY RANGE (id);\n\
                CREATE TABLE p_low PARTITION OF p FOR VALUES FROM (1) TO (100000);\n\
                INSERT INTO p SELECT g, g FROM generate_series(1, 5000) g;",
        sql: "CREATE INDEX CONCURRENTLY p_a_idx ON p (a);",
        claim: Claim::Fails,
    },
    Probe {
        rule: "attach-partition-scan",
        what: "ATTACH PARTITION of a table with rows",
        setup: "CREATE TABLE p (id bigint NOT NULL, a integer, b text, v varchar(100)) PARTITION BY RANGE (id);",
        sql: "ALTER TABLE p ATTACH PARTITION t FOR VALUES FROM (1) TO (100000);",
        claim: Claim::ScanBlockingWrites,
    },
    Probe {
        rule: "attach-partition-scan",
        what: "ATTACH PARTITION after a validated CHECK of the bound",
        setup: "CREATE TABLE p (id bigint NOT NULL, a integer, b text, v varchar(100)) PARTITION BY RANGE (id);\n\
                ALTER TABLE t ADD CONSTRAINT t_bound CHECK (id IS NOT NULL AND id >= 1 AND id < 100000);",
        sql: "ALTER TABLE p ATTACH PARTITION t FOR VALUES FROM (1) TO (100000);",
        claim: Claim::ScanBlockingWrites,
    },
    Probe {
        rule: "detach-partition-blocking",
        what: "DETACH PARTITION (the partitioned table watched)",
        setup: PARTITIONED_T,
        sql: "ALTER TABLE t DETACH PARTITION t_low;",
        claim: Claim::AccessExclusive,
    },
    Probe {
        rule: "attach-partition-scan",
        what: "ATTACH PARTITION of an empty table beside a DEFAULT partition with rows",
        setup: "ALTER TABLE t RENAME TO t_plain;\n\
                CREATE TABLE p (id bigint NOT NULL, a integer) PARTITION BY RANGE (id);\n\
                CREATE TABLE t PARTITION OF p DEFAULT;\n\
                INSERT INTO p SELECT g, g FROM generate_series(1, 5000) g;\n\
                CREATE TABLE p_next (id bigint NOT NULL, a integer);",
        sql: "ALTER TABLE p ATTACH PARTITION p_next FOR VALUES FROM (100000) TO (200000);",
        claim: Claim::ScanBlockingWrites,
    },
    Probe {
        rule: "create-partition-blocking",
        what: "CREATE TABLE ... PARTITION OF (the partitioned table watched)",
        setup: PARTITIONED_T,
        sql: "CREATE TABLE t_high PARTITION OF t FOR VALUES FROM (100000) TO (200000);",
        claim: Claim::AccessExclusive,
    },
    Probe {
        rule: "create-partition-blocking",
        what: "CREATE TABLE on its own, then ATTACH PARTITION (the partitioned table watched)",
        setup: PARTITIONED_T,
        sql: "CREATE TABLE t_high (id bigint NOT NULL, a integer);\n\
              ALTER TABLE t ATTACH PARTITION t_high FOR VALUES FROM (100000) TO (200000);",
        claim: Claim::AccessExclusive,
    },
    Probe {
        rule: "drop-index-not-concurrent",
        what: "DROP INDEX",
        setup: "",
        sql: "DROP INDEX t_b_idx;",
        claim: Claim::AccessExclusive,
    },
    Probe {
        rule: "concurrently-in-transaction",
        what: "CREATE INDEX CONCURRENTLY in a transaction",
        setup: "",
        sql: "CREATE INDEX CONCURRENTLY t_a_idx ON t (a);",
        claim: Claim::Fails,
    },
    Probe {
        rule: "rename-column",
        what: "RENAME COLUMN",
        setup: "",
        sql: "ALTER TABLE t RENAME COLUMN b TO b2;",
        claim: Claim::AccessExclusive,
    },
    Probe {
        rule: "rename-table",
        what: "RENAME TO",
        setup: "",
        sql: "ALTER TABLE t RENAME TO t2;",
        claim: Claim::AccessExclusive,
    },
    Probe {
        rule: "drop-column-pre-deploy",
        what: "DROP COLUMN",
        setup: "",
        sql: "ALTER TABLE t DROP COLUMN b;",
        claim: Claim::AccessExclusive,
    },
    Probe {
        rule: "drop-table-pre-deploy",
        what: "DROP TABLE",
        setup: "",
        sql: "DROP TABLE t;",
        claim: Claim::AccessExclusive,
    },
    Probe {
        rule: "unbatched-update",
        what: "UPDATE of every row",
        setup: "",
        sql: "UPDATE t SET b = 'x';",
        claim: Claim::EveryRow,
    },
    Probe {
        rule: "unbatched-update",
        what: "UPDATE of a few rows by key",
        setup: "",
        sql: "UPDATE t SET b = 'x' WHERE id < 10;",
        claim: Claim::EveryRow,
    },
    Probe {
        rule: "syntax-error",
        what: "ADD COLUMN without a column",
        setup: "",
        sql: "ALTER TABLE t ADD COLUMN;",
        claim: Claim::Fails,
    },
];

/// Disagreements a rule accepts, by probe, and why: documented here rather than fixed.
const KNOWN: &[(&str, &str)] = &[(
    "UPDATE of a few rows by key",
    "`unbatched-update` cannot count the rows a WHERE matches, so it reports every UPDATE or DELETE of an existing table: a fix of a few rows by key is reported too, and is exempted with `-- plumb: allow unbatched-update <reason>`",
)];

fn known(probe: &Probe) -> Option<&'static str> {
    KNOWN
        .iter()
        .find(|(what, _)| *what == probe.what)
        .map(|(_, why)| *why)
}

/// The migration rules that say nothing of what a statement does on the server, and why.
const WITHOUT_PROBE: &[(&str, &str)] = &[
    (
        "down-missing",
        "about the migration's files: a missing down.sql",
    ),
    (
        "lock-timeout-missing",
        "about the session: a lock wait with no lock_timeout queues every query behind it (the lock-queue benchmark measures it)",
    ),
    (
        "lock-timeout-above-policy",
        "about the session: a lock_timeout above the project's policy",
    ),
    (
        "not-analysed",
        "about the checker: a file too large or too deeply nested to analyse",
    ),
    (
        "unmodelled-statement",
        "about the checker: a statement its replay does not model",
    ),
    (
        "unused-suppression",
        "about a suppression comment that silences nothing",
    ),
    (
        "invalid-suppression",
        "about a suppression comment without a known rule or a reason",
    ),
];

/// What one server did with one probe.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    /// The strongest lock the transaction held on `t`, as `pg_locks` names it.
    lock: Option<String>,
    rewrote: bool,
    scanned: bool,
    failed: bool,
    /// Rows the transaction updated or deleted in the table.
    changed_rows: i64,
}

impl Seen {
    fn blocks_writes(&self) -> bool {
        matches!(
            self.lock.as_deref(),
            Some("ShareLock" | "ShareRowExclusiveLock" | "ExclusiveLock" | "AccessExclusiveLock")
        )
    }

    /// Whether what the claim names happened.
    fn shows(&self, claim: Claim) -> bool {
        match claim {
            Claim::Rewrite => self.rewrote,
            Claim::ScanBlockingWrites => self.scanned && self.blocks_writes(),
            Claim::AccessExclusive => self.lock.as_deref() == Some("AccessExclusiveLock"),
            Claim::Fails => self.failed,
            Claim::EveryRow => self.changed_rows >= ROW_COUNT,
        }
    }

    fn describe(&self) -> String {
        if self.failed {
            return "fails".to_owned();
        }
        let lock = self
            .lock
            .as_deref()
            .map_or("no lock", |l| l.trim_end_matches("Lock"));
        let mut parts = vec![lock.to_owned()];
        if self.rewrote {
            parts.push("rewrite".to_owned());
        }
        if self.scanned {
            parts.push("scan".to_owned());
        }
        if self.changed_rows >= ROW_COUNT {
            parts.push("every row".to_owned());
        }
        parts.join(", ")
    }
}

/// One probe on one version: what the server did and whether the rule fired.
#[derive(Debug, Clone)]
struct Cell {
    seen: Seen,
    fires: bool,
}

impl Cell {
    fn agrees(&self, claim: Claim) -> bool {
        self.fires == self.seen.shows(claim)
    }
}

pub fn run(root: &Path, bindirs: &[PathBuf], check: bool) -> anyhow::Result<bool> {
    let mut versions: Vec<PgBinaries> = bindirs
        .iter()
        .map(|dir| PgBinaries::at(dir).with_context(|| format!("{}", dir.display())))
        .collect::<anyhow::Result<_>>()?;
    if versions.is_empty() {
        versions.push(PgBinaries::locate()?);
    }
    let mut columns: BTreeMap<u32, Vec<Cell>> = BTreeMap::new();
    for binaries in versions {
        let major = binaries.major()?;
        eprintln!(
            "claims: PostgreSQL {major} ({})",
            binaries.bindir().display()
        );
        let cluster = ThrowawayCluster::start_on(binaries, &[])?;
        let server = PgServer::Throwaway(cluster);
        let mut cells = Vec::new();
        for probe in PROBES {
            let seen = observe(&server, probe)
                .with_context(|| format!("PostgreSQL {major}: {}", probe.what))?;
            let fires = fires(probe, major)?;
            cells.push(Cell { seen, fires });
        }
        columns.insert(major, cells);
    }
    let table = render(&columns);
    let path = root.join("docs/rules/claims.md");
    let disagreements: Vec<String> = columns
        .iter()
        .flat_map(|(major, cells)| {
            cells
                .iter()
                .zip(PROBES)
                .filter(|(cell, probe)| !cell.agrees(probe.claim) && known(probe).is_none())
                .map(move |(cell, probe)| {
                    format!(
                        "PostgreSQL {major}: {} on {}: the server did {}, and the rule {}",
                        probe.rule,
                        probe.what,
                        cell.seen.describe(),
                        if cell.fires { "fires" } else { "is silent" }
                    )
                })
        })
        .collect();
    for line in &disagreements {
        eprintln!("claims: disagreement: {line}");
    }
    if check {
        let committed = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        if !same_versions(&committed, &columns) {
            eprintln!(
                "claims: {} lists other versions than this run: not compared (run it with the versions the table lists)",
                path.display()
            );
        } else if committed != table {
            eprintln!(
                "claims: {} is stale: run `cargo xtask claims` with the same versions",
                path.display()
            );
            return Ok(false);
        }
    } else {
        std::fs::write(&path, &table).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("claims: wrote {}", path.display());
    }
    let probes = PROBES.len() * columns.len();
    let accepted = columns
        .values()
        .flat_map(|cells| cells.iter().zip(PROBES))
        .filter(|(cell, probe)| !cell.agrees(probe.claim) && known(probe).is_some())
        .count();
    eprintln!(
        "claims: {} of {probes} agree, {accepted} known disagreements, on PostgreSQL {}",
        probes - disagreements.len() - accepted,
        columns
            .keys()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(disagreements.is_empty())
}

/// Whether the committed table has the columns this run has (else it is not compared).
fn same_versions(committed: &str, columns: &BTreeMap<u32, Vec<Cell>>) -> bool {
    let header: String = columns
        .keys()
        .map(|m| format!(" PostgreSQL {m} |"))
        .collect();
    let header = format!("| rule | statement |{header}");
    committed.lines().any(|line| line == header)
}

/// Runs the probe in a transaction of a database of its own, rolled back after.
fn observe(server: &PgServer, probe: &Probe) -> anyhow::Result<Seen> {
    let db = TestDatabase::empty(server)?;
    let mut conn = db.connect()?;
    conn.batch_execute(BASE)?;
    conn.batch_execute(ROWS)?;
    if !probe.setup.is_empty() {
        conn.batch_execute(probe.setup)?;
    }
    #[derive(QueryableByName)]
    struct State {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        oid: i64,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
        node: Option<i64>,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        scans: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        changed: i64,
    }
    // By oid: the probe may rename or drop the table.
    let state = |conn: &mut PgConnection, oid: i64| -> QueryResult<State> {
        diesel::sql_query(
            "SELECT $1 AS oid, (SELECT relfilenode::bigint FROM pg_class WHERE oid = $1::oid) AS node, \
             pg_stat_get_xact_numscans($1::oid) AS scans, \
             pg_stat_get_xact_tuples_updated($1::oid) + pg_stat_get_xact_tuples_deleted($1::oid) AS changed",
        )
        .bind::<diesel::sql_types::BigInt, _>(oid)
        .get_result(conn)
    };
    #[derive(QueryableByName)]
    struct Oid {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        oid: i64,
    }
    let oid = diesel::sql_query("SELECT 't'::regclass::oid::bigint AS oid")
        .get_result::<Oid>(&mut conn)?
        .oid;
    conn.batch_execute("BEGIN")?;
    let before = state(&mut conn, oid)?;
    let outcome = conn.batch_execute(probe.sql);
    let seen = match outcome {
        Err(_) => Seen {
            lock: None,
            rewrote: false,
            scanned: false,
            failed: true,
            changed_rows: 0,
        },
        Ok(()) => {
            let after = state(&mut conn, oid)?;
            Seen {
                lock: strongest_lock(&mut conn, after.oid)?,
                rewrote: after.node.is_some() && after.node != before.node,
                scanned: after.scans > before.scans,
                failed: false,
                changed_rows: after.changed - before.changed,
            }
        }
    };
    conn.batch_execute("ROLLBACK")?;
    Ok(seen)
}

/// The strongest lock this transaction holds on the table `oid`.
fn strongest_lock(conn: &mut PgConnection, oid: i64) -> QueryResult<Option<String>> {
    #[derive(QueryableByName)]
    struct Mode {
        #[diesel(sql_type = diesel::sql_types::Text)]
        mode: String,
    }
    const ORDER: [&str; 8] = [
        "AccessExclusiveLock",
        "ExclusiveLock",
        "ShareRowExclusiveLock",
        "ShareLock",
        "ShareUpdateExclusiveLock",
        "RowExclusiveLock",
        "RowShareLock",
        "AccessShareLock",
    ];
    let held: Vec<Mode> = diesel::sql_query(
        "SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND granted \
         AND relation = $1::oid",
    )
    .bind::<diesel::sql_types::BigInt, _>(oid)
    .load(conn)?;
    Ok(ORDER
        .iter()
        .find(|mode| held.iter().any(|h| h.mode == **mode))
        .map(|mode| (*mode).to_owned()))
}

/// Whether the probe's rule fires on it, for the checker told the server's major version.
fn fires(probe: &Probe, major: u32) -> anyhow::Result<bool> {
    let migration = |n: u32, up: String| Migration {
        name: format!("2026-01-0{n}-000000_claims"),
        version: format!("2026010{n}000000"),
        dir: format!("/claims/{n}").into(),
        up: up.into(),
        down: Some("SELECT 1;".into()),
        run_in_transaction: true,
        post_deploy: false,
    };
    let migrations = [
        migration(1, format!("{BASE}{}", probe.setup)),
        migration(2, probe.sql.to_owned()),
    ];
    // The defaults: no plumb.toml where none can be.
    let mut settings = Settings::load(Path::new("/nonexistent"))?;
    settings.pg_version = major;
    let report = check_migrations(&migrations, &settings);
    let probed = Path::new("/claims/2");
    Ok(report
        .findings
        .iter()
        .any(|f| f.name == probe.rule && f.span.file.starts_with(probed)))
}

fn render(columns: &BTreeMap<u32, Vec<Cell>>) -> String {
    let mut out = String::new();
    out.push_str("# What the migration rules say, against what PostgreSQL did\n\n");
    out.push_str(
        "Generated by `cargo xtask claims` (do not edit): each statement below ran on a table \
         of 5,000 rows, in a transaction, on a throwaway cluster of each version, and went \
         through the checker told that version. A cell says what the server did (the \
         strongest lock on the table, whether it rewrote or scanned it, or that the statement \
         failed), then whether the rule fires, and ✓ when the rule fires exactly where the \
         danger it names was seen. CI runs `cargo xtask claims --check` on the versions below.\n\n",
    );
    out.push_str("| rule | statement |");
    for major in columns.keys() {
        let _ = write!(out, " PostgreSQL {major} |");
    }
    out.push('\n');
    out.push_str("| --- | --- |");
    for _ in columns {
        out.push_str(" --- |");
    }
    out.push('\n');
    for (index, probe) in PROBES.iter().enumerate() {
        let _ = write!(out, "| `{}` | {} |", probe.rule, probe.what);
        for cells in columns.values() {
            let cell = &cells[index];
            let _ = write!(
                out,
                " {}; {} {} |",
                cell.seen.describe(),
                if cell.fires { "fires" } else { "silent" },
                match (cell.agrees(probe.claim), known(probe)) {
                    (true, _) => "✓",
                    (false, Some(_)) => "✗ (known, below)",
                    (false, None) => "✗",
                }
            );
        }
        out.push('\n');
    }
    out.push_str(
        "\nWhat firing means, by rule: a rewrite (`add-column-rewrite`, `column-type-rewrite`); \
         a scan under a lock that blocks writes (`set-not-null-scan`, \
         `constraint-without-not-valid`, `validate-same-transaction`, `index-not-concurrent`, \
         `unique-without-index`); ACCESS EXCLUSIVE on the table (`drop-index-not-concurrent`, and the deploy-order rules \
         `rename-column`, `rename-table`, `drop-column-pre-deploy`, `drop-table-pre-deploy`, \
         whose danger is the running release, not the lock); every row changed in one \
         transaction (`unbatched-update`); a failure (`add-column-required` on a table with \
         rows, `concurrently-in-transaction`, `syntax-error`, `constraint-without-not-valid` \
         on a NOT NULL constraint NOT VALID before PostgreSQL 18).\n",
    );
    if columns
        .values()
        .any(|cells| cells.iter().zip(PROBES).any(|(c, p)| !c.agrees(p.claim)))
    {
        out.push_str("\nKnown disagreements:\n\n");
        for (what, why) in KNOWN {
            let _ = writeln!(out, "- {what}: {why}.");
        }
    }
    let only_firing: Vec<String> = PROBES
        .iter()
        .map(|p| p.rule)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|rule| {
            PROBES
                .iter()
                .enumerate()
                .filter(|(_, p)| p.rule == *rule)
                .all(|(i, _)| columns.values().all(|cells| cells[i].fires))
        })
        .map(|rule| format!("`{rule}`"))
        .collect();
    if !only_firing.is_empty() {
        let _ = writeln!(
            out,
            "\nThese rules fire on every probe of theirs, so the table shows that they catch what they name, not that they stay silent on the safe form: {}.",
            only_firing.join(", ")
        );
    }
    out.push_str("\nThe migration rules without a probe say nothing of what a statement does on the server:\n\n");
    for rule in plumb_check::RULES
        .iter()
        .filter(|r| r.code.starts_with('M'))
    {
        if PROBES.iter().any(|p| p.rule == rule.name) {
            continue;
        }
        let why = WITHOUT_PROBE
            .iter()
            .find(|(name, _)| *name == rule.name)
            .map_or("(no probe yet)", |(_, why)| why);
        let _ = writeln!(out, "- `{}` ({}): {why}.", rule.name, rule.code);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(what: &str) -> &'static Probe {
        PROBES.iter().find(|p| p.what == what).unwrap()
    }

    #[test]
    fn a_rule_that_fires_where_the_server_did_nothing_is_a_disagreement() {
        let quiet = Seen {
            lock: Some("AccessExclusiveLock".to_owned()),
            rewrote: false,
            scanned: false,
            failed: false,
            changed_rows: 0,
        };
        let cell = Cell {
            seen: quiet.clone(),
            fires: true,
        };
        assert!(!cell.agrees(Claim::Rewrite));
        assert!(cell.agrees(Claim::AccessExclusive));
        let mut columns = BTreeMap::new();
        columns.insert(
            15,
            PROBES
                .iter()
                .map(|_| Cell {
                    seen: quiet.clone(),
                    fires: true,
                })
                .collect(),
        );
        let table = render(&columns);
        let line = table
            .lines()
            .find(|l| l.contains("ADD COLUMN with a volatile default"))
            .unwrap();
        assert!(line.ends_with("AccessExclusive; fires ✗ |"), "{line}");
        assert!(same_versions(&table, &columns));
    }

    #[test]
    fn the_checker_is_asked_at_the_version_of_each_server() {
        let not_null = probe("ADD CONSTRAINT ... NOT NULL ... NOT VALID (PostgreSQL 18's form)");
        let fires = |probe, major| fires(probe, major).unwrap();
        assert!(fires(not_null, 17));
        assert!(!fires(not_null, 18));
        assert!(fires(probe("ADD COLUMN with a volatile default"), 15));
        assert!(!fires(probe("ADD COLUMN with a constant default"), 15));
        assert!(fires(probe("ADD COLUMN with a constant default"), 10));
    }
}
