//! The due index behind the overdue and due-soon sweep: open dossiers
//! ordered by the next instant their alert stage changes.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Days, Utc};
use ioc_core::{DossierState, Granularity, TimelinessRules};
use serde_json::json;

use super::{AlertRules, DOSSIER_DUE_SOON, DOSSIER_OVERDUE, DueSoonRule, OverdueRule, Wanted};

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
pub type DossierWants = [(&'static str, Option<(String, Wanted)>); 2];

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
            source: state.source.as_str().to_owned(),
            code: state.dossier.code.as_str().to_owned(),
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
                    unit: d.unit.as_str().to_owned(),
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
        let details = json!({"due_at": open.due_at}).to_string();
        let t = self.timeliness;
        if let Some(rule) = &self.overdue
            && now >= t.overdue_from(open.due_at)
        {
            let days = days_overdue(t, open.due_at, now);
            if let Some(step) = rule.steps.iter().rev().find(|s| i64::from(s.days) <= days) {
                wants[0].1 = Some((
                    open.unit.clone(),
                    Wanted::Active {
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
                Wanted::Active {
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
