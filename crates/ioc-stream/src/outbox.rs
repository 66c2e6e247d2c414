//! A session's bounded queue of frames. When it is full, the topic whose
//! frame did not fit is marked for a fresh snapshot instead, which is sent
//! once the client has read what is queued: memory stays bounded however
//! slowly a client reads, and the client still ends with current values.

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bytestring::ByteString;
use tokio::sync::Notify;

use crate::stats::{Disconnect, FrameKind};
use crate::topic::Topic;

/// What the server should do next with a session's socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Send this text frame.
    Frame(FrameKind, ByteString),
    /// Close the socket with this code and reason.
    Close(Close),
}

/// A close the hub asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Close {
    /// WebSocket close code.
    pub code: u16,
    /// Short reason, sent with the code.
    pub reason: &'static str,
    /// How it is counted.
    pub disconnect: Disconnect,
}

pub(crate) struct Outbox {
    state: Mutex<OutboxState>,
    ready: Notify,
    capacity: usize,
}

#[derive(Default)]
pub(crate) struct OutboxState {
    frames: VecDeque<(FrameKind, ByteString)>,
    /// Topics owed a fresh snapshot.
    pub(crate) resync: BTreeSet<Topic>,
    /// Topics subscribed.
    pub(crate) topics: BTreeSet<Topic>,
    /// Since when frames have been refused for lack of room.
    behind_since: Option<Instant>,
    close: Option<Close>,
}

/// Whether a frame was queued.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    Queued,
    /// Not queued; the topic gets a snapshot later.
    Deferred,
    /// Not queued and nothing owed (a control frame, or a closing session).
    Dropped,
}

impl Outbox {
    pub(crate) fn new(capacity: usize) -> Outbox {
        Outbox {
            state: Mutex::new(OutboxState::default()),
            ready: Notify::new(),
            capacity: capacity.max(1),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, OutboxState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a topic's frame; a topic already owed a snapshot needs no delta.
    pub(crate) fn push_topic(&self, kind: FrameKind, topic: &Topic, frame: ByteString) -> Pushed {
        let mut state = self.lock();
        if state.close.is_some() {
            return Pushed::Dropped;
        }
        if state.resync.contains(topic) {
            return Pushed::Deferred;
        }
        if state.frames.len() >= self.capacity {
            state.resync.insert(topic.clone());
            state.behind_since.get_or_insert_with(Instant::now);
            drop(state);
            self.ready.notify_one();
            return Pushed::Deferred;
        }
        state.frames.push_back((kind, frame));
        drop(state);
        self.ready.notify_one();
        Pushed::Queued
    }

    /// Queues a reply to a request; dropped when there is no room.
    pub(crate) fn push_control(&self, frame: ByteString) -> Pushed {
        let mut state = self.lock();
        if state.close.is_some() || state.frames.len() >= self.capacity {
            state.behind_since.get_or_insert_with(Instant::now);
            return Pushed::Dropped;
        }
        state.frames.push_back((FrameKind::Control, frame));
        drop(state);
        self.ready.notify_one();
        Pushed::Queued
    }

    /// The next queued frame; records that the client caught up when there
    /// is nothing left, not even a snapshot owed.
    pub(crate) fn pop(&self) -> Option<Next> {
        let mut state = self.lock();
        if let Some(close) = state.close {
            return Some(Next::Close(close));
        }
        if let Some((kind, frame)) = state.frames.pop_front() {
            return Some(Next::Frame(kind, frame));
        }
        if state.resync.is_empty() {
            state.behind_since = None;
        }
        None
    }

    pub(crate) async fn wait(&self) {
        self.ready.notified().await;
    }

    pub(crate) fn close(&self, close: Close) {
        self.lock().close.get_or_insert(close);
        self.ready.notify_one();
    }

    /// How long frames have been refused without the client catching up.
    pub(crate) fn behind_for(&self) -> Option<Duration> {
        self.lock().behind_since.map(|since| since.elapsed())
    }

    pub(crate) fn queued(&self) -> usize {
        self.lock().frames.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(name: &str) -> Topic {
        Topic::parse(name).unwrap()
    }

    #[test]
    fn a_full_queue_defers_the_topic_instead_of_growing() {
        let outbox = Outbox::new(2);
        let a = topic("overview:today");
        let b = topic("unit:70:today");
        assert_eq!(
            outbox.push_topic(FrameKind::Delta, &a, "1".into()),
            Pushed::Queued
        );
        assert_eq!(
            outbox.push_topic(FrameKind::Delta, &b, "2".into()),
            Pushed::Queued
        );
        assert_eq!(
            outbox.push_topic(FrameKind::Delta, &a, "3".into()),
            Pushed::Deferred
        );
        // Once owed a snapshot, the topic needs no more deltas, room or not.
        assert_eq!(
            outbox.pop(),
            Some(Next::Frame(FrameKind::Delta, "1".into()))
        );
        assert_eq!(
            outbox.push_topic(FrameKind::Delta, &a, "4".into()),
            Pushed::Deferred
        );
        assert_eq!(outbox.queued(), 1);
        assert!(outbox.behind_for().is_some());
        assert_eq!(outbox.push_control("x".into()), Pushed::Queued);
        assert_eq!(outbox.push_control("y".into()), Pushed::Dropped);
        assert!(outbox.lock().resync.contains(&a));
    }

    #[test]
    fn catching_up_clears_the_lag() {
        let outbox = Outbox::new(1);
        let a = topic("overview:today");
        outbox.push_topic(FrameKind::Delta, &a, "1".into());
        outbox.push_control("x".into());
        assert!(outbox.behind_for().is_some());
        assert!(outbox.pop().is_some());
        assert_eq!(outbox.pop(), None);
        assert_eq!(outbox.behind_for(), None);
    }

    #[test]
    fn a_close_comes_before_queued_frames() {
        let outbox = Outbox::new(4);
        outbox.push_control("x".into());
        let close = Close {
            code: 4000,
            reason: "slow",
            disconnect: Disconnect::SlowConsumer,
        };
        outbox.close(close);
        assert_eq!(outbox.pop(), Some(Next::Close(close)));
        assert_eq!(outbox.push_control("y".into()), Pushed::Dropped);
    }
}
