//! `[log]`: the format and default filter of log lines.

use super::reader::Reader;

/// `[log]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// Output format.
    pub format: LogFormat,
    /// Default filter (`RUST_LOG` overrides it).
    pub level: String,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

impl LogSettings {
    /// Reads `[log]`.
    pub(super) fn read(reader: &mut Reader) -> LogSettings {
        let format = reader.parse("log.format", "pretty", |s| match s {
            "pretty" => Ok(LogFormat::Pretty),
            "json" => Ok(LogFormat::Json),
            other => Err(format!(
                "unknown log format {other:?} (expected pretty or json)"
            )),
        });
        let level = reader.string("log.level", "info");
        LogSettings { format, level }
    }
}
