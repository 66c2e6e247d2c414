//! HTTP routes.

pub mod alerts;
pub mod health;
pub mod ingest;
pub mod metrics;
pub mod pages;
pub mod read;
pub mod stream;

use actix_web::web;

use crate::error::ApiError;

/// The whole body, refused with 413 past `limit` bytes (the message ends
/// with `advice`).
pub(crate) async fn read_body(
    body: web::Payload,
    limit: usize,
    advice: &str,
) -> Result<web::Bytes, ApiError> {
    match body.to_bytes_limited(limit).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Err(_limit_exceeded) => Err(ApiError::PayloadTooLarge(format!(
            "the request body exceeds the limit of {limit} bytes{advice}"
        ))),
        Ok(Err(e)) => Err(ApiError::BadRequest {
            code: "unreadable_body",
            message: format!("the request body could not be read: {e}"),
        }),
    }
}
