//! What every handler shares, and the one way handlers reach the database.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use actix_web::web;
use diesel::{Connection, PgConnection};
use plumb_model::PgPool;
use plumb_pg::error_texts::ErrorTexts;
use serde_json::Value;

use crate::error::ApiError;
use crate::flags::Flags;

#[derive(Debug, Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub flags: Arc<Flags>,
    pub admin_token: Option<Arc<str>>,
    /// How the database words a timeout, learnt from it at start.
    pub error_texts: Arc<ErrorTexts>,
    /// Whether a shutdown has run out of time, and what it cut off.
    pub cutoff: Arc<Cutoff>,
    /// Built once: `GET /openapi.json`.
    pub openapi: Arc<Value>,
    /// Held by every copy of the state, and dropped after its pool handle (fields drop in
    /// order): once no strong reference is left, every pooled connection has been closed.
    lifetime: Arc<()>,
}

impl AppState {
    /// Runs a request's `work` on a pooled connection on the blocking thread pool (diesel is
    /// synchronous). The one way handlers reach the database: its errors are classified here,
    /// and a shutdown that runs out of time cuts it off.
    pub async fn db<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut PgConnection, &Flags) -> Result<T, ApiError> + Send + 'static,
    {
        self.blocking(work, Some(self.cutoff.clone())).await
    }

    /// [`AppState::db`] for the service's own background work, which no client waits for.
    pub async fn db_in_background<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut PgConnection, &Flags) -> Result<T, ApiError> + Send + 'static,
    {
        self.blocking(work, None).await
    }

    async fn blocking<T, F>(&self, work: F, cutoff: Option<Arc<Cutoff>>) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut PgConnection, &Flags) -> Result<T, ApiError> + Send + 'static,
    {
        // The closure holds the state, not a bare pool handle, so that the state's lifetime
        // also covers connections in use on the blocking pool.
        let state = self.clone();
        web::block(move || {
            let cutoff = cutoff.as_deref();
            let check = || cutoff.map_or(Ok(()), Cutoff::check);
            check()?;
            let mut conn = state.pool.get()?;
            // One transaction, committed only while the shutdown has time left: work it cut
            // off is rolled back, and its client told so.
            let mut cut = None;
            let outcome: Result<T, ApiError> = conn.transaction(|conn| {
                let done = work(conn, &state.flags)?;
                check().map_err(|e| cut.insert(e).clone())?;
                Ok(done)
            });
            match outcome {
                Ok(done) => Ok(done),
                Err(error) if cut.is_some() => Err(error),
                // Work that failed once the deadline had passed is cut off too: its client
                // hears of the stop (the failure itself is logged).
                Err(error) => {
                    let error = error.classified(&state.error_texts);
                    check()?;
                    Err(error)
                }
            }
        })
        .await?
    }

    pub fn new(
        pool: PgPool,
        flags: Arc<Flags>,
        admin_token: Option<Arc<str>>,
        error_texts: ErrorTexts,
        openapi: Arc<Value>,
    ) -> Self {
        Self {
            pool,
            flags,
            admin_token,
            error_texts: Arc::new(error_texts),
            cutoff: Arc::default(),
            openapi,
            lifetime: Arc::new(()),
        }
    }

    /// Goes dead once every copy of the state, and so every pooled connection, is gone. A
    /// process that exits while another thread still closes a TLS connection can crash in
    /// the TLS library's exit handlers; the binary waits for this before it exits.
    pub fn lifetime(&self) -> std::sync::Weak<()> {
        Arc::downgrade(&self.lifetime)
    }
}

/// A shutdown's deadline: once it has passed, work on the database is refused before it starts
/// and rolled back before it commits, each counted, so that nothing a client was not told of
/// is left behind and the exit code can say that work was cut off.
#[derive(Debug, Default)]
pub struct Cutoff {
    passed: AtomicBool,
    cut: AtomicUsize,
}

impl Cutoff {
    /// The shutdown ran out of time.
    pub fn pass(&self) {
        self.passed.store(true, Ordering::SeqCst);
    }

    /// How many requests were cut off.
    pub fn cut(&self) -> usize {
        self.cut.load(Ordering::SeqCst)
    }

    fn check(&self) -> Result<(), ApiError> {
        if self.passed.load(Ordering::SeqCst) {
            self.cut.fetch_add(1, Ordering::SeqCst);
            return Err(ApiError::unavailable(
                "the service stopped before this request finished; nothing was changed; retry",
            ));
        }
        Ok(())
    }
}
