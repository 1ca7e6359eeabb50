//! Family M, migration safety: each statement of a migration against the schema the statements
//! before it left, and what the migration has done so far (its transaction, its `lock_timeout`,
//! the tables it created).

pub mod add_column_required;
pub mod add_column_rewrite;
pub mod attach_partition_scan;
pub mod column_type_rewrite;
pub mod concurrently_in_transaction;
pub mod constraint_without_not_valid;
pub mod create_partition_blocking;
pub mod detach_partition_blocking;
pub mod down_missing;
pub mod drop_column_pre_deploy;
pub mod drop_index_not_concurrent;
pub mod drop_table_pre_deploy;
pub mod index_concurrently_partitioned;
pub mod index_not_concurrent;
pub mod lock_timeout_above_policy;
pub mod lock_timeout_missing;
pub mod not_analysed;
pub mod rename_column;
pub mod rename_table;
pub mod set_not_null_scan;
pub mod syntax_error;
pub mod unbatched_update;
pub mod unique_without_index;
pub mod unmodelled_statement;
pub mod validate_same_transaction;

use std::borrow::Cow;
use std::collections::BTreeSet;

use crate::finding::Rule;
use crate::input::settings::LockSettings;
use crate::migrations::Migration;
use crate::sql::parse::{Action, Allow, Parsed, Range, Statement, StatementKind, TimeoutValue};
use crate::sql::replay;
use crate::sql::schema::{ConstraintKind, Schema};

/// One rule firing: the rule, where (a byte range of up.sql), what breaks and the safe way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    pub rule: Rule,
    pub range: Range,
    pub message: String,
    pub help: String,
}

impl Hit {
    fn new(rule: Rule, range: Range, message: String, help: impl Into<String>) -> Hit {
        Hit {
            rule,
            range,
            message,
            help: help.into(),
        }
    }
}

/// Hits, with the suppressions that may silence them: a statement's own comments, or none for
/// what concerns the whole file.
#[derive(Debug)]
pub(crate) struct Checked<'p> {
    pub allows: &'p [Allow],
    pub hits: Vec<Hit>,
    /// The statement the allows precede; none for what concerns the whole file.
    pub statement: Option<Range>,
}

/// Family M on one migration: each statement checked against `schema`, then replayed into it.
/// The hits of the whole file (syntax errors, a missing down.sql) come first and last.
pub(crate) fn check_migration<'p>(
    migration: &Migration,
    parsed: &'p Parsed,
    schema: &mut Schema,
    pg_version: u32,
    lock: &LockSettings,
) -> Vec<Checked<'p>> {
    let mut out = vec![Checked {
        allows: &[],
        statement: None,
        hits: syntax_error::check(&migration.up, &parsed.errors)
            .into_iter()
            .chain(not_analysed::check(parsed))
            .collect(),
    }];
    let mut cx = Context::new(migration, parsed.statements.len(), pg_version, lock);
    cx.remade = Remade::of(&parsed.statements);
    for written in &parsed.statements {
        // Rules judge what PostgreSQL does: an IF [NOT] EXISTS that makes it a no-op is none.
        let pruned;
        let statement = match replay::without_no_ops(schema, &written.kind) {
            Cow::Borrowed(_) => written,
            Cow::Owned(kind) => {
                pruned = Statement {
                    range: written.range,
                    kind,
                    allows: Vec::new(),
                };
                &pruned
            }
        };
        cx.before_rules(statement);
        let mut hits = Vec::new();
        check_statement(&cx, schema, statement, &mut hits);
        cx.after_rules(statement, schema);
        out.push(Checked {
            allows: &written.allows,
            hits,
            statement: Some(written.range),
        });
        replay::apply_effective(schema, &statement.kind);
    }
    out.push(Checked {
        allows: &[],
        statement: None,
        hits: down_missing::check(migration).into_iter().collect(),
    });
    out
}

/// Every statement rule, in code order: hits on the same place come out in this order.
fn check_statement(cx: &Context, schema: &Schema, statement: &Statement, hits: &mut Vec<Hit>) {
    add_column_required::check(cx, schema, statement, hits);
    add_column_rewrite::check(cx, schema, statement, hits);
    set_not_null_scan::check(cx, schema, statement, hits);
    index_not_concurrent::check(cx, schema, statement, hits);
    drop_index_not_concurrent::check(cx, schema, statement, hits);
    concurrently_in_transaction::check(cx, schema, statement, hits);
    constraint_without_not_valid::check(cx, schema, statement, hits);
    validate_same_transaction::check(cx, schema, statement, hits);
    unique_without_index::check(cx, schema, statement, hits);
    column_type_rewrite::check(cx, schema, statement, hits);
    rename_column::check(cx, schema, statement, hits);
    rename_table::check(cx, schema, statement, hits);
    drop_column_pre_deploy::check(cx, schema, statement, hits);
    unbatched_update::check(cx, schema, statement, hits);
    lock_timeout_missing::check(cx, schema, statement, hits);
    drop_table_pre_deploy::check(cx, schema, statement, hits);
    lock_timeout_above_policy::check(cx, schema, statement, hits);
    unmodelled_statement::check(cx, schema, statement, hits);
    index_concurrently_partitioned::check(cx, schema, statement, hits);
    attach_partition_scan::check(cx, schema, statement, hits);
    detach_partition_blocking::check(cx, schema, statement, hits);
    create_partition_blocking::check(cx, schema, statement, hits);
}

/// What a migration has done so far, beyond the schema.
#[derive(Debug)]
pub(crate) struct Context<'m> {
    migration: &'m Migration,
    pg_version: u32,
    /// The lock policy of `plumb.toml`: who applies the migrations, and the longest wait.
    lock: &'m LockSettings,
    /// Tables this migration created (followed through renames). Every other table is taken to
    /// be in use by the live release, including ones the replay never saw created.
    created: BTreeSet<String>,
    statement_count: usize,
    explicit_transaction: bool,
    /// `lock_timeout` as SET for the session, and as SET LOCAL for the open transaction.
    timeout_session: bool,
    timeout_local: Option<bool>,
    /// The session value when BEGIN ran, which ROLLBACK restores.
    timeout_at_begin: Option<bool>,
    /// Constraints added NOT VALID in the transaction still open, by the statements before.
    not_valid_in_transaction: BTreeSet<String>,
    /// Tables whose ACCESS EXCLUSIVE lock the open transaction holds.
    locked_in_transaction: BTreeSet<String>,
    /// `SET timezone = 'UTC'` is in force.
    timezone_utc: bool,
    /// The index of the statement being checked.
    current: usize,
    /// What the file creates again after dropping it.
    remade: Remade,
}

/// The tables and columns a file creates, by statement: a drop followed by a create of the same
/// name in the same transaction leaves the name in place for the live release.
#[derive(Debug, Default)]
struct Remade {
    tables: Vec<(usize, String)>,
    columns: Vec<(usize, String, String)>,
}

impl Remade {
    fn of(statements: &[Statement]) -> Remade {
        let mut remade = Remade::default();
        for (i, statement) in statements.iter().enumerate() {
            match &statement.kind {
                StatementKind::CreateTable { table: name, .. }
                | StatementKind::CreateRelation { name, .. } => {
                    remade.tables.push((i, name.clone()));
                }
                StatementKind::AlterTable { table, actions, .. } => {
                    for (_, action) in actions {
                        if let Action::AddColumn(def) = action {
                            remade.columns.push((i, table.clone(), def.name.clone()));
                        }
                    }
                }
                _ => {}
            }
        }
        remade
    }
}

impl<'m> Context<'m> {
    fn new(
        migration: &'m Migration,
        statement_count: usize,
        pg_version: u32,
        lock: &'m LockSettings,
    ) -> Self {
        Self {
            migration,
            pg_version,
            lock,
            created: BTreeSet::new(),
            statement_count,
            explicit_transaction: false,
            timeout_session: false,
            timeout_local: None,
            timeout_at_begin: None,
            not_valid_in_transaction: BTreeSet::new(),
            locked_in_transaction: BTreeSet::new(),
            timezone_utc: false,
            current: 0,
            remade: Remade::default(),
        }
    }

    /// Whether a later statement of this transaction creates `table` again.
    fn table_remade_later(&self, table: &str) -> bool {
        self.in_transaction()
            && self
                .remade
                .tables
                .iter()
                .any(|(i, t)| *i > self.current && t == table)
    }

    /// Whether this statement (after the drop) or a later one of the transaction adds the
    /// column again.
    fn column_remade(&self, table: &str, column: &str) -> bool {
        self.remade.columns.iter().any(|(i, t, c)| {
            t == table
                && c == column
                && (*i == self.current || (*i > self.current && self.in_transaction()))
        })
    }

    fn is_existing(&self, table: &str) -> bool {
        !self.created.contains(table)
    }

    /// Whether a `lock_timeout` is in force. `plumb migrate` sets one on its connection and
    /// refuses a file that would lift it (which M019 reports).
    fn lock_timeout(&self) -> bool {
        self.lock.applied_by.is_plumb() || self.timeout_local.unwrap_or(self.timeout_session)
    }

    /// diesel's transaction, an explicit BEGIN, or the implicit transaction PostgreSQL gives a
    /// query string of several statements.
    fn in_transaction(&self) -> bool {
        self.migration.run_in_transaction || self.explicit_transaction || self.statement_count > 1
    }

    /// What a statement holds while it runs, which its own rules must already see: an ALTER
    /// TABLE takes ACCESS EXCLUSIVE before any of its actions.
    fn before_rules(&mut self, statement: &Statement) {
        if let Some((table, actions)) = altered_existing(self, statement) {
            let only_validates = actions
                .iter()
                .all(|(_, a)| matches!(a, Action::ValidateConstraint { .. }));
            if !only_validates && self.in_transaction() {
                self.locked_in_transaction.insert(table.to_owned());
            }
        }
    }

    /// What a statement leaves for the statements after it. A table is known by its name as
    /// written and as the search path resolves it: a rule may hold either.
    fn after_rules(&mut self, statement: &Statement, schema: &Schema) {
        self.current += 1;
        match &statement.kind {
            StatementKind::AlterTable { table, actions, .. } if self.is_existing(table) => {
                let added: Vec<String> = actions
                    .iter()
                    .filter_map(|(_, a)| added_not_valid(self, table, a))
                    .collect();
                self.not_valid_in_transaction.extend(added);
            }
            StatementKind::AlterTable { table, actions, .. } => {
                if let Some((_, Action::RenameTable { to })) = actions
                    .iter()
                    .find(|(_, a)| matches!(a, Action::RenameTable { .. }))
                {
                    self.created.remove(table);
                    self.created.remove(&schema.resolve(table));
                    self.created.insert(to.clone());
                    self.created.insert(schema.resolve(to));
                }
            }
            StatementKind::CreateTable { table, .. }
            | StatementKind::CreateRelation { name: table, .. } => {
                self.created.insert(table.clone());
                self.created.insert(schema.resolve(table));
            }
            StatementKind::SetTimezone { utc } => self.timezone_utc = *utc,
            StatementKind::DropTable { tables, .. } => {
                for table in tables {
                    self.created.remove(table);
                    self.created.remove(&schema.resolve(table));
                }
            }
            StatementKind::SetLockTimeout { value, local } => {
                let positive = matches!(value, TimeoutValue::Positive { .. });
                if !*local {
                    self.timeout_session = positive;
                    self.timeout_local = None;
                } else if self.in_transaction() {
                    // SET LOCAL outside a transaction block has no effect.
                    self.timeout_local = Some(positive);
                }
            }
            StatementKind::ResetLockTimeout => {
                self.timeout_session = false;
                self.timeout_local = None;
            }
            StatementKind::Begin => {
                self.explicit_transaction = true;
                self.timeout_at_begin = Some(self.timeout_session);
            }
            StatementKind::Commit | StatementKind::Rollback => {
                if matches!(statement.kind, StatementKind::Rollback) {
                    // ROLLBACK undoes the SETs made in the transaction.
                    self.timeout_session = self.timeout_at_begin.unwrap_or(self.timeout_session);
                }
                self.explicit_transaction = false;
                self.timeout_local = None;
                self.timeout_at_begin = None;
                self.not_valid_in_transaction.clear();
                self.locked_in_transaction.clear();
            }
            _ => {}
        }
    }
}

/// The table and actions of an ALTER TABLE of a table the live release uses: most rules of the
/// family judge only those, since a table this migration created has no rows and no readers.
fn altered_existing<'s>(
    cx: &Context,
    statement: &'s Statement,
) -> Option<(&'s str, &'s [(Range, Action)])> {
    match &statement.kind {
        StatementKind::AlterTable { table, actions, .. } if cx.is_existing(table) => {
            Some((table, actions))
        }
        _ => None,
    }
}

/// The name of the constraint an action adds NOT VALID, whose lock the transaction then holds.
fn added_not_valid(cx: &Context, table: &str, action: &Action) -> Option<String> {
    let Action::AddConstraint(constraint) = action else {
        return None;
    };
    let kind_can_wait = matches!(
        constraint.kind,
        ConstraintKind::Check | ConstraintKind::ForeignKey | ConstraintKind::NotNull
    );
    // NOT NULL ... NOT VALID before PostgreSQL 18 fails rather than adds anything.
    let refused = constraint.kind == ConstraintKind::NotNull && cx.pg_version < 18;
    (kind_can_wait && constraint.not_valid && !refused)
        .then(|| replay::constraint_name(table, constraint))
}

/// Whether DROP INDEX takes a lock on a table in use.
fn drops_index_of_existing(cx: &Context, schema: &Schema, names: &[String]) -> bool {
    names.iter().any(|name| match schema.indexes.get(name) {
        Some(index) => cx.is_existing(&index.table),
        // An index the replay never saw was made before the history it reads.
        None => true,
    })
}

/// Cases written as migrations on top of one existing table, checked as `plumb check` would.
#[cfg(test)]
pub(crate) mod testing {
    use std::fs;
    use std::path::Path;

    use crate::finding::Rule;
    use crate::report::{Format, render};
    use crate::{Report, check_workspace};

    pub(crate) const TIMEOUT: &str = "SET lock_timeout = '20ms';\n";
    pub(crate) const NO_TX: Option<&str> = Some("run_in_transaction = false\n");

    /// The history every case starts from: one existing table with an index.
    const BASE: &str = "CREATE TABLE accounts (
    id bigint PRIMARY KEY,
    email varchar(100) NOT NULL,
    note text,
    amount numeric(10, 2)
);
CREATE INDEX accounts_email_idx ON accounts (email);
";

    /// A migration of a case: folder suffix, up.sql, and optional metadata.toml.
    pub(crate) struct M<'a>(pub &'a str, pub &'a str, pub Option<&'a str>);

    pub(crate) fn workspace(migrations: &[M<'_>]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "2026-01-01-000000-0000_base", BASE, None);
        for (n, M(name, up, metadata)) in migrations.iter().enumerate() {
            write(
                dir.path(),
                &format!("2026-02-{:02}-000000-0000_{name}", n + 1),
                up,
                *metadata,
            );
        }
        dir
    }

    fn write(root: &Path, folder: &str, up: &str, metadata: Option<&str>) {
        let dir = root.join("migrations").join(folder);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("up.sql"), up).unwrap();
        fs::write(dir.join("down.sql"), "SELECT 1;\n").unwrap();
        if let Some(metadata) = metadata {
            fs::write(dir.join("metadata.toml"), metadata).unwrap();
        }
    }

    pub(crate) fn check(migrations: &[M<'_>]) -> Report {
        let dir = workspace(migrations);
        check_workspace(dir.path(), None).unwrap()
    }

    pub(crate) fn codes(report: &Report) -> Vec<&'static str> {
        report.findings.iter().map(|f| f.code).collect()
    }

    pub(crate) fn human(report: &Report) -> String {
        render(report, Format::Human, false)
    }

    /// Asserts that `rule` fires on the unsafe case and stays silent on each safe one; returns
    /// the unsafe case as people see it, for a snapshot.
    pub(crate) fn rule(rule: Rule, unsafe_case: &[M<'_>], safe: &[&[M<'_>]]) -> String {
        let report = check(unsafe_case);
        assert!(
            codes(&report).contains(&rule.code),
            "{} should fire:\n{}",
            rule.code,
            human(&report)
        );
        for case in safe {
            let report = check(case);
            assert!(
                !codes(&report).contains(&rule.code),
                "{} should stay silent:\n{}",
                rule.code,
                human(&report)
            );
        }
        human(&report)
    }

    /// An insta snapshot of what a rule reports, named after the rule.
    macro_rules! snapshot {
        ($rule:expr, $human:expr) => {
            insta::with_settings!({ omit_expression => true }, {
                insta::assert_snapshot!(($rule).name, $human);
            })
        };
    }
    pub(crate) use snapshot;
}

#[cfg(test)]
mod tests {
    use super::testing::{M, TIMEOUT, check, codes, human};
    use super::{
        column_type_rewrite, constraint_without_not_valid, lock_timeout_missing,
        unique_without_index,
    };

    #[test]
    fn inline_constraints_on_an_added_column_are_checked() {
        let report = check(&[M(
            "inline",
            &format!(
                "{TIMEOUT}ALTER TABLE accounts ADD COLUMN ref text UNIQUE;\nALTER TABLE accounts ADD COLUMN score int CHECK (score >= 0);\nALTER TABLE accounts ADD COLUMN parent bigint DEFAULT 0 REFERENCES accounts (id);\nALTER TABLE accounts ADD COLUMN referrer bigint REFERENCES accounts (id);\n"
            ),
            None,
        )]);
        let (unique, constraint) = (
            unique_without_index::RULE.code,
            constraint_without_not_valid::RULE.code,
        );
        assert_eq!(
            codes(&report),
            [unique, constraint, constraint],
            "{}",
            human(&report)
        );
    }

    /// Classes of statements seen misjudged on real repositories, each written here as the
    /// smallest migration that shows it: each must raise nothing.
    #[test]
    fn statements_that_do_nothing_or_touch_only_new_relations_raise_nothing() {
        let cases: &[(&str, &str)] = &[
            (
                "drop_absent",
                "DROP TABLE IF EXISTS never_created;\nDROP INDEX IF EXISTS never_built;\nALTER TABLE IF EXISTS gone ADD COLUMN x int NOT NULL;\n",
            ),
            (
                "create_present",
                "CREATE INDEX IF NOT EXISTS accounts_email_idx ON accounts (email);\nALTER TABLE accounts ADD COLUMN IF NOT EXISTS note text NOT NULL, DROP COLUMN IF EXISTS nothing;\n",
            ),
            (
                "from_a_query",
                "CREATE TABLE account_notes AS SELECT id, note FROM accounts;\nALTER TABLE account_notes ALTER COLUMN id SET NOT NULL, ADD PRIMARY KEY (id), ADD CONSTRAINT notes_fk FOREIGN KEY (id) REFERENCES account_notes (id);\nCREATE INDEX account_notes_note ON account_notes (note);\n",
            ),
            (
                "materialized",
                "CREATE MATERIALIZED VIEW account_totals AS SELECT id, amount FROM accounts;\nCREATE UNIQUE INDEX account_totals_id ON account_totals (id);\n",
            ),
            (
                "utc",
                "SET lock_timeout = '20ms';\nALTER TABLE accounts ADD COLUMN seen timestamp;\nCOMMIT;\nBEGIN;\nSET timezone = 'UTC';\nALTER TABLE accounts ALTER COLUMN seen TYPE timestamptz;\n",
            ),
            (
                "null_filter",
                "UPDATE accounts SET email = '' WHERE email IS NULL;\n",
            ),
            (
                "rebuilt",
                "DROP TABLE accounts;\nCREATE TABLE accounts AS SELECT 1::bigint AS id;\n",
            ),
            (
                "values_reset",
                "ALTER TABLE accounts DROP COLUMN note, ADD COLUMN note text;\n",
            ),
        ];
        for (name, up) in cases {
            let report = check(&[M(name, up, None)]);
            // The lock timeout is its own concern: every case but `utc` leaves it out.
            let found: Vec<&str> = codes(&report)
                .into_iter()
                .filter(|c| *c != lock_timeout_missing::RULE.code)
                .collect();
            assert_eq!(found, Vec::<&str>::new(), "{name}:\n{}", human(&report));
        }
    }

    #[test]
    fn an_alter_table_whose_actions_all_do_nothing_still_waits_for_its_lock() {
        let report = check(&[M(
            "present",
            "ALTER TABLE accounts ADD COLUMN IF NOT EXISTS note text NOT NULL;\n",
            None,
        )]);
        assert_eq!(
            codes(&report),
            [lock_timeout_missing::RULE.code],
            "{}",
            human(&report)
        );
    }

    #[test]
    fn without_utc_the_same_type_change_rewrites() {
        let report = check(&[M(
            "local_zone",
            &format!(
                "{TIMEOUT}ALTER TABLE accounts ADD COLUMN seen timestamp;\nCOMMIT;\nBEGIN;\nSET timezone = 'Europe/Paris';\nALTER TABLE accounts ALTER COLUMN seen TYPE timestamptz;\n"
            ),
            None,
        )]);
        assert!(
            codes(&report).contains(&column_type_rewrite::RULE.code),
            "{}",
            human(&report)
        );
    }

    #[test]
    fn a_table_keyed_to_itself_names_the_tables_it_really_locks() {
        let report = check(&[M(
            "tree",
            "CREATE TABLE replies (id bigint PRIMARY KEY, parent bigint REFERENCES replies (id), account bigint REFERENCES accounts (id));\n",
            None,
        )]);
        let message = &report.findings[0].message;
        assert!(
            message.contains("locks accounts") && !message.contains("locks replies"),
            "{message}"
        );
    }
}
