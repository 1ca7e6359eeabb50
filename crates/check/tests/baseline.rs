//! `plumb baseline` and what `plumb check` does with it: only new findings remain.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

mod common;

use std::fs;

use common::{M, codes, human, workspace};
use plumb_check::{Base, baseline, check_everything, check_workspace_against};

#[test]
fn a_baseline_hides_known_findings_even_moved_and_reports_what_no_longer_matches() {
    let dir = workspace(&[M(
        "old",
        "CREATE INDEX accounts_note_idx ON accounts (note);\nUPDATE accounts SET note = 'x';\n",
        None,
    )]);
    let root = dir.path();
    let all = check_everything(root, None, &Base::None).unwrap();
    assert!(!all.findings.is_empty());
    assert_eq!(baseline::write(root, &all).unwrap(), all.findings.len());

    let report = check_workspace_against(root, None, &Base::None).unwrap();
    assert_eq!(codes(&report), Vec::<&str>::new(), "{}", human(&report));
    assert_eq!(report.baseline.as_ref().unwrap().hidden, all.findings.len());

    // Lines move, a statement is fixed, a new one is written.
    let up = root.join("migrations/2026-02-01-000000-0000_old/up.sql");
    fs::write(
        &up,
        "-- the history, kept\n\nCREATE INDEX accounts_note_idx ON accounts (note);\nCREATE INDEX accounts_amount_idx ON accounts (amount);\n",
    )
    .unwrap();
    let report = check_workspace_against(root, None, &Base::None).unwrap();
    let new: Vec<usize> = report.findings.iter().map(|f| f.span.line).collect();
    assert!(
        new.iter().all(|line| *line == 4) && !new.is_empty(),
        "only the new statement's findings remain:\n{}",
        human(&report)
    );
    let outcome = report.baseline.as_ref().unwrap();
    assert!(
        outcome.stale.iter().any(|e| e.code == "M014"),
        "the fixed UPDATE's entry is stale: {:?}",
        outcome.stale
    );
    assert!(human(&report).contains("match no finding any more"));
}

#[test]
fn a_baseline_that_is_not_json_is_an_input_error_naming_it() {
    let dir = workspace(&[]);
    fs::write(dir.path().join(baseline::FILE), "{ not json").unwrap();
    let error = check_workspace_against(dir.path(), None, &Base::None)
        .unwrap_err()
        .to_string();
    assert!(error.contains(baseline::FILE), "{error}");
}
