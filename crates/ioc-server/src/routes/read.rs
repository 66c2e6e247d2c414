//! The read API: overview, units, rankings and campaigns, as JSON, with
//! CSV and Excel exports of the tables.

use actix_web::{HttpRequest, HttpResponse, get, web};
use ioc_aggregate::Window;
use ioc_aggregate::campaign::{self, Campaign, CampaignProgress};
use ioc_aggregate::ranking::{RankedUnit, Scope};
use ioc_core::Key;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::openapi::{AuthErrors, CsvTable, LookupErrors, ReadErrors, ResourceErrors, Workbook};
use crate::routes::export::{
    CSV, Cell, FormatParams, XLSX, export, export_format, exported, vietnamese_key,
};
use crate::routes::params::{ScopeParams, WindowParams, authorize, bounded};
use crate::state::AppState;
use crate::views::{Meta, Overview, Ranking, Trend, UnitView, bad};

/// The window asked for (`window=` or `from=`&`to=`) and its previous period.
/// A range needs both of its ends.
fn window(params: &WindowParams, state: &AppState) -> Result<(Window, Window), ApiError> {
    let range = match (params.from.as_deref(), params.to.as_deref()) {
        (Some(from), Some(to)) => Some((from, to)),
        (None, None) => None,
        (Some(_), None) => return Err(bad("to", "is required with `from`".to_owned())),
        (None, Some(_)) => return Err(bad("from", "is required with `to`".to_owned())),
    };
    state.views.window(params.window.as_deref(), range)
}

/// `GET /api/v1/meta`: the levels of the tree, the keys with their kind
/// and direction, and the standing targets, for pages to lay out from.
#[utoipa::path(
    tag = "read",
    responses((status = 200, description = "Levels, keys and standing targets", body = Meta), AuthErrors),
    security(("bearer" = []), ("token_query" = []))
)]
#[get("/api/v1/meta")]
pub async fn meta(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state).await?;
    Ok(HttpResponse::Ok().json(state.views.meta()))
}

/// `GET /api/v1/overview?window=`: the province (every root unit's tree),
/// each level's aggregate, and the targets of campaigns running today.
#[utoipa::path(
    tag = "read",
    params(WindowParams),
    responses((status = 200, description = "The province over the window", body = Overview, links(
            ("unit" = (operation_id = "unit_keys", parameters(("code" = "$response.body#/units/0/code"))))
        )), ReadErrors),
    security(("bearer" = []), ("token_query" = []))
)]
#[get("/api/v1/overview")]
pub async fn overview(
    req: HttpRequest,
    window_params: web::Query<WindowParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state).await?;
    let (window, _) = window(&window_params, &state)?;
    json_cached(&state, format!("overview {window:?}"), move |state| {
        Ok(state.views.overview(window))
    })
    .await
}

/// Answers with the cached body for `key` and this snapshot, or makes it.
/// The key names the view and the parsed parameters it is made from, so
/// that junk parameters or a token in the URL make no new entry. The body
/// is made on a blocking thread: a heavy read never delays `/healthz`,
/// ingestion or the WebSockets served by the async workers.
async fn json_cached<T: serde::Serialize>(
    state: &web::Data<AppState>,
    key: String,
    make: impl FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
) -> Result<HttpResponse, ApiError> {
    let state = state.clone();
    let body = web::block(move || {
        state.aggregates.cached(&key, || {
            let value = make(&state)?;
            serde_json::to_vec(&value)
                .map(web::Bytes::from)
                .map_err(|e| ApiError::Internal(format!("cannot encode the response: {e}")))
        })
    })
    .await
    .map_err(|e| ApiError::Internal(format!("the read was cancelled: {e}")))??;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

/// `GET /api/v1/units/{code}?window=&scope=`: every key of the unit, its
/// partial 766 score, and a summary of each child (as a locality); with
/// `format=csv|xlsx`, the children as a table.
#[utoipa::path(
    tag = "read",
    params(WindowParams, ScopeParams, FormatParams, ("code" = String, Path, description = "A unit code of the tree", example = "25432")),
    responses(
        (status = 200, description = "The unit (scope `self` by default), or its children as a table",
            content((UnitView = "application/json"), (CsvTable = CSV), (Workbook = XLSX)),
            headers(("Content-Disposition" = String, description = "For CSV and Excel: `attachment; filename=\"don-vi-CODE.csv\"` (or `.xlsx`)"))),
        ResourceErrors
    ),
    security(("bearer" = []), ("token_query" = []))
)]
#[get("/api/v1/units/{code}")]
pub async fn unit_keys(
    req: HttpRequest,
    path: web::Path<String>,
    window_params: web::Query<WindowParams>,
    scope_params: web::Query<ScopeParams>,
    format_params: web::Query<FormatParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state).await?;
    let code = state.views.unit_code(&path)?;
    let (window, _) = window(&window_params, &state)?;
    let scope = scope_params.scope(Scope::Own)?;
    if let Some(format) = export_format(&req, &format_params)? {
        let state = state.clone();
        return exported(move || {
            let engine = state.aggregates.snapshot();
            let children = state.views.children(&engine, &code, window);
            let header = ["Mã đơn vị", "Tên đơn vị", "Cấp"];
            let rows: Vec<Vec<Cell>> = children
                .iter()
                .map(|c| {
                    let mut row = vec![
                        Cell::Text(c.unit.clone()),
                        Cell::Text(c.name.clone()),
                        Cell::Text(c.level.clone()),
                    ];
                    row.extend(Key::ALL.iter().map(|k| Cell::from_ratio(c.keys.value(*k))));
                    row
                })
                .collect();
            let mut columns: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
            columns.extend(Key::ALL.iter().map(|k| vietnamese_key(*k).to_owned()));
            export(format, &format!("don-vi-{code}"), &columns, &rows)
        })
        .await;
    }
    json_cached(
        &state,
        format!("unit {code} {window:?} {scope:?}"),
        move |state| state.views.unit(&code, window, scope),
    )
    .await
}

/// Most days a trend covers.
const TREND_MAX_DAYS: u32 = 366;

/// How many days a trend covers.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrendParams {
    /// Local days, today last: 1 to 366 (30 by default).
    #[param(value_type = Option<i32>, minimum = 1, maximum = 366)]
    pub days: Option<String>,
}

/// `GET /api/v1/units/{code}/trend?days=&scope=`: daily numbers of the last
/// `days` (30) local days, today last, for charts.
#[utoipa::path(
    tag = "read",
    params(TrendParams, ScopeParams, ("code" = String, Path, description = "A unit code of the tree", example = "25432")),
    responses((status = 200, description = "Scope `tree` by default", body = Trend), ResourceErrors),
    security(("bearer" = []), ("token_query" = []))
)]
#[get("/api/v1/units/{code}/trend")]
pub async fn trend(
    req: HttpRequest,
    path: web::Path<String>,
    trend_params: web::Query<TrendParams>,
    scope_params: web::Query<ScopeParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state).await?;
    let code = state.views.unit_code(&path)?;
    let days = bounded(
        trend_params.days.as_deref(),
        "days",
        30,
        TREND_MAX_DAYS,
        "a number of days",
    )?;
    let scope = scope_params.scope(Scope::Tree)?;
    json_cached(
        &state,
        format!("trend {code} {days} {scope:?}"),
        move |state| Ok(state.views.trend(&code, days, scope)),
    )
    .await
}

/// What a ranking ranks.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RankingParams {
    /// A level of the tree (`GET /api/v1/meta` lists them).
    #[param(required = true, example = "commune")]
    pub level: Option<String>,
    /// The key ranked by.
    #[param(required = true, value_type = Key)]
    pub key: Option<String>,
}

/// `GET /api/v1/rankings?level=&key=&window=&scope=`: the units of a
/// level ranked by a key, with their movement against the previous period;
/// with `format=csv|xlsx`, as a table.
#[utoipa::path(
    tag = "read",
    params(RankingParams, WindowParams, ScopeParams, FormatParams),
    responses(
        (status = 200, description = "The ranking (scope `self` by default)",
            content((Ranking = "application/json"), (CsvTable = CSV), (Workbook = XLSX)),
            headers(("Content-Disposition" = String, description = "For CSV and Excel: `attachment; filename=\"xep-hang-LEVEL-KEY.csv\"` (or `.xlsx`)")),
            links(
                ("unit" = (operation_id = "unit_keys", parameters(("code" = "$response.body#/items/0/unit")))),
                ("trend" = (operation_id = "trend", parameters(("code" = "$response.body#/items/0/unit"))))
            )),
        ReadErrors
    ),
    security(("bearer" = []), ("token_query" = []))
)]
#[get("/api/v1/rankings")]
pub async fn rankings(
    req: HttpRequest,
    ranking_params: web::Query<RankingParams>,
    window_params: web::Query<WindowParams>,
    scope_params: web::Query<ScopeParams>,
    format_params: web::Query<FormatParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state).await?;
    let level = state.views.level(ranking_params.level.as_deref())?;
    let key = state.views.key(ranking_params.key.as_deref())?;
    let (window, previous) = window(&window_params, &state)?;
    let scope = scope_params.scope(Scope::Own)?;
    if let Some(format) = export_format(&req, &format_params)? {
        let (state, level) = (state.clone(), level.to_owned());
        return exported(move || {
            let level = level.as_str();
            let items = state.views.ranked(level, key, scope, window, previous);
            let columns: Vec<String> = [
                "Hạng",
                "Mã đơn vị",
                "Tên đơn vị",
                vietnamese_key(key),
                "Tử số",
                "Mẫu số",
                "Hạng kỳ trước",
                "Thay đổi",
            ]
            .iter()
            .map(|c| (*c).to_owned())
            .collect();
            let rows: Vec<Vec<Cell>> = items.iter().map(ranking_row).collect();
            export(format, &format!("xep-hang-{level}-{key}"), &columns, &rows)
        })
        .await;
    }
    let cache_key = format!("ranking {level} {key} {scope:?} {window:?} {previous:?}");
    let level = level.to_owned();
    json_cached(&state, cache_key, move |state| {
        Ok(state.views.ranking(&level, key, scope, window, previous))
    })
    .await
}

fn ranking_row(item: &RankedUnit) -> Vec<Cell> {
    let optional = |n: Option<i64>| n.map_or(Cell::Empty, |n| Cell::Number(n as f64));
    vec![
        optional(item.rank.map(|r| r as i64)),
        Cell::Text(item.unit.clone()),
        Cell::Text(item.name.clone()),
        item.value.map_or(Cell::Empty, Cell::Number),
        Cell::Number(item.numerator as f64),
        Cell::Number(item.denominator as f64),
        optional(item.previous_rank.map(|r| r as i64)),
        optional(item.movement),
    ]
}

/// `GET /api/v1/campaigns`: the configured campaigns.
#[utoipa::path(
    tag = "read",
    responses((status = 200, description = "The campaigns", body = Vec<Campaign>, links(
            ("progress" = (operation_id = "campaign_progress", parameters(("id" = "$response.body#/0/id"))))
        )), AuthErrors),
    security(("bearer" = []), ("token_query" = []))
)]
#[get("/api/v1/campaigns")]
pub async fn campaigns(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state).await?;
    let list: Vec<&Campaign> = state.aggregates.campaigns.iter().collect();
    Ok(HttpResponse::Ok().json(list))
}

/// `GET /api/v1/campaigns/{id}`: progress against each target, per level
/// and per unit.
#[utoipa::path(
    tag = "read",
    params(("id" = String, Path, description = "A campaign's id", example = "bp-92-ngay-2022")),
    responses((status = 200, description = "The campaign and its progress", body = CampaignProgress), LookupErrors),
    security(("bearer" = []), ("token_query" = []))
)]
#[get("/api/v1/campaigns/{id}")]
pub async fn campaign_progress(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state).await?;
    let campaign = state.aggregates.campaign(&path).ok_or_else(|| {
        let known: Vec<&str> = state
            .aggregates
            .campaigns
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        ApiError::NotFound(format!(
            "campaign {:?} (campaigns: {})",
            path.as_str(),
            known.join(", ")
        ))
    })?;
    let engine = state.aggregates.snapshot();
    Ok(HttpResponse::Ok().json(campaign::progress(
        &engine,
        campaign,
        state.aggregates.now(),
    )))
}
