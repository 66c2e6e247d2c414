//! The live aggregates of a running server: rebuilt from the store at
//! start, then kept current by following the change log (so that changes
//! written by `ioc import` or by another node count too). Readers take an
//! immutable snapshot and never wait for the writer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use anyhow::Context;
use chrono::{DateTime, Utc};
use ioc_aggregate::Engine;
use ioc_aggregate::campaign::Campaign;
use ioc_aggregate::follow::Follower;
use ioc_aggregate::score::ScoreModel;
use ioc_core::{Clock, TimelinessRules, UnitTree};
use ioc_store::{Store, changes, reference, snapshot};
use tokio::sync::Notify;

/// How often the change log is read when nothing wakes the follower.
const POLL: Duration = Duration::from_millis(250);
/// How long a gap in the log is waited for before it counts as rolled back.
const GAP_PATIENCE: Duration = Duration::from_secs(30);
/// Changes read per query.
const PAGE: i64 = 10_000;

/// The read side's state and configuration.
pub struct Aggregates {
    current: RwLock<Arc<Engine>>,
    version: AtomicU64,
    cache: Mutex<ResponseCache>,
    wake: Notify,
    /// Configured campaigns.
    pub campaigns: Vec<Campaign>,
    /// The partial 766 scoring model.
    pub score: ScoreModel,
    /// Rankings: least denominator of a ranked unit.
    pub min_volume: i64,
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

    fn publish(&self, engine: &Engine) {
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(engine.clone());
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    /// The response body for `key` (a request's path and query), made by
    /// `make` unless this snapshot and day already made it.
    pub fn cached<E>(
        &self,
        key: &str,
        make: impl FnOnce() -> Result<Bytes, E>,
    ) -> Result<Bytes, E> {
        let (version, day) = (self.version(), self.now().date_naive());
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
                    entries: HashMap::new(),
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
        if cache.version == version {
            cache.entries.insert(key.to_owned(), body.clone());
        }
        Ok(body)
    }
}

/// Most responses kept per snapshot.
const CACHE_ENTRIES: usize = 4_096;

/// Responses made from one snapshot on one day; numbers depend on nothing else.
#[derive(Default)]
struct ResponseCache {
    version: u64,
    day: Option<chrono::NaiveDate>,
    entries: HashMap<String, Bytes>,
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

/// Rebuilds the aggregates from the store and starts following the log.
pub async fn start(store: &Store, config: AggregateConfig) -> anyhow::Result<Arc<Aggregates>> {
    let started = Instant::now();
    let catalog = store
        .run(reference::catalog)
        .await
        .context("cannot read the catalog")?;
    let engine = Engine::new(config.tree, &catalog, config.rules)?;
    let (engine, position, dossiers) = store
        .run(move |conn| {
            let mut engine = engine;
            let mut dossiers = 0u64;
            let position = snapshot::read_all(conn, |state| {
                engine.add(&state);
                dossiers += 1;
            })?;
            Ok((engine, position, dossiers))
        })
        .await
        .context("cannot rebuild the aggregates")?;
    tracing::info!(
        message = "Aggregates rebuilt.",
        dossiers,
        log_position = position.max_seq,
        millis = started.elapsed().as_millis()
    );
    let aggregates = Arc::new(Aggregates {
        current: RwLock::new(Arc::new(engine.clone())),
        version: AtomicU64::new(0),
        cache: Mutex::new(ResponseCache::default()),
        wake: Notify::new(),
        campaigns: config.campaigns,
        score: config.score,
        min_volume: config.min_volume,
        clock: config.clock,
    });
    let follower = Follower::new(position.max_seq, &position.recent, GAP_PATIENCE);
    actix_web::rt::spawn(follow(
        store.clone(),
        engine,
        follower,
        Arc::downgrade(&aggregates),
    ));
    Ok(aggregates)
}

/// Reads the log until the server stops, applying and publishing changes.
async fn follow(
    store: Store,
    mut engine: Engine,
    mut follower: Follower,
    aggregates: Weak<Aggregates>,
) {
    loop {
        {
            let Some(live) = aggregates.upgrade() else {
                return;
            };
            let _ = tokio::time::timeout(POLL, live.wake.notified()).await;
        }
        let (position, newest) = (follower.position(), follower.newest());
        let read = store
            .run(move |conn| {
                let mut found = changes::after(conn, position, PAGE)?;
                if newest > position {
                    found.extend(changes::after(conn, newest, PAGE)?);
                }
                Ok(found)
            })
            .await;
        let found = match read {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(message = "Cannot read the change log; retrying.", error = %e);
                continue;
            }
        };
        let applied = follower.absorb(found.into_iter().map(|c| (c.seq, c)), Instant::now(), |c| {
            engine.apply(c.old.as_ref(), &c.new);
        });
        if applied > 0 {
            let Some(live) = aggregates.upgrade() else {
                return;
            };
            live.publish(&engine);
            tracing::debug!(
                message = "Changes applied.",
                applied,
                position = follower.position()
            );
        }
    }
}
