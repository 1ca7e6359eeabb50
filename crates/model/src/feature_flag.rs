//! Feature flags, stored in the database so that every instance of the service sees one switch.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::schema::feature_flags;

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

    /// Creates or changes a flag.
    pub fn set(conn: &mut PgConnection, name: &str, enabled: bool) -> QueryResult<FeatureFlag> {
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
}
