//! The connection pool and the bridge from async code to blocking diesel.

use std::time::Duration;

use diesel::connection::SimpleConnection;

use crate::{AnyConnection, Backend, DatabaseUrl, StoreError};

/// Pool settings.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Most connections held open at once.
    pub max_connections: u32,
    /// How long a caller waits for a free connection.
    pub acquire_timeout: Duration,
    /// SQLite only: how long a writer waits for a lock before failing.
    pub sqlite_busy_timeout: Duration,
    /// How long the work of a request may take ([`Store::run_bounded`]).
    pub request_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(5),
            sqlite_busy_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// A pool of connections to one database.
#[derive(Clone)]
pub struct Store {
    pool: r2d2::Pool<Manager>,
    url: DatabaseUrl,
    request_timeout: Duration,
}

impl Store {
    /// Connects to `url`. One connection is opened first, so that an
    /// unreachable database fails at once with the driver's own error.
    pub fn connect(url: &DatabaseUrl, options: &StoreOptions) -> Result<Store, StoreError> {
        let manager = Manager {
            url: url.clone(),
            busy_timeout_ms: options.sqlite_busy_timeout.as_millis(),
        };
        let first = manager.open()?;
        // Each in-memory SQLite connection is a database of its own.
        let max_size = match url {
            DatabaseUrl::SqliteMemory => 1,
            _ => options.max_connections.max(1),
        };
        let pool = r2d2::Pool::builder()
            .max_size(max_size)
            .min_idle(Some(0))
            .connection_timeout(options.acquire_timeout)
            .build_unchecked(manager);
        drop(first);
        Ok(Store {
            pool,
            url: url.clone(),
            request_timeout: options.request_timeout,
        })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// The database URL, e.g. to open a dedicated connection.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The database, for messages (passwords hidden).
    pub fn describe(&self) -> String {
        self.url.to_string()
    }

    /// A pooled connection, for blocking callers (CLI commands, tests).
    pub fn get(&self) -> Result<r2d2::PooledConnection<Manager>, StoreError> {
        Ok(self.pool.get()?)
    }

    /// Runs `work` with a pooled connection on the blocking thread pool, in
    /// the caller's tracing span.
    pub async fn run<R, F>(&self, work: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<R, StoreError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            span.in_scope(|| {
                let mut conn = pool.get()?;
                work(&mut conn)
            })
        })
        .await?
    }

    /// [`run`](Self::run) for a request: gives up after the request
    /// timeout, so that a database that stopped answering (a stalled
    /// network) makes requests fail fast instead of hanging. The work goes
    /// on in the background and may still commit: callers retry, and the
    /// version guard counts a retried batch once.
    pub async fn run_bounded<R, F>(&self, work: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<R, StoreError> + Send + 'static,
    {
        let limit = self.request_timeout;
        tokio::time::timeout(limit, self.run(work))
            .await
            .map_err(|_| StoreError::Timeout(limit))?
    }

    /// Checks that the database answers a trivial query within the request
    /// timeout.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.run_bounded(|conn| conn.batch_execute("SELECT 1").map_err(StoreError::Query))
            .await
    }

    /// Connections open and idle, for metrics.
    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }
}

/// Opens connections for the pool, with SQLite's per-connection settings.
#[derive(Debug)]
pub struct Manager {
    url: DatabaseUrl,
    busy_timeout_ms: u128,
}

impl Manager {
    fn open(&self) -> Result<AnyConnection, StoreError> {
        let mut conn = self.url.connect()?;
        if let AnyConnection::Sqlite(sqlite) = &mut conn {
            // WAL lets readers run beside the writer; the busy timeout makes a
            // second writer wait instead of failing with "database is locked".
            sqlite
                .batch_execute(&format!(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {};",
                    self.busy_timeout_ms
                ))
                .map_err(StoreError::Query)?;
        }
        Ok(conn)
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = StoreError;

    fn connect(&self) -> Result<AnyConnection, StoreError> {
        self.open()
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        conn.batch_execute("SELECT 1").map_err(StoreError::Query)
    }

    fn has_broken(&self, _conn: &mut AnyConnection) -> bool {
        false
    }
}
