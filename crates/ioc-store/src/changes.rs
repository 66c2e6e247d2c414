//! Reading the change log in sequence order.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use ioc_core::DossierState;

use crate::schema::dossier_changes;
use crate::time::from_db;
use crate::{AnyConnection, StoreError};

/// One accepted change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Position in the log.
    pub seq: i64,
    /// The dossier's surrogate key.
    pub dossier_id: i64,
    /// State before; none for a new dossier.
    pub old: Option<DossierState>,
    /// State after.
    pub new: DossierState,
    /// When ioc recorded it.
    pub recorded_at: DateTime<Utc>,
}

/// Up to `limit` changes with a sequence number above `after`, in order.
pub fn after(conn: &mut AnyConnection, after: i64, limit: i64) -> Result<Vec<Change>, StoreError> {
    let rows: Vec<(i64, i64, Option<String>, String, chrono::NaiveDateTime)> =
        dossier_changes::table
            .filter(dossier_changes::seq.gt(after))
            .order(dossier_changes::seq)
            .limit(limit)
            .select((
                dossier_changes::seq,
                dossier_changes::dossier_id,
                dossier_changes::old_state,
                dossier_changes::new_state,
                dossier_changes::recorded_at,
            ))
            .load(conn)?;
    rows.into_iter()
        .map(|(seq, dossier_id, old, new, recorded_at)| {
            Ok(Change {
                seq,
                dossier_id,
                old: old.as_deref().map(|s| decode(seq, s)).transpose()?,
                new: decode(seq, &new)?,
                recorded_at: from_db(recorded_at),
            })
        })
        .collect()
}

fn decode(seq: i64, json: &str) -> Result<DossierState, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("change {seq}: {e}")))
}
