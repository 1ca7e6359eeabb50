//! VALIDATE CONSTRAINT is meant to scan under SHARE UPDATE EXCLUSIVE, beside live traffic; in a
//! transaction that already holds ACCESS EXCLUSIVE on the table (the ADD's, or an earlier ALTER's)
//! the scan blocks reads and writes.

use super::{Context, Hit, added_not_valid, altered_existing};
use crate::finding::{Rule, Severity};
use crate::sql::parse::{Action, Statement};
use crate::sql::schema::Schema;

pub const RULE: Rule = Rule {
    code: "M008",
    name: "validate-same-transaction",
    severity: Severity::Error,
    summary: "constraint validated in the transaction that added it",
};

pub(super) fn check(cx: &Context, _schema: &Schema, statement: &Statement, hits: &mut Vec<Hit>) {
    let Some((table, actions)) = altered_existing(cx, statement) else {
        return;
    };
    if !cx.in_transaction() {
        return;
    }
    for (index, (range, action)) in actions.iter().enumerate() {
        let Action::ValidateConstraint { name } = action else {
            continue;
        };
        // Added by an earlier statement of the transaction, or an earlier action of this one.
        let added_here = cx.not_valid_in_transaction.contains(name)
            || actions[..index]
                .iter()
                .any(|(_, a)| added_not_valid(cx, table, a).as_ref() == Some(name));
        let why = if added_here {
            "the transaction that added it, which still holds the ADD's ACCESS EXCLUSIVE lock"
        } else if cx.locked_in_transaction.contains(table) {
            "a transaction that already holds ACCESS EXCLUSIVE on the table (an earlier ALTER TABLE)"
        } else {
            continue;
        };
        hits.push(Hit::new(
            RULE,
            *range,
            format!("`{name}` is validated in {why}: the full scan blocks reads and writes"),
            "VALIDATE in a later migration, so it runs in its own transaction under SHARE UPDATE EXCLUSIVE",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::m::testing::{M, TIMEOUT, check, codes, human, rule, snapshot};

    #[test]
    fn validate_same_transaction() {
        let add = format!(
            "{TIMEOUT}ALTER TABLE accounts ADD CONSTRAINT positive CHECK (amount > 0) NOT VALID;\n"
        );
        let human = rule(
            RULE,
            &[M(
                "both",
                &format!("{add}ALTER TABLE accounts VALIDATE CONSTRAINT positive;\n"),
                None,
            )],
            &[&[
                M("add", &add, None),
                M(
                    "validate",
                    &format!("{TIMEOUT}ALTER TABLE accounts VALIDATE CONSTRAINT positive;\n"),
                    None,
                ),
            ]],
        );
        snapshot!(RULE, human);
    }

    #[test]
    fn validate_after_another_alter_in_the_same_transaction_is_caught() {
        let report = check(&[
            M(
                "add",
                &format!(
                    "{TIMEOUT}ALTER TABLE accounts ADD CONSTRAINT positive CHECK (amount > 0) NOT VALID;\n"
                ),
                None,
            ),
            M(
                "both",
                &format!(
                    "{TIMEOUT}ALTER TABLE accounts ADD COLUMN nick text;\nALTER TABLE accounts VALIDATE CONSTRAINT positive;\n"
                ),
                None,
            ),
        ]);
        assert_eq!(codes(&report), [RULE.code], "{}", human(&report));
    }
}
