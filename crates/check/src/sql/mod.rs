//! The SQL side: each `up.sql` parsed into statements, the schema model the statements are
//! replayed into, and positions in a file.

pub mod limits;
pub mod parse;
pub mod query;
pub mod replay;
pub mod schema;
pub mod source;

use crate::migrations::Migration;
use schema::Schema;

/// `schema` with `migrations` applied in order, as [`replay_each`] applies them.
pub fn replay_onto(mut schema: Schema, migrations: &[Migration]) -> Schema {
    for parsed in parse::parse_all(migrations) {
        for statement in &parsed.statements {
            replay::apply(&mut schema, &statement.kind);
        }
    }
    schema
}

/// The schema after each migration, as the static replay builds it (for comparison with what a
/// database reports).
pub fn replay_each(migrations: &[Migration]) -> Vec<Schema> {
    let mut schema = Schema::default();
    parse::parse_all(migrations)
        .into_iter()
        .map(|parsed| {
            for statement in &parsed.statements {
                replay::apply(&mut schema, &statement.kind);
            }
            schema.clone()
        })
        .collect()
}
