//! The base read from git: only the files that differ from the work tree are read, under any
//! path git can hold, with the workspace anywhere in the repository.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use plumb_check::{Base, check_workspace_against};

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=plumb",
            "-c",
            "user.email=plumb@example.com",
        ])
        .args(["-c", "commit.gpgsign=false"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A repository whose first commit holds a workspace at `inside` (empty: the top level), with
/// a released migration in a folder named `folder`.
fn repository(inside: &str, folder: &str) -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    let migration = repo.path().join(inside).join("migrations").join(folder);
    fs::create_dir_all(&migration).unwrap();
    fs::write(migration.join("up.sql"), common::BASE).unwrap();
    fs::write(migration.join("down.sql"), "DROP TABLE accounts;\n").unwrap();
    git(repo.path(), &["init", "-q", "-b", "main"]);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "released"]);
    repo
}

fn codes_against_head(root: &Path) -> Vec<&'static str> {
    let report = check_workspace_against(root, None, &Base::Rev("HEAD".into())).unwrap();
    assert!(
        report
            .base
            .as_deref()
            .is_some_and(|b| b.starts_with("base: HEAD")),
        "{:?}",
        report.base
    );
    report.findings.iter().map(|f| f.code).collect()
}

#[test]
fn a_released_migration_edited_is_found_whatever_its_folder_is_named_and_wherever_the_workspace_is()
{
    for (inside, folder) in [
        ("", "2020-01-01-000000_create_accounts"),
        ("", "2020-01-01-000000_créer_les_comptes"),
        ("services/api", "2020-01-01-000000_create accounts"),
        ("services/api", "2020-01-01-000000_créer_les_comptes"),
    ] {
        let repo = repository(inside, folder);
        let root = repo.path().join(inside);
        let unchanged = codes_against_head(&root);
        assert!(
            !unchanged.contains(&"D005"),
            "{inside:?} {folder:?}: {unchanged:?}"
        );
        let up = root.join("migrations").join(folder).join("up.sql");
        let text = fs::read_to_string(&up).unwrap();
        fs::write(&up, text.replace("note text", "note varchar(10)")).unwrap();
        let edited = codes_against_head(&root);
        assert!(
            edited.contains(&"D005"),
            "{inside:?} {folder:?}: {edited:?}"
        );
    }
}

#[test]
fn a_base_that_is_not_a_revision_is_an_input_error_and_outside_git_the_base_is_skipped() {
    let repo = repository("", "2020-01-01-000000_create_accounts");
    let error = check_workspace_against(repo.path(), None, &Base::Rev("no-such-rev".into()))
        .unwrap_err()
        .to_string();
    assert!(error.contains("no-such-rev"), "{error}");

    let plain = common::workspace(&[]);
    let report = check_workspace_against(plain.path(), None, &Base::Default).unwrap();
    let line = report.base.unwrap_or_default();
    assert!(line.contains("skipped"), "{line}");
}

#[test]
fn a_schema_file_the_base_does_not_have_yet_is_read_from_the_head_alone() {
    let repo = repository("", "2020-01-01-000000_create_accounts");
    fs::write(
        repo.path().join("diesel.toml"),
        "[print_schema]\nfile = \"src/schema.rs\"\n",
    )
    .unwrap();
    fs::create_dir_all(repo.path().join("src")).unwrap();
    fs::write(
        repo.path().join("src/schema.rs"),
        "diesel::table! {\n    accounts (id) {\n        id -> Int8,\n        email -> Varchar,\n        note -> Nullable<Text>,\n        amount -> Nullable<Numeric>,\n    }\n}\n",
    )
    .unwrap();
    let report = check_workspace_against(repo.path(), None, &Base::Rev("HEAD".into())).unwrap();
    assert_eq!(report.coverage.schema_files.len(), 1);
    assert!(report.base.is_some_and(|b| b.starts_with("base: HEAD")));
}

/// The base line of a check with the default base.
fn default_base_line(root: &Path) -> String {
    let report = check_workspace_against(root, None, &Base::Default).unwrap();
    report.base.unwrap_or_default()
}

#[test]
fn the_default_base_is_the_main_tip_on_main_and_where_a_branch_left_main_elsewhere() {
    let repo = repository("", "2020-01-01-000000_create_accounts");
    let short = |rev: &str| git(repo.path(), &["rev-parse", rev]).trim()[..12].to_owned();
    let released = short("HEAD");
    assert_eq!(default_base_line(repo.path()), format!("base: {released}"));

    // A branch with a commit of its own, and main moved on since: neither tip is the base.
    git(repo.path(), &["checkout", "-q", "-b", "feature"]);
    fs::write(repo.path().join("notes.txt"), "feature\n").unwrap();
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "feature"]);
    git(repo.path(), &["checkout", "-q", "main"]);
    fs::write(repo.path().join("later.txt"), "main\n").unwrap();
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "main moves on"]);
    let main_tip = short("HEAD");
    git(repo.path(), &["checkout", "-q", "feature"]);
    assert_eq!(default_base_line(repo.path()), format!("base: {released}"));

    // Back on main, its tip; and the same with HEAD detached there.
    git(repo.path(), &["checkout", "-q", "main"]);
    assert_eq!(default_base_line(repo.path()), format!("base: {main_tip}"));
    git(repo.path(), &["checkout", "-q", "--detach", "main"]);
    assert_eq!(default_base_line(repo.path()), format!("base: {main_tip}"));

    // `main` comes before `master`, whichever is checked out.
    git(repo.path(), &["branch", "-q", "master", &released]);
    git(repo.path(), &["checkout", "-q", "feature"]);
    git(
        repo.path(),
        &["merge", "-q", "main", "-m", "main into feature"],
    );
    assert_eq!(default_base_line(repo.path()), format!("base: {main_tip}"));

    // A broken ref beside a sound main branch changes nothing.
    let broken = repo.path().join(".git/refs/remotes/origin");
    fs::create_dir_all(&broken).unwrap();
    fs::write(broken.join("main"), format!("{}\n", "1".repeat(40))).unwrap();
    assert_eq!(default_base_line(repo.path()), format!("base: {main_tip}"));
    fs::remove_file(broken.join("main")).unwrap();

    // No main branch to leave: said, and the base checks are skipped.
    git(repo.path(), &["branch", "-q", "-D", "master"]);
    git(repo.path(), &["branch", "-q", "-m", "main", "trunk"]);
    let line = default_base_line(repo.path());
    assert!(line.contains("no main branch"), "{line}");
}

#[test]
fn a_repository_with_no_commit_yet_has_no_base_to_compare_with() {
    let workspace = common::workspace(&[]);
    git(workspace.path(), &["init", "-q", "-b", "main"]);
    let line = default_base_line(workspace.path());
    assert!(line.contains("no main branch"), "{line}");
}

#[test]
fn the_default_base_is_the_same_whether_refs_are_loose_packed_or_in_a_linked_work_tree() {
    let repo = repository("", "2020-01-01-000000_create_accounts");
    let tip = |dir: &Path, rev: &str| git(dir, &["rev-parse", rev]).trim()[..12].to_owned();
    git(repo.path(), &["checkout", "-q", "-b", "feature"]);
    fs::write(repo.path().join("notes.txt"), "feature\n").unwrap();
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "feature"]);
    let left_main = tip(repo.path(), "main");

    // Packed: no loose file under .git/refs names main any more.
    git(repo.path(), &["pack-refs", "--all"]);
    assert!(!repo.path().join(".git/refs/heads/main").exists());
    assert_eq!(default_base_line(repo.path()), format!("base: {left_main}"));
    git(repo.path(), &["checkout", "-q", "main"]);
    assert_eq!(default_base_line(repo.path()), format!("base: {left_main}"));

    // Only the remote's main, packed as a fetch leaves it.
    let main_id = git(repo.path(), &["rev-parse", "main"]);
    git(
        repo.path(),
        &["update-ref", "refs/remotes/origin/main", main_id.trim()],
    );
    git(repo.path(), &["checkout", "-q", "feature"]);
    git(repo.path(), &["branch", "-q", "-D", "main"]);
    git(repo.path(), &["pack-refs", "--all"]);
    assert_eq!(default_base_line(repo.path()), format!("base: {left_main}"));

    // A linked work tree, whose `.git` is a file: git is asked.
    let linked = tempfile::tempdir().unwrap();
    let linked_tree = linked.path().join("tree");
    git(
        repo.path(),
        &[
            "worktree",
            "add",
            "-q",
            "--detach",
            linked_tree.to_str().unwrap(),
            "origin/main",
        ],
    );
    assert!(linked_tree.join(".git").is_file());
    assert_eq!(
        default_base_line(&linked_tree),
        format!("base: {left_main}")
    );
}

#[test]
fn a_main_branch_naming_a_commit_the_repository_lacks_skips_the_base_and_is_no_input_error() {
    let repo = repository("", "2020-01-01-000000_create_accounts");
    git(repo.path(), &["branch", "-q", "-m", "main", "trunk"]);
    let remotes = repo.path().join(".git/refs/remotes/origin");
    fs::create_dir_all(&remotes).unwrap();
    fs::write(remotes.join("main"), format!("{}\n", "1".repeat(40))).unwrap();
    let line = default_base_line(repo.path());
    assert!(line.contains("skipped"), "{line}");
}
