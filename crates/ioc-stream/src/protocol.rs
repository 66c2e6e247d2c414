//! What travels on the socket: client requests and server frames, as JSON
//! text. See `docs/API.md` ("Live updates").

use bytestring::ByteString;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A request from the client.
#[derive(Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase", deny_unknown_fields)]
pub enum Request {
    /// Start receiving topics; a topic already subscribed is sent again as
    /// a fresh snapshot (how a client resyncs after a gap).
    Subscribe {
        /// Topic names.
        topics: Vec<String>,
    },
    /// Stop receiving topics.
    Unsubscribe {
        /// Topic names.
        topics: Vec<String>,
    },
}

/// Why a request was refused; sent back as an `error` frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    /// Machine-readable code.
    pub code: &'static str,
    /// What was wrong, for people.
    pub message: String,
}

impl Request {
    /// Parses a text message.
    pub fn parse(text: &str) -> Result<Request, RequestError> {
        let value: Value = serde_json::from_str(text).map_err(|e| RequestError {
            code: "bad_json",
            message: format!("the message is not JSON: {e}"),
        })?;
        let op = value.get("op").and_then(Value::as_str).map(str::to_owned);
        match op.as_deref() {
            Some("subscribe" | "unsubscribe") => {
                serde_json::from_value(value).map_err(|e| RequestError {
                    code: "bad_request",
                    message: format!("{}: {e}", op.unwrap_or_default()),
                })
            }
            Some(other) => Err(RequestError {
                code: "unknown_op",
                message: format!("unknown op {other:?} (expected subscribe or unsubscribe)"),
            }),
            None => Err(RequestError {
                code: "bad_request",
                message: "the message has no \"op\" string".to_owned(),
            }),
        }
    }
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Frame<'a> {
    Snapshot {
        topic: &'a str,
        epoch: &'a str,
        seq: u64,
        data: &'a Value,
    },
    Delta {
        topic: &'a str,
        epoch: &'a str,
        seq: u64,
        data: &'a Value,
    },
    Error {
        epoch: &'a str,
        code: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        topic: Option<&'a str>,
        message: &'a str,
    },
    Unsubscribed {
        epoch: &'a str,
        topics: &'a [String],
    },
}

fn encode(frame: &Frame<'_>) -> ByteString {
    // Serialising these types cannot fail: keys are strings, numbers finite.
    ByteString::from(serde_json::to_string(frame).unwrap_or_default())
}

/// A `snapshot` frame: the topic's whole value at `seq`.
pub fn snapshot(topic: &str, epoch: &str, seq: u64, data: &Value) -> ByteString {
    encode(&Frame::Snapshot {
        topic,
        epoch,
        seq,
        data,
    })
}

/// A `delta` frame: the merge patch from `seq - 1` to `seq`.
pub fn delta(topic: &str, epoch: &str, seq: u64, patch: &Value) -> ByteString {
    encode(&Frame::Delta {
        topic,
        epoch,
        seq,
        data: patch,
    })
}

/// An `error` frame, about a topic or the request as a whole.
pub fn error(epoch: &str, code: &str, topic: Option<&str>, message: &str) -> ByteString {
    encode(&Frame::Error {
        epoch,
        code,
        topic,
        message,
    })
}

/// An `unsubscribed` frame confirming topics are no longer sent.
pub fn unsubscribed(epoch: &str, topics: &[String]) -> ByteString {
    encode(&Frame::Unsubscribed { epoch, topics })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn requests_parse() {
        assert_eq!(
            Request::parse(r#"{"op":"subscribe","topics":["overview:today"]}"#),
            Ok(Request::Subscribe {
                topics: vec!["overview:today".to_owned()]
            })
        );
        assert_eq!(
            Request::parse(r#"{"op":"unsubscribe","topics":[]}"#),
            Ok(Request::Unsubscribe { topics: vec![] })
        );
    }

    #[test]
    fn bad_requests_get_specific_codes() {
        for (text, code) in [
            ("not json", "bad_json"),
            (r#"{"op":"dance"}"#, "unknown_op"),
            (r#"{"topics":[]}"#, "bad_request"),
            (r#"{"op":"subscribe"}"#, "bad_request"),
            (
                r#"{"op":"subscribe","topics":"overview:today"}"#,
                "bad_request",
            ),
            (r#"{"op":"subscribe","topics":[],"extra":1}"#, "bad_request"),
        ] {
            assert_eq!(Request::parse(text).unwrap_err().code, code, "{text}");
        }
    }

    #[test]
    fn frames_are_tagged_json() {
        let frame = snapshot("overview:today", "e1", 3, &json!({"a": 1}));
        let value: Value = serde_json::from_str(&frame).unwrap();
        assert_eq!(
            value,
            json!({"type": "snapshot", "topic": "overview:today", "epoch": "e1", "seq": 3, "data": {"a": 1}})
        );
        let frame = error("e1", "unknown_topic", Some("x"), "no");
        let value: Value = serde_json::from_str(&frame).unwrap();
        assert_eq!(value["type"], "error");
        assert_eq!(value["topic"], "x");
    }
}
