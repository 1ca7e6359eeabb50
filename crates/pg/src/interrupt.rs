//! What a process started on PostgreSQL — throwaway clusters, test databases — is cleaned up
//! when Ctrl-C or SIGTERM ends it, not left for a later run to sweep. Each is registered when
//! made and forgotten when dropped; [`clean_up_on_interrupt`] installs the handler.

use std::path::PathBuf;
use std::sync::{Mutex, Once};

use crate::DatabaseUrl;
use crate::binaries::PgBinaries;
use crate::process::RunAs;

#[derive(Debug, Clone)]
pub(crate) enum Made {
    Cluster {
        binaries: PgBinaries,
        run_as: RunAs,
        root: PathBuf,
    },
    Database {
        admin: DatabaseUrl,
        name: String,
    },
}

static MADE: Mutex<Vec<(u64, Made)>> = Mutex::new(Vec::new());
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn made() -> std::sync::MutexGuard<'static, Vec<(u64, Made)>> {
    MADE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Remembers something to clean up on an interrupt; gives the key that forgets it. Made while
/// an interrupt is being cleaned up (work that went on as its database was dropped under it),
/// it is cleaned up at once: the handler has already taken the list.
pub(crate) fn register(thing: Made) -> u64 {
    let key = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    {
        let mut made = made();
        if !interrupted() {
            made.push((key, thing));
            return key;
        }
    }
    clean_up(vec![thing]);
    key
}

/// Whether an interrupt is being cleaned up: nothing new should be made.
pub(crate) fn interrupted() -> bool {
    INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst)
}

/// It was cleaned up the ordinary way.
pub(crate) fn forget(key: u64) {
    made().retain(|(k, _)| *k != key);
}

/// From now on, the first SIGINT or SIGTERM drops the test databases and stops and removes the
/// throwaway clusters this process made, then ends it with exit code 130. Installed once.
pub fn clean_up_on_interrupt() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let signals = signal_hook::iterator::Signals::new([
            signal_hook::consts::SIGINT,
            signal_hook::consts::SIGTERM,
        ]);
        let Ok(mut signals) = signals else {
            tracing::warn!(
                "cannot listen for Ctrl-C: what this run starts is swept by a later one"
            );
            return;
        };
        std::thread::spawn(move || {
            if signals.forever().next().is_some() {
                // Under the list's lock, so that what is made from now on cleans itself up.
                let things: Vec<Made> = {
                    let mut made = made();
                    INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
                    made.drain(..).map(|(_, thing)| thing).collect()
                };
                clean_up(things);
                end_now(130);
            }
        });
    });
}

/// Ends the process from the handler's thread while the others may still be at work (opening
/// a connection, say): the C library's exit handlers are not run — OpenSSL's tears down its
/// locks under a thread still using them, and the process then died of a segmentation fault
/// instead of exiting with `code` (one Ctrl-C in thirty, on a busy machine). What those handlers
/// would stop, the clean-up has stopped already. Output is written line by line (stderr at
/// once); only a line not yet ended on stdout is lost, and no lock another thread may hold is
/// waited for.
fn end_now(code: i32) -> ! {
    // SAFETY: `_exit` ends the process at once; nothing after it runs, in this thread or others.
    #[allow(unsafe_code)]
    unsafe {
        libc::_exit(code)
    }
}

/// Called where the process would end: while an interrupt is being cleaned up (the work failed
/// because its database was dropped under it), waits for the handler, which ends the process
/// with 130; otherwise returns at once.
pub fn unless_interrupted() {
    while INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst) {
        std::thread::park();
    }
}

/// Databases first (their server may be one of the clusters), then clusters.
fn clean_up(things: Vec<Made>) {
    for thing in things.iter().rev() {
        if let Made::Database { admin, name } = thing
            && let Ok(mut conn) = admin.connect()
        {
            let _ = crate::sql::drop_database(&mut conn, name);
        }
    }
    for thing in things.iter().rev() {
        if let Made::Cluster {
            binaries,
            run_as,
            root,
        } = thing
        {
            crate::cluster::stop_and_remove(binaries, *run_as, root);
        }
    }
}
