//! What the committed API schemas say, for `--expose Type.field`.

use plumb_check::Settings;

/// `field` of some version's `Type` (request or response), as `schemas/<version>/<Type>.*.json`
/// has it; an error naming what was looked for otherwise.
pub fn check_field_exists(settings: &Settings, exposed: &str) -> Result<(), String> {
    let (type_name, field) = exposed
        .split_once('.')
        .filter(|(t, f)| !t.is_empty() && !f.is_empty())
        .ok_or_else(|| format!("--expose {exposed:?} is not Type.field"))?;
    let versions = std::fs::read_dir(&settings.api_dir).map_err(|e| {
        format!(
            "--expose {exposed}: no API schema has {type_name}.{field}: {} cannot be read ({e}); register the column --internal until the API has the field",
            settings.api_dir.display()
        )
    })?;
    for version in versions.flatten() {
        for direction in ["response", "request"] {
            let path = version.path().join(format!("{type_name}.{direction}.json"));
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let schema: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            if schema["properties"].get(field).is_some() {
                return Ok(());
            }
        }
    }
    Err(format!(
        "--expose {exposed}: no API schema under {} has {type_name} with a field {field}; add the field to the API first (`cargo xtask schemas`), or register the column --internal for now",
        settings.api_dir.display()
    ))
}
