//! Errors of the store.

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
    #[error("cannot connect to {database}: {source}")]
    Connect {
        /// The database, with any password hidden.
        database: String,
        /// The driver's error.
        #[source]
        source: diesel::ConnectionError,
    },
    /// No pooled connection became free in time, or the pool could not open one.
    #[error("database unavailable: {0}")]
    Unavailable(#[from] r2d2::Error),
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// A stored value could not be decoded.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// A blocking database task panicked or was cancelled.
    #[error("database task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}
