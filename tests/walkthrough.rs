//! The life of a new column as the README walks it ("Adding a column, release by release"), on
//! a copy of this repository: `accounts.nickname` is added by `plumb new column`, checked as CI
//! checks a pull request, applied by the runner while release N serves, filled by the
//! backfill the repository defines, and made NOT NULL by `plumb not-null`; each step is judged
//! by what a user would see.
//!
//! Release N is this revision's service, run in this process. Releases N+1 and N+2 are the
//! copy's files: their code is never built here, so the rows N+1 would insert (with a
//! nickname) are not played; N serves reads and writes through the expand step and reads
//! alone once N+1 would have replaced it, as the deploy model has it.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use diesel::prelude::*;
use plumb::scaffold::{NewColumn, Plan, Registration};
use plumb_check::{Base, Settings, Severity};
use plumb_online::LockPolicy;
use plumb_online::backfill::{BackfillOptions, BackfillOutcome, run_backfill};
use plumb_online::runner::{Phase, run_migrations};
use plumb_pg::{MigrationFolders, PgServer, TestDatabase};

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args([
            "-c",
            "user.name=plumb",
            "-c",
            "user.email=plumb@example.com",
        ])
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// What the checker reads of this repository, in a git repository of its own whose first
/// commit is release N.
fn copy_of_the_repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = repository();
    for part in ["migrations", "schemas", "crates/model/src"] {
        copy_dir(&root.join(part), &dir.path().join(part));
    }
    for file in ["diesel.toml", "plumb.toml"] {
        std::fs::copy(root.join(file), dir.path().join(file)).unwrap();
    }
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "release N"]);
    dir
}

/// `plumb check --base HEAD`: the errors, as `code file: message`.
fn errors_against_the_last_release(root: &Path) -> Vec<String> {
    let report =
        plumb_check::check_workspace_against(root, None, &Base::Rev("HEAD".into())).unwrap();
    report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{} {}: {}", f.name, f.span.file.display(), f.message))
        .collect()
}

/// Release N, serving the database.
fn start_release_n(db: &TestDatabase<'_>) -> String {
    plumb_server::app::serve_in_background(&[
        ("DATABASE_URL", db.url().expose().to_owned()),
        ("PLUMB_BIND", "127.0.0.1:0".to_owned()),
    ])
    .unwrap()
}

/// Clients of release N, one request after another until stopped: an account created and read
/// back while `writes` holds, reads of the first account otherwise.
struct Clients {
    writes: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    /// Requests completed, and the signal of each one.
    done: Arc<(Mutex<usize>, Condvar)>,
    failed: Arc<std::sync::Mutex<Vec<String>>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Clients {
    fn start(base: String) -> Clients {
        let writes = Arc::new(AtomicBool::new(true));
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new((Mutex::new(0usize), Condvar::new()));
        let failed = Arc::new(std::sync::Mutex::new(Vec::new()));
        let thread = {
            let (writes, stop, done, failed) = (
                Arc::clone(&writes),
                Arc::clone(&stop),
                Arc::clone(&done),
                Arc::clone(&failed),
            );
            thread::spawn(move || {
                let agent = ureq::Agent::new_with_defaults();
                let mut first: Option<i64> = None;
                let mut n = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let outcome = if writes.load(Ordering::SeqCst) || first.is_none() {
                        agent
                            .post(&format!("{base}/v2/accounts"))
                            .send_json(
                                serde_json::json!({ "email": format!("client{n}@example.com") }),
                            )
                            .map_err(|e| format!("POST: {e}"))
                            .and_then(|mut r| {
                                let created: serde_json::Value =
                                    r.body_mut().read_json().map_err(|e| e.to_string())?;
                                let id = created["id"].as_i64().ok_or("no id")?;
                                first.get_or_insert(id);
                                agent
                                    .get(&format!("{base}/v2/accounts/{id}"))
                                    .call()
                                    .map(drop)
                                    .map_err(|e| format!("GET {id}: {e}"))
                            })
                    } else {
                        let id = first.unwrap_or(1);
                        agent
                            .get(&format!("{base}/v2/accounts/{id}"))
                            .call()
                            .map(drop)
                            .map_err(|e| format!("GET {id}: {e}"))
                    };
                    match outcome {
                        Ok(()) => {}
                        Err(e) => failed.lock().unwrap().push(e),
                    }
                    let (count, signal) = &*done;
                    *count.lock().unwrap() += 1;
                    signal.notify_all();
                }
            })
        };
        Clients {
            writes,
            stop,
            done,
            failed,
            thread: Some(thread),
        }
    }

    /// Waits until the clients have answered `more` requests past `since`, none failed.
    fn served_since(&self, since: usize, more: usize) {
        let (count, signal) = &*self.done;
        let (count, waited) = signal
            .wait_timeout_while(count.lock().unwrap(), Duration::from_secs(120), |n| {
                *n < since + more
            })
            .unwrap();
        assert!(
            !waited.timed_out(),
            "release N answered {} requests in 120 s, not {more}",
            *count - since
        );
        assert_eq!(*self.failed.lock().unwrap(), Vec::<String>::new());
    }

    fn done(&self) -> usize {
        *self.done.0.lock().unwrap()
    }

    fn stop(mut self) -> Vec<String> {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
        self.failed.lock().unwrap().clone()
    }
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    nullable: bool,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    nulls: i64,
}

fn column_state(db: &TestDatabase<'_>, column: &str) -> Column {
    diesel::sql_query(format!(
        "SELECT (SELECT is_nullable = 'YES' FROM information_schema.columns \
                 WHERE table_name = 'accounts' AND column_name = '{column}') AS nullable, \
                (SELECT count(*) FROM accounts WHERE {column} IS NULL) AS nulls"
    ))
    .get_result(&mut db.connect().unwrap())
    .unwrap()
}

/// `wanted`, or `wanted_2`, `wanted_3`, ...: the first name `table` does not have in the
/// schema the repository's migrations build.
fn fresh_column(settings: &Settings, table: &str, wanted: &str) -> String {
    let migrations = plumb_check::read_migrations(&settings.migrations_dir).unwrap();
    let schema = plumb_check::sql::replay_onto(plumb_check::Schema::default(), &migrations);
    let existing = &schema.tables[table];
    std::iter::once(wanted.to_owned())
        .chain((2..).map(|n| format!("{wanted}_{n}")))
        .find(|name| existing.column(name).is_none())
        .unwrap()
}

#[test]
fn a_column_goes_from_expand_to_not_null_while_release_n_serves() {
    let repo = copy_of_the_repository();
    let root = repo.path();
    let server = PgServer::shared().unwrap();
    let db = TestDatabase::migrated(server, &root.join("migrations")).unwrap();
    let clients = Clients::start(start_release_n(&db));
    clients.served_since(0, 20);

    // Release N+1, the pull request: the expand step and the backfill that goes with it. The
    // column is `nickname`, or a name the repository does not have yet if it has one.
    let settings = Settings::load(root).unwrap();
    let name = fresh_column(&settings, "accounts", "nickname");
    let target = format!("accounts.{name}");
    let column = NewColumn {
        sql_type: "text",
        default: None,
        not_null: false,
        registration: Some(Registration::Internal),
    };
    let written = plumb::scaffold::add_column(&settings, &target, &column)
        .and_then(Plan::write)
        .unwrap();
    assert_eq!(
        written.len(),
        3,
        "migration, schema.rs, plumb.toml: {written:?}"
    );
    std::fs::create_dir_all(root.join("backfills")).unwrap();
    std::fs::write(
        root.join(format!("backfills/{name}.toml")),
        format!("table = \"accounts\"\ncolumn = \"{name}\"\nset = \"split_part(email, '@', 1)\"\n"),
    )
    .unwrap();
    assert_eq!(
        errors_against_the_last_release(root),
        Vec::<String>::new(),
        "CI passes release N+1"
    );
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "release N+1"]);

    // Its pre-deploy migrations, while N serves reads and writes.
    let policy = LockPolicy::from(&settings.lock);
    let before = clients.done();
    let folders = MigrationFolders::read(&settings.migrations_dir).unwrap();
    let report =
        run_migrations(db.url(), &folders, Phase::PreDeploy, &policy, &mut |_| {}).unwrap();
    assert_eq!(report.applied.len(), 1);
    clients.served_since(before, 20);
    assert!(column_state(&db, &name).nullable);

    // N+1 has replaced N's writes (N still answers reads); the backfill the repository defines.
    clients.writes.store(false, Ordering::SeqCst);
    let defined = plumb::online::read_backfill(root, &name).unwrap();
    let options = BackfillOptions {
        policy: policy.clone(),
        ..BackfillOptions::default()
    };
    let stop = AtomicBool::new(false);
    let filled = run_backfill(db.url(), &defined.spec, &options, &stop, &mut |_| {}).unwrap();
    assert_eq!(filled.outcome, BackfillOutcome::Complete);
    assert_eq!(column_state(&db, &name).nulls, 0);

    // Release N+2: NOT NULL through the repository, while N's reads go on.
    let before = clients.done();
    plumb::online::not_null_through_repository(
        db.url(),
        &settings,
        &policy,
        &target,
        plumb::online::Format::Json,
    )
    .unwrap();
    clients.served_since(before, 20);
    assert!(
        !column_state(&db, &name).nullable,
        "the database has it NOT NULL"
    );
    let schema = std::fs::read_to_string(root.join("crates/model/src/schema.rs")).unwrap();
    assert!(
        schema.contains(&format!("        {name} -> Text,\n")),
        "{schema}"
    );

    // CI now names what the release's code must still do: insert the column. A suppression
    // on the struct names display_name only, so it cannot hide the new column.
    let errors = errors_against_the_last_release(root);
    assert!(
        errors.len() == 1
            && errors[0].starts_with("insert-missing-required-column crates/model/src/account.rs")
            && errors[0].contains(&format!("without `{name}`")),
        "{errors:?}"
    );
    let model = root.join("crates/model/src/account.rs");
    let text = std::fs::read_to_string(&model).unwrap();
    let insert = "struct NewAccountBase<'a> {\n    email: &'a str,\n";
    assert!(
        text.contains(insert),
        "the model's insert as this test knows it"
    );
    std::fs::write(
        &model,
        text.replacen(insert, &format!("{insert}    {name}: &'a str,\n"), 1),
    )
    .unwrap();
    assert_eq!(
        errors_against_the_last_release(root),
        Vec::<String>::new(),
        "CI passes release N+2"
    );

    assert_eq!(
        clients.stop(),
        Vec::<String>::new(),
        "release N never failed a request"
    );
}
