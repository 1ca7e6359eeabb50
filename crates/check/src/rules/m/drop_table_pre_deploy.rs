//! A table in use dropped before the new release rolls out: the release that is live still
//! queries it until the rollout ends. Post-deploy migrations run after it.

use super::{Context, Hit};
use crate::finding::{Rule, Severity};
use crate::sql::parse::{Statement, StatementKind};
use crate::sql::schema::Schema;

pub const RULE: Rule = Rule {
    code: "M018",
    name: "drop-table-pre-deploy",
    severity: Severity::Error,
    summary: "table dropped in a pre-deploy migration",
};

pub(super) fn check(cx: &Context, _schema: &Schema, statement: &Statement, hits: &mut Vec<Hit>) {
    if cx.migration.post_deploy {
        return;
    }
    let StatementKind::DropTable { tables, .. } = &statement.kind else {
        return;
    };
    // A table dropped and created again in the same transaction (a rebuilt cache) is still
    // there for the live release when the migration commits.
    if let Some(table) = tables
        .iter()
        .find(|t| cx.is_existing(t) && !cx.table_remade_later(t))
    {
        hits.push(Hit::new(
            RULE,
            statement.range,
            format!(
                "`{table}` is dropped before the new release rolls out, while the release that is live still uses it"
            ),
            "drop it in a migration marked `-- plumb: post-deploy` once no code of the release being deployed references it",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::m::testing::{M, TIMEOUT, check, codes, human, rule, snapshot};

    #[test]
    fn drop_table_pre_deploy() {
        let human = rule(
            RULE,
            &[M("drop", &format!("{TIMEOUT}DROP TABLE accounts;\n"), None)],
            &[&[M(
                "drop",
                &format!("-- plumb: post-deploy\n{TIMEOUT}DROP TABLE accounts;\n"),
                None,
            )]],
        );
        snapshot!(RULE, human);
    }

    #[test]
    fn dropping_a_table_in_use_before_deploy_is_caught() {
        let report = check(&[M("drop", &format!("{TIMEOUT}DROP TABLE accounts;\n"), None)]);
        assert_eq!(codes(&report), [RULE.code], "{}", human(&report));
        let post = check(&[M(
            "drop",
            &format!("-- plumb: post-deploy\n{TIMEOUT}DROP TABLE accounts;\n"),
            None,
        )]);
        assert!(codes(&post).is_empty(), "{}", human(&post));
    }
}
