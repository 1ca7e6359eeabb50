//! Schema-aware feature flags. A flag gates the code path that reads and writes a column; it
//! refuses to turn on while the column does not exist, and to turn off while the column is
//! NOT NULL without a default (code that skips it could no longer insert).

use std::collections::HashMap;
use std::sync::RwLock;

use diesel::prelude::*;
use plumb_model::schema_state::{ColumnPresence, column_presence};
use plumb_model::{DisplayNameColumn, FeatureFlag};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// A flag and the column it gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlagSpec {
    pub name: &'static str,
    pub table: &'static str,
    pub column: &'static str,
}

pub const DISPLAY_NAME: FlagSpec = FlagSpec {
    name: "accounts.display_name",
    table: "accounts",
    column: "display_name",
};

/// Every flag the service knows.
pub const FLAGS: &[FlagSpec] = &[DISPLAY_NAME];

/// This instance's view of the flags: read from the database at start and every refresh
/// interval, and at once when changed through this instance. A flag absent from the database
/// is off.
#[derive(Debug, Default)]
pub struct Flags {
    values: RwLock<HashMap<String, bool>>,
}

impl Flags {
    pub fn is_on(&self, flag: FlagSpec) -> bool {
        let values = self
            .values
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        values.get(flag.name).copied().unwrap_or(false)
    }

    pub fn display_name(&self) -> DisplayNameColumn {
        if self.is_on(DISPLAY_NAME) {
            DisplayNameColumn::Use
        } else {
            DisplayNameColumn::Skip
        }
    }

    fn store(&self, flags: impl IntoIterator<Item = (String, bool)>) {
        let mut values = self
            .values
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        values.extend(flags);
    }

    /// Re-reads every flag. A database without the flags table (older than its migration) has
    /// every flag off.
    pub fn refresh(&self, conn: &mut PgConnection) -> Result<(), diesel::result::Error> {
        let mut fresh: HashMap<String, bool> =
            FLAGS.iter().map(|f| (f.name.to_owned(), false)).collect();
        // Asked of the catalog rather than read from an error, whose text is translated.
        if plumb_model::schema_state::table_exists(conn, "feature_flags")? {
            fresh.extend(
                FeatureFlag::all(conn)?
                    .into_iter()
                    .map(|f| (f.name, f.enabled)),
            );
        }
        self.store(fresh);
        Ok(())
    }

    /// Changes a flag in the database if the schema allows it. The caller makes this
    /// instance's view follow ([`Flags::remember`]) once the change is committed.
    pub fn set(
        &self,
        conn: &mut PgConnection,
        name: &str,
        enabled: bool,
    ) -> Result<FlagView, ApiError> {
        let spec = FLAGS
            .iter()
            .copied()
            .find(|f| f.name == name)
            .ok_or_else(|| {
                let known: Vec<&str> = FLAGS.iter().map(|f| f.name).collect();
                ApiError::not_found(format!(
                    "no flag named {name:?}; the flags are {}",
                    known.join(", ")
                ))
            })?;
        // The check and the change are one transaction that holds the table: a migration
        // that would change the column (ALTER TABLE takes ACCESS EXCLUSIVE) waits until the
        // flag is stored, or is seen by the check if it came first.
        let (flag, presence) = conn.transaction(|conn| {
            diesel::sql_query(format!(
                "LOCK TABLE public.{} IN ACCESS SHARE MODE",
                plumb_pg::sql::quote_ident(spec.table)
            ))
            .execute(conn)?;
            let presence = column_presence(conn, spec.table, spec.column)?;
            let column = format!("{}.{}", spec.table, spec.column);
            match (enabled, presence) {
                (true, ColumnPresence::Missing) => {
                    return Err(schema_not_ready(format!(
                        "cannot turn on {name}: the column {column} does not exist yet; run the migration that adds it first"
                    )));
                }
                (false, ColumnPresence::NotNull { has_default: false }) => {
                    return Err(schema_not_ready(format!(
                        "cannot turn off {name}: the column {column} is NOT NULL without a default, so code that does not write it could not insert"
                    )));
                }
                _ => {}
            }
            let flag = FeatureFlag::set(conn, name, enabled)?;
            Ok::<_, ApiError>((flag, presence))
        })?;
        Ok(FlagView::new(spec, flag.enabled, presence))
    }

    /// This instance's view of a flag whose change was committed.
    pub fn remember(&self, view: &FlagView) {
        self.store([(view.name.clone(), view.enabled)]);
    }

    /// Every known flag as this instance sees it, with the state of its column.
    pub fn views(&self, conn: &mut PgConnection) -> Result<Vec<FlagView>, ApiError> {
        FLAGS
            .iter()
            .map(|spec| {
                let presence = column_presence(conn, spec.table, spec.column)?;
                Ok(FlagView::new(*spec, self.is_on(*spec), presence))
            })
            .collect()
    }
}

fn schema_not_ready(message: String) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::CONFLICT,
        "schema_not_ready",
        message,
    )
}

/// What the admin endpoints show of a flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagView {
    pub name: String,
    pub enabled: bool,
    /// The column it gates, as `table.column`.
    pub column: String,
    /// `missing`, `nullable` or `not_null`.
    pub column_state: String,
}

impl FlagView {
    fn new(spec: FlagSpec, enabled: bool, presence: ColumnPresence) -> Self {
        let column_state = match presence {
            ColumnPresence::Missing => "missing",
            ColumnPresence::Nullable => "nullable",
            ColumnPresence::NotNull { .. } => "not_null",
        };
        Self {
            name: spec.name.to_owned(),
            enabled,
            column: format!("{}.{}", spec.table, spec.column),
            column_state: column_state.to_owned(),
        }
    }
}
