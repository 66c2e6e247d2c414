//! The pipeline of a process: the change feed reads the change log once
//! and fans each batch out to the stages that keep state from it (the
//! engine of the live aggregates, the due index of the alerts), joined by
//! bounded channels. A stage that falls behind holds the feed back; no
//! stage loses a batch or sees one twice.
//!
//! Every write goes to the store and comes back through the feed, on the
//! node that made it as on every other: all nodes count the same log.

use std::sync::Arc;

use ioc_store::feed::{Batch, ChangeFeed};
use tokio::sync::mpsc;

/// Batches queued per stage before the feed waits for it.
const STAGE_QUEUE: usize = 16;

/// What a stage receives: the feed's batches, in order.
pub type Batches = mpsc::Receiver<Arc<Batch>>;

/// The feed and the stages it feeds, until it runs.
pub struct Pipeline {
    feed: ChangeFeed,
    stages: Vec<mpsc::Sender<Arc<Batch>>>,
}

impl Pipeline {
    /// A pipeline reading from `feed`, with no stage yet.
    pub fn new(feed: ChangeFeed) -> Pipeline {
        Pipeline {
            feed,
            stages: Vec::new(),
        }
    }

    /// A new stage: every batch read from now on reaches it.
    pub fn stage(&mut self) -> Batches {
        let (sender, receiver) = mpsc::channel(STAGE_QUEUE);
        self.stages.push(sender);
        receiver
    }

    /// Reads the log and feeds the stages until every stage has stopped.
    pub async fn run(mut self) {
        loop {
            self.feed.wait().await;
            loop {
                let batch = match self.feed.read().await {
                    Ok(batch) => batch,
                    Err(e) => {
                        tracing::warn!(message = "Cannot read the change log; retrying.", error = %e);
                        break;
                    }
                };
                let complete = batch.complete;
                if !batch.changes.is_empty() {
                    let batch = Arc::new(batch);
                    for stage in &self.stages {
                        // A stage that stopped has dropped its receiver.
                        let _ = stage.send(batch.clone()).await;
                    }
                }
                self.stages.retain(|stage| !stage.is_closed());
                if self.stages.is_empty() {
                    return;
                }
                if complete {
                    break;
                }
            }
        }
    }
}
