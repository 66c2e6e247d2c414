//! Errors of ingestion: for a whole batch, or for one record.

use serde::Serialize;

/// The batch as a whole cannot be read; nothing of it is applied.
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
