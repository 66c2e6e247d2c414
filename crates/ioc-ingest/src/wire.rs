//! JSON bodies read with bounded memory. A record keeps only the fields
//! its [`Schema`] names, each as a scalar (or, for a few DVCQG fields, a
//! short list of objects); every other value is skipped unread, and the
//! records past a batch's limit are counted, not kept. So whatever a body
//! holds (a million `0`s, a megabyte array in a field, personal data),
//! what stays in memory is bounded by the body's size and the batch limit.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::error::BatchError;

/// The fields ioc reads from one kind of record.
#[derive(Debug)]
pub struct Schema {
    /// Fields read as scalars.
    pub scalars: &'static [&'static str],
    /// Fields read as lists of objects of the given schema.
    pub lists: &'static [(&'static str, &'static Schema)],
}

/// Most items kept of a list field; a longer list is [`List::TooLong`].
pub const MAX_LIST_ITEMS: usize = 1_000;

/// A JSON scalar, or the kind of value found where one was expected.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// `null`.
    Null,
    /// A string.
    Text(String),
    /// An integer that fits in an `i64`.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// An array or object, skipped unread; the name of its kind.
    Other(&'static str),
}

/// A list field: its objects, or why it is not one.
#[derive(Debug, Clone, PartialEq)]
pub enum List {
    /// The objects of the list (items that are not objects are skipped).
    Objects(Vec<Object>),
    /// Not an array; the kind of value found.
    NotAnArray(&'static str),
    /// More than [`MAX_LIST_ITEMS`] items.
    TooLong,
}

/// A JSON object, as far as its schema reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Object {
    scalars: Vec<(&'static str, Scalar)>,
    lists: Vec<(&'static str, List)>,
    /// The first field the schema does not name (at most 64 characters of it).
    pub unknown: Option<String>,
    /// The first field of the schema that appears twice.
    pub duplicate: Option<&'static str>,
}

impl Object {
    /// The scalar field `name`, if present.
    pub fn get(&self, name: &str) -> Option<&Scalar> {
        self.scalars
            .iter()
            .find(|(field, _)| *field == name)
            .map(|(_, v)| v)
    }

    /// The list field `name`, if present.
    pub fn list(&self, name: &str) -> Option<&List> {
        self.lists
            .iter()
            .find(|(field, _)| *field == name)
            .map(|(_, v)| v)
    }

    fn is_empty(&self) -> bool {
        self.scalars.is_empty() && self.lists.is_empty()
    }
}

/// One record of a batch: an object, or the kind of value found instead.
#[derive(Debug, Clone, PartialEq)]
pub enum Element {
    /// A JSON object.
    Object(Object),
    /// Any other JSON value, skipped unread.
    Other(&'static str),
}

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

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<usize, A::Error> {
    let mut count = 0;
    while seq.next_element::<IgnoredAny>()?.is_some() {
        count += 1;
    }
    Ok(count)
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Visits whatever the value is, turning every kind into `T`.
macro_rules! other_kinds {
    ($wrap:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($wrap("a boolean"))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($wrap("a number"))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($wrap("a number"))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($wrap("a number"))
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($wrap("a string"))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($wrap("null"))
        }
    };
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

/// Reads one record of the schema (for callers that stream a body
/// themselves, as `ioc import` does).
pub struct ElementSeed(pub &'static Schema);

impl<'de> DeserializeSeed<'de> for ElementSeed {
    type Value = Element;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Element, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ElementSeed {
    type Value = Element;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    other_kinds!(Element::Other);

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Element, A::Error> {
        drain_seq(seq)?;
        Ok(Element::Other("an array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Element, A::Error> {
        let mut object = Object::default();
        while let Some(key) = map.next_key_seed(KeySeed(self.0))? {
            match key {
                Key::Scalar(name) => {
                    let value: Scalar = map.next_value()?;
                    if object.get(name).is_some() {
                        object.duplicate.get_or_insert(name);
                    } else {
                        object.scalars.push((name, value));
                    }
                }
                Key::List(name, schema) => {
                    let value = map.next_value_seed(ListSeed(schema))?;
                    if object.list(name).is_some() {
                        object.duplicate.get_or_insert(name);
                    } else {
                        object.lists.push((name, value));
                    }
                }
                Key::Unknown(name) => {
                    map.next_value::<IgnoredAny>()?;
                    if object.unknown.is_none() {
                        object.unknown = Some(name);
                    }
                }
            }
        }
        Ok(Element::Object(object))
    }
}

/// A list field of objects of `schema`.
struct ListSeed(&'static Schema);

impl<'de> DeserializeSeed<'de> for ListSeed {
    type Value = List;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<List, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ListSeed {
    type Value = List;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of objects")
    }

    other_kinds!(List::NotAnArray);

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List, A::Error> {
        let mut objects = Vec::new();
        let mut items = 0;
        while let Some(element) = seq.next_element_seed(ElementSeed(self.0))? {
            items += 1;
            if items > MAX_LIST_ITEMS {
                drain_seq(seq)?;
                return Ok(List::TooLong);
            }
            if let Element::Object(object) = element
                && !object.is_empty()
            {
                objects.push(object);
            }
        }
        Ok(List::Objects(objects))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<List, A::Error> {
        drain_map(map)?;
        Ok(List::NotAnArray("an object"))
    }
}

/// A field name, matched against a schema without allocating (but for
/// the first unknown one of a record, kept for its error).
enum Key {
    Scalar(&'static str),
    List(&'static str, &'static Schema),
    Unknown(String),
}

struct KeySeed(&'static Schema);

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Key, E> {
        if let Some(field) = self.0.scalars.iter().find(|f| **f == name) {
            return Ok(Key::Scalar(field));
        }
        if let Some((field, schema)) = self.0.lists.iter().find(|(f, _)| *f == name) {
            return Ok(Key::List(field, schema));
        }
        Ok(Key::Unknown(name.chars().take(64).collect()))
    }
}

impl<'de> de::Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Scalar, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(i64::try_from(v).map_or(Scalar::Float(v as f64), Scalar::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Text(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Scalar, A::Error> {
        drain_seq(seq)?;
        Ok(Scalar::Other("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Scalar, A::Error> {
        drain_map(map)?;
        Ok(Scalar::Other("an object"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static ITEM: Schema = Schema {
        scalars: &["Gia"],
        lists: &[],
    };
    static RECORD: Schema = Schema {
        scalars: &["code", "n"],
        lists: &[("items", &ITEM)],
    };

    #[test]
    fn records_past_the_limit_are_counted_not_kept() {
        let body = format!("[{}0]", "0,".repeat(99_999));
        let records = array(body.as_bytes(), &RECORD, 10).expect("array");
        assert_eq!((records.elements.len(), records.count), (10, 100_000));
        assert_eq!(records.elements[0], Element::Other("a number"));
        let err = array(body.as_bytes(), &RECORD, 10)
            .and_then(|r| r.within(10))
            .expect_err("over the limit");
        assert!(
            err.to_string().contains("100000 records; at most 10"),
            "{err}"
        );
    }

    #[test]
    fn only_the_fields_of_the_schema_are_kept() {
        let json = br#"{"code":"A","n":[1,2,[3]],"x":{"deep":[1]},"items":[{"Gia":5},1,{}],"y":1}"#;
        let Element::Object(object) = element(json, &RECORD).expect("object") else {
            panic!("not an object");
        };
        assert_eq!(object.get("code"), Some(&Scalar::Text("A".to_owned())));
        assert_eq!(object.get("n"), Some(&Scalar::Other("an array")));
        assert_eq!(object.unknown.as_deref(), Some("x"));
        let Some(List::Objects(items)) = object.list("items") else {
            panic!("items");
        };
        assert_eq!(items.len(), 1, "non-objects and empty objects are skipped");
        assert_eq!(items[0].get("Gia"), Some(&Scalar::Int(5)));
    }

    #[test]
    fn a_field_given_twice_is_flagged() {
        let Element::Object(object) =
            element(br#"{"code":"A","code":"B"}"#, &RECORD).expect("object")
        else {
            panic!("not an object");
        };
        assert_eq!(object.duplicate, Some("code"));
        assert_eq!(object.get("code"), Some(&Scalar::Text("A".to_owned())));
    }

    #[test]
    fn long_lists_and_bad_shapes_are_named() {
        let body = format!(r#"{{"items":[{}{{}}]}}"#, "{},".repeat(MAX_LIST_ITEMS));
        let Element::Object(object) = element(body.as_bytes(), &RECORD).expect("object") else {
            panic!("not an object");
        };
        assert_eq!(object.list("items"), Some(&List::TooLong));
        let shape = envelope(br#"{"service":"S","data":{"a":1}}"#, &RECORD, 5).expect("envelope");
        assert_eq!(
            shape.data.map(|d| d.map(|r| r.count)),
            Some(Err("an object"))
        );
        assert!(matches!(array(b"  ", &RECORD, 5), Err(BatchError::Empty)));
        assert!(matches!(
            array(b"{}", &RECORD, 5),
            Err(BatchError::Shape(_))
        ));
        assert!(matches!(
            array(b"[1,", &RECORD, 5),
            Err(BatchError::Malformed { .. })
        ));
        let twice = envelope(br#"{"data":[{},{}],"data":[]}"#, &RECORD, 5).expect("envelope");
        assert_eq!(twice.duplicate, Some("data"));
        assert_eq!(
            twice.data.map(|d| d.map(|r| r.count)),
            Some(Ok(2)),
            "the first one, kept"
        );
    }
}
