//! The live aggregates of a running server: rebuilt from the store at
//! start, then kept current by following the change log (so that changes
//! written by `ioc import` or by another node count too). Readers take an
//! immutable snapshot and never wait for the writer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use anyhow::Context;
use chrono::{DateTime, Utc};
use ioc_aggregate::Engine;
use ioc_aggregate::campaign::Campaign;
use ioc_aggregate::follow::{Follower, FollowerState};
use ioc_aggregate::score::ScoreModel;
use ioc_core::{Clock, TimelinessRules, UnitTree};
use ioc_store::{Store, changes, checkpoints, listen, reference, snapshot};
use tokio::sync::{Notify, watch};

/// How often the change log is read when nothing wakes the follower: on
/// SQLite, where `ioc import` in another process sends no notification...
const POLL: Duration = Duration::from_millis(250);
/// ...and on PostgreSQL, where commits notify (a fallback for a listener
/// whose connection is down).
const POLL_LISTENING: Duration = Duration::from_secs(2);
/// How long a gap in the log is waited for before it counts as rolled back.
const GAP_PATIENCE: Duration = Duration::from_secs(30);
/// Changes read per query.
pub(crate) const PAGE: i64 = 10_000;
/// How often, at most, a checkpoint of the aggregates is written.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(300);

/// The read side's state and configuration.
pub struct Aggregates {
    current: RwLock<Arc<Engine>>,
    version: AtomicU64,
    published: watch::Sender<u64>,
    cache: Mutex<ResponseCache>,
    wake: Arc<Notify>,
    /// Wakes the follower on other nodes' commits; stops when dropped.
    _listener: Option<listen::Listener>,
    /// Configured campaigns.
    pub campaigns: Vec<Campaign>,
    /// The partial 766 scoring model.
    pub score: ScoreModel,
    /// Rankings: least denominator of a ranked unit.
    pub min_volume: i64,
    /// How long the start took, and whether a checkpoint was used.
    pub started_in: (Duration, bool),
    /// The follower's position in the change log, for metrics.
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

    /// Asks the follower to read the log now (after a local commit).
    pub fn wake(&self) {
        self.wake.notify_one();
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

    /// The follower's position in the change log (every change at or below
    /// it is applied).
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
    }

    /// The response body for `key` (the view and the parameters it was
    /// made from, never the raw URL), made by `make` unless this snapshot
    /// and local day already made it. The cache holds at most
    /// `CACHE_ENTRIES` bodies and `CACHE_BYTES` bytes.
    pub fn cached<E>(
        &self,
        key: &str,
        make: impl FnOnce() -> Result<Bytes, E>,
    ) -> Result<Bytes, E> {
        let version = self.version();
        let day = self.snapshot().rules().calendar.date_of(self.now());
        {
            let mut cache = self
                .cache
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if (cache.version, cache.day) != (version, Some(day))
                || cache.entries.len() >= CACHE_ENTRIES
            {
                *cache = ResponseCache {
                    version,
                    day: Some(day),
                    ..ResponseCache::default()
                };
            }
            if let Some(body) = cache.entries.get(key) {
                return Ok(body.clone());
            }
        }
        let body = make()?;
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.version == version && cache.bytes + body.len() <= CACHE_BYTES {
            cache.bytes += body.len();
            cache.entries.insert(key.to_owned(), body.clone());
        }
        Ok(body)
    }
}

/// Most responses kept per snapshot.
const CACHE_ENTRIES: usize = 4_096;
/// Most bytes of responses kept per snapshot.
const CACHE_BYTES: usize = 64 << 20;

/// Responses made from one snapshot on one day; numbers depend on nothing else.
#[derive(Default)]
struct ResponseCache {
    version: u64,
    day: Option<chrono::NaiveDate>,
    entries: HashMap<String, Bytes>,
    /// The size of the bodies in `entries`.
    bytes: usize,
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
}

/// Restores the aggregates from the latest checkpoint made under the same
/// counting rules (then replays the log after it), or rebuilds them from
/// every dossier and writes a checkpoint; then follows the log.
pub async fn start(store: &Store, config: AggregateConfig) -> anyhow::Result<Arc<Aggregates>> {
    let started = Instant::now();
    let catalog = store
        .run(reference::catalog)
        .await
        .context("cannot read the catalog")?;
    let engine = Engine::new(config.tree, &catalog, config.rules)?;
    let fingerprint = engine.fingerprint();
    let (engine, follower, restored) = match restore(store, engine.clone(), &fingerprint).await? {
        Some((engine, follower)) => {
            let (engine, follower) = catch_up(store, engine, follower).await?;
            (engine, follower, true)
        }
        None => {
            let (engine, follower) = rebuild(store, engine).await?;
            (engine, follower, false)
        }
    };
    tracing::info!(
        message = "Aggregates ready.",
        from_checkpoint = restored,
        log_position = follower.position(),
        millis = started.elapsed().as_millis()
    );
    let wake = Arc::new(Notify::new());
    let listener = {
        let wake = wake.clone();
        listen::listen(store.url(), listen::CHANGES, move || wake.notify_one())
            .context("cannot listen for changes")?
    };
    let poll = if listener.is_some() {
        POLL_LISTENING
    } else {
        POLL
    };
    let aggregates = Arc::new(Aggregates {
        current: RwLock::new(Arc::new(engine.clone())),
        version: AtomicU64::new(0),
        published: watch::Sender::new(0),
        cache: Mutex::new(ResponseCache::default()),
        wake,
        _listener: listener,
        campaigns: config.campaigns,
        score: config.score,
        min_volume: config.min_volume,
        started_in: (started.elapsed(), restored),
        log_position: AtomicI64::new(follower.position()),
        apply_lag_ms: AtomicU64::new(0),
        clock: config.clock,
    });
    if !restored {
        save_checkpoint(
            store.clone(),
            fingerprint.clone(),
            engine.clone(),
            follower.state(),
        );
    }
    let checked_until = aggregates.now();
    actix_web::rt::spawn(follow(
        store.clone(),
        engine,
        follower,
        fingerprint,
        checked_until,
        poll,
        Arc::downgrade(&aggregates),
    ));
    Ok(aggregates)
}

/// The checkpoint made under `fingerprint`, unless the log no longer
/// reaches it (a database restored from an older backup).
async fn restore(
    store: &Store,
    mut engine: Engine,
    fingerprint: &str,
) -> anyhow::Result<Option<(Engine, Follower)>> {
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
    Ok(Some((engine, Follower::restore(&state, GAP_PATIENCE))))
}

/// Replays the log after a restored checkpoint until nothing is left, so
/// that the server answers from current numbers as soon as it listens.
async fn catch_up(
    store: &Store,
    mut engine: Engine,
    mut follower: Follower,
) -> anyhow::Result<(Engine, Follower)> {
    loop {
        let found = read_log(store, &follower)
            .await
            .context("cannot replay the change log")?;
        let complete = found.len() < PAGE as usize;
        follower.absorb(found.into_iter().map(|c| (c.seq, c)), Instant::now(), |c| {
            engine.apply(c.old.as_ref(), &c.new);
        });
        if complete {
            return Ok((engine, follower));
        }
    }
}

/// The changes a follower has not seen: after its position (late commits
/// in gaps) and after the newest it applied.
pub(crate) async fn read_log(
    store: &Store,
    follower: &Follower,
) -> Result<Vec<changes::Change>, ioc_store::StoreError> {
    let (position, newest) = (follower.position(), follower.newest());
    store
        .run(move |conn| {
            let mut found = changes::after(conn, position, PAGE)?;
            if newest > position {
                found.extend(changes::after(conn, newest, PAGE)?);
            }
            Ok(found)
        })
        .await
}

/// Counts every dossier in one consistent snapshot.
async fn rebuild(store: &Store, engine: Engine) -> anyhow::Result<(Engine, Follower)> {
    let (engine, position) = store
        .run(move |conn| {
            let mut engine = engine;
            let position = snapshot::read_all(conn, |state| engine.add(&state))?;
            Ok((engine, position))
        })
        .await
        .context("cannot rebuild the aggregates")?;
    Ok((
        engine,
        Follower::new(position.max_seq, &position.recent, GAP_PATIENCE),
    ))
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

/// Reads the log until the server stops, applying and publishing changes;
/// publishes also when the clock passes the next due transition (the
/// time-driven sweep: no event arrives when a dossier becomes overdue), and
/// writes a checkpoint now and then.
async fn follow(
    store: Store,
    mut engine: Engine,
    mut follower: Follower,
    fingerprint: String,
    mut checked_until: DateTime<Utc>,
    poll: Duration,
    aggregates: Weak<Aggregates>,
) {
    let mut last_checkpoint = Instant::now();
    let mut applied_since_checkpoint = 0;
    loop {
        {
            let Some(live) = aggregates.upgrade() else {
                return;
            };
            let wake = live.wake.clone();
            drop(live);
            let _ = tokio::time::timeout(poll, wake.notified()).await;
        }
        let found = match read_log(&store, &follower).await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(message = "Cannot read the change log; retrying.", error = %e);
                continue;
            }
        };
        let mut newest_recorded = None;
        let applied = follower.absorb(found.into_iter().map(|c| (c.seq, c)), Instant::now(), |c| {
            engine.apply(c.old.as_ref(), &c.new);
            newest_recorded = newest_recorded.max(Some(c.recorded_at));
        });
        applied_since_checkpoint += applied;
        if applied_since_checkpoint > 0 && last_checkpoint.elapsed() >= CHECKPOINT_EVERY {
            save_checkpoint(
                store.clone(),
                fingerprint.clone(),
                engine.clone(),
                follower.state(),
            );
            last_checkpoint = Instant::now();
            applied_since_checkpoint = 0;
        }
        let Some(live) = aggregates.upgrade() else {
            return;
        };
        // A due transition in (checked_until, now] changes pending numbers
        // although no event came: publish a new snapshot for it.
        let now = live.now();
        let swept = engine
            .next_transition(checked_until)
            .is_some_and(|at| at <= now);
        checked_until = checked_until.max(now);
        if applied > 0 || swept {
            live.publish(&engine);
            live.log_position
                .store(follower.position(), Ordering::Relaxed);
            if let Some(recorded) = newest_recorded {
                let lag = (Utc::now() - recorded).num_milliseconds().max(0);
                live.apply_lag_ms
                    .store(u64::try_from(lag).unwrap_or_default(), Ordering::Relaxed);
            }
            tracing::debug!(
                message = "Snapshot published.",
                applied,
                swept,
                position = follower.position()
            );
        }
    }
}
