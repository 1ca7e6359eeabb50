//! A column dropped before the new release rolls out: the release that is live still uses it
//! until the rollout ends. Post-deploy migrations run after it.

use super::{Context, Hit, altered_existing};
use crate::finding::{Rule, Severity};
use crate::sql::parse::{Action, Statement};
use crate::sql::schema::Schema;

pub const RULE: Rule = Rule {
    code: "M013",
    name: "drop-column-pre-deploy",
    severity: Severity::Error,
    summary: "column dropped in a pre-deploy migration",
};

pub(super) fn check(cx: &Context, _schema: &Schema, statement: &Statement, hits: &mut Vec<Hit>) {
    if cx.migration.post_deploy {
        return;
    }
    let Some((table, actions)) = altered_existing(cx, statement) else {
        return;
    };
    for (range, action) in actions {
        // Dropped and added again (a reset of its values): the live release still finds it.
        if let Action::DropColumn { column, .. } = action
            && !cx.column_remade(table, column)
        {
            hits.push(Hit::new(
                RULE,
                *range,
                format!(
                    "`{table}.{column}` is dropped before the new release rolls out, while the release that is live still uses it"
                ),
                "drop it in a migration marked `-- plumb: post-deploy` once no code of the release being deployed references it",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::m::testing::{M, TIMEOUT, rule, snapshot};

    #[test]
    fn drop_column_pre_deploy() {
        let human = rule(
            RULE,
            &[M(
                "drop",
                &format!("{TIMEOUT}ALTER TABLE accounts DROP COLUMN note;\n"),
                None,
            )],
            &[&[M(
                "drop",
                &format!(
                    "-- plumb: post-deploy\n{TIMEOUT}ALTER TABLE accounts DROP COLUMN note;\n"
                ),
                None,
            )]],
        );
        snapshot!(RULE, human);
    }
}
