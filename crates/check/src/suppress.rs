//! Suppressions: a comment that names a rule and says why what it covers is safe.
//!
//! In SQL, `-- plumb: allow <rule> <reason>` right before a statement covers that statement (a
//! live rule's, family L, covers the whole script: what the live stage saw the script do). In
//! Rust, `// plumb: allow <rule> <reason>` among the comment and attribute lines right above a
//! model struct or field covers that item. Either way a suppression must name a rule and give a
//! reason, and one that suppresses nothing is reported, so that none outlives what it excused.
//!
//! The markers of the tools teams come from are honoured too, so that adopting plumb does not
//! mean rewriting them: diesel-guard's `-- safety-assured:start` ... `-- safety-assured:end`
//! blocks cover every statement inside, and squawk's `-- squawk-ignore <rules>` covers the
//! next statement for the plumb rules that check what the squawk rules check (and
//! `-- squawk-ignore-file` the whole file). What any suppression silenced is still counted in
//! the report, by origin, so that review sees it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::finding::{Finding, Rule, Severity, rule};
use crate::rules::m::Checked;
use crate::sql::parse::Range;
use crate::sql::source::{Source, Span};

pub const UNUSED_SUPPRESSION: Rule = Rule {
    code: "M901",
    name: "unused-suppression",
    severity: Severity::Warning,
    summary: "suppression that suppresses nothing",
};

pub const INVALID_SUPPRESSION: Rule = Rule {
    code: "M902",
    name: "invalid-suppression",
    severity: Severity::Error,
    summary: "suppression without a known rule or a reason",
};

/// A suppression comment: where it is, the rule it names (a name or a code, as written, or `*`
/// for every rule), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allow {
    pub range: Range,
    pub rule: String,
    pub reason: String,
    pub origin: Origin,
    /// The columns it covers (`accounts.email`), for a rule whose findings on a whole struct
    /// are each about one column: a suppression without them would also cover columns added
    /// later.
    pub columns: Vec<String>,
}

/// The rules whose findings on a whole struct are each about one of its table's columns.
const COLUMN_RULES: [Rule; 2] = [
    crate::rules::s::insert_missing_required_column::RULE,
    crate::rules::d::deploy_insert_before_relaxed::RULE,
];

/// A Rust or SQL name as a suppression writes one: letters, digits and `_`, not first a digit.
fn is_name(word: &str) -> bool {
    word.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && word.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// Whose marker a suppression is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    Plumb,
    /// diesel-guard's `safety-assured` block.
    DieselGuard,
    /// squawk's `squawk-ignore`.
    Squawk,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Plumb => "plumb: allow",
            Origin::DieselGuard => "diesel-guard safety-assured",
            Origin::Squawk => "squawk-ignore",
        }
    }
}

/// squawk's rules and the plumb rules that check the same thing.
const SQUAWK_RULES: &[(&str, &[&str])] = &[
    ("adding-field-with-default", &["add-column-rewrite"]),
    (
        "adding-foreign-key-constraint",
        &["constraint-without-not-valid"],
    ),
    (
        "adding-not-nullable-field",
        &["set-not-null-scan", "add-column-required"],
    ),
    ("adding-required-field", &["add-column-required"]),
    (
        "adding-serial-primary-key-field",
        &["add-column-rewrite", "unique-without-index"],
    ),
    (
        "ban-concurrent-index-creation-in-transaction",
        &["concurrently-in-transaction"],
    ),
    ("ban-drop-column", &["drop-column-pre-deploy"]),
    ("ban-drop-table", &["drop-table-pre-deploy"]),
    ("changing-column-type", &["column-type-rewrite"]),
    (
        "constraint-missing-not-valid",
        &["constraint-without-not-valid", "validate-same-transaction"],
    ),
    ("disallowed-unique-constraint", &["unique-without-index"]),
    ("renaming-column", &["rename-column"]),
    ("renaming-table", &["rename-table"]),
    (
        "require-concurrent-index-creation",
        &["index-not-concurrent"],
    ),
    (
        "require-concurrent-index-deletion",
        &["drop-index-not-concurrent"],
    ),
    ("require-timeout-settings", &["lock-timeout-missing"]),
];

/// What a SQL comment says about suppressions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SqlMarker {
    /// Suppressions of the statement after it.
    Next(Vec<Allow>),
    /// Suppressions of every statement of the file.
    File(Vec<Allow>),
    /// diesel-guard's block: every statement until its end.
    BlockStart,
    BlockEnd,
}

impl SqlMarker {
    pub(crate) fn read(comment: &str, range: Range) -> Option<SqlMarker> {
        if let Some(allow) = Allow::parse(Syntax::Sql, comment, range) {
            return Some(SqlMarker::Next(vec![allow]));
        }
        let body = comment.strip_prefix("--")?.trim();
        match body {
            "safety-assured:start" => return Some(SqlMarker::BlockStart),
            "safety-assured:end" => return Some(SqlMarker::BlockEnd),
            _ => {}
        }
        let (file, rules) = if let Some(rest) = body.strip_prefix("squawk-ignore-file") {
            (true, rest)
        } else {
            (false, body.strip_prefix("squawk-ignore")?)
        };
        let named: Vec<&str> = rules
            .split([',', ' '])
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .collect();
        let squawk = |plumb: &str, why: String| Allow {
            range,
            rule: plumb.to_owned(),
            reason: why,
            origin: Origin::Squawk,
            columns: Vec::new(),
        };
        let allows: Vec<Allow> = if named.is_empty() {
            vec![squawk("*", "squawk-ignore".to_owned())]
        } else {
            named
                .iter()
                .flat_map(|name| {
                    SQUAWK_RULES
                        .iter()
                        .filter(move |(s, _)| s == name)
                        .flat_map(|(s, plumb)| {
                            plumb
                                .iter()
                                .map(move |p| squawk(p, format!("squawk-ignore {s}")))
                        })
                })
                .collect()
        };
        Some(if file {
            SqlMarker::File(allows)
        } else {
            SqlMarker::Next(allows)
        })
    }
}

impl Allow {
    /// diesel-guard's block: every rule, for a statement inside it.
    pub(crate) fn assured(range: Range) -> Allow {
        Allow {
            range,
            rule: "*".to_owned(),
            reason: "inside a safety-assured block".to_owned(),
            origin: Origin::DieselGuard,
            columns: Vec::new(),
        }
    }
}

/// A finding a suppression silenced, whose marker did, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppressed {
    pub finding: Finding,
    pub origin: Origin,
    pub reason: String,
}

/// A suppression of a deploy rule (family D) before a migration's statement. Those rules judge
/// the head against the base, after family M: the suppression is judged then, or not at all
/// when there is no base to judge against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Deferred {
    /// The migration's file, as findings show it.
    file: PathBuf,
    /// The 1-based lines of the statement it covers.
    lines: (usize, usize),
    allow: Allow,
    /// The suppression comment.
    span: Span,
}

/// The two comment syntaxes. Besides the marker they differ only in what a suppression covers,
/// which the messages say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    Sql,
    Rust,
}

impl Syntax {
    fn marker(self) -> &'static str {
        match self {
            Syntax::Sql => "--",
            Syntax::Rust => "//",
        }
    }

    fn covered(self) -> &'static str {
        match self {
            Syntax::Sql => "the statement after this suppression",
            Syntax::Rust => "what follows this suppression",
        }
    }

    fn excuse(self) -> &'static str {
        match self {
            Syntax::Sql => "the statement is safe",
            Syntax::Rust => "the code is right",
        }
    }
}

impl Allow {
    /// `<marker> plumb: allow <rule> <reason>`: the rule is the first word, the reason the rest.
    fn parse(syntax: Syntax, comment: &str, range: Range) -> Option<Allow> {
        let rest = comment
            .strip_prefix(syntax.marker())?
            .trim()
            .strip_prefix("plumb:")?
            .trim()
            .strip_prefix("allow")?
            .trim();
        let (rule, reason) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let reason = reason.trim();
        // `table.column[,table.column...]` before the reason.
        let (first, after) = reason
            .split_once(char::is_whitespace)
            .unwrap_or((reason, ""));
        let named: Vec<&str> = first.split(',').collect();
        let columns_named = named.iter().all(|c| {
            c.split_once('.')
                .is_some_and(|(t, c)| is_name(t) && is_name(c))
        });
        let column_rule = crate::finding::rule(rule)
            .is_some_and(|r| COLUMN_RULES.iter().any(|c| c.code == r.code));
        let (columns, reason) = if columns_named && column_rule {
            (
                named.iter().map(|c| (*c).to_owned()).collect(),
                after.trim(),
            )
        } else {
            (Vec::new(), reason)
        };
        Some(Allow {
            range,
            rule: rule.to_owned(),
            reason: reason.to_owned(),
            origin: Origin::Plumb,
            columns,
        })
    }

    /// Whether it covers `finding`: its rule, and the finding's column when it names columns.
    /// For a rule of [`COLUMN_RULES`] it must name them.
    fn covers_finding(&self, finding: &Finding) -> bool {
        self.covers(finding.code)
            && match &finding.subject {
                Some(subject) => self.columns.iter().any(|c| c == subject),
                None => self.columns.is_empty(),
            }
    }

    /// A suppression of a rule of [`COLUMN_RULES`] that names no column.
    fn lacks_columns(&self) -> bool {
        self.columns.is_empty()
            && rule(&self.rule).is_some_and(|r| COLUMN_RULES.iter().any(|c| c.code == r.code))
    }

    /// A valid suppression of a rule judged against the base.
    fn of_a_deploy_rule(&self) -> bool {
        self.origin == Origin::Plumb
            && !self.reason.is_empty()
            && rule(&self.rule).is_some_and(|r| r.code.starts_with('D'))
    }

    /// A suppression of a live rule (family L), judged by the live stage.
    fn of_a_live_rule(&self) -> bool {
        self.origin == Origin::Plumb && rule(&self.rule).is_some_and(|r| r.code.starts_with('L'))
    }

    /// Only a valid suppression silences anything: an unexplained one must not hide a finding.
    fn covers(&self, code: &str) -> bool {
        let any = self.rule == "*" && code.starts_with('M') && !code.starts_with("M9");
        !self.reason.is_empty() && (any || rule(&self.rule).is_some_and(|r| r.code == code))
    }

    /// What is wrong with the suppression, once it is known whether it covered a finding.
    fn verdict(&self, syntax: Syntax, used: bool, span: Span) -> Option<Finding> {
        // Another tool's marker is that tool's to judge.
        if self.origin != Origin::Plumb {
            None
        } else if rule(&self.rule).is_none() {
            Some(Finding::new(
                INVALID_SUPPRESSION,
                span,
                format!("`{}` is not a rule name or code", self.rule),
                format!(
                    "write `{} plumb: allow <rule-name-or-code> <reason>`; `plumb check --list-rules` lists the rules",
                    syntax.marker()
                ),
            ))
        } else if self.lacks_columns() {
            Some(Finding::new(
                INVALID_SUPPRESSION,
                span,
                format!(
                    "the suppression of `{}` names no column, so it would cover every column of the table, those added later too",
                    self.rule
                ),
                format!(
                    "name the columns it covers before the reason: `{} plumb: allow {} <table>.<column>[,<table>.<column>] <reason>`",
                    syntax.marker(),
                    self.rule
                ),
            ))
        } else if self.reason.is_empty() {
            Some(Finding::new(
                INVALID_SUPPRESSION,
                span,
                format!("the suppression of `{}` gives no reason", self.rule),
                format!(
                    "say why {} after the rule's name, so that reviewers can judge it",
                    syntax.excuse()
                ),
            ))
        } else if !used {
            Some(Finding::new(
                UNUSED_SUPPRESSION,
                span,
                format!("`{}` does not fire on {}", self.rule, syntax.covered()),
                "remove the suppression",
            ))
        } else {
            None
        }
    }
}

/// Family M's hits of one migration as findings: each statement's hits less those its
/// suppressions (and the file's) cover, followed by what is wrong with those suppressions; what
/// they silenced; and the suppressions of deploy rules, judged later by [`deploy`].
pub(crate) fn sql(
    checked: Vec<Checked<'_>>,
    file_allows: &[Allow],
    source: &Source,
) -> (Vec<Finding>, Vec<Suppressed>, Vec<Deferred>) {
    let mut out = Vec::new();
    let mut silenced = Vec::new();
    let mut deferred = Vec::new();
    for Checked {
        allows,
        hits,
        statement,
    } in checked
    {
        let mut used = vec![false; allows.len()];
        for hit in hits {
            let finding = Finding::new(
                hit.rule,
                source.span(hit.range.0, hit.range.1),
                hit.message,
                hit.help,
            );
            let by = match allows.iter().position(|a| a.covers(hit.rule.code)) {
                Some(index) => {
                    used[index] = true;
                    Some(&allows[index])
                }
                None => file_allows.iter().find(|a| a.covers(hit.rule.code)),
            };
            match by {
                Some(allow) => silenced.push(Suppressed {
                    finding,
                    origin: allow.origin,
                    reason: allow.reason.clone(),
                }),
                None => out.push(finding),
            }
        }
        for (allow, used) in allows.iter().zip(used) {
            let span = source.span(allow.range.0, allow.range.1);
            match statement {
                Some((start, end)) if allow.of_a_deploy_rule() => deferred.push(Deferred {
                    file: source.path.clone(),
                    lines: (source.span(start, start).line, source.span(end, end).line),
                    allow: allow.clone(),
                    span,
                }),
                // The live stage judges whether it covered anything; here only its form.
                _ if allow.of_a_live_rule() => out.extend(allow.verdict(Syntax::Sql, true, span)),
                _ => out.extend(allow.verdict(Syntax::Sql, used, span)),
            }
        }
    }
    (out, silenced, deferred)
}

/// Family L's findings (what the live stage saw a migration do) less those a suppression in
/// their script covers, followed by the suppressions of live rules in the `judged` scripts
/// that covered nothing; and what they silenced. A live finding is about a whole script, so a
/// `plumb: allow` of its rule anywhere in the script covers it. `read` gives a script's text by
/// the path findings show.
pub fn live(
    findings: Vec<Finding>,
    judged: &[PathBuf],
    read: impl Fn(&std::path::Path) -> Option<String>,
) -> (Vec<Finding>, Vec<Suppressed>) {
    struct Script {
        source: Source,
        allows: Vec<Allow>,
        used: Vec<bool>,
    }
    let load = |path: &std::path::Path| {
        let text = read(path).unwrap_or_default();
        let allows = live_allows(&text);
        Script {
            used: vec![false; allows.len()],
            allows,
            source: Source::new(path.to_path_buf(), text),
        }
    };
    let mut scripts: BTreeMap<PathBuf, Script> = BTreeMap::new();
    let mut out = Vec::new();
    let mut silenced = Vec::new();
    for finding in findings {
        let script = scripts
            .entry(finding.span.file.clone())
            .or_insert_with(|| load(&finding.span.file));
        match script.allows.iter().position(|a| a.covers(finding.code)) {
            Some(index) => {
                script.used[index] = true;
                silenced.push(Suppressed {
                    origin: script.allows[index].origin,
                    reason: script.allows[index].reason.clone(),
                    finding,
                });
            }
            None => out.push(finding),
        }
    }
    for path in judged {
        let script = scripts.entry(path.clone()).or_insert_with(|| load(path));
        for (allow, used) in script.allows.iter().zip(&script.used) {
            let span = script.source.span(allow.range.0, allow.range.1);
            // Its form was judged with the script's statements; here only whether it was used.
            out.extend(
                allow
                    .verdict(Syntax::Sql, *used, span)
                    .filter(|f| f.code == UNUSED_SUPPRESSION.code),
            );
        }
    }
    (out, silenced)
}

/// The suppressions of live rules in one script, before any statement or for the file.
fn live_allows(text: &str) -> Vec<Allow> {
    let parsed = crate::sql::parse::parse_guarded(text);
    parsed
        .statements
        .into_iter()
        .flat_map(|s| s.allows)
        .chain(parsed.file_allows)
        .filter(Allow::of_a_live_rule)
        .collect()
}

/// Family D's findings less those a suppression before their statement covers, followed by
/// the deploy suppressions of the `new` migrations (by file) that covered nothing; what they
/// silenced goes to `silenced`. A released migration's suppressions excused its own release:
/// the deploy rules no longer judge it, and it cannot be edited, so they are not reported.
pub(crate) fn deploy(
    findings: Vec<Finding>,
    deferred: &[Deferred],
    new: &BTreeSet<PathBuf>,
    silenced: &mut Vec<Suppressed>,
) -> Vec<Finding> {
    let mut used = vec![false; deferred.len()];
    let mut out = Vec::new();
    for finding in findings {
        let covering = deferred.iter().position(|d| {
            d.file == finding.span.file
                && (d.lines.0..=d.lines.1).contains(&finding.span.line)
                && d.allow.covers(finding.code)
        });
        match covering {
            Some(index) => {
                used[index] = true;
                silenced.push(Suppressed {
                    finding,
                    origin: deferred[index].allow.origin,
                    reason: deferred[index].allow.reason.clone(),
                });
            }
            None => out.push(finding),
        }
    }
    for (d, used) in deferred
        .iter()
        .zip(used)
        .filter(|(d, _)| new.contains(&d.file))
    {
        out.extend(d.allow.verdict(Syntax::Sql, used, d.span.clone()));
    }
    out
}

/// The `up.sql` of each migration of the head that the base does not have, as findings show it.
pub(crate) fn new_migrations(
    head: &crate::input::snapshot::Snapshot,
    base: &crate::input::snapshot::Snapshot,
) -> BTreeSet<PathBuf> {
    let released: BTreeSet<&str> = base.migrations.iter().map(|m| m.name.as_str()).collect();
    head.migrations
        .iter()
        .filter(|m| !released.contains(m.name.as_str()))
        .map(|m| head.migrations_dir.join(&m.name).join("up.sql"))
        .collect()
}

/// For the review artifact: each suppression that silenced a finding in a migration the base
/// does not have, or a deploy finding, one line each, with its reason.
pub(crate) fn in_force(silenced: &[Suppressed], new: &BTreeSet<PathBuf>) -> Vec<String> {
    // A deploy finding exists only because of the change, wherever it points.
    let deploy = |s: &&Suppressed| s.finding.code.starts_with('D');
    silenced
        .iter()
        .filter(|s| new.contains(&s.finding.span.file) || deploy(s))
        .map(|s| {
            format!(
                "suppressed: {} {} at {}:{} by `{}`: {}",
                s.finding.code,
                s.finding.name,
                s.finding.span.file.display(),
                s.finding.span.line,
                s.origin.as_str(),
                s.reason
            )
        })
        .collect()
}

/// Drops the findings a valid suppression in a Rust file covers; adds one for each invalid or
/// unused suppression in `sources` (Rust files by their path as findings show them).
///
/// Suppressions of deploy rules are judged apart, by [`rust_deploy`], once the head is compared
/// with a base.
pub(crate) fn rust(
    findings: Vec<Finding>,
    sources: &BTreeMap<PathBuf, String>,
    silenced: &mut Vec<Suppressed>,
) -> Vec<Finding> {
    rust_judging(findings, sources, silenced, |allow| {
        !allow.of_a_deploy_rule()
    })
}

/// [`rust`] for family D's findings on Rust code (the new release's), judging only the
/// suppressions of deploy rules.
pub(crate) fn rust_deploy(
    findings: Vec<Finding>,
    sources: &BTreeMap<PathBuf, String>,
    silenced: &mut Vec<Suppressed>,
) -> Vec<Finding> {
    rust_judging(findings, sources, silenced, Allow::of_a_deploy_rule)
}

fn rust_judging(
    findings: Vec<Finding>,
    sources: &BTreeMap<PathBuf, String>,
    silenced: &mut Vec<Suppressed>,
    judged: impl Fn(&Allow) -> bool,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut used: BTreeSet<(&PathBuf, usize)> = BTreeSet::new();
    // Most files hold no suppression: only those that do are read line by line.
    let files: BTreeMap<&PathBuf, RustFile<'_>> = sources
        .iter()
        .filter(|(_, text)| text.contains("plumb:"))
        .map(|(path, text)| (path, RustFile::new(text)))
        .collect();
    for finding in findings {
        let covering = files
            .get_key_value(&finding.span.file)
            .and_then(|(path, file)| file.covering(&finding).map(|at| (*path, at)));
        match covering {
            Some((path, (line, allow))) => {
                used.insert((path, line));
                silenced.push(Suppressed {
                    finding,
                    origin: allow.origin,
                    reason: allow.reason.clone(),
                });
            }
            None => out.push(finding),
        }
    }
    for (path, file) in &files {
        for (line, allow) in file.allows.iter().filter(|(_, a)| judged(a)) {
            let span = Span::line((*path).clone(), *line);
            out.extend(allow.verdict(Syntax::Rust, used.contains(&(*path, *line)), span));
        }
    }
    out
}

/// A Rust file's lines and its suppressions, each with its 1-based line.
#[derive(Debug)]
struct RustFile<'t> {
    lines: Vec<&'t str>,
    allows: Vec<(usize, Allow)>,
}

impl<'t> RustFile<'t> {
    /// Only a comment alone on its line is a suppression.
    fn new(text: &'t str) -> Self {
        let mut offset = 0;
        let mut allows = Vec::new();
        for (index, line) in text.split_inclusive('\n').enumerate() {
            let comment = line.trim();
            let start = offset + (line.len() - line.trim_start().len());
            if let Some(allow) = Allow::parse(Syntax::Rust, comment, (start, start + comment.len()))
            {
                allows.push((index + 1, allow));
            }
            offset += line.len();
        }
        RustFile {
            lines: text.lines().collect(),
            allows,
        }
    }

    /// The suppression covering `finding`, and its line: one among the comment and attribute
    /// lines right above it.
    fn covering(&self, finding: &Finding) -> Option<(usize, &Allow)> {
        let mut line = finding.span.line.saturating_sub(1);
        while line >= 1 {
            let text = self
                .lines
                .get(line - 1)
                .map(|l| l.trim())
                .unwrap_or_default();
            if !(text.starts_with("//") || text.starts_with("#[")) {
                break;
            }
            if let Some((_, allow)) = self
                .allows
                .iter()
                .find(|(at, a)| *at == line && a.covers_finding(finding))
            {
                return Some((line, allow));
            }
            line -= 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::{Allow, INVALID_SUPPRESSION, Syntax, UNUSED_SUPPRESSION, rust};
    use crate::finding::Finding;
    use crate::rules::s::insert_missing_required_column::RULE as MISSING;
    use crate::sql::source::Span;

    #[test]
    fn both_comment_syntaxes_read_the_same_rule_and_reason() {
        let sql = Allow::parse(
            Syntax::Sql,
            "-- plumb: allow  some-rule   small table ",
            (0, 1),
        );
        let rust = Allow::parse(
            Syntax::Rust,
            "// plumb: allow  some-rule   small table ",
            (0, 1),
        );
        for allow in [sql, rust] {
            let allow = allow.unwrap();
            assert_eq!(
                (allow.rule.as_str(), allow.reason.as_str()),
                ("some-rule", "small table")
            );
        }
        assert!(Allow::parse(Syntax::Sql, "// plumb: allow some-rule x", (0, 1)).is_none());
        assert!(Allow::parse(Syntax::Rust, "/// plumb: allow some-rule x", (0, 1)).is_none());
        let bare = Allow::parse(Syntax::Rust, "// plumb: allow", (0, 1)).unwrap();
        assert_eq!((bare.rule.as_str(), bare.reason.as_str()), ("", ""));
    }

    /// A suppression of a finding about one column of a struct's table names the columns it
    /// covers: a column added later is not covered, and one that names none is reported.
    #[test]
    fn a_struct_suppression_covers_only_the_columns_it_names() {
        let file = PathBuf::from("src/models.rs");
        let text = "// plumb: allow insert-missing-required-column accounts.tier,accounts.plan set by a trigger\npub struct NewAccount {}\n\n// plumb: allow S009 set by a trigger\npub struct NewKey {}\n";
        let sources = BTreeMap::from([(file.clone(), text.to_owned())]);
        let missing = |line, column| {
            Finding::new(MISSING, Span::line(&file, line), "m", "h").about("accounts", column)
        };
        let out = rust(
            vec![
                missing(2, "tier"),
                missing(2, "plan"),
                missing(2, "added_later"),
                missing(5, "tier"),
            ],
            &sources,
            &mut Vec::new(),
        );
        let found: Vec<(&str, usize, Option<&str>)> = out
            .iter()
            .map(|f| (f.code, f.span.line, f.subject.as_deref()))
            .collect();
        assert_eq!(
            found,
            [
                (MISSING.code, 2, Some("accounts.added_later")),
                (MISSING.code, 5, Some("accounts.tier")),
                (INVALID_SUPPRESSION.code, 4, None)
            ]
        );
        let allow =
            Allow::parse(Syntax::Rust, "// plumb: allow S009 a.b,c.d why not", (0, 1)).unwrap();
        assert_eq!((allow.columns.len(), allow.reason.as_str()), (2, "why not"));
        let prose =
            Allow::parse(Syntax::Rust, "// plumb: allow S009 e.g. a trigger", (0, 1)).unwrap();
        assert_eq!(
            (prose.columns.len(), prose.reason.as_str()),
            (0, "e.g. a trigger")
        );
    }

    #[test]
    fn a_rust_suppression_covers_the_item_below_its_comments_and_attributes() {
        let file = PathBuf::from("src/models.rs");
        let text = "// plumb: allow insert-missing-required-column accounts.email set by a trigger\n#[derive(Insertable)]\n/// A new row.\npub struct NewAccount {\n    // plumb: allow insert-missing-required-column\n    pub email: String,\n}\n\n// plumb: allow no-such-rule because\n\n// plumb: allow model-field-type nothing below\nfn f() {}\n";
        let sources = BTreeMap::from([(file.clone(), text.to_owned())]);
        let finding = |line| {
            Finding::new(MISSING, Span::line(&file, line), "m", "h").about("accounts", "email")
        };
        let mut silenced = Vec::new();
        let out = rust(vec![finding(4), finding(6)], &sources, &mut silenced);
        // What it silenced is kept for the report, with the reason.
        let kept: Vec<(usize, &str)> = silenced
            .iter()
            .map(|s| (s.finding.span.line, s.reason.as_str()))
            .collect();
        assert_eq!(kept, [(4, "set by a trigger")]);
        let found: Vec<(&str, usize)> = out.iter().map(|f| (f.code, f.span.line)).collect();
        assert_eq!(
            found,
            [
                (MISSING.code, 6),
                (INVALID_SUPPRESSION.code, 5),
                (INVALID_SUPPRESSION.code, 9),
                (UNUSED_SUPPRESSION.code, 11)
            ]
        );
    }
}
