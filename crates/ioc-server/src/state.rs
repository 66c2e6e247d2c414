//! The shared state of the HTTP handlers.

use std::sync::Arc;

use ioc_core::{LocalCalendar, UnitTree};
use ioc_store::Store;
use ioc_stream::Hub;

use crate::aggregates::Aggregates;
use crate::alerting::Alerting;
use crate::config::{IngestSettings, StreamSettings};
use crate::metrics::Metrics;
use crate::views::Views;

/// Shared state of the HTTP handlers.
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The unit tree, as stored.
    pub tree: Arc<UnitTree>,
    /// The unrevoked tokens.
    pub tokens: Arc<crate::auth::Tokens>,
    /// The calendar of local times in payloads.
    pub calendar: LocalCalendar,
    /// Ingestion limits and status maps.
    pub ingest: IngestSettings,
    /// The metrics registry.
    pub metrics: Metrics,
    /// The live aggregates.
    pub aggregates: Arc<Aggregates>,
    /// Read endpoints need no token.
    pub public_read: bool,
    /// The JSON views of the read model.
    pub views: Arc<Views>,
    /// The live-update hub of `/ws`.
    pub hub: Arc<Hub>,
    /// `/ws` limits.
    pub stream: StreamSettings,
    /// Longest wait for a request body.
    pub body_read_timeout: std::time::Duration,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Who may read `/metrics`.
    pub metrics_access: crate::metrics::MetricsAccess,
    /// Alerts: rules, board, sweeper.
    pub alerting: Arc<Alerting>,
    /// Calendar and timeliness, for alert views.
    pub timeliness: ioc_core::TimelinessRules,
}
