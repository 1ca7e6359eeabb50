//! Families A and D: the head snapshot against the base (the release that is live). A: each
//! published API version stays compatible, by direction. D: the live code survives the head's
//! new pre-deploy migrations, and released migrations stay as they were.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::api::{ApiSchema, Direction, Property};
use crate::consistency::diesel_type;
use crate::finding::{self as f, Finding};
use crate::migrations::Migration;
use crate::models::{Model, Role};
use crate::schema::Schema;
use crate::schema_rs::SchemaRs;
use crate::source::Span;

/// What the checker reads of one tree.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub migrations: Vec<Migration>,
    /// The schema after each migration.
    pub replayed: Vec<Schema>,
    pub schema_rs: Option<SchemaRs>,
    pub models: Vec<Model>,
    pub api: BTreeMap<String, ApiSchema>,
    /// Paths as findings show them: relative to the workspace root.
    pub migrations_dir: PathBuf,
}

impl Snapshot {
    pub fn schema(&self) -> Schema {
        self.replayed.last().cloned().unwrap_or_default()
    }
}

/// Every A and D finding.
pub fn check(base: &Snapshot, head: &Snapshot) -> Vec<Finding> {
    let mut out = api_rules(base, head);
    out.extend(migration_rules(base, head));
    out.extend(deploy_rules(base, head));
    out
}

fn describe(p: &Property) -> String {
    let mut text = p.types.join("|");
    if let Some(format) = &p.format {
        text.push_str(&format!(" ({format})"));
    }
    text
}

fn api_rules(base: &Snapshot, head: &Snapshot) -> Vec<Finding> {
    let mut out = Vec::new();
    let head_versions: BTreeSet<&str> = head.api.values().map(|s| s.version.as_str()).collect();
    let mut removed_versions = BTreeSet::new();
    for (key, old) in &base.api {
        let Some(new) = head.api.get(key) else {
            if !head_versions.contains(old.version.as_str()) {
                if removed_versions.insert(old.version.clone()) {
                    out.push(Finding::new(
                        f::API_VERSION_REMOVED,
                        Span::line(&old.file, 1),
                        format!("API version {} is published in the base and gone in the head: its clients break", old.version),
                        "keep serving a published version until its clients have moved; retire it in a release of its own",
                    ));
                }
            } else {
                out.push(Finding::new(
                    f::API_PUBLISHED_SCHEMA_EDITED,
                    Span::line(&old.file, 1),
                    format!(
                        "{} {} was published in {} and is gone from it",
                        old.name,
                        direction(old.direction),
                        old.version
                    ),
                    "published versions do not change: put the change in a new version",
                ));
            }
            continue;
        };
        if old.value == new.value {
            continue;
        }
        let before = out.len();
        let (old_props, new_props) = (&old.properties, &new.properties);
        let at = |name: &str| Span::line(&new.file, new.line_of(name));
        let what = |name: &str| {
            format!(
                "{}.{name} ({} {})",
                new.name,
                new.version,
                direction(new.direction)
            )
        };
        match new.direction {
            Direction::Request => {
                for (name, p) in new_props.iter().filter(|(_, p)| p.required) {
                    if !old_props.get(name).is_some_and(|o| o.required) {
                        out.push(Finding::new(f::API_REQUEST_FIELD_REQUIRED, at(name), format!("{} is required now: requests of existing clients, which do not send it, are rejected", what(name)), "make it optional in this version (with a default on the server); require it only in a new version"));
                    }
                    let _ = p;
                }
                for (name, o) in old_props {
                    let Some(n) = new_props.get(name) else {
                        continue;
                    };
                    if o.nullable && !n.nullable {
                        out.push(Finding::new(
                            f::API_TYPE_CHANGED,
                            at(name),
                            format!("{} no longer accepts null", what(name)),
                            "requests may only become more permissive: keep accepting null",
                        ));
                    }
                    type_and_enum(&mut out, o, n, at(name), &what(name), true);
                }
            }
            Direction::Response => {
                for (name, o) in old_props {
                    let Some(n) = new_props.get(name) else {
                        out.push(Finding::new(
                            f::API_RESPONSE_FIELD_REMOVED,
                            Span::line(&new.file, 1),
                            format!(
                                "{} is gone from the response: clients that read it break",
                                what(name)
                            ),
                            "keep the field in this version; drop it only in a new version",
                        ));
                        continue;
                    };
                    if o.required && !n.required {
                        out.push(Finding::new(
                            f::API_RESPONSE_FIELD_OPTIONAL,
                            at(name),
                            format!(
                                "{} may now be absent: clients that read it unconditionally break",
                                what(name)
                            ),
                            "keep it required in this version",
                        ));
                    }
                    if !o.nullable && n.nullable {
                        out.push(Finding::new(f::API_RESPONSE_NULLABLE, at(name), format!("{} may now be null: clients that expect a value break", what(name)), "keep it non-null in this version; expose the nullable form in a new version"));
                    }
                    type_and_enum(&mut out, o, n, at(name), &what(name), false);
                }
            }
        }
        if out.len() == before {
            out.push(Finding::new(
                f::API_PUBLISHED_SCHEMA_EDITED,
                Span::line(&new.file, 1),
                format!(
                    "{} ({}) is published and its schema changed in a way plumb judges compatible",
                    new.key,
                    direction(new.direction)
                ),
                "review it: a published version's schema is what its clients were built against",
            ));
        }
    }
    out
}

fn type_and_enum(
    out: &mut Vec<Finding>,
    o: &Property,
    n: &Property,
    at: Span,
    what: &str,
    request: bool,
) {
    if o.types != n.types || o.format != n.format {
        out.push(Finding::new(
            f::API_TYPE_CHANGED,
            at.clone(),
            format!("{what} changed type: {} to {}", describe(o), describe(n)),
            "keep the type in this version; a new type belongs in a new field or version",
        ));
        return;
    }
    if let (Some(old), Some(new)) = (&o.values, &n.values) {
        let lost: Vec<&String> = old.iter().filter(|v| !new.contains(v)).collect();
        let gained: Vec<&String> = new.iter().filter(|v| !old.contains(v)).collect();
        let (breaking, verb) = if request {
            (lost, "no longer accepts")
        } else {
            (gained, "may now send")
        };
        if !breaking.is_empty() {
            let list: Vec<String> = breaking.iter().map(|v| v.to_string()).collect();
            out.push(Finding::new(
                f::API_ENUM_CHANGED,
                at,
                format!("{what} {verb} {}", list.join(", ")),
                if request {
                    "requests may only accept more values"
                } else {
                    "responses may only send fewer values: clients reject what they do not know"
                },
            ));
        }
    }
}

fn direction(direction: Direction) -> &'static str {
    match direction {
        Direction::Request => "request",
        Direction::Response => "response",
    }
}

fn migration_rules(base: &Snapshot, head: &Snapshot) -> Vec<Finding> {
    let mut out = Vec::new();
    let head_by_name: BTreeMap<&str, &Migration> = head
        .migrations
        .iter()
        .map(|m| (m.name.as_str(), m))
        .collect();
    let dir = &head.migrations_dir;
    for old in &base.migrations {
        match head_by_name.get(old.name.as_str()) {
            None => out.push(Finding::new(f::MIGRATION_EDITED, Span::line(dir.join(&old.name).join("up.sql"), 1), format!("{} is released (in the base) and gone from the head: databases that ran it disagree with the history", old.name), "never remove a released migration; undo it with a new one")),
            Some(new) if new.up != old.up || new.down != old.down || new.run_in_transaction != old.run_in_transaction => {
                let file = if new.up != old.up { "up.sql" } else if new.down != old.down { "down.sql" } else { "metadata.toml" };
                let line = if new.up != old.up { first_difference(&old.up, &new.up) } else { 1 };
                out.push(Finding::new(f::MIGRATION_EDITED, Span::line(dir.join(&new.name).join(file), line), format!("{} is released (in the base) and its {file} was edited: databases that already ran it never see the edit", new.name), "leave released migrations as they are; make the change in a new migration"));
            }
            Some(_) => {}
        }
    }
    let released: BTreeSet<&str> = base.migrations.iter().map(|m| m.name.as_str()).collect();
    if let Some(last) = base.migrations.iter().map(|m| m.version.as_str()).max() {
        for new in head
            .migrations
            .iter()
            .filter(|m| !released.contains(m.name.as_str()))
        {
            if new.version.as_str() < last {
                out.push(Finding::new(f::MIGRATION_OUT_OF_ORDER, Span::line(dir.join(&new.name).join("up.sql"), 1), format!("{} is new but ordered before the released {last}: databases that ran the release apply it out of order, fresh ones in order", new.name), "give it a version after every released migration (regenerate it with `diesel migration generate`)"));
            }
        }
    }
    out
}

fn first_difference(old: &str, new: &str) -> usize {
    old.lines()
        .zip(new.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| old.lines().count().min(new.lines().count()))
        + 1
}

/// The line of `up.sql` that first names `word` (1 if none).
fn line_naming(text: &str, word: &str) -> usize {
    text.lines()
        .position(|l| l.contains(word))
        .map_or(1, |i| i + 1)
}

fn deploy_rules(base: &Snapshot, head: &Snapshot) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(base_rs) = &base.schema_rs else {
        return out;
    };
    // What the live code knows: every column of its schema.rs, by SQL name.
    let used: BTreeSet<(String, String)> = base_rs
        .tables
        .iter()
        .flat_map(|t| t.columns.iter().map(|c| (t.name.clone(), c.name.clone())))
        .collect();
    let base_schema = base.schema();
    let released: BTreeSet<&str> = base.migrations.iter().map(|m| m.name.as_str()).collect();
    // The columns each live insertable provides, per table.
    let mut inserted: BTreeMap<String, Vec<BTreeSet<String>>> = BTreeMap::new();
    for model in base
        .models
        .iter()
        .filter(|m| m.roles.contains(&Role::Inserts))
    {
        if let Some(table) = base_rs.tables.iter().find(|t| t.rust_name == model.table) {
            let columns = model
                .fields
                .iter()
                .filter_map(|f| table.columns.iter().find(|c| c.rust_name == f.column))
                .map(|c| c.name.clone())
                .collect();
            inserted
                .entry(table.name.clone())
                .or_default()
                .push(columns);
        }
    }
    let dir = &head.migrations_dir;
    for (index, migration) in head.migrations.iter().enumerate() {
        if released.contains(migration.name.as_str()) || migration.post_deploy {
            continue;
        }
        let before = if index == 0 {
            Schema::default()
        } else {
            head.replayed[index - 1].clone()
        };
        let after = &head.replayed[index];
        let file = dir.join(&migration.name).join("up.sql");
        for (table, column) in &used {
            let Some(old) = before.tables.get(table).and_then(|t| t.column(column)) else {
                continue;
            };
            if base_schema
                .tables
                .get(table)
                .and_then(|t| t.column(column))
                .is_none()
            {
                continue;
            }
            match after.tables.get(table).and_then(|t| t.column(column)) {
                None => {
                    let renamed = after.tables.get(table).and_then(|t| {
                        t.columns.iter().find(|c| {
                            c.sql_type == old.sql_type
                                && before
                                    .tables
                                    .get(table)
                                    .and_then(|b| b.column(&c.name))
                                    .is_none()
                        })
                    });
                    let table_gone = !after.tables.contains_key(table);
                    match renamed {
                        Some(new) if !table_gone => out.push(Finding::new(f::DEPLOY_RENAME_USED_COLUMN, Span::line(&file, line_naming(&migration.up, column)), format!("{} renames `{table}.{column}` to `{}` before the new code rolls out: the live release still reads and writes `{column}`", migration.name, new.name), "add the new column, write both, backfill, move reads, and drop the old one in a post-deploy migration of a later release")),
                        _ => out.push(Finding::new(f::DEPLOY_DROP_USED_COLUMN, Span::line(&file, line_naming(&migration.up, if table_gone { table } else { column })), format!("{} drops `{table}.{column}` in a pre-deploy migration, while the live release still uses it: its queries fail until the new code is everywhere", migration.name), "drop it in a post-deploy migration (`-- plumb: post-deploy`), once no live code names it")),
                    }
                }
                Some(new) => {
                    let (old_type, _) = diesel_type(old);
                    let (new_type, _) = diesel_type(new);
                    let strip = |t: &str| {
                        t.trim_start_matches("Nullable<")
                            .trim_end_matches('>')
                            .to_owned()
                    };
                    if strip(&old_type) != strip(&new_type) {
                        out.push(Finding::new(f::DEPLOY_TYPE_CHANGE_USED_COLUMN, Span::line(&file, line_naming(&migration.up, column)), format!("{} changes `{table}.{column}` from {} to {} while the live release reads and writes it as {}", migration.name, strip(&old_type), strip(&new_type), strip(&old_type)), "add a column of the new type, write both, backfill, switch reads, then drop the old one"));
                    }
                }
            }
        }
        for (table, t) in &after.tables {
            let Some(inserts) = inserted.get(table) else {
                continue;
            };
            for column in t
                .columns
                .iter()
                .filter(|c| !c.nullable && c.default.is_none())
            {
                let was_required = before
                    .tables
                    .get(table)
                    .and_then(|b| b.column(&column.name))
                    .is_some_and(|c| !c.nullable && c.default.is_none());
                if was_required
                    || inserts
                        .iter()
                        .all(|provided| provided.contains(&column.name))
                {
                    continue;
                }
                out.push(Finding::new(f::DEPLOY_NEW_REQUIRED_COLUMN, Span::line(&file, line_naming(&migration.up, &column.name)), format!("{} makes `{table}.{}` NOT NULL without a default, and the live release inserts into `{table}` without it: those inserts fail until the new code is everywhere", migration.name, column.name), "add it nullable or with a default; enforce NOT NULL in a later release, once every live insert writes it"));
            }
        }
    }
    out
}

/// The review artifact: what changed between base and head, layer by layer.
pub fn changes(base: &Snapshot, head: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    let (old, new) = (base.schema(), head.schema());
    for (name, table) in &new.tables {
        match old.tables.get(name) {
            None => out.push(format!(
                "db: table {name} added ({} columns)",
                table.columns.len()
            )),
            Some(before) => {
                for column in &table.columns {
                    let (ty, _) = diesel_type(column);
                    match before.column(&column.name) {
                        None => out.push(format!(
                            "db: {name}.{} added: {ty}{}",
                            column.name,
                            if column.default.is_some() {
                                " with a default"
                            } else {
                                ""
                            }
                        )),
                        Some(was) => {
                            let (was_ty, _) = diesel_type(was);
                            if was_ty != ty {
                                out.push(format!(
                                    "db: {name}.{} changed: {was_ty} to {ty}",
                                    column.name
                                ));
                            }
                        }
                    }
                }
                for column in before
                    .columns
                    .iter()
                    .filter(|c| table.column(&c.name).is_none())
                {
                    out.push(format!("db: {name}.{} removed", column.name));
                }
            }
        }
    }
    for name in old.tables.keys().filter(|t| !new.tables.contains_key(*t)) {
        out.push(format!("db: table {name} removed"));
    }
    let fields = |models: &[Model]| -> BTreeMap<String, BTreeSet<String>> {
        models
            .iter()
            .map(|m| {
                (
                    m.name.clone(),
                    m.fields
                        .iter()
                        .map(|f| format!("{}: {}", f.column, f.rust_type))
                        .collect(),
                )
            })
            .collect()
    };
    let (old_models, new_models) = (fields(&base.models), fields(&head.models));
    for (name, now) in &new_models {
        let before = old_models.get(name).cloned().unwrap_or_default();
        for field in now.difference(&before) {
            out.push(format!("model: {name}.{field} added"));
        }
        for field in before.difference(now) {
            out.push(format!("model: {name}.{field} removed"));
        }
    }
    for (key, schema) in &head.api {
        let new_props = &schema.properties;
        let label = format!(
            "api {} {} {}",
            schema.version,
            schema.name,
            direction(schema.direction)
        );
        match base.api.get(key) {
            None => {
                if !base.api.values().any(|s| s.version == schema.version)
                    && !out
                        .iter()
                        .any(|l| l.starts_with(&format!("api {}:", schema.version)))
                {
                    out.push(format!("api {}: new version", schema.version));
                }
            }
            Some(old) if old.value != schema.value => {
                let old_props = &old.properties;
                for (name, p) in new_props {
                    match old_props.get(name) {
                        None => out.push(format!(
                            "{label}: {name} added ({}{})",
                            describe(p),
                            if p.required {
                                ", required"
                            } else {
                                ", optional"
                            }
                        )),
                        Some(o) if o != p => out.push(format!("{label}: {name} changed")),
                        Some(_) => {}
                    }
                }
                for name in old_props.keys().filter(|n| !new_props.contains_key(*n)) {
                    out.push(format!("{label}: {name} removed"));
                }
            }
            Some(_) => {}
        }
    }
    out
}
