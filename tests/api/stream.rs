//! Live updates over `/ws`, with a real WebSocket client: snapshots then
//! deltas after ingest, one delivery per change, resync after a gap,
//! bounded queues for clients that stop reading, specific errors for bad
//! frames, tokens, and the per-node session cap.

use std::time::{Duration, Instant};

use chrono::Utc;
use ioc_core::SystemClock;
use ioc_server::auth::Role;
use ioc_testkit::{Backend, Connect, Screen, TestApp, sample};
use serde_json::{Value, json};

const OPEN: (&str, &str) = ("IOC__AUTH__PUBLIC_READ", "true");

/// A dossier received now in commune 25432, still being processed.
pub(crate) fn received_now(code: &str, channel: &str) -> Value {
    let now = Utc::now();
    json!({
        "code": code, "unit": "25432", "procedure": "2.000815", "channel": channel,
        "status": 4, "received_at": now.to_rfc3339(),
        "due_at": (now + chrono::Duration::days(10)).to_rfc3339(),
        "fee_required": false, "updated_at": now.to_rfc3339(),
    })
}

async fn ingest(app: &TestApp, token: &str, records: Value) {
    let (status, report) = app.post_json("/api/v1/dossiers", token, &records).await;
    assert_eq!(status, 200, "{report}");
}

fn received(overview: &Value) -> i64 {
    overview["province"]["received"]
        .as_i64()
        .unwrap_or_default()
}

/// The value of one sample in a scrape of `/metrics` (0 when absent).
async fn metric(app: &TestApp, name_and_labels: &str) -> f64 {
    sample(&app.scrape(None).await.1, name_and_labels).unwrap_or(0.0)
}

/// The sample's value once it reaches `expected` (the server counts a
/// session's end just after its close frame leaves), or the last value
/// read when it never does.
async fn metric_reaches(app: &TestApp, sample: &str, expected: f64) -> f64 {
    let mut value = metric(app, sample).await;
    for _ in 0..100 {
        if value == expected {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        value = metric(app, sample).await;
    }
    value
}

async fn live_updates_follow_ingest(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, &[OPEN]).await else {
        return;
    };
    let token = app.ingest_token("motcua");
    let mut screen = Screen::connect(app.address, "").await;
    // Overlapping requests: the same topic twice in one request, then again.
    screen
        .subscribe(&["overview:today", "overview:today", "unit:25432:today"])
        .await;
    screen.subscribe(&["overview:today"]).await;
    for _ in 0..3 {
        assert_eq!(screen.frame().await["type"], "snapshot");
    }
    let (_, rest) = app.get_json("/api/v1/overview?window=today").await;
    assert_eq!(screen.topics["overview:today"].value, rest);

    let sent = Instant::now();
    ingest(
        &app,
        &token,
        json!([
            received_now("W1", "online"),
            received_now("W2", "online"),
            received_now("W3", "direct")
        ]),
    )
    .await;
    let overview = screen.until("overview:today", |o| received(o) == 3).await;
    let latency = sent.elapsed();
    let unit = screen
        .until("unit:25432:today", |u| u["keys"]["received"] == 3)
        .await;
    eprintln!("ingest call to delta: {latency:?}");
    let (_, rest) = app.get_json("/api/v1/overview?window=today").await;
    assert_eq!(overview, rest, "the patched snapshot equals the REST view");
    let (_, rest_unit) = app.get_json("/api/v1/units/25432?window=today").await;
    assert_eq!(unit, rest_unit);
    assert_eq!(overview["province"]["received_online"], 2);

    // One commit, one delta per topic, whatever the overlap.
    assert_eq!(screen.frame_within(Duration::from_millis(1500)).await, None);
    let deltas = |topic: &str| {
        screen
            .log
            .iter()
            .filter(|(kind, t, _)| kind == "delta" && t == topic)
            .count()
    };
    assert_eq!(
        (deltas("overview:today"), deltas("unit:25432:today")),
        (1, 1)
    );
    assert!(screen.gaps.is_empty());
}

#[actix_web::test]
async fn live_updates_follow_ingest_on_sqlite() {
    live_updates_follow_ingest(Backend::Sqlite).await;
}

#[actix_web::test]
async fn live_updates_follow_ingest_on_postgres() {
    live_updates_follow_ingest(Backend::Postgres).await;
}

#[actix_web::test]
async fn a_client_that_misses_a_delta_resyncs_and_a_new_node_has_a_new_epoch() {
    let app = TestApp::spawn(Backend::Sqlite, &[OPEN])
        .await
        .expect("sqlite");
    let token = app.ingest_token("motcua");
    let mut screen = Screen::connect(app.address, "").await;
    screen.subscribe(&["overview:today"]).await;
    let snapshot = screen.frame().await;
    let first_seq = snapshot["seq"].as_u64().expect("seq");

    ingest(&app, &token, json!([received_now("G1", "online")])).await;
    // Lost on the way: read but not applied.
    let lost = screen.raw_frame().await;
    assert_eq!(
        (lost["type"].clone(), lost["seq"].clone()),
        (json!("delta"), json!(first_seq + 1))
    );

    ingest(&app, &token, json!([received_now("G2", "online")])).await;
    let overview = screen.until("overview:today", |o| received(o) == 2).await;
    assert_eq!(screen.gaps, ["overview:today"], "the gap was noticed");
    let (_, rest) = app.get_json("/api/v1/overview?window=today").await;
    assert_eq!(overview, rest);
    let kinds: Vec<&str> = screen.log.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        ["snapshot", "delta", "snapshot"],
        "resynced by a snapshot"
    );

    let node = app
        .another_node(&[OPEN], std::sync::Arc::new(SystemClock))
        .await;
    let mut other = Screen::connect(node.address, "").await;
    other.subscribe(&["overview:today"]).await;
    let from_other = other.frame().await;
    assert_ne!(from_other["epoch"], snapshot["epoch"]);
    assert_eq!(received(&from_other["data"]), 2);
}

#[actix_web::test]
async fn bad_frames_get_errors_or_a_close_code_never_a_crash() {
    let app = TestApp::spawn(Backend::Sqlite, &[OPEN])
        .await
        .expect("sqlite");
    let mut screen = Screen::connect(app.address, "").await;
    let cases: [(&str, &str, Option<&str>); 7] = [
        ("not json", "bad_json", None),
        (r#"{"op":"dance"}"#, "unknown_op", None),
        (r#"{"op":"subscribe"}"#, "bad_request", None),
        (
            r#"{"op":"subscribe","topics":["weather:today"]}"#,
            "unknown_topic",
            Some("weather:today"),
        ),
        (
            r#"{"op":"subscribe","topics":["unit:99999:today"]}"#,
            "unknown_topic",
            Some("unit:99999:today"),
        ),
        (
            r#"{"op":"subscribe","topics":["overview:fortnight"]}"#,
            "invalid_topic",
            Some("overview:fortnight"),
        ),
        (
            r#"{"op":"subscribe","topics":["ranking:commune:happiness:today"]}"#,
            "invalid_topic",
            Some("ranking:commune:happiness:today"),
        ),
    ];
    for (text, code, topic) in cases {
        screen.send_text(text).await;
        let frame = screen.raw_frame().await;
        assert_eq!(
            (frame["type"].as_str(), frame["code"].as_str()),
            (Some("error"), Some(code)),
            "{text}: {frame}"
        );
        assert_eq!(frame["topic"].as_str(), topic, "{text}");
        assert!(!frame["message"].as_str().unwrap_or_default().is_empty());
    }
    screen.send_binary(vec![1, 2, 3]).await;
    assert_eq!(screen.raw_frame().await["code"], "binary_not_supported");
    // Still a working session.
    screen.subscribe(&["ranking:commune:received:today"]).await;
    assert_eq!(screen.frame().await["type"], "snapshot");

    // A 1 MB message: closed with 1009 (message too big).
    screen
        .send_text(format!(
            r#"{{"op":"subscribe","topics":["{}"]}}"#,
            "x".repeat(1 << 20)
        ))
        .await;
    assert_eq!(screen.close_code().await, Some(1009));
    assert_eq!(app.get_json("/healthz").await.0, 200);
    let mut again = Screen::connect(app.address, "").await;
    again.subscribe(&["overview:today"]).await;
    assert_eq!(again.frame().await["type"], "snapshot");
    assert_eq!(
        metric_reaches(
            &app,
            "ioc_ws_disconnects_total{reason=\"protocol_error\"}",
            1.0
        )
        .await,
        1.0
    );
}

/// Big topics: every key's commune ranking over several windows.
fn big_topics() -> Vec<String> {
    let keys = [
        "received",
        "received_online",
        "online_share",
        "finished",
        "late_rate",
        "pending",
        "pending_overdue",
        "paid_online_share",
    ];
    let windows = ["today", "7d", "month", "quarter", "year"];
    keys.iter()
        .flat_map(|k| {
            windows
                .iter()
                .map(move |w| format!("ranking:commune:{k}:{w}"))
        })
        .collect()
}

/// Makes a client stop reading: it asks for snapshots of big topics over
/// and over without reading them, until the socket buffers are full and
/// the server's queue for it stays full; then changes arrive.
async fn stall(app: &TestApp, screen: &mut Screen, token: &str) {
    let topics = big_topics();
    let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
    let mut full = false;
    for round in 0..2_000 {
        screen.subscribe(&topics).await;
        if round % 20 == 19 {
            actix_web::rt::time::sleep(Duration::from_millis(200)).await;
            if metric(app, "ioc_ws_queued_frames").await == 4.0 {
                full = true;
                break;
            }
        }
    }
    assert!(full, "the client's socket never filled");
    // Changes while stalled: their deltas find the queue full.
    for i in 0..5 {
        ingest(
            app,
            token,
            json!([received_now(&format!("S{i}"), "online")]),
        )
        .await;
    }
    for _ in 0..200 {
        if metric(app, "ioc_ws_frames_dropped_total").await > 0.0 {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no delta was dropped for the stalled client");
}

#[actix_web::test]
async fn a_client_that_stops_reading_is_bounded_then_resynced_when_it_reads_again() {
    let app = TestApp::spawn(Backend::Sqlite, &[OPEN, ("IOC__STREAM__QUEUE_FRAMES", "4")])
        .await
        .expect("sqlite");
    let token = app.ingest_token("motcua");
    let mut screen = Screen::connect(app.address, "").await;
    stall(&app, &mut screen, &token).await;
    for _ in 0..10 {
        let queued = metric(&app, "ioc_ws_queued_frames").await;
        assert!(
            queued <= 4.0,
            "the queue holds at most stream.queue_frames: {queued}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    // Reading again: the client ends with current values, by fresh snapshots.
    let topic = "ranking:commune:received:year";
    let ranking = screen
        .until(topic, |r| {
            r["items"]
                .as_array()
                .and_then(|items| items.iter().find(|i| i["unit"] == "25432"))
                .is_some_and(|i| i["numerator"] == 5)
        })
        .await;
    let (_, rest) = app
        .get_json("/api/v1/rankings?level=commune&key=received&window=year")
        .await;
    assert_eq!(ranking, rest);
    assert_eq!(
        metric(&app, "ioc_ws_disconnects_total{reason=\"slow_consumer\"}").await,
        0.0
    );
}

#[actix_web::test]
async fn a_client_behind_for_longer_than_the_limit_is_closed_with_4000() {
    let app = TestApp::spawn(
        Backend::Sqlite,
        &[
            OPEN,
            ("IOC__STREAM__QUEUE_FRAMES", "4"),
            ("IOC__STREAM__SLOW_CLIENT_LIMIT_SECS", "2"),
        ],
    )
    .await
    .expect("sqlite");
    let token = app.ingest_token("motcua");
    let mut screen = Screen::connect(app.address, "").await;
    stall(&app, &mut screen, &token).await;
    for _ in 0..200 {
        if metric(&app, "ioc_ws_disconnects_total{reason=\"slow_consumer\"}").await == 1.0 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        metric(&app, "ioc_ws_disconnects_total{reason=\"slow_consumer\"}").await,
        1.0
    );
    assert_eq!(
        metric(&app, "ioc_ws_sessions").await,
        0.0,
        "the session is gone"
    );
    // And so is its TCP connection, with what was queued for it, although
    // the client still reads nothing.
    let mut unsent = unsent_bytes(app.address.port());
    for _ in 0..100 {
        if unsent == 0 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        unsent = unsent_bytes(app.address.port());
    }
    assert_eq!(unsent, 0, "bytes still queued on the server's side");
    // What was already buffered, then the close (if it fit) or the end.
    let code = screen.close_code().await;
    assert!(matches!(code, Some(4000) | None), "{code:?}");
}

#[actix_web::test]
async fn tokens_roles_and_the_session_cap() {
    let app = TestApp::spawn(Backend::Sqlite, &[("IOC__STREAM__MAX_SESSIONS", "1")])
        .await
        .expect("sqlite");
    assert!(matches!(
        Screen::try_connect(app.address, "").await,
        Connect::Refused(401)
    ));
    assert!(matches!(
        Screen::try_connect(app.address, "?token=nonsense").await,
        Connect::Refused(401)
    ));
    let ingest = app.ingest_token("motcua");
    assert!(matches!(
        Screen::try_connect(app.address, &format!("?token={ingest}")).await,
        Connect::Refused(403)
    ));
    let viewer = app.token(Role::Viewer, None, &[]);
    let mut screen = Screen::connect(app.address, &format!("?token={viewer}")).await;
    screen.subscribe(&["overview:month"]).await;
    assert_eq!(screen.frame().await["type"], "snapshot");

    // The node is full: the upgrade succeeds, then 1013 (try again later).
    let mut second = Screen::connect(app.address, &format!("?token={viewer}")).await;
    assert_eq!(second.close_code().await, Some(1013));
    assert_eq!(
        metric(&app, "ioc_ws_disconnects_total{reason=\"node_full\"}").await,
        1.0
    );
    drop(screen);
    let mut third = None;
    for _ in 0..100 {
        let mut screen = Screen::connect(app.address, &format!("?token={viewer}")).await;
        screen.subscribe(&["overview:month"]).await;
        if let Some(frame) = screen.frame_within(Duration::from_secs(2)).await {
            third = Some(frame);
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(third.expect("a place freed")["type"], "snapshot");
}

#[actix_web::test]
async fn a_silent_client_is_closed_with_4001_and_its_session_removed() {
    let app = TestApp::spawn(
        Backend::Sqlite,
        &[
            OPEN,
            ("IOC__STREAM__PING_INTERVAL_SECS", "1"),
            ("IOC__STREAM__CLIENT_TIMEOUT_SECS", "2"),
        ],
    )
    .await
    .expect("sqlite");
    let mut screen = Screen::connect(app.address, "").await;
    screen.subscribe(&["overview:today"]).await;
    // Reads what comes (pings too) but never answers a ping.
    assert_eq!(screen.close_code().await, Some(4001));
    assert_eq!(
        metric_reaches(&app, "ioc_ws_disconnects_total{reason=\"timeout\"}", 1.0).await,
        1.0
    );
    assert_eq!(metric_reaches(&app, "ioc_ws_sessions", 0.0).await, 0.0);
}

/// Bytes queued for sending on the server's sockets of local `port`, from
/// the kernel's TCP tables (`tx_queue` of /proc/net/tcp and tcp6).
fn unsent_bytes(port: u16) -> u64 {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .flat_map(|text| {
            text.lines()
                .skip(1)
                .filter_map(|line| {
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    let local_port = fields.get(1)?.rsplit(':').next()?;
                    let tx_queue = fields.get(4)?.split(':').next()?;
                    (u16::from_str_radix(local_port, 16).ok()? == port)
                        .then(|| u64::from_str_radix(tx_queue, 16).ok())
                        .flatten()
                })
                .collect::<Vec<u64>>()
        })
        .sum()
}
