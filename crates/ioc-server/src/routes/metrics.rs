//! `GET /metrics` in the Prometheus text format, for a bearer token that is
//! `metrics.token` or of a reading role (header only; no `?token=`), or
//! anyone with `metrics.public = true`.

use actix_web::{HttpRequest, HttpResponse, get, web};
use prometheus::{Encoder, TextEncoder};

use crate::auth::{self, Role, hash_token};
use crate::error::ApiError;
use crate::openapi::{AuthErrors, PrometheusText};
use crate::state::AppState;

/// Every metric of ioc's registry (docs/API.md, "Metrics").
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "The metrics", content((PrometheusText = "text/plain; version=0.0.4"))),
        AuthErrors
    ),
    security(("bearer" = []))
)]
#[get("/metrics")]
pub async fn metrics(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state).await?;
    let metrics = &state.metrics;
    let (open, idle) = state.store.pool_state();
    metrics
        .db_pool
        .with_label_values(&["idle"])
        .set(i64::from(idle));
    metrics
        .db_pool
        .with_label_values(&["in_use"])
        .set(i64::from(open.saturating_sub(idle)));
    let (took, restored) = state.aggregates.started_in;
    metrics
        .aggregates_start_seconds
        .with_label_values(&[if restored { "true" } else { "false" }])
        .set(took.as_secs_f64());
    metrics
        .aggregates_snapshots
        .set(i64::try_from(state.aggregates.version()).unwrap_or(i64::MAX));
    metrics
        .changelog_position
        .set(state.aggregates.log_position());
    metrics
        .changelog_apply_lag_seconds
        .set(state.aggregates.apply_lag().as_secs_f64());
    // Business gauges are computed here when the snapshot changed: off the
    // async threads, so a scrape never stalls ingestion or the hub.
    let registry = metrics.registry.clone();
    let families = web::block(move || registry.gather())
        .await
        .map_err(|e| ApiError::Internal(format!("cannot gather metrics: {e}")))?;
    let mut body = Vec::new();
    TextEncoder::new()
        .encode(&families, &mut body)
        .map_err(|e| ApiError::Internal(format!("cannot encode metrics: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type(prometheus::TEXT_FORMAT)
        .body(body))
}

/// Lets the scrape through if `/metrics` is public, or its bearer is
/// `metrics.token` (compared by hash, so that the comparison's time says
/// nothing of the token) or a token of role viewer or higher.
async fn authorize(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let access = &state.metrics_access;
    if access.public {
        return Ok(());
    }
    let given = auth::bearer(req).ok();
    if !access.token.is_empty()
        && given.is_some_and(|g| hash_token(&g) == hash_token(&access.token))
    {
        return Ok(());
    }
    let principal = auth::authenticate(req, &state.tokens).await.map_err(|_| {
        ApiError::Unauthorized(
            "/metrics needs Authorization: Bearer <token> (metrics.token, or a token of role viewer or higher), unless metrics.public = true".to_owned(),
        )
    })?;
    auth::require(&principal, Role::Viewer)
}
