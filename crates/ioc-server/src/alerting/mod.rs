//! The alerting service of a node: a sweeper that turns the rules of
//! `config/alerts.toml` into stored alert transitions, and a board, the
//! node's in-memory view of the active alerts, kept by following the
//! `alert_events` log (so that transitions written by another node reach
//! this node's screens and metrics too).

mod board;
mod sweeper;
mod views;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use ioc_aggregate::alerts::AlertRules;
use ioc_core::{TimelinessRules, UnitCode, UnitTree, alert::Severity};
use ioc_store::alerts::{Alert, AlertKey, Event};
use ioc_store::{Store, StoreError};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::aggregates::Aggregates;
use crate::pipeline::Batches;
use crate::webhook::{Delivery, Webhooks};
use board::Board;
use sweeper::Sweeper;
pub use views::{AlertState, AlertUnit, AlertView, EventView, alert_view, event_view};
use views::{AlertsTopic, EventAbout, TopicEvent, rollup_unit};

/// Events read per query.
const PAGE: i64 = 10_000;
/// Events kept for the `alerts` topic.
const RECENT_EVENTS: usize = 50;

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
    /// TLS for `https://` receivers.
    pub webhook_tls: Arc<rustls::ClientConfig>,
    /// Bumped whenever the board changes (the views changed).
    pub views_changed: watch::Sender<u64>,
}
/// Active alerts of one rollup unit (a district or department).
#[derive(Debug, Default, serde::Serialize, utoipa::ToSchema)]
pub struct Rollup {
    /// The unit's name.
    pub name: Option<String>,
    /// Active alerts.
    pub active: i64,
    /// Of those, not acknowledged.
    pub unacknowledged: i64,
    /// Of those, by severity.
    pub info: i64,
    /// Warnings.
    pub warning: i64,
    /// Critical.
    pub critical: i64,
}

/// A node's alerting: its rules, its board and the versions it publishes.
pub struct Alerting {
    store: Store,
    config: AlertingConfig,
    tree: Arc<UnitTree>,
    timeliness: TimelinessRules,
    board: RwLock<Board>,
    webhooks: Webhooks,
    stopped: AtomicBool,
    sweeps: AtomicU64,
    sweep_micros: AtomicU64,
}

impl Alerting {
    /// Loads the board from the store and starts the sweeper, whose stage
    /// of the pipeline receives `feed`'s batches (given with the newest
    /// change the feed has handed out before them).
    pub async fn start(
        store: &Store,
        config: AlertingConfig,
        aggregates: Arc<Aggregates>,
        tree: Arc<UnitTree>,
        timeliness: TimelinessRules,
        feed: (Batches, i64),
    ) -> Result<Arc<Alerting>, StoreError> {
        let (active, recent, about) = store
            .run(|conn| {
                let active = ioc_store::alerts::active(conn)?;
                let recent = ioc_store::alerts::latest_events(conn, RECENT_EVENTS as i64)?;
                let about: HashMap<i64, AlertKey> =
                    ioc_store::alerts::by_ids(conn, &alert_ids(&recent))?
                        .into_iter()
                        .map(|a| (a.id, a.key))
                        .collect();
                Ok((active, recent, about))
            })
            .await?;
        let mut board = Board {
            seq: recent.last().map_or(0, |e| e.seq),
            ..Board::default()
        };
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
        let routes: HashMap<String, String> = config
            .rules
            .ids()
            .into_iter()
            .filter_map(|id| Some((id.to_owned(), config.rules.webhook(id)?.to_owned())))
            .collect();
        let render: crate::webhook::Render = {
            let tree = tree.clone();
            Arc::new(
                move |event, alert| json!({"event": event_view(event), "alert": alert_view(&tree, timeliness, alert, event.at)}),
            )
        };
        let webhooks = Webhooks::start(Delivery {
            store: store.clone(),
            routes,
            attempts: config.webhook_attempts,
            timeout: config.webhook_timeout,
            tls: config.webhook_tls.clone(),
            render,
        });
        let alerting = Arc::new(Alerting {
            store: store.clone(),
            config,
            tree,
            timeliness,
            board: RwLock::new(board),
            webhooks,
            stopped: AtomicBool::new(false),
            sweeps: AtomicU64::new(0),
            sweep_micros: AtomicU64::new(0),
        });
        let sweeper = Sweeper::start(store, &alerting, aggregates, feed.0, feed.1).await?;
        actix_web::rt::spawn(sweeper.run(Arc::downgrade(&alerting)));
        Ok(alerting)
    }

    /// Stops the sweeper (the server has stopped).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        self.webhooks.stop();
    }

    /// Sweeps completed since start, and the time they took in all.
    pub fn sweeps(&self) -> (u64, Duration) {
        (
            self.sweeps.load(Ordering::Acquire),
            Duration::from_micros(self.sweep_micros.load(Ordering::Relaxed)),
        )
    }

    fn board(&self) -> std::sync::RwLockReadGuard<'_, Board> {
        self.board.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the events after the board's position and applies them.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        loop {
            let seq = self.board().seq;
            let (events, alerts) = self
                .store
                .run(move |conn| {
                    let events = ioc_store::alerts::events_after(conn, seq, PAGE)?;
                    let alerts = ioc_store::alerts::by_ids(conn, &alert_ids(&events))?;
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
            self.config.views_changed.send_modify(|v| *v += 1);
            if events.len() < PAGE as usize {
                break;
            }
        }
        Ok(())
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
            let severity = alert.severity;
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
    pub fn rollup(&self) -> BTreeMap<String, Rollup> {
        self.rollup_of(&self.board())
    }

    fn rollup_of(&self, board: &Board) -> BTreeMap<String, Rollup> {
        let mut units: BTreeMap<String, Rollup> = BTreeMap::new();
        for alert in board.active.values() {
            let code = rollup_unit(&self.tree, &alert.key.unit);
            let counts = units.entry(code).or_insert_with_key(|code| Rollup {
                name: UnitCode::parse(code)
                    .ok()
                    .and_then(|c| self.tree.get(&c))
                    .map(|u| u.name.clone()),
                ..Rollup::default()
            });
            counts.active += 1;
            counts.unacknowledged += i64::from(alert.acknowledged.is_none());
            match alert.severity {
                Severity::Info => counts.info += 1,
                Severity::Warning => counts.warning += 1,
                Severity::Critical => counts.critical += 1,
            }
        }
        units
    }

    /// The `alerts` topic: rollups, the most urgent active alerts (newest
    /// first within a severity) and the latest events, keyed by id and seq
    /// so that a delta carries only what changed.
    pub fn topic(&self, now: DateTime<Utc>) -> Value {
        let board = self.board();
        let mut urgent: Vec<&Alert> = board.active.values().collect();
        urgent.sort_by(|a, b| b.severity.cmp(&a.severity).then(b.id.cmp(&a.id)));
        let items = urgent
            .into_iter()
            .take(self.config.topic_items)
            .map(|a| (a.id.to_string(), self.view(a, now)))
            .collect();
        let events = board
            .recent
            .iter()
            .map(|(e, key)| {
                let event = TopicEvent {
                    event: event_view(e),
                    about: key.as_ref().map(|key| EventAbout::of(&self.tree, key)),
                };
                (e.seq.to_string(), event)
            })
            .collect();
        let unacknowledged = board
            .active
            .values()
            .filter(|a| a.acknowledged.is_none())
            .count();
        json!(AlertsTopic {
            active: board.active.len(),
            unacknowledged,
            rollup: self.rollup_of(&board),
            items,
            events,
        })
    }

    /// An alert as the API shows it.
    fn view(&self, alert: &Alert, now: DateTime<Utc>) -> AlertView {
        alert_view(&self.tree, self.timeliness, alert, now)
    }

    /// Transitions were written on this node: the webhook deliveries read
    /// the event log now rather than at their next poll.
    pub fn notify(&self) {
        self.webhooks.wake();
    }
}

/// The alerts `events` are about, each once.
fn alert_ids(events: &[Event]) -> Vec<i64> {
    let mut ids: Vec<i64> = events.iter().map(|e| e.alert_id).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}
