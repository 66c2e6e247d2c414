//! Checks that apply to every format: consistency of a version's times and
//! status, the sender's scope, and one version per dossier in a batch. A
//! progress batch is first made into versions of the stored dossiers.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use ioc_core::{Dossier, DossierCode, Source};
use ioc_store::dossiers;
use ioc_store::{Store, StoreError};

use crate::dvcqg;
use crate::error::{FieldError, RecordError};
use crate::parse::ParsedBatch;
use crate::scope::WriteScope;

/// A batch after checking: the versions to commit, with their positions in
/// the batch, and the records rejected.
#[derive(Debug, Default)]
pub struct Checked {
    /// Valid versions and their 0-based index in the batch.
    pub versions: Vec<(usize, Dossier)>,
    /// Rejected records, in batch order.
    pub rejected: Vec<RecordError>,
}

/// The times ioc accepts, so that no record can make the counters span
/// millennia or freeze a dossier with a version from the far future.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeBounds {
    /// No time before this (`ingest.earliest_time`).
    pub earliest: DateTime<Utc>,
    /// Reception, finishing and `updated_at` may be this far after now, for
    /// senders whose clocks run ahead (`ingest.max_clock_skew_secs`).
    pub max_clock_skew: TimeDelta,
    /// The due time may be this far after now (`ingest.max_due_days_ahead`).
    pub max_due_ahead: TimeDelta,
}

impl Default for TimeBounds {
    /// 2000-01-01 local, 15 minutes of skew, due within 5 years.
    fn default() -> TimeBounds {
        TimeBounds {
            earliest: DateTime::from_timestamp(946_659_600, 0).unwrap_or(DateTime::UNIX_EPOCH),
            max_clock_skew: TimeDelta::minutes(15),
            max_due_ahead: TimeDelta::days(1826),
        }
    }
}

impl TimeBounds {
    /// Checks every time of `d` against the bounds at `now`.
    pub fn check(&self, d: &Dossier, now: DateTime<Utc>) -> Result<(), FieldError> {
        let events = now + self.max_clock_skew;
        let due = now + self.max_due_ahead;
        let fields = [
            (
                "received_at",
                d.received_at,
                events,
                "now plus ingest.max_clock_skew_secs",
            ),
            (
                "due_at",
                d.due_at,
                due,
                "now plus ingest.max_due_days_ahead",
            ),
            (
                "finished_at",
                d.finished_at,
                events,
                "now plus ingest.max_clock_skew_secs",
            ),
            (
                "updated_at",
                Some(d.updated_at),
                events,
                "now plus ingest.max_clock_skew_secs",
            ),
        ];
        for (field, time, latest, why) in fields {
            let Some(time) = time else { continue };
            if time < self.earliest {
                return Err(FieldError::new(
                    Some(d.code.as_str()),
                    field,
                    format!("{time} is before {} (ingest.earliest_time)", self.earliest),
                ));
            }
            if time > latest {
                return Err(FieldError::new(
                    Some(d.code.as_str()),
                    field,
                    format!("{time} is after {latest} ({why})"),
                ));
            }
        }
        Ok(())
    }
}

/// What every record of a batch is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Admission<'a> {
    /// The units the sender may write.
    pub scope: &'a WriteScope,
    /// The times accepted.
    pub bounds: &'a TimeBounds,
    /// The time the batch arrived.
    pub now: DateTime<Utc>,
}

/// Checks a parsed batch of `source` into the versions ready to commit and
/// the records rejected. The steps of a progress batch become versions of
/// the dossiers stored (one read of the store; a step of a dossier not
/// stored is rejected); then every version is checked as
/// [`check_versions`] says.
pub async fn check(
    store: &Store,
    source: &Source,
    batch: ParsedBatch,
    admission: &Admission<'_>,
) -> Result<Checked, StoreError> {
    let versions = match batch {
        ParsedBatch::Versions(versions) => versions,
        ParsedBatch::Steps(steps) => {
            let codes: Vec<String> = steps
                .iter()
                .filter_map(|(_, step)| step.as_ref().ok())
                .map(|step| step.code.as_str().to_owned())
                .collect();
            let lookup_source = source.as_str().to_owned();
            let stored = store
                .run_bounded(move |conn| dossiers::find_many(conn, &lookup_source, &codes))
                .await?;
            dvcqg::versions_after(steps, &stored, source)
        }
    };
    Ok(check_versions(versions, admission))
}

/// Checks parsed versions, each with its position in the batch: each must
/// be consistent, within the bounds and scope of `admission`, and the only
/// record of its dossier code in the batch (a later repeat is rejected,
/// naming the earlier index).
pub fn check_versions(
    records: impl IntoIterator<Item = (usize, Result<Dossier, FieldError>)>,
    admission: &Admission<'_>,
) -> Checked {
    let scope = admission.scope;
    let mut checked = Checked::default();
    let mut first_index: HashMap<DossierCode, usize> = HashMap::new();
    for (index, record) in records {
        let verdict = record.and_then(|dossier| {
            consistent(&dossier)?;
            admission.bounds.check(&dossier, admission.now)?;
            if !scope.allows(dossier.unit.as_str()) {
                return Err(FieldError::new(
                    Some(dossier.code.as_str()),
                    "unit",
                    format!("unit {} is outside the units this token may write", dossier.unit),
                ));
            }
            if let Some(earlier) = first_index.get(&dossier.code) {
                return Err(FieldError::new(
                    Some(dossier.code.as_str()),
                    "code",
                    format!(
                        "dossier {} appears earlier in this batch, at index {earlier}; send one version per dossier in a batch",
                        dossier.code
                    ),
                ));
            }
            first_index.insert(dossier.code.clone(), index);
            Ok(dossier)
        });
        match verdict {
            Ok(dossier) => checked.versions.push((index, dossier)),
            Err(error) => checked.rejected.push(error.at(index)),
        }
    }
    checked
}

/// The rules that tie a version's status and times together.
pub fn consistent(d: &Dossier) -> Result<(), FieldError> {
    let fail =
        |field: &str, error: String| Err(FieldError::new(Some(d.code.as_str()), field, error));
    let needs_reception = !d.status.is_unreceived() && !d.status.is_stopped();
    match (d.received_at, needs_reception) {
        (None, true) => {
            return fail(
                "received_at",
                format!("is required for status {} (a received dossier)", d.status),
            );
        }
        (Some(_), false) if d.status.is_unreceived() => {
            return fail(
                "received_at",
                format!("must be empty for status {} (not received)", d.status),
            );
        }
        _ => {}
    }
    if d.status.is_finished() && d.finished_at.is_none() {
        return fail(
            "finished_at",
            format!("is required for status {}", d.status),
        );
    }
    if !d.status.is_finished() && d.finished_at.is_some() {
        return fail(
            "finished_at",
            format!(
                "must be empty for status {}, which is not finished (9 or 10)",
                d.status
            ),
        );
    }
    if d.paid_online && !d.fee_required {
        return fail(
            "paid_online",
            "is true but fee_required is not; only a dossier with a fee can be paid online"
                .to_owned(),
        );
    }
    if let (Some(received), Some(due)) = (d.received_at, d.due_at)
        && due < received
    {
        return fail("due_at", format!("{due} is before received_at {received}"));
    }
    if let (Some(received), Some(finished)) = (d.received_at, d.finished_at)
        && finished < received
    {
        return fail(
            "finished_at",
            format!("{finished} is before received_at {received}"),
        );
    }
    Ok(())
}
