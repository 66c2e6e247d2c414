//! Liveness and readiness probes.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// The answer of `/healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    #[schema(example = "ok")]
    pub status: String,
}

/// The answer of `/readyz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`, or `unavailable`.
    #[schema(example = "ready")]
    pub status: String,
    /// `ok`, or why the database does not answer.
    #[schema(example = "ok")]
    pub database: String,
}

/// `GET /healthz`: the process is up and serving HTTP.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Serving", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".to_owned(),
    })
}

/// `GET /readyz`: the database answers; 503 with the reason otherwise.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "The database answers", body = Readiness),
        (status = 503, description = "The database does not answer", body = Readiness),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.store.ping().await {
        Ok(()) => HttpResponse::Ok().json(Readiness {
            status: "ready".to_owned(),
            database: "ok".to_owned(),
        }),
        Err(e) => {
            tracing::warn!(message = "Readiness check failed.", error = %e);
            HttpResponse::ServiceUnavailable().json(Readiness {
                status: "unavailable".to_owned(),
                database: e.to_string(),
            })
        }
    }
}
