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

/// The codes of `error` frames on the socket (docs/API.md, "Live updates").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The message is not JSON.
    BadJson,
    /// No `op`, no `topics` list, or unknown fields.
    BadRequest,
    /// An `op` other than subscribe and unsubscribe.
    UnknownOp,
    /// A malformed topic name, or no such unit.
    UnknownTopic,
    /// An unknown level, key or window in a topic.
    InvalidTopic,
    /// More topics than `stream.max_topics`.
    TooManyTopics,
    /// A binary frame.
    BinaryNotSupported,
    /// The server failed to render the topic; its log says why.
    Internal,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: [ErrorCode; 8] = [
        ErrorCode::BadJson,
        ErrorCode::BadRequest,
        ErrorCode::UnknownOp,
        ErrorCode::UnknownTopic,
        ErrorCode::InvalidTopic,
        ErrorCode::TooManyTopics,
        ErrorCode::BinaryNotSupported,
        ErrorCode::Internal,
    ];

    /// The code as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadJson => "bad_json",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::UnknownOp => "unknown_op",
            ErrorCode::UnknownTopic => "unknown_topic",
            ErrorCode::InvalidTopic => "invalid_topic",
            ErrorCode::TooManyTopics => "too_many_topics",
            ErrorCode::BinaryNotSupported => "binary_not_supported",
            ErrorCode::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a request was refused; sent back as an `error` frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    /// Machine-readable code.
    pub code: ErrorCode,
    /// What was wrong, for people.
    pub message: String,
}

impl Request {
    /// Parses a text message.
    pub fn parse(text: &str) -> Result<Request, RequestError> {
        let value: Value = serde_json::from_str(text).map_err(|e| RequestError {
            code: ErrorCode::BadJson,
            message: format!("the message is not JSON: {e}"),
        })?;
        let op = value.get("op").and_then(Value::as_str).map(str::to_owned);
        match op.as_deref() {
            Some("subscribe" | "unsubscribe") => {
                serde_json::from_value(value).map_err(|e| RequestError {
                    code: ErrorCode::BadRequest,
                    message: format!("{}: {e}", op.unwrap_or_default()),
                })
            }
            Some(other) => Err(RequestError {
                code: ErrorCode::UnknownOp,
                message: format!("unknown op {other:?} (expected subscribe or unsubscribe)"),
            }),
            None => Err(RequestError {
                code: ErrorCode::BadRequest,
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
pub fn error(epoch: &str, code: ErrorCode, topic: Option<&str>, message: &str) -> ByteString {
    encode(&Frame::Error {
        epoch,
        code: code.as_str(),
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
    fn frame_codes_are_distinct_and_documented() {
        let api = include_str!("../../../docs/API.md");
        let names: std::collections::HashSet<&str> =
            ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), ErrorCode::ALL.len());
        for name in names {
            assert!(
                api.contains(&format!("`{name}`")),
                "{name} is not in docs/API.md"
            );
        }
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
            assert_eq!(
                Request::parse(text).unwrap_err().code.as_str(),
                code,
                "{text}"
            );
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
        let frame = error("e1", ErrorCode::UnknownTopic, Some("x"), "no");
        let value: Value = serde_json::from_str(&frame).unwrap();
        assert_eq!(value["type"], "error");
        assert_eq!(value["topic"], "x");
    }
}
