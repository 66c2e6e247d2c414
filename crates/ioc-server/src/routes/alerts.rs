//! The alerts API: list and read alerts with their history, roll them up
//! per district, and acknowledge them.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use ioc_aggregate::ranking::Scope;
use ioc_core::alert::Severity;
use ioc_store::alerts::{AckOutcome, Filter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::alerting::{AlertView, EventView, Rollup, alert_view, event_view};
use crate::auth::{self, Role};
use crate::error::{ApiError, ErrorCode};
use crate::openapi::{AckErrors, AuthErrors, LookupErrors, ResourceErrors};
use crate::routes::body::read_body;
use crate::routes::params::{ScopeParams, authorize, bounded};
use crate::state::AppState;
use crate::views::bad;

/// Most alerts on one page.
const MAX_PER_PAGE: i64 = 500;
/// Longest acknowledgement note, in characters.
const MAX_NOTE_CHARS: usize = 2_000;
/// Largest acknowledgement body, in bytes: a note of 2,000 characters fits
/// even when every one is escaped as a JSON surrogate pair (`\ud83c\udffb`,
/// 12 bytes), as `JSON.stringify` of an emoji or Python's `json.dumps` send.
const MAX_ACK_BODY_BYTES: usize = 32 * 1024;
/// What a 413 of an acknowledgement advises.
const ACK_ADVICE: &str = "; an acknowledgement takes {\"note\"} of at most 2,000 characters";

/// Which alerts to list, and which page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertFilterParams {
    /// `active` (the default), `cleared` or `all`.
    #[param(pattern = "^(active|cleared|all)$")]
    pub state: Option<String>,
    /// `acknowledged`, `unacknowledged` or `all` (the default).
    #[param(pattern = "^(acknowledged|unacknowledged|all)$")]
    pub ack: Option<String>,
    /// Alerts of this unit: with `scope=tree` (the default) its subtree.
    pub unit: Option<String>,
    /// Severities, comma-separated: `info`, `warning`, `critical`.
    #[param(
        pattern = "^(info|warning|critical)(,(info|warning|critical))*$",
        example = "warning,critical"
    )]
    pub severity: Option<String>,
    /// Alerts of this rule.
    pub rule: Option<String>,
    /// The page, from 1.
    #[param(value_type = Option<i32>, minimum = 1)]
    pub page: Option<String>,
    /// Alerts per page: 1 to 500 (50 by default).
    #[param(value_type = Option<i32>, minimum = 1, maximum = 500)]
    pub per_page: Option<String>,
}

fn filter(
    params: &AlertFilterParams,
    scope: &ScopeParams,
    state: &AppState,
) -> Result<Filter, ApiError> {
    let active = match params.state.as_deref() {
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
    let acknowledged = match params.ack.as_deref() {
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
    let severities = params
        .severity
        .as_deref()
        .map(|raw| raw.split(',').map(severity).collect::<Result<Vec<_>, _>>())
        .transpose()?;
    let scope = scope.scope(Scope::Tree)?;
    let units = params
        .unit
        .as_deref()
        .map(|raw| {
            let code = state.views.unit_code(raw)?;
            Ok::<_, ApiError>(match scope {
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
        rule: params.rule.clone(),
    })
}

/// One page of alerts.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertPage {
    /// The page, from 1.
    pub page: i64,
    /// Alerts per page.
    pub per_page: i64,
    /// Alerts matching the filter, on every page.
    pub total: i64,
    /// This page's alerts, newest first.
    pub items: Vec<AlertView>,
}

/// An alert with its whole history.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertHistory {
    /// The alert.
    #[serde(flatten)]
    pub alert: AlertView,
    /// Every transition, in the order of the event log.
    pub events: Vec<EventView>,
}

/// An alert just acknowledged, with the acknowledgement.
#[derive(Debug, Serialize, ToSchema)]
pub struct Acknowledged {
    /// The alert.
    #[serde(flatten)]
    pub alert: AlertView,
    /// The acknowledgement's event.
    pub event: EventView,
}

/// `GET /api/v1/alerts?state=&ack=&unit=&scope=&severity=&rule=&page=&per_page=`:
/// alerts newest first, one page at a time.
#[utoipa::path(
    operation_id = "list_alerts",
    tag = "alerts",
    params(AlertFilterParams, ScopeParams),
    responses((status = 200, description = "One page of alerts", body = AlertPage, links(
            ("show" = (operation_id = "show_alert", parameters(("id" = "$response.body#/items/0/id")))),
            ("acknowledge" = (operation_id = "acknowledge_alert", parameters(("id" = "$response.body#/items/0/id"))))
        )), ResourceErrors),
    security(("bearer" = []), ("token_query" = []))
)]
#[get("/api/v1/alerts")]
pub async fn list(
    req: HttpRequest,
    filter_params: web::Query<AlertFilterParams>,
    scope_params: web::Query<ScopeParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state).await?;
    let filter = filter(&filter_params, &scope_params, &state)?;
    let page = bounded(
        filter_params.page.as_deref(),
        "page",
        1,
        i64::from(i32::MAX),
        "a whole number",
    )?;
    let per_page = bounded(
        filter_params.per_page.as_deref(),
        "per_page",
        50,
        MAX_PER_PAGE,
        "a whole number",
    )?;
    let offset = (page - 1) * per_page;
    let (alerts, total) = state
        .store
        .run_bounded(move |conn| ioc_store::alerts::list(conn, &filter, offset, per_page))
        .await?;
    let now = state.aggregates.now();
    let items = alerts
        .iter()
        .map(|a| alert_view(&state.tree, state.timeliness, a, now))
        .collect();
    Ok(HttpResponse::Ok().json(AlertPage {
        page,
        per_page,
        total,
        items,
    }))
}

/// `GET /api/v1/alerts/rollup`: active alerts counted per district or
/// department (all, unacknowledged, per severity), as on the wall.
#[utoipa::path(
    operation_id = "alert_rollup",
    tag = "alerts",
    responses((status = 200, description = "By the rollup unit's code", body = std::collections::BTreeMap<String, Rollup>), AuthErrors),
    security(("bearer" = []), ("token_query" = []))
)]
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
#[utoipa::path(
    operation_id = "show_alert",
    tag = "alerts",
    params(("id" = i64, Path, description = "The alert's id", example = 1)),
    responses((status = 200, description = "The alert and its history", body = AlertHistory), LookupErrors),
    security(("bearer" = []), ("token_query" = []))
)]
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
    Ok(HttpResponse::Ok().json(AlertHistory {
        alert: alert_view(
            &state.tree,
            state.timeliness,
            &alert,
            state.aggregates.now(),
        ),
        events: events.iter().map(event_view).collect(),
    }))
}

/// The body of an acknowledgement; it may be empty or `null`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AckBody {
    /// Why, or what was done: at most 2,000 characters.
    #[schema(max_length = 2000)]
    note: Option<String>,
}

/// `POST /api/v1/alerts/{id}/ack` (operator token), optionally with
/// `{"note": "…"}`: records who acknowledged the alert and when.
#[utoipa::path(
    operation_id = "acknowledge_alert",
    tag = "alerts",
    params(("id" = i64, Path, description = "The alert's id")),
    request_body(content = Option<AckBody>, content_type = "application/json",
        description = "Optional: an empty body acknowledges without a note"),
    responses((status = 200, description = "Acknowledged now", body = Acknowledged), AckErrors),
    security(("bearer" = []))
)]
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
        serde_json::from_slice::<Option<AckBody>>(&body)
            .map_err(|e| ApiError::BadRequest {
                code: ErrorCode::MalformedJson,
                message: format!("the body must be {{\"note\": \"…\"}}, null or empty: {e}"),
            })?
            .unwrap_or_default()
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
            Ok(HttpResponse::Ok().json(Acknowledged {
                alert: alert_view(&state.tree, state.timeliness, &alert, now),
                event: event_view(&event),
            }))
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
