//! `GET /metrics` in the Prometheus text format.

use actix_web::{HttpResponse, get, web};
use prometheus::{Encoder, TextEncoder};

use crate::error::ApiError;
use crate::startup::AppState;

/// Every metric of ioc's registry.
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut body = Vec::new();
    TextEncoder::new()
        .encode(&state.metrics.registry.gather(), &mut body)
        .map_err(|e| ApiError::Internal(format!("cannot encode metrics: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type(prometheus::TEXT_FORMAT)
        .body(body))
}
