//! Operator alerts and their lifecycle: raised, updated and cleared by the
//! alerting service, acknowledged by people; every transition is appended
//! to `alert_events` in the same transaction.
//!
//! Writers take one lock (an advisory lock on PostgreSQL, the write lock on
//! SQLite) and re-read the alerts they touch inside it, so that several
//! nodes evaluating the same rules never raise one condition twice, and
//! event seqs commit in order.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::schema::{alert_events, alerts, source_activity};
use crate::time::{from_db, to_db};
use crate::{AnyConnection, StoreError};

/// The actor of automatic transitions.
pub const SYSTEM_ACTOR: &str = "ioc";

/// The advisory lock that serialises alert writers on PostgreSQL.
const WRITE_LOCK: i64 = 0x10C_A1E7;

/// What an alert is about: one per key is active at a time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AlertKey {
    /// Rule id.
    pub rule: String,
    /// Unit concerned.
    pub unit: String,
    /// Source concerned, or empty.
    pub source: String,
    /// Dossier code concerned, or empty.
    pub dossier: String,
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Id.
    pub id: i64,
    /// What it is about.
    pub key: AlertKey,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    /// The condition still holds.
    pub active: bool,
    /// JSON details, as last evaluated.
    pub details: String,
    /// First raised.
    pub raised_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Cleared, if it is.
    pub cleared_at: Option<DateTime<Utc>>,
    /// Who acknowledged it, and when, with their note.
    pub acknowledged: Option<Acknowledgement>,
}

/// An acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    /// Who.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Their note.
    pub note: Option<String>,
}

/// One transition of an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Position in the event log.
    pub seq: i64,
    /// The alert.
    pub alert_id: i64,
    /// `raise`, `update`, `ack` or `clear`.
    pub kind: String,
    /// When.
    pub at: DateTime<Utc>,
    /// [`SYSTEM_ACTOR`], or who acknowledged.
    pub actor: String,
    /// Severity after the transition.
    pub severity: String,
    /// Acknowledgement note.
    pub note: Option<String>,
}

/// What a rule wants for one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// The condition holds, with this severity and these details.
    Active {
        /// Severity.
        severity: String,
        /// JSON details.
        details: String,
    },
    /// The condition no longer holds.
    Cleared,
}

/// The result of an acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckOutcome {
    /// Acknowledged now.
    Done(Alert, Event),
    /// It was already acknowledged.
    Already(Alert),
    /// No alert has this id.
    Unknown,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = alerts)]
struct AlertRow {
    id: i64,
    rule: String,
    unit_code: String,
    source: String,
    dossier_code: String,
    severity: String,
    active: bool,
    details: String,
    raised_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
    cleared_at: Option<chrono::NaiveDateTime>,
    acknowledged_by: Option<String>,
    acknowledged_at: Option<chrono::NaiveDateTime>,
    ack_note: Option<String>,
}

impl AlertRow {
    fn into_alert(self) -> Alert {
        let acknowledged = match (self.acknowledged_by, self.acknowledged_at) {
            (Some(by), Some(at)) => Some(Acknowledgement {
                by,
                at: from_db(at),
                note: self.ack_note,
            }),
            _ => None,
        };
        Alert {
            id: self.id,
            key: AlertKey {
                rule: self.rule,
                unit: self.unit_code,
                source: self.source,
                dossier: self.dossier_code,
            },
            severity: self.severity,
            active: self.active,
            details: self.details,
            raised_at: from_db(self.raised_at),
            updated_at: from_db(self.updated_at),
            cleared_at: self.cleared_at.map(from_db),
            acknowledged,
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = alert_events)]
struct EventRow {
    seq: i64,
    alert_id: i64,
    kind: String,
    at: chrono::NaiveDateTime,
    actor: String,
    severity: String,
    note: Option<String>,
}

impl EventRow {
    fn into_event(self) -> Event {
        Event {
            seq: self.seq,
            alert_id: self.alert_id,
            kind: self.kind,
            at: from_db(self.at),
            actor: self.actor,
            severity: self.severity,
            note: self.note,
        }
    }
}

/// Runs `work` in a transaction that holds the alert write lock.
fn locked<R>(
    conn: &mut AnyConnection,
    work: impl FnOnce(&mut AnyConnection) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    type Manager = <AnyConnection as Connection>::TransactionManager;
    match conn {
        AnyConnection::Postgresql(_) => conn.transaction(|conn| {
            diesel::sql_query(format!("SELECT pg_advisory_xact_lock({WRITE_LOCK})"))
                .execute(conn)?;
            work(conn)
        }),
        // IMMEDIATE takes the write lock up front: a deferred transaction
        // that read before another writer committed could not write (WAL).
        AnyConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
            match work(conn) {
                Ok(result) => {
                    Manager::commit_transaction(conn)?;
                    Ok(result)
                }
                Err(e) => {
                    Manager::rollback_transaction(conn)?;
                    Err(e)
                }
            }
        }
    }
}

fn find(conn: &mut AnyConnection, id: i64) -> Result<Option<AlertRow>, StoreError> {
    Ok(alerts::table
        .find(id)
        .select(AlertRow::as_select())
        .first(conn)
        .optional()?)
}

fn active_row(conn: &mut AnyConnection, key: &AlertKey) -> Result<Option<AlertRow>, StoreError> {
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

fn append_event(
    conn: &mut AnyConnection,
    alert_id: i64,
    kind: &str,
    at: DateTime<Utc>,
    actor: &str,
    severity: &str,
    note: Option<&str>,
) -> Result<Event, StoreError> {
    let seq: i64 = diesel::insert_into(alert_events::table)
        .values((
            alert_events::alert_id.eq(alert_id),
            alert_events::kind.eq(kind),
            alert_events::at.eq(to_db(at)),
            alert_events::actor.eq(actor),
            alert_events::severity.eq(severity),
            alert_events::note.eq(note),
        ))
        .returning(alert_events::seq)
        .get_result(conn)?;
    Ok(Event {
        seq,
        alert_id,
        kind: kind.to_owned(),
        at,
        actor: actor.to_owned(),
        severity: severity.to_owned(),
        note: note.map(str::to_owned),
    })
}

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
                            alerts::severity.eq(severity),
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
                        "raise",
                        now,
                        SYSTEM_ACTOR,
                        severity,
                        None,
                    )?);
                }
                (Some(row), Wanted::Active { severity, details }) => {
                    if row.severity == *severity && row.details == *details {
                        continue;
                    }
                    diesel::update(alerts::table.find(row.id))
                        .set((
                            alerts::severity.eq(severity),
                            alerts::details.eq(details),
                            alerts::updated_at.eq(to_db(now)),
                        ))
                        .execute(conn)?;
                    if row.severity != *severity {
                        events.push(append_event(
                            conn,
                            row.id,
                            "update",
                            now,
                            SYSTEM_ACTOR,
                            severity,
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
                        "clear",
                        now,
                        SYSTEM_ACTOR,
                        &row.severity,
                        None,
                    )?);
                }
            }
        }
        Ok(events)
    })
}

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
            return Ok(AckOutcome::Already(row.into_alert()));
        }
        diesel::update(alerts::table.find(id))
            .set((
                alerts::acknowledged_by.eq(actor),
                alerts::acknowledged_at.eq(to_db(now)),
                alerts::ack_note.eq(note),
                alerts::updated_at.eq(to_db(now)),
            ))
            .execute(conn)?;
        let event = append_event(conn, id, "ack", now, actor, &row.severity, note)?;
        let alert = alerts::table
            .find(id)
            .select(AlertRow::as_select())
            .first(conn)?
            .into_alert();
        Ok(AckOutcome::Done(alert, event))
    })
}

/// Every active alert.
pub fn active(conn: &mut AnyConnection) -> Result<Vec<Alert>, StoreError> {
    Ok(alerts::table
        .filter(alerts::active.eq(true))
        .order(alerts::id)
        .select(AlertRow::as_select())
        .load(conn)?
        .into_iter()
        .map(AlertRow::into_alert)
        .collect())
}

/// The alerts with these ids.
pub fn by_ids(conn: &mut AnyConnection, ids: &[i64]) -> Result<Vec<Alert>, StoreError> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        found.extend(
            alerts::table
                .filter(alerts::id.eq_any(chunk))
                .select(AlertRow::as_select())
                .load(conn)?
                .into_iter()
                .map(AlertRow::into_alert),
        );
    }
    Ok(found)
}

/// Alert `id` and its transitions, oldest first.
pub fn history(
    conn: &mut AnyConnection,
    id: i64,
) -> Result<Option<(Alert, Vec<Event>)>, StoreError> {
    let Some(row) = find(conn, id)? else {
        return Ok(None);
    };
    let events = alert_events::table
        .filter(alert_events::alert_id.eq(id))
        .order(alert_events::seq)
        .select(EventRow::as_select())
        .load(conn)?
        .into_iter()
        .map(EventRow::into_event)
        .collect();
    Ok(Some((row.into_alert(), events)))
}

/// Which alerts a listing shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// `Some(true)`: active only; `Some(false)`: cleared only.
    pub active: Option<bool>,
    /// `Some(true)`: acknowledged only; `Some(false)`: unacknowledged only.
    pub acknowledged: Option<bool>,
    /// Units, if restricted.
    pub units: Option<Vec<String>>,
    /// Severities, if restricted.
    pub severities: Option<Vec<String>>,
    /// Rule, if restricted.
    pub rule: Option<String>,
}

/// One page of the alerts matching `filter`, newest first, and how many
/// match in all.
pub fn list(
    conn: &mut AnyConnection,
    filter: &Filter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Alert>, i64), StoreError> {
    let query = || {
        let mut query = alerts::table.into_boxed();
        if let Some(active) = filter.active {
            query = query.filter(alerts::active.eq(active));
        }
        match filter.acknowledged {
            Some(true) => query = query.filter(alerts::acknowledged_by.is_not_null()),
            Some(false) => query = query.filter(alerts::acknowledged_by.is_null()),
            None => {}
        }
        if let Some(units) = &filter.units {
            query = query.filter(alerts::unit_code.eq_any(units.clone()));
        }
        if let Some(severities) = &filter.severities {
            query = query.filter(alerts::severity.eq_any(severities.clone()));
        }
        if let Some(rule) = &filter.rule {
            query = query.filter(alerts::rule.eq(rule.clone()));
        }
        query
    };
    let total: i64 = query().count().get_result(conn)?;
    let page = query()
        .order(alerts::id.desc())
        .offset(offset)
        .limit(limit)
        .select(AlertRow::as_select())
        .load(conn)?
        .into_iter()
        .map(AlertRow::into_alert)
        .collect();
    Ok((page, total))
}

/// Up to `limit` events after `seq`, in order.
pub fn events_after(
    conn: &mut AnyConnection,
    seq: i64,
    limit: i64,
) -> Result<Vec<Event>, StoreError> {
    Ok(alert_events::table
        .filter(alert_events::seq.gt(seq))
        .order(alert_events::seq)
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?
        .into_iter()
        .map(EventRow::into_event)
        .collect())
}

/// The latest `limit` events, oldest first.
pub fn latest_events(conn: &mut AnyConnection, limit: i64) -> Result<Vec<Event>, StoreError> {
    let mut events: Vec<Event> = alert_events::table
        .order(alert_events::seq.desc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?
        .into_iter()
        .map(EventRow::into_event)
        .collect();
    events.reverse();
    Ok(events)
}

/// When each source last had a change accepted, as recorded.
pub fn source_activity(
    conn: &mut AnyConnection,
) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
    Ok(source_activity::table
        .select((source_activity::source, source_activity::last_seen_at))
        .load::<(String, chrono::NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(source, at)| (source, from_db(at)))
        .collect())
}

/// Records when sources were last seen (a later time replaces an earlier one).
pub fn record_source_activity(
    conn: &mut AnyConnection,
    seen: &[(String, DateTime<Utc>)],
) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        for (source, at) in seen {
            let at = to_db(*at);
            let updated = diesel::update(
                source_activity::table
                    .filter(source_activity::source.eq(source))
                    .filter(source_activity::last_seen_at.lt(at)),
            )
            .set(source_activity::last_seen_at.eq(at))
            .execute(conn)?;
            if updated == 0 {
                let exists: i64 = source_activity::table
                    .filter(source_activity::source.eq(source))
                    .count()
                    .get_result(conn)?;
                if exists == 0 {
                    diesel::insert_into(source_activity::table)
                        .values((
                            source_activity::source.eq(source),
                            source_activity::last_seen_at.eq(at),
                        ))
                        .execute(conn)?;
                }
            }
        }
        Ok(())
    })
}
