//! Writing dossiers: ioc's native batch API, the DVCQG-compatible
//! endpoints, and the procedure catalog.

use std::collections::HashMap;
use std::time::Instant;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, post, put, web};
use ioc_core::{Catalog, Source, Status, UnitTree};
use ioc_ingest::openapi::{DvcqgProgressBody, DvcqgSyncBody, NativeRecord};
use ioc_ingest::{Admission, BatchError, BatchReport, ParsedBatch, dvcqg};
use ioc_store::reference::{self, LoadReport};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{self, Principal, Role};
use crate::error::{ApiError, ErrorCode};
use crate::openapi::{CatalogCsv, DvcqgErrors, NdjsonRecords, WriteErrors};
use crate::routes::body::read_body;
use crate::state::AppState;

/// `POST /api/v1/dossiers`: a JSON array (`application/json`) or NDJSON
/// (`application/x-ndjson`) of dossier versions in the native schema.
#[utoipa::path(
    tag = "ingest",
    request_body(
        description = "At most `ingest.max_batch_records` records and `ingest.max_body_bytes` bytes",
        content((Vec<NativeRecord> = "application/json"), (NdjsonRecords = "application/x-ndjson"))
    ),
    responses(
        (status = 200, description = "Committed: the counts, and each rejected record with its index, code, field and reason", body = BatchReport),
        WriteErrors
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/dossiers")]
pub async fn post_dossiers(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let started = Instant::now();
    let (principal, source) = ingest_principal(&req, &state).await?;
    let parse: NativeParser = match media_type(&req).as_deref() {
        Some("application/json") => ioc_ingest::parse_json_array,
        Some("application/x-ndjson") => ioc_ingest::parse_ndjson,
        other => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "Content-Type {} is not accepted; send application/json (an array) or application/x-ndjson",
                other.map_or_else(|| "(none)".to_owned(), |t| format!("{t:?}"))
            )));
        }
    };
    let body = ingest_body(body, &state).await?;
    let tree = state.tree.clone();
    let limit = state.ingest.max_batch_records;
    let batch = parse_off_thread(move || parse(&body, &tree, limit)).await?;
    let report = check_and_commit(&state, &principal, &source, batch).await?;
    finish(&state, "dossiers", &source, &report, started);
    Ok(HttpResponse::Ok().json(report))
}

/// `POST /api/v1/dvcqg/DongBoHoSoMC`: dossiers in the DVCQG sync format.
#[utoipa::path(
    tag = "dvcqg",
    request_body(content = DvcqgSyncBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Committed; `error_code` is `0`, or `-2` when records were rejected", body = DvcqgAnswer),
        DvcqgErrors
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/dvcqg/DongBoHoSoMC")]
pub async fn dvcqg_sync(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let started = Instant::now();
    let result = async {
        let (principal, source) = ingest_principal(&req, &state).await?;
        let body = ingest_body(body, &state).await?;
        let (shared, sender, scope) = (state.clone(), source.clone(), principal.scope.clone());
        let limit = state.ingest.max_batch_records;
        let batch = parse_off_thread(move || {
            let cx = dvcqg_context(&shared, &sender);
            ioc_ingest::parse_dvcqg_sync(&body, &cx, &scope, limit)
        })
        .await?;
        let report = check_and_commit(&state, &principal, &source, batch).await?;
        finish(&state, "dvcqg_sync", &source, &report, started);
        Ok::<_, ApiError>(report)
    }
    .await;
    dvcqg_answer(result)
}

/// `POST /api/v1/dvcqg/CapNhatTienDoHoSoMC`: progress steps that move the
/// status of dossiers already sent.
#[utoipa::path(
    tag = "dvcqg",
    request_body(content = DvcqgProgressBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Committed; `error_code` is `0`, or `-2` when steps were rejected", body = DvcqgAnswer),
        DvcqgErrors
    ),
    security(("bearer" = []))
)]
#[post("/api/v1/dvcqg/CapNhatTienDoHoSoMC")]
pub async fn dvcqg_progress(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let started = Instant::now();
    let result = async {
        let (principal, source) = ingest_principal(&req, &state).await?;
        let body = ingest_body(body, &state).await?;
        let (shared, sender) = (state.clone(), source.clone());
        let limit = state.ingest.max_batch_records;
        let batch = parse_off_thread(move || {
            let cx = dvcqg_context(&shared, &sender);
            ioc_ingest::parse_dvcqg_progress(&body, &cx, limit)
        })
        .await?;
        let report = check_and_commit(&state, &principal, &source, batch).await?;
        finish(&state, "dvcqg_progress", &source, &report, started);
        Ok::<_, ApiError>(report)
    }
    .await;
    dvcqg_answer(result)
}

/// `PUT /api/v1/procedures` (admin): the procedure catalog as CSV
/// (`text/csv`, the format of `config/procedures/*.csv`), inserted or
/// updated; procedures not in the body are kept.
#[utoipa::path(
    tag = "catalog",
    request_body(content = CatalogCsv, content_type = "text/csv"),
    responses(
        (status = 200, description = "The catalog was written", body = LoadReport),
        WriteErrors
    ),
    security(("bearer" = []))
)]
#[put("/api/v1/procedures")]
pub async fn put_procedures(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth::authenticate(&req, &state.tokens).await?;
    auth::require(&principal, Role::Admin)?;
    if media_type(&req).as_deref() != Some("text/csv") {
        return Err(ApiError::UnsupportedMediaType(
            "send the catalog as text/csv with header code,name,field,online_level,levels,fee"
                .to_owned(),
        ));
    }
    let body = ingest_body(body, &state).await?;
    let catalog = Catalog::read(
        state.tree.levels(),
        vec![("request body".to_owned(), body.as_ref())],
    )
    .map_err(|errors| ApiError::BadRequest {
        code: ErrorCode::InvalidCatalog,
        message: errors.to_string(),
    })?;
    let report: LoadReport = state
        .store
        .run_bounded(move |conn| reference::load_procedures(conn, &catalog, chrono::Utc::now()))
        .await?;
    tracing::info!(
        message = "Procedure catalog updated.",
        token = principal.token_id,
        inserted = report.inserted,
        updated = report.updated,
        unchanged = report.unchanged
    );
    Ok(HttpResponse::Ok().json(report))
}

/// Authenticates an ingest token and returns it with its source.
async fn ingest_principal(
    req: &HttpRequest,
    state: &AppState,
) -> Result<(Principal, Source), ApiError> {
    let principal = auth::authenticate(req, &state.tokens).await?;
    auth::require(&principal, Role::Ingest)?;
    let source = principal.source.clone().ok_or_else(|| {
        ApiError::Internal(format!("ingest token {} has no source", principal.token_id))
    })?;
    Ok((principal, source))
}

/// What DVCQG records of `source` are read against.
fn dvcqg_context<'a>(state: &'a AppState, source: &Source) -> dvcqg::Context<'a> {
    static NO_MAP: std::sync::LazyLock<HashMap<String, Status>> =
        std::sync::LazyLock::new(HashMap::new);
    dvcqg::Context {
        tree: &state.tree,
        calendar: state.calendar,
        status_map: state
            .ingest
            .status_map
            .get(source.as_str())
            .unwrap_or(&NO_MAP),
    }
}

/// A native parse entry: JSON array or NDJSON.
type NativeParser = fn(&[u8], &UnitTree, usize) -> Result<ParsedBatch, BatchError>;

/// Runs a parse entry on a blocking thread: a large body is CPU work.
async fn parse_off_thread(
    parse: impl FnOnce() -> Result<ParsedBatch, BatchError> + Send + 'static,
) -> Result<ParsedBatch, ApiError> {
    Ok(web::block(parse)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??)
}

/// Checks a parsed batch of `principal` as `source` and commits the
/// versions that pass; wakes the aggregates when something changed.
async fn check_and_commit(
    state: &AppState,
    principal: &Principal,
    source: &Source,
    batch: ParsedBatch,
) -> Result<BatchReport, ApiError> {
    let admission = Admission {
        scope: &principal.scope,
        bounds: &state.ingest.bounds,
        now: state.aggregates.now(),
    };
    let checked = ioc_ingest::check(&state.store, source, batch, &admission).await?;
    let report = ioc_ingest::commit(&state.store, source, &principal.scope, checked).await?;
    if report.accepted > 0 {
        state.aggregates.wake();
    }
    Ok(report)
}

fn finish(
    state: &AppState,
    endpoint: &str,
    source: &Source,
    report: &BatchReport,
    started: Instant,
) {
    let elapsed = started.elapsed();
    state.metrics.record_batch(source.as_str(), report);
    state
        .metrics
        .ingest_batch_seconds
        .with_label_values(&[endpoint])
        .observe(elapsed.as_secs_f64());
    tracing::info!(
        message = "Batch ingested.",
        endpoint,
        source = source.as_str(),
        accepted = report.accepted,
        duplicates = report.duplicates,
        stale = report.stale,
        rejected = report.rejected.len(),
        millis = elapsed.as_millis()
    );
}

/// The answer of the DVCQG endpoints to a batch that was committed.
#[derive(Debug, Serialize, ToSchema)]
pub struct DvcqgAnswer {
    /// `0` when every record was taken, `-2` when some were rejected.
    #[schema(example = "0")]
    pub error_code: String,
    /// What happened, in Vietnamese.
    pub message: String,
    /// The counts and the rejected records.
    #[serde(flatten)]
    pub report: BatchReport,
}

fn dvcqg_answer(result: Result<BatchReport, ApiError>) -> HttpResponse {
    match result {
        Ok(report) => {
            let (error_code, message) = if report.rejected.is_empty() {
                (
                    "0",
                    format!(
                        "Đồng bộ thành công {} hồ sơ ({} mới hoặc cập nhật, {} trùng, {} cũ hơn bản đã có)",
                        report.accepted + report.duplicates + report.stale,
                        report.accepted,
                        report.duplicates,
                        report.stale
                    ),
                )
            } else {
                (
                    "-2",
                    format!(
                        "Đồng bộ {} hồ sơ; {} hồ sơ bị từ chối, xem danh sách rejected",
                        report.accepted + report.duplicates + report.stale,
                        report.rejected.len()
                    ),
                )
            };
            HttpResponse::Ok().json(DvcqgAnswer {
                error_code: error_code.to_owned(),
                message,
                report,
            })
        }
        Err(e) => e.dvcqg_response(),
    }
}

/// Reads the body of an ingest request within its size and time limits.
async fn ingest_body(body: web::Payload, state: &AppState) -> Result<web::Bytes, ApiError> {
    read_body(
        body,
        state.ingest.max_body_bytes,
        INGEST_ADVICE,
        state.body_read_timeout,
    )
    .await
}

/// What a 413 of an ingest endpoint advises.
const INGEST_ADVICE: &str = " (ingest.max_body_bytes); send smaller batches";

/// The media type of the request, lower case, without parameters.
fn media_type(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next()?.trim().to_ascii_lowercase();
    (!essence.is_empty()).then_some(essence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ioc_ingest::{WriteScope, native};

    #[test]
    fn batches_over_the_limit_are_refused_with_the_limit() {
        let body = format!("[{}1]", "1,".repeat(10));
        let err = ApiError::from(native::read_json_array(body.as_bytes(), 10).unwrap_err());
        assert_eq!(err.code().as_str(), "payload_too_large");
        assert!(err.to_string().contains("at most 10"), "{err}");
        let ten = format!("[{}1]", "1,".repeat(9));
        assert!(native::read_json_array(ten.as_bytes(), 10).is_ok());
    }

    #[test]
    fn scopes_are_sets_of_units() {
        let scope = WriteScope::Units(std::sync::Arc::new(["25432".to_owned()].into()));
        assert!(scope.allows("25432") && !scope.allows("25433"));
    }
}
