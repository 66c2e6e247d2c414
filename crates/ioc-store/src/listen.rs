//! Wake-ups from PostgreSQL's `LISTEN`/`NOTIFY`: every commit that adds to
//! the change log notifies the `ioc_changes` channel (a trigger, migration
//! `000003`), and every change of the tokens `ioc_tokens` (migration
//! `000006`), so that each node reads the log or its tokens at once instead
//! of waiting for its next poll.
//!
//! diesel exposes libpq's non-blocking `PQconsumeInput`/`PQnotifies` but not
//! the socket, so a dedicated thread checks its own connection every
//! [`CHECK_EVERY`]: a read of the local socket buffer, no round trip to the
//! server. The connection is reopened after an error; the caller's slow
//! poll covers the time it is down.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use crate::{DatabaseUrl, StoreError};

/// The channel the change-log trigger notifies.
pub const CHANGES: &str = "ioc_changes";
/// The channel the token table's trigger notifies.
pub const TOKENS: &str = "ioc_tokens";
/// How often the listening connection's socket buffer is checked.
pub const CHECK_EVERY: Duration = Duration::from_millis(10);
/// How often the listening connection is checked with a query, so that a
/// connection the server dropped is noticed and reopened.
const KEEPALIVE: Duration = Duration::from_secs(30);
/// How long to wait before reopening a failed connection.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// A running listener; stops when dropped.
pub struct Listener {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Listens on `channel` ([`CHANGES`] or [`TOKENS`]) of the PostgreSQL
/// database at `url` and calls `on_change` after each notification
/// (several pending ones count once).
/// The first connection is opened before returning, so a bad URL fails here.
/// `None` for SQLite, which has one writer process and nothing to listen to.
pub fn listen(
    url: &DatabaseUrl,
    channel: &'static str,
    on_change: impl Fn() + Send + 'static,
) -> Result<Option<Listener>, StoreError> {
    let DatabaseUrl::Postgres(raw) = url else {
        return Ok(None);
    };
    let first = open(url, raw, channel)?;
    let stop = Arc::new(AtomicBool::new(false));
    let thread = {
        let (stop, url, raw) = (stop.clone(), url.clone(), raw.clone());
        std::thread::Builder::new()
            .name("ioc-listen".to_owned())
            .spawn(move || run(first, &url, &raw, channel, &stop, &on_change))
            .map_err(StoreError::Listener)?
    };
    Ok(Some(Listener {
        stop,
        thread: Some(thread),
    }))
}

fn open(url: &DatabaseUrl, raw: &str, channel: &str) -> Result<PgConnection, StoreError> {
    let mut conn = PgConnection::establish(raw).map_err(|cause| StoreError::Connect {
        database: url.to_string(),
        cause,
    })?;
    conn.batch_execute(&format!("LISTEN {channel}"))
        .map_err(StoreError::Query)?;
    Ok(conn)
}

fn run(
    first: PgConnection,
    url: &DatabaseUrl,
    raw: &str,
    channel: &str,
    stop: &AtomicBool,
    on_change: &dyn Fn(),
) {
    let mut conn = Some(first);
    let mut checked = Instant::now();
    while !stop.load(Ordering::Acquire) {
        let Some(live) = conn.as_mut() else {
            std::thread::sleep(RECONNECT_AFTER);
            match open(url, raw, channel) {
                Ok(reopened) => {
                    tracing::info!(message = "Listening for changes again.");
                    conn = Some(reopened);
                    // Changes committed while the connection was down.
                    on_change();
                }
                Err(e) => tracing::warn!(message = "Cannot reopen the listener.", error = %e),
            }
            continue;
        };
        let mut notified = false;
        let mut failed = None;
        for received in live.notifications_iter() {
            match received {
                Ok(_) => notified = true,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if failed.is_none() && checked.elapsed() >= KEEPALIVE {
            failed = live.batch_execute("SELECT 1").err();
            checked = Instant::now();
        }
        if notified {
            on_change();
        }
        if let Some(e) = failed {
            tracing::warn!(message = "The listener's connection failed; reopening.", error = %e);
            conn = None;
            continue;
        }
        std::thread::sleep(CHECK_EVERY);
    }
}
