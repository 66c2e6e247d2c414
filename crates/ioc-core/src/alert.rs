//! The vocabulary of alerts shared by the rules (ioc-aggregate), the store
//! and the server: how urgent an alert is, what it is about, what a rule
//! wants for it, and the kinds of transitions in its history.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How urgent an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For information.
    Info,
    /// Needs attention.
    Warning,
    /// Needs action now.
    Critical,
}

impl Severity {
    /// Every severity, least urgent first.
    pub const ALL: [Severity; 3] = [Severity::Info, Severity::Warning, Severity::Critical];

    /// The name used in the API, the store and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    /// The severity named `raw`.
    pub fn parse(raw: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A transition in an alert's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// The condition began to hold.
    Raise,
    /// Its severity changed.
    Update,
    /// Someone acknowledged it.
    Ack,
    /// The condition no longer holds.
    Clear,
}

impl EventKind {
    /// Every kind.
    pub const ALL: [EventKind; 4] = [
        EventKind::Raise,
        EventKind::Update,
        EventKind::Ack,
        EventKind::Clear,
    ];

    /// The name used in the API and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Raise => "raise",
            EventKind::Update => "update",
            EventKind::Ack => "ack",
            EventKind::Clear => "clear",
        }
    }

    /// The kind named `raw`.
    pub fn parse(raw: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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

/// What a rule wants for one alert key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// The condition holds, with this severity and these details.
    Active {
        /// Severity.
        severity: Severity,
        /// Details, as JSON text.
        details: String,
    },
    /// The condition no longer holds.
    Cleared,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back() {
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
        }
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(Severity::parse("urgent"), None);
        assert!(Severity::Info < Severity::Critical);
    }
}
