//! Unit tests of the wire formats, without a database.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ioc_core::{
    Channel, Dossier, DossierCode, DossierState, Levels, LocalCalendar, ProcedureCode, Source,
    Status, UnitCode, UnitTree, UnitTreeBuilder,
};
use serde_json::json;

use crate::dvcqg::{self, Context};
use crate::wire::{self, Element, Schema};
use crate::{Admission, TimeBounds, WriteScope, check_versions, native};

fn tree() -> UnitTree {
    let levels = Levels::parse(&["province", "district", "commune"]).expect("levels");
    let mut builder = UnitTreeBuilder::new(levels);
    builder.read_units(
        "units",
        "code,name,level,parent_code\n70,Tỉnh,province,\n697,Huyện,district,70\n25432,Phường Hưng Long,commune,697\n".as_bytes(),
    );
    builder.build().expect("tree")
}

/// `value` read as a record of `schema`, as the HTTP API reads it.
fn record(value: &serde_json::Value, schema: &'static Schema) -> Element {
    wire::element(value.to_string().as_bytes(), schema).expect("JSON")
}

fn admission<'a>(scope: &'a WriteScope, bounds: &'a TimeBounds) -> Admission<'a> {
    Admission {
        scope,
        bounds,
        now: t("2026-12-01T00:00:00Z"),
    }
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("time")
        .with_timezone(&Utc)
}

#[test]
fn native_records_parse_into_dossiers() {
    let tree = tree();
    let record = json!({"code": "X", "unit": "25432", "procedure": "1.1", "channel": "postal", "status": 10,
        "received_at": "2022-09-15T09:12:00+07:00", "finished_at": "2022-09-16T09:00:00+07:00",
        "updated_at": "2022-09-16T09:00:00+07:00", "e_result": true});
    let d = native::from_element(&self::record(&record, &native::SCHEMA), &tree).expect("valid");
    assert_eq!(
        (d.channel, d.status, d.e_result, d.fee_required),
        (Channel::Postal, Status::Delivered, true, false)
    );
    assert_eq!(d.finished_at, Some(t("2022-09-16T09:00:00+07:00")));
}

#[test]
fn ndjson_lines_that_are_not_json_are_their_own_errors() {
    let records = native::read_ndjson(b"{\"a\":1}\n\nnot json\n", 10).expect("batch");
    assert_eq!(records.len(), 2);
    assert!(records[0].1.is_ok());
    assert_eq!(
        records[1].1.as_ref().expect_err("bad line").field,
        "(record)"
    );
    assert_eq!(
        (records[0].0, records[1].0),
        (0, 2),
        "positions are line numbers - 1, blank lines included"
    );
    assert!(
        native::read_ndjson(b"\n \n", 10).is_err(),
        "blank bodies are empty batches"
    );
}

#[test]
fn a_received_dossier_needs_its_reception_time() {
    let tree = tree();
    let record = json!({"code": "X", "unit": "25432", "procedure": "1.1", "channel": "direct", "status": 4,
        "updated_at": "2022-09-16T09:00:00+07:00"});
    let parsed = native::from_element(&self::record(&record, &native::SCHEMA), &tree);
    let checked = check_versions(
        [(0, parsed)],
        &admission(&WriteScope::All, &TimeBounds::default()),
    );
    assert_eq!(checked.rejected[0].field, "received_at");
    assert!(checked.rejected[0].error.contains("required for status 4"));
}

#[test]
fn a_progress_step_moves_the_stored_dossier() {
    let tree = tree();
    let map = HashMap::from([("11".to_owned(), Status::Processing)]);
    let cx = Context {
        tree: &tree,
        calendar: LocalCalendar::default(),
        status_map: &map,
    };
    let stored = DossierState::next(
        None,
        &Source::parse("s").expect("source"),
        Dossier {
            code: DossierCode::parse("X").expect("dossier code"),
            unit: UnitCode::parse("25432").expect("unit code"),
            procedure: ProcedureCode::parse("1.1").expect("procedure code"),
            channel: Channel::Online,
            status: Status::Received,
            received_at: Some(t("2022-09-15T09:12:00+07:00")),
            due_at: None,
            finished_at: None,
            fee_required: false,
            paid_online: false,
            e_result: false,
            updated_at: t("2022-09-15T09:12:00+07:00"),
        },
    );
    let mapped = dvcqg::progress_step(
        &record(
            &json!({"MaHoSo": "X", "TrangThai": "11", "ThoiDiemXuLy": "20220916080000"}),
            &dvcqg::PROGRESS,
        ),
        &cx,
    )
    .expect("mapped status");
    assert_eq!(mapped.next_version(&stored).status, Status::Processing);
    let done = dvcqg::progress_step(
        &record(
            &json!({"MaHoSo": "X", "TrangThai": "done", "ThoiDiemXuLy": "20220919153000"}),
            &dvcqg::PROGRESS,
        ),
        &cx,
    )
    .expect("step");
    let next = done.next_version(&stored);
    assert_eq!(next.status, Status::Delivered);
    assert_eq!(
        next.finished_at,
        Some(t("2022-09-19T15:30:00+07:00")),
        "finished at the step's local time"
    );
    assert_eq!(next.updated_at, t("2022-09-19T15:30:00+07:00"));
    let missing = dvcqg::progress_step(
        &record(&json!({"MaHoSo": "X", "TrangThai": "9"}), &dvcqg::PROGRESS),
        &cx,
    )
    .expect_err("no time");
    assert_eq!(missing.field, "ThoiDiemXuLy");
}

/// A valid native record, to be spoiled one field at a time.
fn good_record() -> serde_json::Value {
    json!({"code": "X", "unit": "25432", "procedure": "1.1", "channel": "online", "status": 2,
        "received_at": "2022-09-15T09:12:00+07:00", "due_at": "2022-09-20T17:00:00+07:00",
        "updated_at": "2022-09-15T09:12:00+07:00"})
}

/// The rejection of `value` through parsing and the batch checks, if any.
fn rejection(value: &serde_json::Value) -> Option<(String, String)> {
    let parsed = native::from_element(&record(value, &native::SCHEMA), &tree());
    let checked = check_versions(
        [(0, parsed)],
        &admission(&WriteScope::All, &TimeBounds::default()),
    );
    checked
        .rejected
        .first()
        .map(|r| (r.field.clone(), r.error.clone()))
}

#[test]
fn times_outside_the_bounds_are_rejected_with_the_field_and_the_bound() {
    assert_eq!(rejection(&good_record()), None);
    for (field, time, why) in [
        (
            "received_at",
            "0001-01-01T00:00:00+07:00",
            "ingest.earliest_time",
        ),
        (
            "due_at",
            "9999-12-31T23:59:59+07:00",
            "ingest.max_due_days_ahead",
        ),
        (
            "updated_at",
            "2027-01-01T00:00:00+07:00",
            "ingest.max_clock_skew_secs",
        ),
        (
            "received_at",
            "1999-12-31T23:59:59+07:00",
            "ingest.earliest_time",
        ),
    ] {
        let mut value = good_record();
        value[field] = json!(time);
        let (at, error) = rejection(&value).unwrap_or_else(|| panic!("{field} {time} accepted"));
        assert_eq!(at, field, "{error}");
        assert!(error.contains(why), "{field}: {error}");
    }
    let mut skewed = good_record();
    skewed["updated_at"] = json!("2026-12-01T07:10:00+07:00");
    assert_eq!(
        rejection(&skewed),
        None,
        "ten minutes ahead is within the skew"
    );
}

#[test]
fn control_characters_padding_and_duplicate_fields_are_named() {
    let mut nul = good_record();
    nul["code"] = json!("HS\u{0}1");
    let (field, error) = rejection(&nul).expect("NUL rejected");
    assert_eq!(field, "code");
    assert!(error.contains("U+0000"), "{error}");
    let mut bidi = good_record();
    bidi["procedure"] = json!("1.\u{202e}1");
    assert_eq!(rejection(&bidi).map(|r| r.0).as_deref(), Some("procedure"));
    let mut padded = good_record();
    padded["code"] = json!(" X ");
    let (field, error) = rejection(&padded).expect("padding rejected");
    assert_eq!(field, "code");
    assert!(error.contains("whitespace"), "{error}");
    let twice = br#"{"code": "X", "code": "Y", "unit": "25432"}"#;
    let element = wire::element(twice, &native::SCHEMA).expect("JSON");
    let error = native::from_element(&element, &tree()).expect_err("duplicate key");
    assert_eq!(error.field, "code");
    assert!(error.error.contains("twice"), "{}", error.error);
}

#[test]
fn paid_online_needs_a_fee() {
    let mut value = good_record();
    value["paid_online"] = json!(true);
    let (field, error) = rejection(&value).expect("rejected");
    assert_eq!(field, "paid_online");
    assert!(error.contains("fee_required"), "{error}");
    value["fee_required"] = json!(true);
    assert_eq!(rejection(&value), None);
}

#[test]
fn times_are_kept_to_the_microsecond() {
    let mut value = good_record();
    value["updated_at"] = json!("2022-09-15T09:12:00.123456789+07:00");
    let d = native::from_element(&record(&value, &native::SCHEMA), &tree()).expect("valid");
    assert_eq!(d.updated_at, t("2022-09-15T09:12:00.123456+07:00"));
}

#[test]
fn dvcqg_times_of_year_one_are_rejected_by_the_bounds() {
    let map = HashMap::new();
    let tree = tree();
    let cx = Context {
        tree: &tree,
        calendar: LocalCalendar::default(),
        status_map: &map,
    };
    let value = json!({"MaHoSo": "X", "MaTTHC": "1.1", "KenhThucHien": "2", "TrangThaiHoSo": "2",
        "NgayTiepNhan": "00010101000000", "NgayHenTra": "20220920170000", "DonViXuLy": "25432"});
    let parsed = dvcqg::dossier(&record(&value, &dvcqg::DOSSIER), None, &cx);
    let checked = check_versions(
        [(0, parsed)],
        &admission(&WriteScope::All, &TimeBounds::default()),
    );
    assert_eq!(checked.rejected.len(), 1);
    assert_eq!(checked.rejected[0].field, "received_at");
}
