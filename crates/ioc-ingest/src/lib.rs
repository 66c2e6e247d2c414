//! Ingestion: wire formats into validated dossier versions, with an error
//! per rejected record (index, dossier code, field, reason), and the
//! application of a batch to the store.
//!
//! Formats: ioc's native schema (a JSON array or NDJSON, also CSV for bulk
//! files), and the DVCQG sync format (`DongBoHoSoMC` dossiers and
//! `CapNhatTienDoHoSoMC` progress steps). Personal data in DVCQG payloads
//! (names, ID numbers, phone numbers, e-mail, addresses, file links) is
//! never read into ioc's types, so it is neither stored nor logged.

pub mod apply;
pub mod batch;
pub mod dvcqg;
pub mod error;
pub mod import;
pub mod native;
#[cfg(test)]
mod tests;
pub mod wire;

pub use apply::{BatchReport, apply};
pub use batch::{Admission, Checked, TimeBounds, WriteScope, check};
pub use error::{BatchError, FieldError, RecordError};
