//! Suppressions in Rust sources: `// plumb: allow <rule> <reason>` on the lines right above a
//! model struct or field (among its other comments and attributes). Like the SQL ones, each
//! needs a reason, and one that suppresses nothing is reported.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::finding::{self as f, Finding};
use crate::source::Span;

struct Allow {
    line: usize,
    rule: String,
    reason: String,
}

fn allows(text: &str) -> Vec<Allow> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let rest = line
                .trim()
                .strip_prefix("//")?
                .trim()
                .strip_prefix("plumb:")?;
            let rest = rest.trim().strip_prefix("allow")?;
            let mut words = rest.split_whitespace();
            let rule = words.next().unwrap_or_default().to_owned();
            Some(Allow {
                line: i + 1,
                rule,
                reason: words.collect::<Vec<_>>().join(" "),
            })
        })
        .collect()
}

/// Drops the findings a valid suppression covers; adds one for each invalid or unused
/// suppression in `sources` (Rust files by their path as findings show them).
pub fn apply(findings: Vec<Finding>, sources: &BTreeMap<PathBuf, String>) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut used: BTreeMap<(PathBuf, usize), bool> = BTreeMap::new();
    let parsed: BTreeMap<&PathBuf, (Vec<Allow>, Vec<&str>)> = sources
        .iter()
        .map(|(path, text)| (path, (allows(text), text.lines().collect())))
        .collect();
    for finding in findings {
        let covering = parsed.get(&finding.span.file).and_then(|(allows, lines)| {
            // The comment and attribute lines right above the finding's line.
            let mut line = finding.span.line.saturating_sub(1);
            while line >= 1 {
                let text = lines.get(line - 1).map(|l| l.trim()).unwrap_or_default();
                if !(text.starts_with("//") || text.starts_with("#[")) {
                    break;
                }
                if let Some(allow) = allows.iter().find(|a| {
                    a.line == line
                        && !a.reason.is_empty()
                        && f::rule(&a.rule).is_some_and(|r| r.code == finding.code)
                }) {
                    return Some(allow.line);
                }
                line -= 1;
            }
            None
        });
        match covering {
            Some(line) => {
                used.insert((finding.span.file.clone(), line), true);
            }
            None => out.push(finding),
        }
    }
    for (path, (allows, _)) in &parsed {
        for allow in allows {
            let span = Span::line((*path).clone(), allow.line);
            if f::rule(&allow.rule).is_none() {
                out.push(Finding::new(f::INVALID_SUPPRESSION, span, format!("`{}` is not a rule name or code", allow.rule), "write `// plumb: allow <rule-name-or-code> <reason>`; `plumb check --list-rules` lists the rules"));
            } else if allow.reason.is_empty() {
                out.push(Finding::new(f::INVALID_SUPPRESSION, span, format!("the suppression of `{}` gives no reason", allow.rule), "say why the code is right after the rule's name, so that reviewers can judge it"));
            } else if !used.contains_key(&((*path).clone(), allow.line)) {
                out.push(Finding::new(
                    f::UNUSED_SUPPRESSION,
                    span,
                    format!(
                        "`{}` does not fire on what follows this suppression",
                        allow.rule
                    ),
                    "remove the suppression",
                ));
            }
        }
    }
    out
}
