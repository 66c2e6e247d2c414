//! Acknowledgements of alerts by people.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::events::append_event;
use super::lock::locked;
use super::rows::{AlertRow, find, stored_severity};
use super::{AckOutcome, EventKind};
use crate::schema::alerts;
use crate::time::to_db;
use crate::{AnyConnection, StoreError};

/// Acknowledges alert `id` as `actor`, with an optional note.
pub fn acknowledge(
    conn: &mut AnyConnection,
    id: i64,
    actor: &str,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<AckOutcome, StoreError> {
    locked(conn, |conn| {
        let Some(row) = find(conn, id)? else {
            return Ok(AckOutcome::Unknown);
        };
        if row.acknowledged_by.is_some() {
            return Ok(AckOutcome::Already(row.into_alert()?));
        }
        diesel::update(alerts::table.find(id))
            .set((
                alerts::acknowledged_by.eq(actor),
                alerts::acknowledged_at.eq(to_db(now)),
                alerts::ack_note.eq(note),
                alerts::updated_at.eq(to_db(now)),
            ))
            .execute(conn)?;
        let severity = stored_severity(&row.severity)?;
        let event = append_event(conn, id, EventKind::Ack, now, actor, severity, note)?;
        let alert = alerts::table
            .find(id)
            .select(AlertRow::as_select())
            .first(conn)?
            .into_alert()?;
        Ok(AckOutcome::Done(alert, event))
    })
}
