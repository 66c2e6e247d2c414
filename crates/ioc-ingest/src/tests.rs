//! Unit tests of the wire formats, without a database.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ioc_core::{
    Channel, Dossier, DossierState, Levels, LocalCalendar, Status, UnitTree, UnitTreeBuilder,
};
use serde_json::json;

use crate::dvcqg::{self, Context};
use crate::{WriteScope, check, native};

fn tree() -> UnitTree {
    let levels = Levels::parse(&["province", "district", "commune"]).expect("levels");
    let mut builder = UnitTreeBuilder::new(levels);
    builder.read_units(
        "units",
        "code,name,level,parent_code\n70,Tỉnh,province,\n697,Huyện,district,70\n25432,Phường Hưng Long,commune,697\n".as_bytes(),
    );
    builder.build().expect("tree")
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
    let d = native::from_json(&record, &tree).expect("valid");
    assert_eq!(
        (d.channel, d.status, d.e_result, d.fee_required),
        (Channel::Postal, Status::Delivered, true, false)
    );
    assert_eq!(d.finished_at, Some(t("2022-09-16T09:00:00+07:00")));
}

#[test]
fn ndjson_lines_that_are_not_json_are_their_own_errors() {
    let records = native::split_ndjson(b"{\"a\":1}\n\nnot json\n").expect("batch");
    assert_eq!(records.len(), 2);
    assert!(records[0].is_ok());
    assert_eq!(records[1].as_ref().expect_err("bad line").field, "(record)");
    assert!(
        native::split_ndjson(b"\n \n").is_err(),
        "blank bodies are empty batches"
    );
}

#[test]
fn a_received_dossier_needs_its_reception_time() {
    let tree = tree();
    let record = json!({"code": "X", "unit": "25432", "procedure": "1.1", "channel": "direct", "status": 4,
        "updated_at": "2022-09-16T09:00:00+07:00"});
    let checked = check(vec![native::from_json(&record, &tree)], &WriteScope::All);
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
        "s",
        Dossier {
            code: "X".to_owned(),
            unit: "25432".to_owned(),
            procedure: "1.1".to_owned(),
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
        &json!({"MaHoSo": "X", "TrangThai": "11", "ThoiDiemXuLy": "20220916080000"}),
        &cx,
    )
    .expect("mapped status");
    assert_eq!(mapped.apply_to(&stored).status, Status::Processing);
    let done = dvcqg::progress_step(
        &json!({"MaHoSo": "X", "TrangThai": "done", "ThoiDiemXuLy": "20220919153000"}),
        &cx,
    )
    .expect("step");
    let next = done.apply_to(&stored);
    assert_eq!(next.status, Status::Delivered);
    assert_eq!(
        next.finished_at,
        Some(t("2022-09-19T15:30:00+07:00")),
        "finished at the step's local time"
    );
    assert_eq!(next.updated_at, t("2022-09-19T15:30:00+07:00"));
    let missing =
        dvcqg::progress_step(&json!({"MaHoSo": "X", "TrangThai": "9"}), &cx).expect_err("no time");
    assert_eq!(missing.field, "ThoiDiemXuLy");
}
