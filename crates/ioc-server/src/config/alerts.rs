//! `[alerts]`: the rules file, how often thresholds are evaluated, the
//! `alerts` topic, and webhook delivery.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::reader::{Reader, locate};

/// `[alerts]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertSettings {
    /// The rules file.
    pub file: PathBuf,
    /// How often unit thresholds are evaluated when no change arrives.
    pub evaluate_every: Duration,
    /// Active alerts listed in the `alerts` topic.
    pub topic_items: usize,
    /// Webhook delivery attempts per event.
    pub webhook_attempts: u32,
    /// Timeout of one webhook attempt.
    pub webhook_timeout: Duration,
    /// PEM certificates trusted for `https://` receivers besides the
    /// system's roots (a province's own CA).
    pub webhook_ca_file: Option<PathBuf>,
}

impl AlertSettings {
    /// Reads `[alerts]`; relative paths are located against `base_dir`.
    pub(super) fn read(reader: &mut Reader, base_dir: &Path) -> AlertSettings {
        AlertSettings {
            file: reader.path("alerts.file", "alerts.toml", base_dir),
            evaluate_every: Duration::from_secs(
                reader
                    .integer("alerts.evaluate_every_secs", 30, 1, 3600)
                    .into(),
            ),
            topic_items: reader.integer("alerts.topic_items", 100, 1, 10_000) as usize,
            webhook_attempts: reader.integer("alerts.webhook_attempts", 6, 1, 100),
            webhook_timeout: Duration::from_secs(
                reader
                    .integer("alerts.webhook_timeout_secs", 10, 1, 600)
                    .into(),
            ),
            webhook_ca_file: {
                let raw = reader.string("alerts.webhook_ca_file", "");
                match raw.as_str() {
                    "" => None,
                    _ => Some(locate(base_dir, PathBuf::from(raw), true)),
                }
            },
        }
    }
}
