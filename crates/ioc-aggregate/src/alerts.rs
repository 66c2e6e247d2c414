//! Alert rules (`config/alerts.toml`) and what they want, evaluated without
//! IO: the due index behind the overdue and due-soon sweep, unit thresholds
//! with hysteresis, and silence of sources counted in working time.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Datelike, Days, NaiveTime, Utc, Weekday};
use ioc_core::{DossierState, Granularity, TimelinessRules, UnitTree};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::campaign::Campaign;
use crate::engine::Engine;
use crate::keys::{KEYS, Ratio};
use crate::window::{Window, WindowSpec};

/// Rule id of the overdue-dossier rule.
pub const DOSSIER_OVERDUE: &str = "dossier_overdue";
/// Rule id of the due-soon rule.
pub const DOSSIER_DUE_SOON: &str = "dossier_due_soon";
/// Rule id of the silent-source rule.
pub const SOURCE_SILENT: &str = "source_silent";

/// How urgent an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
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

/// The rules of `config/alerts.toml`; a rule left out is off.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRules {
    /// A pending dossier past its due date.
    pub dossier_overdue: Option<OverdueRule>,
    /// A pending dossier close to its due date.
    pub dossier_due_soon: Option<DueSoonRule>,
    /// Unit keys against thresholds.
    #[serde(default, rename = "threshold")]
    pub thresholds: Vec<ThresholdRule>,
    /// Sources that send nothing.
    pub source_silent: Option<SilentSourceRule>,
}

/// `[dossier_overdue]`: severity grows with days overdue.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverdueRule {
    /// Severity steps: each applies from its number of days overdue on.
    pub steps: Vec<Step>,
    /// Webhook receiving this rule's events.
    pub webhook: Option<String>,
}

/// One severity step of the overdue rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Days overdue (1 = the first local day after the due day).
    pub days: u32,
    /// Severity from then on.
    pub severity: Severity,
}

/// `[dossier_due_soon]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DueSoonRule {
    /// Days before the due day from which a dossier is due soon (1: the
    /// due day and the day before, as `due_soon` in METRICS.md).
    pub lead_days: u32,
    /// Severity.
    pub severity: Severity,
    /// Webhook receiving this rule's events.
    pub webhook: Option<String>,
}

/// A limit: a number, or the running campaign's target for the key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    /// A fixed value (ratios as fractions).
    Value(f64),
    /// The target of the running campaign for the key at the unit's level.
    Campaign,
}

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(f64),
            Word(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(n) => Ok(Limit::Value(n)),
            Raw::Word(w) if w == "campaign" => Ok(Limit::Campaign),
            Raw::Word(w) => Err(serde::de::Error::custom(format!(
                "expected a number or \"campaign\", found {w:?}"
            ))),
        }
    }
}

/// `[[threshold]]`: a unit key over a window against a limit.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdRule {
    /// Rule id.
    pub id: String,
    /// A key of METRICS.md.
    pub key: String,
    /// A window name (`today`, `month`, …) or `campaign` (the running one).
    pub window: String,
    /// Unit levels the rule watches.
    pub levels: Vec<String>,
    /// Raise when the value is above this.
    pub above: Option<Limit>,
    /// Raise when the value is below this.
    pub below: Option<Limit>,
    /// Clear only once the value is back past the limit by this much.
    #[serde(default)]
    pub hysteresis: f64,
    /// Least denominator of a ratio for the rule to judge (counts: ignored).
    #[serde(default = "one")]
    pub min_volume: i64,
    /// Severity.
    pub severity: Severity,
    /// Critical beyond this value, if given.
    pub critical: Option<f64>,
    /// Webhook receiving this rule's events.
    pub webhook: Option<String>,
}

fn one() -> i64 {
    1
}

/// `[source_silent]`: no accepted change from a source for too long.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SilentSourceRule {
    /// Working minutes of silence that raise the alert.
    pub minutes: u32,
    /// Local start of working hours.
    pub day_starts: NaiveTime,
    /// Local end of working hours.
    pub day_ends: NaiveTime,
    /// Working days.
    pub working_days: Vec<Weekday>,
    /// Sources watched; empty: every source with an ingest token.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Severity.
    pub severity: Severity,
    /// Webhook receiving this rule's events.
    pub webhook: Option<String>,
}

impl AlertRules {
    /// Every problem of the rules against the unit `levels`, at once.
    pub fn check(&self, levels: &[String]) -> Vec<String> {
        let mut problems = Vec::new();
        let mut webhooks = Vec::new();
        if let Some(rule) = &self.dossier_overdue {
            if rule.steps.is_empty() {
                problems.push("dossier_overdue.steps: give at least one step".to_owned());
            }
            if rule.steps.iter().any(|s| s.days == 0) {
                problems.push("dossier_overdue.steps: days start at 1".to_owned());
            }
            if rule
                .steps
                .windows(2)
                .any(|w| w[0].days >= w[1].days || w[0].severity > w[1].severity)
            {
                problems.push(
                    "dossier_overdue.steps: days must grow and severity must not fall".to_owned(),
                );
            }
            webhooks.push((DOSSIER_OVERDUE.to_owned(), rule.webhook.as_deref()));
        }
        if let Some(rule) = &self.dossier_due_soon {
            webhooks.push((DOSSIER_DUE_SOON.to_owned(), rule.webhook.as_deref()));
        }
        let mut ids = vec![DOSSIER_OVERDUE, DOSSIER_DUE_SOON, SOURCE_SILENT];
        for rule in &self.thresholds {
            let at = format!("threshold {:?}", rule.id);
            if rule.id.is_empty() || ids.contains(&rule.id.as_str()) {
                problems.push(format!("{at}: the id is empty or used twice"));
            }
            ids.push(&rule.id);
            if !KEYS.contains(&rule.key.as_str()) {
                problems.push(format!("{at}: unknown key {:?}", rule.key));
            }
            if rule.window != "campaign"
                && let Err(e) = WindowSpec::parse(&rule.window)
            {
                problems.push(format!("{at}: window: {e}"));
            }
            if rule.levels.is_empty() {
                problems.push(format!("{at}: levels: give at least one level"));
            }
            if let Some(level) = rule.levels.iter().find(|l| !levels.contains(l)) {
                problems.push(format!("{at}: unknown level {level:?}"));
            }
            if rule.above.is_some() == rule.below.is_some() {
                problems.push(format!("{at}: give exactly one of above and below"));
            }
            if rule.hysteresis.is_nan() || rule.hysteresis < 0.0 {
                problems.push(format!("{at}: hysteresis must be 0 or more"));
            }
            if rule.window != "campaign"
                && matches!(rule.above.or(rule.below), Some(Limit::Campaign))
            {
                problems.push(format!(
                    "{at}: a campaign limit needs window = \"campaign\""
                ));
            }
            webhooks.push((rule.id.clone(), rule.webhook.as_deref()));
        }
        if let Some(rule) = &self.source_silent {
            if rule.minutes == 0 {
                problems.push("source_silent.minutes must be 1 or more".to_owned());
            }
            if rule.day_starts >= rule.day_ends {
                problems.push("source_silent: day_starts must be before day_ends".to_owned());
            }
            if rule.working_days.is_empty() {
                problems.push("source_silent.working_days: give at least one day".to_owned());
            }
            webhooks.push((SOURCE_SILENT.to_owned(), rule.webhook.as_deref()));
        }
        for (id, url) in webhooks {
            if let Some(url) = url
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                problems.push(format!("{id}: webhook {url:?} is not an http(s) URL"));
            }
        }
        problems
    }

    /// The ids of the rules that are on.
    pub fn ids(&self) -> Vec<&str> {
        let mut ids = Vec::new();
        if self.dossier_overdue.is_some() {
            ids.push(DOSSIER_OVERDUE);
        }
        if self.dossier_due_soon.is_some() {
            ids.push(DOSSIER_DUE_SOON);
        }
        ids.extend(self.thresholds.iter().map(|t| t.id.as_str()));
        if self.source_silent.is_some() {
            ids.push(SOURCE_SILENT);
        }
        ids
    }

    /// Whether any rule that is on has a webhook.
    pub fn has_webhooks(&self) -> bool {
        self.ids().into_iter().any(|id| self.webhook(id).is_some())
    }

    /// The webhook of rule `id`, if it has one.
    pub fn webhook(&self, id: &str) -> Option<&str> {
        match id {
            DOSSIER_OVERDUE => self.dossier_overdue.as_ref()?.webhook.as_deref(),
            DOSSIER_DUE_SOON => self.dossier_due_soon.as_ref()?.webhook.as_deref(),
            SOURCE_SILENT => self.source_silent.as_ref()?.webhook.as_deref(),
            _ => self
                .thresholds
                .iter()
                .find(|t| t.id == id)?
                .webhook
                .as_deref(),
        }
    }
}

/// What a rule wants for one alert key.
#[derive(Debug, Clone, PartialEq)]
pub enum Want {
    /// The condition holds.
    Active {
        /// Severity.
        severity: Severity,
        /// Details, as JSON.
        details: serde_json::Value,
    },
    /// It does not.
    Cleared,
}

/// A dossier, by source and code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DossierId {
    /// Source.
    pub source: String,
    /// Code within the source.
    pub code: String,
}

/// A dossier the sweep watches: open, with a due time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Open {
    unit: String,
    due_at: DateTime<Utc>,
    next: Option<DateTime<Utc>>,
}

/// The open dossiers with a due time, ordered by the next instant at which
/// their alert stage changes (due soon, overdue, each severity step), so
/// that a sweep costs nothing until the clock reaches the first of them.
#[derive(Debug, Clone)]
pub struct DueIndex {
    timeliness: TimelinessRules,
    overdue: Option<OverdueRule>,
    due_soon: Option<DueSoonRule>,
    open: HashMap<DossierId, Open>,
    queue: BTreeSet<(DateTime<Utc>, DossierId)>,
}

/// What the dossier rules want for one dossier: per rule, the unit of the
/// alert and its want.
pub type DossierWants = [(&'static str, Option<(String, Want)>); 2];

impl DueIndex {
    /// An empty index for these rules.
    pub fn new(timeliness: TimelinessRules, rules: &AlertRules) -> DueIndex {
        DueIndex {
            timeliness,
            overdue: rules.dossier_overdue.clone(),
            due_soon: rules.dossier_due_soon.clone(),
            open: HashMap::new(),
            queue: BTreeSet::new(),
        }
    }

    /// Whether any dossier rule is on.
    pub fn is_enabled(&self) -> bool {
        self.overdue.is_some() || self.due_soon.is_some()
    }

    /// Dossiers watched.
    pub fn len(&self) -> usize {
        self.open.len()
    }

    /// No dossier is watched.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// Every dossier watched.
    pub fn ids(&self) -> impl Iterator<Item = &DossierId> {
        self.open.keys()
    }

    /// Takes the dossier's current state into account at `now`.
    pub fn apply(&mut self, state: &DossierState, now: DateTime<Utc>) {
        let id = DossierId {
            source: state.source.clone(),
            code: state.dossier.code.clone(),
        };
        if let Some(old) = self.open.remove(&id)
            && let Some(next) = old.next
        {
            self.queue.remove(&(next, id.clone()));
        }
        let d = &state.dossier;
        let watched = self.is_enabled()
            && d.is_received()
            && !d.is_finished()
            && state.stopped_at.is_none()
            && d.status.can_be_pending();
        if let (true, Some(due_at)) = (watched, d.due_at) {
            let next = self.next_change(due_at, now);
            if let Some(at) = next {
                self.queue.insert((at, id.clone()));
            }
            self.open.insert(
                id,
                Open {
                    unit: d.unit.clone(),
                    due_at,
                    next,
                },
            );
        }
    }

    /// The dossiers whose stage changed at or before `now` since they were
    /// last looked at; each is queued again for its following change.
    pub fn take_due(&mut self, now: DateTime<Utc>) -> Vec<DossierId> {
        let mut due = Vec::new();
        while let Some((at, _)) = self.queue.first() {
            if *at > now {
                break;
            }
            let Some((_, id)) = self.queue.pop_first() else {
                break;
            };
            if let Some(due_at) = self.open.get(&id).map(|open| open.due_at) {
                let next = self.next_change(due_at, now);
                if let Some(at) = next {
                    self.queue.insert((at, id.clone()));
                }
                if let Some(open) = self.open.get_mut(&id) {
                    open.next = next;
                }
            }
            due.push(id);
        }
        due
    }

    /// The next instant at which a stage changes, if any.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.queue.first().map(|(at, _)| *at)
    }

    /// The first instant after `now` at which a dossier due at `due_at`
    /// changes stage: due soon, overdue, or a further severity step.
    fn next_change(&self, due_at: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let t = self.timeliness;
        let soon = self.due_soon.iter().map(|r| due_soon_from(t, r, due_at));
        let late = std::iter::once(t.overdue_from(due_at));
        let steps = self
            .overdue
            .iter()
            .flat_map(|r| r.steps.iter().map(|s| overdue_by(t, due_at, s.days)));
        soon.chain(late).chain(steps).filter(|at| *at > now).min()
    }

    /// What the overdue and due-soon rules want for dossier `id` at `now`
    /// (a rule that is off, or a dossier no longer watched, wants nothing
    /// active).
    pub fn wants(&self, id: &DossierId, now: DateTime<Utc>) -> DossierWants {
        let mut wants = [(DOSSIER_OVERDUE, None), (DOSSIER_DUE_SOON, None)];
        let Some(open) = self.open.get(id) else {
            return wants;
        };
        let details = json!({"due_at": open.due_at});
        let t = self.timeliness;
        if let Some(rule) = &self.overdue
            && now >= t.overdue_from(open.due_at)
        {
            let days = days_overdue(t, open.due_at, now);
            if let Some(step) = rule.steps.iter().rev().find(|s| i64::from(s.days) <= days) {
                wants[0].1 = Some((
                    open.unit.clone(),
                    Want::Active {
                        severity: step.severity,
                        details: details.clone(),
                    },
                ));
            }
            return wants;
        }
        if let Some(rule) = &self.due_soon
            && now >= due_soon_from(t, rule, open.due_at)
            && now < t.overdue_from(open.due_at)
        {
            wants[1].1 = Some((
                open.unit.clone(),
                Want::Active {
                    severity: rule.severity,
                    details,
                },
            ));
        }
        wants
    }

    /// Approximate heap bytes held, for the benchmark.
    pub fn heap_bytes(&self) -> usize {
        let strings: usize = self
            .open
            .iter()
            .map(|(id, open)| 2 * (id.source.len() + id.code.len()) + open.unit.len())
            .sum();
        let entry = std::mem::size_of::<(DossierId, Open)>() + 8;
        let queued = std::mem::size_of::<(DateTime<Utc>, DossierId)>() + 8;
        strings + self.open.capacity() * entry + self.queue.len() * queued
    }
}

/// Whole days a dossier due at `due_at` is overdue at `now` (0 when not).
pub fn days_overdue(t: TimelinessRules, due_at: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    if !t.is_overdue(now, Some(due_at)) {
        return 0;
    }
    match t.granularity {
        Granularity::Day => (t.calendar.date_of(now) - t.calendar.date_of(due_at)).num_days(),
        Granularity::Instant => (now - due_at).num_days() + 1,
    }
}

/// The first instant at which a dossier due at `due_at` is `days` overdue.
fn overdue_by(t: TimelinessRules, due_at: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    match t.granularity {
        Granularity::Day => t
            .calendar
            .date_of(due_at)
            .checked_add_days(Days::new(days.into()))
            .map_or(due_at, |d| t.calendar.start_of(d)),
        Granularity::Instant => {
            t.overdue_from(due_at) + chrono::Duration::days(i64::from(days.saturating_sub(1)))
        }
    }
}

fn due_soon_from(t: TimelinessRules, rule: &DueSoonRule, due_at: DateTime<Utc>) -> DateTime<Utc> {
    match t.granularity {
        Granularity::Day => t
            .calendar
            .date_of(due_at)
            .checked_sub_days(Days::new(rule.lead_days.into()))
            .map_or(due_at, |d| t.calendar.start_of(d)),
        Granularity::Instant => due_at - chrono::Duration::days(rule.lead_days.into()),
    }
}

/// What one threshold rule wants for one unit, given whether its alert is
/// active now; `None` when nothing changes.
pub fn judge(rule: &ThresholdRule, ratio: Ratio, limit: f64, active: bool) -> Option<Want> {
    let value = ratio
        .value()
        .filter(|_| is_count(&rule.key) || ratio.denominator >= rule.min_volume);
    let Some(value) = value else {
        return active.then_some(Want::Cleared);
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
    });
    let severity = if critical {
        Severity::Critical
    } else {
        rule.severity
    };
    if breached || (active && !recovered) {
        Some(Want::Active { severity, details })
    } else if active {
        Some(Want::Cleared)
    } else {
        None
    }
}

/// Whether `key` is a count (`Keys::get` gives counts as n / 1, and ratios
/// of an empty `Keys` as 0 / 0).
fn is_count(key: &str) -> bool {
    crate::keys::Keys::default()
        .get(key)
        .is_some_and(|r| r.denominator == 1)
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
) -> Vec<(String, Want)> {
    let calendar = engine.rules().calendar;
    let today = calendar.date_of(now);
    let running = campaigns
        .iter()
        .find(|c| (c.from..=c.until).contains(&today));
    let window: Option<Window> = if rule.window == "campaign" {
        running.map(Campaign::window)
    } else {
        WindowSpec::parse(&rule.window)
            .ok()
            .map(|w| w.resolve(today))
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
                        .find(|t| t.key == rule.key && t.levels.contains(level))
                        .map(|t| t.value)
                }),
                None => None,
            };
            let want = match (window, limit) {
                (Some(window), Some(limit)) => {
                    let keys = engine.keys([code], window, now);
                    keys.get(&rule.key)
                        .and_then(|ratio| judge(rule, ratio, limit, is_active))
                }
                _ => is_active.then_some(Want::Cleared),
            };
            if let Some(want) = want {
                wants.push((code.to_owned(), want));
            }
        }
    }
    wants
}

impl SilentSourceRule {
    /// Working minutes between `from` and `to` (local working days and
    /// hours), counted over at most the last 60 days.
    pub fn working_minutes(
        &self,
        calendar: ioc_core::LocalCalendar,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> i64 {
        if to <= from {
            return 0;
        }
        let last = calendar.date_of(to);
        let first = calendar
            .date_of(from)
            .max(last - chrono::Duration::days(60));
        let mut minutes = 0;
        for day in first.iter_days().take_while(|d| *d <= last) {
            if !self.working_days.contains(&day.weekday()) {
                continue;
            }
            let (Some(start), Some(end)) = (
                calendar.from_local(day.and_time(self.day_starts)),
                calendar.from_local(day.and_time(self.day_ends)),
            ) else {
                continue;
            };
            let (a, b) = (start.max(from), end.min(to));
            if b > a {
                minutes += (b - a).num_minutes();
            }
        }
        minutes
    }

    /// What the rule wants for a source last seen at `last_seen`.
    pub fn judge(
        &self,
        calendar: ioc_core::LocalCalendar,
        last_seen: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Want {
        let silent = self.working_minutes(calendar, last_seen, now);
        if silent >= i64::from(self.minutes) {
            Want::Active {
                severity: self.severity,
                details: json!({"last_seen_at": last_seen, "limit_minutes": self.minutes}),
            }
        } else {
            Want::Cleared
        }
    }
}

#[cfg(test)]
mod tests;
