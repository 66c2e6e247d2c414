//! Reading the change log in sequence order.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use ioc_core::DossierState;

use crate::dossiers::ChangeBody;
use crate::schema::dossier_changes;
use crate::time::from_db;
use crate::{AnyConnection, StoreError};

/// One accepted change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Position in the log.
    pub seq: i64,
    /// State before; none for a new dossier.
    pub old: Option<DossierState>,
    /// State after.
    pub new: DossierState,
    /// When ioc recorded it.
    pub recorded_at: DateTime<Utc>,
}

/// Up to `limit` changes with a sequence number above `after`, in order.
pub fn after(conn: &mut AnyConnection, after: i64, limit: i64) -> Result<Vec<Change>, StoreError> {
    let rows: Vec<(i64, ChangeBody)> = dossier_changes::table
        .filter(dossier_changes::seq.gt(after))
        .order(dossier_changes::seq)
        .limit(limit)
        .select((dossier_changes::seq, ChangeBody::as_select()))
        .load(conn)?;
    rows.into_iter()
        .map(|(seq, body)| {
            Ok(Change {
                seq,
                old: body.old_row().map(|r| r.into_state()).transpose()?,
                new: body.new_row().into_state()?,
                recorded_at: from_db(body.recorded_at),
            })
        })
        .collect()
}

/// The highest sequence number in the log (0 when it is empty).
pub fn last_seq(conn: &mut AnyConnection) -> Result<i64, StoreError> {
    let max: Option<i64> = dossier_changes::table
        .select(diesel::dsl::max(dossier_changes::seq))
        .first(conn)?;
    Ok(max.unwrap_or(0))
}

/// Number of changes in the log.
pub fn count(conn: &mut AnyConnection) -> Result<i64, StoreError> {
    Ok(dossier_changes::table.count().get_result(conn)?)
}
