//! Every error the service returns: JSON with `code`, `message` and, for invalid requests,
//! `details`, under the status that says what happened. No input yields a 500.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use plumb_contract::v1::{ErrorDetail, ErrorResponse};
use plumb_pg::error_texts::ErrorTexts;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<ErrorDetail>,
    /// The primary message of a database error no kind of diesel's covers: a timeout or a
    /// fault, which only the server's own wording tells apart ([`ApiError::classified`]).
    database: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            database: None,
        }
    }

    /// A database error as the service answers it, once the server's wording of a timeout
    /// is known: a timeout is 503 (the same request may succeed later), anything else a
    /// logged 500.
    pub fn classified(self, texts: &ErrorTexts) -> Self {
        match &self.database {
            Some(message) if texts.is_timeout_message(message) => {
                tracing::warn!(error = %message, "the database did not answer in time");
                ApiError::unavailable("the database did not answer in time; retry later")
            }
            Some(message) => {
                tracing::error!(error = %message, "database error");
                ApiError::internal()
            }
            None => self,
        }
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn invalid(details: Vec<ErrorDetail>) -> Self {
        Self {
            details,
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "the request has values that are not acceptable",
            )
        }
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the service failed; the failure is logged",
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(ErrorResponse {
            code: self.code.to_owned(),
            message: self.message.clone(),
            details: self.details.clone(),
        })
    }
}

impl From<DieselError> for ApiError {
    fn from(error: DieselError) -> Self {
        match &error {
            DieselError::NotFound => ApiError::not_found("not found"),
            DieselError::DatabaseError(kind, info) => match kind {
                DatabaseErrorKind::UniqueViolation => match info.constraint_name() {
                    Some("accounts_email_key") => {
                        ApiError::conflict("an account with this email already exists")
                    }
                    _ => ApiError::conflict("this would duplicate an existing record"),
                },
                DatabaseErrorKind::ForeignKeyViolation => {
                    ApiError::not_found("the account does not exist")
                }
                DatabaseErrorKind::CheckViolation => ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    info.message().to_owned(),
                ),
                // The database wants a column this code path does not write: the schema and the
                // feature flags disagree. Retrying after the flag changes succeeds.
                DatabaseErrorKind::NotNullViolation => {
                    tracing::error!(%error, "a NOT NULL column is not written: check the feature flags");
                    ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "schema_mismatch",
                        "the database schema and the service's feature flags disagree",
                    )
                }
                DatabaseErrorKind::ClosedConnection => {
                    ApiError::unavailable("the database connection was lost")
                }
                _ => ApiError {
                    database: Some(info.message().to_owned()),
                    ..ApiError::internal()
                },
            },
            _ => {
                tracing::error!(%error, "database error");
                ApiError::internal()
            }
        }
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        tracing::warn!(%error, "no database connection");
        ApiError::unavailable("no database connection is available; retry later")
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        ApiError::unavailable("the service is shutting down")
    }
}
