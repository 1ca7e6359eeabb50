//! Columns that code names only while a feature flag is on.
//!
//! A release that adds a column serves, for a while, beside a database that may not have it
//! yet (its migration not run, or reverted) and beside the release before it. So the code that
//! reads and writes the column is gated by a flag named `table.column`: while the flag is off,
//! no statement names the column. The flag's guard ([`FeatureFlag::set`]) keeps flag and
//! column in step: it refuses to turn a flag on while its column is missing, and off while the
//! column is NOT NULL without a default (code that skips it could no longer insert).
//!
//! To gate another column:
//! 1. declare it beside the model of its table, `pub const NICKNAME: GatedColumn =
//!    GatedColumn::new("accounts", "nickname");`, and list it in [`GATED_COLUMNS`];
//! 2. read it with [`Gates::read`] (the column when its gate is open, else `NULL`);
//! 3. change it with [`Gates::write`] in a changeset (left out while closed);
//! 4. name it in an insert only when [`Gates::uses`] it, and fill any value the database
//!    requires in the model (as [`crate::account::default_display_name`] does), not in callers.
//!
//! Once every release in service writes the column, the gate is removed with the flag.
//!
//! [`FeatureFlag::set`]: crate::FeatureFlag::set

use std::collections::BTreeSet;

use diesel::expression::BoxableExpression;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, SingleValue, SqlType};

use crate::feature_flag::FeatureFlag;

/// A column that code names only while its flag, `table.column`, is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GatedColumn {
    /// The table, as `schema.rs` names it (in the `public` schema).
    pub table: &'static str,
    /// The column.
    pub column: &'static str,
}

impl GatedColumn {
    /// The gate of `table.column`.
    pub const fn new(table: &'static str, column: &'static str) -> Self {
        Self { table, column }
    }

    /// The name of its flag: `table.column`.
    pub fn flag(&self) -> String {
        format!("{}.{}", self.table, self.column)
    }
}

/// Every gated column of this crate: the flags a service knows, and the only ones
/// [`FeatureFlag::set`] changes.
pub const GATED_COLUMNS: &[GatedColumn] = &[crate::account::DISPLAY_NAME];

/// The gated column whose flag is `name`, if any.
pub fn gated_column(name: &str) -> Option<GatedColumn> {
    GATED_COLUMNS.iter().copied().find(|g| g.flag() == name)
}

/// A gated column read as its nullable type, or `NULL` without naming it.
pub type GatedRead<T, ST> = Box<dyn BoxableExpression<T, Pg, SqlType = Nullable<ST>>>;

/// Which gated columns code may name: a snapshot of their flags, taken once per request so
/// that one request's statements agree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gates {
    open: BTreeSet<GatedColumn>,
}

impl Gates {
    /// Every gate closed: the code of the release before any gated column.
    pub fn closed() -> Self {
        Self::default()
    }

    /// Every gate of [`GATED_COLUMNS`] open.
    pub fn all_open() -> Self {
        Self {
            open: GATED_COLUMNS.iter().copied().collect(),
        }
    }

    /// These gates with `column`'s open or closed.
    pub fn with(mut self, column: GatedColumn, open: bool) -> Self {
        if open {
            self.open.insert(column);
        } else {
            self.open.remove(&column);
        }
        self
    }

    /// The gates as the flags stored in the database set them: a flag absent from the
    /// database, or a database without the flags table (older than its migration), is off.
    pub fn load(conn: &mut PgConnection) -> QueryResult<Gates> {
        // Asked of the catalog rather than read from an error, whose text is translated.
        if !crate::schema_state::table_exists(conn, "feature_flags")? {
            return Ok(Self::closed());
        }
        Ok(FeatureFlag::all(conn)?
            .into_iter()
            .filter_map(|flag| Some((gated_column(&flag.name)?, flag.enabled)))
            .fold(Self::closed(), |gates, (column, on)| gates.with(column, on)))
    }

    /// Whether code may name `column`.
    pub fn uses(&self, column: GatedColumn) -> bool {
        self.open.contains(&column)
    }

    /// `expression` (the column, as nullable) when the gate is open, else `NULL`, so that a
    /// select or `RETURNING` has one shape whichever the gate.
    pub fn read<T, ST, E>(&self, column: GatedColumn, expression: E) -> GatedRead<T, ST>
    where
        E: BoxableExpression<T, Pg, SqlType = Nullable<ST>> + 'static,
        ST: SqlType + SingleValue + Send + 'static,
        T: 'static,
    {
        if self.uses(column) {
            Box::new(expression)
        } else {
            Box::new(diesel::dsl::sql::<Nullable<ST>>("NULL"))
        }
    }

    /// `change` while the gate is open, else nothing: as part of a changeset, `None` leaves
    /// the column out of the `UPDATE`.
    pub fn write<V>(&self, column: GatedColumn, change: Option<V>) -> Option<V> {
        change.filter(|_| self.uses(column))
    }
}
