//! The one list of every published (version, type, direction), and the files generated from
//! it: `schemas/<version>/<Type>.<request|response>.json` and `schemas/openapi.json`.

use std::fmt;

use schemars::Schema;

use crate::version::{ApiVersion, EachVersion};
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

fn generate<T: schemars::JsonSchema>(settings: SchemaSettings) -> Schema {
    settings.into_generator().into_root_schema_for::<T>()
}

impl Entry {
    fn of<T: schemars::JsonSchema>(
        version: &'static str,
        type_name: &'static str,
        direction: Direction,
    ) -> Entry {
        Entry {
            version,
            type_name,
            direction,
            generate: generate::<T>,
        }
    }
}

/// Every (version, type, direction) of the contract, from the types of each version of
/// [`crate::each_version`]; `cargo xtask schemas` writes a file for each and a snapshot test
/// shows it for review.
pub fn catalog() -> Vec<Entry> {
    struct Entries(Vec<Entry>);
    impl EachVersion for Entries {
        fn version<V: ApiVersion>(&mut self) {
            use Direction::{Request, Response};
            let v = V::NAME;
            self.0.extend([
                Entry::of::<V::CreateAccountRequest>(v, "CreateAccountRequest", Request),
                Entry::of::<V::UpdateAccountRequest>(v, "UpdateAccountRequest", Request),
                Entry::of::<V::ListQuery>(v, "ListQuery", Request),
                Entry::of::<V::CreateApiKeyRequest>(v, "CreateApiKeyRequest", Request),
                Entry::of::<V::Account>(v, "Account", Response),
                Entry::of::<V::AccountPage>(v, "AccountPage", Response),
                Entry::of::<V::ApiKey>(v, "ApiKey", Response),
                Entry::of::<V::CreatedApiKey>(v, "CreatedApiKey", Response),
                Entry::of::<V::ApiKeyPage>(v, "ApiKeyPage", Response),
                Entry::of::<V::ErrorResponse>(v, "ErrorResponse", Response),
            ]);
        }
    }
    let mut entries = Entries(Vec::new());
    crate::each_version(&mut entries);
    entries.0
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
