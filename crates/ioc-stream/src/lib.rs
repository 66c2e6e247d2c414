//! The live-update hub behind `/ws`: clients subscribe to topics, get a
//! snapshot of each, then deltas (JSON merge patches) carrying only what
//! changed, coalesced so that a topic is sent at most once per interval.
//! Every data frame carries the hub's epoch and the topic's sequence number,
//! so a client notices a gap or a restarted node and subscribes again.
//!
//! The hub knows nothing of sockets: the server moves frames between a
//! [`Session`] and its WebSocket, and renders topics through a [`Source`].

mod hub;
mod outbox;
pub mod patch;
pub mod protocol;
mod stats;
mod topic;

pub use hub::{CLOSE_SLOW, Hub, HubConfig, RenderError, Session, SessionLimit, Source};
pub use outbox::{Close, Next};
pub use stats::{Disconnect, FrameKind, Stats, StatsSnapshot};
pub use topic::{Topic, TopicError};
