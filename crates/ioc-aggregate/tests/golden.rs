//! A hand-made dataset around day boundaries, due dates, channels and
//! withdrawals, with every value worked out by hand from METRICS.md.
//!
//! Now is 2022-09-20 10:00 local. Unit 25432 (a commune) holds:
//!
//! | dossier | received | channel | proc | fee/paid | due | end | status |
//! | --- | --- | --- | --- | --- | --- | --- | --- |
//! | A | 19th 23:59 | online | P1 | yes/yes | 21st 17:00 | — | 4 |
//! | B | 20th 00:01 | direct | P1 | yes/no | 20th 17:00 | — | 4 |
//! | C | 10th 09:00 | online | P1 | no | 15th 17:00 | — | 4 |
//! | D | 10th 09:00 | direct | P3 | yes/no | 19th 17:00 | finished 20th 08:00, e-result | 10 |
//! | E | 12th 09:00 | online | P1 | no | 16th 17:00 | finished 16th 16:00 | 9 |
//! | F | 12th 09:00 | online | P1 | no | 19th 17:00 | finished 18th 10:00, e-result | 10 |
//! | G | 13th 09:00 | postal | P3 | no | none | finished 19th 23:30 | 10 |
//! | H | 14th 09:00 | direct | P1 | no | 19th 17:00 | withdrawn 19th 10:00 | 7 |
//! | I | — | online | P1 | no | — | — | 1 |
//! | J | — | direct | P1 | no | — | — | 3 |
//! | M | 19th 08:00 | direct | P1 | no | 22nd 17:00 | — | 4 |
//!
//! 25433: K received 20th 08:00 online P1 fee paid, due 21st, pending.
//! 25434: N received 5th 09:00 direct P1, due 8th, finished 6th (early).
//! 697 (district): L received 31 Aug 16:00 direct P1, due 5th, finished 1st.
//! P1 is offered fully online at communes and districts; P3 is not online.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use ioc_aggregate::ranking::{RankingQuery, Scope, ranking};
use ioc_aggregate::{Engine, Keys, Ratio, Window, WindowSpec};
use ioc_core::{
    Catalog, Channel, Dossier, DossierCode, DossierState, Levels, ProcedureCode, Source, Status,
    TimelinessRules, UnitCode, UnitTreeBuilder,
};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("time")
        .with_timezone(&Utc)
}

fn day(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn now() -> DateTime<Utc> {
    t("2022-09-20T10:00:00+07:00")
}

struct Spec {
    code: &'static str,
    unit: &'static str,
    received: Option<&'static str>,
    channel: Channel,
    procedure: &'static str,
    fee: (bool, bool),
    due: Option<&'static str>,
    end: Option<&'static str>,
    status: Status,
    e_result: bool,
}

fn state(s: &Spec) -> DossierState {
    let local = |x: &str| t(&format!("2022-{x}:00+07:00"));
    let end = s.end.map(local);
    let received = s.received.map(local);
    let dossier = Dossier {
        code: DossierCode::parse(s.code).expect("dossier code"),
        unit: UnitCode::parse(s.unit).expect("unit code"),
        procedure: ProcedureCode::parse(s.procedure).expect("procedure code"),
        channel: s.channel,
        status: s.status,
        received_at: received,
        due_at: s.due.map(local),
        finished_at: end.filter(|_| s.status.is_finished()),
        fee_required: s.fee.0,
        paid_online: s.fee.1,
        e_result: s.e_result,
        updated_at: end.or(received).unwrap_or_else(|| local("09-01T00:00")),
    };
    DossierState {
        source: Source::parse("s").expect("source"),
        stopped_at: end.filter(|_| s.status.is_stopped()),
        dossier,
    }
}

fn engine() -> Engine {
    let levels = Levels::parse(&["province", "district", "commune"]).expect("levels");
    let mut builder = UnitTreeBuilder::new(levels.clone());
    builder.read_units(
        "units",
        "code,name,level,parent_code\n70,Tỉnh,province,\n697,Huyện,district,70\n\
         25432,Xã A,commune,697\n25433,Xã B,commune,697\n25434,Xã C,commune,697\n"
            .as_bytes(),
    );
    let catalog = Catalog::read(
        &levels,
        vec![(
            "catalog".to_owned(),
            "code,name,field,online_level,levels,fee\nP1,Một,F,full,commune;district,yes\nP3,Ba,F,none,commune;district,yes\n"
                .as_bytes(),
        )],
    )
    .expect("catalog");
    let tree = Arc::new(builder.build().expect("tree"));
    let mut engine = Engine::new(tree, &catalog, TimelinessRules::default()).expect("engine");
    use Channel::{Direct, Online, Postal};
    let specs = [
        Spec {
            code: "A",
            unit: "25432",
            received: Some("09-19T23:59"),
            channel: Online,
            procedure: "P1",
            fee: (true, true),
            due: Some("09-21T17:00"),
            end: None,
            status: Status::Processing,
            e_result: false,
        },
        Spec {
            code: "B",
            unit: "25432",
            received: Some("09-20T00:01"),
            channel: Direct,
            procedure: "P1",
            fee: (true, false),
            due: Some("09-20T17:00"),
            end: None,
            status: Status::Processing,
            e_result: false,
        },
        Spec {
            code: "C",
            unit: "25432",
            received: Some("09-10T09:00"),
            channel: Online,
            procedure: "P1",
            fee: (false, false),
            due: Some("09-15T17:00"),
            end: None,
            status: Status::Processing,
            e_result: false,
        },
        Spec {
            code: "D",
            unit: "25432",
            received: Some("09-10T09:00"),
            channel: Direct,
            procedure: "P3",
            fee: (true, false),
            due: Some("09-19T17:00"),
            end: Some("09-20T08:00"),
            status: Status::Delivered,
            e_result: true,
        },
        Spec {
            code: "E",
            unit: "25432",
            received: Some("09-12T09:00"),
            channel: Online,
            procedure: "P1",
            fee: (false, false),
            due: Some("09-16T17:00"),
            end: Some("09-16T16:00"),
            status: Status::Processed,
            e_result: false,
        },
        Spec {
            code: "F",
            unit: "25432",
            received: Some("09-12T09:00"),
            channel: Online,
            procedure: "P1",
            fee: (false, false),
            due: Some("09-19T17:00"),
            end: Some("09-18T10:00"),
            status: Status::Delivered,
            e_result: true,
        },
        Spec {
            code: "G",
            unit: "25432",
            received: Some("09-13T09:00"),
            channel: Postal,
            procedure: "P3",
            fee: (false, false),
            due: None,
            end: Some("09-19T23:30"),
            status: Status::Delivered,
            e_result: false,
        },
        Spec {
            code: "H",
            unit: "25432",
            received: Some("09-14T09:00"),
            channel: Direct,
            procedure: "P1",
            fee: (false, false),
            due: Some("09-19T17:00"),
            end: Some("09-19T10:00"),
            status: Status::Withdrawn,
            e_result: false,
        },
        Spec {
            code: "I",
            unit: "25432",
            received: None,
            channel: Online,
            procedure: "P1",
            fee: (false, false),
            due: None,
            end: None,
            status: Status::Submitted,
            e_result: false,
        },
        Spec {
            code: "J",
            unit: "25432",
            received: None,
            channel: Direct,
            procedure: "P1",
            fee: (false, false),
            due: None,
            end: None,
            status: Status::Refused,
            e_result: false,
        },
        Spec {
            code: "M",
            unit: "25432",
            received: Some("09-19T08:00"),
            channel: Direct,
            procedure: "P1",
            fee: (false, false),
            due: Some("09-22T17:00"),
            end: None,
            status: Status::Processing,
            e_result: false,
        },
        Spec {
            code: "K",
            unit: "25433",
            received: Some("09-20T08:00"),
            channel: Online,
            procedure: "P1",
            fee: (true, true),
            due: Some("09-21T17:00"),
            end: None,
            status: Status::Processing,
            e_result: false,
        },
        Spec {
            code: "N",
            unit: "25434",
            received: Some("09-05T09:00"),
            channel: Direct,
            procedure: "P1",
            fee: (false, false),
            due: Some("09-08T17:00"),
            end: Some("09-06T09:00"),
            status: Status::Delivered,
            e_result: false,
        },
        Spec {
            code: "L",
            unit: "697",
            received: Some("08-31T16:00"),
            channel: Direct,
            procedure: "P1",
            fee: (false, false),
            due: Some("09-05T17:00"),
            end: Some("09-01T09:00"),
            status: Status::Delivered,
            e_result: false,
        },
    ];
    for spec in &specs {
        engine.add(&state(spec));
    }
    engine
}

fn r(numerator: i64, denominator: i64) -> Ratio {
    Ratio {
        numerator,
        denominator,
    }
}

fn window(spec: &str) -> Window {
    WindowSpec::parse(spec)
        .expect("window")
        .resolve(day("2022-09-20"))
}

#[test]
fn commune_25432_today() {
    let k = engine().keys(["25432"], window("today"), now());
    let expected = Keys {
        received: 1,
        received_online: 0,
        received_direct: 1,
        received_postal: 0,
        online_share: r(0, 1),
        online_share_all: r(0, 1),
        finished: 1,
        finished_early: 0,
        finished_on_time: 0,
        finished_late: 1,
        on_time_rate: r(0, 1),
        late_rate: r(1, 1),
        withdrawn: 0,
        pending: 4,
        pending_overdue: 1,
        due_soon: 2,
        progress_rate: r(3, 5),
        online_services: 1,
        online_services_used: 0,
        online_services_used_share: r(0, 1),
        fee_dossiers: 1,
        paid_online: 0,
        paid_online_share: r(0, 1),
        e_result_share: r(1, 1),
        full_online_share: r(0, 1),
    };
    assert_eq!(k, expected);
}

#[test]
fn commune_25432_yesterday_is_cut_at_midnight() {
    let k = engine().keys(["25432"], window("yesterday"), now());
    let expected = Keys {
        received: 2,
        received_online: 1,
        received_direct: 1,
        received_postal: 0,
        online_share: r(1, 2),
        online_share_all: r(1, 2),
        finished: 1,
        finished_early: 0,
        finished_on_time: 1,
        finished_late: 0,
        on_time_rate: r(1, 1),
        late_rate: r(0, 1),
        withdrawn: 1,
        // A, M, C, and D (finished only after midnight); B came after.
        pending: 4,
        pending_overdue: 2,
        due_soon: 1,
        progress_rate: r(3, 5),
        online_services: 1,
        online_services_used: 1,
        online_services_used_share: r(1, 1),
        fee_dossiers: 1,
        paid_online: 1,
        paid_online_share: r(1, 1),
        e_result_share: r(0, 1),
        full_online_share: r(1, 2),
    };
    assert_eq!(k, expected);
}

#[test]
fn commune_25432_month_to_date() {
    let k = engine().keys(["25432"], window("month"), now());
    let expected = Keys {
        received: 9,
        received_online: 4,
        received_direct: 4,
        received_postal: 1,
        online_share: r(4, 7),
        online_share_all: r(4, 9),
        finished: 4,
        finished_early: 1,
        finished_on_time: 2,
        finished_late: 1,
        on_time_rate: r(3, 4),
        late_rate: r(1, 4),
        withdrawn: 1,
        pending: 4,
        pending_overdue: 1,
        due_soon: 2,
        progress_rate: r(6, 8),
        online_services: 1,
        online_services_used: 1,
        online_services_used_share: r(1, 1),
        fee_dossiers: 3,
        paid_online: 1,
        paid_online_share: r(1, 3),
        e_result_share: r(2, 4),
        full_online_share: r(4, 7),
    };
    assert_eq!(k, expected);
}

#[test]
fn district_697_as_a_locality_today() {
    let engine = engine();
    let tree: Vec<&str> = vec!["697", "25432", "25433", "25434"];
    let k = engine.keys(tree, window("today"), now());
    assert_eq!(
        (k.received, k.received_online, k.received_direct),
        (2, 1, 1)
    );
    assert_eq!(k.online_share, r(1, 2));
    assert_eq!((k.finished, k.finished_late), (1, 1));
    assert_eq!((k.pending, k.pending_overdue, k.due_soon), (5, 1, 3));
    assert_eq!(k.progress_rate, r(4, 6));
    assert_eq!(
        (k.online_services, k.online_services_used),
        (4, 1),
        "one online service per unit, K used it"
    );
    assert_eq!((k.fee_dossiers, k.paid_online), (2, 1));
    // The district's own dossier L finished on the 1st: in the month, early.
    let own = engine.keys(["697"], window("month"), now());
    assert_eq!((own.received, own.finished, own.finished_early), (0, 1, 1));
    assert_eq!(own.on_time_rate, r(1, 1));
}

#[test]
fn rankings_share_ranks_and_list_units_without_data_last() {
    let engine = engine();
    let month = WindowSpec::Month;
    let q = |key: &str| RankingQuery {
        level: "commune",
        key: key.parse().expect("key"),
        scope: Scope::Own,
        min_volume: 1,
    };
    let rows = |key| {
        ranking(
            &engine,
            &q(key),
            month.resolve(day("2022-09-20")),
            month.previous(day("2022-09-20")),
            now(),
        )
        .into_iter()
        .map(|r| (r.unit, r.rank, r.value, r.previous_rank, r.movement))
        .collect::<Vec<_>>()
    };
    assert_eq!(
        rows("received"),
        [
            ("25432".to_owned(), Some(1), Some(9.0), Some(1), Some(0)),
            ("25433".to_owned(), Some(2), Some(1.0), Some(1), Some(-1)),
            ("25434".to_owned(), Some(2), Some(1.0), Some(1), Some(-1)),
        ],
        "ties share a rank, in code order; in August all had 0 and shared rank 1"
    );
    assert_eq!(
        rows("on_time_rate"),
        [
            ("25434".to_owned(), Some(1), Some(1.0), None, None),
            ("25432".to_owned(), Some(2), Some(0.75), None, None),
            ("25433".to_owned(), None, None, None, None),
        ],
        "a unit without finished dossiers is listed unranked, last"
    );
    let late = rows("late_rate");
    assert_eq!(late[0].0, "25434", "a lower late rate ranks first");
}

#[test]
fn the_sweep_wakes_when_a_pending_dossier_turns_due_soon_or_overdue() {
    let engine = engine();
    // Pending due days: C the 15th (already overdue), B the 20th, A and K the
    // 21st, M the 22nd. Next after 10:00 on the 20th: M becomes due soon at
    // the start of the 21st, and B overdue at the same instant.
    assert_eq!(
        engine.next_transition(now()),
        Some(t("2022-09-21T00:00:00+07:00"))
    );
    assert_eq!(
        engine.next_transition(t("2022-09-21T00:00:00+07:00")),
        Some(t("2022-09-22T00:00:00+07:00"))
    );
    assert_eq!(
        engine.next_transition(t("2022-09-23T00:00:00+07:00")),
        None,
        "M overdue since the 23rd; nothing ahead"
    );
}
