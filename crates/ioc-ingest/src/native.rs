//! ioc's native schema: the normalised dossier of `METRICS.md`, with its
//! field names, as a JSON array, NDJSON, or CSV with those columns.
//!
//! | field | type |
//! | --- | --- |
//! | `code` | string, ≤ 100 characters, required |
//! | `unit` | unit code of the tree, required |
//! | `procedure` | procedure code (`A-Z a-z 0-9 . _ -`), ≤ 64 characters, required |
//! | `channel` | `direct`, `online` or `postal`, required |
//! | `status` | integer 1–10, required |
//! | `received_at`, `due_at`, `finished_at` | RFC 3339 time with offset, or null |
//! | `fee_required`, `paid_online`, `e_result` | boolean, false when absent |
//! | `updated_at` | RFC 3339 time with offset, required: the source's time of this version |
//!
//! Codes are taken as sent: one with leading or trailing spaces, a control
//! character or a bidirectional control is refused, not trimmed. Times are
//! kept to the microsecond (what both databases store), so that a version
//! sent again is a duplicate whatever its precision.

use chrono::{DateTime, SubsecRound, Utc};
use ioc_core::{Channel, Dossier, DossierCode, ProcedureCode, Status, UnitCode, UnitTree};

use crate::error::{BatchError, FieldError};
use crate::wire::{self, Element, Object, Scalar, Schema};

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
pub const MAX_CODE_LEN: usize = ioc_core::dossier::MAX_DOSSIER_CODE_LEN;
/// Longest procedure code accepted.
pub const MAX_PROCEDURE_LEN: usize = ioc_core::procedure::MAX_PROCEDURE_CODE_LEN;

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
    /// A field of the schema given twice, if any.
    fn duplicate_field(&self) -> Option<&str>;
}

/// What the JSON formats read of a record: the fields of the schema.
pub static SCHEMA: Schema = Schema {
    scalars: &FIELDS,
    lists: &[],
};

impl Record for Object {
    fn get(&self, field: &str) -> Raw<'_> {
        match Object::get(self, field) {
            None | Some(Scalar::Null) => Raw::Missing,
            Some(Scalar::Text(s)) => Raw::Text(s),
            Some(Scalar::Bool(b)) => Raw::Bool(*b),
            Some(Scalar::Int(n)) => Raw::Int(*n),
            Some(Scalar::Float(_)) => Raw::Other("a fractional number"),
            Some(Scalar::Other(kind)) => Raw::Other(kind),
        }
    }

    fn unknown_field(&self) -> Option<&str> {
        self.unknown.as_deref()
    }

    fn duplicate_field(&self) -> Option<&str> {
        self.duplicate
    }
}

/// One record of a batch with its 0-based position (for NDJSON, the line
/// number − 1, blank lines included).
pub type Positioned = (usize, Result<Element, FieldError>);

/// Reads a JSON array body of at most `limit` records.
pub fn read_json_array(body: &[u8], limit: usize) -> Result<Vec<Positioned>, BatchError> {
    let elements = wire::array(body, &SCHEMA, limit)?.within(limit)?;
    Ok(elements.into_iter().map(Ok).enumerate().collect())
}

/// Reads an NDJSON body of at most `limit` records: one record per
/// non-blank line. A line that is not JSON is that record's error, not the
/// batch's.
pub fn read_ndjson(body: &[u8], limit: usize) -> Result<Vec<Positioned>, BatchError> {
    let lines = || {
        body.split(|b| *b == b'\n')
            .enumerate()
            .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
    };
    let count = lines().count();
    if count == 0 {
        return Err(BatchError::Empty);
    }
    if count > limit {
        return Err(BatchError::TooManyRecords { count, limit });
    }
    Ok(lines()
        .map(|(index, line)| (index, ndjson_line(line)))
        .collect())
}

/// One NDJSON line as a record.
pub fn ndjson_line(line: &[u8]) -> Result<Element, FieldError> {
    wire::element(line, &SCHEMA)
        .map_err(|e| FieldError::new(None, "(record)", format!("not a JSON value: {e}")))
}

/// Converts one JSON record into a dossier version.
pub fn from_element(element: &Element, tree: &UnitTree) -> Result<Dossier, FieldError> {
    match element {
        Element::Object(object) => from_record(object, tree),
        Element::Other(kind) => Err(FieldError::new(
            None,
            "(record)",
            format!("expected a JSON object, found {kind}"),
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
    if let Some(field) = record.duplicate_field() {
        return Err(fail(
            field,
            "is given twice in the record; send each field once".to_owned(),
        ));
    }
    // DossierCode::parse checks the control characters.
    let code = string(record, "code", MAX_CODE_LEN)
        .and_then(DossierCode::parse)
        .map_err(|e| fail("code", e))?;
    let unit_raw =
        text(record, "unit", ioc_core::unit::MAX_CODE_LEN).map_err(|e| fail("unit", e))?;
    let unit = UnitCode::parse(unit_raw)
        .ok()
        .filter(|u| tree.get(u).is_some())
        .ok_or_else(|| fail("unit", format!("unknown unit code {unit_raw:?}")))?;
    let procedure = text(record, "procedure", MAX_PROCEDURE_LEN)
        .and_then(ProcedureCode::parse)
        .map_err(|e| fail("procedure", e))?;
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
        code,
        unit,
        procedure,
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

/// A string field that is neither empty, longer than `max` characters,
/// nor padded, and holds no control character.
fn text<'a>(record: &'a impl Record, field: &str, max: usize) -> Result<&'a str, String> {
    string(record, field, max).and_then(|s| ioc_core::text::check_plain(s).map(|()| s))
}

/// [`text`] but for the control characters, which the caller's type checks.
fn string<'a>(record: &'a impl Record, field: &str, max: usize) -> Result<&'a str, String> {
    match record.get(field) {
        Raw::Text(s) if s.trim().is_empty() => Err("is empty".to_owned()),
        Raw::Text(s) if s.chars().count() > max => Err(format!("is longer than {max} characters")),
        Raw::Text(s) if s.trim() != s => Err(format!(
            "{s:?} has leading or trailing whitespace; send the code as the source system keeps it"
        )),
        Raw::Text(s) => Ok(s),
        Raw::Missing => Err("is required".to_owned()),
        other => Err(format!("expected a string, found {}", describe(other))),
    }
}

fn optional_time(record: &impl Record, field: &str) -> Result<Option<DateTime<Utc>>, String> {
    match record.get(field) {
        Raw::Missing => Ok(None),
        Raw::Text(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc).trunc_subsecs(6)))
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
