//! Errors at the HTTP edge: a stable snake_case code, a status, and a
//! message that says what to fix. Internal errors are logged in full and
//! answered with an opaque message.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use ioc_ingest::BatchError;
use ioc_store::StoreError;
use serde::Serialize;

mod code;

pub use code::ErrorCode;

/// The body of every error answer of the HTTP API.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The stable code.
    pub error: ErrorCode,
    /// What is wrong and what to do about it.
    pub message: String,
}

/// The body of an error answer of the DVCQG endpoints, in the portal's
/// terms plus ioc's code.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DvcqgErrorBody {
    /// Always `-1`: the request as a whole was refused.
    #[schema(example = "-1")]
    pub error_code: String,
    /// The stable code.
    pub error: ErrorCode,
    /// What is wrong and what to do about it.
    pub message: String,
}

/// An error answered to an HTTP client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed; `code` says how.
    #[error("{message}")]
    BadRequest {
        /// Stable code, e.g. [`ErrorCode::MalformedJson`].
        code: ErrorCode,
        /// What is wrong.
        message: String,
    },
    /// No valid bearer token.
    #[error("{0}")]
    Unauthorized(String),
    /// The token may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// No such unit, campaign, or other resource.
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the resource's state.
    #[error("{0}")]
    Conflict(String),
    /// The body did not arrive within `server.body_read_timeout_secs`.
    #[error("{0}")]
    RequestTimeout(String),
    /// The body or batch is larger than the configured limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The body's content type is not accepted.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The database's disk is full.
    #[error("{0}")]
    InsufficientStorage(String),
    /// The database does not answer.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an unexpected failure; details go to the log only.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// The stable code clients switch on.
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::BadRequest { code, .. } => *code,
            ApiError::Unauthorized(_) => ErrorCode::Unauthorized,
            ApiError::Forbidden(_) => ErrorCode::Forbidden,
            ApiError::NotFound(_) => ErrorCode::NotFound,
            ApiError::Conflict(_) => ErrorCode::Conflict,
            ApiError::RequestTimeout(_) => ErrorCode::RequestTimeout,
            ApiError::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            ApiError::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            ApiError::InsufficientStorage(_) => ErrorCode::InsufficientStorage,
            ApiError::Unavailable(_) => ErrorCode::Unavailable,
            ApiError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The message shown to the client.
    pub fn public_message(&self) -> String {
        match self {
            ApiError::Internal(_) => "internal error; see the server log".to_owned(),
            other => other.to_string(),
        }
    }

    fn log(&self) {
        match self {
            ApiError::Internal(detail) => {
                tracing::error!(message = "Request failed.", error = %detail)
            }
            ApiError::Unavailable(detail) => {
                tracing::warn!(message = "Database unavailable.", error = %detail)
            }
            _ => {}
        }
    }

    /// The response in DVCQG style (`error_code`, `message`), for the
    /// endpoints that stand in for the national portal.
    pub fn dvcqg_response(&self) -> HttpResponse {
        self.log();
        self.builder().json(DvcqgErrorBody {
            error_code: "-1".to_owned(),
            error: self.code(),
            message: self.public_message(),
        })
    }

    fn builder(&self) -> actix_web::HttpResponseBuilder {
        let mut builder = HttpResponse::build(self.status_code());
        match self {
            ApiError::Unauthorized(_) => {
                builder.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            // The pool waits for the database, so a retry soon is cheap.
            ApiError::Unavailable(_) => {
                builder.insert_header((header::RETRY_AFTER, "2"));
            }
            _ => {}
        }
        builder
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::InsufficientStorage(_) => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        self.builder().json(ErrorBody {
            error: self.code(),
            message: self.public_message(),
        })
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) | StoreError::Connect { .. } | StoreError::Timeout(_) => {
                ApiError::Unavailable(e.to_string())
            }
            ref full if full.is_disk_full() => ApiError::InsufficientStorage(format!(
                "the database's disk is full ({full}); nothing of this request was stored, send it again once an operator has freed space"
            )),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<BatchError> for ApiError {
    fn from(e: BatchError) -> Self {
        let code = match &e {
            BatchError::TooManyRecords { .. } => return ApiError::PayloadTooLarge(e.to_string()),
            BatchError::UnitOutsideScope { .. } => return ApiError::Forbidden(e.to_string()),
            BatchError::Empty => ErrorCode::EmptyBody,
            BatchError::Malformed { .. } => ErrorCode::MalformedJson,
            BatchError::Shape(_) => ErrorCode::InvalidBatch,
            BatchError::UnknownUnit(_) => ErrorCode::UnknownUnit,
        };
        ApiError::BadRequest {
            code,
            message: e.to_string(),
        }
    }
}
