//! The sweeper: evaluates the rules on every tick (the clock, new changes,
//! new snapshots of the aggregates) and writes what differs from the board.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ioc_aggregate::alerts::{self, DossierId, DueIndex, SOURCE_SILENT, Want};
use ioc_aggregate::follow::Follower;
use ioc_store::alerts::{AlertKey, Wanted};
use ioc_store::{Store, StoreError, changes, snapshot, tokens};

use super::Alerting;
use super::board::Board;
use crate::aggregates::{Aggregates, PAGE as LOG_PAGE, read_log};

/// How often the sweeper looks at the clock and the logs.
const TICK: Duration = Duration::from_millis(500);
/// Transitions written per transaction.
const WRITE_CHUNK: usize = 1_000;
/// Transitions written per transaction on SQLite...
const SQLITE_WRITE_CHUNK: usize = 100;
/// ...and the pause after each, so that other writers get the lock.
const SQLITE_PAUSE: Duration = Duration::from_millis(50);
/// How long a gap in the change log is waited for.
const GAP_PATIENCE: Duration = Duration::from_secs(30);
/// Thresholds are evaluated on a new snapshot of the aggregates, but not
/// more often than this (snapshots follow each other quickly under ingest).
const THRESHOLDS_AT_MOST_EVERY: Duration = Duration::from_secs(1);
/// How often, at most, the last activity of sources is written.
const ACTIVITY_EVERY: Duration = Duration::from_secs(60);

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
pub(super) struct Sweeper {
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
    pub(super) async fn start(
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

    pub(super) async fn run(mut self, alerting: Weak<Alerting>) {
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

    /// Applies new changes of the log to the due index and the activity
    /// of sources; returns the dossiers touched.
    async fn read_changes(
        &mut self,
        alerting: &Alerting,
    ) -> Result<HashSet<DossierId>, StoreError> {
        let mut touched = HashSet::new();
        loop {
            let found = read_log(&alerting.store, &self.follower).await?;
            let complete = found.len() < LOG_PAGE as usize;
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
        // Read every sweep (one query on a small table), so that a source
        // is watched from the sweep after its token is created.
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
