//! The test harness of ioc, shared by the black-box tests of the root
//! package (`tests/`), the process tests of `ioc-server` and `ioc-bench`.
//! A dev-only crate: nothing shipped depends on it.
//!
//! - [`process`]: start the `ioc` binary with `ioc serve` ([`spawn_ioc`])
//!   and wait until `/readyz` answers 200 ([`wait_ready`]);
//! - [`metrics`]: read `/metrics` in the Prometheus text format
//!   ([`scrape`], [`sample`]);
//! - [`both_backends!`]: one test body run on SQLite and on PostgreSQL;
//! - with the `app` feature, `TestApp` (a server in the test process on a
//!   random loopback port with a test database) and `Screen` (a WebSocket
//!   client that holds topics as a wall screen does).
//!
//! Features: `store` for the store form of [`both_backends!`], `app` for
//! `TestApp`, `Screen` and the app form (it implies `store`). Without
//! them (as `ioc-bench` uses it) the crate needs only `awc`.

#[cfg(feature = "app")]
pub mod app;
pub mod metrics;
pub mod process;
#[cfg(feature = "app")]
pub mod screen;

#[cfg(feature = "app")]
pub use app::{Backend, Node, Running, TestApp};
pub use metrics::{sample, scrape};
pub use process::{
    IocProcess, SpawnIoc, free_address, repo_config, spawn_ioc, wait_ready, wait_ready_blocking,
};
#[cfg(feature = "app")]
pub use screen::{Connect, Held, Screen};

/// A harness step that failed: the server never became ready, a request
/// could not be sent, a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl Error {
    pub(crate) fn new(message: impl Into<String>) -> Error {
        Error(message.into())
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// What the expansions of [`both_backends!`] name; not an API.
#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "store")]
    pub use ioc_store::testing::TestDb;
}

/// Runs one test body on both backends: defines the module `name` with
/// the tests `name::sqlite` and `name::postgres` (which returns at once
/// when PostgreSQL tests are skipped on purpose).
///
/// - `both_backends!(name, |store| { … })` (feature `store`): a plain
///   `#[test]` with `store`, a migrated `ioc_store::Store` on a fresh
///   test database;
/// - `both_backends!(name, |app: TestApp| async move { … })` (feature
///   `app`): an `#[actix_web::test]` with a `TestApp` started with the
///   repository's configuration (the calling crate depends on
///   `actix-web`).
///
/// The body sees the items of the enclosing module (`use super::*`).
#[macro_export]
macro_rules! both_backends {
    ($name:ident, |$store:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn sqlite() {
                let db = $crate::__private::TestDb::sqlite();
                let $store = db.migrated_store();
                $body
            }

            #[test]
            fn postgres() {
                let Some(db) = $crate::__private::TestDb::postgres() else {
                    return;
                };
                let $store = db.migrated_store();
                $body
            }
        }
    };
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[actix_web::test]
            async fn sqlite() {
                if let Some(app) = $crate::TestApp::spawn($crate::Backend::Sqlite, &[]).await {
                    ($body)(app).await;
                }
            }

            #[actix_web::test]
            async fn postgres() {
                if let Some(app) = $crate::TestApp::spawn($crate::Backend::Postgres, &[]).await {
                    ($body)(app).await;
                }
            }
        }
    };
}
