//! Running PostgreSQL's programs as the right user, and telling whether a process still lives.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::{Gid, Pid, Uid, User};

use crate::{OnlineError, Result};

/// Who runs `initdb`, `pg_ctl` and the server: ourselves, or the `postgres` user when we are
/// root, since PostgreSQL refuses to run as root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunAs {
    Myself,
    User { uid: Uid, gid: Gid },
}

impl RunAs {
    pub(crate) fn for_this_process() -> Result<Self> {
        if !Uid::effective().is_root() {
            return Ok(RunAs::Myself);
        }
        match User::from_name("postgres") {
            Ok(Some(user)) => Ok(RunAs::User {
                uid: user.uid,
                gid: user.gid,
            }),
            _ => Err(OnlineError::NoPostgresUser),
        }
    }

    /// As whoever owns `path`: how a leftover cluster is stopped by the user who started it.
    pub(crate) fn owner_of(path: &Path) -> Self {
        use std::os::unix::fs::MetadataExt;
        match std::fs::metadata(path) {
            Ok(meta) if Uid::effective().is_root() && meta.uid() != 0 => RunAs::User {
                uid: Uid::from_raw(meta.uid()),
                gid: Gid::from_raw(meta.gid()),
            },
            _ => RunAs::Myself,
        }
    }

    /// Gives `path` to the user, so the server can write where we created it.
    pub(crate) fn give(self, path: &Path) -> Result<()> {
        if let RunAs::User { uid, gid } = self {
            std::os::unix::fs::chown(path, Some(uid.as_raw()), Some(gid.as_raw())).map_err(
                OnlineError::io(format!("giving {} to the postgres user", path.display())),
            )?;
        }
        Ok(())
    }

    pub(crate) fn command(self, program: &Path, cwd: &Path) -> Command {
        let mut command = Command::new(program);
        command.current_dir(cwd);
        // A locale from the caller's environment may not exist for the server; the cluster is
        // created with --no-locale anyway.
        command.env_remove("LC_ALL").env("LANG", "C");
        if let RunAs::User { uid, gid } = self {
            command.uid(uid.as_raw()).gid(gid.as_raw());
        }
        command
    }
}

/// Runs a command to completion, turning a failure into an error that carries its output.
pub(crate) fn run(step: &'static str, command: &mut Command) -> Result<Output> {
    let output = command.output().map_err(|e| OnlineError::Cluster {
        step,
        detail: format!("could not start {:?}: {e}", command.get_program()),
    })?;
    if output.status.success() {
        Ok(output)
    } else {
        let text = format!(
            "{} {}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim(),
            String::from_utf8_lossy(&output.stdout).trim()
        );
        Err(OnlineError::Cluster {
            step,
            detail: text.trim().to_owned(),
        })
    }
}

/// Whether a process with this id exists on this machine (it may belong to another user).
/// This process as its leftovers name it: `pid:start`, the start being the kernel's count of
/// clock ticks since boot when it started. A pid alone is reused: a leftover whose owner's pid
/// now belongs to another process would be kept forever.
pub(crate) fn identity() -> String {
    let pid = std::process::id();
    match started(pid) {
        Some(start) => format!("{pid}:{start}"),
        None => pid.to_string(),
    }
}

/// Whether the process an owner label names (`pid` or `pid:start`) still runs.
pub(crate) fn is_running(owner: &str) -> bool {
    let (pid, start) = match owner.split_once(':') {
        Some((pid, start)) => (pid, start.parse::<u64>().ok()),
        None => (owner, None),
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    is_alive(pid) && start.is_none_or(|start| started(pid).is_none_or(|now| now == start))
}

/// When a process started (`/proc/<pid>/stat`, field 22), where the system says.
fn started(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after = stat.rsplit_once(')')?.1;
    after.split_whitespace().nth(19)?.parse().ok()
}

pub(crate) fn is_alive(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    match kill(Pid::from_raw(raw), None) {
        Ok(()) => true,
        Err(Errno::EPERM) => true,
        Err(_) => false,
    }
}

pub(crate) fn hostname() -> String {
    nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "unknown-host".to_owned())
}
