//! Adopting plumb on a repository with history: `plumb baseline` records today's findings in a
//! committed file, and `plumb check` then hides the findings it records, so that only new ones
//! fail. An entry is a fingerprint of what a finding is about (its rule, its file, the text it
//! points at, its message without numbers), not of where: a finding that moves with its line
//! stays known. Entries that no longer match anything are reported, so the file shrinks as the
//! history is fixed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Report;
use crate::error::InputError;
use crate::finding::Finding;

/// The baseline, at the workspace root.
pub const FILE: &str = "plumb-baseline.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub fingerprint: String,
    pub code: String,
    pub file: PathBuf,
    /// Where it was when recorded: for people reading the file, not for matching.
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineFile {
    version: u32,
    entries: Vec<Entry>,
}

/// What the baseline did to a report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub hidden: usize,
    /// Entries no finding matched any more.
    pub stale: Vec<Entry>,
}

/// A finding's identity, stable when lines move: rule, file, the text of the lines it points
/// at and its message, both with runs of whitespace collapsed and digits dropped.
pub fn fingerprint(finding: &Finding, sources: &BTreeMap<PathBuf, std::sync::Arc<str>>) -> String {
    let squash = |text: &str| -> String {
        text.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .filter(|c| !c.is_ascii_digit())
            .collect()
    };
    let span = &finding.span;
    let lines = sources.get(&span.file).map_or(String::new(), |text| {
        text.lines()
            .skip(span.line.saturating_sub(1))
            .take(span.end_line.max(span.line) - span.line + 1)
            .collect::<Vec<_>>()
            .join("\n")
    });
    let mut hash = Sha256::new();
    for part in [
        finding.code,
        &span.file.to_string_lossy().replace('\\', "/"),
        &squash(&lines),
        &squash(&finding.message),
    ] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hex::encode(&hash.finalize()[..8])
}

fn entries(report: &Report) -> Vec<Entry> {
    let mut out: Vec<Entry> = report
        .findings
        .iter()
        .map(|f| Entry {
            fingerprint: fingerprint(f, &report.sources),
            code: f.code.to_owned(),
            file: f.span.file.clone(),
            line: f.span.line,
            message: f.message.clone(),
        })
        .collect();
    out.sort_by(|a, b| {
        (&a.file, a.line, &a.code, &a.fingerprint).cmp(&(&b.file, b.line, &b.code, &b.fingerprint))
    });
    out
}

/// Writes the report's findings as the baseline of `root`; returns how many.
pub fn write(root: &Path, report: &Report) -> Result<usize, InputError> {
    let path = root.join(FILE);
    let file = BaselineFile {
        version: 1,
        entries: entries(report),
    };
    let mut text = serde_json::to_string_pretty(&file).map_err(|e| InputError::Invalid {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    text.push('\n');
    std::fs::write(&path, text).map_err(|e| InputError::io(&path, e))?;
    Ok(file.entries.len())
}

/// Hides the findings `root`'s baseline records (each entry hides one finding), and says which
/// entries matched none. Without a baseline file, nothing changes.
pub fn apply(root: &Path, report: &mut Report) -> Result<Option<Outcome>, InputError> {
    let path = root.join(FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(InputError::io(&path, e)),
    };
    let file: BaselineFile = serde_json::from_str(&text).map_err(|e| InputError::Invalid {
        path: path.clone(),
        reason: format!(
            "line {}, column {}: {e}; regenerate it with `plumb baseline`",
            e.line(),
            e.column()
        ),
    })?;
    let mut unmatched: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
    for entry in &file.entries {
        unmatched.entry(&entry.fingerprint).or_default().push(entry);
    }
    let fingerprints: Vec<String> = report
        .findings
        .iter()
        .map(|f| fingerprint(f, &report.sources))
        .collect();
    let mut keep = Vec::with_capacity(report.findings.len());
    let mut hidden = 0;
    for (finding, print) in std::mem::take(&mut report.findings)
        .into_iter()
        .zip(&fingerprints)
    {
        match unmatched.get_mut(print.as_str()).and_then(Vec::pop) {
            Some(_) => hidden += 1,
            None => keep.push(finding),
        }
    }
    report.findings = keep;
    let stale = unmatched
        .into_values()
        .flatten()
        .cloned()
        .collect::<Vec<_>>();
    Ok(Some(Outcome { hidden, stale }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Finding;
    use crate::rules::m::index_not_concurrent::RULE;
    use crate::sql::source::Span;

    fn finding(line: usize) -> Finding {
        Finding::new(
            RULE,
            Span::line("m/up.sql", line),
            "CREATE INDEX on `t`".to_owned(),
            "",
        )
    }

    #[test]
    fn a_finding_keeps_its_fingerprint_when_its_line_moves() {
        let before = BTreeMap::from([(
            PathBuf::from("m/up.sql"),
            "CREATE INDEX i ON t (a);\n".into(),
        )]);
        let after = BTreeMap::from([(
            PathBuf::from("m/up.sql"),
            "-- a comment added above\n\nCREATE INDEX i  ON t (a);\n".into(),
        )]);
        assert_eq!(
            fingerprint(&finding(1), &before),
            fingerprint(&finding(3), &after)
        );
        let other = BTreeMap::from([(
            PathBuf::from("m/up.sql"),
            "CREATE INDEX j ON t (b);\n".into(),
        )]);
        assert_ne!(
            fingerprint(&finding(1), &before),
            fingerprint(&finding(1), &other)
        );
    }
}
