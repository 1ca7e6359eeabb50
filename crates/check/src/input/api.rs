//! The committed API schemas: `<dir>/<version>/<Type>.<request|response>.json`, as the
//! contract crate generates them (JSON Schema 2020-12).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::InputError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
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
}

#[derive(Debug, Clone)]
pub struct ApiSchema {
    /// `v1/Account.response.json`: the same in base and head.
    pub key: String,
    /// The file as findings show it (relative to the workspace).
    pub file: PathBuf,
    pub version: String,
    pub name: String,
    pub direction: Direction,
    pub text: String,
    pub value: Value,
    /// The top-level object's properties, resolved once when the file is read.
    pub properties: BTreeMap<String, Property>,
}

/// One property of an object schema, resolved far enough to compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// JSON types, `null` left out: `["string"]`; a `$ref` is followed.
    pub types: Vec<String>,
    pub format: Option<String>,
    pub nullable: bool,
    pub required: bool,
    /// The allowed values, for an enum.
    pub values: Option<Vec<String>>,
}

impl Property {
    /// Its type as findings and the changes show it: `string (date-time)`.
    pub fn describe(&self) -> String {
        let mut text = self.types.join("|");
        if let Some(format) = &self.format {
            text.push_str(&format!(" ({format})"));
        }
        text
    }
}

impl ApiSchema {
    /// The properties of the top-level object.
    fn resolve_properties(&self) -> BTreeMap<String, Property> {
        let required: Vec<&str> = self.value["required"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut out = BTreeMap::new();
        if let Some(props) = self.value["properties"].as_object() {
            for (name, schema) in props {
                let mut property = self.resolve(schema);
                property.required = required.contains(&name.as_str());
                out.insert(name.clone(), property);
            }
        }
        out
    }

    fn resolve(&self, schema: &Value) -> Property {
        let mut property = Property {
            types: Vec::new(),
            format: schema["format"].as_str().map(str::to_owned),
            nullable: false,
            required: false,
            values: None,
        };
        let visit = |s: &Value, property: &mut Property| {
            let target = match s["$ref"].as_str().and_then(|r| r.strip_prefix("#/$defs/")) {
                Some(name) => &self.value["$defs"][name],
                None => s,
            };
            match &target["type"] {
                Value::String(t) => property.types.push(t.clone()),
                Value::Array(ts) => property
                    .types
                    .extend(ts.iter().filter_map(Value::as_str).map(str::to_owned)),
                _ => {}
            }
            if let Some(values) = target["enum"].as_array() {
                let values = values
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned));
                property.values.get_or_insert_with(Vec::new).extend(values);
            }
            if property.format.is_none() {
                property.format = target["format"].as_str().map(str::to_owned);
            }
        };
        visit(schema, &mut property);
        for alternative in schema["anyOf"]
            .as_array()
            .into_iter()
            .chain(schema["oneOf"].as_array())
            .flatten()
        {
            visit(alternative, &mut property);
        }
        if let Some(values) = &mut property.values {
            if values.iter().any(|v| v == "null") {
                property.nullable = true;
            }
            values.retain(|v| v != "null");
            values.sort();
        }
        if property.types.iter().any(|t| t == "null") {
            property.nullable = true;
        }
        property.types.retain(|t| t != "null");
        property.types.sort();
        property.types.dedup();
        property
    }

    /// The 1-based line of a property's key in the file (1 when not found).
    pub fn line_of(&self, property: &str) -> usize {
        let needle = format!("\"{property}\":");
        self.text
            .lines()
            .position(|l| l.trim_start().starts_with(&needle))
            .map_or(1, |i| i + 1)
    }
}

/// Every schema under `dir`, by key; nothing when the directory does not exist.
pub fn read_api(root: &Path, dir: &Path) -> Result<BTreeMap<String, ApiSchema>, InputError> {
    let mut out = BTreeMap::new();
    // No API folder is no API; one that cannot be read is an input error, not an empty API.
    let versions = match std::fs::read_dir(dir) {
        Ok(versions) => versions,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(InputError::io(dir, e)),
    };
    for version in versions.flatten().filter(|e| e.path().is_dir()) {
        let version_name = version.file_name().to_string_lossy().into_owned();
        let files =
            std::fs::read_dir(version.path()).map_err(|e| InputError::io(&version.path(), e))?;
        for file in files.flatten() {
            let path = file.path();
            let file_name = file.file_name().to_string_lossy().into_owned();
            let Some(stem) = file_name.strip_suffix(".json") else {
                continue;
            };
            let (name, direction) = match stem.rsplit_once('.') {
                Some((name, "request")) => (name, Direction::Request),
                Some((name, "response")) => (name, Direction::Response),
                _ => continue,
            };
            let Some(text) = crate::migrations::read_file_within(&path, root)? else {
                continue;
            };
            let value: Value = serde_json::from_str(&text).map_err(|e| InputError::At {
                path: path.clone(),
                line: e.line(),
                column: e.column(),
                reason: e.to_string(),
            })?;
            let key = format!("{version_name}/{file_name}");
            let mut schema = ApiSchema {
                key: key.clone(),
                file: path.strip_prefix(root).unwrap_or(&path).to_path_buf(),
                version: version_name.clone(),
                name: name.to_owned(),
                direction,
                text,
                value,
                properties: BTreeMap::new(),
            };
            schema.properties = schema.resolve_properties();
            out.insert(key, schema);
        }
    }
    Ok(out)
}
