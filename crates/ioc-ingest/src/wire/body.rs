//! Whole bodies: a JSON array of records, or a DVCQG envelope around one,
//! keeping at most a batch's limit of records and counting the rest.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::record::{Element, ElementSeed, Key, KeySeed, Scalar, Schema};
use super::skip::{drain_map, drain_seq, other_kinds};
use crate::error::BatchError;

/// The records of an array: at most the limit kept, all counted.
#[derive(Debug, Default)]
pub struct Records {
    /// The first records, up to the limit.
    pub elements: Vec<Element>,
    /// How many records the array holds.
    pub count: usize,
}

impl Records {
    /// The records, or [`BatchError::TooManyRecords`] when over `limit`.
    pub fn within(self, limit: usize) -> Result<Vec<Element>, BatchError> {
        if self.count > limit {
            return Err(BatchError::TooManyRecords {
                count: self.count,
                limit,
            });
        }
        Ok(self.elements)
    }
}

/// A DVCQG body: a bare array, or an envelope around `data`.
#[derive(Debug, Default)]
pub struct Envelope {
    /// `service`.
    pub service: Option<Scalar>,
    /// `madonvi`.
    pub unit: Option<Scalar>,
    /// `data`: the records, or the kind of value found instead of an array;
    /// `None` when absent.
    pub data: Option<Result<Records, &'static str>>,
    /// The first envelope field given twice (the repeat is skipped unread).
    pub duplicate: Option<&'static str>,
}

/// Reads one JSON value as a record of `schema`.
pub fn element(json: &[u8], schema: &'static Schema) -> Result<Element, BatchError> {
    parse(json, ElementSeed(schema))
}

/// Reads a JSON array of records of `schema`, keeping at most `limit`.
pub fn array(body: &[u8], schema: &'static Schema, limit: usize) -> Result<Records, BatchError> {
    let body = non_empty(body)?;
    match parse(body, BodySeed { schema, limit })? {
        Body::Array(records) => Ok(records),
        Body::Envelope(_) => Err(BatchError::Shape(
            "expected a JSON array of dossiers, found an object".to_owned(),
        )),
        Body::Other(kind) => Err(BatchError::Shape(format!(
            "expected a JSON array of dossiers, found {kind}"
        ))),
    }
}

/// Reads a DVCQG body: a bare array of records of `schema` or an envelope
/// object, keeping at most `limit` records.
pub fn envelope(
    body: &[u8],
    schema: &'static Schema,
    limit: usize,
) -> Result<Envelope, BatchError> {
    let body = non_empty(body)?;
    match parse(body, BodySeed { schema, limit })? {
        Body::Array(records) => Ok(Envelope {
            data: Some(Ok(records)),
            ..Envelope::default()
        }),
        Body::Envelope(envelope) => Ok(envelope),
        Body::Other(_) => Err(BatchError::Shape(
            "expected a JSON array of records or an envelope {\"madonvi\", \"service\", \"data\": [...]}".to_owned(),
        )),
    }
}

fn non_empty(body: &[u8]) -> Result<&[u8], BatchError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        Err(BatchError::Empty)
    } else {
        Ok(body)
    }
}

fn parse<'de, S: DeserializeSeed<'de>>(json: &'de [u8], seed: S) -> Result<S::Value, BatchError> {
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let value = seed
        .deserialize(&mut deserializer)
        .map_err(|e| BatchError::malformed(&e))?;
    deserializer.end().map_err(|e| BatchError::malformed(&e))?;
    Ok(value)
}

enum Body {
    Array(Records),
    Envelope(Envelope),
    Other(&'static str),
}

struct BodySeed {
    schema: &'static Schema,
    limit: usize,
}

impl<'de> DeserializeSeed<'de> for BodySeed {
    type Value = Body;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Body, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for BodySeed {
    type Value = Body;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of records")
    }

    other_kinds!(Body::Other);

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Body, A::Error> {
        RecordsSeed(self.schema, self.limit)
            .visit_seq(seq)
            .map(|r| Body::Array(r.unwrap_or_default()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Body, A::Error> {
        let mut envelope = Envelope::default();
        while let Some(key) = map.next_key_seed(KeySeed(&ENVELOPE))? {
            let seen = match key {
                Key::Scalar("service") => envelope.service.is_some(),
                Key::Scalar("madonvi") => envelope.unit.is_some(),
                Key::Scalar(_) => envelope.data.is_some(),
                Key::List(..) | Key::Unknown(_) => false,
            };
            if let (true, Key::Scalar(name)) = (seen, &key) {
                envelope.duplicate.get_or_insert(name);
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            match key {
                Key::Scalar("service") => envelope.service = Some(map.next_value()?),
                Key::Scalar("madonvi") => envelope.unit = Some(map.next_value()?),
                Key::Scalar(_) => {
                    envelope.data =
                        Some(map.next_value_seed(RecordsSeed(self.schema, self.limit))?);
                }
                Key::List(..) | Key::Unknown(_) => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Body::Envelope(envelope))
    }
}

/// The envelope fields read.
static ENVELOPE: Schema = Schema {
    scalars: &["service", "madonvi", "data"],
    lists: &[],
};

/// An array of records; `Err(kind)` when the value is not an array.
struct RecordsSeed(&'static Schema, usize);

impl<'de> DeserializeSeed<'de> for RecordsSeed {
    type Value = Result<Records, &'static str>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RecordsSeed {
    type Value = Result<Records, &'static str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of records")
    }

    other_kinds!(Err);

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let RecordsSeed(schema, limit) = self;
        let mut records = Records::default();
        while records.count < limit {
            match seq.next_element_seed(ElementSeed(schema))? {
                Some(element) => {
                    records.elements.push(element);
                    records.count += 1;
                }
                None => return Ok(Ok(records)),
            }
        }
        records.count += drain_seq(seq)?;
        Ok(Ok(records))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        drain_map(map)?;
        Ok(Err("an object"))
    }
}
