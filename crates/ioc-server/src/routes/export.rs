//! Tables as CSV or Excel: the exports of the unit and ranking reads.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use ioc_core::Key;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::views::bad;

/// A table export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Csv,
    Xlsx,
}

/// The media type of a CSV export.
pub const CSV: &str = "text/csv; charset=utf-8";
/// The media type of an Excel export.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// How a table is answered.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatParams {
    /// `json` (the default), `csv` (UTF-8 with a BOM, for Excel) or `xlsx`.
    /// Without it, an `Accept` that ranks `text/csv` above JSON asks for CSV.
    #[param(pattern = "^(json|csv|xlsx)$")]
    pub format: Option<String>,
}

/// `?format=csv|xlsx`, or an `Accept` that ranks `text/csv` above JSON;
/// `None` for JSON.
pub(crate) fn export_format(
    req: &HttpRequest,
    params: &FormatParams,
) -> Result<Option<Format>, ApiError> {
    match params.format.as_deref() {
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
    Ok(prefers_csv(accept).then_some(Format::Csv))
}

/// Whether `accept` ranks CSV above JSON (a tie is JSON).
fn prefers_csv(accept: &str) -> bool {
    let (csv, json) = (
        quality(accept, "text/csv"),
        quality(accept, "application/json"),
    );
    csv > 0.0 && csv > json
}

/// The quality `accept` gives `media_type`: that of the most specific range
/// matching it (`text/csv`, then `text/*`, then `*/*`), 0 when none does.
fn quality(accept: &str, media_type: &str) -> f32 {
    let kind = media_type.split('/').next().unwrap_or("");
    let mut best: Option<(u8, f32)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let specificity = if name == media_type {
            3
        } else if name.strip_suffix("/*") == Some(kind) {
            2
        } else if name == "*/*" {
            1
        } else {
            continue;
        };
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q=")?.parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, q));
        }
    }
    best.map_or(0.0, |(_, q)| q)
}

/// One cell of an exported table.
pub(crate) enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

impl Cell {
    pub(crate) fn from_ratio(ratio: ioc_aggregate::Ratio) -> Cell {
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
pub(crate) struct Attachment {
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
pub(crate) async fn exported(
    make: impl FnOnce() -> Result<Attachment, ApiError> + Send + 'static,
) -> Result<HttpResponse, ApiError> {
    let attachment = web::block(make)
        .await
        .map_err(|e| ApiError::Internal(format!("the export was cancelled: {e}")))??;
    Ok(attachment.response())
}

/// Encodes a table of `columns` and `rows` as `format`, named `name`.
pub(crate) fn export(
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
                content_type: CSV,
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
                content_type: XLSX,
                file_name: format!("{name}.xlsx"),
                body,
            })
        }
    }
}

/// The Vietnamese column title of a key.
pub(crate) fn vietnamese_key(key: Key) -> &'static str {
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
    use super::{Cell, prefers_csv};

    #[test]
    fn accept_asks_for_csv_only_when_it_prefers_it() {
        assert!(prefers_csv("text/csv"));
        assert!(prefers_csv("text/csv, application/json;q=0.5"));
        assert!(prefers_csv("text/*"));
        assert!(!prefers_csv("application/json, text/csv;q=0.1"));
        assert!(!prefers_csv("text/csv;q=0"));
        assert!(!prefers_csv("*/*"));
        assert!(!prefers_csv("application/json, text/csv"));
        assert!(!prefers_csv(""));
        assert!(!prefers_csv("text/csv;q=0, */*"));
    }

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
