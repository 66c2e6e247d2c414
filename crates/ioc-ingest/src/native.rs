//! ioc's native schema: the normalised dossier of `METRICS.md`, with its
//! field names, as a JSON array, NDJSON, or CSV with those columns.
//!
//! | field | type |
//! | --- | --- |
//! | `code` | string, ≤ 100 characters, required |
//! | `unit` | unit code of the tree, required |
//! | `procedure` | procedure code, ≤ 64 characters, required |
//! | `channel` | `direct`, `online` or `postal`, required |
//! | `status` | integer 1–10, required |
//! | `received_at`, `due_at`, `finished_at` | RFC 3339 time with offset, or null |
//! | `fee_required`, `paid_online`, `e_result` | boolean, false when absent |
//! | `updated_at` | RFC 3339 time with offset, required: the source's time of this version |

use chrono::{DateTime, Utc};
use ioc_core::{Channel, Dossier, Status, UnitCode, UnitTree};
use serde_json::{Map, Value};

use crate::error::{BatchError, FieldError};

/// The fields of the native schema, in their documented order.
pub const FIELDS: [&str; 12] = [
    "code",
    "unit",
    "procedure",
    "channel",
    "status",
    "received_at",
    "due_at",
    "finished_at",
    "fee_required",
    "paid_online",
    "e_result",
    "updated_at",
];

/// Longest dossier code accepted.
pub const MAX_CODE_LEN: usize = 100;
/// Longest procedure code accepted.
pub const MAX_PROCEDURE_LEN: usize = 64;

/// One field's value as found in a record, whatever the wire format.
#[derive(Debug, Clone, Copy)]
pub enum Raw<'a> {
    /// Absent, JSON null, or an empty CSV cell.
    Missing,
    /// A string.
    Text(&'a str),
    /// A JSON integer.
    Int(i64),
    /// A JSON boolean.
    Bool(bool),
    /// Any other JSON value; the name of its type.
    Other(&'static str),
}

/// A record of named fields: a JSON object or a CSV row.
pub trait Record {
    /// The value of `field`.
    fn get(&self, field: &str) -> Raw<'_>;
    /// A field that the schema does not have, if any.
    fn unknown_field(&self) -> Option<&str>;
}

impl Record for Map<String, Value> {
    fn get(&self, field: &str) -> Raw<'_> {
        match Map::get(self, field) {
            None | Some(Value::Null) => Raw::Missing,
            Some(Value::String(s)) => Raw::Text(s),
            Some(Value::Bool(b)) => Raw::Bool(*b),
            Some(Value::Number(n)) => n
                .as_i64()
                .map_or(Raw::Other("a fractional number"), Raw::Int),
            Some(Value::Array(_)) => Raw::Other("an array"),
            Some(Value::Object(_)) => Raw::Other("an object"),
        }
    }

    fn unknown_field(&self) -> Option<&str> {
        self.keys()
            .map(String::as_str)
            .find(|k| !FIELDS.contains(k))
    }
}

/// Reads a JSON array body into one JSON value per record.
pub fn split_json_array(body: &[u8]) -> Result<Vec<Value>, BatchError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(BatchError::Empty);
    }
    match serde_json::from_slice::<Value>(body).map_err(|e| BatchError::malformed(&e))? {
        Value::Array(records) => Ok(records),
        other => Err(BatchError::Shape(format!(
            "expected a JSON array of dossiers, found {}",
            json_type(&other)
        ))),
    }
}

/// Reads an NDJSON body: one record per non-blank line. A line that is not
/// JSON is that record's error, not the batch's.
pub fn split_ndjson(body: &[u8]) -> Result<Vec<Result<Value, FieldError>>, BatchError> {
    let records: Vec<Result<Value, FieldError>> = body
        .split(|b| *b == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .map(|line| {
            serde_json::from_slice(line).map_err(|e| {
                let e = BatchError::malformed(&e);
                FieldError::new(None, "(record)", format!("not a JSON value: {e}"))
            })
        })
        .collect();
    if records.is_empty() {
        return Err(BatchError::Empty);
    }
    Ok(records)
}

/// Converts one JSON value into a dossier version.
pub fn from_json(value: &Value, tree: &UnitTree) -> Result<Dossier, FieldError> {
    match value {
        Value::Object(map) => from_record(map, tree),
        other => Err(FieldError::new(
            None,
            "(record)",
            format!("expected a JSON object, found {}", json_type(other)),
        )),
    }
}

/// Converts a record of the native schema into a dossier version.
pub fn from_record(record: &impl Record, tree: &UnitTree) -> Result<Dossier, FieldError> {
    let code_hint = match record.get("code") {
        Raw::Text(c) if c.chars().count() <= MAX_CODE_LEN => Some(c),
        _ => None,
    };
    let fail = |field: &str, error: String| FieldError::new(code_hint, field, error);
    if let Some(field) = record.unknown_field() {
        return Err(fail(
            field,
            format!("unknown field (fields: {})", FIELDS.join(", ")),
        ));
    }
    let code = text(record, "code", MAX_CODE_LEN).map_err(|e| fail("code", e))?;
    let unit_raw =
        text(record, "unit", ioc_core::unit::MAX_CODE_LEN).map_err(|e| fail("unit", e))?;
    let unit = UnitCode::parse(unit_raw)
        .ok()
        .filter(|u| tree.get(u).is_some())
        .ok_or_else(|| fail("unit", format!("unknown unit code {unit_raw:?}")))?;
    let procedure =
        text(record, "procedure", MAX_PROCEDURE_LEN).map_err(|e| fail("procedure", e))?;
    let channel: Channel = text(record, "channel", 16)
        .and_then(|c| c.parse().map_err(|e: ioc_core::UnknownCode| e.to_string()))
        .map_err(|e| fail("channel", e))?;
    let status = match record.get("status") {
        Raw::Int(n) => Status::from_code(n).map_err(|e| e.to_string()),
        // CSV cells are text.
        Raw::Text(s) if s.parse::<i64>().is_ok() => {
            Status::parse_dvcqg(s).map_err(|e| e.to_string())
        }
        Raw::Missing => Err("is required".to_owned()),
        other => Err(format!(
            "expected an integer 1-10, found {}",
            describe(other)
        )),
    }
    .map_err(|e| fail("status", e))?;
    let time = |field: &str| optional_time(record, field).map_err(|e| fail(field, e));
    let received_at = time("received_at")?;
    let due_at = time("due_at")?;
    let finished_at = time("finished_at")?;
    let updated_at =
        time("updated_at")?.ok_or_else(|| fail("updated_at", "is required".to_owned()))?;
    let flag = |field: &str| boolean(record, field).map_err(|e| fail(field, e));
    Ok(Dossier {
        code: code.to_owned(),
        unit: unit.as_str().to_owned(),
        procedure: procedure.to_owned(),
        channel,
        status,
        received_at,
        due_at,
        finished_at,
        fee_required: flag("fee_required")?,
        paid_online: flag("paid_online")?,
        e_result: flag("e_result")?,
        updated_at,
    })
}

fn text<'a>(record: &'a impl Record, field: &str, max: usize) -> Result<&'a str, String> {
    match record.get(field) {
        Raw::Text(s) if s.trim().is_empty() => Err("is empty".to_owned()),
        Raw::Text(s) if s.chars().count() > max => Err(format!("is longer than {max} characters")),
        Raw::Text(s) => Ok(s),
        Raw::Missing => Err("is required".to_owned()),
        other => Err(format!("expected a string, found {}", describe(other))),
    }
}

fn optional_time(record: &impl Record, field: &str) -> Result<Option<DateTime<Utc>>, String> {
    match record.get(field) {
        Raw::Missing => Ok(None),
        Raw::Text(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| {
                format!("{s:?} is not an RFC 3339 time with offset, e.g. 2022-09-15T09:12:00+07:00")
            }),
        other => Err(format!(
            "expected an RFC 3339 time string, found {}",
            describe(other)
        )),
    }
}

fn boolean(record: &impl Record, field: &str) -> Result<bool, String> {
    match record.get(field) {
        Raw::Missing => Ok(false),
        Raw::Bool(b) => Ok(b),
        Raw::Text("true") => Ok(true),
        Raw::Text("false") => Ok(false),
        other => Err(format!("expected true or false, found {}", describe(other))),
    }
}

fn describe(raw: Raw<'_>) -> String {
    match raw {
        Raw::Missing => "nothing".to_owned(),
        Raw::Text(s) => format!("the string {s:?}"),
        Raw::Int(n) => format!("the number {n}"),
        Raw::Bool(b) => format!("{b}"),
        Raw::Other(kind) => kind.to_owned(),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
