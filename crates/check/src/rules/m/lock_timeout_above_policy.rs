//! A migration file that sets `lock_timeout` longer than the lock policy allows, or lifts it:
//! every query on the table can then queue behind one attempt for that long. What clients feel
//! is the queue, so the policy's bound holds for every file, whoever applies it.

use super::{Context, Hit};
use crate::finding::{Rule, Severity};
use crate::sql::parse::{Statement, StatementKind, TimeoutValue};
use crate::sql::schema::Schema;

pub const RULE: Rule = Rule {
    code: "M019",
    name: "lock-timeout-above-policy",
    severity: Severity::Error,
    summary: "lock_timeout set longer than the lock policy allows, or lifted",
};

pub(super) fn check(cx: &Context, _schema: &Schema, statement: &Statement, hits: &mut Vec<Hit>) {
    let policy = cx.lock.timeout_ms;
    let message = match &statement.kind {
        StatementKind::SetLockTimeout {
            value: TimeoutValue::Positive { ms: Some(ms) },
            ..
        } if *ms > policy => format!(
            "lock_timeout set to {ms} ms, beyond the lock policy's {policy} ms: while a statement waits for its lock that long, every later query on the table waits behind it"
        ),
        StatementKind::SetLockTimeout {
            value: TimeoutValue::Zero | TimeoutValue::Default,
            ..
        }
        | StatementKind::ResetLockTimeout => format!(
            "lock_timeout lifted (0 means none; DEFAULT and RESET go back to the server's setting, usually none), where the lock policy allows {policy} ms: a statement may then wait for its lock without bound, and every later query on the table waits behind it"
        ),
        _ => return,
    };
    let help = if cx.lock.applied_by.is_plumb() {
        format!(
            "remove it: plumb migrate sets the policy's lock_timeout ({policy} ms) on its connection, retries, and refuses a file that lifts it"
        )
    } else {
        format!(
            "set it to '{policy}ms' or less; the lock policy is [lock] timeout-ms in plumb.toml"
        )
    };
    hits.push(Hit::new(RULE, statement.range, message, help));
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::rules::m::testing::{M, rule, snapshot};

    #[test]
    fn lock_timeout_above_policy() {
        let human = rule(
            RULE,
            &[
                M(
                    "long",
                    "SET lock_timeout = '2s';\nALTER TABLE accounts ADD COLUMN a text;\n",
                    None,
                ),
                M(
                    "off",
                    "SET lock_timeout = 0;\nALTER TABLE accounts ADD COLUMN b text;\n",
                    None,
                ),
                M(
                    "reset",
                    "SET lock_timeout = '50ms';\nRESET lock_timeout;\n",
                    None,
                ),
                M("minutes", "SET LOCAL lock_timeout TO '1min';\n", None),
                M(
                    "set_config",
                    "SELECT pg_catalog.set_config('lock_timeout', '0', false);\nALTER TABLE accounts ADD COLUMN e text;\n",
                    None,
                ),
                M(
                    "set_config_null_after_a_short_one",
                    "SELECT set_config('lock_timeout', '10ms', false), set_config('lock_timeout', NULL, false);\n",
                    None,
                ),
            ],
            &[
                &[M(
                    "at_the_policy",
                    "SET lock_timeout = '20ms';\nALTER TABLE accounts ADD COLUMN a text;\n",
                    None,
                )],
                &[M(
                    "shorter",
                    "SET lock_timeout = 10;\nALTER TABLE accounts ADD COLUMN a text;\n",
                    None,
                )],
                &[M(
                    "set_config_within",
                    "BEGIN;\nSELECT set_config('lock_timeout', '15ms', true);\nALTER TABLE accounts ADD COLUMN a text;\nCOMMIT;\n",
                    None,
                )],
            ],
        );
        snapshot!(RULE, human);
    }

    #[test]
    fn the_policy_is_read_from_plumb_toml() {
        use crate::rules::m::testing::{codes, workspace};
        let dir = workspace(&[M(
            "long",
            "SET lock_timeout = '2s';\nALTER TABLE accounts ADD COLUMN a text;\n",
            None,
        )]);
        std::fs::write(dir.path().join("plumb.toml"), "[lock]\ntimeout-ms = 2000\n").unwrap();
        let report = crate::check_workspace(dir.path(), None).unwrap();
        assert!(!codes(&report).contains(&RULE.code), "{:?}", codes(&report));
        std::fs::write(dir.path().join("plumb.toml"), "[lock]\ntimeout-ms = 1999\n").unwrap();
        let report = crate::check_workspace(dir.path(), None).unwrap();
        assert!(codes(&report).contains(&RULE.code), "{:?}", codes(&report));
    }
}
