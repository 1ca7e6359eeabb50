//! A pre-deploy migration makes a column nullable that the live release reads as NOT NULL: once
//! the new code writes NULL, the live release fails to load those rows.

use super::{Step, named};
use crate::finding::{Finding, Rule, Severity};
use crate::input::models::{Model, Role};
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "D007",
    name: "deploy-column-made-nullable",
    severity: Severity::Error,
    summary: "pre-deploy migration makes a column nullable that the live release reads as NOT NULL",
};

/// `column`: its SQL and Rust names; `readers`: the live structs of its table. The column was
/// NOT NULL before the step and is nullable after it; the live `schema.rs` declares it without
/// `Nullable`.
pub(super) fn check(
    step: &Step<'_>,
    table: &str,
    (column, rust_name): (&str, &str),
    readers: &[&Model],
    out: &mut Vec<Finding>,
) {
    let reading: Vec<String> = readers
        .iter()
        .filter(|m| m.roles.contains(&Role::Reads))
        .filter(|m| {
            m.fields
                .iter()
                .any(|f| f.column == rust_name && !f.optional)
        })
        .map(|m| named(m))
        .collect();
    let readers = if reading.is_empty() {
        String::new()
    } else {
        format!(" and {}", reading.join(", "))
    };
    out.push(Finding::new(
        RULE,
        Span::line(&step.file, step.line_naming(table, column)),
        format!(
            "{} makes `{table}.{column}` nullable in a pre-deploy migration, while the live release reads it as NOT NULL (its schema.rs{readers}): once the new code writes NULL, the live release fails to load those rows",
            step.migration.name
        ),
        "give the column a default instead, so that the new code's inserts never leave it NULL; drop NOT NULL in a post-deploy migration (`-- plumb: post-deploy`) once the release that reads it as `Option` is the only one serving",
    ));
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::d::testing::{
        NEXT, RELEASED, at, check, codes, live, next, shown, tree_with,
    };
    use crate::rules::s::testing::{MODELS, SCHEMA_RS, UP};

    /// The new release: email made nullable, and its schema.rs regenerated to say so.
    fn nullable_email(up: &str) -> crate::input::snapshot::Snapshot {
        let schema_rs = SCHEMA_RS.replace("email -> Varchar", "email -> Nullable<Varchar>");
        tree_with(&[(RELEASED, UP), (NEXT, up)], &schema_rs, MODELS)
    }

    #[test]
    fn a_column_the_live_release_reads_as_not_null_made_nullable_fires_at_the_change() {
        let head = nullable_email(
            "SET lock_timeout = '20ms';\nALTER TABLE accounts ALTER COLUMN email DROP NOT NULL;\n",
        );
        let found = check(&live(), &head);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), format!("migrations/{NEXT}/up.sql:2"));
        insta::assert_snapshot!(shown(&found[0]));
    }

    #[test]
    fn made_nullable_after_the_rollout_or_already_nullable_or_not_writable_as_null_is_silent() {
        // The new code's schema.rs still says NOT NULL: it cannot write NULL.
        let unchanged = next(
            "SET lock_timeout = '20ms';\nALTER TABLE accounts ALTER COLUMN email DROP NOT NULL;\n",
        );
        assert_eq!(check(&live(), &unchanged), []);
        let post = nullable_email(
            "-- plumb: post-deploy\nSET lock_timeout = '20ms';\nALTER TABLE accounts ALTER COLUMN email DROP NOT NULL;\n",
        );
        assert_eq!(check(&live(), &post), []);
        let already = next(
            "SET lock_timeout = '20ms';\nALTER TABLE accounts ALTER COLUMN note DROP NOT NULL;\n",
        );
        assert_eq!(check(&live(), &already), []);
    }
}
