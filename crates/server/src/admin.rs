//! `/admin/flags`: reading and setting feature flags, behind a bearer token.

use actix_web::http::StatusCode;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::app::{get_or_head, not_allowed};
use crate::body::{Admin, Body};
use crate::error::ApiError;
use crate::flags::FlagView;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .service(
                web::resource("/flags")
                    .route(get_or_head().to(list_flags))
                    .default_service(not_allowed("GET, HEAD")),
            )
            .service(
                web::resource("/flags/{name}")
                    .route(web::put().to(set_flag))
                    .default_service(not_allowed("PUT")),
            ),
    );
}

#[derive(Debug, Serialize, Deserialize)]
pub struct FlagList {
    pub flags: Vec<FlagView>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetFlag {
    pub enabled: bool,
}

pub(crate) fn authorize(state: &AppState, request: &HttpRequest) -> Result<(), ApiError> {
    let Some(expected) = &state.admin_token else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "admin_disabled",
            "the admin endpoints are off: start the service with PLUMB_ADMIN_TOKEN",
        ));
    };
    let given = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match given {
        Some(token) if constant_time_eq(token.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send Authorization: Bearer <admin token>",
        )),
    }
}

/// Compares without stopping at the first difference, so timing does not reveal the token.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn list_flags(_: Admin, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let flags = state.db(|conn, flags| flags.views(conn)).await?;
    Ok(HttpResponse::Ok().json(FlagList { flags }))
}

async fn set_flag(
    _: Admin,
    state: web::Data<AppState>,
    name: web::Path<String>,
    body: Body<SetFlag>,
) -> Result<HttpResponse, ApiError> {
    let (name, enabled) = (name.into_inner(), body.enabled);
    let view = state
        .db(move |conn, flags| flags.set(conn, &name, enabled))
        .await?;
    // Committed: this instance serves the new value at once, the others at their refresh.
    state.flags.remember(&view);
    tracing::info!(flag = %view.name, enabled = view.enabled, "feature flag changed");
    Ok(HttpResponse::Ok().json(view))
}
