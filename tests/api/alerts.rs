//! Alerts with an injected clock: the overdue sweep and its lifecycle
//! (raise, severity rising, acknowledgement, restart, clear), a late-rate
//! threshold with hysteresis, a silent source, acknowledgement errors, the
//! `alerts` topic and webhook deliveries.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use ioc_core::ManualClock;
use ioc_server::auth::Role;
use ioc_testkit::{Backend, Screen, TestApp, sample};
use serde_json::{Value, json};

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

#[actix_web::test]
async fn a_late_rate_over_the_threshold_raises_one_alert_cleared_only_below_the_hysteresis() {
    let clock = Arc::new(ManualClock::new(t("2026-11-20T10:00:00+07:00")));
    let Some(app) = TestApp::spawn_with_clock(Backend::Sqlite, &[OPEN, FAST], clock).await else {
        return;
    };
    let token = app.ingest_token("motcua");
    let batch = |from: usize, to: usize, late: bool| {
        Value::Array(
            (from..to)
                .map(|i| finished_dossier(&format!("F{i}"), late))
                .collect(),
        )
    };
    // 2 late of 302 finished this month: 0.66% > 0.4%.
    ingest(&app, &token, batch(0, 300, false)).await;
    ingest(&app, &token, batch(300, 302, true)).await;
    let raised = eventually(&app, "/api/v1/alerts?rule=late_rate_high", |b| {
        b["total"] == 1
    })
    .await;
    let alert = &raised["items"][0];
    assert_eq!(alert["unit"]["code"], "25432");
    assert_eq!(alert["details"]["numerator"], 2);
    assert_eq!(alert["details"]["denominator"], 302);
    let id = alert["id"].clone();

    // 2 of 572: 0.35%, under 0.4% but not under 0.4% − 0.1%: it stays.
    ingest(&app, &token, batch(302, 572, false)).await;
    eventually(&app, "/api/v1/alerts?rule=late_rate_high", |b| {
        b["items"][0]["details"]["denominator"] == 572
    })
    .await;
    settle(&app).await;
    let band = app
        .get_json("/api/v1/alerts?rule=late_rate_high&state=all")
        .await
        .1;
    assert_eq!(
        (
            band["total"].clone(),
            band["items"][0]["state"].clone(),
            band["items"][0]["id"].clone()
        ),
        (json!(1), json!("active"), id.clone()),
        "{band}"
    );

    // 2 of 702: 0.28% < 0.3%: it clears; it was never raised twice.
    ingest(&app, &token, batch(572, 702, false)).await;
    let cleared = eventually(&app, "/api/v1/alerts?rule=late_rate_high&state=all", |b| {
        b["items"][0]["state"] == "cleared"
    })
    .await;
    assert_eq!(
        (cleared["total"].clone(), cleared["items"][0]["id"].clone()),
        (json!(1), id)
    );
    let history = app
        .get_json(&format!("/api/v1/alerts/{}", cleared["items"][0]["id"]))
        .await
        .1;
    assert_eq!(kinds(&history), ["raise", "clear"]);
}

#[actix_web::test]
async fn a_silent_source_raises_a_stale_data_alert_that_data_clears() {
    // Friday 09:00: working hours.
    let clock = Arc::new(ManualClock::new(t("2026-11-20T09:00:00+07:00")));
    let Some(app) = TestApp::spawn_with_clock(Backend::Sqlite, &[OPEN], clock.clone()).await else {
        return;
    };
    let token = app.ingest_token("motcua");
    ingest(&app, &token, json!([pending_dossier("S1")])).await;
    settle(&app).await;

    // 59 working minutes of silence: under the limit of 60.
    clock.set(t("2026-11-20T09:59:00+07:00"));
    settle(&app).await;
    let quiet = app.get_json("/api/v1/alerts?rule=source_silent").await.1;
    assert_eq!(quiet["total"], 0, "{quiet}");

    clock.set(t("2026-11-20T10:00:30+07:00"));
    let stale = eventually(&app, "/api/v1/alerts?rule=source_silent", |b| {
        b["total"] == 1
    })
    .await;
    let alert = &stale["items"][0];
    assert_eq!(
        (
            alert["source"].clone(),
            alert["severity"].clone(),
            alert["unit"]["code"].clone()
        ),
        (json!("motcua"), json!("warning"), json!("70"))
    );
    assert_eq!(alert["details"]["last_seen_at"], "2026-11-20T02:00:00Z");

    // Data arrives: the alert clears.
    ingest(&app, &token, json!([pending_dossier("S2")])).await;
    let cleared = eventually(&app, "/api/v1/alerts?rule=source_silent&state=all", |b| {
        b["items"][0]["state"] == "cleared"
    })
    .await;
    assert_eq!(cleared["total"], 1);
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

#[actix_web::test]
async fn acknowledging_needs_an_operator_token_and_a_known_alert() {
    let clock = Arc::new(ManualClock::new(t("2026-11-20T10:00:00+07:00")));
    let Some(app) = TestApp::spawn_with_clock(Backend::Sqlite, &[OPEN], clock.clone()).await else {
        return;
    };
    let id = with_an_overdue_alert(&app, &clock).await;
    let path = format!("/api/v1/alerts/{id}/ack");
    let viewer = app.token(Role::Viewer, None, &[]);
    let operator = app.token(Role::Operator, None, &[]);
    let post = |path: String, token: Option<String>, body: &'static str| {
        let app = &app;
        async move {
            app.send(
                awc::http::Method::POST,
                &path,
                Some("application/json"),
                token.as_deref(),
                body,
            )
            .await
        }
    };

    let (status, body) = post(path.clone(), None, "").await;
    assert_eq!(
        (status, body["error"].clone()),
        (401, json!("unauthorized")),
        "{body}"
    );
    let (status, body) = post(path.clone(), Some(viewer), "").await;
    assert_eq!(
        (status, body["error"].clone()),
        (403, json!("forbidden")),
        "{body}"
    );
    let (status, body) = post(path.clone(), Some(app.ingest_token("x")), "").await;
    assert_eq!(status, 403, "{body}");
    for unknown in ["/api/v1/alerts/999999/ack", "/api/v1/alerts/abc/ack"] {
        let (status, body) = post(unknown.to_owned(), Some(operator.clone()), "").await;
        assert_eq!(
            (status, body["error"].clone()),
            (404, json!("not_found")),
            "{body}"
        );
        assert!(
            body["message"]
                .as_str()
                .unwrap_or_default()
                .contains("no alert"),
            "{body}"
        );
    }
    let (status, body) = post(path.clone(), Some(operator.clone()), "{\"nota\": 1}").await;
    assert_eq!(
        (status, body["error"].clone()),
        (400, json!("malformed_json")),
        "{body}"
    );
    // A note over 2,000 characters, and a body over 16 KiB, are refused.
    let long_note = json!({"note": "ư".repeat(2_001)}).to_string();
    let oversized = json!({"note": "x".repeat(20_000)}).to_string();
    for (body, status, error, says) in [
        (
            long_note,
            400,
            "invalid_parameter",
            "note: longer than 2000 characters",
        ),
        (
            oversized,
            413,
            "payload_too_large",
            "exceeds the limit of 16384 bytes",
        ),
    ] {
        let (got, answer) = app
            .send(
                awc::http::Method::POST,
                &path,
                Some("application/json"),
                Some(&operator),
                body,
            )
            .await;
        assert_eq!(
            (got, answer["error"].clone()),
            (status, json!(error)),
            "{answer}"
        );
        assert!(
            answer["message"]
                .as_str()
                .unwrap_or_default()
                .contains(says),
            "{answer}"
        );
    }
    let unacked = app.get_json(&format!("/api/v1/alerts/{id}")).await.1;
    assert_eq!(
        unacked["acknowledged"], false,
        "a refused ack changes nothing"
    );

    // An empty body is a plain acknowledgement; a second one conflicts.
    let (status, body) = post(path.clone(), Some(operator.clone()), "").await;
    assert_eq!(
        (status, body["acknowledged"].clone()),
        (200, json!(true)),
        "{body}"
    );
    let (status, body) = post(path.clone(), Some(operator), "").await;
    assert_eq!(
        (status, body["error"].clone()),
        (409, json!("conflict")),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("already acknowledged by test"),
        "{body}"
    );
    // The acknowledged alert moves from one list to the other (other rules,
    // such as the silent source on this Sunday, may have alerts of their own).
    let acked = "/api/v1/alerts?rule=dossier_overdue&ack=acknowledged";
    let unacked = "/api/v1/alerts?rule=dossier_overdue&ack=unacknowledged";
    assert_eq!(app.get_json(acked).await.1["total"], 1);
    assert_eq!(app.get_json(unacked).await.1["total"], 0);
    for (query, says) in [
        ("severity=urgent", "severity: unknown severity \"urgent\""),
        ("state=open", "state: unknown state \"open\""),
        (
            "per_page=501",
            "per_page: \"501\" is not a whole number from 1 to 500",
        ),
        ("page=0", "page: \"0\" is not a whole number"),
        ("unit=697&scope=all", "scope: unknown scope \"all\""),
    ] {
        let (status, body) = app.get_json(&format!("/api/v1/alerts?{query}")).await;
        assert_eq!(
            (status, body["error"].clone()),
            (400, json!("invalid_parameter")),
            "{body}"
        );
        assert!(
            body["message"].as_str().unwrap_or_default().contains(says),
            "{query}: {body}"
        );
    }
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

/// Says whether a webhook receiver accepts its `n`th delivery (from 1).
type Accepts = Arc<dyn Fn(usize) -> bool + Send + Sync>;

/// A webhook receiver on loopback: every delivery is recorded, with
/// whether it was accepted; `accepts` decides.
async fn receiver(accepts: Accepts) -> (String, Arc<Mutex<Vec<(String, Value)>>>) {
    receiver_on(accepts, None).await
}

/// [`receiver`] over TLS with `tls` when given (an `https://` URL).
async fn receiver_on(
    accepts: Accepts,
    tls: Option<rustls::ServerConfig>,
) -> (String, Arc<Mutex<Vec<(String, Value)>>>) {
    use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
    let seen: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let state = seen.clone();
    let server = HttpServer::new(move || {
        let state = state.clone();
        let accepts = accepts.clone();
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Json<Value>| {
            let state = state.clone();
            let accepts = accepts.clone();
            async move {
                let key = req
                    .headers()
                    .get("Idempotency-Key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let mut seen = state.lock().expect("receiver state");
                let mut body = body.into_inner();
                let accepted = accepts(seen.len() + 1);
                body["accepted"] = json!(accepted);
                seen.push((key, body));
                if accepted {
                    HttpResponse::Ok().finish()
                } else {
                    HttpResponse::InternalServerError().finish()
                }
            }
        }))
    })
    .workers(1);
    let scheme = if tls.is_some() { "https" } else { "http" };
    let server = match tls {
        Some(tls) => server.bind_rustls_0_23("127.0.0.1:0", tls),
        None => server.bind("127.0.0.1:0"),
    }
    .expect("bind the receiver");
    let address = server.addrs()[0];
    actix_web::rt::spawn(server.run());
    (format!("{scheme}://{address}/hooks/ioc"), seen)
}

/// A certificate for 127.0.0.1 issued by a CA of the test's own: the
/// server's TLS configuration and the CA's PEM.
fn test_tls() -> (rustls::ServerConfig, String) {
    let ca_key = rcgen::KeyPair::generate().expect("CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "ioc test CA");
    let ca = ca_params.self_signed(&ca_key).expect("CA");
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .expect("params")
        .signed_by(&key, &ca, &ca_key)
        .expect("certificate");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .expect("server TLS");
    (config, ca.pem())
}

#[actix_web::test]
async fn webhook_deliveries_are_retried_with_one_idempotency_key_per_event() {
    // The first delivery is refused.
    let (url, seen) = receiver(Arc::new(|n| n > 1)).await;
    let (dir, file) = rules_file(
        "webhook",
        &format!(
            "[dossier_overdue]\nsteps = [{{ days = 1, severity = \"warning\" }}]\nwebhook = \"{url}\"\n"
        ),
    );
    let clock = Arc::new(ManualClock::new(t("2026-11-20T10:00:00+07:00")));
    let overrides = [OPEN, ("IOC__ALERTS__FILE", file.as_str())];
    let Some(app) = TestApp::spawn_with_clock(Backend::Sqlite, &overrides, clock.clone()).await
    else {
        return;
    };
    let id = with_an_overdue_alert(&app, &clock).await;
    let operator = app.token(Role::Operator, None, &[]);
    let (status, _) = app
        .post_json(&format!("/api/v1/alerts/{id}/ack"), &operator, &json!({}))
        .await;
    assert_eq!(status, 200);
    for _ in 0..600 {
        if seen.lock().expect("receiver state").len() >= 3 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = seen.lock().expect("receiver state").clone();
    let summary: Vec<(String, Value, Value)> = seen
        .iter()
        .map(|(key, body)| {
            (
                key.clone(),
                body["event"]["kind"].clone(),
                body["alert"]["id"].clone(),
            )
        })
        .collect();
    assert_eq!(summary.len(), 3, "{summary:?}");
    // The raise was refused once and sent again under the same key, before
    // the next event: deliveries to a receiver keep their order.
    assert_eq!(summary[0], summary[1], "{summary:?}");
    assert_eq!(summary[0].1, "raise");
    assert_eq!(summary[2].1, "ack");
    assert_ne!(summary[0].0, summary[2].0);
    assert!(summary[0].0.starts_with("ioc-alert-event-"), "{summary:?}");
    assert_eq!(summary[2].2, json!(id));
    let _ = std::fs::remove_dir_all(dir);
}

#[actix_web::test]
async fn two_nodes_on_one_database_raise_each_condition_once() {
    let clock = Arc::new(ManualClock::new(t("2026-11-20T10:00:00+07:00")));
    let Some(app) = TestApp::spawn_with_clock(Backend::Postgres, &[OPEN], clock.clone()).await
    else {
        return;
    };
    let other = app.another_node(&[OPEN], clock.clone()).await;
    let token = app.ingest_token("motcua");
    let dossiers: Vec<Value> = (0..50).map(|i| pending_dossier(&format!("N{i}"))).collect();
    ingest(&app, &token, Value::Array(dossiers)).await;
    // Both nodes sweep the same transition at local midnight.
    clock.set(t("2026-11-22T00:00:00+07:00"));
    eventually(&app, "/api/v1/alerts?rule=dossier_overdue", |b| {
        b["total"] == 50
    })
    .await;
    settle(&app).await;
    settle(&app).await;
    let all = app
        .get_json("/api/v1/alerts?rule=dossier_overdue&state=all&per_page=500")
        .await
        .1;
    assert_eq!(
        all["total"], 50,
        "one alert per dossier, whichever node wrote it"
    );
    for item in all["items"].as_array().expect("items") {
        let history = app
            .get_json(&format!("/api/v1/alerts/{}", item["id"]))
            .await
            .1;
        assert_eq!(kinds(&history), ["raise"], "{history}");
    }
    // 50 overdue in one commune is also over the `pending_overdue_many`
    // threshold (10): one alert for it too, raised once.
    let many = eventually(&app, "/api/v1/alerts?rule=pending_overdue_many", |b| {
        b["total"] == 1
    })
    .await;
    let history = app
        .get_json(&format!("/api/v1/alerts/{}", many["items"][0]["id"]))
        .await
        .1;
    assert_eq!(kinds(&history), ["raise"], "{history}");
    // The other node's board follows the event log: its rollup counts them all.
    for _ in 0..600 {
        if other.get_json("/api/v1/alerts/rollup").await.1["697"]["active"] == 51 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    let rollup = other.get_json("/api/v1/alerts/rollup").await.1;
    assert_eq!(rollup["697"]["active"], 51, "{rollup}");
    assert_eq!(rollup["697"]["unacknowledged"], 51, "{rollup}");
}

#[actix_web::test]
async fn a_rule_taken_out_of_the_configuration_clears_its_alerts_at_the_next_start() {
    let clock = Arc::new(ManualClock::new(t("2026-11-20T10:00:00+07:00")));
    let Some(app) = TestApp::spawn_with_clock(Backend::Sqlite, &[OPEN], clock.clone()).await else {
        return;
    };
    let id = with_an_overdue_alert(&app, &clock).await;
    let (dir, file) = rules_file("off", "# every rule off\n");
    let app = app
        .restart(&[OPEN, ("IOC__ALERTS__FILE", file.as_str())], clock.clone())
        .await;
    let cleared = eventually(&app, &format!("/api/v1/alerts/{id}"), |b| {
        b["state"] == "cleared"
    })
    .await;
    assert_eq!(kinds(&cleared), ["raise", "clear"], "{cleared}");
    let active = app.get_json("/api/v1/alerts").await.1;
    assert_eq!(active["total"], 0, "{active}");
    let _ = std::fs::remove_dir_all(dir);
}

/// A dossier of commune 25432 received on 10 July 2022, in the 92-day
/// campaign, still being processed.
fn campaign_dossier(code: &str, channel: &str) -> Value {
    json!({
        "code": code, "unit": "25432", "procedure": "2.000815", "channel": channel,
        "status": 4, "received_at": "2022-07-10T09:00:00+07:00",
        "due_at": "2022-07-30T17:00:00+07:00",
        "fee_required": false, "updated_at": "2022-07-10T09:00:00+07:00",
    })
}

#[actix_web::test]
async fn an_online_share_under_the_running_campaigns_target_raises_and_clears_with_hysteresis() {
    // Inside Bình Phước's 92-day campaign of 2022: online share ≥ 50%.
    let clock = Arc::new(ManualClock::new(t("2022-07-15T10:00:00+07:00")));
    let Some(app) = TestApp::spawn_with_clock(Backend::Sqlite, &[OPEN, FAST], clock).await else {
        return;
    };
    let token = app.ingest_token("motcua");
    let batch = |from: usize, to: usize, channel: &str| {
        Value::Array(
            (from..to)
                .map(|i| campaign_dossier(&format!("C{i}"), channel))
                .collect(),
        )
    };
    let path = "/api/v1/alerts?rule=online_share_below_target&state=all";
    // 6 online of 20: 30% < 50%.
    ingest(&app, &token, batch(0, 6, "online")).await;
    ingest(&app, &token, batch(6, 20, "direct")).await;
    let raised = eventually(&app, path, |b| b["total"] == 1).await;
    let alert = &raised["items"][0];
    assert_eq!(
        (
            alert["unit"]["code"].clone(),
            alert["details"]["limit"].clone()
        ),
        (json!("25432"), json!(0.5)),
        "{alert}"
    );
    let id = alert["id"].clone();
    // 15 of 29: 51.7%, over the target but not by the hysteresis (2%): it stays.
    ingest(&app, &token, batch(20, 29, "online")).await;
    eventually(&app, path, |b| {
        b["items"][0]["details"]["denominator"] == 29
    })
    .await;
    settle(&app).await;
    let band = app.get_json(path).await.1;
    assert_eq!(
        (band["total"].clone(), band["items"][0]["state"].clone()),
        (json!(1), json!("active")),
        "{band}"
    );
    // 17 of 31: 54.8%: it clears.
    ingest(&app, &token, batch(29, 31, "online")).await;
    let cleared = eventually(&app, path, |b| b["items"][0]["state"] == "cleared").await;
    assert_eq!(
        (cleared["total"].clone(), cleared["items"][0]["id"].clone()),
        (json!(1), id)
    );
}

/// The deliveries `seen` so far: (idempotency key, event kind, accepted).
fn deliveries(seen: &Mutex<Vec<(String, Value)>>) -> Vec<(String, Value, bool)> {
    seen.lock()
        .expect("receiver state")
        .iter()
        .map(|(key, body)| {
            (
                key.clone(),
                body["event"]["kind"].clone(),
                body["accepted"] == json!(true),
            )
        })
        .collect()
}

/// Waits (bounded) until `done` holds for the deliveries seen.
async fn deliveries_until(
    seen: &Mutex<Vec<(String, Value)>>,
    done: impl Fn(&[(String, Value, bool)]) -> bool,
) -> Vec<(String, Value, bool)> {
    for _ in 0..600 {
        let now = deliveries(seen);
        if done(&now) {
            return now;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    deliveries(seen)
}

#[actix_web::test]
async fn webhook_deliveries_owed_at_a_restart_are_made_by_the_next_start() {
    let accepting = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = accepting.clone();
    let (url, seen) = receiver(Arc::new(move |_| {
        flag.load(std::sync::atomic::Ordering::SeqCst)
    }))
    .await;
    let (dir, file) = rules_file(
        "webhook-restart",
        &format!(
            "[dossier_overdue]\nsteps = [{{ days = 1, severity = \"warning\" }}]\nwebhook = \"{url}\"\n"
        ),
    );
    let clock = Arc::new(ManualClock::new(t("2026-11-20T10:00:00+07:00")));
    let overrides = [
        OPEN,
        ("IOC__ALERTS__FILE", file.as_str()),
        ("IOC__ALERTS__WEBHOOK_ATTEMPTS", "100"),
    ];
    let Some(app) = TestApp::spawn_with_clock(Backend::Sqlite, &overrides, clock.clone()).await
    else {
        return;
    };
    with_an_overdue_alert(&app, &clock).await;
    let refused = deliveries_until(&seen, |d| !d.is_empty()).await;
    assert_eq!(refused[0].1, "raise", "{refused:?}");
    assert!(!refused[0].2, "the receiver is down");
    // The node stops with the raise undelivered; the next start owes it.
    let app = app.restart(&overrides, clock.clone()).await;
    accepting.store(true, std::sync::atomic::Ordering::SeqCst);
    let done = deliveries_until(&seen, |d| d.iter().any(|(_, _, ok)| *ok)).await;
    let accepted: Vec<&(String, Value, bool)> = done.iter().filter(|d| d.2).collect();
    assert_eq!(accepted.len(), 1, "{done:?}");
    assert_eq!(
        accepted[0].0, refused[0].0,
        "the same idempotency key across the restart"
    );
    assert_eq!(accepted[0].1, "raise");
    assert!(
        done.iter().all(|d| d.0 == refused[0].0),
        "only the raise: {done:?}"
    );
    drop(app);
    let _ = std::fs::remove_dir_all(dir);
}

#[actix_web::test]
async fn two_nodes_deliver_each_webhook_event_once() {
    let (url, seen) = receiver(Arc::new(|_| true)).await;
    let (dir, file) = rules_file(
        "webhook-nodes",
        &format!(
            "[dossier_overdue]\nsteps = [{{ days = 1, severity = \"warning\" }}]\nwebhook = \"{url}\"\n"
        ),
    );
    let clock = Arc::new(ManualClock::new(t("2026-11-20T10:00:00+07:00")));
    let overrides = [OPEN, ("IOC__ALERTS__FILE", file.as_str())];
    let Some(app) = TestApp::spawn_with_clock(Backend::Postgres, &overrides, clock.clone()).await
    else {
        return;
    };
    let _other = app.another_node(&overrides, clock.clone()).await;
    let token = app.ingest_token("motcua");
    let dossiers: Vec<Value> = (0..20).map(|i| pending_dossier(&format!("W{i}"))).collect();
    ingest(&app, &token, Value::Array(dossiers)).await;
    clock.set(t("2026-11-22T08:00:00+07:00"));
    let done = deliveries_until(&seen, |d| d.len() >= 20).await;
    // Give a second delivery of any event time to arrive, then count.
    actix_web::rt::time::sleep(Duration::from_secs(3)).await;
    let done = deliveries(&seen).len().max(done.len());
    let keys: std::collections::BTreeSet<String> =
        deliveries(&seen).into_iter().map(|d| d.0).collect();
    assert_eq!(
        (done, keys.len()),
        (20, 20),
        "each raise delivered once, by one node"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[actix_web::test]
async fn webhooks_are_delivered_over_https_to_a_receiver_of_a_configured_ca() {
    let (tls, ca) = test_tls();
    let (url, seen) = receiver_on(Arc::new(|_| true), Some(tls)).await;
    assert!(url.starts_with("https://"), "{url}");
    let (dir, file) = rules_file(
        "webhook-https",
        &format!(
            "[dossier_overdue]\nsteps = [{{ days = 1, severity = \"warning\" }}]\nwebhook = \"{url}\"\n"
        ),
    );
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca).expect("CA file");
    let ca_file = ca_file.display().to_string();
    let clock = Arc::new(ManualClock::new(t("2026-11-20T10:00:00+07:00")));
    let overrides = [
        OPEN,
        ("IOC__ALERTS__FILE", file.as_str()),
        ("IOC__ALERTS__WEBHOOK_CA_FILE", ca_file.as_str()),
    ];
    let Some(app) = TestApp::spawn_with_clock(Backend::Sqlite, &overrides, clock.clone()).await
    else {
        return;
    };
    with_an_overdue_alert(&app, &clock).await;
    let done = deliveries_until(&seen, |d| !d.is_empty()).await;
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!((done[0].1.clone(), done[0].2), (json!("raise"), true));
    let _ = std::fs::remove_dir_all(dir);
}
