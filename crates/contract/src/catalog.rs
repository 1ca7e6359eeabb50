//! The one list of every published (version, type, direction), and the files generated from
//! it: `schemas/<version>/<Type>.<request|response>.json` and `schemas/openapi.json`.

use std::fmt;

use schemars::Schema;
use schemars::generate::SchemaSettings;
use serde_json::Value;

/// Which way a type travels. Requests are read with the deserialize contract and responses
/// written with the serialize contract: a field with a serde default is optional in a request
/// yet, unless skipped when empty, always present (required) in a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    Request,
    Response,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Request => "request",
            Direction::Response => "response",
        }
    }

    fn settings(self) -> SchemaSettings {
        let settings = SchemaSettings::draft2020_12();
        match self {
            Direction::Request => settings.for_deserialize(),
            Direction::Response => settings.for_serialize(),
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One type of one version, in one direction.
#[derive(Clone, Copy)]
pub struct Entry {
    pub version: &'static str,
    pub type_name: &'static str,
    pub direction: Direction,
    generate: fn(SchemaSettings) -> Schema,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file_name())
    }
}

impl Entry {
    /// The JSON Schema (2020-12) of this type in this direction.
    pub fn schema(&self) -> Value {
        (self.generate)(self.direction.settings()).to_value()
    }

    /// Its path under `schemas/`, e.g. `v1/Account.response.json`.
    pub fn file_name(&self) -> String {
        format!(
            "{}/{}.{}.json",
            self.version, self.type_name, self.direction
        )
    }
}

macro_rules! entry {
    ($version:ident :: $type_name:ident, $direction:ident) => {
        Entry {
            version: stringify!($version),
            type_name: stringify!($type_name),
            direction: Direction::$direction,
            generate: |settings| {
                settings
                    .into_generator()
                    .into_root_schema_for::<crate::$version::$type_name>()
            },
        }
    };
}

/// Every published API version, oldest first.
pub const VERSIONS: &[&str] = &["v1", "v2"];

/// Every (version, type, direction) of the contract. Adding a type to a version means adding
/// it here; `cargo xtask schemas` then writes its file and a snapshot test shows it for review.
pub fn catalog() -> Vec<Entry> {
    vec![
        entry!(v1::CreateAccountRequest, Request),
        entry!(v1::UpdateAccountRequest, Request),
        entry!(v1::ListQuery, Request),
        entry!(v1::CreateApiKeyRequest, Request),
        entry!(v1::Account, Response),
        entry!(v1::AccountPage, Response),
        entry!(v1::ApiKey, Response),
        entry!(v1::CreatedApiKey, Response),
        entry!(v1::ApiKeyPage, Response),
        entry!(v1::ErrorResponse, Response),
        entry!(v2::CreateAccountRequest, Request),
        entry!(v2::UpdateAccountRequest, Request),
        entry!(v2::ListQuery, Request),
        entry!(v2::CreateApiKeyRequest, Request),
        entry!(v2::Account, Response),
        entry!(v2::AccountPage, Response),
        entry!(v2::ApiKey, Response),
        entry!(v2::CreatedApiKey, Response),
        entry!(v2::ApiKeyPage, Response),
        entry!(v2::ErrorResponse, Response),
    ]
}

/// The one way the generated files are written: pretty, keys in a stable order, a trailing
/// newline.
pub fn render(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// A file under `schemas/` and what it must contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Relative to `schemas/`, with `/` separators.
    pub path: String,
    pub contents: String,
}

/// Everything `cargo xtask schemas` writes under `schemas/`.
pub fn generated_files() -> Result<Vec<GeneratedFile>, crate::openapi::OpenApiError> {
    let mut files: Vec<GeneratedFile> = catalog()
        .iter()
        .map(|entry| GeneratedFile {
            path: entry.file_name(),
            contents: render(&entry.schema()),
        })
        .collect();
    files.push(GeneratedFile {
        path: "openapi.json".to_owned(),
        contents: render(&crate::openapi::document()?),
    });
    Ok(files)
}
