//! Delivery of alert events to webhook receivers. The alert event log is
//! the outbox: each receiver has a cursor in the database
//! (`ioc_store::webhooks`), leased by one node at a time, so events are
//! delivered at least once across restarts and nodes, in log order, each
//! retried with exponential backoff under one `Idempotency-Key` (from the
//! event's seq) so that a receiver can drop a repeat.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use ioc_store::alerts::{Alert, Event};
use ioc_store::webhooks::{self, Cursor};
use ioc_store::{Store, StoreError};
use serde_json::Value;
use tokio::sync::Notify;

/// First wait before a retry; doubled each time, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// How often a receiver's log is read with no local wake-up (events of
/// other nodes, retries that are due).
const POLL: Duration = Duration::from_secs(1);
/// How long a node's lease on a receiver holds without renewal.
const LEASE: TimeDelta = TimeDelta::seconds(30);
/// How long a hole in the event log's seqs is waited for (a transaction
/// that took its seq and has not committed yet) before it is skipped.
const GAP_PATIENCE: Duration = Duration::from_secs(5);
/// Events read at once.
const PAGE: i64 = 100;

/// The idempotency key of event `seq`: the same for every attempt.
pub fn idempotency_key(seq: i64) -> String {
    format!("ioc-alert-event-{seq}")
}

/// Makes the body sent for an event of an alert.
pub type Render = Arc<dyn Fn(&Event, &Alert) -> Value + Send + Sync>;

/// What the delivery tasks share.
pub struct Delivery {
    /// The database with the event log and the cursors.
    pub store: Store,
    /// Rule id → receiver URL.
    pub routes: HashMap<String, String>,
    /// Tries per event before it is given up.
    pub attempts: u32,
    /// Longest wait for a receiver's answer.
    pub timeout: Duration,
    /// TLS for `https://` receivers.
    pub tls: Arc<rustls::ClientConfig>,
    /// The body of an event.
    pub render: Render,
}

/// The delivery tasks of a node: one per receiver URL.
pub struct Webhooks {
    wake: Arc<Notify>,
    stopped: Arc<AtomicBool>,
}

impl Webhooks {
    /// Starts one delivery task per receiver of `delivery.routes`.
    pub fn start(delivery: Delivery) -> Webhooks {
        let wake = Arc::new(Notify::new());
        let stopped = Arc::new(AtomicBool::new(false));
        let urls: HashSet<String> = delivery.routes.values().cloned().collect();
        let delivery = Arc::new(delivery);
        let node = node_name();
        for url in urls {
            actix_web::rt::spawn(deliver_to(
                url,
                node.clone(),
                delivery.clone(),
                wake.clone(),
                stopped.clone(),
            ));
        }
        Webhooks { wake, stopped }
    }

    /// New events were written here: read the log now.
    pub fn wake(&self) {
        self.wake.notify_waiters();
    }

    /// Stops delivering (the server has stopped); another node or the next
    /// start takes over from the cursor.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        self.wake.notify_waiters();
    }
}

/// A name for this process among the nodes, for leases.
fn node_name() -> String {
    let mut bytes = [0u8; 8];
    let random = getrandom::fill(&mut bytes).map_or(0, |()| u64::from_le_bytes(bytes));
    format!("{}-{random:016x}", std::process::id())
}

/// Delivers the events routed to `url` for as long as the node runs.
async fn deliver_to(
    url: String,
    node: String,
    delivery: Arc<Delivery>,
    wake: Arc<Notify>,
    stopped: Arc<AtomicBool>,
) {
    let client = awc::Client::builder()
        .connector(awc::Connector::new().rustls_0_23(delivery.tls.clone()))
        .timeout(delivery.timeout)
        .finish();
    let mut gap: Option<Gap> = None;
    while !stopped.load(Ordering::Acquire) {
        let wait = match round(&url, &node, &delivery, &client, &mut gap).await {
            Ok(wait) => wait,
            Err(e) => {
                tracing::warn!(message = "Webhook delivery cannot read the store.", %url, error = %e);
                POLL
            }
        };
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// A hole in the event log's seqs just after `after`, first seen `since`.
#[derive(Debug, Clone, Copy)]
struct Gap {
    after: i64,
    since: Instant,
}

/// How long a lease is taken for: long enough for one delivery attempt.
fn lease_for(delivery: &Delivery) -> TimeDelta {
    TimeDelta::from_std(delivery.timeout * 2)
        .unwrap_or(LEASE)
        .max(LEASE)
}

/// One pass: claims the receiver, delivers what is due, saves the cursor;
/// returns how long to wait before the next pass.
async fn round(
    url: &str,
    node: &str,
    delivery: &Delivery,
    client: &awc::Client,
    gap: &mut Option<Gap>,
) -> Result<Duration, StoreError> {
    let lease = lease_for(delivery);
    let (claim_url, claim_node) = (url.to_owned(), node.to_owned());
    let Some(mut cursor) = delivery
        .store
        .run(move |conn| webhooks::claim(conn, &claim_url, &claim_node, Utc::now(), lease))
        .await?
    else {
        return Ok(POLL);
    };
    if let Some(due) = cursor.next_attempt_at
        && due > Utc::now()
    {
        return Ok((due - Utc::now()).to_std().unwrap_or(POLL).min(POLL));
    }
    let after = cursor.delivered_seq;
    let (events, alerts) = delivery
        .store
        .run(move |conn| {
            let events = ioc_store::alerts::events_after(conn, after, PAGE)?;
            let mut ids: Vec<i64> = events.iter().map(|e| e.alert_id).collect();
            ids.sort_unstable();
            ids.dedup();
            let alerts: HashMap<i64, Alert> = ioc_store::alerts::by_ids(conn, &ids)?
                .into_iter()
                .map(|a| (a.id, a))
                .collect();
            Ok((events, alerts))
        })
        .await?;
    let mut wait = POLL;
    let mut consumed = 0;
    for event in &events {
        if event.seq != cursor.delivered_seq + 1 {
            // A hole seen at another position (or long ago, before a lost
            // lease) starts its patience anew.
            let seen = match *gap {
                Some(g) if g.after == cursor.delivered_seq => g,
                _ => *gap.insert(Gap {
                    after: cursor.delivered_seq,
                    since: Instant::now(),
                }),
            };
            if seen.since.elapsed() < GAP_PATIENCE {
                break;
            }
        }
        *gap = None;
        let routed = alerts
            .get(&event.alert_id)
            .filter(|a| delivery.routes.get(&a.key.rule).is_some_and(|u| u == url));
        if let Some(alert) = routed {
            // Renew the lease before each attempt, so that no other node
            // takes the receiver over while this one is still posting.
            let (renew_url, renew_node) = (url.to_owned(), node.to_owned());
            let held = delivery
                .store
                .run(move |conn| webhooks::renew(conn, &renew_url, &renew_node, Utc::now(), lease))
                .await?;
            if !held {
                tracing::warn!(message = "Webhook lease lost to another node.", %url);
                return Ok(POLL);
            }
            match post(client, url, event, &(delivery.render)(event, alert)).await {
                Ok(()) => {}
                Err(why) if cursor.attempts + 1 < delivery.attempts as i32 => {
                    cursor.attempts += 1;
                    let backoff = backoff(cursor.attempts);
                    tracing::warn!(message = "Webhook delivery failed; retrying.", %url, seq = event.seq, attempt = cursor.attempts, error = %why);
                    cursor.next_attempt_at =
                        Some(Utc::now() + TimeDelta::from_std(backoff).unwrap_or(LEASE));
                    wait = backoff.min(POLL);
                    break;
                }
                Err(why) => {
                    tracing::error!(message = "Webhook delivery given up.", %url, seq = event.seq, attempts = delivery.attempts, error = %why);
                }
            }
        }
        cursor = Cursor {
            delivered_seq: event.seq,
            attempts: 0,
            next_attempt_at: None,
        };
        consumed += 1;
        wait = Duration::ZERO;
    }
    let (save_url, save_node) = (url.to_owned(), node.to_owned());
    let saved = delivery
        .store
        .run(move |conn| webhooks::save(conn, &save_url, &save_node, &cursor))
        .await?;
    if !saved {
        tracing::warn!(message = "Webhook lease lost to another node.", %url);
    }
    Ok(if consumed == events.len() && events.len() as i64 == PAGE {
        Duration::ZERO
    } else {
        wait
    })
}

/// Why TLS for webhooks cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The CA file cannot be read or holds no certificate.
    #[error("alerts.webhook_ca_file {path}: {reason}")]
    CaFile {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// The TLS client configuration of webhook deliveries: the system's root
/// certificates, and those of `ca_file` when given; HTTP/1.1.
pub fn tls_config(
    ca_file: Option<&std::path::Path>,
) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (added, ignored) = roots.add_parsable_certificates(native.certs);
    tracing::debug!(message = "System root certificates read.", added, ignored);
    if let Some(path) = ca_file {
        let failed = |reason: String| TlsError::CaFile {
            path: path.display().to_string(),
            reason,
        };
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| failed(e.to_string()))?
            .collect::<Result<_, _>>()
            .map_err(|e| failed(e.to_string()))?;
        if certs.is_empty() {
            return Err(failed("holds no PEM certificate".to_owned()));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| failed(format!("a certificate is not usable: {e}")))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The wait after `attempts` failed tries.
fn backoff(attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(16);
    (FIRST_BACKOFF * 2u32.pow(doublings)).min(MAX_BACKOFF)
}

/// POSTs one event; `Err` with why it was not accepted.
async fn post(client: &awc::Client, url: &str, event: &Event, body: &Value) -> Result<(), String> {
    let key = idempotency_key(event.seq);
    match client
        .post(url)
        .insert_header(("Idempotency-Key", key.as_str()))
        .send_json(body)
        .await
    {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => Err(format!("answered {}", response.status().as_u16())),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_a_minute() {
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_secs(1));
        assert_eq!(backoff(4), Duration::from_secs(4));
        assert_eq!(backoff(30), MAX_BACKOFF);
    }

    #[test]
    fn a_ca_file_that_is_missing_or_empty_is_named() {
        let missing =
            tls_config(Some(std::path::Path::new("/nonexistent/ca.pem"))).expect_err("missing");
        assert!(
            missing.to_string().contains("/nonexistent/ca.pem"),
            "{missing}"
        );
        let empty = std::env::temp_dir().join(format!("ioc-empty-ca-{}.pem", std::process::id()));
        std::fs::write(&empty, "not a certificate\n").expect("file");
        let error = tls_config(Some(&empty)).expect_err("empty");
        assert!(error.to_string().contains("no PEM certificate"), "{error}");
        let _ = std::fs::remove_file(empty);
        assert!(tls_config(None).is_ok(), "the system's roots alone");
    }
}
