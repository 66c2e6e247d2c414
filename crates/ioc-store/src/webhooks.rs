//! Webhook delivery as a cursor over the alert event log: the log is the
//! outbox, so an event written is an event owed to its receivers, across
//! restarts and nodes. Each receiver's cursor is leased by one node at a
//! time; a node writes it only while it holds the lease.

use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;

use crate::schema::{alert_events, webhook_cursors};
use crate::time::{from_db, to_db};
use crate::{AnyConnection, StoreError};

/// A receiver's position, as its lease holder sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Events up to this seq are delivered or given up.
    pub delivered_seq: i64,
    /// Tries of the next event so far.
    pub attempts: i32,
    /// When the next event may be tried again.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Takes (or renews) the lease of `url`'s cursor for `node` until
/// `now + lease`, creating the cursor at the end of the log for a receiver
/// never seen (it is owed what happens from now on). `None` while another
/// node's lease holds.
pub fn claim(
    conn: &mut AnyConnection,
    url: &str,
    node: &str,
    now: DateTime<Utc>,
    lease: TimeDelta,
) -> Result<Option<Cursor>, StoreError> {
    let end: Option<i64> = alert_events::table
        .select(diesel::dsl::max(alert_events::seq))
        .first(conn)?;
    let known: i64 = webhook_cursors::table
        .filter(webhook_cursors::url.eq(url))
        .count()
        .get_result(conn)?;
    if known == 0 {
        let created = diesel::insert_into(webhook_cursors::table)
            .values((
                webhook_cursors::url.eq(url),
                webhook_cursors::delivered_seq.eq(end.unwrap_or(0)),
                webhook_cursors::attempts.eq(0),
            ))
            .execute(conn);
        match created {
            // Another node created it meanwhile: theirs stands.
            Err(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )) => {}
            other => {
                other?;
            }
        }
    }
    let taken = diesel::update(
        webhook_cursors::table
            .filter(webhook_cursors::url.eq(url))
            .filter(
                webhook_cursors::leased_by
                    .is_null()
                    .or(webhook_cursors::leased_by.eq(node))
                    .or(webhook_cursors::lease_until.lt(to_db(now))),
            ),
    )
    .set((
        webhook_cursors::leased_by.eq(node),
        webhook_cursors::lease_until.eq(to_db(now + lease)),
    ))
    .execute(conn)?;
    if taken == 0 {
        return Ok(None);
    }
    let (delivered_seq, attempts, next_attempt_at) = webhook_cursors::table
        .filter(webhook_cursors::url.eq(url))
        .select((
            webhook_cursors::delivered_seq,
            webhook_cursors::attempts,
            webhook_cursors::next_attempt_at,
        ))
        .first::<(i64, i32, Option<chrono::NaiveDateTime>)>(conn)?;
    Ok(Some(Cursor {
        delivered_seq,
        attempts,
        next_attempt_at: next_attempt_at.map(from_db),
    }))
}

/// Extends `node`'s lease on `url` to `now + lease`; returns whether it
/// still held it.
pub fn renew(
    conn: &mut AnyConnection,
    url: &str,
    node: &str,
    now: DateTime<Utc>,
    lease: TimeDelta,
) -> Result<bool, StoreError> {
    let renewed = diesel::update(
        webhook_cursors::table
            .filter(webhook_cursors::url.eq(url))
            .filter(webhook_cursors::leased_by.eq(node))
            .filter(webhook_cursors::lease_until.ge(to_db(now))),
    )
    .set(webhook_cursors::lease_until.eq(to_db(now + lease)))
    .execute(conn)?;
    Ok(renewed == 1)
}

/// Records `cursor` for `url`, if `node` still holds its lease; returns
/// whether it did.
pub fn save(
    conn: &mut AnyConnection,
    url: &str,
    node: &str,
    cursor: &Cursor,
) -> Result<bool, StoreError> {
    let written = diesel::update(
        webhook_cursors::table
            .filter(webhook_cursors::url.eq(url))
            .filter(webhook_cursors::leased_by.eq(node)),
    )
    .set((
        webhook_cursors::delivered_seq.eq(cursor.delivered_seq),
        webhook_cursors::attempts.eq(cursor.attempts),
        webhook_cursors::next_attempt_at.eq(cursor.next_attempt_at.map(to_db)),
    ))
    .execute(conn)?;
    Ok(written == 1)
}
