//! `[database]`: which database, and how the pool uses it.

use std::time::Duration;

use ioc_store::DatabaseUrl;

use super::reader::Reader;

/// `[database]`
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// Which database.
    pub url: DatabaseUrl,
    /// Pool size.
    pub max_connections: u32,
    /// How long a request waits for a pooled connection.
    pub acquire_timeout: Duration,
    /// How long the database may take for a request's work.
    pub request_timeout: Duration,
    /// Apply pending migrations when `serve` starts.
    pub migrate_on_start: bool,
}

impl DatabaseSettings {
    /// Reads `[database]`.
    pub(super) fn read(reader: &mut Reader) -> DatabaseSettings {
        let url = reader.parse("database.url", "sqlite://data/ioc.sqlite3", |s| {
            DatabaseUrl::parse(s).map_err(|e| e.to_string())
        });
        let max_connections = reader.integer("database.max_connections", 8, 1, 1000);
        let acquire_timeout = reader.integer("database.acquire_timeout_secs", 5, 1, 3600);
        let request_timeout = reader.integer("database.request_timeout_secs", 30, 1, 3600);
        let migrate_on_start = reader.boolean("database.migrate_on_start", true);
        DatabaseSettings {
            url,
            max_connections,
            acquire_timeout: Duration::from_secs(acquire_timeout.into()),
            request_timeout: Duration::from_secs(request_timeout.into()),
            migrate_on_start,
        }
    }
}
