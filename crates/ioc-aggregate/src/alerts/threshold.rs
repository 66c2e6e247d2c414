//! Threshold evaluation: unit keys over a window against a fixed or
//! campaign limit, with hysteresis and a least volume.

use chrono::{DateTime, Utc};
use ioc_core::{Key, KeyKind, UnitTree};
use serde_json::json;

use super::{Limit, Parsed, RuleWindow, Severity, ThresholdRule, Wanted};
use crate::campaign::Campaign;
use crate::engine::Engine;
use crate::keys::Ratio;
use crate::window::Window;

/// What one threshold rule wants for one unit, given whether its alert is
/// active now; `None` when nothing changes.
pub fn judge(rule: &ThresholdRule, ratio: Ratio, limit: f64, active: bool) -> Option<Wanted> {
    let value = ratio
        .value()
        .filter(|_| is_count(&rule.key) || ratio.denominator >= rule.min_volume);
    let Some(value) = value else {
        return active.then_some(Wanted::Cleared);
    };
    let (breached, recovered, critical) = match (rule.above, rule.below) {
        (Some(_), _) => (
            value > limit,
            value < limit - rule.hysteresis,
            rule.critical.is_some_and(|c| value > c),
        ),
        _ => (
            value < limit,
            value > limit + rule.hysteresis,
            rule.critical.is_some_and(|c| value < c),
        ),
    };
    let details = json!({
        "key": rule.key,
        "window": rule.window,
        "value": value,
        "limit": limit,
        "numerator": ratio.numerator,
        "denominator": ratio.denominator,
    })
    .to_string();
    let severity = if critical {
        Severity::Critical
    } else {
        rule.severity
    };
    if breached || (active && !recovered) {
        Some(Wanted::Active { severity, details })
    } else if active {
        Some(Wanted::Cleared)
    } else {
        None
    }
}

/// Whether `key` is a count (no least volume applies to it).
fn is_count(key: &Parsed<Key>) -> bool {
    key.get().is_some_and(|k| k.kind() == KeyKind::Count)
}

/// What threshold `rule` wants for every unit of its levels at `now`;
/// `active(unit)` tells whether its alert is active. Units the rule cannot
/// judge (no running campaign, no target at the unit's level) want their
/// alert cleared.
pub fn evaluate_threshold(
    rule: &ThresholdRule,
    engine: &Engine,
    campaigns: &[Campaign],
    now: DateTime<Utc>,
    active: impl Fn(&str) -> bool,
) -> Vec<(String, Wanted)> {
    let calendar = engine.rules().calendar;
    let today = calendar.date_of(now);
    let running = campaigns
        .iter()
        .find(|c| (c.from..=c.until).contains(&today));
    let window: Option<Window> = match rule.window.get() {
        Some(RuleWindow::Campaign) => running.map(Campaign::window),
        Some(RuleWindow::Named(spec)) => Some(spec.resolve(today)),
        None => None,
    };
    let tree: &UnitTree = engine.tree();
    let mut wants = Vec::new();
    for level in &rule.levels {
        for unit in tree.at_level(level) {
            let code = unit.code.as_str();
            let is_active = active(code);
            let limit = match rule.above.or(rule.below) {
                Some(Limit::Value(v)) => Some(v),
                Some(Limit::Campaign) => running.and_then(|c| {
                    c.targets
                        .iter()
                        .find(|t| t.key == rule.key.name() && t.levels.contains(level))
                        .map(|t| t.value)
                }),
                None => None,
            };
            let want = match (window, limit) {
                (Some(window), Some(limit)) => {
                    let keys = engine.keys([code], window, now);
                    rule.key
                        .get()
                        .map(|key| keys.value(*key))
                        .and_then(|ratio| judge(rule, ratio, limit, is_active))
                }
                _ => is_active.then_some(Wanted::Cleared),
            };
            if let Some(want) = want {
                wants.push((code.to_owned(), want));
            }
        }
    }
    wants
}
