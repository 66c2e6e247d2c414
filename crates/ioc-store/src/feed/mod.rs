//! The change feed: the one reader of the change log in a process. It
//! reads each change once, in sequence order, without skipping one that
//! commits late (its follower), and hands out the changes not seen yet in
//! batches. It wakes on PostgreSQL's notifications and on local commits,
//! and polls as a fallback.

mod follower;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use follower::Follower;
pub use follower::FollowerState;

use crate::changes::{self, Change};
use crate::snapshot::LogPosition;
use crate::{Store, StoreError, listen};

/// Changes read per query.
pub const PAGE: i64 = 10_000;
/// How long a gap in the log is waited for before it counts as rolled back.
pub const GAP_PATIENCE: Duration = Duration::from_secs(30);
/// How often the log is read when nothing wakes the feed: on SQLite, where
/// `ioc import` in another process sends no notification...
const POLL: Duration = Duration::from_millis(250);
/// ...and on PostgreSQL, where commits notify (a fallback for a listener
/// whose connection is down).
const POLL_LISTENING: Duration = Duration::from_secs(2);

/// Where a feed starts.
#[derive(Debug, Clone)]
pub enum Start {
    /// After a consistent snapshot of the dossiers, at the position it reflects.
    Snapshot(LogPosition),
    /// Where a checkpoint left off.
    Checkpoint(FollowerState),
}

/// Changes read together, with where the feed stands after them.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The changes not handed out before, in the order read.
    pub changes: Vec<Change>,
    /// Where the feed stands once these are applied (for checkpoints).
    pub state: FollowerState,
    /// Whether reading again at once would bring nothing more: the read
    /// reached the end of the log, or handed out nothing new (a full page
    /// of changes handed out before, above a gap that is waited for).
    pub complete: bool,
}

/// Asks a feed to read the log now (after a local commit).
#[derive(Debug, Clone, Default)]
pub struct Waker(Arc<Notify>);

impl Waker {
    /// Wakes the feed.
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// The change feed of one process.
pub struct ChangeFeed {
    store: Store,
    follower: Follower,
    waker: Waker,
    poll: Duration,
    /// Wakes the feed on other nodes' commits; stops when dropped.
    _listener: Option<listen::Listener>,
}

impl ChangeFeed {
    /// A feed starting at `start`, listening for commits where the
    /// database notifies.
    pub fn open(store: &Store, start: Start) -> Result<ChangeFeed, StoreError> {
        let follower = match start {
            Start::Snapshot(position) => {
                Follower::new(position.max_seq, &position.recent, GAP_PATIENCE)
            }
            Start::Checkpoint(state) => Follower::restore(&state, GAP_PATIENCE),
        };
        let waker = Waker::default();
        let listener = {
            let waker = waker.clone();
            listen::listen(store.url(), listen::CHANGES, move || waker.wake())?
        };
        let poll = if listener.is_some() {
            POLL_LISTENING
        } else {
            POLL
        };
        Ok(ChangeFeed {
            store: store.clone(),
            follower,
            waker,
            poll,
            _listener: listener,
        })
    }

    /// Wakes this feed.
    pub fn waker(&self) -> Waker {
        self.waker.clone()
    }

    /// How long the feed waits when nothing wakes it.
    pub fn poll(&self) -> Duration {
        self.poll
    }

    /// Every change at or below this seq has been handed out.
    pub fn position(&self) -> i64 {
        self.follower.position()
    }

    /// The newest change handed out (changes above the position may have
    /// been, around a gap).
    pub fn newest(&self) -> i64 {
        self.follower.newest()
    }

    /// Where the feed stands (for a checkpoint).
    pub fn state(&self) -> FollowerState {
        self.follower.state()
    }

    /// Waits until woken, or for the poll interval.
    pub async fn wait(&self) {
        let _ = tokio::time::timeout(self.poll, self.waker.0.notified()).await;
    }

    /// Reads the changes not handed out yet: after the position (late
    /// commits in gaps) and after the newest handed out.
    pub async fn read(&mut self) -> Result<Batch, StoreError> {
        let (position, newest) = (self.follower.position(), self.follower.newest());
        let found = self
            .store
            .run(move |conn| {
                let mut found = changes::after(conn, position, PAGE)?;
                if newest > position {
                    found.extend(changes::after(conn, newest, PAGE)?);
                }
                Ok(found)
            })
            .await?;
        let full = found.len() >= PAGE as usize;
        let mut changes = Vec::new();
        self.follower
            .absorb(found.into_iter().map(|c| (c.seq, c)), Instant::now(), |c| {
                changes.push(c)
            });
        let complete = !full || changes.is_empty();
        Ok(Batch {
            changes,
            state: self.follower.state(),
            complete,
        })
    }
}
