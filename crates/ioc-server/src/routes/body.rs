//! Reading a request body within its size and time limits.

use actix_web::web;

use crate::error::{ApiError, ErrorCode};

/// The whole body, refused with 413 past `limit` bytes (the message ends
/// with `advice`).
pub(crate) async fn read_body(
    body: web::Payload,
    limit: usize,
    advice: &str,
    timeout: std::time::Duration,
) -> Result<web::Bytes, ApiError> {
    let read = tokio::time::timeout(timeout, body.to_bytes_limited(limit))
        .await
        .map_err(|_| {
            ApiError::RequestTimeout(format!(
                "the request body did not arrive within {} s (server.body_read_timeout_secs)",
                timeout.as_secs()
            ))
        })?;
    match read {
        Ok(Ok(bytes)) => Ok(bytes),
        Err(_limit_exceeded) => Err(ApiError::PayloadTooLarge(format!(
            "the request body exceeds the limit of {limit} bytes{advice}"
        ))),
        Ok(Err(e)) => Err(ApiError::BadRequest {
            code: ErrorCode::UnreadableBody,
            message: format!("the request body could not be read: {e}"),
        }),
    }
}
