//! Alerts and their events as the API, the `alerts` topic and webhooks
//! show them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ioc_aggregate::alerts::{self, DOSSIER_OVERDUE};
use ioc_core::alert::{EventKind, Severity};
use ioc_core::{TimelinessRules, UnitCode, UnitTree};
use ioc_store::alerts::{Alert, Event};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

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

/// A unit as alerts show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertUnit {
    /// Code.
    pub code: String,
    /// Name; null for a unit no longer in the tree.
    pub name: Option<String>,
    /// Level; null for a unit no longer in the tree.
    pub level: Option<String>,
    /// The district or department its alerts roll up to.
    pub rollup: String,
}

impl AlertUnit {
    /// The unit `code` of `tree`.
    pub(super) fn of(tree: &UnitTree, code: &str) -> AlertUnit {
        let unit = UnitCode::parse(code).ok().and_then(|c| tree.get(&c));
        AlertUnit {
            code: code.to_owned(),
            name: unit.map(|u| u.name.clone()),
            level: unit.map(|u| u.level.clone()),
            rollup: rollup_unit(tree, code),
        }
    }
}

/// Whether the condition of an alert still holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// It holds.
    Active,
    /// It no longer holds.
    Cleared,
}

/// An alert as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertView {
    /// Id.
    pub id: i64,
    /// The rule that raised it.
    pub rule: String,
    /// How urgent it is.
    pub severity: Severity,
    /// Whether its condition still holds.
    pub state: AlertState,
    /// Whether someone acknowledged it.
    pub acknowledged: bool,
    /// The unit it is about.
    pub unit: AlertUnit,
    /// The source, for alerts about a source.
    pub source: Option<String>,
    /// The dossier, for alerts about a dossier.
    pub dossier: Option<String>,
    /// The rule's details as last evaluated (the value, threshold, due time…).
    #[schema(value_type = Object)]
    pub details: Value,
    /// First raised.
    pub raised_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Cleared, if it is.
    pub cleared_at: Option<DateTime<Utc>>,
    /// Who acknowledged it.
    pub acknowledged_by: Option<String>,
    /// When.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Their note.
    pub ack_note: Option<String>,
    /// For `dossier_overdue`: days past the due time, at the clearing or now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_overdue: Option<i64>,
}

/// An alert as the API shows it.
pub fn alert_view(
    tree: &UnitTree,
    timeliness: TimelinessRules,
    alert: &Alert,
    now: DateTime<Utc>,
) -> AlertView {
    let details: Value =
        serde_json::from_str(&alert.details).unwrap_or_else(|_| Value::Object(Default::default()));
    let days_overdue = (alert.key.rule == DOSSIER_OVERDUE)
        .then(|| {
            details
                .get("due_at")
                .and_then(|d| serde_json::from_value::<DateTime<Utc>>(d.clone()).ok())
        })
        .flatten()
        .map(|due| alerts::days_overdue(timeliness, due, alert.cleared_at.unwrap_or(now)));
    let ack = alert.acknowledged.as_ref();
    AlertView {
        id: alert.id,
        rule: alert.key.rule.clone(),
        severity: alert.severity,
        state: if alert.active {
            AlertState::Active
        } else {
            AlertState::Cleared
        },
        acknowledged: ack.is_some(),
        unit: AlertUnit::of(tree, &alert.key.unit),
        source: non_empty(&alert.key.source),
        dossier: non_empty(&alert.key.dossier),
        details,
        raised_at: alert.raised_at,
        updated_at: alert.updated_at,
        cleared_at: alert.cleared_at,
        acknowledged_by: ack.map(|a| a.by.clone()),
        acknowledged_at: ack.map(|a| a.at),
        ack_note: ack.and_then(|a| a.note.clone()),
        days_overdue,
    }
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

/// A transition of an alert as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    /// Position in the event log.
    pub seq: i64,
    /// The alert.
    pub alert_id: i64,
    /// What happened.
    pub kind: EventKind,
    /// When.
    pub at: DateTime<Utc>,
    /// `ioc` for the transitions the rules make, or who acknowledged.
    pub by: String,
    /// Severity after the transition.
    pub severity: Severity,
    /// Acknowledgement note.
    pub note: Option<String>,
}

/// An event as the API shows it.
pub fn event_view(event: &Event) -> EventView {
    EventView {
        seq: event.seq,
        alert_id: event.alert_id,
        kind: event.kind,
        at: event.at,
        by: event.actor.clone(),
        severity: event.severity,
        note: event.note.clone(),
    }
}

/// An event of the `alerts` topic, with what its alert is about.
#[derive(Debug, Serialize)]
pub(super) struct TopicEvent {
    #[serde(flatten)]
    pub(super) event: EventView,
    #[serde(flatten)]
    pub(super) about: Option<EventAbout>,
}

/// What an event's alert is about.
#[derive(Debug, Serialize)]
pub(super) struct EventAbout {
    pub(super) rule: String,
    pub(super) unit: AlertUnit,
    pub(super) source: Option<String>,
    pub(super) dossier: Option<String>,
}

impl EventAbout {
    pub(super) fn of(tree: &UnitTree, key: &ioc_core::alert::AlertKey) -> EventAbout {
        EventAbout {
            rule: key.rule.clone(),
            unit: AlertUnit::of(tree, &key.unit),
            source: non_empty(&key.source),
            dossier: non_empty(&key.dossier),
        }
    }
}

/// The `alerts` topic: counts, rollups, the most urgent active alerts and
/// the latest events, keyed by id and seq so that a delta carries only
/// what changed.
#[derive(Debug, Serialize)]
pub(super) struct AlertsTopic {
    pub(super) active: usize,
    pub(super) unacknowledged: usize,
    pub(super) rollup: BTreeMap<String, super::Rollup>,
    pub(super) items: BTreeMap<String, AlertView>,
    pub(super) events: BTreeMap<String, TopicEvent>,
}
