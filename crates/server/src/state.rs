//! What every handler shares, and the one way handlers reach the database.

use std::sync::Arc;

use actix_web::web;
use diesel::PgConnection;
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
    /// Built once: `GET /openapi.json`.
    pub openapi: Arc<Value>,
    /// Held by every copy of the state, and dropped after its pool handle (fields drop in
    /// order): once no strong reference is left, every pooled connection has been closed.
    lifetime: Arc<()>,
}

impl AppState {
    /// Runs `work` on a pooled connection on the blocking thread pool (diesel is synchronous).
    /// The one way handlers reach the database: its errors are classified here.
    pub async fn db<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut PgConnection, &Flags) -> Result<T, ApiError> + Send + 'static,
    {
        // The closure holds the state, not a bare pool handle, so that the state's lifetime
        // also covers connections in use on the blocking pool.
        let state = self.clone();
        web::block(move || {
            let mut conn = state.pool.get()?;
            work(&mut conn, &state.flags).map_err(|e| e.classified(&state.error_texts))
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
