//! A PostgreSQL cluster of our own, started from the installed binaries in a private
//! directory and removed when it is no longer needed — also after a panic, and, for a process
//! that was killed, by the next one that starts a cluster.

use std::fs;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use crate::binaries::PgBinaries;
use crate::conninfo::DatabaseUrl;
use crate::process::{RunAs, run};
use crate::{OnlineError, Result};

const DIR_PREFIX: &str = "plumb-pg-";
const OWNER_FILE: &str = "owner.pid";
const SUPERUSER: &str = "postgres";
/// A directory with no owner file is a start that died before writing it; give such a start
/// this long before calling the directory abandoned.
const ORPHAN_GRACE: Duration = Duration::from_secs(600);

/// A running throwaway cluster. Dropping it stops the server and deletes its files.
#[derive(Debug)]
pub struct ThrowawayCluster {
    root: PathBuf,
    binaries: PgBinaries,
    run_as: RunAs,
    port: u16,
    url: DatabaseUrl,
    stopped: Mutex<bool>,
    /// Its entry among what an interrupt cleans up.
    interrupt_key: u64,
}

impl ThrowawayCluster {
    /// Sweeps clusters left by killed processes, then creates and starts a new one.
    pub fn start() -> Result<Self> {
        Self::start_with_environment(&[])
    }

    /// [`ThrowawayCluster::start`], the server started with `environment` set (`LOCPATH`,
    /// say, for locales of a test's own).
    pub fn start_with_environment(environment: &[(&str, &std::ffi::OsStr)]) -> Result<Self> {
        Self::start_on(PgBinaries::locate()?, environment)
    }

    /// [`ThrowawayCluster::start_with_environment`] from the programs of `binaries` (another
    /// version than the one found by default, say).
    pub fn start_on(
        binaries: PgBinaries,
        environment: &[(&str, &std::ffi::OsStr)],
    ) -> Result<Self> {
        let run_as = RunAs::for_this_process()?;
        sweep_leftover_clusters();

        let root = tempfile::Builder::new()
            .prefix(DIR_PREFIX)
            .tempdir()
            .map_err(OnlineError::io(
                "creating a directory for the throwaway cluster",
            ))?
            .keep();
        // Written whole, then renamed into place: a sweep running meanwhile (another start in
        // this process, say) must never read a half-written owner as a dead one.
        let partial = root.join(format!("{OWNER_FILE}.partial"));
        let mut owner = fs::File::create(&partial)
            .map_err(OnlineError::io(format!("writing {}", partial.display())))?;
        writeln!(owner, "{}", crate::process::identity())
            .map_err(OnlineError::io(format!("writing {}", partial.display())))?;
        drop(owner);
        fs::rename(&partial, root.join(OWNER_FILE)).map_err(OnlineError::io(format!(
            "writing {}",
            root.join(OWNER_FILE).display()
        )))?;

        // From here on, dropping `cluster` cleans up whatever was created, and so does Ctrl-C.
        let interrupt_key = crate::interrupt::register(crate::interrupt::Made::Cluster {
            binaries: binaries.clone(),
            run_as,
            root: root.clone(),
        });
        let mut cluster = Self {
            interrupt_key,
            url: DatabaseUrl::for_socket(&root, 0, SUPERUSER, "postgres"),
            root,
            binaries,
            run_as,
            port: 0,
            stopped: Mutex::new(false),
        };
        run_as.give(&cluster.root)?;
        cluster.initdb()?;
        cluster.start_server(environment)?;
        Ok(cluster)
    }

    /// The superuser's URL for the `postgres` database, through the private socket.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn log_file(&self) -> PathBuf {
        self.root.join("postgres.log")
    }

    fn initdb(&self) -> Result<()> {
        let mut command = self.run_as.command(&self.binaries.initdb(), &self.root);
        command
            .arg("--pgdata")
            .arg(self.data_dir())
            .args([
                "--username",
                SUPERUSER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
            ])
            .args(["--no-locale", "--no-sync"]);
        run("initdb", &mut command).map(drop)
    }

    fn start_server(&mut self, environment: &[(&str, &std::ffi::OsStr)]) -> Result<()> {
        // The port only names the socket file in our private directory, yet a free TCP port
        // keeps it clear of any server a tool might look for on this machine.
        let mut last_error = None;
        for _ in 0..3 {
            let port = free_port()?;
            self.write_settings(port)?;
            let mut command = self.run_as.command(&self.binaries.pg_ctl(), &self.root);
            command
                .arg("start")
                .arg("--pgdata")
                .arg(self.data_dir())
                .arg("--log")
                .arg(self.log_file())
                .args(["--wait", "--timeout", "60", "--silent"])
                .envs(environment.iter().copied());
            match run("starting the server", &mut command) {
                Ok(_) => {
                    self.port = port;
                    self.url = DatabaseUrl::for_socket(&self.root, port, SUPERUSER, "postgres");
                    return Ok(());
                }
                Err(error) => last_error = Some(self.with_log(error)),
            }
        }
        Err(last_error.unwrap_or(OnlineError::Cluster {
            step: "starting the server",
            detail: String::new(),
        }))
    }

    fn write_settings(&self, port: u16) -> Result<()> {
        let socket_dir = self.root.to_string_lossy().replace('\'', "''");
        // Durability is worthless for a cluster deleted after use; speed is not.
        let settings = format!(
            "\n# plumb throwaway cluster\n\
             port = {port}\n\
             listen_addresses = ''\n\
             unix_socket_directories = '{socket_dir}'\n\
             fsync = off\n\
             synchronous_commit = off\n\
             full_page_writes = off\n\
             max_connections = 200\n"
        );
        let conf = self.data_dir().join("postgresql.auto.conf");
        fs::write(&conf, settings)
            .map_err(OnlineError::io(format!("writing {}", conf.display())))?;
        self.run_as.give(&conf)
    }

    fn with_log(&self, error: OnlineError) -> OnlineError {
        let log = fs::read_to_string(self.log_file()).unwrap_or_default();
        let tail: Vec<&str> = log
            .lines()
            .rev()
            .take(10)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        match error {
            OnlineError::Cluster { step, detail } if !tail.is_empty() => OnlineError::Cluster {
                step,
                detail: format!("{detail}\nserver log:\n{}", tail.join("\n")),
            },
            other => other,
        }
    }

    /// Stops the server and deletes the cluster's files. Safe to call more than once.
    pub fn stop(&self) {
        let mut stopped = self
            .stopped
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !*stopped {
            stop_and_remove(&self.binaries, self.run_as, &self.root);
            crate::interrupt::forget(self.interrupt_key);
            *stopped = true;
        }
    }
}

/// A hot standby streaming from a throwaway cluster: a data directory of its own inside the
/// cluster's directory, a port of its own on the same private socket directory. Dropping it
/// stops it; dropping the cluster stops both.
#[derive(Debug)]
pub struct Standby {
    root: PathBuf,
    data: PathBuf,
    binaries: PgBinaries,
    run_as: RunAs,
    url: DatabaseUrl,
    name: String,
}

impl ThrowawayCluster {
    /// Starts a hot standby of this cluster, named `name` (its `cluster_name`, which the
    /// primary's `pg_stat_replication` shows as its `application_name`): a base backup taken
    /// with `pg_basebackup -R`, started streaming. It reports its replay position every second.
    pub fn start_standby(&self, name: &str) -> Result<Standby> {
        self.start_standby_with(name, &[])
    }

    /// [`ThrowawayCluster::start_standby`], with these settings of the standby's own
    /// (`max_standby_streaming_delay`, say).
    pub fn start_standby_with(&self, name: &str, extra: &[(&str, &str)]) -> Result<Standby> {
        if !self.binaries.pg_basebackup().is_file() {
            return Err(OnlineError::Cluster {
                step: "starting a standby",
                detail: format!("{} has no pg_basebackup", self.binaries.bindir().display()),
            });
        }
        let data = self.root.join(format!("standby-{name}"));
        let mut command = self
            .run_as
            .command(&self.binaries.pg_basebackup(), &self.root);
        command
            .arg("--pgdata")
            .arg(&data)
            .arg("--host")
            .arg(&self.root)
            .arg("--port")
            .arg(self.port.to_string())
            .args(["--username", SUPERUSER, "--write-recovery-conf"])
            .args(["--wal-method", "stream", "--checkpoint", "fast"]);
        run("taking the standby's base backup", &mut command)?;
        let mut last_error = None;
        for _ in 0..3 {
            let port = free_port()?;
            let socket_dir = self.root.to_string_lossy().replace('\'', "''");
            let conf = data.join("postgresql.auto.conf");
            // After what pg_basebackup wrote (primary_conninfo): later lines win.
            let mut settings = fs::read_to_string(&conf).unwrap_or_default();
            settings.push_str(&format!(
                "\n# plumb standby\n\
                 port = {port}\n\
                 unix_socket_directories = '{socket_dir}'\n\
                 hot_standby = on\n\
                 wal_receiver_status_interval = 1s\n\
                 cluster_name = '{}'\n",
                name.replace('\'', "''")
            ));
            for (setting, value) in extra {
                settings.push_str(&format!("{setting} = '{}'\n", value.replace('\'', "''")));
            }
            fs::write(&conf, settings)
                .map_err(OnlineError::io(format!("writing {}", conf.display())))?;
            self.run_as.give(&conf)?;
            let mut command = self.run_as.command(&self.binaries.pg_ctl(), &self.root);
            command
                .arg("start")
                .arg("--pgdata")
                .arg(&data)
                .arg("--log")
                .arg(self.root.join(format!("standby-{name}.log")))
                .args(["--wait", "--timeout", "60", "--silent"]);
            match run("starting the standby", &mut command) {
                Ok(_) => {
                    return Ok(Standby {
                        root: self.root.clone(),
                        url: DatabaseUrl::for_socket(&self.root, port, SUPERUSER, "postgres"),
                        data,
                        binaries: self.binaries.clone(),
                        run_as: self.run_as,
                        name: name.to_owned(),
                    });
                }
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or(OnlineError::Cluster {
            step: "starting the standby",
            detail: String::new(),
        }))
    }
}

impl Standby {
    /// The superuser's URL for its `postgres` database: reads only.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Standby {
    fn drop(&mut self) {
        stop_server(&self.binaries, self.run_as, &self.root, &self.data);
    }
}

impl Drop for ThrowawayCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> Result<u16> {
    let listener =
        TcpListener::bind(("127.0.0.1", 0)).map_err(OnlineError::io("finding a free port"))?;
    let port = listener
        .local_addr()
        .map_err(OnlineError::io("finding a free port"))?
        .port();
    Ok(port)
}

/// Stops the server of `data` (a cluster's, or a standby's inside it) if it runs.
fn stop_server(binaries: &PgBinaries, run_as: RunAs, root: &Path, data: &Path) {
    if data.join("postmaster.pid").exists() {
        let mut command = run_as.command(&binaries.pg_ctl(), root);
        command.arg("stop").arg("--pgdata").arg(data).args([
            "--mode",
            "immediate",
            "--wait",
            "--silent",
        ]);
        if let Err(error) = run("stopping the server", &mut command) {
            tracing::warn!(%error, data = %data.display(), "could not stop a throwaway server");
        }
    }
}

pub(crate) fn stop_and_remove(binaries: &PgBinaries, run_as: RunAs, root: &Path) {
    // Its standbys first: each streams from the cluster.
    for entry in fs::read_dir(root).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with("standby-") && entry.path().is_dir() {
            stop_server(binaries, run_as, root, &entry.path());
        }
    }
    stop_server(binaries, run_as, root, &root.join("data"));
    if let Err(error) = fs::remove_dir_all(root) {
        tracing::warn!(%error, root = %root.display(), "could not remove a throwaway cluster");
    }
}

/// Stops and removes throwaway clusters whose owning process is gone (killed, or crashed
/// before it could clean up). Clusters of live processes are left alone. Returns the
/// directories removed.
pub fn sweep_leftover_clusters() -> Vec<PathBuf> {
    let Ok(binaries) = PgBinaries::locate() else {
        return Vec::new();
    };
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.filter_map(|e| e.ok()) {
        let root = entry.path();
        let is_ours = entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.starts_with(DIR_PREFIX));
        if is_ours && root.is_dir() && is_abandoned(&root) {
            tracing::info!(root = %root.display(), "removing a throwaway cluster left by a process that is gone");
            stop_and_remove(&binaries, RunAs::owner_of(&root), &root);
            removed.push(root);
        }
    }
    removed
}

fn is_abandoned(root: &Path) -> bool {
    match fs::read_to_string(root.join(OWNER_FILE)) {
        Ok(text) if !text.trim().is_empty() => {
            let owner = text.trim();
            owner != crate::process::identity() && !crate::process::is_running(owner)
        }
        // No owner (yet): a start under way, abandoned only once it is old.
        Ok(_) | Err(_) => fs::metadata(root)
            .and_then(|meta| meta.modified())
            .ok()
            .and_then(|modified| SystemTime::now().duration_since(modified).ok())
            .is_some_and(|age| age > ORPHAN_GRACE),
    }
}
