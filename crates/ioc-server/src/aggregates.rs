//! The live aggregates of a running server: rebuilt from the store at
//! start (or restored from a checkpoint), then kept current by the engine
//! stage of the pipeline, which applies the batches of the change feed (so
//! that changes written by `ioc import` or by another node count too).
//! Readers take an immutable snapshot and never wait for the writer.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use anyhow::Context;
use chrono::{DateTime, Utc};
use ioc_aggregate::Engine;
use ioc_aggregate::campaign::Campaign;
use ioc_aggregate::score::ScoreModel;
use ioc_core::{Clock, TimelinessRules, UnitTree};
use ioc_store::feed::{ChangeFeed, FollowerState, Start, Waker};
use ioc_store::{Store, changes, checkpoints, reference, snapshot};
use tokio::sync::watch;

use crate::cache::ResponseCache;
use crate::pipeline::Batches;

/// How often, at most, a checkpoint of the aggregates is written.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(300);

/// The read side's state and configuration.
pub struct Aggregates {
    current: RwLock<Arc<Engine>>,
    version: AtomicU64,
    published: watch::Sender<u64>,
    views_changed: watch::Sender<u64>,
    cache: ResponseCache,
    waker: Waker,
    /// Configured campaigns.
    pub campaigns: Vec<Campaign>,
    /// The partial 766 scoring model.
    pub score: ScoreModel,
    /// Rankings: least denominator of a ranked unit.
    pub min_volume: i64,
    /// How long the start took, and whether a checkpoint was used.
    pub started_in: (Duration, bool),
    /// The position in the change log of the last batch applied, for metrics.
    log_position: AtomicI64,
    /// Milliseconds from the recording of the newest change applied to
    /// its publication, at the last publication that applied changes.
    apply_lag_ms: AtomicU64,
    clock: Arc<dyn Clock>,
}

impl Aggregates {
    /// The latest snapshot.
    pub fn snapshot(&self) -> Arc<Engine> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Asks the change feed to read the log now (after a local commit).
    pub fn wake(&self) {
        self.waker.wake();
    }

    /// The current time of the injected clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The campaign with `id`.
    pub fn campaign(&self, id: &str) -> Option<&Campaign> {
        self.campaigns.iter().find(|c| c.id == id)
    }

    /// How many snapshots have been published: changes applied, or due
    /// times passed (the time-driven sweep).
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// The position in the change log of the last batch applied (every
    /// change at or below it is counted).
    pub fn log_position(&self) -> i64 {
        self.log_position.load(Ordering::Relaxed)
    }

    /// Time from the recording of the newest change applied to its
    /// publication, at the last publication that applied changes.
    pub fn apply_lag(&self) -> Duration {
        Duration::from_millis(self.apply_lag_ms.load(Ordering::Relaxed))
    }

    /// Receives the version each time a snapshot is published.
    pub fn versions(&self) -> watch::Receiver<u64> {
        self.published.subscribe()
    }

    fn publish(&self, engine: &Engine) {
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(engine.clone());
        let version = self.version.fetch_add(1, Ordering::AcqRel) + 1;
        self.published.send_replace(version);
        self.views_changed.send_modify(|v| *v += 1);
    }

    /// The response body for `key`, made by `make` unless this snapshot
    /// and local day already made it (see [`ResponseCache`]).
    pub fn cached<E>(
        &self,
        key: &str,
        make: impl FnOnce() -> Result<Bytes, E>,
    ) -> Result<Bytes, E> {
        let day = self.snapshot().rules().calendar.date_of(self.now());
        self.cache.get_or_make(self.version(), day, key, make)
    }
}

/// What the aggregates are built from, besides the store.
pub struct AggregateConfig {
    /// Unit tree.
    pub tree: Arc<UnitTree>,
    /// Calendar and timeliness.
    pub rules: TimelinessRules,
    /// Campaigns.
    pub campaigns: Vec<Campaign>,
    /// Scoring model.
    pub score: ScoreModel,
    /// Ranking minimum volume.
    pub min_volume: i64,
    /// Clock.
    pub clock: Arc<dyn Clock>,
    /// Bumped with every snapshot published (the views changed).
    pub views_changed: watch::Sender<u64>,
}

/// The engine stage of the pipeline, until it runs: the engine as started
/// and what it needs to follow the feed.
pub struct EngineStage {
    store: Store,
    engine: Engine,
    fingerprint: String,
    checked_until: DateTime<Utc>,
    poll: Duration,
    aggregates: Weak<Aggregates>,
}

/// Restores the aggregates from the latest checkpoint made under the same
/// counting rules (then replays the log after it), or rebuilds them from
/// every dossier and writes a checkpoint. Returns them with the change feed
/// positioned after what they count, and the stage that keeps them current.
pub async fn start(
    store: &Store,
    config: AggregateConfig,
) -> anyhow::Result<(Arc<Aggregates>, ChangeFeed, EngineStage)> {
    let started = Instant::now();
    let catalog = store
        .run(reference::catalog)
        .await
        .context("cannot read the catalog")?;
    let engine = Engine::new(config.tree, &catalog, config.rules)?;
    let fingerprint = engine.fingerprint();
    let (engine, feed, restored) = match restore(store, engine.clone(), &fingerprint).await? {
        Some((engine, state)) => {
            let feed = ChangeFeed::open(store, Start::Checkpoint(state))
                .context("cannot listen for changes")?;
            let (engine, feed) = catch_up(engine, feed).await?;
            (engine, feed, true)
        }
        None => {
            let (engine, position) = rebuild(store, engine).await?;
            let feed = ChangeFeed::open(store, Start::Snapshot(position))
                .context("cannot listen for changes")?;
            (engine, feed, false)
        }
    };
    tracing::info!(
        message = "Aggregates ready.",
        from_checkpoint = restored,
        log_position = feed.position(),
        millis = started.elapsed().as_millis()
    );
    let aggregates = Arc::new(Aggregates {
        current: RwLock::new(Arc::new(engine.clone())),
        version: AtomicU64::new(0),
        published: watch::Sender::new(0),
        views_changed: config.views_changed,
        cache: ResponseCache::default(),
        waker: feed.waker(),
        campaigns: config.campaigns,
        score: config.score,
        min_volume: config.min_volume,
        started_in: (started.elapsed(), restored),
        log_position: AtomicI64::new(feed.position()),
        apply_lag_ms: AtomicU64::new(0),
        clock: config.clock,
    });
    if !restored {
        save_checkpoint(
            store.clone(),
            fingerprint.clone(),
            engine.clone(),
            feed.state(),
        );
    }
    let stage = EngineStage {
        store: store.clone(),
        engine,
        fingerprint,
        checked_until: aggregates.now(),
        poll: feed.poll(),
        aggregates: Arc::downgrade(&aggregates),
    };
    Ok((aggregates, feed, stage))
}

/// The checkpoint made under `fingerprint`, unless the log no longer
/// reaches it (a database restored from an older backup).
async fn restore(
    store: &Store,
    mut engine: Engine,
    fingerprint: &str,
) -> anyhow::Result<Option<(Engine, FollowerState)>> {
    let key = fingerprint.to_owned();
    let found = store
        .run(move |conn| Ok((checkpoints::load(conn, &key)?, changes::last_seq(conn)?)))
        .await
        .context("cannot read the aggregate checkpoint")?;
    let (Some(checkpoint), log_end) = found else {
        return Ok(None);
    };
    let state: FollowerState = match serde_json::from_str(&checkpoint.follower) {
        Ok(state) => state,
        Err(e) => {
            tracing::warn!(message = "Unreadable aggregate checkpoint; rebuilding.", error = %e);
            return Ok(None);
        }
    };
    if state.position > log_end {
        tracing::warn!(
            message = "The change log ends before the aggregate checkpoint; rebuilding.",
            log_end,
            checkpoint = state.position
        );
        return Ok(None);
    }
    if let Err(e) = engine.import_state(&checkpoint.state) {
        tracing::warn!(message = "Unreadable aggregate checkpoint; rebuilding.", error = %e);
        return Ok(None);
    }
    Ok(Some((engine, state)))
}

/// Replays the log after a restored checkpoint until nothing is left, so
/// that the server answers from current numbers as soon as it listens.
async fn catch_up(
    mut engine: Engine,
    mut feed: ChangeFeed,
) -> anyhow::Result<(Engine, ChangeFeed)> {
    loop {
        let batch = feed.read().await.context("cannot replay the change log")?;
        for c in &batch.changes {
            engine.apply(c.old.as_ref(), &c.new);
        }
        if batch.complete {
            return Ok((engine, feed));
        }
    }
}

/// Counts every dossier in one consistent snapshot.
async fn rebuild(store: &Store, engine: Engine) -> anyhow::Result<(Engine, snapshot::LogPosition)> {
    store
        .run(move |conn| {
            let mut engine = engine;
            let position = snapshot::read_all(conn, |state| engine.add(&state))?;
            Ok((engine, position))
        })
        .await
        .context("cannot rebuild the aggregates")
}

/// Writes a checkpoint in the background.
fn save_checkpoint(store: Store, fingerprint: String, engine: Engine, follower: FollowerState) {
    actix_web::rt::spawn(async move {
        let saved = store
            .run(move |conn| {
                let state = engine
                    .export_state()
                    .map_err(|e| ioc_store::StoreError::Corrupt(e.to_string()))?;
                let follower = serde_json::to_string(&follower)
                    .map_err(|e| ioc_store::StoreError::Corrupt(e.to_string()))?;
                checkpoints::save(conn, &fingerprint, &follower, &state, chrono::Utc::now())
            })
            .await;
        match saved {
            Ok(()) => tracing::info!(message = "Aggregate checkpoint written."),
            Err(e) => {
                tracing::warn!(message = "Cannot write the aggregate checkpoint.", error = %e)
            }
        }
    });
}

impl EngineStage {
    /// Applies the feed's batches until the server stops, publishing a
    /// snapshot after each; publishes also when the clock passes the next
    /// due transition (the time-driven sweep: no event arrives when a
    /// dossier becomes overdue), and writes a checkpoint now and then.
    pub async fn run(mut self, mut batches: Batches) {
        let mut last_checkpoint = Instant::now();
        let mut applied_since_checkpoint = 0;
        loop {
            let mut received = match tokio::time::timeout(self.poll, batches.recv()).await {
                Ok(Some(batch)) => vec![batch],
                Ok(None) => return,
                Err(_quiet) => Vec::new(),
            };
            while let Ok(batch) = batches.try_recv() {
                received.push(batch);
            }
            let mut applied = 0;
            let mut newest_recorded = None;
            for c in received.iter().flat_map(|b| &b.changes) {
                self.engine.apply(c.old.as_ref(), &c.new);
                newest_recorded = newest_recorded.max(Some(c.recorded_at));
                applied += 1;
            }
            let position = received.last().map(|b| &b.state);
            applied_since_checkpoint += applied;
            if let Some(state) = position
                && applied_since_checkpoint > 0
                && last_checkpoint.elapsed() >= CHECKPOINT_EVERY
            {
                save_checkpoint(
                    self.store.clone(),
                    self.fingerprint.clone(),
                    self.engine.clone(),
                    state.clone(),
                );
                last_checkpoint = Instant::now();
                applied_since_checkpoint = 0;
            }
            let Some(live) = self.aggregates.upgrade() else {
                return;
            };
            // A due transition in (checked_until, now] changes pending numbers
            // although no event came: publish a new snapshot for it.
            let now = live.now();
            let swept = self
                .engine
                .next_transition(self.checked_until)
                .is_some_and(|at| at <= now);
            self.checked_until = self.checked_until.max(now);
            if applied > 0 || swept {
                live.publish(&self.engine);
                if let Some(state) = position {
                    live.log_position.store(state.position, Ordering::Relaxed);
                }
                if let Some(recorded) = newest_recorded {
                    let lag = (Utc::now() - recorded).num_milliseconds().max(0);
                    live.apply_lag_ms
                        .store(u64::try_from(lag).unwrap_or_default(), Ordering::Relaxed);
                }
                tracing::debug!(
                    message = "Snapshot published.",
                    applied,
                    swept,
                    position = live.log_position()
                );
            }
        }
    }
}
