//! The topic registry and fan-out. One [`Hub`] per node: it renders each
//! subscribed topic once per change (however many sessions watch it),
//! diffs it against the last value sent, and queues the same delta frame
//! for every subscriber.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytestring::ByteString;
use serde_json::Value;
use tokio::sync::watch;

use crate::outbox::{Close, Next, Outbox, Pushed};
use crate::protocol::{self, ErrorCode, Request};
use crate::stats::{Disconnect, FrameKind, Stats, StatsSnapshot};
use crate::{Topic, patch};

/// Where topic values come from.
pub trait Source: Send + Sync + 'static {
    /// The current value of `topic`, or why it cannot be served (unknown
    /// unit, level, key or window).
    fn render(&self, topic: &Topic) -> Result<Value, RenderError>;
}

/// Why a topic cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct RenderError {
    /// Machine-readable code, sent in the error frame.
    pub code: ErrorCode,
    /// What is wrong, for people.
    pub message: String,
}

/// Limits and pacing.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// Least time between two deltas of a topic: changes in between are
    /// coalesced (latest value wins).
    pub min_interval: Duration,
    /// Topics are rendered again at least this often, so that values that
    /// depend on the clock alone (a new day) are sent.
    pub refresh_every: Duration,
    /// Frames a session may have queued.
    pub queue_frames: usize,
    /// How long a session may stay behind before it is closed.
    pub slow_limit: Duration,
    /// Sessions per node.
    pub max_sessions: usize,
    /// Topics per session.
    pub max_topics: usize,
}

/// Close code for a client that stayed behind too long.
pub const CLOSE_SLOW: u16 = 4000;
/// Close code when the server stops (RFC 6455 "going away").
const CLOSE_GOING_AWAY: u16 = 1001;

/// The node already has [`HubConfig::max_sessions`] sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this node already has {0} live sessions; try again later")]
pub struct SessionLimit(pub usize);

/// The hub of one node.
pub struct Hub {
    source: Arc<dyn Source>,
    config: HubConfig,
    epoch: String,
    versions: watch::Receiver<u64>,
    state: Mutex<HubState>,
    stats: Stats,
}

#[derive(Default)]
struct HubState {
    topics: HashMap<Topic, TopicState>,
    sessions: HashMap<u64, Arc<Outbox>>,
    next_id: u64,
}

struct TopicState {
    value: Value,
    seq: u64,
    /// Source version the value was rendered at.
    version: u64,
    snapshot: Option<ByteString>,
    subscribers: BTreeSet<u64>,
}

impl TopicState {
    fn snapshot_frame(&mut self, topic: &Topic, epoch: &str) -> ByteString {
        self.snapshot
            .get_or_insert_with(|| {
                protocol::snapshot(&topic.to_string(), epoch, self.seq, &self.value)
            })
            .clone()
    }
}

impl Hub {
    /// A hub over `source`; `versions` changes whenever the source's values
    /// may have changed (the server's aggregates publish a snapshot).
    pub fn new(source: Arc<dyn Source>, versions: watch::Receiver<u64>, config: HubConfig) -> Hub {
        Hub {
            source,
            config,
            epoch: new_epoch(),
            versions,
            state: Mutex::new(HubState::default()),
            stats: Stats::default(),
        }
    }

    /// This hub's epoch: a client that sees it change resubscribes.
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    fn lock(&self) -> MutexGuard<'_, HubState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The counters, for metrics.
    pub fn stats(&self) -> StatsSnapshot {
        let state = self.lock();
        let queued = state.sessions.values().map(|o| o.queued() as u64).sum();
        self.stats.read(queued, state.topics.len() as u64)
    }

    /// Counts a session ended for `reason` (the server knows why).
    pub fn disconnected(&self, reason: Disconnect) {
        self.stats.disconnected(reason);
    }

    /// Asks every session to close with 1001 (going away): the server is
    /// stopping, and clients should reconnect (to another node).
    pub fn close_all(&self) {
        for outbox in self.lock().sessions.values() {
            outbox.close(Close {
                code: CLOSE_GOING_AWAY,
                reason: "the server is stopping",
                disconnect: Disconnect::Shutdown,
            });
        }
    }

    /// Opens a session, unless the node is full.
    pub fn open(self: &Arc<Self>) -> Result<Session, SessionLimit> {
        let mut state = self.lock();
        if state.sessions.len() >= self.config.max_sessions {
            drop(state);
            self.stats.disconnected(Disconnect::NodeFull);
            return Err(SessionLimit(self.config.max_sessions));
        }
        state.next_id += 1;
        let id = state.next_id;
        let outbox = Arc::new(Outbox::new(self.config.queue_frames));
        state.sessions.insert(id, outbox.clone());
        self.stats.session_opened();
        Ok(Session {
            id,
            hub: self.clone(),
            outbox,
        })
    }

    /// Sends deltas whenever the source changes, at most once per
    /// `min_interval`, and re-renders every `refresh_every` regardless.
    /// Returns when the source's version sender is dropped.
    pub async fn run(self: Arc<Self>) {
        let mut versions = self.versions.clone();
        let mut last_version = *versions.borrow_and_update();
        let mut last_tick = Instant::now();
        loop {
            let changed = tokio::time::timeout(self.config.refresh_every, versions.changed()).await;
            if let Ok(Err(_)) = changed {
                return;
            }
            let due = last_tick + self.config.min_interval;
            tokio::time::sleep(due.saturating_duration_since(Instant::now())).await;
            let version = *versions.borrow_and_update();
            if version > last_version + 1 {
                self.stats.coalesced(version - last_version - 1);
            }
            last_version = version;
            last_tick = Instant::now();
            self.tick(version).await;
        }
    }

    /// Renders every subscribed topic at `version` and queues a delta for
    /// each one that changed.
    async fn tick(self: &Arc<Self>, version: u64) {
        let topics: Vec<Topic> = self.lock().topics.keys().cloned().collect();
        if topics.is_empty() {
            return;
        }
        let hub = self.clone();
        let rendered = tokio::task::spawn_blocking(move || {
            topics
                .into_iter()
                .map(|topic| {
                    let value = hub.source.render(&topic);
                    (topic, value)
                })
                .collect::<Vec<_>>()
        })
        .await;
        let Ok(rendered) = rendered else {
            tracing::error!(message = "Rendering topics panicked.");
            return;
        };
        let mut state = self.lock();
        let HubState {
            topics, sessions, ..
        } = &mut *state;
        let mut dropped = 0;
        for (topic, value) in rendered {
            let value = match value {
                Ok(value) => value,
                Err(e) => {
                    tracing::warn!(message = "Cannot render a topic.", %topic, error = %e);
                    continue;
                }
            };
            // Unsubscribed meanwhile, or rendered newer by a subscriber.
            let Some(entry) = topics.get_mut(&topic) else {
                continue;
            };
            if entry.version > version {
                continue;
            }
            entry.version = version;
            let Some(patch) = patch::diff(&entry.value, &value) else {
                continue;
            };
            entry.seq += 1;
            entry.value = value;
            entry.snapshot = None;
            let frame = protocol::delta(&topic.to_string(), &self.epoch, entry.seq, &patch);
            for id in &entry.subscribers {
                if let Some(outbox) = sessions.get(id)
                    && outbox.push_topic(FrameKind::Delta, &topic, frame.clone()) != Pushed::Queued
                {
                    dropped += 1;
                }
            }
        }
        drop(state);
        self.stats.dropped(dropped);
    }
}

fn new_epoch() -> String {
    let mut bytes = [0u8; 8];
    // Without OS randomness the clock still tells restarts apart.
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = (nanos as u64).to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One client's subscriptions and queue. Dropping it removes the session
/// from every topic, so every exit path of the server's socket task cleans up.
pub struct Session {
    id: u64,
    hub: Arc<Hub>,
    outbox: Arc<Outbox>,
}

impl Drop for Session {
    fn drop(&mut self) {
        let mut state = self.hub.lock();
        state.sessions.remove(&self.id);
        let topics = std::mem::take(&mut self.outbox.lock().topics);
        for topic in topics {
            leave(&mut state.topics, &topic, self.id);
        }
        drop(state);
        self.hub.stats.session_closed();
    }
}

fn leave(topics: &mut HashMap<Topic, TopicState>, topic: &Topic, id: u64) {
    if let Some(entry) = topics.get_mut(topic) {
        entry.subscribers.remove(&id);
        if entry.subscribers.is_empty() {
            topics.remove(topic);
        }
    }
}

impl Session {
    /// Handles a text message from the client; problems are answered with
    /// `error` frames.
    pub fn handle(&self, text: &str) {
        match Request::parse(text) {
            Ok(Request::Subscribe { topics }) => self.subscribe(&topics),
            Ok(Request::Unsubscribe { topics }) => self.unsubscribe(&topics),
            Err(e) => self.reject(e.code, &e.message),
        }
    }

    /// Answers with an `error` frame not about a topic.
    pub fn reject(&self, code: ErrorCode, message: &str) {
        self.control(protocol::error(&self.hub.epoch, code, None, message));
    }

    fn control(&self, frame: ByteString) {
        if self.outbox.push_control(frame) == Pushed::Dropped {
            self.hub.stats.dropped(1);
        }
    }

    fn subscribe(&self, names: &[String]) {
        let mut seen = BTreeSet::new();
        for name in names {
            let topic = match Topic::parse(name) {
                Ok(topic) => topic,
                Err(e) => {
                    self.control(protocol::error(
                        &self.hub.epoch,
                        ErrorCode::UnknownTopic,
                        Some(&e.topic),
                        &e.to_string(),
                    ));
                    continue;
                }
            };
            if !seen.insert(topic.clone()) {
                continue;
            }
            let full = {
                let topics = &self.outbox.lock().topics;
                !topics.contains(&topic) && topics.len() >= self.hub.config.max_topics
            };
            if full {
                self.control(protocol::error(
                    &self.hub.epoch,
                    ErrorCode::TooManyTopics,
                    Some(name),
                    &format!(
                        "a session may subscribe to at most {} topics",
                        self.hub.config.max_topics
                    ),
                ));
                continue;
            }
            if self.join(&topic, None) {
                continue;
            }
            let version = *self.hub.versions.borrow();
            match self.hub.source.render(&topic) {
                Ok(value) => {
                    self.join(&topic, Some((value, version)));
                }
                Err(e) => self.control(protocol::error(
                    &self.hub.epoch,
                    e.code,
                    Some(name),
                    &e.message,
                )),
            }
        }
    }

    /// Adds the session to `topic` and queues its snapshot. Without a
    /// rendered value, only joins a topic that already has subscribers.
    fn join(&self, topic: &Topic, rendered: Option<(Value, u64)>) -> bool {
        let mut state = self.hub.lock();
        let entry = match (state.topics.contains_key(topic), rendered) {
            (true, _) => state.topics.get_mut(topic),
            (false, Some((value, version))) => {
                Some(state.topics.entry(topic.clone()).or_insert(TopicState {
                    value,
                    seq: 1,
                    version,
                    snapshot: None,
                    subscribers: BTreeSet::new(),
                }))
            }
            (false, None) => None,
        };
        let Some(entry) = entry else {
            return false;
        };
        entry.subscribers.insert(self.id);
        let frame = entry.snapshot_frame(topic, &self.hub.epoch);
        self.outbox.lock().topics.insert(topic.clone());
        if self.outbox.push_topic(FrameKind::Snapshot, topic, frame) == Pushed::Dropped {
            self.hub.stats.dropped(1);
        }
        true
    }

    fn unsubscribe(&self, names: &[String]) {
        let mut removed = Vec::new();
        let mut state = self.hub.lock();
        for name in names {
            let Ok(topic) = Topic::parse(name) else {
                continue;
            };
            let mut outbox = self.outbox.lock();
            if outbox.topics.remove(&topic) {
                outbox.resync.remove(&topic);
                drop(outbox);
                leave(&mut state.topics, &topic, self.id);
                removed.push(topic.to_string());
            }
        }
        drop(state);
        self.control(protocol::unsubscribed(&self.hub.epoch, &removed));
    }

    /// The next frame to send, or a close; waits until there is one.
    pub async fn next(&self) -> Next {
        loop {
            if let Some(next) = self.outbox.pop().or_else(|| self.owed_snapshot()) {
                if let Next::Frame(kind, _) = &next {
                    self.hub.stats.sent(*kind);
                }
                return next;
            }
            self.outbox.wait().await;
        }
    }

    /// A fresh snapshot of a topic the session fell behind on.
    fn owed_snapshot(&self) -> Option<Next> {
        let mut state = self.hub.lock();
        let mut outbox = self.outbox.lock();
        while let Some(topic) = outbox.resync.pop_first() {
            if let Some(entry) = state.topics.get_mut(&topic)
                && entry.subscribers.contains(&self.id)
            {
                let frame = entry.snapshot_frame(&topic, &self.hub.epoch);
                return Some(Next::Frame(FrameKind::Snapshot, frame));
            }
        }
        None
    }

    /// Whether the client has stayed behind longer than allowed; if so the
    /// session is marked to close, and `next` returns the close.
    pub fn check_slow(&self) -> bool {
        let slow = self
            .outbox
            .behind_for()
            .is_some_and(|behind| behind > self.hub.config.slow_limit);
        if slow {
            self.outbox.close(Close {
                code: CLOSE_SLOW,
                reason: "slow consumer: fell behind for too long",
                disconnect: Disconnect::SlowConsumer,
            });
        }
        slow
    }

    /// Frames queued now.
    pub fn queued(&self) -> usize {
        self.outbox.queued()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Values set by the test; `unit:` topics other than `unit:70:*` are unknown.
    #[derive(Default)]
    struct Fake(Mutex<HashMap<String, Value>>);

    impl Fake {
        fn set(&self, topic: &str, value: Value) {
            self.0.lock().unwrap().insert(topic.to_owned(), value);
        }
    }

    impl Source for Fake {
        fn render(&self, topic: &Topic) -> Result<Value, RenderError> {
            self.0
                .lock()
                .unwrap()
                .get(&topic.to_string())
                .cloned()
                .ok_or_else(|| RenderError {
                    code: ErrorCode::UnknownTopic,
                    message: format!("no such topic {topic}"),
                })
        }
    }

    fn config() -> HubConfig {
        HubConfig {
            min_interval: Duration::ZERO,
            refresh_every: Duration::from_secs(60),
            queue_frames: 4,
            slow_limit: Duration::from_millis(50),
            max_sessions: 2,
            max_topics: 3,
        }
    }

    fn hub(fake: &Arc<Fake>) -> (Arc<Hub>, watch::Sender<u64>) {
        let (tx, rx) = watch::channel(0);
        (Arc::new(Hub::new(fake.clone(), rx, config())), tx)
    }

    async fn frame(session: &Session) -> Value {
        match tokio::time::timeout(Duration::from_secs(1), session.next()).await {
            Ok(Next::Frame(_, text)) => serde_json::from_str(&text).unwrap(),
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    fn nothing_queued(session: &Session) -> bool {
        session.outbox.pop().is_none() && session.owed_snapshot().is_none()
    }

    #[tokio::test]
    async fn subscribe_gets_a_snapshot_then_deltas_with_what_changed() {
        let fake = Arc::new(Fake::default());
        fake.set("overview:today", json!({"received": 1, "name": "BP"}));
        let (hub, _tx) = hub(&fake);
        let session = hub.open().unwrap();
        session.handle(r#"{"op":"subscribe","topics":["overview:today"]}"#);
        let snapshot = frame(&session).await;
        assert_eq!(snapshot["type"], "snapshot");
        assert_eq!(snapshot["seq"], 1);
        assert_eq!(snapshot["epoch"], hub.epoch());
        assert_eq!(snapshot["data"], json!({"received": 1, "name": "BP"}));

        hub.tick(1).await;
        assert!(nothing_queued(&session), "no change, no delta");
        fake.set("overview:today", json!({"received": 2, "name": "BP"}));
        hub.tick(2).await;
        let delta = frame(&session).await;
        assert_eq!(delta["type"], "delta");
        assert_eq!(delta["seq"], 2);
        assert_eq!(delta["data"], json!({"received": 2}));
    }

    #[tokio::test]
    async fn overlapping_subscriptions_deliver_each_change_once() {
        let fake = Arc::new(Fake::default());
        fake.set("overview:today", json!({"received": 1}));
        let (hub, _tx) = hub(&fake);
        let session = hub.open().unwrap();
        session.handle(r#"{"op":"subscribe","topics":["overview:today","overview:today"]}"#);
        session.handle(r#"{"op":"subscribe","topics":["overview:today"]}"#);
        assert_eq!(frame(&session).await["type"], "snapshot");
        // Subscribing again is how a client resyncs: a second snapshot.
        assert_eq!(frame(&session).await["type"], "snapshot");
        assert!(nothing_queued(&session));
        fake.set("overview:today", json!({"received": 5}));
        hub.tick(1).await;
        assert_eq!(frame(&session).await["type"], "delta");
        assert!(nothing_queued(&session));
    }

    #[tokio::test]
    async fn bad_topics_get_error_frames_naming_them() {
        let fake = Arc::new(Fake::default());
        let (hub, _tx) = hub(&fake);
        let session = hub.open().unwrap();
        session.handle(r#"{"op":"subscribe","topics":["weather:today","unit:99:today"]}"#);
        let first = frame(&session).await;
        assert_eq!(
            (first["type"].as_str(), first["code"].as_str()),
            (Some("error"), Some("unknown_topic"))
        );
        assert_eq!(first["topic"], "weather:today");
        let second = frame(&session).await;
        assert_eq!(second["topic"], "unit:99:today");
        assert!(
            second["message"]
                .as_str()
                .unwrap()
                .contains("no such topic")
        );
        session.handle("{");
        assert_eq!(frame(&session).await["code"], "bad_json");
    }

    #[tokio::test]
    async fn a_client_that_stops_reading_is_bounded_then_resynced_or_closed() {
        let fake = Arc::new(Fake::default());
        for t in ["overview:today", "overview:month", "overview:year"] {
            fake.set(t, json!({"n": 0}));
        }
        let (hub, _tx) = hub(&fake);
        let session = hub.open().unwrap();
        session.handle(
            r#"{"op":"subscribe","topics":["overview:today","overview:month","overview:year"]}"#,
        );
        for n in 1..=50 {
            for t in ["overview:today", "overview:month", "overview:year"] {
                fake.set(t, json!({"n": n}));
            }
            hub.tick(n).await;
            assert!(session.queued() <= config().queue_frames);
        }
        assert!(hub.stats().dropped > 0);
        // Reading again: what was queued, then a fresh snapshot of each topic.
        let mut last = HashMap::new();
        for _ in 0..config().queue_frames + 3 {
            let f = frame(&session).await;
            if f["type"] == "snapshot" {
                last.insert(
                    f["topic"].as_str().unwrap().to_owned(),
                    f["data"]["n"].clone(),
                );
            }
        }
        assert!(nothing_queued(&session));
        assert_eq!(last.len(), 3);
        assert!(last.values().all(|n| *n == json!(50)), "{last:?}");
        assert!(!session.check_slow(), "caught up");

        // Behind again, for longer than the limit: closed.
        for n in 51..=60 {
            fake.set("overview:today", json!({"n": n}));
            hub.tick(n).await;
        }
        std::thread::sleep(Duration::from_millis(60));
        assert!(session.check_slow());
        match session.next().await {
            Next::Close(close) => assert_eq!(close.code, CLOSE_SLOW),
            other => panic!("expected a close, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn dropping_a_session_leaves_every_topic_and_frees_a_place() {
        let fake = Arc::new(Fake::default());
        fake.set("overview:today", json!({}));
        let (hub, _tx) = hub(&fake);
        let a = hub.open().unwrap();
        let _b = hub.open().unwrap();
        assert_eq!(hub.open().err(), Some(SessionLimit(2)));
        a.handle(r#"{"op":"subscribe","topics":["overview:today"]}"#);
        assert_eq!(hub.stats().topics, 1);
        drop(a);
        let stats = hub.stats();
        assert_eq!((stats.topics, stats.sessions), (0, 1));
        assert!(hub.open().is_ok());
    }

    #[tokio::test]
    async fn stopping_closes_every_session_with_going_away() {
        let fake = Arc::new(Fake::default());
        let (hub, _tx) = hub(&fake);
        let session = hub.open().unwrap();
        hub.close_all();
        match session.next().await {
            Next::Close(close) => {
                assert_eq!((close.code, close.disconnect), (1001, Disconnect::Shutdown))
            }
            other => panic!("expected a close, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn unsubscribe_stops_deltas_and_topics_per_session_are_capped() {
        let fake = Arc::new(Fake::default());
        for t in ["overview:a", "overview:b", "overview:c", "overview:d"] {
            fake.set(t, json!({"n": 0}));
        }
        let (hub, _tx) = hub(&fake);
        let session = hub.open().unwrap();
        session.handle(
            r#"{"op":"subscribe","topics":["overview:a","overview:b","overview:c","overview:d"]}"#,
        );
        for _ in 0..3 {
            assert_eq!(frame(&session).await["type"], "snapshot");
        }
        assert_eq!(frame(&session).await["code"], "too_many_topics");
        session.handle(r#"{"op":"unsubscribe","topics":["overview:a","overview:b","overview:c"]}"#);
        assert_eq!(
            frame(&session).await["topics"],
            json!(["overview:a", "overview:b", "overview:c"])
        );
        fake.set("overview:a", json!({"n": 1}));
        hub.tick(1).await;
        assert!(nothing_queued(&session));
        assert_eq!(hub.stats().topics, 0);
    }
}
