//! The alerts API: list and read alerts with their history, roll them up
//! per district, and acknowledge them.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use ioc_aggregate::ranking::Scope;
use ioc_core::alert::Severity;
use ioc_store::alerts::{AckOutcome, Filter};
use serde::Deserialize;
use serde_json::json;

use crate::alerting::{alert_view, event_view};
use crate::auth::{self, Role};
use crate::error::{ApiError, ErrorCode};
use crate::routes::body::read_body;
use crate::routes::params::{Query, authorize, bounded, scope};
use crate::state::AppState;
use crate::views::bad;

/// Most alerts on one page.
const MAX_PER_PAGE: i64 = 500;
/// Longest acknowledgement note, in characters.
const MAX_NOTE_CHARS: usize = 2_000;
/// Largest acknowledgement body, in bytes (a note of 2,000 characters in
/// any script fits).
const MAX_ACK_BODY_BYTES: usize = 16 * 1024;
/// What a 413 of an acknowledgement advises.
const ACK_ADVICE: &str = "; an acknowledgement takes {\"note\"} of at most 2,000 characters";

fn filter(query: &Query, state: &AppState) -> Result<Filter, ApiError> {
    let active = match query.get("state").map(String::as_str) {
        None | Some("active") => Some(true),
        Some("cleared") => Some(false),
        Some("all") => None,
        Some(other) => {
            return Err(bad(
                "state",
                format!("unknown state {other:?} (expected active, cleared or all)"),
            ));
        }
    };
    let acknowledged = match query.get("ack").map(String::as_str) {
        None | Some("all") => None,
        Some("acknowledged") => Some(true),
        Some("unacknowledged") => Some(false),
        Some(other) => {
            return Err(bad(
                "ack",
                format!("unknown value {other:?} (expected acknowledged, unacknowledged or all)"),
            ));
        }
    };
    let severity = |s: &str| {
        Severity::parse(s).ok_or_else(|| {
            bad(
                "severity",
                format!("unknown severity {s:?} (expected info, warning or critical)"),
            )
        })
    };
    let severities = query
        .get("severity")
        .map(|raw| raw.split(',').map(severity).collect::<Result<Vec<_>, _>>())
        .transpose()?;
    let units = query
        .get("unit")
        .map(|raw| {
            let code = state.views.unit_code(raw)?;
            Ok::<_, ApiError>(match scope(query, Scope::Tree)? {
                Scope::Tree => state
                    .tree
                    .subtree(&code)
                    .into_iter()
                    .map(|c| c.as_str().to_owned())
                    .collect(),
                Scope::Own => vec![code.as_str().to_owned()],
            })
        })
        .transpose()?;
    Ok(Filter {
        active,
        acknowledged,
        units,
        severities,
        rule: query.get("rule").cloned(),
    })
}

/// `GET /api/v1/alerts?state=&ack=&unit=&scope=&severity=&rule=&page=&per_page=`:
/// alerts newest first, one page at a time.
#[get("/api/v1/alerts")]
pub async fn list(
    req: HttpRequest,
    query: Query,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state).await?;
    let filter = filter(&query, &state)?;
    let page = bounded(&query, "page", 1, i64::from(u32::MAX), "a whole number")?;
    let per_page = bounded(&query, "per_page", 50, MAX_PER_PAGE, "a whole number")?;
    let offset = (page - 1) * per_page;
    let (alerts, total) = state
        .store
        .run_bounded(move |conn| ioc_store::alerts::list(conn, &filter, offset, per_page))
        .await?;
    let now = state.aggregates.now();
    let items: Vec<_> = alerts
        .iter()
        .map(|a| alert_view(&state.tree, state.timeliness, a, now))
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "page": page,
        "per_page": per_page,
        "total": total,
        "items": items,
    })))
}

/// `GET /api/v1/alerts/rollup`: active alerts counted per district or
/// department (all, unacknowledged, per severity), as on the wall.
#[get("/api/v1/alerts/rollup")]
pub async fn rollup(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state).await?;
    Ok(HttpResponse::Ok().json(state.alerting.rollup()))
}

fn alert_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .map_err(|_| ApiError::NotFound(format!("no alert has id {raw:?}")))
}

/// `GET /api/v1/alerts/{id}`: one alert and every transition, with who and when.
#[get("/api/v1/alerts/{id}")]
pub async fn show(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state).await?;
    let id = alert_id(&path)?;
    let found = state
        .store
        .run_bounded(move |conn| ioc_store::alerts::history(conn, id))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no alert has id {id}")))?;
    let (alert, events) = found;
    let mut view = alert_view(
        &state.tree,
        state.timeliness,
        &alert,
        state.aggregates.now(),
    );
    view["events"] = events.iter().map(event_view).collect();
    Ok(HttpResponse::Ok().json(view))
}

/// The body of an acknowledgement; it may be empty.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AckBody {
    note: Option<String>,
}

/// `POST /api/v1/alerts/{id}/ack` (operator token), optionally with
/// `{"note": "…"}`: records who acknowledged the alert and when.
#[post("/api/v1/alerts/{id}/ack")]
pub async fn acknowledge(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let principal = auth::authenticate(&req, &state.tokens).await?;
    auth::require(&principal, Role::Operator)?;
    let id = alert_id(&path)?;
    let body = read_body(
        body,
        MAX_ACK_BODY_BYTES,
        ACK_ADVICE,
        state.body_read_timeout,
    )
    .await?;
    let body: AckBody = if body.iter().all(u8::is_ascii_whitespace) {
        AckBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest {
            code: ErrorCode::MalformedJson,
            message: format!("the body must be {{\"note\": \"…\"}} or empty: {e}"),
        })?
    };
    if let Some(note) = &body.note
        && note.chars().count() > MAX_NOTE_CHARS
    {
        return Err(bad(
            "note",
            format!("longer than {MAX_NOTE_CHARS} characters"),
        ));
    }
    let actor = if principal.label.is_empty() {
        format!("token {}", principal.token_id)
    } else {
        principal.label.clone()
    };
    let now = state.aggregates.now();
    let outcome = state
        .store
        .run_bounded(move |conn| {
            ioc_store::alerts::acknowledge(conn, id, &actor, body.note.as_deref(), now)
        })
        .await?;
    match outcome {
        AckOutcome::Done(alert, event) => {
            if let Err(e) = state.alerting.refresh().await {
                tracing::warn!(message = "Cannot refresh the alert board.", error = %e);
            }
            state.alerting.notify();
            let mut view = alert_view(&state.tree, state.timeliness, &alert, now);
            view["event"] = event_view(&event);
            Ok(HttpResponse::Ok().json(view))
        }
        AckOutcome::Already(alert) => {
            let ack = alert.acknowledged.as_ref();
            Err(ApiError::Conflict(format!(
                "alert {id} was already acknowledged by {} at {}",
                ack.map_or("?", |a| a.by.as_str()),
                ack.map_or_else(String::new, |a| a.at.to_rfc3339())
            )))
        }
        AckOutcome::Unknown => Err(ApiError::NotFound(format!("no alert has id {id}"))),
    }
}
