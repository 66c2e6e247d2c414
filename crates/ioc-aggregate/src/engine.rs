//! The incremental engine: contributions of dossier states to per-unit,
//! per-day counters, and the queries that turn them into keys.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use ioc_core::{
    Catalog, Channel, DossierState, Granularity, OnlineLevel, Timeliness, TimelinessRules, UnitTree,
};

use crate::counters::{Counter, Counts, DaySeries};
use crate::keys::{Keys, Pending};
use crate::window::Window;

/// Version of the checkpoint format; bump when the counted state changes shape.
const STATE_FORMAT: u32 = 2;

/// Why an engine cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// Instant granularity is not implemented for pending keys.
    #[error(
        "timeliness.granularity = \"instant\" is not supported by the aggregation engine yet; use \"day\""
    )]
    InstantGranularity,
}

/// Dossiers due on one day, by day of reception and of finishing; used
/// for `due_soon` at any cut-off.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct DueBand {
    received: BTreeMap<NaiveDate, i64>,
    finished: BTreeMap<NaiveDate, i64>,
}

/// Everything kept for one unit.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct UnitState {
    days: DaySeries,
    due_bands: BTreeMap<NaiveDate, DueBand>,
    /// Online receptions per procedure offered online, per day.
    online_used: BTreeMap<String, BTreeMap<NaiveDate, i64>>,
}

impl UnitState {
    fn is_empty(&self) -> bool {
        self.days.is_zero() && self.due_bands.is_empty() && self.online_used.is_empty()
    }
}

/// Adds `delta` at `key`, dropping the entry when it returns to zero, so
/// that equal histories give equal maps.
fn bump(map: &mut BTreeMap<NaiveDate, i64>, key: NaiveDate, delta: i64) {
    let value = map.entry(key).or_insert(0);
    *value += delta;
    if *value == 0 {
        map.remove(&key);
    }
}

/// The aggregate state of every unit; cheap to clone (units are shared
/// until changed), so a clone serves as an immutable snapshot.
#[derive(Debug, Clone)]
pub struct Engine {
    tree: Arc<UnitTree>,
    rules: TimelinessRules,
    /// Per level: procedures offered online (partial or full), and whether fully.
    offered: HashMap<String, HashMap<String, OnlineLevel>>,
    /// The level of each unit, to look procedures up without allocating.
    unit_levels: HashMap<String, String>,
    units: HashMap<String, Arc<UnitState>>,
}

impl PartialEq for Engine {
    /// Equal when every unit with data has the same data (a unit whose
    /// counts all returned to zero equals a unit never seen).
    fn eq(&self, other: &Engine) -> bool {
        let with_data = |engine: &Engine| -> BTreeMap<String, Arc<UnitState>> {
            engine
                .units
                .iter()
                .filter(|(_, u)| !u.is_empty())
                .map(|(c, u)| (c.clone(), u.clone()))
                .collect()
        };
        with_data(self) == with_data(other)
    }
}

impl Engine {
    /// An empty engine for `tree` and `catalog` under `rules`.
    pub fn new(
        tree: Arc<UnitTree>,
        catalog: &Catalog,
        rules: TimelinessRules,
    ) -> Result<Engine, EngineError> {
        if rules.granularity == Granularity::Instant {
            return Err(EngineError::InstantGranularity);
        }
        let mut offered: HashMap<String, HashMap<String, OnlineLevel>> = HashMap::new();
        for procedure in catalog.iter().filter(|p| p.online_level.is_online()) {
            for level in &procedure.levels {
                offered
                    .entry(level.clone())
                    .or_default()
                    .insert(procedure.code.as_str().to_owned(), procedure.online_level);
            }
        }
        let unit_levels = tree
            .top_down()
            .into_iter()
            .map(|u| (u.code.as_str().to_owned(), u.level.clone()))
            .collect();
        Ok(Engine {
            tree,
            rules,
            offered,
            unit_levels,
            units: HashMap::new(),
        })
    }

    /// The engine's counters, to store as a checkpoint; together with
    /// [`fingerprint`](Self::fingerprint) they restore it.
    pub fn export_state(&self) -> Result<String, serde_json::Error> {
        let units: BTreeMap<&String, &UnitState> =
            self.units.iter().map(|(c, u)| (c, u.as_ref())).collect();
        serde_json::to_string(&units)
    }

    /// Restores counters written by [`export_state`](Self::export_state) of
    /// an engine with the same fingerprint.
    pub fn import_state(&mut self, state: &str) -> Result<(), serde_json::Error> {
        let units: HashMap<String, UnitState> = serde_json::from_str(state)?;
        self.units = units.into_iter().map(|(c, u)| (c, Arc::new(u))).collect();
        Ok(())
    }

    /// A digest of everything that decides how dossiers are counted (which
    /// procedures each level offers online, the level of each unit, the
    /// calendar and the counting rules): a checkpoint is valid only for an
    /// engine with the same fingerprint.
    pub fn fingerprint(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut offered: Vec<String> = self
            .offered
            .iter()
            .flat_map(|(level, procedures)| {
                procedures
                    .iter()
                    .map(move |(p, l)| format!("{level}/{p}/{}", l.as_str()))
            })
            .collect();
        offered.sort();
        let mut units: Vec<String> = self
            .unit_levels
            .iter()
            .map(|(u, l)| format!("{u}/{l}"))
            .collect();
        units.sort();
        parts.push(format!("format {STATE_FORMAT}"));
        parts.push(format!("zone {}", self.rules.calendar.zone()));
        parts.push(format!("granularity {:?}", self.rules.granularity));
        parts.extend(offered);
        parts.extend(units);
        format!(
            "{:016x}",
            ioc_core::hash::fnv1a(parts.join("\n").as_bytes())
        )
    }

    /// The unit tree.
    pub fn tree(&self) -> &UnitTree {
        &self.tree
    }

    /// The timeliness rules.
    pub fn rules(&self) -> TimelinessRules {
        self.rules
    }

    /// Applies one change: the old state's contributions leave, the new
    /// state's arrive.
    pub fn apply(&mut self, old: Option<&DossierState>, new: &DossierState) {
        if let Some(old) = old {
            self.contribute(old, -1);
        }
        self.contribute(new, 1);
    }

    /// Adds a dossier that was not counted yet (a rebuild).
    pub fn add(&mut self, state: &DossierState) {
        self.contribute(state, 1);
    }

    fn online_level(&self, unit: &str, procedure: &str) -> Option<OnlineLevel> {
        let level = self.unit_levels.get(unit)?;
        self.offered.get(level)?.get(procedure).copied()
    }

    fn contribute(&mut self, state: &DossierState, sign: i64) {
        let d = &state.dossier;
        let cal = self.rules.calendar;
        let online_level = self.online_level(d.unit.as_str(), d.procedure.as_str());
        let classify = d.finished_at.map(|f| self.rules.classify(f, d.due_at));
        if !self.units.contains_key(d.unit.as_str()) {
            self.units
                .insert(d.unit.as_str().to_owned(), Arc::default());
        }
        let Some(unit) = self.units.get_mut(d.unit.as_str()).map(Arc::make_mut) else {
            return;
        };
        let mut count = |day: NaiveDate, counter: Counter| unit.days.add(day, counter, sign);
        let received = d.received_at.map(|t| cal.date_of(t));
        let finished = d
            .finished_at
            .filter(|_| d.is_finished())
            .map(|t| cal.date_of(t));
        let due = d.due_at.map(|t| cal.date_of(t));
        if let Some(r) = received {
            count(r, Counter::Received);
            count(
                r,
                match d.channel {
                    Channel::Direct => Counter::ReceivedDirect,
                    Channel::Online => Counter::ReceivedOnline,
                    Channel::Postal => Counter::ReceivedPostal,
                },
            );
            let online = d.channel == Channel::Online;
            if online_level.is_some() {
                count(r, Counter::ReceivedOffered);
                if online {
                    count(r, Counter::ReceivedOnlineOffered);
                }
            }
            if online_level == Some(OnlineLevel::Full) {
                count(r, Counter::ReceivedFull);
                if online {
                    count(r, Counter::ReceivedOnlineFull);
                }
            }
            if d.fee_required {
                count(r, Counter::FeeDossiers);
                if d.paid_online {
                    count(r, Counter::PaidOnline);
                }
            }
        }
        if let (Some(f), Some(class)) = (finished, classify) {
            count(
                f,
                match class {
                    Timeliness::Early => Counter::FinishedEarly,
                    Timeliness::OnTime => Counter::FinishedOnTime,
                    Timeliness::Late => Counter::FinishedLate,
                },
            );
            if d.e_result {
                count(f, Counter::FinishedEResult);
            }
        }
        // `stopped_at` is set exactly while the dossier is withdrawn or stopped.
        if let Some(stopped) = state.stopped_at {
            count(cal.date_of(stopped), Counter::Withdrawn);
        }
        let eligible = d.status.can_be_pending();
        if let (Some(r), true) = (received, eligible) {
            count(r, Counter::Arrivals);
            if let Some(f) = finished {
                count(f, Counter::Departures);
            }
            if let Some(u) = due {
                count(u, Counter::Due);
                if let Some(f) = finished {
                    count(u.max(f), Counter::SettledAfterDue);
                    if u < f {
                        count(f, Counter::FinishedPastDue);
                    }
                }
                let band = unit.due_bands.entry(u).or_default();
                bump(&mut band.received, r, sign);
                if let Some(f) = finished {
                    bump(&mut band.finished, f, sign);
                }
                if band.received.is_empty() && band.finished.is_empty() {
                    unit.due_bands.remove(&u);
                }
            }
        }
        if let (Some(r), Some(_), Channel::Online) = (received, online_level, d.channel) {
            let days = unit
                .online_used
                .entry(d.procedure.as_str().to_owned())
                .or_default();
            bump(days, r, sign);
            if days.is_empty() {
                unit.online_used.remove(d.procedure.as_str());
            }
        }
    }

    /// The next instant after `now` at which a pending dossier becomes due
    /// soon (the start of the day before its due day) or overdue (the start
    /// of the day after it), with no event arriving: the time-driven sweep
    /// wakes then. `None` when nothing pending has a due time ahead.
    pub fn next_transition(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let cal = self.rules.calendar;
        let today = cal.date_of(now);
        let from = today.pred_opt().unwrap_or(today);
        self.units
            .values()
            .filter_map(|unit| {
                unit.due_bands
                    .range(from..)
                    .filter(|(_, band)| {
                        band.received.values().sum::<i64>() > band.finished.values().sum::<i64>()
                    })
                    .flat_map(|(due, _)| [due.pred_opt(), due.succ_opt()])
                    .flatten()
                    .map(|day| cal.start_of(day))
                    .find(|at| *at > now)
            })
            .min()
    }

    /// Procedures offered online at the level of `unit`.
    fn online_services(&self, unit: &str) -> i64 {
        ioc_core::UnitCode::parse(unit)
            .ok()
            .and_then(|c| self.tree.get(&c))
            .and_then(|u| self.offered.get(&u.level))
            .map_or(0, |p| p.len() as i64)
    }

    /// The keys of the units `codes` taken together (counters add, ratios
    /// are recomputed) for `window`, with the cut-off at min(end, `now`).
    pub fn keys<'a>(
        &self,
        codes: impl IntoIterator<Item = &'a str>,
        window: Window,
        now: DateTime<Utc>,
    ) -> Keys {
        let cut = window.cutoff(now, &self.rules.calendar);
        let mut sum = Counts::default();
        let mut pending = Pending::default();
        let (mut offered, mut used) = (0, 0);
        let mut seen = HashSet::new();
        for code in codes {
            if !seen.insert(code) {
                continue;
            }
            offered += self.online_services(code);
            let Some(unit) = self.units.get(code) else {
                continue;
            };
            for (_, counts) in unit.days.range(window.from, window.to) {
                sum += counts;
            }
            let mut due_before = 0;
            let mut settled_before = 0;
            let today = DaySeries::number(cut.today);
            for (day, c) in unit.days.through(cut.through) {
                pending.pending += c[Counter::Arrivals] - c[Counter::Departures];
                if day < today {
                    due_before += c[Counter::Due];
                    settled_before += c[Counter::SettledAfterDue];
                }
            }
            let finished_today_late = if cut.through >= cut.today {
                unit.days
                    .get(cut.today)
                    .map_or(0, |c| c[Counter::FinishedPastDue])
            } else {
                0
            };
            pending.overdue += due_before - settled_before - finished_today_late;
            let tomorrow = cut.today.succ_opt().unwrap_or(cut.today);
            for band in [cut.today, tomorrow]
                .iter()
                .filter_map(|d| unit.due_bands.get(d))
            {
                let received: i64 = band.received.range(..=cut.through).map(|(_, n)| n).sum();
                let finished: i64 = band.finished.range(..=cut.through).map(|(_, n)| n).sum();
                pending.due_soon += received - finished;
            }
            used += unit
                .online_used
                .values()
                .filter(|days| days.range(window.from..window.to).next().is_some())
                .count() as i64;
        }
        Keys::new(&sum, pending, (offered, used))
    }
}
