//! Errors of the store. Each message carries the driver's own reason, so
//! the variants keep no separate `source()` chain that would repeat it.

/// What can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is not one ioc can use.
    #[error("invalid database URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL, with any password hidden.
        url: String,
        /// Why it is refused.
        reason: String,
    },
    /// The database could not be reached or opened.
    #[error("cannot connect to {database}: {cause}")]
    Connect {
        /// The database, with any password hidden.
        database: String,
        /// The driver's error.
        cause: diesel::ConnectionError,
    },
    /// No pooled connection became free in time, or the pool could not open one.
    #[error("database unavailable: {0}")]
    Unavailable(r2d2::Error),
    /// The database did not answer a request's work in time.
    #[error("the database did not answer within {0:?}")]
    Timeout(std::time::Duration),
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(diesel::result::Error),
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// A stored value could not be decoded.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// A blocking database task panicked or was cancelled.
    #[error("database task failed: {0}")]
    Task(tokio::task::JoinError),
    /// The listener thread could not be started.
    #[error("cannot start the change listener: {0}")]
    Listener(std::io::Error),
}

impl StoreError {
    /// Whether the database says its disk is full (SQLite's SQLITE_FULL,
    /// PostgreSQL's ENOSPC): nothing of the transaction was written.
    pub fn is_disk_full(&self) -> bool {
        let StoreError::Query(diesel::result::Error::DatabaseError(_, info)) = self else {
            return false;
        };
        [
            "database or disk is full",
            "No space left on device",
            "could not extend file",
        ]
        .iter()
        .any(|m| info.message().contains(m))
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> Self {
        StoreError::Unavailable(e)
    }
}

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> Self {
        StoreError::Query(e)
    }
}

impl From<tokio::task::JoinError> for StoreError {
    fn from(e: tokio::task::JoinError) -> Self {
        StoreError::Task(e)
    }
}
