//! A column type change on a table in use rewrites the table under ACCESS EXCLUSIVE unless
//! PostgreSQL knows the old values stay valid as they are (a binary-coercible change).

use super::{Context, Hit, altered_existing};
use crate::finding::{Rule, Severity};
use crate::sql::parse::{Action, Statement};
use crate::sql::schema::{Schema, SqlType};

pub const RULE: Rule = Rule {
    code: "M010",
    name: "column-type-rewrite",
    severity: Severity::Error,
    summary: "column type change that rewrites an existing table",
};

pub(super) fn check(cx: &Context, schema: &Schema, statement: &Statement, hits: &mut Vec<Hit>) {
    let Some((table, actions)) = altered_existing(cx, statement) else {
        return;
    };
    let current = schema.tables.get(table);
    for (range, action) in actions {
        let Action::SetType {
            column,
            sql_type,
            using,
        } = action
        else {
            continue;
        };
        if *using {
            hits.push(Hit::new(
                RULE,
                *range,
                format!(
                    "changing `{table}.{column}` to {} with a USING expression computes a new value for every row: PostgreSQL rewrites `{table}` under ACCESS EXCLUSIVE",
                    describe(sql_type)
                ),
                "add a column of the new type, fill it with a batched backfill, switch reads, then drop the old column post-deploy",
            ));
            continue;
        }
        let old = current
            .and_then(|t| t.column(column))
            .map(|c| c.sql_type.clone());
        match old {
            Some(old) if old.changes_without_rewrite(sql_type) => {}
            // With the session's zone UTC, PostgreSQL 12+ knows the stored values mean the same
            // instants and changes only the catalog (the column's indexes are still rebuilt).
            Some(old)
                if cx.timezone_utc
                    && cx.pg_version >= 12
                    && old.name == "timestamp"
                    && sql_type.name == "timestamptz"
                    && old.array == sql_type.array => {}
            Some(old) => hits.push(Hit::new(
                RULE,
                *range,
                format!(
                    "changing `{table}.{column}` from {} to {} rewrites `{table}` and its indexes under ACCESS EXCLUSIVE, and the release that is live still uses the old type",
                    describe(&old),
                    describe(sql_type)
                ),
                "add a column of the new type, write both, backfill, switch reads, then drop the old column post-deploy",
            )),
            None => hits.push(Hit::new(
                RULE,
                *range,
                format!(
                    "the type of `{table}.{column}` before this change is not known to the replay: changing it to {} may rewrite `{table}` under ACCESS EXCLUSIVE",
                    describe(sql_type)
                ),
                "only binary-coercible changes (varchar(n) to varchar(m > n) or text, wider numeric) are safe; otherwise add a new column and backfill",
            )),
        }
    }
}

/// The type as the migration would write it: `numeric(12,4)`, `text[]`.
fn describe(sql_type: &SqlType) -> String {
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

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::m::testing::{M, TIMEOUT, check, codes, human, rule, snapshot};

    #[test]
    fn column_type_rewrite() {
        let human = rule(
            RULE,
            &[M(
                "types",
                &format!(
                    "{TIMEOUT}ALTER TABLE accounts ALTER COLUMN id TYPE int;\n\
                     ALTER TABLE accounts ALTER COLUMN email TYPE varchar(50);\n\
                     ALTER TABLE accounts ALTER COLUMN amount TYPE numeric(12, 4);\n"
                ),
                None,
            )],
            &[&[M(
                "widen",
                &format!(
                    "{TIMEOUT}ALTER TABLE accounts ALTER COLUMN email TYPE varchar(200);\n\
                     ALTER TABLE accounts ALTER COLUMN email TYPE text;\n\
                     ALTER TABLE accounts ALTER COLUMN amount TYPE numeric(14, 2);\n"
                ),
                None,
            )]],
        );
        snapshot!(RULE, human);
    }

    #[test]
    fn char_to_text_and_using_rewrite() {
        let report = check(&[M(
            "types",
            &format!(
                "{TIMEOUT}ALTER TABLE accounts ALTER COLUMN email TYPE text USING lower(email);\nALTER TABLE accounts ALTER COLUMN note TYPE text USING note::text;\n"
            ),
            None,
        )]);
        assert_eq!(
            codes(&report),
            [RULE.code],
            "only the USING that computes: {}",
            human(&report)
        );
        let report = check(&[
            M(
                "add",
                &format!("{TIMEOUT}ALTER TABLE accounts ADD COLUMN code char(8);\n"),
                None,
            ),
            M(
                "widen",
                &format!("{TIMEOUT}ALTER TABLE accounts ALTER COLUMN code TYPE text;\n"),
                None,
            ),
        ]);
        assert_eq!(codes(&report), [RULE.code], "{}", human(&report));
    }
}
