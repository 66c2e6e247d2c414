//! Persistence of ioc: PostgreSQL in production, bundled SQLite as the
//! embedded default, through one diesel codebase.
//!
//! A [`Store`] owns a connection pool; blocking database work runs off the
//! async threads through [`Store::run`]. Query functions take
//! `&mut AnyConnection`, so they compose inside one transaction.

pub mod alerts;
mod backend;
pub mod changes;
pub mod checkpoints;
pub mod dossiers;
mod error;
pub mod feed;
pub mod imports;
pub mod listen;
mod migrate;
mod pool;
pub mod reference;
pub mod schema;
pub mod snapshot;
#[cfg(feature = "test-util")]
pub mod testing;
mod time;
pub mod tokens;
pub mod webhooks;

pub use backend::{AnyConnection, Backend, DatabaseUrl};
pub use error::StoreError;
pub use migrate::{migrate, pending_migrations};
pub use pool::{Store, StoreOptions};
