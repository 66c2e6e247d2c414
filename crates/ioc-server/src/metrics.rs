//! ioc's own Prometheus registry (namespace `ioc_`), and who may read it.
//!
//! Recorded as things happen: ingest outcomes and batch durations, HTTP
//! request durations by route, method and status. Set at each scrape
//! (`routes/metrics.rs`): the database pool, the aggregates' start time and
//! snapshot count, this node's change-log position and apply lag. Read from
//! their owners at each scrape by collectors: the hub's sessions, queued
//! frames, topics, frames sent, coalesced, dropped and disconnects; active
//! alerts by rule, severity and level, and the sweeps' count and time; the
//! per-unit business gauges of [`crate::unit_metrics`]. `build_info` is set
//! once. [`MetricsAccess`] says who may read `/metrics`.

use std::sync::{Arc, Mutex, PoisonError};

use ioc_stream::{Disconnect, FrameKind, Hub};

use crate::alerting::Alerting;
use prometheus::core::{Atomic, Collector, Desc, GenericCounter};
use prometheus::proto::MetricFamily;
use prometheus::{
    GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry,
};

/// The registry and the metrics recorded into it.
pub struct Metrics {
    /// Everything `/metrics` exports.
    pub registry: Registry,
    /// Records by source and outcome (`accepted`, `duplicate`, `stale`, `rejected`).
    pub ingest_records: IntCounterVec,
    /// Time from receiving a batch to its commit, by endpoint.
    pub ingest_batch_seconds: HistogramVec,
    /// HTTP request duration by route pattern, method and status.
    pub http_seconds: HistogramVec,
    /// Pooled database connections by state (`in_use`, `idle`).
    pub db_pool: IntGaugeVec,
    /// Seconds the aggregates took to be ready at start, by whether a
    /// checkpoint was used.
    pub aggregates_start_seconds: GaugeVec,
    /// Snapshots of the aggregates published since start.
    pub aggregates_snapshots: IntGauge,
    /// This node's position in the change log.
    pub changelog_position: IntGauge,
    /// Seconds from the recording of the newest change this node applied
    /// to its publication.
    pub changelog_apply_lag_seconds: prometheus::Gauge,
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new_custom(Some("ioc".to_owned()), None)?;
        let ingest_records = IntCounterVec::new(
            Opts::new(
                "ingest_records_total",
                "Ingested records by source and outcome.",
            ),
            &["source", "outcome"],
        )?;
        let ingest_batch_seconds = HistogramVec::new(
            HistogramOpts::new(
                "ingest_batch_duration_seconds",
                "Time to parse, check and commit one ingest batch.",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["endpoint"],
        )?;
        let http_seconds = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request duration by route pattern, method and status.",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ]),
            &["route", "method", "status"],
        )?;
        let db_pool = IntGaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Pooled database connections by state (in_use, idle).",
            ),
            &["state"],
        )?;
        let aggregates_start_seconds = GaugeVec::new(
            Opts::new(
                "aggregates_start_seconds",
                "Seconds the aggregates took to be ready at start (from_checkpoint: restored and replayed, or rebuilt).",
            ),
            &["from_checkpoint"],
        )?;
        let aggregates_snapshots = IntGauge::new(
            "aggregates_snapshots",
            "Snapshots of the aggregates published since start (changes applied, or due times passed).",
        )?;
        let changelog_position = IntGauge::new(
            "changelog_position",
            "This node's position in the change log (every change at or below it is applied).",
        )?;
        let changelog_apply_lag_seconds = prometheus::Gauge::new(
            "changelog_apply_lag_seconds",
            "Seconds from the recording of the newest change this node applied to its publication, at the last publication.",
        )?;
        let build_info = IntGaugeVec::new(
            Opts::new("build_info", "The running ioc's version; always 1."),
            &["version"],
        )?;
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        registry.register(Box::new(ingest_records.clone()))?;
        registry.register(Box::new(ingest_batch_seconds.clone()))?;
        registry.register(Box::new(http_seconds.clone()))?;
        registry.register(Box::new(db_pool.clone()))?;
        registry.register(Box::new(aggregates_start_seconds.clone()))?;
        registry.register(Box::new(aggregates_snapshots.clone()))?;
        registry.register(Box::new(changelog_position.clone()))?;
        registry.register(Box::new(changelog_apply_lag_seconds.clone()))?;
        registry.register(Box::new(build_info))?;
        Ok(Metrics {
            registry,
            ingest_records,
            ingest_batch_seconds,
            http_seconds,
            db_pool,
            aggregates_start_seconds,
            aggregates_snapshots,
            changelog_position,
            changelog_apply_lag_seconds,
        })
    }

    /// Exports the per-unit business gauges.
    pub fn register_units(
        &self,
        units: crate::unit_metrics::UnitMetrics,
    ) -> Result<(), prometheus::Error> {
        self.registry.register(Box::new(units))
    }

    /// Exports the hub's counters.
    pub fn register_stream(&self, hub: Arc<Hub>) -> Result<(), prometheus::Error> {
        self.registry.register(Box::new(StreamMetrics::new(hub)?))
    }

    /// Registers `ioc_alerts_active`, counted from the board at scrape time.
    pub fn register_alerts(&self, alerting: Arc<Alerting>) -> Result<(), prometheus::Error> {
        self.registry
            .register(Box::new(AlertMetrics::new(alerting)?))
    }

    /// Counts the outcomes of one batch.
    pub fn record_batch(&self, source: &str, report: &ioc_ingest::BatchReport) {
        let counts = [
            ("accepted", report.accepted),
            ("duplicate", report.duplicates),
            ("stale", report.stale),
            ("rejected", report.rejected.len()),
        ];
        for (outcome, n) in counts {
            self.ingest_records
                .with_label_values(&[source, outcome])
                .inc_by(n as u64);
        }
    }
}

/// The hub's counters as Prometheus metrics, refreshed at each scrape.
struct StreamMetrics {
    hub: Arc<Hub>,
    sessions: IntGauge,
    queued: IntGauge,
    topics: IntGauge,
    frames: IntCounterVec,
    coalesced: IntCounter,
    dropped: IntCounter,
    disconnects: IntCounterVec,
    /// Scrapes refresh the values one at a time.
    refreshing: Mutex<()>,
}

impl StreamMetrics {
    fn new(hub: Arc<Hub>) -> Result<StreamMetrics, prometheus::Error> {
        Ok(StreamMetrics {
            hub,
            sessions: IntGauge::new("ws_sessions", "Open WebSocket sessions on this node.")?,
            queued: IntGauge::new(
                "ws_queued_frames",
                "Frames waiting in the sessions' bounded queues.",
            )?,
            topics: IntGauge::new("ws_topics", "Topics with at least one subscriber.")?,
            frames: IntCounterVec::new(
                Opts::new(
                    "ws_frames_sent_total",
                    "Frames handed to WebSockets, by kind (snapshot, delta, control).",
                ),
                &["kind"],
            )?,
            coalesced: IntCounter::new(
                "ws_changes_coalesced_total",
                "Published changes folded into a later delta instead of sent on their own.",
            )?,
            dropped: IntCounter::new(
                "ws_frames_dropped_total",
                "Frames not queued because a session's queue was full; the session is sent a fresh snapshot instead.",
            )?,
            disconnects: IntCounterVec::new(
                Opts::new(
                    "ws_disconnects_total",
                    "Sessions ended or refused, by reason.",
                ),
                &["reason"],
            )?,
            refreshing: Mutex::new(()),
        })
    }
}

impl Collector for StreamMetrics {
    fn desc(&self) -> Vec<&Desc> {
        [
            self.sessions.desc(),
            self.queued.desc(),
            self.topics.desc(),
            self.frames.desc(),
            self.coalesced.desc(),
            self.dropped.desc(),
            self.disconnects.desc(),
        ]
        .concat()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let _one_at_a_time = self
            .refreshing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let stats = self.hub.stats();
        let gauge = |g: &IntGauge, v: u64| g.set(i64::try_from(v).unwrap_or(i64::MAX));
        gauge(&self.sessions, stats.sessions);
        gauge(&self.queued, stats.queued);
        gauge(&self.topics, stats.topics);
        for (kind, n) in FrameKind::ALL.iter().zip(stats.frames) {
            set_counter(&self.frames.with_label_values(&[kind.as_str()]), n);
        }
        set_counter(&self.coalesced, stats.coalesced);
        set_counter(&self.dropped, stats.dropped);
        for (reason, n) in Disconnect::ALL.iter().zip(stats.disconnects) {
            set_counter(&self.disconnects.with_label_values(&[reason.as_str()]), n);
        }
        [
            self.sessions.collect(),
            self.queued.collect(),
            self.topics.collect(),
            self.frames.collect(),
            self.coalesced.collect(),
            self.dropped.collect(),
            self.disconnects.collect(),
        ]
        .concat()
    }
}

/// Sets a counter to a total kept elsewhere (read at scrape time).
fn set_counter<P: Atomic>(counter: &GenericCounter<P>, total: P::T) {
    counter.reset();
    counter.inc_by(total);
}

/// `ioc_alerts_active{rule,severity,level}`, and the sweeps' count and time.
struct AlertMetrics {
    alerting: Arc<Alerting>,
    active: IntGaugeVec,
    sweeps: IntCounter,
    sweep_seconds: prometheus::Counter,
    refreshing: Mutex<()>,
}

impl AlertMetrics {
    fn new(alerting: Arc<Alerting>) -> Result<AlertMetrics, prometheus::Error> {
        Ok(AlertMetrics {
            alerting,
            active: IntGaugeVec::new(
                Opts::new(
                    "alerts_active",
                    "Active alerts by rule, severity and level of their unit.",
                ),
                &["rule", "severity", "level"],
            )?,
            sweeps: IntCounter::new(
                "alert_sweeps_total",
                "Alert sweeps completed by this node since it started.",
            )?,
            sweep_seconds: prometheus::Counter::new(
                "alert_sweep_seconds_total",
                "Time this node's alert sweeps took in all since it started.",
            )?,
            refreshing: Mutex::new(()),
        })
    }
}

impl Collector for AlertMetrics {
    fn desc(&self) -> Vec<&Desc> {
        [
            self.active.desc(),
            self.sweeps.desc(),
            self.sweep_seconds.desc(),
        ]
        .concat()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let _one_at_a_time = self
            .refreshing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.active.reset();
        for ((rule, severity, level), n) in self.alerting.active_counts() {
            self.active
                .with_label_values(&[rule.as_str(), severity.as_str(), level.as_str()])
                .set(n);
        }
        let (sweeps, took) = self.alerting.sweeps();
        set_counter(&self.sweeps, sweeps);
        set_counter(&self.sweep_seconds, took.as_secs_f64());
        [
            self.active.collect(),
            self.sweeps.collect(),
            self.sweep_seconds.collect(),
        ]
        .concat()
    }
}

/// Who may read `/metrics`.
#[derive(Debug, Clone)]
pub struct MetricsAccess {
    /// `metrics.token`: accepted besides reading tokens; empty: none.
    pub token: String,
    /// `metrics.public`: anyone.
    pub public: bool,
}
