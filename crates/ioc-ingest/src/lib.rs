//! Ingestion: wire formats into validated dossier versions, with an error
//! per rejected record (index, dossier code, field, reason), and their
//! commit to the store.
//!
//! A batch of the HTTP API takes three steps: `parse_*` (one entry per
//! wire format, within the batch limit) into a [`ParsedBatch`], [`check`]
//! into the versions ready to write, and [`commit()`].
//!
//! Formats: ioc's native schema (a JSON array or NDJSON, also CSV for bulk
//! files), and the DVCQG sync format (`DongBoHoSoMC` dossiers and
//! `CapNhatTienDoHoSoMC` progress steps). Personal data in DVCQG payloads
//! (names, ID numbers, phone numbers, e-mail, addresses, file links) is
//! never read into ioc's types, so it is neither stored nor logged.

pub mod batch;
pub mod commit;
pub mod dvcqg;
pub mod error;
pub mod import;
pub mod native;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod parse;
pub mod scope;
#[cfg(test)]
mod tests;
pub mod wire;

pub use batch::{Admission, Checked, TimeBounds, check, check_versions};
pub use commit::{BatchReport, commit};
pub use error::{BatchError, FieldError, RecordError};
pub use parse::{
    ParsedBatch, parse_dvcqg_progress, parse_dvcqg_sync, parse_json_array, parse_ndjson,
};
pub use scope::WriteScope;
