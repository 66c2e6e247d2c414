//! Operator alerts and their lifecycle: raised, updated and cleared by the
//! alerting service, acknowledged by people; every transition is appended
//! to `alert_events` in the same transaction.
//!
//! Writers take one lock (an advisory lock on PostgreSQL, the write lock on
//! SQLite) and re-read the alerts they touch inside it, so that several
//! nodes evaluating the same rules never raise one condition twice, and
//! event seqs commit in order.

use chrono::{DateTime, Utc};
pub use ioc_core::alert::{AlertKey, EventKind, Severity, Wanted};

mod acknowledge;
mod events;
mod lock;
mod reads;
mod reconcile;
mod rows;
mod sources;

pub use acknowledge::acknowledge;
pub use events::{events_after, latest_events};
pub use reads::{Filter, active, by_ids, history, list};
pub use reconcile::reconcile;
pub use sources::{record_source_activity, source_activity};

/// The actor of automatic transitions.
pub const SYSTEM_ACTOR: &str = "ioc";

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Id.
    pub id: i64,
    /// What it is about.
    pub key: AlertKey,
    /// How urgent it is.
    pub severity: Severity,
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
    /// What happened.
    pub kind: EventKind,
    /// When.
    pub at: DateTime<Utc>,
    /// [`SYSTEM_ACTOR`], or who acknowledged.
    pub actor: String,
    /// Severity after the transition.
    pub severity: Severity,
    /// Acknowledgement note.
    pub note: Option<String>,
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
