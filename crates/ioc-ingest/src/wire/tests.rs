//! Tests of bounded JSON reading: limits, schemas, duplicates and shapes.

use super::*;
use crate::error::BatchError;

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
    let Element::Object(object) = element(br#"{"code":"A","code":"B"}"#, &RECORD).expect("object")
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
