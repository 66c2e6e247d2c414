//! Checks that apply to every format: consistency of a version's times and
//! status, the sender's scope, and one version per dossier in a batch.

use std::collections::{HashMap, HashSet};

use ioc_core::Dossier;

use crate::error::{FieldError, RecordError};

/// The units a sender may write dossiers for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteScope {
    /// Any unit.
    All,
    /// Only these unit codes (the sender's subtrees, expanded).
    Units(HashSet<String>),
}

impl WriteScope {
    /// Whether dossiers of `unit` may be written.
    pub fn allows(&self, unit: &str) -> bool {
        match self {
            WriteScope::All => true,
            WriteScope::Units(units) => units.contains(unit),
        }
    }
}

/// A batch after checking: the versions to apply, with their positions in
/// the batch, and the records rejected.
#[derive(Debug, Default)]
pub struct Checked {
    /// Valid versions and their 0-based index in the batch.
    pub versions: Vec<(usize, Dossier)>,
    /// Rejected records, in batch order.
    pub rejected: Vec<RecordError>,
}

/// Checks parsed records: each must be consistent, within `scope`, and the
/// only record of its dossier code in the batch (a later repeat is
/// rejected, naming the earlier index).
pub fn check(records: Vec<Result<Dossier, FieldError>>, scope: &WriteScope) -> Checked {
    let mut checked = Checked::default();
    let mut first_index: HashMap<String, usize> = HashMap::new();
    for (index, record) in records.into_iter().enumerate() {
        let verdict = record.and_then(|dossier| {
            consistent(&dossier)?;
            if !scope.allows(&dossier.unit) {
                return Err(FieldError::new(
                    Some(&dossier.code),
                    "unit",
                    format!("unit {} is outside the units this token may write", dossier.unit),
                ));
            }
            if let Some(earlier) = first_index.get(&dossier.code) {
                return Err(FieldError::new(
                    Some(&dossier.code),
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
    let fail = |field: &str, error: String| Err(FieldError::new(Some(&d.code), field, error));
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
