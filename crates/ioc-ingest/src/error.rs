//! Errors of ingestion: for a whole batch, or for one record.

use ioc_core::{UnitCode, UnresolvedUnit};
use serde::Serialize;

/// The batch is refused as a whole; nothing of it is applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// The body is empty.
    #[error("the body is empty; send a JSON array of dossiers or NDJSON")]
    Empty,
    /// The body is not well-formed JSON.
    #[error("malformed JSON at line {line}, column {column}: {message}")]
    Malformed {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// The JSON is well-formed but not of the expected shape.
    #[error("{0}")]
    Shape(String),
    /// More records than one batch may hold.
    #[error("the batch has {count} records; at most {limit} are accepted in one batch")]
    TooManyRecords {
        /// Records sent.
        count: usize,
        /// The configured limit (`ingest.max_batch_records`).
        limit: usize,
    },
    /// A DVCQG envelope's `madonvi` does not resolve to one unit.
    #[error("madonvi: {0}")]
    UnknownUnit(UnresolvedUnit),
    /// A DVCQG envelope's `madonvi` is a unit the sender may not write: a
    /// batch on behalf of another unit is refused as a whole.
    #[error("madonvi {sent:?} is unit {unit}, outside the units this token may write")]
    UnitOutsideScope {
        /// `madonvi` as sent.
        sent: String,
        /// The unit it resolves to.
        unit: UnitCode,
    },
}

impl BatchError {
    /// A `Malformed` error from serde_json's.
    pub fn malformed(e: &serde_json::Error) -> BatchError {
        let message = e.to_string();
        // serde_json appends " at line L column C"; the variant carries both.
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m)
            .to_owned();
        BatchError::Malformed {
            line: e.line(),
            column: e.column(),
            message,
        }
    }
}

/// Why one record was rejected, before its index is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The dossier code, when the record carried a readable one.
    pub code: Option<String>,
    /// The field at fault (`(record)` for the record as a whole).
    pub field: String,
    /// What is wrong.
    pub error: String,
}

impl FieldError {
    /// A problem with `field` of the record of dossier `code`.
    pub fn new(code: Option<&str>, field: &str, error: impl Into<String>) -> FieldError {
        FieldError {
            code: code.map(str::to_owned),
            field: field.to_owned(),
            error: error.into(),
        }
    }

    /// The error at position `index` of its batch.
    pub fn at(self, index: usize) -> RecordError {
        RecordError {
            index,
            code: self.code,
            field: self.field,
            error: self.error,
        }
    }
}

/// A rejected record, as reported to the sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordError {
    /// 0-based position in the batch (line number − 1 for NDJSON).
    pub index: usize,
    /// The dossier code, when readable.
    pub code: Option<String>,
    /// The field at fault.
    pub field: String,
    /// What is wrong.
    pub error: String,
}
