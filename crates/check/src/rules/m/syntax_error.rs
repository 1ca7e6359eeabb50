//! SQL that does not parse: PostgreSQL would reject the statement. The parser recovers, so the
//! rest of the file is still checked.

use super::Hit;
use crate::finding::{Rule, Severity};
use crate::sql::parse::Range;

pub const RULE: Rule = Rule {
    code: "M017",
    name: "syntax-error",
    severity: Severity::Error,
    summary: "SQL that does not parse",
};

pub(super) fn check(text: &str, errors: &[(Range, String)]) -> Vec<Hit> {
    first_error_per_statement(text, errors)
        .into_iter()
        .map(|(range, message)| {
            Hit::new(
                RULE,
                *range,
                format!("PostgreSQL would reject this statement: {message}"),
                "fix the SQL; the other statements of the file are still checked",
            )
        })
        .collect()
}

/// The parser reports every token it cannot place; people need the first of each statement.
fn first_error_per_statement<'e>(
    text: &str,
    errors: &'e [(Range, String)],
) -> Vec<&'e (Range, String)> {
    let mut kept: Vec<&(Range, String)> = Vec::new();
    // The text from the last kept error up to `scanned` holds no `;`: each byte is searched
    // once, however many errors one statement has.
    let mut scanned = 0;
    let mut new_statement = true;
    for error in errors {
        let start = error.0.0;
        if !new_statement && start > scanned {
            new_statement = text
                .as_bytes()
                .get(scanned..start)
                .is_some_and(|between| between.contains(&b';'));
            scanned = start;
        }
        if new_statement {
            kept.push(error);
            new_statement = false;
            scanned = start;
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::m::index_not_concurrent;
    use crate::rules::m::testing::{M, TIMEOUT, check, codes, rule, snapshot};

    #[test]
    fn a_byte_order_mark_or_a_vertical_tab_outside_a_string_is_what_postgresql_rejects() {
        let count = |sql: &str| {
            codes(&check(&[M("chars", sql, None)]))
                .iter()
                .filter(|c| **c == RULE.code)
                .count()
        };
        assert_eq!(count(&format!("\u{feff}{TIMEOUT}SELECT 1;\n")), 1);
        assert_eq!(count(&format!("{TIMEOUT}SELECT\u{b}1;\n")), 1);
        // Inside a string, a comment or a quoted name PostgreSQL takes them as they are.
        assert_eq!(
            count(&format!(
                "{TIMEOUT}SELECT 'a\u{b}\u{feff}b' AS \"x\u{feff}\"; -- \u{b}\nSELECT $$\u{b}$$;\n"
            )),
            0
        );
    }

    #[test]
    fn validation_judges_the_newest_migrations_and_the_grammar_every_one() {
        use crate::coverage::RECENT;
        // A column without a type has the grammar's shape; squawk's validation refuses it, as
        // PostgreSQL does. A missing keyword breaks the grammar itself.
        let unvalidated = format!("{TIMEOUT}CREATE TABLE shapes (a);\n");
        let ungrammatical = format!("{TIMEOUT}ALTER TABLE accounts ADD COLUM b text;\n");
        let fine = format!("{TIMEOUT}SELECT 1;\n");
        let mut history = vec![
            M("old_unvalidated", &unvalidated, None),
            M("old_ungrammatical", &ungrammatical, None),
        ];
        for _ in 0..RECENT {
            history.push(M("fine", &fine, None));
        }
        history.push(M("new_unvalidated", &unvalidated, None));
        let report = check(&history);
        let flagged: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| f.code == RULE.code)
            .map(|f| f.span.file.to_str().unwrap())
            .collect();
        assert_eq!(flagged.len(), 2, "{flagged:?}");
        assert!(flagged[0].contains("old_ungrammatical"), "{flagged:?}");
        assert!(flagged[1].contains("new_unvalidated"), "{flagged:?}");
    }

    #[test]
    fn syntax_error_is_one_finding_and_the_rest_is_still_checked() {
        let human = rule(
            RULE,
            &[M(
                "typo",
                &format!(
                    "{TIMEOUT}ALTER TABLE accounts ADD COLUM a text;\nCREATE INDEX accounts_note_idx ON accounts (note);\n"
                ),
                None,
            )],
            &[&[M(
                "fine",
                &format!("{TIMEOUT}ALTER TABLE accounts ADD COLUMN a text;\n"),
                None,
            )]],
        );
        snapshot!(RULE, human);
        let report = check(&[M(
            "typo",
            &format!(
                "{TIMEOUT}ALTER TABLE accounts ADD COLUM a text;\nCREATE INDEX accounts_note_idx ON accounts (note);\n"
            ),
            None,
        )]);
        assert_eq!(codes(&report), [RULE.code, index_not_concurrent::RULE.code]);
    }
}
