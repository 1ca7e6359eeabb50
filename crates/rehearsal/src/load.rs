//! The clients: an open-loop mix of reads, keyset lists, creates and updates, each request
//! routed to release N or N+1 by the share the walk sets, each one's latency recorded, and
//! every write the service acknowledged kept for the check at the end.
//!
//! Request k is due at k / rate seconds; its latency counts from when it was due, so a client
//! held up behind a lock is charged for the requests it could not send meanwhile.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::service::agent;

/// Which release answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    N,
    N1,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Read,
    List,
    Create,
    Update,
}

/// One request.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// When it was due, from the start of the load.
    pub due: Duration,
    /// From when it was due to when its answer was read.
    pub latency: Duration,
    pub ok: bool,
    pub op: Op,
    pub release: Release,
}

impl Sample {
    pub fn done(&self) -> Duration {
        self.due + self.latency
    }
}

/// Where requests go: release N, and release N+1 once it is up, for the share of requests the
/// walk gives it.
#[derive(Debug)]
pub struct Routing {
    n: Mutex<Option<String>>,
    n1: Mutex<Option<String>>,
    /// Percent of requests sent to N+1.
    share_n1: AtomicU32,
    /// Clients use N+1's API version 3, which exposes the column, once only N+1 serves.
    exposed: AtomicBool,
}

impl Routing {
    pub fn new(n: String) -> Routing {
        Routing {
            n: Mutex::new(Some(n)),
            n1: Mutex::new(None),
            share_n1: AtomicU32::new(0),
            exposed: AtomicBool::new(false),
        }
    }

    /// From now on, clients use `/v3`: only release N+1 has it.
    pub fn expose(&self) {
        self.exposed.store(true, Ordering::SeqCst);
    }

    pub fn add_n1(&self, base: String) {
        *self.n1.lock().unwrap_or_else(|p| p.into_inner()) = Some(base);
    }

    pub fn set_share_n1(&self, percent: u32) {
        self.share_n1.store(percent.min(100), Ordering::SeqCst);
    }

    /// Release N is stopped: nothing is sent to it any more.
    pub fn retire_n(&self) {
        self.set_share_n1(100);
        *self.n.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The release and the base URL of request `k`, with its API version.
    fn pick(&self, k: u64) -> Option<(Release, String)> {
        let n1 = self.n1.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let n = self.n.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let to_n1 = (k % 100) < u64::from(self.share_n1.load(Ordering::SeqCst));
        let (release, base) = match (to_n1, n1, n) {
            (true, Some(base), _) | (false, Some(base), None) => (Release::N1, base),
            (_, _, Some(base)) => (Release::N, base),
            (_, None, None) => return None,
        };
        let version = if release == Release::N1 && self.exposed.load(Ordering::SeqCst) {
            "v3"
        } else {
            "v2"
        };
        Some((release, format!("{base}/{version}")))
    }
}

#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Requests per second, over all clients.
    pub rate: u64,
    pub clients: usize,
    /// Accounts 1..=seeded exist from the start.
    pub seeded: i64,
    /// Makes the emails of this run's creates its own.
    pub tag: String,
}

/// What the clients did, merged.
#[derive(Debug, Default)]
pub struct Recorded {
    pub samples: Vec<Sample>,
    /// Every create the service acknowledged: id and email.
    pub created: Vec<(i64, String)>,
    /// The last status each account was acknowledged updated to; accounts whose update was
    /// not acknowledged (it may or may not have happened) are left out.
    pub updated: BTreeMap<i64, String>,
    /// The first failures, for the report.
    pub failures: Vec<String>,
}

#[derive(Debug)]
pub struct Load {
    stop: Arc<AtomicBool>,
    threads: Vec<thread::JoinHandle<Recorded>>,
    started: Instant,
}

impl Load {
    pub fn start(routing: Arc<Routing>, options: &LoadOptions) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let next = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let threads = (0..options.clients)
            .map(|client| {
                let (routing, stop, next) =
                    (Arc::clone(&routing), Arc::clone(&stop), Arc::clone(&next));
                let options = options.clone();
                thread::spawn(move || {
                    client_loop(client, &routing, &stop, &next, started, &options)
                })
            })
            .collect();
        Load {
            stop,
            threads,
            started,
        }
    }

    /// Time since the load started: the walk's clock.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    pub fn stop(self) -> Recorded {
        self.stop.store(true, Ordering::SeqCst);
        let mut all = Recorded::default();
        for thread in self.threads {
            let Ok(recorded) = thread.join() else {
                all.failures.push("a client thread panicked".into());
                continue;
            };
            all.samples.extend(recorded.samples);
            all.created.extend(recorded.created);
            all.updated.extend(recorded.updated);
            if all.failures.len() < 20 {
                all.failures.extend(recorded.failures.into_iter().take(20));
            }
        }
        all.samples.sort_by_key(|s| s.due);
        all
    }
}

fn client_loop(
    client: usize,
    routing: &Routing,
    stop: &AtomicBool,
    next: &AtomicU64,
    started: Instant,
    options: &LoadOptions,
) -> Recorded {
    let agent = agent(Duration::from_secs(30));
    let mut recorded = Recorded::default();
    let mut uncertain: BTreeSet<i64> = BTreeSet::new();
    let rate = options.rate.max(1) as f64;
    let seeded = u64::try_from(options.seeded.max(1)).unwrap_or(1);
    loop {
        let k = next.fetch_add(1, Ordering::SeqCst);
        let due = Duration::from_secs_f64(k as f64 / rate);
        let wait = (started + due).saturating_duration_since(Instant::now());
        if stop.load(Ordering::SeqCst) {
            break;
        }
        if !wait.is_zero() {
            thread::sleep(wait);
        }
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Some((release, api)) = routing.pick(k) else {
            break;
        };
        // Version 3 shows the nickname: every account has one, the part of its email before
        // `@` (the backfill's for seeded rows, the model's for new ones).
        let exposed = api.ends_with("/v3");
        let mine = recorded.created.len();
        let op = match k % 20 {
            0..=11 => Op::Read,
            12 | 13 => Op::List,
            14..=17 => Op::Create,
            _ if mine > 0 => Op::Update,
            _ => Op::Read,
        };
        let seeded_id = 1 + k.wrapping_mul(2_654_435_761) % seeded;
        let outcome: Result<(), String> = match op {
            Op::Read => agent
                .get(&format!("{api}/accounts/{seeded_id}"))
                .call()
                .map_err(|e| format!("GET {api}/accounts/{seeded_id}: {e}"))
                .and_then(|mut response| {
                    if !exposed {
                        return Ok(());
                    }
                    let account: serde_json::Value = response
                        .body_mut()
                        .read_json()
                        .map_err(|e| format!("GET {api}/accounts/{seeded_id}: {e}"))?;
                    shows_nickname(&account, &format!("seed{seeded_id}"))
                }),
            Op::List => agent
                .get(&format!("{api}/accounts?after={seeded_id}&limit=20"))
                .call()
                .map(drop)
                .map_err(|e| format!("GET {api}/accounts?after={seeded_id}: {e}")),
            Op::Create => {
                let email = format!("{}-{client}-{k}@example.com", options.tag);
                agent
                    .post(&format!("{api}/accounts"))
                    .send_json(serde_json::json!({ "email": email }))
                    .map_err(|e| format!("POST {api}/accounts: {e}"))
                    .and_then(|mut response| {
                        let created: serde_json::Value = response
                            .body_mut()
                            .read_json()
                            .map_err(|e| format!("POST {api}/accounts: {e}"))?;
                        let id = created["id"]
                            .as_i64()
                            .ok_or(format!("POST {api}/accounts: no id in the answer"))?;
                        recorded.created.push((id, email.clone()));
                        if exposed {
                            shows_nickname(&created, email.split('@').next().unwrap_or(""))?;
                        }
                        Ok(())
                    })
            }
            Op::Update => {
                let (id, _) = recorded.created[usize::try_from(k).unwrap_or(0) % mine];
                let status = if k % 40 < 20 { "suspended" } else { "active" };
                let sent = agent
                    .patch(&format!("{api}/accounts/{id}"))
                    .send_json(serde_json::json!({ "status": status }))
                    .map(drop)
                    .map_err(|e| format!("PATCH {api}/accounts/{id}: {e}"));
                match &sent {
                    Ok(()) if !uncertain.contains(&id) => {
                        recorded.updated.insert(id, status.to_owned());
                    }
                    Ok(()) => {}
                    Err(_) => {
                        // It may have been applied: this account's last value is not known.
                        uncertain.insert(id);
                        recorded.updated.remove(&id);
                    }
                }
                sent
            }
        };
        let latency = Instant::now().saturating_duration_since(started + due);
        if let Err(failure) = &outcome
            && recorded.failures.len() < 20
        {
            recorded
                .failures
                .push(format!("{:.2} s: {failure}", due.as_secs_f64()));
        }
        recorded.samples.push(Sample {
            due,
            latency,
            ok: outcome.is_ok(),
            op,
            release,
        });
    }
    recorded
}

/// A version-3 answer must show the account's nickname.
fn shows_nickname(account: &serde_json::Value, expected: &str) -> Result<(), String> {
    match account["nickname"].as_str() {
        Some(nickname) if nickname == expected => Ok(()),
        shown => Err(format!(
            "account {} shown with nickname {shown:?}, not {expected:?}",
            account["id"]
        )),
    }
}
