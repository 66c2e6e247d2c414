//! The read queries of alerts: active ones, by id, one with its history,
//! and filtered pages.

use diesel::prelude::*;

use super::rows::{AlertRow, EventRow, find};
use super::{Alert, Event, Severity};
use crate::schema::{alert_events, alerts};
use crate::{AnyConnection, StoreError};

/// Every active alert.
pub fn active(conn: &mut AnyConnection) -> Result<Vec<Alert>, StoreError> {
    alerts::table
        .filter(alerts::active.eq(true))
        .order(alerts::id)
        .select(AlertRow::as_select())
        .load(conn)?
        .into_iter()
        .map(AlertRow::into_alert)
        .collect()
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
                .map(AlertRow::into_alert)
                .collect::<Result<Vec<Alert>, StoreError>>()?,
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
        .collect::<Result<Vec<Event>, StoreError>>()?;
    Ok(Some((row.into_alert()?, events)))
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
    pub severities: Option<Vec<Severity>>,
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
            let names: Vec<&'static str> = severities.iter().map(|s| s.as_str()).collect();
            query = query.filter(alerts::severity.eq_any(names));
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
        .collect::<Result<Vec<Alert>, StoreError>>()?;
    Ok((page, total))
}
