//! Raising, updating and clearing alerts as the rules want.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::events::append_event;
use super::lock::locked;
use super::rows::{active_row, stored_severity};
use super::{AlertKey, Event, EventKind, SYSTEM_ACTOR, Wanted};
use crate::schema::alerts;
use crate::time::to_db;
use crate::{AnyConnection, StoreError};

/// Brings the stored alerts of `wanted` keys to what their rules want at
/// `now`: raises an alert for a new condition, updates one whose severity
/// or details changed (an `update` event only for a new severity), clears
/// one whose condition ended; a key already in the wanted state is left
/// alone. Returns the events written, in order.
pub fn reconcile(
    conn: &mut AnyConnection,
    wanted: &[(AlertKey, Wanted)],
    now: DateTime<Utc>,
) -> Result<Vec<Event>, StoreError> {
    locked(conn, |conn| {
        let mut events = Vec::new();
        for (key, want) in wanted {
            let current = active_row(conn, key)?;
            match (current, want) {
                (None, Wanted::Cleared) => {}
                (None, Wanted::Active { severity, details }) => {
                    let id: i64 = diesel::insert_into(alerts::table)
                        .values((
                            alerts::rule.eq(&key.rule),
                            alerts::unit_code.eq(&key.unit),
                            alerts::source.eq(&key.source),
                            alerts::dossier_code.eq(&key.dossier),
                            alerts::severity.eq(severity.as_str()),
                            alerts::active.eq(true),
                            alerts::details.eq(details),
                            alerts::raised_at.eq(to_db(now)),
                            alerts::updated_at.eq(to_db(now)),
                        ))
                        .returning(alerts::id)
                        .get_result(conn)?;
                    events.push(append_event(
                        conn,
                        id,
                        EventKind::Raise,
                        now,
                        SYSTEM_ACTOR,
                        *severity,
                        None,
                    )?);
                }
                (Some(row), Wanted::Active { severity, details }) => {
                    if row.severity == severity.as_str() && row.details == *details {
                        continue;
                    }
                    diesel::update(alerts::table.find(row.id))
                        .set((
                            alerts::severity.eq(severity.as_str()),
                            alerts::details.eq(details),
                            alerts::updated_at.eq(to_db(now)),
                        ))
                        .execute(conn)?;
                    if row.severity != severity.as_str() {
                        events.push(append_event(
                            conn,
                            row.id,
                            EventKind::Update,
                            now,
                            SYSTEM_ACTOR,
                            *severity,
                            None,
                        )?);
                    }
                }
                (Some(row), Wanted::Cleared) => {
                    diesel::update(alerts::table.find(row.id))
                        .set((
                            alerts::active.eq(false),
                            alerts::cleared_at.eq(Some(to_db(now))),
                            alerts::updated_at.eq(to_db(now)),
                        ))
                        .execute(conn)?;
                    events.push(append_event(
                        conn,
                        row.id,
                        EventKind::Clear,
                        now,
                        SYSTEM_ACTOR,
                        stored_severity(&row.severity)?,
                        None,
                    )?);
                }
            }
        }
        Ok(events)
    })
}
