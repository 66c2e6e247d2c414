//! Counters of the hub, read by the server's `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disconnect {
    /// The client closed the socket, or the connection dropped.
    ClientClosed,
    /// Nothing came from the client within the timeout.
    Timeout,
    /// The client fell behind for longer than the limit.
    SlowConsumer,
    /// A frame could not be written to the socket.
    SendFailed,
    /// The client broke the protocol (or sent a message over the size limit).
    ProtocolError,
    /// The node already had as many sessions as allowed.
    NodeFull,
    /// The server is stopping.
    Shutdown,
    /// The session's token was revoked.
    Revoked,
}

impl Disconnect {
    /// Every reason, in a fixed order.
    pub const ALL: [Disconnect; 8] = [
        Disconnect::ClientClosed,
        Disconnect::Timeout,
        Disconnect::SlowConsumer,
        Disconnect::SendFailed,
        Disconnect::ProtocolError,
        Disconnect::NodeFull,
        Disconnect::Shutdown,
        Disconnect::Revoked,
    ];

    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Disconnect::ClientClosed => "client_closed",
            Disconnect::Timeout => "timeout",
            Disconnect::SlowConsumer => "slow_consumer",
            Disconnect::SendFailed => "send_failed",
            Disconnect::ProtocolError => "protocol_error",
            Disconnect::NodeFull => "node_full",
            Disconnect::Shutdown => "shutdown",
            Disconnect::Revoked => "token_revoked",
        }
    }
}

/// Kinds of frames sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// A topic's whole value.
    Snapshot,
    /// A topic's change.
    Delta,
    /// A reply to a request (error, unsubscribed).
    Control,
}

impl FrameKind {
    /// Every kind, in a fixed order.
    pub const ALL: [FrameKind; 3] = [FrameKind::Snapshot, FrameKind::Delta, FrameKind::Control];

    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            FrameKind::Snapshot => "snapshot",
            FrameKind::Delta => "delta",
            FrameKind::Control => "control",
        }
    }
}

/// The hub's counters.
#[derive(Debug, Default)]
pub struct Stats {
    sessions: AtomicU64,
    frames: [AtomicU64; 3],
    coalesced: AtomicU64,
    dropped: AtomicU64,
    disconnects: [AtomicU64; 8],
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Sessions open now.
    pub sessions: u64,
    /// Frames handed to sockets, by [`FrameKind::ALL`] order.
    pub frames: [u64; 3],
    /// Changes of the source folded into a later delta instead of being
    /// sent on their own.
    pub coalesced: u64,
    /// Frames not queued because a session's queue was full (the session
    /// gets a fresh snapshot instead).
    pub dropped: u64,
    /// Sessions ended, by [`Disconnect::ALL`] order.
    pub disconnects: [u64; 8],
    /// Frames waiting in session queues now.
    pub queued: u64,
    /// Topics with at least one subscriber.
    pub topics: u64,
}

fn index<T: PartialEq>(all: &[T], item: &T) -> usize {
    all.iter().position(|x| x == item).unwrap_or_default()
}

impl Stats {
    pub(crate) fn session_opened(&self) {
        self.sessions.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn session_closed(&self) {
        self.sessions.fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn sent(&self, kind: FrameKind) {
        self.frames[index(&FrameKind::ALL, &kind)].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn coalesced(&self, n: u64) {
        self.coalesced.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn dropped(&self, n: u64) {
        self.dropped.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts a session that ended (or was refused) for `reason`.
    pub fn disconnected(&self, reason: Disconnect) {
        self.disconnects[index(&Disconnect::ALL, &reason)].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn read(&self, queued: u64, topics: u64) -> StatsSnapshot {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StatsSnapshot {
            sessions: load(&self.sessions),
            frames: self.frames.each_ref().map(load),
            coalesced: load(&self.coalesced),
            dropped: load(&self.dropped),
            disconnects: self.disconnects.each_ref().map(load),
            queued,
            topics,
        }
    }
}
