//! Findings and the rules that produce them: every rule has a stable code, a kebab-case name,
//! a default severity, and a docs page under `docs/rules/`.

use serde::Serialize;

use crate::source::Span;

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

macro_rules! rules {
    ($($ident:ident = $code:literal $name:literal $severity:ident $summary:literal;)*) => {
        $(pub const $ident: Rule = Rule { code: $code, name: $name, severity: Severity::$severity, summary: $summary };)*
        /// Every rule, in code order.
        pub const RULES: &[Rule] = &[$($ident),*];
    };
}

rules! {
    ADD_COLUMN_REQUIRED = "M001" "add-column-required" Error "NOT NULL column without a default added to an existing table";
    ADD_COLUMN_REWRITE = "M002" "add-column-rewrite" Error "column added to an existing table in a way that rewrites it";
    SET_NOT_NULL_SCAN = "M003" "set-not-null-scan" Error "SET NOT NULL without a validated CHECK (col IS NOT NULL) scans under ACCESS EXCLUSIVE";
    INDEX_NOT_CONCURRENT = "M004" "index-not-concurrent" Error "index on an existing table built without CONCURRENTLY";
    DROP_INDEX_NOT_CONCURRENT = "M005" "drop-index-not-concurrent" Error "index of an existing table dropped without CONCURRENTLY";
    CONCURRENTLY_IN_TRANSACTION = "M006" "concurrently-in-transaction" Error "CONCURRENTLY inside a transaction block fails";
    CONSTRAINT_WITHOUT_NOT_VALID = "M007" "constraint-without-not-valid" Error "CHECK or FOREIGN KEY added to an existing table without NOT VALID";
    VALIDATE_SAME_TRANSACTION = "M008" "validate-same-transaction" Error "constraint validated in the transaction that added it";
    UNIQUE_WITHOUT_INDEX = "M009" "unique-without-index" Error "UNIQUE or PRIMARY KEY added to an existing table without USING INDEX";
    COLUMN_TYPE_REWRITE = "M010" "column-type-rewrite" Error "column type change that rewrites an existing table";
    RENAME_COLUMN = "M011" "rename-column" Error "column of an existing table renamed";
    RENAME_TABLE = "M012" "rename-table" Error "existing table renamed";
    DROP_COLUMN_PRE_DEPLOY = "M013" "drop-column-pre-deploy" Error "column dropped in a pre-deploy migration";
    UNBATCHED_UPDATE = "M014" "unbatched-update" Error "UPDATE or DELETE of an existing table in a migration";
    LOCK_TIMEOUT_MISSING = "M015" "lock-timeout-missing" Error "lock taken on an existing table with no lock_timeout in force";
    DROP_TABLE_PRE_DEPLOY = "M018" "drop-table-pre-deploy" Error "table dropped in a pre-deploy migration";
    DOWN_MISSING = "M016" "down-missing" Error "migration without a down.sql";
    SYNTAX_ERROR = "M017" "syntax-error" Error "SQL that does not parse";
    LIVE_MIGRATION_FAILED = "L001" "live-migration-failed" Error "migration PostgreSQL refuses on a fresh database";
    LIVE_DOWN_NOT_REVERSING = "L002" "live-down-not-reversing" Error "down.sql that does not restore the schema up.sql changed";
    LIVE_REPLAY_MISMATCH = "L003" "live-replay-mismatch" Warning "schema the database reports differs from the static replay";
    LIVE_SCHEMA_RS_DRIFT = "L004" "live-schema-rs-drift" Error "schema.rs that does not match the migrated database";
    LIVE_TABLE_REWRITE = "L005" "live-table-rewrite" Error "migration rewrote a table or index that existed before it";
    LIVE_LONG_EXCLUSIVE_LOCK = "L006" "live-long-exclusive-lock" Error "migration held ACCESS EXCLUSIVE on an existing table longer than the threshold";
    SCHEMA_RS_MISSING_TABLE = "S001" "schema-rs-missing-table" Error "table the migrations create that schema.rs does not declare";
    SCHEMA_RS_MISSING_COLUMN = "S002" "schema-rs-missing-column" Error "column the migrations create that schema.rs does not declare";
    SCHEMA_RS_EXTRA_COLUMN = "S003" "schema-rs-extra-column" Error "table or column in schema.rs that the migrations do not create";
    SCHEMA_RS_TYPE_MISMATCH = "S004" "schema-rs-type-mismatch" Error "schema.rs type that differs from the migrations' column type";
    SCHEMA_RS_NULLABILITY_MISMATCH = "S005" "schema-rs-nullability-mismatch" Error "schema.rs nullability that differs from the migrations'";
    MODEL_UNKNOWN_COLUMN = "S006" "model-unknown-column" Error "model struct field or table that schema.rs does not declare";
    MODEL_FIELD_NULLABILITY = "S007" "model-field-nullability" Error "Option or not, against the column's nullability, in a way that fails at run time";
    MODEL_FIELD_TYPE = "S008" "model-field-type" Error "model field type that does not fit its column's SQL type";
    INSERT_MISSING_REQUIRED_COLUMN = "S009" "insert-missing-required-column" Error "insertable struct without a column that is NOT NULL without a default";
    COLUMN_UNREGISTERED = "C001" "column-unregistered" Error "column the registry does not list as exposed, internal or sensitive";
    REGISTRY_STALE = "C002" "registry-stale" Error "registry entry for a column, or an API field, that does not exist";
    EXPOSED_TYPE_MISMATCH = "C003" "exposed-type-mismatch" Error "exposed field whose JSON type or nullability does not fit its column";
    SENSITIVE_EXPOSED = "C004" "sensitive-exposed" Error "sensitive column in a response schema";
    API_REQUEST_FIELD_REQUIRED = "A001" "api-request-field-required" Error "request field of a published version newly required";
    API_RESPONSE_FIELD_REMOVED = "A002" "api-response-field-removed" Error "response field of a published version removed";
    API_RESPONSE_FIELD_OPTIONAL = "A003" "api-response-field-optional" Error "response field of a published version no longer required";
    API_RESPONSE_NULLABLE = "A004" "api-response-nullable" Error "response field of a published version newly nullable";
    API_TYPE_CHANGED = "A005" "api-type-changed" Error "field of a published version changed type (or a request field no longer accepts null)";
    API_ENUM_CHANGED = "A006" "api-enum-changed" Error "enum of a published version changed the breaking way for its direction";
    API_PUBLISHED_SCHEMA_EDITED = "A007" "api-published-schema-edited" Warning "schema of a published version edited or removed";
    API_VERSION_REMOVED = "A008" "api-version-removed" Error "published API version removed";
    DEPLOY_DROP_USED_COLUMN = "D001" "deploy-drop-used-column" Error "pre-deploy migration drops a column the live release uses";
    DEPLOY_RENAME_USED_COLUMN = "D002" "deploy-rename-used-column" Error "pre-deploy migration renames a column the live release uses";
    DEPLOY_TYPE_CHANGE_USED_COLUMN = "D003" "deploy-type-change-used-column" Error "pre-deploy migration changes the type of a column the live release uses";
    DEPLOY_NEW_REQUIRED_COLUMN = "D004" "deploy-new-required-column" Error "pre-deploy migration makes a column required that the live release's inserts omit";
    MIGRATION_EDITED = "D005" "migration-edited" Error "released migration edited or removed";
    MIGRATION_OUT_OF_ORDER = "D006" "migration-out-of-order" Error "new migration ordered before a released one";
    UNMODELLED_STATEMENT = "M900" "unmodelled-statement" Note "statement the replay does not model";
    UNUSED_SUPPRESSION = "M901" "unused-suppression" Warning "suppression that suppresses nothing";
    INVALID_SUPPRESSION = "M902" "invalid-suppression" Error "suppression without a known rule or a reason";
}

/// Looks a rule up by code or name.
pub fn rule(name_or_code: &str) -> Option<Rule> {
    RULES
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
}

impl Finding {
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
        }
    }
}
