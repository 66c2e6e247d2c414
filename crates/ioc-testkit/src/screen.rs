//! A wall-screen client for tests: a real WebSocket over loopback that
//! keeps each topic's value as the documented client contract says
//! (snapshot replaces, delta patches, a gap or a new epoch resubscribes).

use std::collections::HashMap;
use std::time::Duration;

use actix_codec::Framed;
use awc::BoxedSocket;
use awc::ws::{Codec, Frame, Message};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};

/// How long a test waits for one frame before it fails (a broken build
/// must not hang; this is not a latency assertion).
const PATIENCE: Duration = Duration::from_secs(20);

/// One topic as the client holds it.
#[derive(Debug, Clone)]
pub struct Held {
    /// The sequence number of the last snapshot or delta applied.
    pub seq: u64,
    /// The topic's value.
    pub value: Value,
}

/// A connected client.
pub struct Screen {
    socket: Framed<BoxedSocket, Codec>,
    /// The server run's epoch of the last data frame.
    pub epoch: Option<String>,
    /// Each subscribed topic as held.
    pub topics: HashMap<String, Held>,
    /// Topics whose deltas arrived with a gap (and were resubscribed).
    pub gaps: Vec<String>,
    /// Every data frame received, in order: (type, topic, seq).
    pub log: Vec<(String, String, u64)>,
}

/// How a connection attempt ended.
pub enum Connect {
    /// The upgrade succeeded.
    Open(Box<Screen>),
    /// The server refused the upgrade with this HTTP status.
    Refused(u16),
}

impl Screen {
    /// Connects to `/ws` of `address`, with `query` (e.g. `?token=…`).
    pub async fn connect(address: std::net::SocketAddr, query: &str) -> Screen {
        match Screen::try_connect(address, query).await {
            Connect::Open(screen) => *screen,
            Connect::Refused(status) => panic!("/ws refused the upgrade with {status}"),
        }
    }

    /// Connects, or reports the HTTP status of a refused upgrade.
    pub async fn try_connect(address: std::net::SocketAddr, query: &str) -> Connect {
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(30))
            .finish();
        let request = client
            .ws(format!("ws://{address}/ws{query}"))
            .max_frame_size(64 * 1024 * 1024);
        match request.connect().await {
            Ok((_, socket)) => Connect::Open(Box::new(Screen {
                socket,
                epoch: None,
                topics: HashMap::new(),
                gaps: Vec::new(),
                log: Vec::new(),
            })),
            Err(awc::error::WsClientError::InvalidResponseStatus(status)) => {
                Connect::Refused(status.as_u16())
            }
            Err(e) => panic!("cannot connect to /ws: {e}"),
        }
    }

    /// Sends a text message.
    pub async fn send_text(&mut self, text: impl Into<String>) {
        self.socket
            .send(Message::Text(text.into().into()))
            .await
            .expect("send");
    }

    /// Sends `{"op":"subscribe","topics":[…]}`.
    pub async fn subscribe(&mut self, topics: &[&str]) {
        self.send_text(json!({"op": "subscribe", "topics": topics}).to_string())
            .await;
    }

    /// Sends a binary message.
    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.socket
            .send(Message::Binary(bytes.into()))
            .await
            .expect("send");
    }

    /// The next text frame as JSON, without applying it; panics on a close.
    pub async fn raw_frame(&mut self) -> Value {
        loop {
            match self.next().await {
                Frame::Text(bytes) => return serde_json::from_slice(&bytes).expect("JSON frame"),
                Frame::Ping(bytes) => {
                    let _ = self.socket.send(Message::Pong(bytes)).await;
                }
                Frame::Close(reason) => panic!("closed by the server: {reason:?}"),
                _ => {}
            }
        }
    }

    async fn next(&mut self) -> Frame {
        match tokio::time::timeout(PATIENCE, self.socket.next()).await {
            Ok(Some(Ok(frame))) => frame,
            Ok(Some(Err(e))) => panic!("WebSocket error: {e}"),
            Ok(None) => panic!("the server closed the connection"),
            Err(_) => panic!("no frame within {PATIENCE:?}"),
        }
    }

    /// Reads until the server closes; the close code, or `None` when the
    /// connection ended without a close frame.
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            match tokio::time::timeout(PATIENCE, self.socket.next()).await {
                Ok(Some(Ok(Frame::Close(reason)))) => return reason.map(|r| r.code.into()),
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_)) | None) => return None,
                Err(_) => panic!("the server did not close within {PATIENCE:?}"),
            }
        }
    }

    /// Reads one frame and applies it as a client should; returns it.
    pub async fn frame(&mut self) -> Value {
        let frame = self.raw_frame().await;
        self.apply(&frame).await;
        frame
    }

    async fn apply(&mut self, frame: &Value) {
        let kind = frame["type"].as_str().unwrap_or_default().to_owned();
        if kind != "snapshot" && kind != "delta" {
            return;
        }
        let topic = frame["topic"].as_str().expect("topic").to_owned();
        let seq = frame["seq"].as_u64().expect("seq");
        let epoch = frame["epoch"].as_str().expect("epoch").to_owned();
        self.log.push((kind.clone(), topic.clone(), seq));
        if self.epoch.as_deref() != Some(epoch.as_str()) && kind == "delta" {
            // A new epoch: what we hold is from another server run.
            self.epoch = Some(epoch);
            self.gaps.push(topic.clone());
            self.subscribe(&[&topic]).await;
            return;
        }
        self.epoch = Some(epoch);
        if kind == "snapshot" {
            self.topics.insert(
                topic,
                Held {
                    seq,
                    value: frame["data"].clone(),
                },
            );
            return;
        }
        match self.topics.get_mut(&topic) {
            Some(held) if seq == held.seq + 1 => {
                ioc_stream::patch::apply(&mut held.value, &frame["data"]);
                held.seq = seq;
            }
            Some(held) if seq <= held.seq => {} // already in a later snapshot
            _ => {
                self.gaps.push(topic.clone());
                self.subscribe(&[&topic]).await;
            }
        }
    }

    /// Applies frames until `topic`'s value satisfies `ready`; returns it.
    pub async fn until(&mut self, topic: &str, ready: impl Fn(&Value) -> bool) -> Value {
        loop {
            if let Some(held) = self.topics.get(topic)
                && ready(&held.value)
            {
                return held.value.clone();
            }
            self.frame().await;
        }
    }

    /// Whether a frame arrives within `wait`; applies it if so.
    pub async fn frame_within(&mut self, wait: Duration) -> Option<Value> {
        let frame = match tokio::time::timeout(wait, self.socket.next()).await {
            Ok(Some(Ok(Frame::Text(bytes)))) => serde_json::from_slice::<Value>(&bytes).ok()?,
            _ => return None,
        };
        self.apply(&frame).await;
        Some(frame)
    }
}
