//! Delivery of alert events to webhook receivers: a JSON POST per event,
//! in order per receiver, each retried with exponential backoff and
//! carrying an `Idempotency-Key` header (from the event's seq) so that a
//! receiver can drop a repeat.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;

/// First wait before a retry; doubled each time, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Events waiting per receiver; more are dropped (and logged).
const QUEUE: usize = 10_000;

/// Sends events to webhook receivers in the background, one queue and
/// one sender task per receiver URL.
#[derive(Debug)]
pub struct Webhooks {
    attempts: u32,
    timeout: Duration,
    queues: Mutex<HashMap<String, Queue>>,
}

/// The queue of one receiver: event seqs and bodies.
type Queue = mpsc::Sender<(i64, Value)>;

/// The idempotency key of event `seq`: the same for every attempt.
pub fn idempotency_key(seq: i64) -> String {
    format!("ioc-alert-event-{seq}")
}

impl Webhooks {
    /// Up to `attempts` tries per event, each waiting `timeout` at most.
    pub fn new(attempts: u32, timeout: Duration) -> Webhooks {
        Webhooks {
            attempts,
            timeout,
            queues: Mutex::default(),
        }
    }

    /// Queues `body`, the event `seq`, for `url`.
    pub fn deliver(&self, url: String, seq: i64, body: Value) {
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        let queue = queues.entry(url.clone()).or_insert_with(|| {
            let (sender, receiver) = mpsc::channel(QUEUE);
            actix_web::rt::spawn(send_in_order(
                url.clone(),
                receiver,
                self.attempts,
                self.timeout,
            ));
            sender
        });
        if let Err(e) = queue.try_send((seq, body)) {
            tracing::error!(message = "Webhook queue full; event dropped.", %url, seq, error = %e);
        }
    }
}

/// POSTs each queued event to `url` until a 2xx answer or the attempts
/// run out, then the next.
async fn send_in_order(
    url: String,
    mut queue: mpsc::Receiver<(i64, Value)>,
    attempts: u32,
    timeout: Duration,
) {
    let client = awc::Client::builder().timeout(timeout).finish();
    while let Some((seq, body)) = queue.recv().await {
        let key = idempotency_key(seq);
        let mut backoff = FIRST_BACKOFF;
        let mut delivered = false;
        for attempt in 1..=attempts {
            let outcome = client
                .post(&url)
                .insert_header(("Idempotency-Key", key.as_str()))
                .send_json(&body)
                .await;
            match outcome {
                Ok(response) if response.status().is_success() => {
                    tracing::debug!(message = "Webhook delivered.", seq, attempt);
                    delivered = true;
                    break;
                }
                Ok(response) => tracing::warn!(
                    message = "Webhook refused the event.",
                    seq,
                    attempt,
                    status = response.status().as_u16()
                ),
                Err(e) => tracing::warn!(
                    message = "Webhook unreachable.",
                    seq,
                    attempt,
                    error = %e
                ),
            }
            if attempt < attempts {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
        if !delivered {
            tracing::error!(message = "Webhook delivery given up.", %url, seq, attempts);
        }
    }
}
