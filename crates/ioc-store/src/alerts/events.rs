//! The alert event log: appended to by every transition, read in order.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::rows::EventRow;
use super::{Event, EventKind, Severity};
use crate::schema::alert_events;
use crate::time::to_db;
use crate::{AnyConnection, StoreError};

/// Appends one transition of alert `alert_id` to the event log.
pub(super) fn append_event(
    conn: &mut AnyConnection,
    alert_id: i64,
    kind: EventKind,
    at: DateTime<Utc>,
    actor: &str,
    severity: Severity,
    note: Option<&str>,
) -> Result<Event, StoreError> {
    let seq: i64 = diesel::insert_into(alert_events::table)
        .values((
            alert_events::alert_id.eq(alert_id),
            alert_events::kind.eq(kind.as_str()),
            alert_events::at.eq(to_db(at)),
            alert_events::actor.eq(actor),
            alert_events::severity.eq(severity.as_str()),
            alert_events::note.eq(note),
        ))
        .returning(alert_events::seq)
        .get_result(conn)?;
    Ok(Event {
        seq,
        alert_id,
        kind,
        at,
        actor: actor.to_owned(),
        severity,
        note: note.map(str::to_owned),
    })
}

/// Up to `limit` events after `seq`, in order.
pub fn events_after(
    conn: &mut AnyConnection,
    seq: i64,
    limit: i64,
) -> Result<Vec<Event>, StoreError> {
    alert_events::table
        .filter(alert_events::seq.gt(seq))
        .order(alert_events::seq)
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?
        .into_iter()
        .map(EventRow::into_event)
        .collect()
}

/// The latest `limit` events, oldest first.
pub fn latest_events(conn: &mut AnyConnection, limit: i64) -> Result<Vec<Event>, StoreError> {
    let mut events = alert_events::table
        .order(alert_events::seq.desc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?
        .into_iter()
        .map(EventRow::into_event)
        .collect::<Result<Vec<Event>, StoreError>>()?;
    events.reverse();
    Ok(events)
}
