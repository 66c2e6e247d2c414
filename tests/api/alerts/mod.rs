//! Alerts with an injected clock: the overdue sweep and its lifecycle
//! (raise, severity rising, acknowledgement, restart, clear), a late-rate
//! threshold with hysteresis, a silent source, acknowledgement errors, the
//! `alerts` topic and webhook deliveries. Rules other than the overdue
//! sweep are in `rules`, webhook deliveries in `webhooks`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use ioc_core::ManualClock;
use ioc_server::auth::Role;
use ioc_testkit::{Backend, Screen, TestApp, sample};
use serde_json::{Value, json};

mod rules;
mod webhooks;

const OPEN: (&str, &str) = ("IOC__AUTH__PUBLIC_READ", "true");
/// Thresholds are evaluated at least every second.
const FAST: (&str, &str) = ("IOC__ALERTS__EVALUATE_EVERY_SECS", "1");

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test instant")
        .with_timezone(&Utc)
}

/// A dossier of commune 25432 received on the 19th, due on the 21st,
/// still being processed.
fn pending_dossier(code: &str) -> Value {
    json!({
        "code": code, "unit": "25432", "procedure": "2.000815", "channel": "online",
        "status": 4, "received_at": "2026-11-19T09:00:00+07:00",
        "due_at": "2026-11-21T17:00:00+07:00",
        "fee_required": false, "updated_at": "2026-11-19T09:00:00+07:00",
    })
}

/// A dossier of commune 25432 finished in November, late or on time.
fn finished_dossier(code: &str, late: bool) -> Value {
    let finished = if late {
        "2026-11-14T10:00:00+07:00"
    } else {
        "2026-11-11T10:00:00+07:00"
    };
    json!({
        "code": code, "unit": "25432", "procedure": "2.000815", "channel": "direct",
        "status": 10, "received_at": "2026-11-10T08:00:00+07:00",
        "due_at": "2026-11-12T17:00:00+07:00", "finished_at": finished,
        "fee_required": false, "updated_at": finished,
    })
}

async fn ingest(app: &TestApp, token: &str, records: Value) {
    let (status, report) = app.post_json("/api/v1/dossiers", token, &records).await;
    assert_eq!(status, 200, "{report}");
    assert!(
        report["rejected"].as_array().is_none_or(Vec::is_empty),
        "{report}"
    );
}

/// The body at `path` once `ready` holds (polled for up to 30 s).
async fn eventually(app: &TestApp, path: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..600 {
        let (status, body) = app.get_json(path).await;
        if status == 200 && ready(&body) {
            return body;
        }
        last = body;
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{path} never satisfied the condition; last: {last}");
}

async fn sweeps(app: &TestApp) -> f64 {
    sample(&app.scrape(None).await.1, "ioc_alert_sweeps_total").unwrap_or(0.0)
}

/// Waits until two more sweeps have completed: one that started after
/// this call has seen everything done before it.
async fn settle(app: &TestApp) {
    let start = sweeps(app).await;
    for _ in 0..600 {
        if sweeps(app).await >= start + 2.0 {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the alert sweeper does not run");
}

fn kinds(alert: &Value) -> Vec<String> {
    alert["events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .map(|e| e["kind"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn overdue_alert_lifecycle(backend: Backend) {
    let clock = Arc::new(ManualClock::new(t("2026-11-20T10:00:00+07:00")));
    let overrides = [OPEN];
    let Some(app) = TestApp::spawn_with_clock(backend, &overrides, clock.clone()).await else {
        return;
    };
    let token = app.ingest_token("motcua");
    let operator = app.token(Role::Operator, None, &[]);
    let mut screen = Screen::connect(app.address, "").await;
    screen.subscribe(&["alerts"]).await;
    ingest(&app, &token, json!([pending_dossier("D1")])).await;

    // Due on the 21st: due soon from the start of the 20th.
    let soon = eventually(&app, "/api/v1/alerts?rule=dossier_due_soon", |b| {
        b["total"] == 1
    })
    .await;
    assert_eq!(soon["items"][0]["severity"], "info");
    assert_eq!(soon["items"][0]["dossier"], "D1");

    // The clock passes the due day: one overdue alert, with no event sent.
    clock.set(t("2026-11-22T00:00:00+07:00"));
    let overdue = eventually(&app, "/api/v1/alerts?rule=dossier_overdue", |b| {
        b["total"] == 1
    })
    .await;
    let alert = overdue["items"][0].clone();
    let id = alert["id"].as_i64().expect("id");
    assert_eq!(
        (
            alert["severity"].clone(),
            alert["state"].clone(),
            alert["days_overdue"].clone(),
            alert["unit"]["code"].clone(),
            alert["unit"]["rollup"].clone(),
            alert["source"].clone(),
        ),
        (
            json!("warning"),
            json!("active"),
            json!(1),
            json!("25432"),
            json!("697"),
            json!("motcua")
        ),
        "{alert}"
    );
    assert_eq!(alert["raised_at"], json!("2026-11-21T17:00:00Z"));
    // The due-soon alert of the same dossier cleared when it became overdue.
    let soon = eventually(
        &app,
        "/api/v1/alerts?rule=dossier_due_soon&state=all",
        |b| b["items"][0]["state"] == "cleared",
    )
    .await;
    assert_eq!(soon["total"], 1);
    // The wall's topic carries it, with its raise event and the rollup.
    let topic = screen
        .until("alerts", |v| v["items"].get(id.to_string()).is_some())
        .await;
    assert_eq!(topic["rollup"]["697"]["warning"], 1, "{topic}");
    assert!(
        topic["events"]
            .as_object()
            .expect("events")
            .values()
            .any(|e| e["kind"] == "raise" && e["alert_id"] == id),
        "{topic}"
    );
    let scrape = app.scrape(None).await.1;
    assert_eq!(
        sample(
            &scrape,
            r#"ioc_alerts_active{level="commune",rule="dossier_overdue",severity="warning"}"#
        ),
        Some(1.0),
        "{scrape}"
    );
    // Filters: a district covers its communes (scope tree, the default) but
    // not with scope self; severities; an unknown unit is named.
    let totals = [
        "/api/v1/alerts?rule=dossier_overdue&unit=697",
        "/api/v1/alerts?rule=dossier_overdue&unit=697&scope=self",
        "/api/v1/alerts?rule=dossier_overdue&unit=25432&severity=warning,critical",
        "/api/v1/alerts?rule=dossier_overdue&severity=info",
        "/api/v1/alerts?rule=dossier_overdue&state=cleared",
    ];
    let mut found = Vec::new();
    for path in totals {
        found.push(app.get_json(path).await.1["total"].clone());
    }
    assert_eq!(found, [json!(1), json!(0), json!(1), json!(0), json!(0)]);
    let (status, body) = app.get_json("/api/v1/alerts?unit=99999").await;
    assert_eq!(
        (status, body["error"].clone()),
        (404, json!("not_found")),
        "{body}"
    );

    // Five days overdue: critical, still the same single alert.
    clock.set(t("2026-11-26T09:00:00+07:00"));
    let all = eventually(&app, "/api/v1/alerts?rule=dossier_overdue&state=all", |b| {
        b["items"][0]["severity"] == "critical"
    })
    .await;
    assert_eq!(
        (all["total"].clone(), all["items"][0]["id"].clone()),
        (json!(1), json!(id))
    );
    assert_eq!(all["items"][0]["days_overdue"], 5);
    screen
        .until("alerts", |v| {
            v["items"][id.to_string()]["severity"] == "critical"
        })
        .await;

    // An operator acknowledges it: who and when are recorded.
    let (status, acked) = app
        .post_json(
            &format!("/api/v1/alerts/{id}/ack"),
            &operator,
            &json!({"note": "Đã gọi điện cho UBND xã"}),
        )
        .await;
    assert_eq!(status, 200, "{acked}");
    assert_eq!(
        (
            acked["acknowledged_by"].clone(),
            acked["acknowledged_at"].clone(),
            acked["ack_note"].clone(),
            acked["state"].clone(),
        ),
        (
            json!("test"),
            json!("2026-11-26T02:00:00Z"),
            json!("Đã gọi điện cho UBND xã"),
            json!("active")
        )
    );
    let history = app.get_json(&format!("/api/v1/alerts/{id}")).await.1;
    assert_eq!(kinds(&history), ["raise", "update", "ack"], "{history}");
    assert_eq!(history["events"][2]["by"], "test");
    screen
        .until("alerts", |v| {
            v["items"][id.to_string()]["acknowledged"] == true
        })
        .await;

    // A restart keeps every alert in its state and raises nothing again.
    let before = app.get_json("/api/v1/alerts?state=all").await.1;
    let app = app.restart(&overrides, clock.clone()).await;
    settle(&app).await;
    settle(&app).await;
    let after = app.get_json("/api/v1/alerts?state=all").await.1;
    assert_eq!(after, before);
    let history = app.get_json(&format!("/api/v1/alerts/{id}")).await.1;
    assert_eq!(kinds(&history), ["raise", "update", "ack"], "{history}");

    // The dossier finishes: the alert clears by itself, acknowledgement kept.
    let mut finished = pending_dossier("D1");
    finished["status"] = json!(10);
    finished["finished_at"] = json!("2026-11-26T08:30:00+07:00");
    finished["updated_at"] = json!("2026-11-26T08:30:00+07:00");
    ingest(&app, &token, json!([finished])).await;
    let cleared = eventually(&app, &format!("/api/v1/alerts/{id}"), |b| {
        b["state"] == "cleared"
    })
    .await;
    assert_eq!(kinds(&cleared), ["raise", "update", "ack", "clear"]);
    assert_eq!(cleared["cleared_at"], json!("2026-11-26T02:00:00Z"));
    assert_eq!(cleared["acknowledged_by"], "test");
    let active = app.get_json("/api/v1/alerts").await.1;
    assert_eq!(active["total"], 0, "{active}");
}

#[actix_web::test]
async fn an_overdue_dossier_raises_one_alert_that_escalates_survives_a_restart_and_clears_on_sqlite()
 {
    overdue_alert_lifecycle(Backend::Sqlite).await;
}

#[actix_web::test]
async fn an_overdue_dossier_raises_one_alert_that_escalates_survives_a_restart_and_clears_on_postgres()
 {
    overdue_alert_lifecycle(Backend::Postgres).await;
}

/// A server with one overdue-dossier alert; its id.
async fn with_an_overdue_alert(app: &TestApp, clock: &ManualClock) -> i64 {
    let token = app.ingest_token("motcua");
    ingest(app, &token, json!([pending_dossier("E1")])).await;
    clock.set(t("2026-11-22T08:00:00+07:00"));
    let found = eventually(app, "/api/v1/alerts?rule=dossier_overdue", |b| {
        b["total"] == 1
    })
    .await;
    found["items"][0]["id"].as_i64().expect("id")
}

/// An alert rules file with `text` in a new temporary directory; the
/// directory (to remove) and the file's path.
fn rules_file(name: &str, text: &str) -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("ioc-rules-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let rules = dir.join("alerts.toml");
    std::fs::write(&rules, text).expect("rules file");
    let file = rules.display().to_string();
    (dir, file)
}
