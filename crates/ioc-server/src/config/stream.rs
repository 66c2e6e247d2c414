//! `[stream]`: live updates over `/ws`.

use std::time::Duration;

use super::reader::Reader;

/// `[stream]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSettings {
    /// Least time between two deltas of a topic (changes in between coalesce).
    pub min_interval: Duration,
    /// Frames a session may have queued before it is owed snapshots instead.
    pub queue_frames: usize,
    /// How long a session may stay behind before it is closed.
    pub slow_client_limit: Duration,
    /// Sessions per node; more are closed with 1013 (try again later).
    pub max_sessions: usize,
    /// Topics per session.
    pub max_topics: usize,
    /// Largest message a client may send, in bytes (close 1009 above).
    pub max_message_bytes: usize,
    /// How often the server pings.
    pub ping_interval: Duration,
    /// A client silent this long (no message, no pong) is closed.
    pub client_timeout: Duration,
}

impl StreamSettings {
    /// Reads `[stream]`; [`StreamSettings::check`] then checks its keys
    /// against each other.
    pub(super) fn read(reader: &mut Reader) -> StreamSettings {
        StreamSettings {
            min_interval: Duration::from_millis(
                reader
                    .integer("stream.min_interval_ms", 250, 0, 60_000)
                    .into(),
            ),
            queue_frames: reader.integer("stream.queue_frames", 64, 1, 100_000) as usize,
            slow_client_limit: Duration::from_secs(
                reader
                    .integer("stream.slow_client_limit_secs", 30, 1, 3600)
                    .into(),
            ),
            max_sessions: reader.integer("stream.max_sessions", 10_000, 1, 1_000_000) as usize,
            max_topics: reader.integer("stream.max_topics", 100, 1, 10_000) as usize,
            max_message_bytes: reader.integer("stream.max_message_bytes", 65_536, 256, 16_777_216)
                as usize,
            ping_interval: Duration::from_secs(
                reader
                    .integer("stream.ping_interval_secs", 15, 1, 3600)
                    .into(),
            ),
            client_timeout: Duration::from_secs(
                reader
                    .integer("stream.client_timeout_secs", 45, 1, 3600)
                    .into(),
            ),
        }
    }

    /// Records a problem if a client could time out between two pings.
    /// Run once every section is read, as the checks across keys are.
    pub(super) fn check(&self, reader: &mut Reader) {
        if self.client_timeout <= self.ping_interval {
            reader.problem(
                "stream.client_timeout_secs",
                "must be longer than stream.ping_interval_secs".to_owned(),
            );
        }
    }
}
