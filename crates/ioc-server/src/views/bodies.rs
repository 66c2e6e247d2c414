//! The bodies of the read API, as typed values: what the REST handlers
//! answer, the live topics of `/ws` send, and `/api/openapi.json`
//! describes (their schemas are derived from these types).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use ioc_aggregate::campaign::{Comparison, StandingTarget};
use ioc_aggregate::ranking::{RankedUnit, Scope};
use ioc_aggregate::score::Score;
use ioc_aggregate::{Keys, Ratio, Window};
use ioc_core::{Key, UnitCode};
use serde::Serialize;
use utoipa::ToSchema;

/// What a page needs to lay itself out (`GET /api/v1/meta`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Meta {
    /// The levels of the tree, top first.
    pub levels: Vec<String>,
    /// Every key, with its kind and direction.
    pub keys: Vec<KeyInfo>,
    /// The standing targets, shown when no running campaign sets the key.
    pub targets: Vec<StandingTarget>,
}

/// A key with its kind and direction.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyInfo {
    /// The key.
    pub key: Key,
    /// Whether it is a ratio (0 to 1) rather than a count.
    pub ratio: bool,
    /// Whether lower values are better (late rate, overdue counts).
    pub lower_is_better: bool,
}

/// A window as answered: its days and the day of its cut-off.
#[derive(Debug, Serialize, ToSchema)]
pub struct WindowView {
    /// First day.
    pub from: NaiveDate,
    /// First day after the window.
    pub to: NaiveDate,
    /// The local day of the cut-off (METRICS.md "Days, windows, cut-off").
    pub cutoff_date: NaiveDate,
}

/// A unit named by code and name.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitName {
    /// Code.
    pub code: UnitCode,
    /// Name.
    pub name: String,
}

/// The province at a glance (`GET /api/v1/overview`, topic `overview`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Overview {
    /// The window.
    pub window: WindowView,
    /// The root units of the tree.
    pub units: Vec<UnitName>,
    /// Keys over every unit of the tree.
    pub province: Keys,
    /// The partial 766 score of the province.
    pub score: Score,
    /// Keys over the units of each level, by level name.
    pub levels: BTreeMap<String, Keys>,
    /// Progress of the campaigns running today, per target and level.
    pub targets: Vec<RunningTarget>,
}

/// A target of a running campaign at one level.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunningTarget {
    /// The campaign's id.
    pub campaign: String,
    /// The key, or `desks_with_online_payment`.
    pub key: String,
    /// The level.
    pub level: String,
    /// Comparison.
    pub op: Comparison,
    /// The target value.
    pub target: f64,
    /// The level's value; null without data.
    pub value: Option<f64>,
    /// Whether the level meets the target; null without data.
    pub met: Option<bool>,
    /// Units of the level meeting the target.
    pub units_met: usize,
    /// Units of the level.
    pub units: usize,
}

/// A unit of the tree.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitInfo {
    /// Code.
    pub code: UnitCode,
    /// Name on the window's last day.
    pub name: String,
    /// Level.
    pub level: String,
    /// Parent; null for a root.
    pub parent: Option<UnitCode>,
}

/// A unit's keys, score and children (`GET /api/v1/units/{code}`, topic
/// `unit`).
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitView {
    /// The unit.
    pub unit: UnitInfo,
    /// The window.
    pub window: WindowView,
    /// Whether the keys are over the unit's own dossiers or its subtree.
    pub scope: Scope,
    /// Every key.
    pub keys: Keys,
    /// The partial 766 score.
    pub score: Score,
    /// Each child, with keys over its subtree.
    pub children: Vec<ChildRow>,
}

/// A unit summarised as a child row.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChildRow {
    /// Unit code.
    pub unit: String,
    /// Name on the window's last day.
    pub name: String,
    /// Level.
    pub level: String,
    /// Keys over the child's subtree.
    pub keys: Keys,
}

/// A unit's daily numbers (`GET /api/v1/units/{code}/trend`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Trend {
    /// The unit.
    pub unit: UnitCode,
    /// Own dossiers or the subtree.
    pub scope: Scope,
    /// One entry per local day, today last.
    pub days: Vec<TrendDay>,
}

/// One day of a trend.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrendDay {
    /// The local day.
    pub date: NaiveDate,
    /// Dossiers received.
    pub received: i64,
    /// Of those, online.
    pub received_online: i64,
    /// Online share over procedures offered online.
    pub online_share: Ratio,
    /// Dossiers finished.
    pub finished: i64,
    /// Finished early or on time / finished.
    pub on_time_rate: Ratio,
    /// Finished late / finished.
    pub late_rate: Ratio,
    /// Pending at the day's cut-off.
    pub pending: i64,
    /// Of those, overdue.
    pub pending_overdue: i64,
}

/// The units of a level ranked by a key (`GET /api/v1/rankings`, topic
/// `ranking`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Ranking {
    /// The level.
    pub level: String,
    /// The key ranked by.
    pub key: Key,
    /// Own dossiers or subtrees.
    pub scope: Scope,
    /// The window.
    pub window: WindowView,
    /// The previous period of the same length, for movement.
    pub previous_window: Window,
    /// Ranked units first, best first; then units under the minimum volume.
    pub items: Vec<RankedUnit>,
}
