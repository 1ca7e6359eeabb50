//! The API schema reader: one committed JSON Schema, its properties resolved through `$ref`,
//! `allOf`, `anyOf` and `oneOf` as the coverage and compatibility rules read them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plumb_fuzz::on_plumb_stack;

fuzz_target!(|data: &[u8]| {
    on_plumb_stack(|| {
        let root = tempfile::tempdir().expect("a temporary directory");
        let dir = root.path().join("schemas/v1");
        std::fs::create_dir_all(&dir).expect("creating the API folder");
        std::fs::write(dir.join("account.response.json"), data).expect("writing the schema");
        if let Ok(schemas) =
            plumb_check::input::api::read_api(root.path(), &root.path().join("schemas"))
        {
            for schema in schemas.values() {
                for (name, property) in &schema.properties {
                    let _ = property.describe();
                    let _ = schema.line_of(name);
                }
            }
        }
    });
});
