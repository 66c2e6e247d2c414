//! Committing a checked batch to the store, and the counts reported for it.

use chrono::Utc;
use ioc_core::{Dossier, Source};
use ioc_store::dossiers::{self, Outcome, Tally};
use ioc_store::{Store, StoreError};
use serde::Serialize;

use crate::batch::Checked;
use crate::error::{FieldError, RecordError};
use crate::scope::WriteScope;

/// The answer to a batch: counts, and every rejected record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Adds the outcomes of committed versions.
    pub fn count(&mut self, outcomes: &[Outcome]) {
        let tally = Tally::of(outcomes);
        self.accepted += tally.accepted as usize;
        self.duplicates += tally.duplicates as usize;
        self.stale += tally.stale as usize;
    }
}

/// Writes the valid versions of `checked` as `source` in one transaction;
/// returns once they are committed. A version whose stored dossier is of
/// a unit outside `scope` is rejected: a writer neither moves nor
/// withdraws another's dossiers.
pub async fn commit(
    store: &Store,
    source: &Source,
    scope: &WriteScope,
    checked: Checked,
) -> Result<BatchReport, StoreError> {
    let Checked { versions, rejected } = checked;
    let mut report = BatchReport {
        rejected,
        ..BatchReport::default()
    };
    if versions.is_empty() {
        return Ok(report);
    }
    let (source, scope) = (source.clone(), scope.clone());
    let (versions, outcomes) = store
        .run_bounded(move |conn| {
            let dossiers: Vec<Dossier> = versions.iter().map(|(_, d)| d.clone()).collect();
            let outcomes = dossiers::apply_within(conn, &source, &dossiers, Utc::now(), &|unit| {
                scope.allows(unit)
            })?;
            Ok((versions, outcomes))
        })
        .await?;
    report.count(&outcomes);
    let refused = versions
        .iter()
        .zip(&outcomes)
        .filter(|(_, outcome)| **outcome == Outcome::OutOfScope)
        .map(|((index, d), _)| {
            FieldError::new(
                Some(d.code.as_str()),
                "unit",
                format!(
                    "dossier {} is stored for a unit outside the units this token may write; only a token of that unit may change it",
                    d.code
                ),
            )
            .at(*index)
        });
    report.rejected.extend(refused);
    report.rejected.sort_by_key(|r| r.index);
    Ok(report)
}
