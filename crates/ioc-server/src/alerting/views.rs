//! Alerts and their events as the API, the `alerts` topic and webhooks
//! show them.

use chrono::{DateTime, Utc};
use ioc_aggregate::alerts::{self, DOSSIER_OVERDUE};
use ioc_core::{TimelinessRules, UnitCode, UnitTree};
use ioc_store::alerts::{Alert, Event};
use serde_json::{Value, json};

/// The unit under the top of the tree that `unit` belongs to (its district
/// or department), where alerts are rolled up.
pub(super) fn rollup_unit(tree: &UnitTree, unit: &str) -> String {
    let Ok(mut code) = UnitCode::parse(unit) else {
        return unit.to_owned();
    };
    while let Some(parent) = tree.get(&code).and_then(|u| u.parent.clone()) {
        if tree.get(&parent).is_some_and(|p| p.parent.is_none()) {
            break;
        }
        code = parent;
    }
    code.as_str().to_owned()
}

/// A unit as alerts show it: code, name, level, and the unit its alerts
/// roll up to.
pub(super) fn unit_view(tree: &UnitTree, code: &str) -> Value {
    let unit = UnitCode::parse(code).ok().and_then(|c| tree.get(&c));
    json!({
        "code": code,
        "name": unit.map(|u| u.name.clone()),
        "level": unit.map(|u| u.level.clone()),
        "rollup": rollup_unit(tree, code),
    })
}

/// An alert as the API shows it.
pub fn alert_view(
    tree: &UnitTree,
    timeliness: TimelinessRules,
    alert: &Alert,
    now: DateTime<Utc>,
) -> Value {
    let details: Value = serde_json::from_str(&alert.details).unwrap_or(Value::Null);
    let mut view = json!({
        "id": alert.id,
        "rule": alert.key.rule,
        "severity": alert.severity,
        "state": if alert.active { "active" } else { "cleared" },
        "acknowledged": alert.acknowledged.is_some(),
        "unit": unit_view(tree, &alert.key.unit),
        "source": (!alert.key.source.is_empty()).then_some(&alert.key.source),
        "dossier": (!alert.key.dossier.is_empty()).then_some(&alert.key.dossier),
        "details": details,
        "raised_at": alert.raised_at,
        "updated_at": alert.updated_at,
        "cleared_at": alert.cleared_at,
        "acknowledged_by": alert.acknowledged.as_ref().map(|a| &a.by),
        "acknowledged_at": alert.acknowledged.as_ref().map(|a| a.at),
        "ack_note": alert.acknowledged.as_ref().and_then(|a| a.note.as_ref()),
    });
    if alert.key.rule == DOSSIER_OVERDUE
        && let Some(due) = details
            .get("due_at")
            .and_then(|d| serde_json::from_value::<DateTime<Utc>>(d.clone()).ok())
    {
        let at = alert.cleared_at.unwrap_or(now);
        view["days_overdue"] = json!(alerts::days_overdue(timeliness, due, at));
    }
    view
}

/// An event as the API shows it.
pub fn event_view(event: &Event) -> Value {
    json!({
        "seq": event.seq,
        "alert_id": event.alert_id,
        "kind": event.kind,
        "at": event.at,
        "by": event.actor,
        "severity": event.severity,
        "note": event.note,
    })
}
