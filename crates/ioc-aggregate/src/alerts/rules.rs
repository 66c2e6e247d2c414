//! The rules of `config/alerts.toml`: rule ids, severities, each rule's
//! settings as read from the file, and the check of the whole set.

use chrono::{NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

use ioc_core::Key;

use crate::window::{WindowError, WindowSpec};

/// Rule id of the overdue-dossier rule.
pub const DOSSIER_OVERDUE: &str = "dossier_overdue";
/// Rule id of the due-soon rule.
pub const DOSSIER_DUE_SOON: &str = "dossier_due_soon";
/// Rule id of the silent-source rule.
pub const SOURCE_SILENT: &str = "source_silent";

pub use ioc_core::alert::Severity;

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
    pub key: Parsed<Key>,
    /// A window name (`today`, `month`, …) or `campaign` (the running one).
    pub window: Parsed<RuleWindow>,
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
            if rule.key.get().is_none() {
                problems.push(format!("{at}: unknown key {:?}", rule.key.name()));
            }
            if let Err(e) = &rule.window.parsed {
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
            if rule.window.get() != Some(&RuleWindow::Campaign)
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

/// A value of the rules file as written, parsed once when the file is read;
/// [`AlertRules::check`] reports the names that do not parse.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<T> {
    name: String,
    parsed: Result<T, String>,
}

impl<T> Parsed<T> {
    /// The name as written.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The parsed value, `None` when the name does not parse.
    pub fn get(&self) -> Option<&T> {
        self.parsed.as_ref().ok()
    }
}

impl<T: std::str::FromStr> std::str::FromStr for Parsed<T>
where
    T::Err: std::fmt::Display,
{
    type Err = std::convert::Infallible;

    fn from_str(name: &str) -> Result<Parsed<T>, std::convert::Infallible> {
        Ok(Parsed {
            name: name.to_owned(),
            parsed: name.parse().map_err(|e: T::Err| e.to_string()),
        })
    }
}

impl<'de, T: std::str::FromStr> Deserialize<'de> for Parsed<T>
where
    T::Err: std::fmt::Display,
{
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Parsed<T>, D::Error> {
        let name = String::deserialize(d)?;
        let Ok(parsed) = name.parse();
        Ok(parsed)
    }
}

impl<T> Serialize for Parsed<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name)
    }
}

/// The window a threshold rule judges over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleWindow {
    /// The running campaign's days.
    Campaign,
    /// A named window (`today`, `month`, …).
    Named(WindowSpec),
}

impl std::str::FromStr for RuleWindow {
    type Err = WindowError;

    fn from_str(name: &str) -> Result<RuleWindow, WindowError> {
        if name == "campaign" {
            Ok(RuleWindow::Campaign)
        } else {
            WindowSpec::parse(name).map(RuleWindow::Named)
        }
    }
}
