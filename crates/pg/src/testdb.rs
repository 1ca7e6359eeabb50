//! Databases of their own for tests, cloned from a template with the migrations applied, so
//! that tests run in parallel on one server without seeing each other's rows.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_migrations::MigrationHarness;

use crate::conninfo::DatabaseUrl;
use crate::migrations::MigrationFolders;
use crate::process::hostname;
use crate::server::PgServer;
use crate::sql::{drop_database, quote_ident, quote_literal};
use crate::{OnlineError, Result};

const OWNER_TAG: &str = "plumb-test owner=";
const TEMPLATE_TAG: &str = "plumb-template ";

/// A database that exists until this value is dropped.
#[derive(Debug)]
pub struct TestDatabase<'s> {
    server: &'s PgServer,
    name: String,
    url: DatabaseUrl,
    /// Its entry among what an interrupt cleans up.
    interrupt_key: u64,
}

impl<'s> TestDatabase<'s> {
    /// A new database with every migration of `migrations_dir` applied, cloned from a template
    /// that is built once per server and set of migrations.
    pub fn migrated(server: &'s PgServer, migrations_dir: &Path) -> Result<Self> {
        let template = template_for(server, migrations_dir)?;
        Self::create(server, Some(&template))
    }

    /// [`TestDatabase::migrated`] on the process's shared server ([`PgServer::shared`]): what a
    /// test usually wants.
    pub fn shared_migrated(migrations_dir: &Path) -> Result<TestDatabase<'static>> {
        TestDatabase::migrated(PgServer::shared()?, migrations_dir)
    }

    /// A new, empty database.
    pub fn empty(server: &'s PgServer) -> Result<Self> {
        Self::create(server, None)
    }

    fn create(server: &'s PgServer, template: Option<&str>) -> Result<Self> {
        if crate::interrupt::interrupted() {
            return Err(OnlineError::Refused(
                "interrupted: no new test database is made".to_owned(),
            ));
        }
        let mut admin = server.connect()?;
        sweep_once(server, &mut admin);
        let name = unique_name("plumb_t");
        let from = template
            .map(|t| format!(" TEMPLATE {}", quote_ident(t)))
            .unwrap_or_default();
        execute(
            server,
            &mut admin,
            "creating a test database",
            &format!("CREATE DATABASE {}{from}", quote_ident(&name)),
        )?;
        let interrupt_key = crate::interrupt::register(crate::interrupt::Made::Database {
            admin: server.url().clone(),
            name: name.clone(),
        });
        let database = Self {
            server,
            url: server.url().with_database(&name),
            name,
            interrupt_key,
        };
        tag_owner(server, &mut admin, &database.name)?;
        Ok(database)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    pub fn connect(&self) -> Result<PgConnection> {
        self.url.connect()
    }
}

impl Drop for TestDatabase<'_> {
    fn drop(&mut self) {
        let dropped = self.server.connect().and_then(|mut admin| {
            drop_database(&mut admin, &self.name)
                .map_err(|e| query_error(self.server, "dropping a test database", e))
        });
        if let Err(error) = dropped {
            tracing::warn!(%error, database = %self.name, "could not drop a test database");
        }
        crate::interrupt::forget(self.interrupt_key);
    }
}

fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static STARTED: OnceLock<u128> = OnceLock::new();
    let started = STARTED.get_or_init(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros())
            .unwrap_or_default()
    });
    let seq = NEXT.fetch_add(1, Ordering::Relaxed);
    format!(
        "{prefix}_{}_{:x}_{seq}",
        std::process::id(),
        started % 0x1_0000_0000
    )
}

/// The template for a migrations directory: built under an advisory lock, so that processes
/// sharing a server build it once; renamed into place only when complete, so that a crash
/// leaves no half-migrated template behind.
fn template_for(server: &PgServer, migrations_dir: &Path) -> Result<String> {
    static BUILT: OnceLock<Mutex<HashMap<(String, u64), String>>> = OnceLock::new();
    let folders = MigrationFolders::read(migrations_dir)?;
    let fingerprint = folders.fingerprint()?;
    let key = (server.url().describe(), fingerprint);
    let built = BUILT.get_or_init(Default::default);
    let mut built = built
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(name) = built.get(&key) {
        return Ok(name.clone());
    }

    let name = format!("plumb_tpl_{fingerprint:016x}");
    let mut admin = server.connect()?;
    let lock_key = i64::from_ne_bytes(fingerprint.to_ne_bytes());
    let lock = |conn: &mut PgConnection, function: &str| {
        diesel::sql_query(format!("SELECT {function}($1)"))
            .bind::<BigInt, _>(lock_key)
            .execute(conn)
    };
    lock(&mut admin, "pg_advisory_lock")
        .map_err(|source| query_error(server, "locking the template", source))?;
    let comment = template_comment(&folders);
    let outcome = build_template(server, &mut admin, &folders, &name, &comment);
    if outcome.is_ok() {
        // Whether this process built the template or found it, sweep the dead ones.
        drop_older_templates(server, &mut admin, &name, &comment);
    }
    let _ = lock(&mut admin, "pg_advisory_unlock");
    outcome?;
    built.insert(key, name.clone());
    Ok(name)
}

fn build_template(
    server: &PgServer,
    admin: &mut PgConnection,
    folders: &MigrationFolders,
    name: &str,
    comment: &str,
) -> Result<()> {
    if database_exists(server, admin, name)? {
        return Ok(());
    }
    let building = unique_name("plumb_tpl_building");
    execute(
        server,
        admin,
        "creating the template database",
        &format!("CREATE DATABASE {}", quote_ident(&building)),
    )?;
    tag_owner(server, admin, &building)?;
    let migrated = server
        .url()
        .with_database(&building)
        .connect()
        .and_then(|mut conn| {
            conn.run_pending_migrations(folders.clone())
                .map(drop)
                .map_err(|e| OnlineError::Template(format!("{}: {e}", folders.dir.display())))
        });
    if let Err(error) = migrated {
        let _ = drop_database(admin, &building);
        return Err(error);
    }
    let comment = quote_literal(comment);
    for sql in [
        format!(
            "ALTER DATABASE {} RENAME TO {}",
            quote_ident(&building),
            quote_ident(name)
        ),
        format!("ALTER DATABASE {} IS_TEMPLATE true", quote_ident(name)),
        format!("COMMENT ON DATABASE {} IS {comment}", quote_ident(name)),
    ] {
        execute(server, admin, "finishing the template database", &sql)?;
    }
    Ok(())
}

/// What a template says of itself: the host and the migrations directory it was built from.
fn template_comment(folders: &MigrationFolders) -> String {
    let dir = folders
        .dir
        .canonicalize()
        .unwrap_or_else(|_| folders.dir.clone());
    format!("{TEMPLATE_TAG}host={} dir={}", hostname(), dir.display())
}

/// Templates are dead weight once their migrations changed (an older template of the same
/// directory) or their directory is gone (a CI clone in a temporary directory); on this host
/// those are dropped. One a clone is still being made from is left for next time.
fn drop_older_templates(server: &PgServer, admin: &mut PgConnection, current: &str, comment: &str) {
    let sql = format!(
        "SELECT datname AS name, shobj_description(oid, 'pg_database') AS comment FROM pg_database \
         WHERE datname LIKE 'plumb\\_tpl\\_%' AND datname <> {} \
           AND shobj_description(oid, 'pg_database') LIKE {}",
        quote_literal(current),
        quote_literal(&format!("{TEMPLATE_TAG}%"))
    );
    let Ok(rows) = diesel::sql_query(sql).load::<DatabaseRow>(admin) else {
        return;
    };
    let ours = format!("{TEMPLATE_TAG}host={} dir=", hostname());
    for row in rows {
        let Some(dir) = row.comment.as_deref().and_then(|c| c.strip_prefix(&ours)) else {
            continue;
        };
        let outdated =
            row.comment.as_deref() == Some(comment) || !std::path::Path::new(dir).exists();
        if !outdated {
            continue;
        }
        for sql in [
            format!(
                "ALTER DATABASE {} IS_TEMPLATE false",
                quote_ident(&row.name)
            ),
            format!("DROP DATABASE {}", quote_ident(&row.name)),
        ] {
            if execute(server, admin, "dropping an outdated template", &sql).is_err() {
                break;
            }
        }
    }
}

#[derive(QueryableByName)]
struct DatabaseRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    comment: Option<String>,
}

fn database_exists(server: &PgServer, admin: &mut PgConnection, name: &str) -> Result<bool> {
    let rows = diesel::sql_query(
        "SELECT datname AS name, NULL::text AS comment FROM pg_database WHERE datname = $1",
    )
    .bind::<Text, _>(name)
    .load::<DatabaseRow>(admin)
    .map_err(|source| query_error(server, "looking up a database", source))?;
    Ok(!rows.is_empty())
}

fn tag_owner(server: &PgServer, admin: &mut PgConnection, name: &str) -> Result<()> {
    let comment = format!("{OWNER_TAG}{}:{}", hostname(), crate::process::identity());
    let sql = format!(
        "COMMENT ON DATABASE {} IS {}",
        quote_ident(name),
        quote_literal(&comment)
    );
    execute(server, admin, "labelling a test database", &sql)
}

/// Once per process and server: drops test databases whose creating process, on this host, is
/// gone. Databases of other hosts sharing the server are left alone.
fn sweep_once(server: &PgServer, admin: &mut PgConnection) {
    static SWEPT: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    let swept = SWEPT.get_or_init(Default::default);
    let mut swept = swept
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let key = server.url().describe();
    if swept.contains(&key) {
        return;
    }
    swept.push(key);
    for name in sweep_leftover_databases(admin) {
        tracing::info!(database = %name, "dropped a test database left by a process that is gone");
    }
}

/// Drops the test databases of this host whose owning process no longer runs (a test run that
/// was killed); returns their names. Test databases are labelled with their owner when created.
pub fn sweep_leftover_databases(admin: &mut PgConnection) -> Vec<String> {
    let sql = format!(
        "SELECT datname AS name, shobj_description(oid, 'pg_database') AS comment FROM pg_database \
         WHERE shobj_description(oid, 'pg_database') LIKE {}",
        quote_literal(&format!("{OWNER_TAG}%"))
    );
    let Ok(rows) = diesel::sql_query(sql).load::<DatabaseRow>(admin) else {
        return Vec::new();
    };
    let host = hostname();
    let mut dropped = Vec::new();
    for row in rows {
        let Some(owner) = row
            .comment
            .as_deref()
            .and_then(|c| c.strip_prefix(OWNER_TAG))
        else {
            continue;
        };
        // `host:pid:start` (or `host:pid`, as older runs wrote it).
        let Some((owner_host, process)) = owner.split_once(':') else {
            continue;
        };
        if owner_host != host
            || process == crate::process::identity()
            || crate::process::is_running(process)
        {
            continue;
        }
        if drop_database(admin, &row.name).is_ok() {
            dropped.push(row.name);
        }
    }
    dropped
}

fn execute(server: &PgServer, conn: &mut PgConnection, context: &str, sql: &str) -> Result<()> {
    diesel::sql_query(sql)
        .execute(conn)
        .map(drop)
        .map_err(|source| query_error(server, context, source))
}

fn query_error(server: &PgServer, context: &str, source: diesel::result::Error) -> OnlineError {
    OnlineError::Query {
        context: context.to_owned(),
        target: server.url().describe(),
        source,
    }
}
