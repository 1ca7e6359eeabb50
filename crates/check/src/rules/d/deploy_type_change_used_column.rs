//! A pre-deploy migration changes the type of a column the live release uses, to one diesel
//! maps differently: the live code reads and writes it as the old type.

use super::Step;
use crate::finding::{Finding, Rule, Severity};
use crate::rules::s::diesel_type;
use crate::sql::schema::Column;
use crate::sql::source::Span;

pub const RULE: Rule = Rule {
    code: "D003",
    name: "deploy-type-change-used-column",
    severity: Severity::Error,
    summary: "pre-deploy migration changes the type of a column the live release uses",
};

pub(super) fn check(
    step: &Step<'_>,
    table: &str,
    column: &str,
    old: &Column,
    new: &Column,
    out: &mut Vec<Finding>,
) {
    let (old_type, _) = diesel_type(old);
    let (new_type, _) = diesel_type(new);
    let strip = |t: &str| {
        t.trim_start_matches("Nullable<")
            .trim_end_matches('>')
            .to_owned()
    };
    if strip(&old_type) != strip(&new_type) {
        out.push(Finding::new(
            RULE,
            Span::line(&step.file, step.line_naming(table, column)),
            format!(
                "{} changes `{table}.{column}` from {} to {} while the live release reads and writes it as {}",
                step.migration.name,
                strip(&old_type),
                strip(&new_type),
                strip(&old_type)
            ),
            "add a column of the new type, write both, backfill, switch reads, then drop the old one",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::d::testing::{NEXT, at, check, codes, live, next, shown};

    #[test]
    fn a_pre_deploy_type_change_of_a_used_column_fires_at_the_alter() {
        let head = next(
            "SET lock_timeout = '20ms';\nALTER TABLE accounts ALTER COLUMN id TYPE integer;\n",
        );
        let found = check(&live(), &head);
        assert_eq!(codes(&found), [RULE.code]);
        assert_eq!(at(&found[0]), format!("migrations/{NEXT}/up.sql:2"));
        insta::assert_snapshot!(shown(&found[0]));
    }

    /// A longer varchar is still a `Varchar` to diesel: the live code reads and writes it as
    /// before.
    #[test]
    fn a_type_change_diesel_maps_the_same_is_silent() {
        let head = next(
            "SET lock_timeout = '20ms';\nALTER TABLE accounts ALTER COLUMN email TYPE varchar(200);\n",
        );
        assert_eq!(check(&live(), &head), []);
    }
}
