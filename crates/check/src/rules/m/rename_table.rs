//! Renaming a table in use breaks the release that is live, which still queries the old name.

use super::{Context, Hit, altered_existing};
use crate::finding::{Rule, Severity};
use crate::sql::parse::{Action, Statement};
use crate::sql::schema::Schema;

pub const RULE: Rule = Rule {
    code: "M012",
    name: "rename-table",
    severity: Severity::Error,
    summary: "existing table renamed",
};

pub(super) fn check(cx: &Context, _schema: &Schema, statement: &Statement, hits: &mut Vec<Hit>) {
    let Some((table, actions)) = altered_existing(cx, statement) else {
        return;
    };
    for (range, action) in actions {
        if let Action::RenameTable { to } = action {
            hits.push(Hit::new(
                RULE,
                *range,
                format!(
                    "renaming `{table}` to `{to}` breaks the release that is live, which still queries `{table}`"
                ),
                "create the new table (or a view with the new name), move code over, then drop the old name post-deploy",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::m::testing::{M, TIMEOUT, rule, snapshot};

    #[test]
    fn rename_table() {
        let human = rule(
            RULE,
            &[M(
                "rename",
                &format!("{TIMEOUT}ALTER TABLE accounts RENAME TO customers;\n"),
                None,
            )],
            &[&[M(
                "new_table",
                "CREATE TABLE t (a int);\nALTER TABLE t RENAME TO u;\n",
                None,
            )]],
        );
        snapshot!(RULE, human);
    }
}
