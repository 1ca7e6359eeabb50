//! The schema this repository's migrations build, replayed, as a snapshot: a migration that
//! adds a column shows in `cargo insta review` beside the API schema snapshots.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

use std::path::Path;

#[test]
fn the_reference_schema_as_replayed_from_its_migrations() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let settings = plumb_check::Settings::load(&root).unwrap();
    let migrations = plumb_check::read_migrations(&settings.migrations_dir).unwrap();
    let schema = plumb_check::replay_each(&migrations).pop().unwrap();
    insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("reference-schema", schema.to_string());
    });
}
