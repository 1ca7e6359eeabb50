//! Findings and the identity of the rules that produce them: every rule has a stable code, a
//! kebab-case name, a default severity, and a docs page under `docs/rules/`. The rules themselves
//! are in [`crate::rules`].

use serde::Serialize;

use crate::sql::source::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A rule's identity. Codes never change once released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
}

/// Looks a rule up by code or name.
pub fn rule(name_or_code: &str) -> Option<Rule> {
    crate::rules::RULES
        .iter()
        .copied()
        .find(|r| r.code.eq_ignore_ascii_case(name_or_code) || r.name == name_or_code)
}

/// One thing that would break production, where, and the safe way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    #[serde(flatten)]
    pub span: Span,
    pub message: String,
    pub help: String,
    /// The column a finding on a whole struct is about (`accounts.email`): a suppression of
    /// it must name that column.
    #[serde(skip)]
    pub subject: Option<String>,
}

impl Finding {
    /// The finding, about this column of this table.
    pub fn about(mut self, table: &str, column: &str) -> Self {
        self.subject = Some(format!("{table}.{column}"));
        self
    }

    pub fn new(
        rule: Rule,
        span: Span,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Finding {
            code: rule.code,
            name: rule.name,
            severity: rule.severity,
            span,
            message: message.into(),
            help: help.into(),
            subject: None,
        }
    }
}
