//! Family M: each statement of a migration against the schema replayed so far.

use std::collections::BTreeSet;

use crate::finding::{self as f, Rule};
use crate::migrations::Migration;
use crate::schema::{ConstraintKind, Schema};
use crate::syntax::{Action, DefaultKind, Range, Statement, StatementKind, TimeoutValue};

/// One rule firing: the rule, where (a byte range of up.sql), what breaks and the safe way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub rule: Rule,
    pub range: Range,
    pub message: String,
    pub help: String,
}

/// What a migration has done so far, beyond the schema.
#[derive(Debug)]
pub struct MigrationState<'m> {
    migration: &'m Migration,
    pg_version: u32,
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
    /// Constraints added NOT VALID in the transaction still open.
    not_valid_in_transaction: BTreeSet<String>,
    /// Tables whose ACCESS EXCLUSIVE lock the open transaction holds.
    locked_in_transaction: BTreeSet<String>,
}

impl<'m> MigrationState<'m> {
    pub fn new(migration: &'m Migration, statement_count: usize, pg_version: u32) -> Self {
        Self {
            migration,
            pg_version,
            created: BTreeSet::new(),
            statement_count,
            explicit_transaction: false,
            timeout_session: false,
            timeout_local: None,
            timeout_at_begin: None,
            not_valid_in_transaction: BTreeSet::new(),
            locked_in_transaction: BTreeSet::new(),
        }
    }

    fn is_existing(&self, table: &str) -> bool {
        !self.created.contains(table)
    }

    fn lock_timeout(&self) -> bool {
        self.timeout_local.unwrap_or(self.timeout_session)
    }

    /// Foreign keys of `constraints` that reference a table in use: declaring them takes SHARE
    /// ROW EXCLUSIVE on that table, which waits in its lock queue.
    fn referenced_existing<'c>(
        &self,
        constraints: impl Iterator<Item = &'c crate::syntax::ConstraintDef>,
    ) -> Option<String> {
        constraints
            .filter_map(|c| c.references.clone())
            .find(|t| self.is_existing(t))
    }

    /// diesel's transaction, an explicit BEGIN, or the implicit transaction PostgreSQL gives a
    /// query string of several statements.
    fn in_transaction(&self) -> bool {
        self.migration.run_in_transaction || self.explicit_transaction || self.statement_count > 1
    }

    /// Checks a statement against the schema before it, then records what it changes in the
    /// migration's state (the caller applies it to the schema).
    pub fn check(&mut self, schema: &Schema, statement: &Statement) -> Vec<Hit> {
        let mut hits = Vec::new();
        let range = statement.range;
        let mut hit = |rule: Rule, range: Range, message: String, help: &str| {
            hits.push(Hit {
                rule,
                range,
                message,
                help: help.to_owned(),
            });
        };
        match &statement.kind {
            StatementKind::AlterTable { table, actions } if self.is_existing(table) => {
                self.lock_timeout_check(&mut hit, range, &format!("ALTER TABLE {table}"));
                let only_validates = actions
                    .iter()
                    .all(|(_, a)| matches!(a, Action::ValidateConstraint { .. }));
                if !only_validates && self.in_transaction() {
                    self.locked_in_transaction.insert(table.clone());
                }
                for (action_range, action) in actions {
                    self.check_action(schema, table, actions, *action_range, action, &mut hit);
                }
            }
            StatementKind::AlterTable { table, actions } => {
                let new_keys = actions.iter().filter_map(|(_, a)| match a {
                    Action::AddConstraint(c) => Some(c),
                    _ => None,
                });
                if let Some(parent) = self.referenced_existing(new_keys) {
                    self.lock_timeout_check(
                        &mut hit,
                        range,
                        &format!("a foreign key from {table} to {parent}"),
                    );
                }
                if let Some((_, Action::RenameTable { to })) = actions
                    .iter()
                    .find(|(_, a)| matches!(a, Action::RenameTable { .. }))
                {
                    self.created.remove(table);
                    self.created.insert(to.clone());
                }
                for (action_range, action) in actions {
                    if let Action::Unmodelled { what } = action {
                        hit(
                            f::UNMODELLED_STATEMENT,
                            *action_range,
                            format!("the replay does not model {what}"),
                            UNMODELLED_HELP,
                        );
                    }
                }
            }
            StatementKind::CreateTable {
                table,
                constraints,
                columns,
            } => {
                let keys = constraints
                    .iter()
                    .chain(columns.iter().flat_map(|c| c.constraints.iter()));
                if let Some(parent) = self.referenced_existing(keys) {
                    self.lock_timeout_check(
                        &mut hit,
                        range,
                        &format!("CREATE TABLE {table}, whose foreign key locks {parent},"),
                    );
                }
                self.created.insert(table.clone());
            }
            StatementKind::CreateIndex {
                table,
                concurrently,
                ..
            } => {
                if *concurrently {
                    self.concurrently_check(&mut hit, range, "CREATE INDEX CONCURRENTLY");
                } else if self.is_existing(table) {
                    hit(
                        f::INDEX_NOT_CONCURRENT,
                        range,
                        format!(
                            "CREATE INDEX on `{table}` holds a SHARE lock for the whole build: every write to the table waits"
                        ),
                        "use CREATE INDEX CONCURRENTLY, alone in a migration whose metadata.toml says run_in_transaction = false",
                    );
                    self.lock_timeout_check(&mut hit, range, &format!("CREATE INDEX on {table}"));
                }
            }
            StatementKind::DropIndex {
                names,
                concurrently,
            } => {
                if *concurrently {
                    self.concurrently_check(&mut hit, range, "DROP INDEX CONCURRENTLY");
                } else {
                    let of_existing = names.iter().any(|name| match schema.indexes.get(name) {
                        Some(index) => self.is_existing(&index.table),
                        // An index the replay never saw was made before the history it reads.
                        None => true,
                    });
                    if of_existing {
                        hit(
                            f::DROP_INDEX_NOT_CONCURRENT,
                            range,
                            format!(
                                "DROP INDEX {} takes ACCESS EXCLUSIVE on its table: reads and writes wait behind it",
                                names.join(", ")
                            ),
                            "use DROP INDEX CONCURRENTLY, alone in a migration whose metadata.toml says run_in_transaction = false",
                        );
                        self.lock_timeout_check(&mut hit, range, "DROP INDEX");
                    }
                }
            }
            StatementKind::DropTable { tables } => {
                if let Some(table) = tables.iter().find(|t| self.is_existing(t)) {
                    self.lock_timeout_check(&mut hit, range, &format!("DROP TABLE {table}"));
                    if !self.migration.post_deploy {
                        hit(
                            f::DROP_TABLE_PRE_DEPLOY,
                            range,
                            format!(
                                "`{table}` is dropped before the new release rolls out, while the release that is live still uses it"
                            ),
                            "drop it in a migration marked `-- plumb: post-deploy` once no code of the release being deployed references it",
                        );
                    }
                }
                for table in tables {
                    self.created.remove(table);
                }
            }
            StatementKind::Update { table } | StatementKind::Delete { table }
                if self.is_existing(table) =>
            {
                let verb = if matches!(statement.kind, StatementKind::Update { .. }) {
                    "UPDATE"
                } else {
                    "DELETE"
                };
                hit(
                    f::UNBATCHED_UPDATE,
                    range,
                    format!(
                        "{verb} of `{table}` in a migration touches every matching row in one transaction: row locks held until it commits, a long write under live traffic, no progress and no resume"
                    ),
                    "run it as a batched, resumable backfill (plumb backfill) outside the migration",
                );
            }
            StatementKind::SetLockTimeout { value, local } => {
                let positive = *value == TimeoutValue::Positive;
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
            StatementKind::Unmodelled { what } => {
                hit(
                    f::UNMODELLED_STATEMENT,
                    range,
                    format!("the replay does not model {what}"),
                    UNMODELLED_HELP,
                );
            }
            _ => {}
        }
        hits
    }

    fn lock_timeout_check(
        &self,
        hit: &mut impl FnMut(Rule, Range, String, &str),
        range: Range,
        what: &str,
    ) {
        if !self.lock_timeout() {
            hit(
                f::LOCK_TIMEOUT_MISSING,
                range,
                format!(
                    "{what} waits for its lock with no lock_timeout: queued behind one long query, it stops every later query on the table"
                ),
                "put SET lock_timeout = '2s' (or less) before it in the same file; the runner retries a timed-out migration",
            );
        }
    }

    fn concurrently_check(
        &self,
        hit: &mut impl FnMut(Rule, Range, String, &str),
        range: Range,
        what: &str,
    ) {
        let why = if self.migration.run_in_transaction {
            "diesel runs this migration in a transaction (its metadata.toml does not say run_in_transaction = false)".to_owned()
        } else if self.explicit_transaction {
            "it is inside BEGIN ... COMMIT".to_owned()
        } else if self.statement_count > 1 {
            format!(
                "this file holds {} statements, which diesel sends as one query string and PostgreSQL runs as one transaction",
                self.statement_count
            )
        } else {
            return;
        };
        hit(
            f::CONCURRENTLY_IN_TRANSACTION,
            range,
            format!("{what} cannot run inside a transaction block, and {why}: the migration fails"),
            "put the statement alone in its own migration, with run_in_transaction = false in that migration's metadata.toml",
        );
    }

    fn check_action(
        &mut self,
        schema: &Schema,
        table: &str,
        actions: &[(Range, Action)],
        range: Range,
        action: &Action,
        hit: &mut impl FnMut(Rule, Range, String, &str),
    ) {
        let current = schema.tables.get(table);
        match action {
            Action::AddColumn(column) => {
                for constraint in &column.constraints {
                    match constraint.kind {
                        ConstraintKind::Unique | ConstraintKind::PrimaryKey => hit(
                            f::UNIQUE_WITHOUT_INDEX,
                            range,
                            format!(
                                "`{table}.{}` is added with an inline UNIQUE or PRIMARY KEY: its index is built under ACCESS EXCLUSIVE",
                                column.name
                            ),
                            "add the column plain; CREATE UNIQUE INDEX CONCURRENTLY; then ADD CONSTRAINT ... UNIQUE USING INDEX",
                        ),
                        ConstraintKind::Check | ConstraintKind::ForeignKey => hit(
                            f::CONSTRAINT_WITHOUT_NOT_VALID,
                            range,
                            format!(
                                "`{table}.{}` is added with an inline {} constraint, which PostgreSQL checks against every row while holding its lock",
                                column.name,
                                if constraint.kind == ConstraintKind::Check {
                                    "CHECK"
                                } else {
                                    "REFERENCES"
                                }
                            ),
                            "add the column plain, then ADD CONSTRAINT ... NOT VALID, and VALIDATE it in a later migration",
                        ),
                        _ => {}
                    }
                }
                if let Some(what) = column.fills_rows {
                    hit(
                        f::ADD_COLUMN_REWRITE,
                        range,
                        format!(
                            "`{table}.{}` is {what}: PostgreSQL writes a value into every row, rewriting `{table}` and its indexes under ACCESS EXCLUSIVE",
                            column.name
                        ),
                        REWRITE_HELP,
                    );
                } else if let Some(DefaultKind::Volatile { function }) = &column.default {
                    hit(
                        f::ADD_COLUMN_REWRITE,
                        range,
                        format!(
                            "the default of `{table}.{}` calls {function}(), which is volatile (or not known to be stable): PostgreSQL rewrites `{table}` and its indexes under ACCESS EXCLUSIVE",
                            column.name
                        ),
                        REWRITE_HELP,
                    );
                } else if column.default.is_some() && self.pg_version < 11 {
                    hit(
                        f::ADD_COLUMN_REWRITE,
                        range,
                        format!(
                            "before PostgreSQL 11 any default rewrites the table: adding `{table}.{}` rewrites `{table}` under ACCESS EXCLUSIVE",
                            column.name
                        ),
                        REWRITE_HELP,
                    );
                } else if column.not_null && column.default.is_none() {
                    hit(
                        f::ADD_COLUMN_REQUIRED,
                        range,
                        format!(
                            "`{table}.{}` is NOT NULL without a default: the statement fails on a table with rows, and the release that is live inserts rows without it",
                            column.name
                        ),
                        "add it nullable (or with a constant DEFAULT); backfill; then enforce with CHECK (... IS NOT NULL) NOT VALID, VALIDATE and SET NOT NULL in later migrations",
                    );
                }
            }
            Action::SetNotNull { column } => {
                let dropped_here: Vec<&str> = actions
                    .iter()
                    .filter_map(|(_, a)| match a {
                        Action::DropConstraint { name } => Some(name.as_str()),
                        _ => None,
                    })
                    .collect();
                let proven = current.is_some_and(|t| {
                    t.constraints.iter().any(|c| {
                        c.validated
                            && c.proves_not_null.as_deref() == Some(column.as_str())
                            && !dropped_here.contains(&c.name.as_str())
                    })
                });
                if self.pg_version < 12 || !proven {
                    let message = if current.is_some_and(|t| {
                        t.constraints.iter().any(|c| {
                            c.validated && c.proves_not_null.as_deref() == Some(column.as_str())
                        })
                    }) {
                        format!(
                            "the CHECK that proves `{table}.{column}` is never NULL is dropped in this same ALTER TABLE, and PostgreSQL drops it first: SET NOT NULL scans the whole table under ACCESS EXCLUSIVE"
                        )
                    } else {
                        format!(
                            "SET NOT NULL on `{table}.{column}` scans the whole table under ACCESS EXCLUSIVE: reads and writes wait until it ends"
                        )
                    };
                    hit(
                        f::SET_NOT_NULL_SCAN,
                        range,
                        message,
                        "first ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID, VALIDATE it in a later migration, then SET NOT NULL (PostgreSQL 12+ skips the scan) and drop the check in a separate statement",
                    );
                }
            }
            Action::AddConstraint(constraint) => match constraint.kind {
                ConstraintKind::Check | ConstraintKind::ForeignKey | ConstraintKind::NotNull => {
                    let label = match constraint.kind {
                        ConstraintKind::Check => "CHECK",
                        ConstraintKind::ForeignKey => "FOREIGN KEY",
                        _ => "NOT NULL",
                    };
                    if constraint.kind == ConstraintKind::NotNull
                        && constraint.not_valid
                        && self.pg_version < 18
                    {
                        hit(
                            f::CONSTRAINT_WITHOUT_NOT_VALID,
                            range,
                            format!(
                                "NOT NULL ... NOT VALID needs PostgreSQL 18, and the target is {}: the migration fails",
                                self.pg_version
                            ),
                            "use CHECK (col IS NOT NULL) NOT VALID, or set pg-version to 18 if every server runs it",
                        );
                    } else if !constraint.not_valid {
                        hit(
                            f::CONSTRAINT_WITHOUT_NOT_VALID,
                            range,
                            format!(
                                "adding a {label} constraint to `{table}` checks every row while it holds a lock that blocks writes (ACCESS EXCLUSIVE for CHECK, SHARE ROW EXCLUSIVE for a FOREIGN KEY)"
                            ),
                            "add it NOT VALID (catalog only), then VALIDATE CONSTRAINT in a later migration: it scans without blocking writes",
                        );
                    } else {
                        self.not_valid_in_transaction
                            .insert(crate::replay::constraint_name(table, constraint));
                    }
                }
                ConstraintKind::Unique | ConstraintKind::PrimaryKey
                    if constraint.using_index.is_none() =>
                {
                    hit(
                        f::UNIQUE_WITHOUT_INDEX,
                        range,
                        format!(
                            "adding a UNIQUE or PRIMARY KEY constraint to `{table}` builds its index under ACCESS EXCLUSIVE: reads and writes wait for the whole build"
                        ),
                        "CREATE UNIQUE INDEX CONCURRENTLY first (own migration, run_in_transaction = false), then ADD CONSTRAINT ... UNIQUE USING INDEX",
                    );
                }
                _ => {}
            },
            Action::ValidateConstraint { name }
                if self.in_transaction()
                    && (self.not_valid_in_transaction.contains(name)
                        || self.locked_in_transaction.contains(table)) =>
            {
                let why = if self.not_valid_in_transaction.contains(name) {
                    "the transaction that added it, which still holds the ADD's ACCESS EXCLUSIVE lock"
                } else {
                    "a transaction that already holds ACCESS EXCLUSIVE on the table (an earlier ALTER TABLE)"
                };
                hit(
                    f::VALIDATE_SAME_TRANSACTION,
                    range,
                    format!(
                        "`{name}` is validated in {why}: the full scan blocks reads and writes"
                    ),
                    "VALIDATE in a later migration, so it runs in its own transaction under SHARE UPDATE EXCLUSIVE",
                );
            }
            Action::SetType {
                column,
                sql_type,
                using: true,
            } => hit(
                f::COLUMN_TYPE_REWRITE,
                range,
                format!(
                    "changing `{table}.{column}` to {} with a USING expression computes a new value for every row: PostgreSQL rewrites `{table}` under ACCESS EXCLUSIVE",
                    describe(sql_type)
                ),
                "add a column of the new type, fill it with a batched backfill, switch reads, then drop the old column post-deploy",
            ),
            Action::SetType {
                column,
                sql_type,
                using: false,
            } => {
                let old = current
                    .and_then(|t| t.column(column))
                    .map(|c| c.sql_type.clone());
                match old {
                    Some(old) if old.changes_without_rewrite(sql_type) => {}
                    Some(old) => hit(
                        f::COLUMN_TYPE_REWRITE,
                        range,
                        format!(
                            "changing `{table}.{column}` from {} to {} rewrites `{table}` and its indexes under ACCESS EXCLUSIVE, and the release that is live still uses the old type",
                            describe(&old),
                            describe(sql_type)
                        ),
                        "add a column of the new type, write both, backfill, switch reads, then drop the old column post-deploy",
                    ),
                    None => hit(
                        f::COLUMN_TYPE_REWRITE,
                        range,
                        format!(
                            "the type of `{table}.{column}` before this change is not known to the replay: changing it to {} may rewrite `{table}` under ACCESS EXCLUSIVE",
                            describe(sql_type)
                        ),
                        "only binary-coercible changes (varchar(n) to varchar(m > n) or text, wider numeric) are safe; otherwise add a new column and backfill",
                    ),
                }
            }
            Action::RenameColumn { from, to } => hit(
                f::RENAME_COLUMN,
                range,
                format!(
                    "renaming `{table}.{from}` to `{to}` breaks the release that is live, which still reads and writes `{from}`"
                ),
                &format!(
                    "add `{to}` as a new column, write both, backfill, switch reads, and drop `{from}` in a post-deploy migration"
                ),
            ),
            Action::RenameTable { to } => hit(
                f::RENAME_TABLE,
                range,
                format!(
                    "renaming `{table}` to `{to}` breaks the release that is live, which still queries `{table}`"
                ),
                "create the new table (or a view with the new name), move code over, then drop the old name post-deploy",
            ),
            Action::DropColumn { column } if !self.migration.post_deploy => hit(
                f::DROP_COLUMN_PRE_DEPLOY,
                range,
                format!(
                    "`{table}.{column}` is dropped before the new release rolls out, while the release that is live still uses it"
                ),
                "drop it in a migration marked `-- plumb: post-deploy` once no code of the release being deployed references it",
            ),
            Action::Unmodelled { what } => hit(
                f::UNMODELLED_STATEMENT,
                range,
                format!("the replay does not model {what}"),
                UNMODELLED_HELP,
            ),
            _ => {}
        }
    }
}

fn describe(sql_type: &crate::schema::SqlType) -> String {
    let mut text = sql_type.name.clone();
    if !sql_type.modifiers.is_empty() {
        let modifiers: Vec<String> = sql_type.modifiers.iter().map(i64::to_string).collect();
        text = format!("{text}({})", modifiers.join(","));
    }
    if sql_type.array {
        text.push_str("[]");
    }
    text
}

const REWRITE_HELP: &str = "add the column nullable or with a constant default, give new rows their value with ALTER COLUMN ... SET DEFAULT, and backfill old rows in batches";
const UNMODELLED_HELP: &str = "checks after this statement do not see its effect; if it changes a table the rules care about, review it by hand";
