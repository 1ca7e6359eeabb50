//! A migration file the checker did not analyse: larger or more deeply nested than the limits
//! of `sql::limits`, or one the parser gave up on. Nothing in it was checked, so it is an error
//! until someone looks at it.

use super::Hit;
use crate::finding::{Rule, Severity};
use crate::sql::parse::Parsed;

pub const RULE: Rule = Rule {
    code: "M020",
    name: "not-analysed",
    severity: Severity::Error,
    summary: "migration file too large or too deeply nested to analyse",
};

pub(super) fn check(parsed: &Parsed) -> Option<Hit> {
    let (range, why) = parsed.not_analysed.as_ref()?;
    Some(Hit::new(
        RULE,
        *range,
        format!("not analysed: {why}; none of the rules checked this file"),
        "split the file, or load its data with COPY or a backfill; or review it by hand and set not-analysed = \"warning\" under [rules] in plumb.toml",
    ))
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::m::testing::{M, TIMEOUT, rule, snapshot};
    use crate::sql::limits::{MAX_DEPTH, MAX_RUN};

    #[test]
    fn not_analysed() {
        let nested = format!(
            "{TIMEOUT}ALTER TABLE accounts ADD COLUMN a text;\nSELECT {}1{};\n",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        let chain = format!("{TIMEOUT}SELECT 'a'{};\n", "||'a'".repeat(MAX_RUN / 2 + 1));
        let human = rule(
            RULE,
            &[M("nested", &nested, None), M("chain", &chain, None)],
            &[&[M(
                "within",
                &format!(
                    "{TIMEOUT}SELECT {}1{};\n",
                    "(".repeat(MAX_DEPTH),
                    ")".repeat(MAX_DEPTH)
                ),
                None,
            )]],
        );
        snapshot!(RULE, human);
    }
}
