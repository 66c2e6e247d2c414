//! Row mapping between diesel rows of `alerts` and `alert_events` and
//! [`Alert`] and [`Event`], and the lookups of one alert row.

use diesel::prelude::*;

use super::{Acknowledgement, Alert, AlertKey, Event, EventKind, Severity};
use crate::schema::{alert_events, alerts};
use crate::time::from_db;
use crate::{AnyConnection, StoreError};

/// A row of `alerts`.
#[derive(Queryable, Selectable)]
#[diesel(table_name = alerts)]
pub(super) struct AlertRow {
    pub(super) id: i64,
    rule: String,
    unit_code: String,
    source: String,
    dossier_code: String,
    pub(super) severity: String,
    active: bool,
    pub(super) details: String,
    raised_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
    cleared_at: Option<chrono::NaiveDateTime>,
    pub(super) acknowledged_by: Option<String>,
    acknowledged_at: Option<chrono::NaiveDateTime>,
    ack_note: Option<String>,
}

impl AlertRow {
    /// The alert this row stores.
    pub(super) fn into_alert(self) -> Result<Alert, StoreError> {
        let acknowledged = match (self.acknowledged_by, self.acknowledged_at) {
            (Some(by), Some(at)) => Some(Acknowledgement {
                by,
                at: from_db(at),
                note: self.ack_note,
            }),
            _ => None,
        };
        Ok(Alert {
            id: self.id,
            key: AlertKey {
                rule: self.rule,
                unit: self.unit_code,
                source: self.source,
                dossier: self.dossier_code,
            },
            severity: stored_severity(&self.severity)?,
            active: self.active,
            details: self.details,
            raised_at: from_db(self.raised_at),
            updated_at: from_db(self.updated_at),
            cleared_at: self.cleared_at.map(from_db),
            acknowledged,
        })
    }
}

/// A row of `alert_events`.
#[derive(Queryable, Selectable)]
#[diesel(table_name = alert_events)]
pub(super) struct EventRow {
    seq: i64,
    alert_id: i64,
    kind: String,
    at: chrono::NaiveDateTime,
    actor: String,
    severity: String,
    note: Option<String>,
}

impl EventRow {
    /// The event this row stores.
    pub(super) fn into_event(self) -> Result<Event, StoreError> {
        Ok(Event {
            seq: self.seq,
            alert_id: self.alert_id,
            kind: EventKind::parse(&self.kind).ok_or_else(|| {
                StoreError::Corrupt(format!("unknown alert event kind {:?}", self.kind))
            })?,
            at: from_db(self.at),
            actor: self.actor,
            severity: stored_severity(&self.severity)?,
            note: self.note,
        })
    }
}

/// A stored severity, as the type (a name no version wrote is corrupt data).
pub(super) fn stored_severity(raw: &str) -> Result<Severity, StoreError> {
    Severity::parse(raw)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown alert severity {raw:?}")))
}

/// The row of alert `id`.
pub(super) fn find(conn: &mut AnyConnection, id: i64) -> Result<Option<AlertRow>, StoreError> {
    Ok(alerts::table
        .find(id)
        .select(AlertRow::as_select())
        .first(conn)
        .optional()?)
}

/// The row of the active alert of `key`.
pub(super) fn active_row(
    conn: &mut AnyConnection,
    key: &AlertKey,
) -> Result<Option<AlertRow>, StoreError> {
    Ok(alerts::table
        .filter(alerts::rule.eq(&key.rule))
        .filter(alerts::unit_code.eq(&key.unit))
        .filter(alerts::source.eq(&key.source))
        .filter(alerts::dossier_code.eq(&key.dossier))
        .filter(alerts::active.eq(true))
        .select(AlertRow::as_select())
        .first(conn)
        .optional()?)
}
