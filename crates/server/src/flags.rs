//! This instance's view of the feature flags, and their admin operations. A flag gates the
//! code that reads and writes a column (see `plumb_model::gate`); the model's guard keeps it in
//! step with the column.

use std::sync::RwLock;

use diesel::prelude::*;
use plumb_model::schema_state::{ColumnPresence, column_presence};
use plumb_model::{FeatureFlag, FlagError, GATED_COLUMNS, Gates};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// This instance's view of the flags: read from the database at start and every refresh
/// interval, and at once when changed through this instance. A flag absent from the database
/// is off.
#[derive(Debug, Default)]
pub struct Flags {
    gates: RwLock<Gates>,
}

impl Flags {
    /// The gates a request works with: one snapshot, so that its statements agree.
    pub fn gates(&self) -> Gates {
        self.gates
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn store(&self, gates: Gates) {
        *self
            .gates
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = gates;
    }

    /// Re-reads every flag.
    pub fn refresh(&self, conn: &mut PgConnection) -> Result<(), diesel::result::Error> {
        self.store(Gates::load(conn)?);
        Ok(())
    }

    /// Changes a flag in the database through the model's guard. The caller makes this
    /// instance's view follow ([`Flags::remember`]) once the change is committed.
    pub fn set(
        &self,
        conn: &mut PgConnection,
        name: &str,
        enabled: bool,
    ) -> Result<FlagView, ApiError> {
        match FeatureFlag::set(conn, name, enabled) {
            Ok((flag, presence)) => Ok(FlagView::new(flag.name, flag.enabled, presence)),
            Err(error @ FlagError::Unknown { .. }) => Err(ApiError::not_found(error.to_string())),
            Err(error @ (FlagError::ColumnMissing { .. } | FlagError::ColumnRequired { .. })) => {
                Err(schema_not_ready(error.to_string()))
            }
            Err(FlagError::Database(error)) => Err(error.into()),
        }
    }

    /// This instance's view of a flag whose change was committed.
    pub fn remember(&self, view: &FlagView) {
        if let Some(gated) = plumb_model::gate::gated_column(&view.name) {
            // Read and changed under one lock: a refresh in between is not overwritten.
            let mut gates = self
                .gates
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            *gates = std::mem::take(&mut *gates).with(gated, view.enabled);
        }
    }

    /// Every known flag as this instance sees it, with the state of its column.
    pub fn views(&self, conn: &mut PgConnection) -> Result<Vec<FlagView>, ApiError> {
        let gates = self.gates();
        GATED_COLUMNS
            .iter()
            .map(|gated| {
                let presence = column_presence(conn, gated.table, gated.column)?;
                Ok(FlagView::new(gated.flag(), gates.uses(*gated), presence))
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
    /// A flag's view: its name is its column's, `table.column`.
    fn new(name: String, enabled: bool, presence: ColumnPresence) -> Self {
        let column_state = match presence {
            ColumnPresence::Missing => "missing",
            ColumnPresence::Nullable => "nullable",
            ColumnPresence::NotNull { .. } => "not_null",
        };
        Self {
            column: name.clone(),
            name,
            enabled,
            column_state: column_state.to_owned(),
        }
    }
}
