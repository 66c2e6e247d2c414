//! The read API: overview, units, rankings and campaigns, as JSON, with
//! CSV and Excel exports of the tables.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use ioc_aggregate::Window;
use ioc_aggregate::campaign::{self, Campaign};
use ioc_aggregate::ranking::{RankedUnit, Scope};
use ioc_core::Key;

use crate::error::ApiError;
use crate::routes::params::{Query, authorize, bounded, scope};
use crate::state::AppState;
use crate::views::bad;

/// The window asked for (`window=` or `from=`&`to=`) and its previous period.
fn window(query: &Query, state: &AppState) -> Result<(Window, Window), ApiError> {
    let range = query
        .get("from")
        .zip(query.get("to"))
        .map(|(from, to)| (from.as_str(), to.as_str()));
    state
        .views
        .window(query.get("window").map(String::as_str), range)
}

/// `GET /api/v1/meta`: the levels of the tree, the keys with their kind
/// and direction, and the standing targets, for pages to lay out from.
#[get("/api/v1/meta")]
pub async fn meta(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state).await?;
    Ok(HttpResponse::Ok().json(state.views.meta()))
}

/// `GET /api/v1/overview?window=`: the province (every root unit's tree),
/// each level's aggregate, and the targets of campaigns running today.
#[get("/api/v1/overview")]
pub async fn overview(
    req: HttpRequest,
    query: Query,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state).await?;
    let (window, _) = window(&query, &state)?;
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
async fn json_cached(
    state: &web::Data<AppState>,
    key: String,
    make: impl FnOnce(&AppState) -> Result<serde_json::Value, ApiError> + Send + 'static,
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
/// partial 766 score, and a summary of each child (as a locality).
#[get("/api/v1/units/{code}")]
pub async fn unit_keys(
    req: HttpRequest,
    path: web::Path<String>,
    query: Query,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state).await?;
    let code = state.views.unit_code(&path)?;
    let (window, _) = window(&query, &state)?;
    let scope = scope(&query, Scope::Own)?;
    if let Some(format) = export_format(&req, &query)? {
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

/// `GET /api/v1/units/{code}/trend?days=&scope=`: daily numbers of the last
/// `days` (30) local days, today last, for charts.
#[get("/api/v1/units/{code}/trend")]
pub async fn trend(
    req: HttpRequest,
    path: web::Path<String>,
    query: Query,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state).await?;
    let code = state.views.unit_code(&path)?;
    let days = bounded(&query, "days", 30, TREND_MAX_DAYS, "a number of days")?;
    let scope = scope(&query, Scope::Tree)?;
    json_cached(
        &state,
        format!("trend {code} {days} {scope:?}"),
        move |state| Ok(state.views.trend(&code, days, scope)),
    )
    .await
}

/// `GET /api/v1/rankings?level=&key=&window=&scope=`.
#[get("/api/v1/rankings")]
pub async fn rankings(
    req: HttpRequest,
    query: Query,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state).await?;
    let level = state.views.level(query.get("level").map(String::as_str))?;
    let key = state.views.key(query.get("key").map(String::as_str))?;
    let (window, previous) = window(&query, &state)?;
    let scope = scope(&query, Scope::Own)?;
    if let Some(format) = export_format(&req, &query)? {
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

/// A table export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Xlsx,
}

/// `?format=csv|xlsx`, or `Accept: text/csv`; `None` for JSON.
fn export_format(req: &HttpRequest, query: &Query) -> Result<Option<Format>, ApiError> {
    match query.get("format").map(String::as_str) {
        Some("csv") => return Ok(Some(Format::Csv)),
        Some("xlsx") => return Ok(Some(Format::Xlsx)),
        Some("json") => return Ok(None),
        Some(other) => {
            return Err(bad(
                "format",
                format!("unknown format {other:?} (formats: json, csv, xlsx)"),
            ));
        }
        None => {}
    }
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Ok(accept.contains("text/csv").then_some(Format::Csv))
}

/// One cell of an exported table.
enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

impl Cell {
    fn from_ratio(ratio: ioc_aggregate::Ratio) -> Cell {
        ratio.value().map_or(Cell::Empty, Cell::Number)
    }

    /// The cell as CSV text. Text that a spreadsheet would take for a
    /// formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage
    /// return) is prefixed with `'`, as OWASP advises against CSV injection.
    fn text(&self) -> String {
        match self {
            Cell::Text(s) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{s}"),
            Cell::Text(s) => s.clone(),
            Cell::Number(n) => n.to_string(),
            Cell::Empty => String::new(),
        }
    }
}

/// An exported table, encoded: the body and its headers.
struct Attachment {
    content_type: &'static str,
    file_name: String,
    body: Vec<u8>,
}

impl Attachment {
    fn response(self) -> HttpResponse {
        HttpResponse::Ok()
            .content_type(self.content_type)
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", self.file_name),
            ))
            .body(self.body)
    }
}

/// Makes an export on a blocking thread (tables and workbooks are heavy
/// reads): `make` builds and encodes it there.
async fn exported(
    make: impl FnOnce() -> Result<Attachment, ApiError> + Send + 'static,
) -> Result<HttpResponse, ApiError> {
    let attachment = web::block(make)
        .await
        .map_err(|e| ApiError::Internal(format!("the export was cancelled: {e}")))??;
    Ok(attachment.response())
}

fn export(
    format: Format,
    name: &str,
    columns: &[String],
    rows: &[Vec<Cell>],
) -> Result<Attachment, ApiError> {
    let failed = |e: String| ApiError::Internal(format!("cannot write the export: {e}"));
    match format {
        Format::Csv => {
            let mut out = csv::Writer::from_writer(Vec::new());
            out.write_record(columns)
                .map_err(|e| failed(e.to_string()))?;
            for row in rows {
                out.write_record(row.iter().map(Cell::text))
                    .map_err(|e| failed(e.to_string()))?;
            }
            let mut body = vec![0xEF, 0xBB, 0xBF]; // BOM, so that Excel reads UTF-8
            body.extend(out.into_inner().map_err(|e| failed(e.to_string()))?);
            Ok(Attachment {
                content_type: "text/csv; charset=utf-8",
                file_name: format!("{name}.csv"),
                body,
            })
        }
        Format::Xlsx => {
            let mut book = rust_xlsxwriter::Workbook::new();
            let sheet = book.add_worksheet();
            let bold = rust_xlsxwriter::Format::new().set_bold();
            for (c, title) in columns.iter().enumerate() {
                sheet
                    .write_string_with_format(0, c as u16, title, &bold)
                    .map_err(|e| failed(e.to_string()))?;
            }
            for (r, row) in rows.iter().enumerate() {
                for (c, cell) in row.iter().enumerate() {
                    let (r, c) = (r as u32 + 1, c as u16);
                    match cell {
                        Cell::Text(s) => sheet.write_string(r, c, s).map(|_| ()),
                        Cell::Number(n) => sheet.write_number(r, c, *n).map(|_| ()),
                        Cell::Empty => Ok(()),
                    }
                    .map_err(|e| failed(e.to_string()))?;
                }
            }
            let body = book.save_to_buffer().map_err(|e| failed(e.to_string()))?;
            Ok(Attachment {
                content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                file_name: format!("{name}.xlsx"),
                body,
            })
        }
    }
}

/// The Vietnamese column title of a key.
fn vietnamese_key(key: Key) -> &'static str {
    match key {
        Key::Received => "Hồ sơ tiếp nhận",
        Key::ReceivedOnline => "Tiếp nhận trực tuyến",
        Key::ReceivedDirect => "Tiếp nhận trực tiếp",
        Key::ReceivedPostal => "Tiếp nhận qua bưu chính",
        Key::OnlineShare => "Tỷ lệ hồ sơ trực tuyến",
        Key::OnlineShareAll => "Tỷ lệ trực tuyến (mọi hồ sơ)",
        Key::Finished => "Hồ sơ đã giải quyết",
        Key::FinishedEarly => "Giải quyết trước hạn",
        Key::FinishedOnTime => "Giải quyết đúng hạn",
        Key::FinishedLate => "Giải quyết quá hạn",
        Key::OnTimeRate => "Tỷ lệ đúng hạn",
        Key::LateRate => "Tỷ lệ quá hạn",
        Key::Withdrawn => "Rút, dừng xử lý",
        Key::Pending => "Đang xử lý",
        Key::PendingOverdue => "Đang xử lý quá hạn",
        Key::DueSoon => "Sắp đến hạn",
        Key::ProgressRate => "Tiến độ giải quyết (766 2.1)",
        Key::OnlineServices => "Số DVCTT",
        Key::OnlineServicesUsed => "DVCTT phát sinh hồ sơ",
        Key::OnlineServicesUsedShare => "Tỷ lệ DVCTT phát sinh hồ sơ",
        Key::FeeDossiers => "Hồ sơ có phí",
        Key::PaidOnline => "Thanh toán trực tuyến",
        Key::PaidOnlineShare => "Tỷ lệ thanh toán trực tuyến",
        Key::EResultShare => "Tỷ lệ kết quả điện tử",
        Key::FullOnlineShare => "Tỷ lệ hồ sơ DVCTT toàn trình",
    }
}

#[cfg(test)]
mod tests {
    use super::Cell;

    #[test]
    fn csv_text_that_a_spreadsheet_would_run_is_quoted() {
        for formula in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            let text = Cell::Text(formula.to_owned()).text();
            assert_eq!(text, format!("'{formula}"));
        }
        assert_eq!(
            Cell::Text("Phường Tân Phú".to_owned()).text(),
            "Phường Tân Phú"
        );
        assert_eq!(Cell::Number(-2.5).text(), "-2.5", "numbers stay numbers");
    }
}
