//! The read API: numbers that follow ingestion and the clock, identical
//! after a restart, with specific errors and exports.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use ioc_core::{DossierCode, ManualClock, ProcedureCode, Source, UnitCode};
use ioc_server::auth::Role;
use ioc_testkit::{Backend, TestApp};
use serde_json::{Value, json};

mod errors;
mod exports;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("time")
        .with_timezone(&Utc)
}

/// A native record; times are local (+07:00) "MM-DDTHH:MM" of 2022.
#[allow(clippy::too_many_arguments)]
fn dossier(
    code: &str,
    unit: &str,
    received: &str,
    channel: &str,
    procedure: &str,
    due: Option<&str>,
    end: Option<&str>,
    status: i64,
) -> Value {
    let local = |x: &str| format!("2022-{x}:00+07:00");
    let finished = matches!(status, 9 | 10);
    json!({
        "code": code, "unit": unit, "procedure": procedure, "channel": channel, "status": status,
        "received_at": local(received),
        "due_at": due.map(local),
        "finished_at": end.filter(|_| finished).map(local),
        "fee_required": false,
        "updated_at": local(end.unwrap_or(received)),
    })
}

/// Part of the hand-made dataset of ioc-aggregate's golden test, in the
/// real tree (25432 and 25433 are communes of district 697).
fn dataset() -> Value {
    json!([
        dossier(
            "A",
            "25432",
            "09-19T23:59",
            "online",
            "2.000815",
            Some("09-21T17:00"),
            None,
            4
        ),
        dossier(
            "B",
            "25432",
            "09-20T00:01",
            "direct",
            "2.000815",
            Some("09-20T17:00"),
            None,
            4
        ),
        dossier(
            "C",
            "25432",
            "09-10T09:00",
            "online",
            "2.000815",
            Some("09-15T17:00"),
            None,
            4
        ),
        dossier(
            "D",
            "25432",
            "09-10T09:00",
            "direct",
            "2.001035",
            Some("09-19T17:00"),
            Some("09-20T08:00"),
            10
        ),
        dossier(
            "E",
            "25432",
            "09-12T09:00",
            "online",
            "2.000815",
            Some("09-16T17:00"),
            Some("09-16T16:00"),
            9
        ),
        dossier(
            "F",
            "25432",
            "09-12T09:00",
            "online",
            "2.000815",
            Some("09-19T17:00"),
            Some("09-18T10:00"),
            10
        ),
        dossier(
            "G",
            "25432",
            "09-13T09:00",
            "postal",
            "2.001035",
            None,
            Some("09-19T23:30"),
            10
        ),
        dossier(
            "H",
            "25432",
            "09-14T09:00",
            "direct",
            "2.000815",
            Some("09-19T17:00"),
            Some("09-19T10:00"),
            7
        ),
        dossier(
            "M",
            "25432",
            "09-19T08:00",
            "direct",
            "2.000815",
            Some("09-22T17:00"),
            None,
            4
        ),
        dossier(
            "K",
            "25433",
            "09-20T08:00",
            "online",
            "2.000815",
            Some("09-21T17:00"),
            None,
            4
        ),
    ])
}

/// Polls `path` until `ready` holds (the follower publishes within a poll
/// interval; the bound only keeps a broken build from hanging).
async fn eventually(app: &TestApp, path: &str, ready: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..600 {
        let (status, body) = app.get_json(path).await;
        if status == 200 && ready(&body) {
            return body;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{path} never satisfied the condition");
}

async fn numbers_follow_ingest_time_and_restart(backend: Backend) {
    let clock = Arc::new(ManualClock::new(t("2022-09-20T10:00:00+07:00")));
    let open = [("IOC__AUTH__PUBLIC_READ", "true")];
    let Some(app) = TestApp::spawn_with_clock(backend, &open, clock.clone()).await else {
        return;
    };
    let token = app.ingest_token("motcua");
    let (status, report) = app.post_json("/api/v1/dossiers", &token, &dataset()).await;
    assert_eq!(
        (status, report["accepted"].clone()),
        (200, json!(10)),
        "{report}"
    );

    let month = eventually(&app, "/api/v1/units/25432?window=month", |b| {
        b["keys"]["received"] == 9
    })
    .await;
    let keys = &month["keys"];
    assert_eq!(
        (
            keys["received_online"].clone(),
            keys["received_direct"].clone(),
            keys["received_postal"].clone()
        ),
        (json!(4), json!(4), json!(1))
    );
    assert_eq!(
        (
            keys["finished"].clone(),
            keys["finished_early"].clone(),
            keys["finished_late"].clone()
        ),
        (json!(4), json!(1), json!(1))
    );
    assert_eq!(
        (
            keys["pending"].clone(),
            keys["pending_overdue"].clone(),
            keys["due_soon"].clone()
        ),
        (json!(4), json!(1), json!(2))
    );
    assert_eq!(keys["on_time_rate"], json!(0.75));
    assert_eq!(keys["progress_rate"], json!(0.75));
    assert_eq!(keys["withdrawn"], 1);
    assert_eq!(month["score"]["label"], "partial 766");
    assert_eq!(
        month["unit"]["name"], "Thị trấn Chơn Thành",
        "its name until the rename of 2022-10-01"
    );

    let yesterday = app.get_json("/api/v1/units/25432?window=yesterday").await.1;
    assert_eq!(
        (
            yesterday["keys"]["pending"].clone(),
            yesterday["keys"]["pending_overdue"].clone()
        ),
        (json!(4), json!(2))
    );

    let district = app
        .get_json("/api/v1/units/697?window=today&scope=tree")
        .await
        .1;
    assert_eq!(
        district["keys"]["received"], 2,
        "B and K were received today in 697's communes"
    );
    let children: Vec<&str> = district["children"]
        .as_array()
        .expect("children")
        .iter()
        .map(|c| c["unit"].as_str().expect("unit"))
        .collect();
    assert!(
        children.contains(&"25432") && children.contains(&"25433"),
        "{children:?}"
    );

    let ranking = app
        .get_json("/api/v1/rankings?level=commune&key=received&window=month")
        .await
        .1;
    let first = &ranking["items"][0];
    assert_eq!(
        (
            first["unit"].clone(),
            first["rank"].clone(),
            first["value"].clone()
        ),
        (json!("25432"), json!(1), json!(9.0))
    );
    assert_eq!(ranking["items"][1]["unit"], "25433");

    // Time passes with no event: at midnight after its due day (the 21st), A is overdue.
    clock.set(t("2022-09-22T00:00:01+07:00"));
    let later = app.get_json("/api/v1/units/25432?window=month").await.1;
    assert_eq!(
        later["keys"]["pending_overdue"], 3,
        "C, and now B (due the 20th) and A (due the 21st)"
    );

    // Another server on the same database gives the same answers.
    let restarted = app.another_node(&open, clock.clone()).await;
    for path in [
        "/api/v1/units/25432?window=month",
        "/api/v1/units/697?window=7d&scope=tree",
        "/api/v1/overview?window=month",
        "/api/v1/rankings?level=commune&key=on_time_rate&window=month",
        "/api/v1/campaigns/bp-92-ngay-2022",
    ] {
        let (a, b) = (app.get_json(path).await, restarted.get_json(path).await);
        assert_eq!(a.0, 200, "{path}: {}", a.1);
        assert_eq!(a, b, "{path} differs after a restart");
    }

    // A writer other than this server (ioc import, another node) is followed too.
    {
        let mut conn = app.store.get().expect("connection");
        let late = ioc_core::Dossier {
            code: DossierCode::parse("Z").expect("dossier code"),
            unit: UnitCode::parse("25433").expect("unit code"),
            procedure: ProcedureCode::parse("2.000815").expect("procedure code"),
            channel: ioc_core::Channel::Online,
            status: ioc_core::Status::Processing,
            received_at: Some(t("2022-09-21T09:00:00+07:00")),
            due_at: None,
            finished_at: None,
            fee_required: false,
            paid_online: false,
            e_result: false,
            updated_at: t("2022-09-21T09:00:00+07:00"),
        };
        ioc_store::dossiers::apply(
            &mut conn,
            &Source::parse("import").expect("source"),
            &[late],
            Utc::now(),
        )
        .expect("apply");
    }
    eventually(&app, "/api/v1/units/25433?window=month", |b| {
        b["keys"]["received"] == 2
    })
    .await;
}

#[actix_web::test]
async fn numbers_follow_ingest_time_and_restart_on_sqlite() {
    numbers_follow_ingest_time_and_restart(Backend::Sqlite).await;
}

#[actix_web::test]
async fn numbers_follow_ingest_time_and_restart_on_postgres() {
    numbers_follow_ingest_time_and_restart(Backend::Postgres).await;
}
