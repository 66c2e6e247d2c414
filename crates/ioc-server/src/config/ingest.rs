//! `[ingest]`: limits of the ingest endpoints, the times a record may
//! carry, and each source's own status codes.

use std::collections::HashMap;

use ioc_core::Status;
use toml::Value;

use super::ConfigProblem;
use super::reader::Reader;

/// `[ingest]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestSettings {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Most records in one batch.
    pub max_batch_records: usize,
    /// Per source: its own status codes mapped to standard ones.
    pub status_map: HashMap<String, HashMap<String, Status>>,
    /// The times a record may carry.
    pub bounds: ioc_ingest::TimeBounds,
}

impl IngestSettings {
    /// Reads `[ingest]`.
    pub(super) fn read(reader: &mut Reader) -> IngestSettings {
        let max_body_bytes =
            reader.integer("ingest.max_body_bytes", 16 * 1024 * 1024, 1024, u32::MAX);
        let max_batch_records = reader.integer("ingest.max_batch_records", 10_000, 1, 1_000_000);
        let status_map = status_maps(reader, "ingest.status_map");
        let bounds = ioc_ingest::TimeBounds {
            earliest: reader.parse("ingest.earliest_time", "2000-01-01T00:00:00+07:00", |s| {
                chrono::DateTime::parse_from_rfc3339(s)
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .map_err(|_| format!("{s:?} is not an RFC 3339 time with offset"))
            }),
            max_clock_skew: chrono::TimeDelta::seconds(
                reader
                    .integer("ingest.max_clock_skew_secs", 900, 0, 86_400)
                    .into(),
            ),
            max_due_ahead: chrono::TimeDelta::days(
                reader
                    .integer("ingest.max_due_days_ahead", 1826, 1, 36_500)
                    .into(),
            ),
        };
        IngestSettings {
            max_body_bytes: max_body_bytes as usize,
            max_batch_records: max_batch_records as usize,
            status_map,
            bounds,
        }
    }
}

/// `{ SOURCE = { "CODE" = STATUS, … }, … }`
fn status_maps(reader: &mut Reader, key: &'static str) -> HashMap<String, HashMap<String, Status>> {
    let mut maps = HashMap::new();
    let Some((value, origin)) = reader.take(key) else {
        reader.shown_default(key, Value::Table(toml::Table::new()));
        return maps;
    };
    let Value::Table(sources) = value else {
        reader.type_problem(
            key,
            origin,
            "a table { SOURCE = { \"CODE\" = STATUS } }",
            &value,
        );
        return maps;
    };
    for (source, codes) in sources {
        let Value::Table(codes) = codes else {
            reader.type_problem(
                &format!("{key}.{source}"),
                origin.clone(),
                "a table { \"CODE\" = STATUS }",
                &codes,
            );
            continue;
        };
        let mut map = HashMap::new();
        for (code, status) in codes {
            let parsed = status
                .as_integer()
                .ok_or_else(|| format!("expected a status number 1-10, found {status}"))
                .and_then(|n| Status::from_code(n).map_err(|e| e.to_string()));
            match parsed {
                Ok(status) => {
                    map.insert(code, status);
                }
                Err(message) => reader.problems.push(ConfigProblem {
                    key: format!("{key}.{source}.{code}"),
                    origin: origin.clone(),
                    message,
                }),
            }
        }
        maps.insert(source, map);
    }
    maps
}
