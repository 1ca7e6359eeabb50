//! A statement that waits for a lock on a table in use, with no lock_timeout: queued behind one
//! long query, it holds up every later query on the table for as long as it waits.

use super::{Context, Hit, drops_index_of_existing};
use crate::finding::{Finding, Rule, Severity};
use crate::sql::parse::{Action, ConstraintDef, Statement, StatementKind};
use crate::sql::schema::Schema;

pub const RULE: Rule = Rule {
    code: "M015",
    name: "lock-timeout-missing",
    severity: Severity::Error,
    summary: "lock taken on an existing table with no lock_timeout in force",
};

pub(super) fn check(cx: &Context, schema: &Schema, statement: &Statement, hits: &mut Vec<Hit>) {
    if cx.lock_timeout() {
        return;
    }
    let Some((what, blocks)) = locks_existing_table(cx, schema, statement) else {
        return;
    };
    let stopped = match blocks {
        Blocks::Queries => "every later query on the table",
        Blocks::Writes => "every later write to the table",
    };
    hits.push(Hit::new(
        RULE,
        statement.range,
        format!(
            "{what} waits for its lock with no lock_timeout: queued behind one long query, it stops {stopped}"
        ),
        format!(
            "let plumb migrate apply it ([lock] applied-by = \"plumb\" in plumb.toml: it sets the policy's lock_timeout of {} ms on its connection and retries), or put SET lock_timeout = '{}ms' before it in the same file",
            cx.lock.timeout_ms, cx.lock.timeout_ms
        ),
    ));
}

/// One finding per file: every later statement of a file without a timeout waits the same way,
/// and one line saying so reads better than one per statement (on real repositories this rule
/// was half of all errors). The first finding left after suppressions stays, and its help counts
/// the others; `found` is in file order.
pub(crate) fn once_per_file(found: Vec<Finding>) -> Vec<Finding> {
    let later = found
        .iter()
        .filter(|f| f.code == RULE.code)
        .count()
        .saturating_sub(1);
    if later == 0 {
        return found;
    }
    let mut first = true;
    found
        .into_iter()
        .filter_map(|mut f| {
            if f.code != RULE.code {
                return Some(f);
            }
            if !std::mem::take(&mut first) {
                return None;
            }
            // In the help, not the message: the message names what the finding is about, and
            // a baseline entry must not stop matching when a statement is added to the file.
            f.help = format!(
                "{later} later statement(s) of this file wait the same way; {}",
                f.help
            );
            Some(f)
        })
        .collect()
}

/// The statement as the message names it, when it waits for a lock on a table in use.
fn locks_existing_table(
    cx: &Context,
    schema: &Schema,
    statement: &Statement,
) -> Option<(String, Blocks)> {
    use Blocks::{Queries, Writes};
    match &statement.kind {
        StatementKind::AlterTable { table, .. } if cx.is_existing(table) => {
            Some((format!("ALTER TABLE {table}"), Queries))
        }
        StatementKind::AlterTable { table, actions, .. } => {
            let new_keys = actions.iter().filter_map(|(_, a)| match a {
                Action::AddConstraint(c) => Some(c),
                _ => None,
            });
            referenced_existing(cx, new_keys)
                .map(|parent| (format!("a foreign key from {table} to {parent}"), Writes))
        }
        StatementKind::CreateTable {
            table,
            constraints,
            columns,
            ..
        } => {
            // A key to itself locks nothing else.
            let keys = constraints
                .iter()
                .chain(columns.iter().flat_map(|c| c.constraints.iter()))
                .filter(|c| c.references.as_ref() != Some(table));
            referenced_existing(cx, keys).map(|parent| {
                (
                    format!("CREATE TABLE {table}, whose foreign key locks {parent},"),
                    Writes,
                )
            })
        }
        StatementKind::CreateIndex {
            table,
            concurrently: false,
            ..
        } if cx.is_existing(table) => Some((format!("CREATE INDEX on {table}"), Writes)),
        StatementKind::DropIndex {
            names,
            concurrently: false,
            ..
        } if drops_index_of_existing(cx, schema, names) => Some(("DROP INDEX".to_owned(), Queries)),
        StatementKind::DropTable { tables, .. } => tables
            .iter()
            .find(|t| cx.is_existing(t))
            .map(|table| (format!("DROP TABLE {table}"), Queries)),
        StatementKind::DropView { names, .. } => names
            .iter()
            .find(|t| cx.is_existing(t))
            .map(|view| (format!("DROP VIEW {view}"), Queries)),
        StatementKind::RefreshView {
            name,
            concurrently: false,
        } if cx.is_existing(name) => Some((format!("REFRESH MATERIALIZED VIEW {name}"), Queries)),
        // SHARE ROW EXCLUSIVE: it blocks writes while it waits.
        StatementKind::CreateTrigger { table, .. } | StatementKind::DropTrigger { table }
            if cx.is_existing(table) && table != DIESEL_MIGRATIONS =>
        {
            Some((format!("a trigger change on {table}"), Writes))
        }
        _ => None,
    }
}

/// diesel's own bookkeeping: only the migration runner writes it, under an advisory lock, so
/// nothing queues behind a trigger change on it.
const DIESEL_MIGRATIONS: &str = "__diesel_schema_migrations";

/// What the lock a statement waits for holds up behind it.
#[derive(Debug, Clone, Copy)]
enum Blocks {
    /// ACCESS EXCLUSIVE: reads too.
    Queries,
    /// SHARE or SHARE ROW EXCLUSIVE: writes; reads go on.
    Writes,
}

/// A table in use that one of these foreign keys references: declaring it takes SHARE ROW
/// EXCLUSIVE on that table, which waits in its lock queue.
fn referenced_existing<'c>(
    cx: &Context,
    constraints: impl Iterator<Item = &'c ConstraintDef>,
) -> Option<String> {
    constraints
        .filter_map(|c| c.references.clone())
        .find(|t| cx.is_existing(t))
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::m::testing::{M, NO_TX, TIMEOUT, check, codes, human, rule, snapshot};

    #[test]
    fn lock_timeout_missing() {
        let human = rule(
            RULE,
            &[
                M("none", "ALTER TABLE accounts ADD COLUMN a text;\n", None),
                M(
                    "reset",
                    &format!(
                        "{TIMEOUT}RESET lock_timeout;\nALTER TABLE accounts ADD COLUMN b text;\n"
                    ),
                    None,
                ),
                M(
                    "zero",
                    "SET lock_timeout = 0;\nALTER TABLE accounts ADD COLUMN c text;\n",
                    None,
                ),
                M(
                    "local_ends_at_commit",
                    "BEGIN;\nSET LOCAL lock_timeout = '20ms';\nCOMMIT;\nALTER TABLE accounts ADD COLUMN d text;\n",
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
                    "SET LOCAL lock_timeout = '20ms';\nALTER TABLE accounts ADD COLUMN a text;\n",
                    None,
                )],
                &[M(
                    "new_table",
                    "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN b int;\n",
                    None,
                )],
            ],
        );
        snapshot!(RULE, human);
    }

    #[test]
    fn a_new_table_referencing_an_existing_one_needs_a_lock_timeout() {
        let report = check(&[M(
            "new",
            "CREATE TABLE orders (id bigint PRIMARY KEY, account_id bigint REFERENCES accounts (id));\n",
            None,
        )]);
        assert_eq!(codes(&report), [RULE.code], "{}", human(&report));
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
    fn lock_timeout_follows_transactions() {
        let kept = check(&[M(
            "kept",
            "SET lock_timeout = '20ms';\nBEGIN;\nSET LOCAL lock_timeout = '20ms';\nCOMMIT;\nALTER TABLE accounts ADD COLUMN a text;\n",
            Some("run_in_transaction = false\n"),
        )]);
        assert!(
            codes(&kept).is_empty(),
            "the session value survives COMMIT: {}",
            human(&kept)
        );
        let undone = check(&[M(
            "undone",
            "BEGIN;\nSET lock_timeout = '20ms';\nROLLBACK;\nALTER TABLE accounts ADD COLUMN a text;\n",
            Some("run_in_transaction = false\n"),
        )]);
        assert_eq!(
            codes(&undone),
            [RULE.code],
            "ROLLBACK undoes the SET: {}",
            human(&undone)
        );
    }

    #[test]
    fn one_finding_per_file_counts_the_statements_after_it() {
        let report = check(&[M(
            "three",
            "ALTER TABLE accounts ADD COLUMN a text;\nALTER TABLE accounts ADD COLUMN b text;\nCREATE INDEX CONCURRENTLY x ON accounts (a);\nALTER TABLE accounts ADD COLUMN c text;\n",
            None,
        )]);
        let ours: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.code == RULE.code)
            .collect();
        assert_eq!(ours.len(), 1, "{}", human(&report));
        assert_eq!(ours[0].span.line, 1);
        assert!(
            ours[0]
                .help
                .starts_with("2 later statement(s) of this file wait the same way"),
            "{}",
            ours[0].help
        );
    }

    #[test]
    fn migrations_applied_by_plumb_migrate_need_no_set() {
        use crate::rules::m::testing::workspace;
        let dir = workspace(&[M("none", "ALTER TABLE accounts ADD COLUMN a text;\n", None)]);
        std::fs::write(
            dir.path().join("plumb.toml"),
            "[lock]\napplied-by = \"plumb\"\n",
        )
        .unwrap();
        let report = crate::check_workspace(dir.path(), None).unwrap();
        assert!(codes(&report).is_empty(), "{}", human(&report));
    }
}
