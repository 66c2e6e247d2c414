//! `[metrics]`: access to `/metrics` and the per-unit business gauges it
//! exports.

use ioc_core::Levels;

use super::reader::Reader;

/// `[metrics]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsSettings {
    /// A bearer token `/metrics` accepts besides reading tokens; empty: none.
    pub token: String,
    /// `/metrics` needs no token at all.
    pub public: bool,
    /// The per-unit business gauges to export.
    pub units: crate::unit_metrics::UnitMetricsConfig,
}

impl MetricsSettings {
    /// Reads `[metrics]`, with every list checked against what exists
    /// (levels against `units.levels`).
    pub(super) fn read(reader: &mut Reader, levels: &Levels) -> MetricsSettings {
        let token = reader.string("metrics.token", "");
        let public = reader.boolean("metrics.public", false);
        let families = crate::unit_metrics::family_names();
        let chosen = reader.list("metrics.families", &families);
        for unknown in chosen.iter().filter(|f| !families.contains(&f.as_str())) {
            reader.problem(
                "metrics.families",
                format!(
                    "unknown family {unknown:?} (families: {})",
                    families.join(", ")
                ),
            );
        }
        let windows = reader.list("metrics.windows", &["today", "month", "year", "campaign"]);
        for window in &windows {
            if window != "campaign" && ioc_aggregate::WindowSpec::parse(window).is_err() {
                reader.problem(
                    "metrics.windows",
                    format!(
                        "unknown window {window:?} (windows: today, yesterday, 7d, month, quarter, year, campaign)"
                    ),
                );
            }
        }
        let all_levels: Vec<&str> = levels.names().iter().map(String::as_str).collect();
        let metric_levels = reader.list("metrics.levels", &all_levels);
        for level in metric_levels
            .iter()
            .filter(|l| !all_levels.contains(&l.as_str()))
        {
            reader.problem(
                "metrics.levels",
                format!(
                    "unknown level {level:?} (units.levels: {})",
                    all_levels.join(", ")
                ),
            );
        }
        MetricsSettings {
            token,
            public,
            units: crate::unit_metrics::UnitMetricsConfig {
                families: chosen,
                windows,
                levels: metric_levels,
            },
        }
    }
}
