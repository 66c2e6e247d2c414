//! Business gauges per unit for calendar windows, computed from the live
//! aggregates at scrape time (PromQL cannot say "month to date in local
//! time"). Each unit counts as a locality: itself and everything below it.
//! Labels are bounded: `unit`, `level`, `window`, and `channel` or
//! `timeliness`; never a dossier code. Which families, windows and levels
//! are exported is configurable (`[metrics]`), so a national instance stays
//! within a sane series count. One scrape's families are cached per
//! published snapshot and local day.

use std::sync::{Arc, Mutex, PoisonError};

use ioc_aggregate::ranking::Scope;
use ioc_aggregate::{Keys, Ratio, Window, WindowSpec};
use prometheus::core::{Collector, Desc};
use prometheus::proto::{Gauge, LabelPair, Metric, MetricFamily, MetricType};

use crate::views::{Views, codes};

/// A label value and how to read its sample.
type Part = (&'static str, fn(&Keys) -> f64);

/// How a family reads a unit's keys.
enum Read {
    /// One sample, absent when `None` (a ratio with no denominator).
    Value(fn(&Keys) -> Option<f64>),
    /// One sample per value of an extra label.
    Split(&'static str, &'static [Part]),
    /// The points of the configured partial 766 score.
    Score,
}

/// Families computed for one snapshot (version) and local day.
type Cached = ((u64, chrono::NaiveDate), Vec<MetricFamily>);

/// One exported family: its name (after `ioc_`), help, and how it reads keys.
struct Family {
    name: &'static str,
    help: &'static str,
    read: Read,
}

fn ratio(r: Ratio) -> Option<f64> {
    r.value()
}

/// Every family ioc can export, by name.
const FAMILIES: [Family; 10] = [
    Family {
        name: "unit_received",
        help: "Dossiers received in the window (METRICS.md received).",
        read: Read::Value(|k| Some(k.received as f64)),
    },
    Family {
        name: "unit_received_by_channel",
        help: "Dossiers received in the window, by channel.",
        read: Read::Split(
            "channel",
            &[
                ("online", |k| k.received_online as f64),
                ("direct", |k| k.received_direct as f64),
                ("postal", |k| k.received_postal as f64),
            ],
        ),
    },
    Family {
        name: "unit_finished",
        help: "Dossiers finished in the window, by timeliness.",
        read: Read::Split(
            "timeliness",
            &[
                ("early", |k| k.finished_early as f64),
                ("on_time", |k| k.finished_on_time as f64),
                ("late", |k| k.finished_late as f64),
            ],
        ),
    },
    Family {
        name: "unit_pending",
        help: "Dossiers in process at the window's cut-off.",
        read: Read::Value(|k| Some(k.pending as f64)),
    },
    Family {
        name: "unit_pending_overdue",
        help: "Dossiers in process past their due date at the window's cut-off.",
        read: Read::Value(|k| Some(k.pending_overdue as f64)),
    },
    Family {
        name: "unit_online_share",
        help: "Share of dossiers received online (0-1); absent when nothing was received.",
        read: Read::Value(|k| ratio(k.online_share)),
    },
    Family {
        name: "unit_on_time_rate",
        help: "Share of finished dossiers finished early or on time (0-1).",
        read: Read::Value(|k| ratio(k.on_time_rate)),
    },
    Family {
        name: "unit_late_rate",
        help: "Share of finished dossiers finished late (0-1).",
        read: Read::Value(|k| ratio(k.late_rate)),
    },
    Family {
        name: "unit_paid_online_share",
        help: "Share of fee-bearing dossiers paid online (0-1).",
        read: Read::Value(|k| ratio(k.paid_online_share)),
    },
    Family {
        name: "unit_score_766",
        help: "Points of the partial Decision 766 score (scoring.file).",
        read: Read::Score,
    },
];

/// The names of every business family, for configuration checks.
pub fn family_names() -> Vec<&'static str> {
    FAMILIES.iter().map(|f| f.name).collect()
}

/// What `[metrics]` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitMetricsConfig {
    /// Families to export (names from [`family_names`]).
    pub families: Vec<String>,
    /// Windows: `today`, `yesterday`, `7d`, `month`, `quarter`, `year`, and
    /// `campaign` (each campaign running today, as `campaign:<id>`).
    pub windows: Vec<String>,
    /// Levels whose units are exported.
    pub levels: Vec<String>,
}

/// The collector.
pub struct UnitMetrics {
    views: Arc<Views>,
    config: UnitMetricsConfig,
    descs: Vec<Desc>,
    cache: Mutex<Option<Cached>>,
}

impl UnitMetrics {
    /// A collector over `views`.
    pub fn new(
        views: Arc<Views>,
        config: UnitMetricsConfig,
    ) -> Result<UnitMetrics, prometheus::Error> {
        let descs = FAMILIES
            .iter()
            .filter(|f| config.families.iter().any(|n| n == f.name))
            .map(|f| {
                let mut labels = vec!["unit".to_owned(), "level".to_owned(), "window".to_owned()];
                if let Read::Split(label, _) = f.read {
                    labels.push(label.to_owned());
                }
                Desc::new(
                    f.name.to_owned(),
                    f.help.to_owned(),
                    labels,
                    Default::default(),
                )
            })
            .collect::<Result<_, _>>()?;
        Ok(UnitMetrics {
            views,
            config,
            descs,
            cache: Mutex::new(None),
        })
    }

    /// (label, window) pairs to export now.
    fn windows(&self) -> Vec<(String, Window)> {
        let aggregates = &self.views.aggregates;
        let today = self.views.calendar.date_of(aggregates.now());
        let mut out = Vec::new();
        for name in &self.config.windows {
            if name == "campaign" {
                for c in aggregates
                    .campaigns
                    .iter()
                    .filter(|c| (c.from..=c.until).contains(&today))
                {
                    out.push((format!("campaign:{}", c.id), c.window()));
                }
            } else if let Ok(spec) = WindowSpec::parse(name) {
                out.push((name.clone(), spec.resolve(today)));
            }
        }
        out
    }

    fn compute(&self) -> Vec<MetricFamily> {
        let aggregates = &self.views.aggregates;
        let engine = aggregates.snapshot();
        let now = aggregates.now();
        let tree = engine.tree();
        let windows = self.windows();
        let units: Vec<&ioc_core::Unit> = tree
            .top_down()
            .into_iter()
            .filter(|u| self.config.levels.contains(&u.level))
            .collect();
        let mut rows: Vec<(&ioc_core::Unit, &str, Keys)> = Vec::new();
        for unit in &units {
            let codes = codes(&engine, &unit.code, Scope::Tree);
            for (label, window) in &windows {
                rows.push((
                    unit,
                    label,
                    engine.keys(codes.iter().copied(), *window, now),
                ));
            }
        }
        FAMILIES
            .iter()
            .filter(|f| self.config.families.iter().any(|n| n == f.name))
            .map(|family| {
                let mut metrics = Vec::new();
                for (unit, window, keys) in &rows {
                    let base = [
                        ("unit", unit.code.as_str()),
                        ("level", unit.level.as_str()),
                        ("window", *window),
                    ];
                    let value = match family.read {
                        Read::Split(label, parts) => {
                            for (value_label, read) in parts {
                                let mut labels = base.to_vec();
                                labels.push((label, value_label));
                                metrics.push(gauge(&labels, read(keys)));
                            }
                            None
                        }
                        Read::Value(read) => read(keys),
                        Read::Score => Some(aggregates.score.score(keys).points),
                    };
                    if let Some(value) = value {
                        metrics.push(gauge(&base, value));
                    }
                }
                let mut mf = MetricFamily::default();
                mf.set_name(family.name.to_owned());
                mf.set_help(family.help.to_owned());
                mf.set_field_type(MetricType::GAUGE);
                mf.set_metric(metrics);
                mf
            })
            .collect()
    }
}

/// A gauge sample; labels sorted by name, as the prometheus crate does.
fn gauge(labels: &[(&str, &str)], value: f64) -> Metric {
    let mut labels = labels.to_vec();
    labels.sort_unstable_by_key(|(name, _)| *name);
    let mut metric = Metric::default();
    metric.set_label(
        labels
            .iter()
            .map(|(name, value)| {
                let mut pair = LabelPair::default();
                pair.set_name((*name).to_owned());
                pair.set_value((*value).to_owned());
                pair
            })
            .collect(),
    );
    let mut g = Gauge::default();
    g.set_value(value);
    metric.set_gauge(g);
    metric
}

impl Collector for UnitMetrics {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let aggregates = &self.views.aggregates;
        let key = (
            aggregates.version(),
            self.views.calendar.date_of(aggregates.now()),
        );
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((cached, families)) = cache.as_ref()
            && *cached == key
        {
            return families.clone();
        }
        let families = self.compute();
        *cache = Some((key, families.clone()));
        families
    }
}
