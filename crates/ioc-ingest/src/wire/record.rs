//! One record: the fields a [`Schema`] names, read into scalars and lists
//! of objects, every other value skipped unread.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::skip::{drain_map, drain_seq, other_kinds};

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
pub(super) enum Key {
    Scalar(&'static str),
    List(&'static str, &'static Schema),
    Unknown(String),
}

/// Reads a field name as a [`Key`] of the schema.
pub(super) struct KeySeed(pub(super) &'static Schema);

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
