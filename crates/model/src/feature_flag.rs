//! Feature flags, stored in the database so that every instance of the service sees one switch.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::gate::{GATED_COLUMNS, GatedColumn, gated_column};
use crate::schema::feature_flags;
use crate::schema_state::{ColumnPresence, column_presence};

/// Why a flag was not changed.
#[derive(Debug, thiserror::Error)]
pub enum FlagError {
    /// No gated column has a flag of that name.
    #[error("no flag named {name:?}; the flags are {known}")]
    Unknown {
        /// The name asked for.
        name: String,
        /// Every flag there is, comma-separated.
        known: String,
    },
    /// Turning it on while its column does not exist: the code it gates would fail.
    #[error(
        "cannot turn on {flag}: the column {flag} does not exist yet; run the migration that adds it first"
    )]
    ColumnMissing {
        /// The flag, `table.column`.
        flag: String,
    },
    /// Turning it off while its column is NOT NULL without a default: inserts that skip it
    /// would fail.
    #[error(
        "cannot turn off {flag}: the column {flag} is NOT NULL without a default, so code that does not write it could not insert"
    )]
    ColumnRequired {
        /// The flag, `table.column`.
        flag: String,
    },
    /// The database failed.
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = feature_flags, check_for_backend(Pg))]
/// One row of `feature_flags`: a flag and whether it is on.
pub struct FeatureFlag {
    /// Its name, `table.column` of the column it gates.
    pub name: String,
    /// Whether the code path it gates runs.
    pub enabled: bool,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl FeatureFlag {
    /// Every stored flag, by name.
    pub fn all(conn: &mut PgConnection) -> QueryResult<Vec<FeatureFlag>> {
        feature_flags::table
            .order(feature_flags::name.asc())
            .select(FeatureFlag::as_select())
            .load(conn)
    }

    /// Turns the flag of a gated column on or off, if its column allows it (see
    /// [`crate::gate`]); gives the stored flag and the column as the check found it.
    ///
    /// The check and the change are one transaction that holds the table in ACCESS SHARE: a
    /// migration that would change the column (ALTER TABLE takes ACCESS EXCLUSIVE) waits until
    /// the flag is stored, or is seen by the check if it came first. The other direction, a
    /// column made NOT NULL while its flag is off, is `plumb not-null`'s to refuse: it reads
    /// the flag named after the column before it writes anything.
    pub fn set(
        conn: &mut PgConnection,
        name: &str,
        enabled: bool,
    ) -> Result<(FeatureFlag, ColumnPresence), FlagError> {
        let gated = gated_column(name).ok_or_else(|| FlagError::Unknown {
            name: name.to_owned(),
            known: GATED_COLUMNS
                .iter()
                .map(GatedColumn::flag)
                .collect::<Vec<_>>()
                .join(", "),
        })?;
        conn.transaction(|conn| {
            diesel::sql_query(format!(
                "LOCK TABLE public.{} IN ACCESS SHARE MODE",
                quote_ident(gated.table)?
            ))
            .execute(conn)?;
            let presence = column_presence(conn, gated.table, gated.column)?;
            let flag = gated.flag();
            match (enabled, presence) {
                (true, ColumnPresence::Missing) => return Err(FlagError::ColumnMissing { flag }),
                (false, ColumnPresence::NotNull { has_default: false }) => {
                    return Err(FlagError::ColumnRequired { flag });
                }
                _ => {}
            }
            Ok((store(conn, &flag, enabled)?, presence))
        })
    }
}

/// The flag's row, written whatever the schema: only [`FeatureFlag::set`] calls it, after its
/// check.
fn store(conn: &mut PgConnection, name: &str, enabled: bool) -> QueryResult<FeatureFlag> {
    diesel::insert_into(feature_flags::table)
        .values((
            feature_flags::name.eq(name),
            feature_flags::enabled.eq(enabled),
        ))
        .on_conflict(feature_flags::name)
        .do_update()
        .set((
            feature_flags::enabled.eq(excluded(feature_flags::enabled)),
            feature_flags::updated_at.eq(diesel::dsl::now),
        ))
        .returning(FeatureFlag::as_returning())
        .get_result(conn)
}

/// An identifier quoted as diesel quotes the ones it writes.
fn quote_ident(name: &str) -> QueryResult<String> {
    use diesel::query_builder::QueryBuilder;
    let mut builder = diesel::pg::PgQueryBuilder::default();
    builder.push_identifier(name)?;
    Ok(builder.finish())
}
