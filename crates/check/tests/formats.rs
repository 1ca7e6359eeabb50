//! The output formats, and every rule's docs page.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

mod common;

use common::{M, check};
use plumb_check::report::{Format, render};
use serde_json::Value;

fn sample() -> plumb_check::Report {
    check(&[M(
        "index",
        "CREATE INDEX accounts_note_idx ON accounts (note);\n",
        None,
    )])
}

#[test]
fn json_has_findings_with_exactly_the_documented_keys_and_a_summary() {
    let value: Value = serde_json::from_str(&render(&sample(), Format::Json, false)).unwrap();
    let finding = value["findings"][0].as_object().unwrap();
    let mut keys: Vec<&str> = finding.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "code",
            "column",
            "end_column",
            "end_line",
            "file",
            "help",
            "line",
            "message",
            "name",
            "severity"
        ]
    );
    assert_eq!(finding["code"], "M004");
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["line"], 1);
    assert_eq!(value["summary"]["errors"], 2);
    assert_eq!(value["summary"]["migrations"], 2);
}

#[test]
fn github_annotations_and_sarif() {
    let report = sample();
    insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("format-github", render(&report, Format::Github, false));
    });
    let sarif: Value = serde_json::from_str(&render(&report, Format::Sarif, false)).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "M004");
    let index = result["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(
        sarif["runs"][0]["tool"]["driver"]["rules"][index]["id"],
        "M004"
    );
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        1
    );
}

#[test]
fn human_output_has_no_colour_unless_asked() {
    assert!(!render(&sample(), Format::Human, false).contains('\x1b'));
    assert!(render(&sample(), Format::Human, true).contains('\x1b'));
}

#[test]
fn every_rule_has_a_docs_page_and_an_index_entry() {
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules");
    let index = std::fs::read_to_string(docs.join("README.md")).unwrap();
    for rule in plumb_check::RULES {
        let page = std::fs::read_to_string(docs.join(format!("{}.md", rule.name)))
            .unwrap_or_else(|_| panic!("docs/rules/{}.md is missing", rule.name));
        assert!(
            page.starts_with(&format!("# {} `{}`", rule.code, rule.name)),
            "{}",
            rule.name
        );
        assert!(
            index.contains(&format!(
                "| {} | [{}]({}.md) |",
                rule.code, rule.name, rule.name
            )),
            "{}",
            rule.name
        );
    }
}
