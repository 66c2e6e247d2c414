//! The sweeper: evaluates the rules on every tick (the clock, new changes,
//! new snapshots of the aggregates) and writes what differs from the board.
//! Its stage of the pipeline keeps the due index and the activity of
//! sources from the change feed's batches, apart from the sweeps, so that a
//! long sweep never holds the feed back.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ioc_aggregate::alerts::{self, DossierId, DueIndex, SOURCE_SILENT};
use ioc_store::alerts::{AlertKey, Wanted};
use ioc_store::feed::Batch;
use ioc_store::{Store, StoreError, changes, snapshot, tokens};

use super::Alerting;
use super::board::Board;
use crate::aggregates::Aggregates;
use crate::pipeline::Batches;

/// How often the sweeper looks at the clock and the logs.
const TICK: Duration = Duration::from_millis(500);
/// Transitions written per transaction.
const WRITE_CHUNK: usize = 1_000;
/// Transitions written per transaction on SQLite...
const SQLITE_WRITE_CHUNK: usize = 100;
/// ...and the pause after each, so that other writers get the lock.
const SQLITE_PAUSE: Duration = Duration::from_millis(50);
/// Thresholds are evaluated on a new snapshot of the aggregates, but not
/// more often than this (snapshots follow each other quickly under ingest).
const THRESHOLDS_AT_MOST_EVERY: Duration = Duration::from_secs(1);
/// How often, at most, the last activity of sources is written.
const ACTIVITY_EVERY: Duration = Duration::from_secs(60);

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

/// What the alert stage keeps from the change feed.
struct Watched {
    index: DueIndex,
    /// Dossiers changed since the last sweep.
    touched: HashSet<DossierId>,
    last_seen: HashMap<String, DateTime<Utc>>,
    unsaved_activity: HashMap<String, DateTime<Utc>>,
    /// When the activity of sources was last written; `None`: write at
    /// the next sweep (a source newly watched, or the service stopping).
    activity_saved: Option<Instant>,
    /// The newest change of the log the index was loaded from; the feed
    /// may start below it, and sweeps wait until it has passed it.
    loaded_up_to: i64,
    /// The newest change received from the feed.
    received_up_to: i64,
}

impl Watched {
    /// Applies a batch of the feed: the due index, the dossiers touched,
    /// and the activity of sources.
    fn absorb(&mut self, batch: &Batch, now: DateTime<Utc>) {
        for c in &batch.changes {
            self.index.apply(&c.new, now);
            let source = c.new.source.as_str();
            self.touched.insert(DossierId {
                source: source.to_owned(),
                code: c.new.dossier.code.as_str().to_owned(),
            });
            // Seen when the stage receives it, on the service's clock; a
            // source seen for the first time is written at once.
            if self.last_seen.insert(source.to_owned(), now).is_none() {
                self.activity_saved = None;
            }
            self.unsaved_activity.insert(source.to_owned(), now);
            self.received_up_to = self.received_up_to.max(c.seq);
        }
    }

    /// Whether the feed has brought the index past what it was loaded
    /// from (changes read twice converge to the latest state).
    fn caught_up(&self) -> bool {
        self.received_up_to >= self.loaded_up_to
    }
}

/// The part of the service that evaluates rules and writes transitions.
pub(super) struct Sweeper {
    watched: Arc<Mutex<Watched>>,
    evaluated: Option<(Instant, u64)>,
    first: bool,
    aggregates: Arc<Aggregates>,
}

impl Sweeper {
    /// Loads the due index and starts the stage that keeps it from
    /// `batches` (the feed has handed out every change up to `feed_newest`).
    pub(super) async fn start(
        store: &Store,
        alerting: &Alerting,
        aggregates: Arc<Aggregates>,
        batches: Batches,
        feed_newest: i64,
    ) -> Result<Sweeper, StoreError> {
        let now = aggregates.now();
        let mut index = DueIndex::new(alerting.timeliness, &alerting.config.rules);
        // The newest change the index reflects, to wait for on the feed.
        let loaded_up_to = if index.is_enabled() {
            let mut open = Vec::new();
            let (position, open) = store
                .run(move |conn| {
                    snapshot::read_open_with_due(conn, |state| open.push(state)).map(|p| (p, open))
                })
                .await?;
            for state in &open {
                index.apply(state, now);
            }
            position.max_seq
        } else {
            store.run(changes::last_seq).await?
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
        let watched = Arc::new(Mutex::new(Watched {
            index,
            touched: HashSet::new(),
            last_seen,
            unsaved_activity: HashMap::new(),
            activity_saved: Some(Instant::now()),
            loaded_up_to,
            received_up_to: feed_newest,
        }));
        actix_web::rt::spawn(absorb(batches, watched.clone(), aggregates.clone()));
        Ok(Sweeper {
            watched,
            evaluated: None,
            first: true,
            aggregates,
        })
    }

    fn watched(&self) -> MutexGuard<'_, Watched> {
        self.watched.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) async fn run(mut self, alerting: Weak<Alerting>) {
        let mut versions = self.aggregates.versions();
        loop {
            let _ = tokio::time::timeout(TICK, versions.changed()).await;
            let Some(alerting) = alerting.upgrade() else {
                return;
            };
            if alerting.stopped.load(Ordering::Acquire) {
                self.watched().activity_saved = None;
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
        if !self.watched().caught_up() {
            return Ok(());
        }
        let now = self.aggregates.now();
        let mut wanted = Vec::new();
        {
            let board = alerting.board();
            let shared = self.watched.clone();
            let watched = &mut *shared.lock().unwrap_or_else(PoisonError::into_inner);
            let mut dossiers: HashSet<DossierId> = std::mem::take(&mut watched.touched);
            dossiers.extend(watched.index.take_due(now));
            if self.first {
                // At start, every dossier is looked at once, and alerts of
                // rules no longer configured are cleared.
                dossiers.extend(watched.index.ids().cloned());
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
                dossier_wants(&watched.index, &board, id, now, &mut wanted);
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
            let mut written = Vec::new();
            for chunk in wanted.chunks(size) {
                let chunk = chunk.to_vec();
                written.extend(
                    alerting
                        .store
                        .run(move |conn| ioc_store::alerts::reconcile(conn, &chunk, now))
                        .await?,
                );
                if sqlite && wanted.len() > size {
                    tokio::time::sleep(SQLITE_PAUSE).await;
                }
            }
            alerting.refresh().await?;
            alerting.notify();
        }
        self.save_activity(alerting).await
    }

    /// Threshold rules, on a new snapshot of the aggregates (at most once a
    /// second) or every `evaluate_every`.
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
            Some((at, seen)) => {
                let elapsed = at.elapsed();
                (seen != version && elapsed >= THRESHOLDS_AT_MOST_EVERY)
                    || elapsed >= alerting.config.evaluate_every
            }
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
                let (key, want) = (key(&unit), want);
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
        // Read every sweep (one query on a small table), so that a source
        // is watched from the sweep after its token is created.
        let sources = if rule.sources.is_empty() {
            alerting.store.run(tokens::ingest_sources).await?
        } else {
            rule.sources.clone()
        };
        let board = alerting.board();
        let watched = &mut *self.watched.lock().unwrap_or_else(PoisonError::into_inner);
        for source in sources {
            // A source never heard from is silent from when it was first watched.
            let last_seen = *watched.last_seen.entry(source.clone()).or_insert_with(|| {
                watched.unsaved_activity.insert(source.clone(), now);
                watched.activity_saved = None;
                now
            });
            let key = AlertKey {
                rule: SOURCE_SILENT.to_owned(),
                unit: root.clone(),
                source,
                dossier: String::new(),
            };
            let want = rule.judge(alerting.timeliness.calendar, last_seen, now);
            if differs(&board, &key, &want) {
                wanted.push((key, want));
            }
        }
        Ok(())
    }

    async fn save_activity(&mut self, alerting: &Alerting) -> Result<(), StoreError> {
        let seen: Vec<(String, DateTime<Utc>)> = {
            let mut watched = self.watched();
            let recent = watched
                .activity_saved
                .is_some_and(|at| at.elapsed() < ACTIVITY_EVERY);
            if watched.unsaved_activity.is_empty() || recent {
                return Ok(());
            }
            watched.activity_saved = Some(Instant::now());
            watched.unsaved_activity.drain().collect()
        };
        alerting
            .store
            .run(move |conn| ioc_store::alerts::record_source_activity(conn, &seen))
            .await
    }
}

/// What the due rules want for dossier `id` that differs from the board.
fn dossier_wants(
    index: &DueIndex,
    board: &Board,
    id: &DossierId,
    now: DateTime<Utc>,
    wanted: &mut Vec<(AlertKey, Wanted)>,
) {
    for (rule, want) in index.wants(id, now) {
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
                let (key, want) = (key_in(&unit), want);
                if alert.key.unit != unit || differs(board, &key, &want) {
                    wanted.push((key, want));
                }
            }
            (Some(alert), None) => wanted.push((alert.key.clone(), Wanted::Cleared)),
            (None, Some((unit, want))) => wanted.push((key_in(&unit), want)),
            (None, None) => {}
        }
    }
}

/// The alert stage of the pipeline: applies each batch of the feed to what
/// the sweeper watches, until the feed or the sweeper stops.
async fn absorb(mut batches: Batches, watched: Arc<Mutex<Watched>>, aggregates: Arc<Aggregates>) {
    while let Some(batch) = batches.recv().await {
        if Arc::strong_count(&watched) == 1 {
            return;
        }
        let now = aggregates.now();
        watched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .absorb(&batch, now);
    }
}
