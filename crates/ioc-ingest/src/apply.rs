//! Applying a checked batch to the store and reporting per-batch counts.

use chrono::Utc;
use ioc_core::Dossier;
use ioc_store::dossiers::{self, Outcome, Tally};
use ioc_store::{Store, StoreError};
use serde::Serialize;

use crate::batch::Checked;
use crate::error::RecordError;

/// The answer to a batch: counts, and every rejected record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BatchReport {
    /// Versions that changed a dossier (new, or newer than stored).
    pub accepted: usize,
    /// Versions identical to the stored one.
    pub duplicates: usize,
    /// Versions older than the stored one.
    pub stale: usize,
    /// Rejected records, with index, code, field and reason.
    pub rejected: Vec<RecordError>,
}

impl BatchReport {
    /// Adds the outcomes of applied versions.
    pub fn count(&mut self, outcomes: &[Outcome]) {
        let tally = Tally::of(outcomes);
        self.accepted += tally.accepted as usize;
        self.duplicates += tally.duplicates as usize;
        self.stale += tally.stale as usize;
    }
}

/// Applies the valid versions of `checked` as `source` in one transaction;
/// returns once they are committed.
pub async fn apply(
    store: &Store,
    source: &str,
    checked: Checked,
) -> Result<BatchReport, StoreError> {
    let Checked { versions, rejected } = checked;
    let versions: Vec<Dossier> = versions.into_iter().map(|(_, d)| d).collect();
    let mut report = BatchReport {
        rejected,
        ..BatchReport::default()
    };
    if versions.is_empty() {
        return Ok(report);
    }
    let source = source.to_owned();
    let outcomes = store
        .run(move |conn| dossiers::apply(conn, &source, &versions, Utc::now()))
        .await?;
    report.count(&outcomes);
    Ok(report)
}
