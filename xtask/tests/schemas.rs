//! `cargo xtask schemas [--check]`: schemas/ is exactly what the contract generates.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn schemas(workspace: &Path, check: bool) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.arg("schemas").arg("--workspace").arg(workspace);
    if check {
        command.arg("--check");
    }
    let output = command.output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn copy_schemas() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = repository().join("schemas");
    for version in ["v1", "v2"] {
        fs::create_dir_all(dir.path().join("schemas").join(version)).unwrap();
        for entry in fs::read_dir(from.join(version)).unwrap() {
            let entry = entry.unwrap();
            fs::copy(
                entry.path(),
                dir.path()
                    .join("schemas")
                    .join(version)
                    .join(entry.file_name()),
            )
            .unwrap();
        }
    }
    fs::copy(
        from.join("openapi.json"),
        dir.path().join("schemas/openapi.json"),
    )
    .unwrap();
    dir
}

#[test]
fn the_committed_schemas_are_up_to_date() {
    let (code, stdout, stderr) = schemas(&repository(), true);
    assert_eq!(code, 0, "{stderr}");
    // Every committed file is generated: one per catalog entry, and the OpenAPI document.
    let generated = plumb_contract::catalog().len() + 1;
    assert_eq!(
        stdout,
        format!("schemas: ok, {generated} files up to date\n")
    );
}

#[test]
fn check_names_every_stale_missing_and_extra_file_and_the_fix() {
    let workspace = copy_schemas();
    let dir = workspace.path().join("schemas");
    fs::write(dir.join("v2/Account.response.json"), "{}\n").unwrap();
    fs::remove_file(dir.join("v1/ListQuery.request.json")).unwrap();
    fs::create_dir_all(dir.join("v3")).unwrap();
    fs::write(dir.join("v3/Gone.response.json"), "{}\n").unwrap();

    let (code, _, stderr) = schemas(workspace.path(), true);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "schemas/v2/Account.response.json is stale: it differs from what the code generates\n\
         schemas/v1/ListQuery.request.json is missing\n\
         schemas/v3/Gone.response.json is no longer generated\n\
         run `cargo xtask schemas` to update them, then `cargo insta review`\n"
    );
    assert_eq!(
        fs::read_to_string(dir.join("v2/Account.response.json")).unwrap(),
        "{}\n",
        "--check changes nothing"
    );

    let (code, stdout, _) = schemas(workspace.path(), false);
    assert_eq!(code, 0);
    assert_eq!(
        stdout,
        "schemas: wrote 2, removed 1, 19 already up to date\n"
    );
    assert!(
        !dir.join("v3").exists(),
        "an emptied version folder is removed"
    );
    assert_eq!(schemas(workspace.path(), true).0, 0);
    assert_eq!(
        fs::read(dir.join("v2/Account.response.json")).unwrap(),
        fs::read(repository().join("schemas/v2/Account.response.json")).unwrap()
    );
}

#[test]
fn generated_files_end_with_a_newline_and_are_pretty() {
    let text = fs::read_to_string(repository().join("schemas/v1/Account.response.json")).unwrap();
    assert!(text.ends_with("}\n"));
    assert!(text.starts_with("{\n  \""));
}
