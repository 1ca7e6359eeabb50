//! DDL under a short `lock_timeout`, retried with jittered exponential backoff.
//!
//! A catalog-only ALTER holds its lock for well under a millisecond; the danger is waiting for
//! it. While an ALTER waits behind a long query, every later query on the table queues behind
//! the ALTER. So each attempt waits at most `lock_timeout`, then gives the lock up (and the
//! queue with it), backs off and tries again, within a budget of attempts and of time.

use std::collections::BTreeSet;
use std::error::Error as StdError;
use std::time::{Duration, Instant};

use diesel::PgConnection;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sql_types::Text;

use crate::{OnlineError, Result};
use plumb_check::input::settings::LockSettings;
use plumb_pg::DatabaseUrl;
use plumb_pg::error_texts::{ErrorTexts, LearnError};
use plumb_pg::observe::{LockTrace, Queue, watch_bounded};
use plumb_pg::{ScriptError, ScriptFailure};

pub(crate) type BoxError = Box<dyn StdError + Send + Sync>;

/// How long one attempt may wait for a lock, and how often and how long to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockPolicy {
    /// Set on the DDL connection for every attempt; never zero.
    pub lock_timeout: Duration,
    /// Set on the DDL connection too: bounds a statement that got its lock but runs away.
    pub statement_timeout: Duration,
    /// The `lock_timeout` of a migration that builds indexes CONCURRENTLY. Such a build waits
    /// for older transactions while holding only SHARE UPDATE EXCLUSIVE, which queues nobody's
    /// reads or writes, so a short timeout would only throw its work away.
    pub concurrent_lock_timeout: Duration,
    /// Attempts per step, the first one included.
    pub max_attempts: u32,
    /// Total time per step, waits and backoff included: no attempt starts that could end
    /// after it.
    pub budget: Duration,
    /// Backoff before the second attempt; it doubles each time up to `max_backoff`, and each
    /// is drawn between half of it and all of it.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// Every pause is at least this many `lock_timeout`s, before the backoff is added: the
    /// requests that queued behind a timed-out attempt are served before the next one queues
    /// more, so stalls do not add up.
    pub drain_ratio: u32,
}

/// The policy `plumb.toml`'s `[lock]` sets (its defaults when it sets none): one policy for the
/// runner, `not-null`, backfills and the checker.
impl From<&LockSettings> for LockPolicy {
    fn from(settings: &LockSettings) -> Self {
        Self {
            lock_timeout: Duration::from_millis(settings.timeout_ms),
            statement_timeout: Duration::from_secs(settings.statement_timeout_s),
            concurrent_lock_timeout: Duration::from_secs(settings.concurrent_timeout_s),
            max_attempts: settings.attempts,
            budget: Duration::from_secs(settings.budget_s),
            first_backoff: Duration::from_millis(settings.first_backoff_ms),
            max_backoff: Duration::from_millis(settings.max_backoff_ms),
            drain_ratio: settings.drain_ratio,
        }
    }
}

impl Default for LockPolicy {
    fn default() -> Self {
        Self::from(&LockSettings::default())
    }
}

impl LockPolicy {
    /// Refuses a policy that would run without a lock timeout or could never try.
    pub fn validate(&self) -> Result<()> {
        let problem = if self.lock_timeout.is_zero() || self.concurrent_lock_timeout.is_zero() {
            "lock_timeout must be above zero: an attempt without it can queue every query on the table behind it"
        } else if self.statement_timeout.is_zero() {
            "statement_timeout must be above zero"
        } else if self.max_attempts == 0 {
            "the number of attempts must be at least 1"
        } else if self.budget < self.lock_timeout {
            "the time budget must be at least one lock_timeout"
        } else {
            return Ok(());
        };
        Err(OnlineError::Invalid(problem.to_owned()))
    }

    /// The pause after `failed` failed attempts (1-based) that each waited up to
    /// `lock_timeout`: the time for the queue they built to drain, then a backoff that doubles
    /// each time, jittered.
    pub(crate) fn backoff(&self, failed: u32, lock_timeout: Duration) -> Duration {
        let doubled = self
            .first_backoff
            .saturating_mul(1u32 << failed.saturating_sub(1).min(20));
        let ceiling = doubled.min(self.max_backoff);
        let mut bytes = [0u8; 8];
        let unit = match getrandom::fill(&mut bytes) {
            Ok(()) => (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64,
            Err(_) => 0.5,
        };
        lock_timeout.saturating_mul(self.drain_ratio) + ceiling.mul_f64(0.5 + unit / 2.0)
    }
}

/// What it took to get one step done.
#[derive(Debug, Clone, Default)]
pub struct Attempts {
    pub attempts: u32,
    /// Time spent waiting for locks, over every attempt.
    pub lock_wait: Duration,
    /// Time during which an ACCESS EXCLUSIVE lock was held, over every attempt.
    pub exclusive_held: Duration,
    /// Every lock hold seen, and the queue behind each attempt, over every attempt.
    pub trace: LockTrace,
    pub elapsed: Duration,
}

impl Attempts {
    /// What the step cost other sessions: every query seen waiting behind one of its attempts.
    pub fn queue(&self) -> &Queue {
        &self.trace.queue
    }
}

/// A failed attempt, as the caller hears of it before the next one.
#[derive(Debug, Clone)]
pub struct Retry {
    pub what: String,
    pub attempt: u32,
    /// How long the attempt waited for its lock before lock_timeout stopped it.
    pub waited: Duration,
    /// The sessions that held the lock it waited for.
    pub blockers: BTreeSet<String>,
    /// What the attempt cost other sessions while it waited.
    pub queue: Queue,
    pub pause: Duration,
}

/// A connection for DDL with a second one watching it.
pub(crate) struct LockSession {
    pub conn: PgConnection,
    observer: PgConnection,
    policy: LockPolicy,
    target: String,
    /// How the server words a lock timeout and a cancel.
    texts: ErrorTexts,
}

impl std::fmt::Debug for LockSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockSession")
            .field("target", &self.target)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl LockSession {
    pub fn open(url: &DatabaseUrl, policy: &LockPolicy, application_name: &str) -> Result<Self> {
        policy.validate()?;
        let target = url.describe();
        let mut conn = url.connect()?;
        let mut observer = url.connect()?;
        let query = |context: &'static str| {
            let target = target.clone();
            move |source| OnlineError::Query {
                context: context.into(),
                target,
                source,
            }
        };
        diesel::sql_query("SELECT set_config('application_name', $1, false)")
            .bind::<Text, _>(application_name)
            .execute(&mut conn)
            .map_err(query("setting application_name"))?;
        // How this server words a lock timeout and a cancel, in this session's language.
        let texts = ErrorTexts::learn(&mut conn, &mut observer).map_err(|e| match e {
            LearnError::Query(context, source) => query(context)(source),
            LearnError::NotEnforced(what) => {
                OnlineError::Refused(format!("the server did not enforce {what}"))
            }
        })?;
        diesel::sql_query("SELECT set_config('lock_timeout', $1, false)")
            .bind::<Text, _>(format!("{}ms", policy.lock_timeout.as_millis().max(1)))
            .execute(&mut conn)
            .map_err(query("setting lock_timeout"))?;
        Ok(Self {
            conn,
            observer,
            policy: policy.clone(),
            target,
            texts,
        })
    }

    pub fn target(&self) -> &str {
        &self.target
    }

    /// Whether `error` (a diesel error, or a migration script's) is PostgreSQL's lock timeout.
    pub fn is_lock_timeout(&self, error: &(dyn StdError + 'static)) -> bool {
        database_error(error).is_some_and(|e| self.texts.is_lock_timeout(e))
    }

    /// Whether `error` is PostgreSQL's cancel of a statement (as the observer's cancel reads).
    fn is_cancel(&self, error: &(dyn StdError + 'static)) -> bool {
        database_error(error).is_some_and(|e| self.texts.is_cancel(e))
    }

    /// Runs `step` until it succeeds, retrying only when it was stopped by `lock_timeout`;
    /// each attempt waits up to `lock_timeout` for its locks.
    pub fn run_waiting<T>(
        &mut self,
        what: &str,
        lock_timeout: Duration,
        mut step: impl FnMut(&mut PgConnection) -> std::result::Result<T, BoxError>,
        on_retry: &mut dyn FnMut(&Retry),
    ) -> Result<(T, Attempts)> {
        let started = Instant::now();
        let mut done = Attempts::default();
        let policy = self.policy.clone();
        let value = retry_lock_timeouts(&policy, what, lock_timeout, on_retry, || {
            done.attempts += 1;
            diesel::sql_query(
                "SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)",
            )
            .bind::<Text, _>(format!("{}ms", lock_timeout.as_millis().max(1)))
            .bind::<Text, _>(format!("{}ms", self.policy.statement_timeout.as_millis().max(1)))
            .execute(&mut self.conn)
            .map_err(|source| OnlineError::Query {
                context: "setting lock_timeout and statement_timeout".into(),
                target: self.target.clone(),
                source,
            })?;
            // The statement may lift its own lock_timeout (a DO block, a function): the
            // observer then cancels a wait that outlasts the policy's bound.
            let wait_bound = lock_timeout * 2 + Duration::from_millis(100);
            let (outcome, trace) = watch_bounded(
                &mut self.conn,
                &mut self.observer,
                Some(wait_bound),
                &mut step,
            )
            .map_err(|source| OnlineError::Query {
                context: "watching locks".into(),
                target: self.target.clone(),
                source,
            })?;
            if let Some(waited) = trace.cancelled_wait {
                tracing::warn!(
                    what,
                    waited_ms = waited.as_millis() as u64,
                    bound_ms = wait_bound.as_millis() as u64,
                    "the statement waited for its lock past the policy's bound (its SQL lifted lock_timeout): cancelled"
                );
            }
            done.lock_wait += trace.waited;
            done.exclusive_held += trace.exclusive_total();
            done.trace.blockers.extend(trace.blockers.iter().cloned());
            done.trace.holds.extend(trace.holds);
            done.trace.waited += trace.waited;
            done.trace.queue.absorb(&trace.queue);
            if done.trace.observer_error.is_none() {
                done.trace.observer_error = trace.observer_error;
            }
            match outcome {
                Ok(value) => Ok(Attempt::Done(value)),
                Err(error)
                    if self.is_lock_timeout(error.as_ref())
                        || (trace.cancelled_wait.is_some() && self.is_cancel(error.as_ref())) =>
                {
                    Ok(Attempt::TimedOut {
                        waited: trace.waited,
                        blockers: trace.blockers,
                        queue: trace.queue,
                    })
                }
                Err(error) => Err(OnlineError::StepFailed {
                    what: what.to_owned(),
                    message: plumb_pg::one_line(&error.to_string()),
                }),
            }
        })?;
        done.elapsed = started.elapsed();
        Ok((value, done))
    }
}

/// How one attempt ended, when it did not fail outright.
pub(crate) enum Attempt<T> {
    Done(T),
    /// Stopped by `lock_timeout`, after waiting so long; the sessions seen holding the lock it
    /// waited for, and those seen queued behind it.
    TimedOut {
        waited: Duration,
        blockers: BTreeSet<String>,
        queue: Queue,
    },
}

/// The one retry loop of plumb: `attempt` again after a jittered pause while `lock_timeout`
/// stops it, within the policy's attempts and time budget; any other failure ends it. Kept by
/// hand rather than taken from a backoff crate because its budget counts the next attempt's
/// `lock_timeout` as well as the pause: no attempt starts that could end after the budget.
pub(crate) fn retry_lock_timeouts<T>(
    policy: &LockPolicy,
    what: &str,
    lock_timeout: Duration,
    on_retry: &mut dyn FnMut(&Retry),
    mut attempt: impl FnMut() -> Result<Attempt<T>>,
) -> Result<T> {
    let started = Instant::now();
    let mut blockers = BTreeSet::new();
    for attempts in 1.. {
        let (waited, seen, queue) = match attempt()? {
            Attempt::Done(value) => return Ok(value),
            Attempt::TimedOut {
                waited,
                blockers,
                queue,
            } => (waited, blockers, queue),
        };
        blockers.extend(seen.iter().cloned());
        let pause = policy.backoff(attempts, lock_timeout);
        if attempts >= policy.max_attempts
            || started.elapsed() + pause + lock_timeout > policy.budget
        {
            return Err(OnlineError::LockBudgetExhausted {
                what: what.to_owned(),
                attempts,
                elapsed: started.elapsed(),
                lock_timeout,
                blockers: blockers.into_iter().collect(),
            });
        }
        on_retry(&Retry {
            what: what.to_owned(),
            attempt: attempts,
            waited,
            blockers: seen,
            queue,
            pause,
        });
        std::thread::sleep(pause);
    }
    unreachable!("the attempts run out before u32 does")
}

/// The database error `error` is, or wraps (a migration script's SQL failure).
fn database_error<'e>(error: &'e (dyn StdError + 'static)) -> Option<&'e DieselError> {
    let diesel = match error.downcast_ref::<ScriptError>() {
        Some(ScriptError {
            source: ScriptFailure::Sql(e),
            ..
        }) => e,
        Some(_) => return None,
        None => error.downcast_ref::<DieselError>()?,
    };
    Some(diesel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_lets_the_queue_drain_then_doubles_up_to_the_ceiling_within_its_jitter() {
        let policy = LockPolicy {
            first_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(500),
            drain_ratio: 3,
            ..LockPolicy::default()
        };
        let timeout = Duration::from_millis(100);
        let drain = Duration::from_millis(300);
        let within = |pause: Duration, low: u64, high: u64| {
            (drain + Duration::from_millis(low)..=drain + Duration::from_millis(high))
                .contains(&pause)
        };
        for _ in 0..50 {
            assert!(within(policy.backoff(1, timeout), 50, 100));
            assert!(within(policy.backoff(3, timeout), 200, 400));
            assert!(within(policy.backoff(30, timeout), 250, 500));
        }
    }

    #[test]
    fn a_policy_without_lock_timeout_is_refused() {
        let policy = LockPolicy {
            lock_timeout: Duration::ZERO,
            ..LockPolicy::default()
        };
        assert!(
            policy
                .validate()
                .unwrap_err()
                .to_string()
                .contains("lock_timeout")
        );
    }
}
