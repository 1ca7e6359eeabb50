//! A statement (or ALTER TABLE action) the replay does not model: the rules after it do not see
//! its effect, so people should look at it. A note, not an error.

use super::{Context, Hit};
use crate::finding::{Rule, Severity};
use crate::sql::parse::{Action, Range, Statement, StatementKind};
use crate::sql::schema::Schema;

pub const RULE: Rule = Rule {
    code: "M900",
    name: "unmodelled-statement",
    severity: Severity::Note,
    summary: "statement the replay does not model",
};

const HELP: &str = "checks after this statement do not see its effect; if it changes a table the rules care about, review it by hand";

pub(super) fn check(_cx: &Context, _schema: &Schema, statement: &Statement, hits: &mut Vec<Hit>) {
    for (range, what) in unmodelled(statement) {
        hits.push(Hit::new(
            RULE,
            range,
            format!("the replay does not model {what}"),
            HELP,
        ));
    }
}

/// The parts of a statement the replay does not model (the statement, or ALTER TABLE actions):
/// where, and what. The report's first line counts them.
pub(crate) fn unmodelled(statement: &Statement) -> Vec<(Range, &str)> {
    match &statement.kind {
        StatementKind::Unmodelled { what } => vec![(statement.range, what.as_str())],
        StatementKind::AlterTable { actions, .. } => actions
            .iter()
            .filter_map(|(range, action)| match action {
                Action::Unmodelled { what } => Some((*range, what.as_str())),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::m::testing::{M, TIMEOUT, rule, snapshot};

    #[test]
    fn unmodelled_statement() {
        let human = rule(
            RULE,
            &[M(
                "archive",
                &format!(
                    "{TIMEOUT}CREATE DOMAIN positive AS int CHECK (VALUE > 0);\nALTER TABLE accounts ALTER COLUMN note SET STATISTICS 100;\n"
                ),
                None,
            )],
            &[
                &[M(
                    "archive",
                    "CREATE TABLE archive (id bigint PRIMARY KEY, email text);\n",
                    None,
                )],
                &[M(
                    "allowed",
                    "-- plumb: allow unmodelled-statement a domain no table uses yet\nCREATE DOMAIN positive AS int CHECK (VALUE > 0);\n",
                    None,
                )],
            ],
        );
        snapshot!(RULE, human);
    }
}
