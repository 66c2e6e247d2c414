//! The read API: numbers that follow ingestion and the clock, identical
//! after a restart, with specific errors and exports.

use ioc_core::Source;
use ioc_core::{DossierCode, ProcedureCode, UnitCode};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use ioc_core::ManualClock;
use ioc_server::auth::Role;
use ioc_testkit::{Backend, TestApp};
use serde_json::{Value, json};

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

#[actix_web::test]
async fn bad_parameters_name_themselves_and_the_valid_values() {
    let Some(app) = TestApp::spawn(Backend::Sqlite, &[]).await else {
        return;
    };
    let viewer = app.token(Role::Viewer, None, &[]);
    let ingest = app.ingest_token("motcua");
    let get = |path: &'static str, token: Option<String>| {
        let app = &app;
        async move {
            app.send(
                awc::http::Method::GET,
                path,
                None,
                token.as_deref(),
                Vec::new(),
            )
            .await
        }
    };
    let (status, body) = get("/api/v1/overview", None).await;
    assert_eq!(
        (status, body["error"].clone()),
        (401, json!("unauthorized")),
        "reads need a token unless public_read"
    );
    let (status, _) = get("/api/v1/overview", Some(ingest)).await;
    assert_eq!(status, 403, "an ingest token cannot read");
    let (status, body) = get("/api/v1/overview?token=nonsense", None).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (401, Some("the token is unknown or revoked")),
        "a query token is checked like a bearer token"
    );
    let v = Some(viewer);
    assert_eq!(get("/api/v1/overview?window=month", v.clone()).await.0, 200);

    for (path, status, needle) in [
        (
            "/api/v1/units/99999",
            404,
            "unit \"99999\" is not in the unit tree",
        ),
        (
            "/api/v1/units/25432?window=fortnight",
            400,
            "window: unknown window \"fortnight\" (windows: today, yesterday, 7d",
        ),
        (
            "/api/v1/units/25432?from=2022-09-10&to=2022-09-01",
            400,
            "window: window from 2022-09-10 to 2022-09-01 is empty",
        ),
        (
            "/api/v1/units/25432?from=2022/09/01&to=2022-09-10",
            400,
            "from: \"2022/09/01\" is not a date YYYY-MM-DD",
        ),
        (
            "/api/v1/units/25432?scope=all",
            400,
            "scope: unknown scope \"all\" (scopes: self, tree)",
        ),
        (
            "/api/v1/units/25432?window=campaign:nope",
            400,
            "unknown campaign \"nope\" (campaigns: bp-92-ngay-2022)",
        ),
        (
            "/api/v1/rankings?level=ward&key=received",
            400,
            "level: unknown level \"ward\" (levels: province, department, district, commune)",
        ),
        (
            "/api/v1/rankings?level=commune&key=speed",
            400,
            "key: unknown key \"speed\" (keys: received,",
        ),
        ("/api/v1/rankings?key=received", 400, "level: is required"),
        (
            "/api/v1/rankings?level=commune&key=received&format=pdf",
            400,
            "format: unknown format \"pdf\"",
        ),
        (
            "/api/v1/campaigns/nope",
            404,
            "campaign \"nope\" (campaigns: bp-92-ngay-2022)",
        ),
        (
            "/api/v1/units/25432/trend?days=0",
            400,
            "days: \"0\" is not a number of days from 1 to 366",
        ),
        (
            "/api/v1/units/25432/trend?days=400",
            400,
            "days: \"400\" is not a number of days from 1 to 366",
        ),
        (
            "/api/v1/units/25432/trend?scope=all",
            400,
            "scope: unknown scope \"all\"",
        ),
        (
            "/api/v1/units/99999/trend",
            404,
            "unit \"99999\" is not in the unit tree",
        ),
        ("/static/nope.js", 404, "no file \"nope.js\""),
    ] {
        let (got, body) = get(path, v.clone()).await;
        assert_eq!(got, status, "{path}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(needle),
            "{path}: {message:?} lacks {needle:?}"
        );
    }
}

#[actix_web::test]
async fn rankings_export_as_csv_and_excel_with_vietnamese_headers() {
    let open = [("IOC__AUTH__PUBLIC_READ", "true")];
    let clock = Arc::new(ManualClock::new(t("2022-09-20T10:00:00+07:00")));
    let Some(app) = TestApp::spawn_with_clock(Backend::Sqlite, &open, clock).await else {
        return;
    };
    let token = app.ingest_token("motcua");
    app.post_json("/api/v1/dossiers", &token, &dataset()).await;
    eventually(&app, "/api/v1/units/25432?window=month", |b| {
        b["keys"]["received"] == 9
    })
    .await;

    let mut csv = app
        .client
        .get(app.url("/api/v1/rankings?level=commune&key=received&window=month"))
        .insert_header(("Accept", "text/csv"))
        .send()
        .await
        .expect("csv");
    assert_eq!(
        csv.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/csv; charset=utf-8")
    );
    let text = String::from_utf8(csv.body().await.expect("body").to_vec()).expect("utf-8");
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    assert_eq!(
        lines.next(),
        Some("Hạng,Mã đơn vị,Tên đơn vị,Hồ sơ tiếp nhận,Tử số,Mẫu số,Hạng kỳ trước,Thay đổi")
    );
    assert_eq!(lines.next(), Some("1,25432,Thị trấn Chơn Thành,9,9,1,1,0"));
    let (_, json) = app
        .get_json("/api/v1/rankings?level=commune&key=received&window=month")
        .await;
    assert_eq!(
        text.trim_start_matches('\u{feff}').lines().count() - 1,
        json["items"].as_array().expect("items").len()
    );

    let mut xlsx = app
        .client
        .get(app.url("/api/v1/rankings?level=commune&key=received&window=month&format=xlsx"))
        .send()
        .await
        .expect("xlsx");
    assert_eq!(
        xlsx.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    let bytes = xlsx.body().limit(16 << 20).await.expect("body");
    assert!(
        bytes.starts_with(b"PK\x03\x04"),
        "an XLSX file is a zip archive"
    );

    let mut unit_csv = app
        .client
        .get(app.url("/api/v1/units/697?window=month&format=csv"))
        .send()
        .await
        .expect("unit csv");
    let text = String::from_utf8(unit_csv.body().await.expect("body").to_vec()).expect("utf-8");
    assert!(
        text.contains("Mã đơn vị,Tên đơn vị,Cấp,Hồ sơ tiếp nhận"),
        "{text}"
    );
    assert!(
        text.contains("25432,Thị trấn Chơn Thành,commune,9,"),
        "{text}"
    );
}
