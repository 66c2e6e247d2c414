//! Alert rules (`config/alerts.toml`) and what they want, evaluated without
//! IO: the due index behind the overdue and due-soon sweep, unit thresholds
//! with hysteresis, and silence of sources counted in working time.

mod due;
mod rules;
mod silence;
mod threshold;

pub use due::{DossierId, DossierWants, DueIndex, days_overdue};
pub use rules::{
    AlertRules, DOSSIER_DUE_SOON, DOSSIER_OVERDUE, DueSoonRule, Limit, OverdueRule, Parsed,
    RuleWindow, SOURCE_SILENT, Severity, SilentSourceRule, Step, ThresholdRule,
};
pub use threshold::{evaluate_threshold, judge};

pub use ioc_core::alert::Wanted;

#[cfg(test)]
mod tests;
