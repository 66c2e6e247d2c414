//! The alerting service of a node: a sweeper that turns the rules of
//! `config/alerts.toml` into stored alert transitions, and a board, the
//! node's in-memory view of the active alerts, kept by following the
//! `alert_events` log (so that transitions written by another node reach
//! this node's screens and metrics too).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ioc_aggregate::alerts::{
    self, AlertRules, DOSSIER_OVERDUE, DossierId, DueIndex, SOURCE_SILENT, Severity, Want,
};
use ioc_aggregate::follow::Follower;
use ioc_core::{TimelinessRules, UnitCode, UnitTree};
use ioc_store::alerts::{Alert, AlertKey, Event, Wanted};
use ioc_store::{Store, StoreError, changes, snapshot, tokens};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::aggregates::Aggregates;
use crate::webhook::Webhooks;

/// How often the sweeper looks at the clock and the logs.
const TICK: Duration = Duration::from_millis(500);
/// Changes and events read per query.
const PAGE: i64 = 10_000;
/// Transitions written per transaction.
const WRITE_CHUNK: usize = 1_000;
/// Transitions written per transaction on SQLite...
const SQLITE_WRITE_CHUNK: usize = 100;
/// ...and the pause after each, so that other writers get the lock.
const SQLITE_PAUSE: Duration = Duration::from_millis(50);
/// How long a gap in the change log is waited for.
const GAP_PATIENCE: Duration = Duration::from_secs(30);
/// How often, at most, the last activity of sources is written.
const ACTIVITY_EVERY: Duration = Duration::from_secs(60);
/// Events kept for the `alerts` topic.
pub const RECENT_EVENTS: usize = 50;

/// The alerting settings the service needs.
#[derive(Debug, Clone)]
pub struct AlertingConfig {
    /// The rules.
    pub rules: AlertRules,
    /// How often thresholds are evaluated when nothing changed.
    pub evaluate_every: Duration,
    /// Active alerts listed in the `alerts` topic.
    pub topic_items: usize,
    /// Webhook delivery attempts per event.
    pub webhook_attempts: u32,
    /// Timeout of one webhook attempt.
    pub webhook_timeout: Duration,
}

/// The active alerts as this node knows them.
#[derive(Default)]
struct Board {
    active: HashMap<i64, Alert>,
    by_key: HashMap<AlertKey, i64>,
    /// Dossier alerts by (rule, source, code), whatever their unit.
    by_dossier: HashMap<(String, String, String), i64>,
    /// The latest events, with what their alert is about.
    recent: VecDeque<(Event, Option<AlertKey>)>,
    seq: i64,
}

impl Board {
    fn put(&mut self, alert: Alert) {
        self.remove(alert.id);
        if !alert.active {
            return;
        }
        if !alert.key.dossier.is_empty() {
            self.by_dossier.insert(dossier_slot(&alert.key), alert.id);
        }
        self.by_key.insert(alert.key.clone(), alert.id);
        self.active.insert(alert.id, alert);
    }

    fn remove(&mut self, id: i64) {
        if let Some(old) = self.active.remove(&id) {
            self.by_key.remove(&old.key);
            if !old.key.dossier.is_empty() {
                self.by_dossier.remove(&dossier_slot(&old.key));
            }
        }
    }

    fn get(&self, key: &AlertKey) -> Option<&Alert> {
        self.by_key.get(key).and_then(|id| self.active.get(id))
    }
}

fn dossier_slot(key: &AlertKey) -> (String, String, String) {
    (key.rule.clone(), key.source.clone(), key.dossier.clone())
}

/// A node's alerting: its rules, its board and the versions it publishes.
pub struct Alerting {
    store: Store,
    config: AlertingConfig,
    tree: Arc<UnitTree>,
    timeliness: TimelinessRules,
    board: RwLock<Board>,
    published: watch::Sender<u64>,
    webhooks: Webhooks,
    stopped: AtomicBool,
    sweeps: AtomicU64,
    sweep_micros: AtomicU64,
}

impl Alerting {
    /// Loads the board from the store and starts the sweeper.
    pub async fn start(
        store: &Store,
        config: AlertingConfig,
        aggregates: Arc<Aggregates>,
        tree: Arc<UnitTree>,
        timeliness: TimelinessRules,
    ) -> Result<Arc<Alerting>, StoreError> {
        let (active, recent) = store
            .run(|conn| {
                let active = ioc_store::alerts::active(conn)?;
                let recent = ioc_store::alerts::latest_events(conn, RECENT_EVENTS as i64)?;
                Ok((active, recent))
            })
            .await?;
        let mut board = Board {
            seq: recent.last().map_or(0, |e| e.seq),
            ..Board::default()
        };
        let ids: Vec<i64> = recent.iter().map(|e| e.alert_id).collect();
        let about: HashMap<i64, AlertKey> = store
            .run(move |conn| ioc_store::alerts::by_ids(conn, &ids))
            .await?
            .into_iter()
            .map(|a| (a.id, a.key))
            .collect();
        board.recent = recent
            .into_iter()
            .map(|e| {
                let key = about.get(&e.alert_id).cloned();
                (e, key)
            })
            .collect();
        for alert in active {
            board.put(alert);
        }
        let webhooks = Webhooks::new(config.webhook_attempts, config.webhook_timeout);
        let alerting = Arc::new(Alerting {
            store: store.clone(),
            config,
            tree,
            timeliness,
            board: RwLock::new(board),
            published: watch::Sender::new(0),
            webhooks,
            stopped: AtomicBool::new(false),
            sweeps: AtomicU64::new(0),
            sweep_micros: AtomicU64::new(0),
        });
        let sweeper = Sweeper::start(store, &alerting, aggregates).await?;
        actix_web::rt::spawn(sweeper.run(Arc::downgrade(&alerting)));
        Ok(alerting)
    }

    /// Stops the sweeper (the server has stopped).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
    }

    /// Sweeps completed since start, and the time they took in all.
    pub fn sweeps(&self) -> (u64, Duration) {
        (
            self.sweeps.load(Ordering::Acquire),
            Duration::from_micros(self.sweep_micros.load(Ordering::Relaxed)),
        )
    }

    /// Receives a new number each time the board changes.
    pub fn versions(&self) -> watch::Receiver<u64> {
        self.published.subscribe()
    }

    /// The rules in force.
    pub fn rules(&self) -> &AlertRules {
        &self.config.rules
    }

    fn board(&self) -> std::sync::RwLockReadGuard<'_, Board> {
        self.board.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the events after the board's position and applies them;
    /// returns them.
    pub async fn refresh(&self) -> Result<Vec<Event>, StoreError> {
        let mut all = Vec::new();
        loop {
            let seq = self.board().seq;
            let (events, alerts) = self
                .store
                .run(move |conn| {
                    let events = ioc_store::alerts::events_after(conn, seq, PAGE)?;
                    let ids: Vec<i64> = events
                        .iter()
                        .map(|e| e.alert_id)
                        .collect::<HashSet<_>>()
                        .into_iter()
                        .collect();
                    let alerts = ioc_store::alerts::by_ids(conn, &ids)?;
                    Ok((events, alerts))
                })
                .await?;
            let Some(last) = events.last() else {
                break;
            };
            {
                let mut board = self.board.write().unwrap_or_else(PoisonError::into_inner);
                if last.seq <= board.seq {
                    break;
                }
                board.seq = last.seq;
                let about: HashMap<i64, AlertKey> =
                    alerts.iter().map(|a| (a.id, a.key.clone())).collect();
                for alert in alerts {
                    board.put(alert);
                }
                for event in &events {
                    let key = about.get(&event.alert_id).cloned();
                    board.recent.push_back((event.clone(), key));
                    if board.recent.len() > RECENT_EVENTS {
                        board.recent.pop_front();
                    }
                }
            }
            self.published.send_modify(|v| *v += 1);
            let complete = events.len() < PAGE as usize;
            all.extend(events);
            if complete {
                break;
            }
        }
        Ok(all)
    }

    /// Active alerts by (rule, severity, level of the unit), for metrics:
    /// every rule that is on, at every severity and level, 0 included, so
    /// that dashboards show 0 rather than no data.
    pub fn active_counts(&self) -> HashMap<(String, Severity, String), i64> {
        let mut counts = HashMap::new();
        for rule in self.config.rules.ids() {
            for severity in Severity::ALL {
                for level in self.tree.levels().names() {
                    counts.insert((rule.to_owned(), severity, level.clone()), 0);
                }
            }
        }
        let board = self.board();
        for alert in board.active.values() {
            let level = self.level_of(&alert.key.unit);
            let severity = Severity::parse(&alert.severity).unwrap_or(Severity::Warning);
            *counts
                .entry((alert.key.rule.clone(), severity, level))
                .or_insert(0) += 1;
        }
        counts
    }

    fn level_of(&self, unit: &str) -> String {
        UnitCode::parse(unit)
            .ok()
            .and_then(|c| self.tree.get(&c))
            .map_or_else(|| "unknown".to_owned(), |u| u.level.clone())
    }

    /// Counts of active alerts per rollup unit (district or department):
    /// all, unacknowledged, and per severity.
    pub fn rollup(&self) -> Value {
        let board = self.board();
        let mut units: HashMap<String, Value> = HashMap::new();
        for alert in board.active.values() {
            let entry = units
                .entry(rollup_unit(&self.tree, &alert.key.unit))
                .or_insert_with(|| {
                    json!({"active": 0, "unacknowledged": 0, "info": 0, "warning": 0, "critical": 0})
                });
            let bump = |entry: &mut Value, field: &str| {
                if let Some(n) = entry.get_mut(field) {
                    *n = json!(n.as_i64().unwrap_or(0) + 1);
                }
            };
            bump(entry, "active");
            if alert.acknowledged.is_none() {
                bump(entry, "unacknowledged");
            }
            bump(entry, &alert.severity);
        }
        let mut rows: Vec<(String, Value)> = units.into_iter().collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        Value::Object(
            rows.into_iter()
                .map(|(code, mut counts)| {
                    let name = UnitCode::parse(&code)
                        .ok()
                        .and_then(|c| self.tree.get(&c))
                        .map(|u| u.name.clone());
                    counts["name"] = json!(name);
                    (code, counts)
                })
                .collect(),
        )
    }

    /// The `alerts` topic: rollups, the most urgent active alerts (newest
    /// first within a severity) and the latest events, keyed by id and seq
    /// so that a delta carries only what changed.
    pub fn topic(&self, now: DateTime<Utc>) -> Value {
        let board = self.board();
        let mut urgent: Vec<&Alert> = board.active.values().collect();
        urgent.sort_by(|a, b| {
            let rank = |x: &Alert| Severity::parse(&x.severity);
            rank(b).cmp(&rank(a)).then(b.id.cmp(&a.id))
        });
        let items: serde_json::Map<String, Value> = urgent
            .into_iter()
            .take(self.config.topic_items)
            .map(|a| (a.id.to_string(), self.view(a, now)))
            .collect();
        let events: serde_json::Map<String, Value> = board
            .recent
            .iter()
            .map(|(e, key)| {
                let mut view = event_view(e);
                if let Some(key) = key {
                    view["rule"] = json!(key.rule);
                    view["unit"] = unit_view(&self.tree, &key.unit);
                    view["source"] = json!((!key.source.is_empty()).then_some(&key.source));
                    view["dossier"] = json!((!key.dossier.is_empty()).then_some(&key.dossier));
                }
                (e.seq.to_string(), view)
            })
            .collect();
        let unacknowledged = board
            .active
            .values()
            .filter(|a| a.acknowledged.is_none())
            .count();
        let total = board.active.len();
        drop(board);
        json!({
            "active": total,
            "unacknowledged": unacknowledged,
            "rollup": self.rollup(),
            "items": items,
            "events": events,
        })
    }

    /// An alert as the API shows it.
    pub fn view(&self, alert: &Alert, now: DateTime<Utc>) -> Value {
        alert_view(&self.tree, self.timeliness, alert, now)
    }

    /// Sends the events of rules that have a webhook.
    pub fn notify(&self, events: &[Event]) {
        let board = self.board();
        for event in events {
            let Some(alert) = board.active.get(&event.alert_id) else {
                // Cleared since: the store has it, ask it in the background.
                self.notify_from_store(event.clone());
                continue;
            };
            if let Some(url) = self.config.rules.webhook(&alert.key.rule) {
                let body = json!({"event": event_view(event), "alert": self.view(alert, event.at)});
                self.webhooks.deliver(url.to_owned(), event.seq, body);
            }
        }
    }

    fn notify_from_store(&self, event: Event) {
        let store = self.store.clone();
        let rules = self.config.rules.clone();
        let webhooks = self.webhooks.clone();
        let tree = self.tree.clone();
        let timeliness = self.timeliness;
        actix_web::rt::spawn(async move {
            let id = event.alert_id;
            let found = store
                .run(move |conn| ioc_store::alerts::by_ids(conn, &[id]))
                .await;
            let Some(alert) = found.ok().and_then(|mut found| found.pop()) else {
                return;
            };
            if let Some(url) = rules.webhook(&alert.key.rule) {
                let alert = alert_view(&tree, timeliness, &alert, event.at);
                let body = json!({"event": event_view(&event), "alert": alert});
                webhooks.deliver(url.to_owned(), event.seq, body);
            }
        });
    }
}

/// The unit under the top of the tree that `unit` belongs to (its district
/// or department), where alerts are rolled up.
fn rollup_unit(tree: &UnitTree, unit: &str) -> String {
    let Ok(mut code) = UnitCode::parse(unit) else {
        return unit.to_owned();
    };
    while let Some(parent) = tree.get(&code).and_then(|u| u.parent.clone()) {
        if tree.get(&parent).is_some_and(|p| p.parent.is_none()) {
            break;
        }
        code = parent;
    }
    code.as_str().to_owned()
}

/// A unit as alerts show it: code, name, level, and the unit its alerts
/// roll up to.
fn unit_view(tree: &UnitTree, code: &str) -> Value {
    let unit = UnitCode::parse(code).ok().and_then(|c| tree.get(&c));
    json!({
        "code": code,
        "name": unit.map(|u| u.name.clone()),
        "level": unit.map(|u| u.level.clone()),
        "rollup": rollup_unit(tree, code),
    })
}

/// An alert as the API shows it.
pub fn alert_view(
    tree: &UnitTree,
    timeliness: TimelinessRules,
    alert: &Alert,
    now: DateTime<Utc>,
) -> Value {
    let details: Value = serde_json::from_str(&alert.details).unwrap_or(Value::Null);
    let mut view = json!({
        "id": alert.id,
        "rule": alert.key.rule,
        "severity": alert.severity,
        "state": if alert.active { "active" } else { "cleared" },
        "acknowledged": alert.acknowledged.is_some(),
        "unit": unit_view(tree, &alert.key.unit),
        "source": (!alert.key.source.is_empty()).then_some(&alert.key.source),
        "dossier": (!alert.key.dossier.is_empty()).then_some(&alert.key.dossier),
        "details": details,
        "raised_at": alert.raised_at,
        "updated_at": alert.updated_at,
        "cleared_at": alert.cleared_at,
        "acknowledged_by": alert.acknowledged.as_ref().map(|a| &a.by),
        "acknowledged_at": alert.acknowledged.as_ref().map(|a| a.at),
        "ack_note": alert.acknowledged.as_ref().and_then(|a| a.note.as_ref()),
    });
    if alert.key.rule == DOSSIER_OVERDUE
        && let Some(due) = details
            .get("due_at")
            .and_then(|d| serde_json::from_value::<DateTime<Utc>>(d.clone()).ok())
    {
        let at = alert.cleared_at.unwrap_or(now);
        view["days_overdue"] = json!(alerts::days_overdue(timeliness, due, at));
    }
    view
}

/// An event as the API shows it.
pub fn event_view(event: &Event) -> Value {
    json!({
        "seq": event.seq,
        "alert_id": event.alert_id,
        "kind": event.kind,
        "at": event.at,
        "by": event.actor,
        "severity": event.severity,
        "note": event.note,
    })
}

fn stored(want: Want) -> Wanted {
    match want {
        Want::Active { severity, details } => Wanted::Active {
            severity: severity.as_str().to_owned(),
            details: details.to_string(),
        },
        Want::Cleared => Wanted::Cleared,
    }
}

/// Whether `want` differs from what the board has for `key`.
fn differs(board: &Board, key: &AlertKey, want: &Wanted) -> bool {
    match (board.get(key), want) {
        (None, Wanted::Cleared) => false,
        (Some(a), Wanted::Active { severity, details }) => {
            a.severity != *severity || a.details != *details
        }
        _ => true,
    }
}

/// The part of the service that evaluates rules and writes transitions.
struct Sweeper {
    follower: Follower,
    index: DueIndex,
    last_seen: HashMap<String, DateTime<Utc>>,
    unsaved_activity: HashMap<String, DateTime<Utc>>,
    /// When the activity of sources was last written; `None`: write at
    /// the next sweep (a source newly watched, or the service stopping).
    activity_saved: Option<Instant>,
    evaluated: Option<(Instant, u64)>,
    first: bool,
    aggregates: Arc<Aggregates>,
}

impl Sweeper {
    async fn start(
        store: &Store,
        alerting: &Alerting,
        aggregates: Arc<Aggregates>,
    ) -> Result<Sweeper, StoreError> {
        let now = aggregates.now();
        let mut index = DueIndex::new(alerting.timeliness, &alerting.config.rules);
        let position = if index.is_enabled() {
            let mut open = Vec::new();
            let position = store
                .run(move |conn| {
                    snapshot::read_open_with_due(conn, |state| open.push(state)).map(|p| (p, open))
                })
                .await?;
            for state in &position.1 {
                index.apply(state, now);
            }
            position.0
        } else {
            store
                .run(|conn| {
                    let max_seq = changes::last_seq(conn)?;
                    Ok(snapshot::LogPosition {
                        max_seq,
                        recent: Vec::new(),
                    })
                })
                .await?
        };
        let last_seen = store
            .run(ioc_store::alerts::source_activity)
            .await?
            .into_iter()
            .collect();
        tracing::info!(
            message = "Alerting ready.",
            open_dossiers = index.len(),
            active_alerts = alerting.board().active.len()
        );
        Ok(Sweeper {
            follower: Follower::new(position.max_seq, &position.recent, GAP_PATIENCE),
            index,
            last_seen,
            unsaved_activity: HashMap::new(),
            activity_saved: Some(Instant::now()),
            evaluated: None,
            first: true,
            aggregates,
        })
    }

    async fn run(mut self, alerting: Weak<Alerting>) {
        let mut versions = self.aggregates.versions();
        loop {
            let _ = tokio::time::timeout(TICK, versions.changed()).await;
            let Some(alerting) = alerting.upgrade() else {
                return;
            };
            if alerting.stopped.load(Ordering::Acquire) {
                self.activity_saved = None;
                if let Err(e) = self.save_activity(&alerting).await {
                    tracing::warn!(message = "Cannot save the activity of sources.", error = %e);
                }
                return;
            }
            let started = Instant::now();
            match self.tick(&alerting).await {
                Ok(()) => {
                    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                    alerting.sweep_micros.fetch_add(micros, Ordering::Relaxed);
                    alerting.sweeps.fetch_add(1, Ordering::AcqRel);
                }
                Err(e) => tracing::warn!(message = "Alert sweep failed; retrying.", error = %e),
            }
        }
    }

    /// One sweep: catch up with events and changes, then write what the
    /// rules want that differs from the board.
    async fn tick(&mut self, alerting: &Alerting) -> Result<(), StoreError> {
        alerting.refresh().await?;
        let touched = self.read_changes(alerting).await?;
        let now = self.aggregates.now();
        let mut wanted = Vec::new();
        {
            let board = alerting.board();
            let mut dossiers: HashSet<DossierId> = touched;
            dossiers.extend(self.index.take_due(now));
            if self.first {
                // At start, every dossier is looked at once, and alerts of
                // rules no longer configured are cleared.
                dossiers.extend(self.index.ids().cloned());
                dossiers.extend(board.by_dossier.keys().map(|(_, source, code)| DossierId {
                    source: source.clone(),
                    code: code.clone(),
                }));
                let configured = alerting.config.rules.ids();
                wanted.extend(
                    board
                        .by_key
                        .keys()
                        .filter(|key| !configured.contains(&key.rule.as_str()))
                        .map(|key| (key.clone(), Wanted::Cleared)),
                );
            }
            for id in &dossiers {
                self.dossier_wants(&board, id, now, &mut wanted);
            }
            self.threshold_wants(alerting, &board, now, &mut wanted);
            drop(board);
        }
        self.silent_wants(alerting, now, &mut wanted).await?;
        self.first = false;
        if !wanted.is_empty() {
            // SQLite has one writer: short transactions with a pause between
            // them, so that ingest keeps its turn during a large sweep.
            let sqlite = alerting.store.backend() == ioc_store::Backend::Sqlite;
            let size = if sqlite {
                SQLITE_WRITE_CHUNK
            } else {
                WRITE_CHUNK
            };
            for chunk in wanted.chunks(size) {
                let chunk = chunk.to_vec();
                alerting
                    .store
                    .run(move |conn| ioc_store::alerts::reconcile(conn, &chunk, now))
                    .await?;
                if sqlite && wanted.len() > size {
                    tokio::time::sleep(SQLITE_PAUSE).await;
                }
            }
            let events = alerting.refresh().await?;
            alerting.notify(&events);
        }
        self.save_activity(alerting).await
    }

    /// Applies new changes of the log to the due index and the activity
    /// of sources; returns the dossiers touched.
    async fn read_changes(
        &mut self,
        alerting: &Alerting,
    ) -> Result<HashSet<DossierId>, StoreError> {
        let mut touched = HashSet::new();
        loop {
            let (position, newest) = (self.follower.position(), self.follower.newest());
            let found = alerting
                .store
                .run(move |conn| {
                    let mut found = changes::after(conn, position, PAGE)?;
                    if newest > position {
                        found.extend(changes::after(conn, newest, PAGE)?);
                    }
                    Ok(found)
                })
                .await?;
            let complete = found.len() < PAGE as usize;
            let now = self.aggregates.now();
            let (index, last_seen, unsaved, saved) = (
                &mut self.index,
                &mut self.last_seen,
                &mut self.unsaved_activity,
                &mut self.activity_saved,
            );
            self.follower
                .absorb(found.into_iter().map(|c| (c.seq, c)), Instant::now(), |c| {
                    index.apply(&c.new, now);
                    touched.insert(DossierId {
                        source: c.new.source.clone(),
                        code: c.new.dossier.code.clone(),
                    });
                    // Seen when the sweep reads it, on the service's clock;
                    // a source seen for the first time is written at once.
                    if last_seen.insert(c.new.source.clone(), now).is_none() {
                        *saved = None;
                    }
                    unsaved.insert(c.new.source.clone(), now);
                });
            if complete {
                return Ok(touched);
            }
        }
    }

    fn dossier_wants(
        &self,
        board: &Board,
        id: &DossierId,
        now: DateTime<Utc>,
        wanted: &mut Vec<(AlertKey, Wanted)>,
    ) {
        for (rule, want) in self.index.wants(id, now) {
            let current = board
                .by_dossier
                .get(&(rule.to_owned(), id.source.clone(), id.code.clone()))
                .and_then(|alert| board.active.get(alert));
            let key_in = |unit: &str| AlertKey {
                rule: rule.to_owned(),
                unit: unit.to_owned(),
                source: id.source.clone(),
                dossier: id.code.clone(),
            };
            match (current, want) {
                (Some(alert), Some((unit, want))) => {
                    if alert.key.unit != unit {
                        wanted.push((alert.key.clone(), Wanted::Cleared));
                    }
                    let (key, want) = (key_in(&unit), stored(want));
                    if alert.key.unit != unit || differs(board, &key, &want) {
                        wanted.push((key, want));
                    }
                }
                (Some(alert), None) => wanted.push((alert.key.clone(), Wanted::Cleared)),
                (None, Some((unit, want))) => wanted.push((key_in(&unit), stored(want))),
                (None, None) => {}
            }
        }
    }

    /// Threshold rules, on a new snapshot of the aggregates or every
    /// `evaluate_every`.
    fn threshold_wants(
        &mut self,
        alerting: &Alerting,
        board: &Board,
        now: DateTime<Utc>,
        wanted: &mut Vec<(AlertKey, Wanted)>,
    ) {
        let version = self.aggregates.version();
        let due = match self.evaluated {
            None => true,
            Some((at, seen)) => seen != version || at.elapsed() >= alerting.config.evaluate_every,
        };
        if !due || alerting.config.rules.thresholds.is_empty() {
            return;
        }
        self.evaluated = Some((Instant::now(), version));
        let engine = self.aggregates.snapshot();
        for rule in &alerting.config.rules.thresholds {
            let key = |unit: &str| AlertKey {
                rule: rule.id.clone(),
                unit: unit.to_owned(),
                source: String::new(),
                dossier: String::new(),
            };
            let wants = alerts::evaluate_threshold(
                rule,
                &engine,
                &self.aggregates.campaigns,
                now,
                |unit| board.get(&key(unit)).is_some(),
            );
            for (unit, want) in wants {
                let (key, want) = (key(&unit), stored(want));
                if differs(board, &key, &want) {
                    wanted.push((key, want));
                }
            }
        }
    }

    /// The silent-source rule, every sweep (it depends on the clock alone).
    async fn silent_wants(
        &mut self,
        alerting: &Alerting,
        now: DateTime<Utc>,
        wanted: &mut Vec<(AlertKey, Wanted)>,
    ) -> Result<(), StoreError> {
        let Some(rule) = &alerting.config.rules.source_silent else {
            return Ok(());
        };
        let Some(root) = alerting
            .tree
            .top_down()
            .first()
            .map(|u| u.code.as_str().to_owned())
        else {
            return Ok(());
        };
        let sources = if rule.sources.is_empty() {
            alerting.store.run(tokens::ingest_sources).await?
        } else {
            rule.sources.clone()
        };
        let board = alerting.board();
        for source in sources {
            // A source never heard from is silent from when it was first watched.
            let last_seen = *self.last_seen.entry(source.clone()).or_insert_with(|| {
                self.unsaved_activity.insert(source.clone(), now);
                self.activity_saved = None;
                now
            });
            let key = AlertKey {
                rule: SOURCE_SILENT.to_owned(),
                unit: root.clone(),
                source,
                dossier: String::new(),
            };
            let want = stored(rule.judge(alerting.timeliness.calendar, last_seen, now));
            if differs(&board, &key, &want) {
                wanted.push((key, want));
            }
        }
        Ok(())
    }

    async fn save_activity(&mut self, alerting: &Alerting) -> Result<(), StoreError> {
        let recent = self
            .activity_saved
            .is_some_and(|at| at.elapsed() < ACTIVITY_EVERY);
        if self.unsaved_activity.is_empty() || recent {
            return Ok(());
        }
        let seen: Vec<(String, DateTime<Utc>)> = self.unsaved_activity.drain().collect();
        self.activity_saved = Some(Instant::now());
        alerting
            .store
            .run(move |conn| ioc_store::alerts::record_source_activity(conn, &seen))
            .await
    }
}
