//! `/healthz`: the process is up. `/readyz`: the database answers and has every column the
//! compiled `schema.rs` expects — except those gated by a flag that is off, which are reported
//! as pending rather than making the instance unready.

use actix_web::{HttpResponse, web};
use plumb_model::schema_state::missing_columns;
use serde::{Deserialize, Serialize};

use crate::state::AppState;
use plumb_model::GATED_COLUMNS;

pub fn routes(cfg: &mut web::ServiceConfig) {
    use crate::app::{get_or_head, not_allowed};
    cfg.service(
        web::resource("/healthz")
            .route(get_or_head().to(healthz))
            .default_service(not_allowed("GET, HEAD")),
    )
    .service(
        web::resource("/readyz")
            .route(get_or_head().to(readyz))
            .default_service(not_allowed("GET, HEAD")),
    );
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    pub status: String,
    /// Columns of `schema.rs` the database lacks, as `table.column`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// Columns the database lacks that only a flag that is off would use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let checked = state
        .db(|conn, flags| {
            let mut missing = Vec::new();
            let mut pending = Vec::new();
            for column in missing_columns(conn)? {
                let gates = flags.gates();
                let gated_off = GATED_COLUMNS.iter().any(|g| {
                    g.table == column.table && g.column == column.column && !gates.uses(*g)
                });
                let name = format!("{}.{}", column.table, column.column);
                if gated_off {
                    pending.push(name)
                } else {
                    missing.push(name)
                }
            }
            Ok((missing, pending))
        })
        .await;
    match checked {
        Ok((missing, pending)) if missing.is_empty() => HttpResponse::Ok().json(Readiness {
            status: "ready".into(),
            missing,
            pending,
            error: None,
        }),
        Ok((missing, pending)) => HttpResponse::ServiceUnavailable().json(Readiness {
            status: "not_ready".into(),
            missing,
            pending,
            error: Some("the database schema is behind this release's schema.rs".into()),
        }),
        Err(error) => HttpResponse::ServiceUnavailable().json(Readiness {
            status: "not_ready".into(),
            missing: Vec::new(),
            pending: Vec::new(),
            error: Some(error.message),
        }),
    }
}
