//! The current state of dossiers, guarded by version, and the change log
//! appended in the same transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use ioc_core::{Dossier, DossierState, Status, VersionOrder};

use crate::schema::{dossier_changes, dossiers};
use crate::time::{from_db, to_db};
use crate::{AnyConnection, StoreError};

/// What happened to one incoming version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A dossier not seen before; one change appended.
    Inserted,
    /// A newer version replaced the stored one; one change appended.
    Updated,
    /// The stored version, sent again; nothing written.
    Duplicate,
    /// Older than the stored version; nothing written.
    Stale,
}

impl Outcome {
    /// Whether the version was accepted as a change.
    pub fn is_accepted(self) -> bool {
        matches!(self, Outcome::Inserted | Outcome::Updated)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = dossiers, treat_none_as_null = true)]
struct DossierRow {
    source: String,
    code: String,
    unit_code: String,
    procedure_code: String,
    channel: String,
    status: i16,
    received_at: Option<chrono::NaiveDateTime>,
    due_at: Option<chrono::NaiveDateTime>,
    finished_at: Option<chrono::NaiveDateTime>,
    stopped_at: Option<chrono::NaiveDateTime>,
    fee_required: bool,
    paid_online: bool,
    e_result: bool,
    updated_at: chrono::NaiveDateTime,
}

impl DossierRow {
    fn from_state(state: &DossierState) -> Self {
        let d = &state.dossier;
        DossierRow {
            source: state.source.clone(),
            code: d.code.clone(),
            unit_code: d.unit.clone(),
            procedure_code: d.procedure.clone(),
            channel: d.channel.as_str().to_owned(),
            status: d.status.code(),
            received_at: d.received_at.map(to_db),
            due_at: d.due_at.map(to_db),
            finished_at: d.finished_at.map(to_db),
            stopped_at: state.stopped_at.map(to_db),
            fee_required: d.fee_required,
            paid_online: d.paid_online,
            e_result: d.e_result,
            updated_at: to_db(d.updated_at),
        }
    }

    fn into_state(self) -> Result<DossierState, StoreError> {
        let corrupt = |what: String| {
            StoreError::Corrupt(format!("dossier {}/{}: {what}", self.source, self.code))
        };
        let channel = self.channel.parse().map_err(|e| corrupt(format!("{e}")))?;
        let status =
            Status::from_code(i64::from(self.status)).map_err(|e| corrupt(format!("{e}")))?;
        Ok(DossierState {
            dossier: Dossier {
                code: self.code.clone(),
                unit: self.unit_code,
                procedure: self.procedure_code,
                channel,
                status,
                received_at: self.received_at.map(from_db),
                due_at: self.due_at.map(from_db),
                finished_at: self.finished_at.map(from_db),
                fee_required: self.fee_required,
                paid_online: self.paid_online,
                e_result: self.e_result,
                updated_at: from_db(self.updated_at),
            },
            source: self.source,
            stopped_at: self.stopped_at.map(from_db),
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = dossier_changes)]
struct NewChange {
    dossier_id: i64,
    old_state: Option<String>,
    new_state: String,
    recorded_at: chrono::NaiveDateTime,
}

/// Applies `versions` from `source` in one transaction. Each version is
/// compared with the stored state of its dossier: a newer one replaces it
/// and appends one row to the change log, an identical one is a duplicate,
/// an older one is stale. Returns one outcome per version, in order.
pub fn apply(
    conn: &mut AnyConnection,
    source: &str,
    versions: &[Dossier],
    recorded_at: DateTime<Utc>,
) -> Result<Vec<Outcome>, StoreError> {
    conn.transaction(|conn| {
        let mut outcomes = Vec::with_capacity(versions.len());
        for version in versions {
            let stored: Option<(i64, DossierRow)> = dossiers::table
                .filter(dossiers::source.eq(source))
                .filter(dossiers::code.eq(&version.code))
                .select((dossiers::id, DossierRow::as_select()))
                .first(conn)
                .optional()?;
            let (id, old) = match stored {
                Some((id, row)) => (Some(id), Some(row.into_state()?)),
                None => (None, None),
            };
            if let Some(old) = &old {
                match version.order_against(&old.dossier) {
                    VersionOrder::Newer => {}
                    VersionOrder::Duplicate => {
                        outcomes.push(Outcome::Duplicate);
                        continue;
                    }
                    VersionOrder::Stale => {
                        outcomes.push(Outcome::Stale);
                        continue;
                    }
                }
            }
            let new = DossierState::next(old.as_ref(), source, version.clone());
            let row = DossierRow::from_state(&new);
            let dossier_id = match id {
                Some(id) => {
                    diesel::update(dossiers::table.find(id))
                        .set(&row)
                        .execute(conn)?;
                    id
                }
                None => diesel::insert_into(dossiers::table)
                    .values(&row)
                    .returning(dossiers::id)
                    .get_result(conn)?,
            };
            diesel::insert_into(dossier_changes::table)
                .values(NewChange {
                    dossier_id,
                    old_state: old.as_ref().map(encode).transpose()?,
                    new_state: encode(&new)?,
                    recorded_at: to_db(recorded_at),
                })
                .execute(conn)?;
            outcomes.push(if id.is_some() {
                Outcome::Updated
            } else {
                Outcome::Inserted
            });
        }
        Ok(outcomes)
    })
}

/// The stored state of dossier `code` from `source`.
pub fn find(
    conn: &mut AnyConnection,
    source: &str,
    code: &str,
) -> Result<Option<DossierState>, StoreError> {
    dossiers::table
        .filter(dossiers::source.eq(source))
        .filter(dossiers::code.eq(code))
        .select(DossierRow::as_select())
        .first(conn)
        .optional()?
        .map(DossierRow::into_state)
        .transpose()
}

/// Number of stored dossiers.
pub fn count(conn: &mut AnyConnection) -> Result<i64, StoreError> {
    Ok(dossiers::table.count().get_result(conn)?)
}

fn encode(state: &DossierState) -> Result<String, StoreError> {
    serde_json::to_string(state).map_err(|e| StoreError::Corrupt(e.to_string()))
}
