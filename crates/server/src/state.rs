//! What every handler shares, and the one way handlers reach the database.

use std::sync::Arc;

use actix_web::web;
use diesel::PgConnection;
use plumb_model::PgPool;
use serde_json::Value;

use crate::error::ApiError;
use crate::flags::Flags;

#[derive(Debug, Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub flags: Arc<Flags>,
    pub admin_token: Option<Arc<str>>,
    /// Built once: `GET /openapi.json`.
    pub openapi: Arc<Value>,
}

impl AppState {
    /// Runs `work` on a pooled connection on the blocking thread pool (diesel is synchronous).
    pub async fn db<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut PgConnection, &Flags) -> Result<T, ApiError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let flags = self.flags.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            work(&mut conn, &flags)
        })
        .await?
    }
}
