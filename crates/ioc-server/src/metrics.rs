//! ioc's own Prometheus registry (namespace `ioc_`) and the metrics of
//! ingestion.

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// The registry and the metrics recorded into it.
pub struct Metrics {
    /// Everything `/metrics` exports.
    pub registry: Registry,
    /// Records by source and outcome (`accepted`, `duplicate`, `stale`, `rejected`).
    pub ingest_records: IntCounterVec,
    /// Time from receiving a batch to its commit, by endpoint.
    pub ingest_batch_seconds: HistogramVec,
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
        registry.register(Box::new(ingest_records.clone()))?;
        registry.register(Box::new(ingest_batch_seconds.clone()))?;
        Ok(Metrics {
            registry,
            ingest_records,
            ingest_batch_seconds,
        })
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
