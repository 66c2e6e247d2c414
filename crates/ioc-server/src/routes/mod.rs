//! HTTP routes.

use actix_web::dev::{ServiceFactory, ServiceRequest};
use utoipa_actix_web::UtoipaApp;

pub mod alerts;
pub mod body;
pub mod docs;
pub mod export;
pub mod health;
pub mod ingest;
pub mod metrics;
pub mod pages;
pub mod params;
pub mod read;
pub mod stream;

/// Mounts every route of the server. The same call makes the server's
/// routes and the operations of its OpenAPI document, so that neither can
/// have a route the other lacks.
pub fn mount<T>(app: UtoipaApp<T>) -> UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.service(health::healthz)
        .service(health::readyz)
        .service(metrics::metrics)
        .service(ingest::post_dossiers)
        .service(ingest::dvcqg_sync)
        .service(ingest::dvcqg_progress)
        .service(ingest::put_procedures)
        .service(read::meta)
        .service(read::overview)
        .service(read::unit_keys)
        .service(read::rankings)
        .service(read::campaigns)
        .service(read::campaign_progress)
        .service(stream::ws)
        .service(read::trend)
        .service(alerts::list)
        .service(alerts::rollup)
        .service(alerts::show)
        .service(alerts::acknowledge)
        .service(docs::openapi_json)
        .service(pages::api_docs)
        .service(pages::wall)
        .service(pages::rankings)
        .service(pages::asset)
}
