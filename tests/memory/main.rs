//! Memory and metric label sets under hostile input (issue 15): a server in
//! this process, measured through its resident and peak memory. The tests
//! take turns (one lock), so that none measures another's allocations.

use futures_util::future::join_all;
use ioc_server::auth::Role;
use ioc_testkit::{Backend, TestApp, sample};
use serde_json::{Value, json};

/// One test measures at a time.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const MIB: i64 = 1024 * 1024;

/// A line of `/proc/self/status` in bytes (`VmRSS`, `VmHWM`).
fn status_bytes(field: &str) -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse::<i64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// The commune codes of the shipped Bình Phước tree.
fn communes() -> Vec<String> {
    let csv = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/units/binh_phuoc.csv"
    ))
    .expect("units file");
    csv.lines()
        .filter(|l| l.contains(",commune,"))
        .filter_map(|l| l.split(',').next())
        .map(str::to_owned)
        .collect()
}

/// Random words from a seeded generator, so that a failure replays.
struct Random(ioc_sim::Rng);

impl Random {
    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }

    fn word(&mut self) -> String {
        let len = 1 + self.0.below(12);
        (0..len)
            .map(|_| char::from(b'a' + self.0.below(26) as u8))
            .collect()
    }
}

/// Waits until the server's engine has applied every change in the store.
async fn wait_applied(app: &TestApp) {
    let last = {
        let mut conn = app.store.get().expect("connection");
        ioc_store::changes::last_seq(&mut conn).expect("last seq")
    };
    for _ in 0..600 {
        let (_, scrape) = app.scrape(None).await;
        if sample(&scrape, "ioc_changelog_position").is_some_and(|p| p >= last as f64) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the engine did not reach change {last}");
}

#[actix_web::test]
async fn records_with_extreme_times_that_the_bounds_let_through_cost_next_to_nothing() {
    let _turn = TURN.lock().await;
    // Bounds opened as wide as the configuration allows: what slips
    // through must still cost O(days with data), not O(days in between).
    let app = TestApp::spawn(
        Backend::Sqlite,
        &[
            (
                "IOC__INGEST__EARLIEST_TIME",
                "\"0001-01-01T00:00:00+00:00\"",
            ),
            ("IOC__INGEST__MAX_DUE_DAYS_AHEAD", "36500"),
            ("IOC__AUTH__PUBLIC_READ", "true"),
        ],
    )
    .await
    .expect("sqlite");
    let token = app.ingest_token("motcua");
    let units: Vec<String> = communes().into_iter().take(100).collect();
    assert_eq!(units.len(), 100);
    let now = chrono::Utc::now();
    // As many ordinary dossiers first, so that pools, caches and the
    // allocator have grown to what 1,000 dossiers need.
    // Dossier `code` of the `i`th unit, received at `received` and pending.
    let pending = |code: String, i: usize, received: &str| {
        json!({"code": code, "unit": &units[i % 100], "procedure": "2.000815", "channel": "online",
            "status": 2, "received_at": received, "updated_at": now.to_rfc3339()})
    };
    let accepted_all = |batch: Vec<Value>| {
        let (app, token) = (&app, &token);
        async move {
            let (status, report) = app
                .post_json("/api/v1/dossiers", token, &json!(batch))
                .await;
            assert_eq!(
                (status, report["accepted"].clone()),
                (200, json!(1000)),
                "{report}"
            );
            wait_applied(app).await;
        }
    };
    accepted_all(
        (0..1000)
            .map(|i| pending(format!("W-{i}"), i, &now.to_rfc3339()))
            .collect(),
    )
    .await;
    for u in &units {
        assert_eq!(app.get_json(&format!("/api/v1/units/{u}")).await.0, 200);
    }
    let before = status_bytes("VmRSS");
    let extreme: Vec<Value> = (0..1000)
        .map(|i| {
            let mut d = pending(format!("X-{i}"), i, "0001-01-01T00:00:00+00:00");
            match i % 3 {
                0 => {}
                1 => d["due_at"] = json!("2126-01-01T00:00:00+07:00"),
                _ => {
                    d["status"] = json!(10);
                    d["finished_at"] = json!(now.to_rfc3339());
                    d["due_at"] = json!("0001-01-02T00:00:00+00:00");
                }
            }
            d
        })
        .collect();
    accepted_all(extreme).await;
    for u in &units {
        let (status, doc) = app
            .get_json(&format!("/api/v1/units/{u}?window=year"))
            .await;
        assert_eq!(status, 200, "{doc}");
    }
    let grown = status_bytes("VmRSS") - before;
    println!("resident memory grew by {} KiB", grown / 1024);
    assert!(grown < 10 * MIB, "grew by {} KiB", grown / 1024);
}

#[actix_web::test]
async fn random_methods_paths_and_queries_leave_metrics_and_memory_bounded() {
    let _turn = TURN.lock().await;
    let app = TestApp::spawn(Backend::Sqlite, &[]).await.expect("sqlite");
    let mut random = Random(ioc_sim::Rng::new(15));
    let mut requests = |n: usize| -> Vec<(awc::http::Method, String)> {
        (0..n)
            .map(|_| {
                let method = match random.next() % 4 {
                    0 => awc::http::Method::GET,
                    1 => awc::http::Method::POST,
                    _ => awc::http::Method::from_bytes(random.word().to_uppercase().as_bytes())
                        .expect("method"),
                };
                let path = match random.next() % 5 {
                    0 => format!("/{}", random.word()),
                    1 => format!("/api/v1/units/{}", random.word()),
                    2 => format!("/static/{}", random.word()),
                    3 => format!("/api/v1/{}/{}", random.word(), random.word()),
                    _ => "/api/v1/overview".to_owned(),
                };
                let query = format!(
                    "?{}={}&token={}&{}",
                    random.word(),
                    random.word(),
                    random.word(),
                    random.word()
                );
                (method, format!("{path}{query}"))
            })
            .collect()
    };
    let send = |batch: Vec<(awc::http::Method, String)>| {
        let app = &app;
        async move {
            for chunk in batch.chunks(16) {
                join_all(chunk.iter().map(|(method, path)| async move {
                    let mut response = app
                        .client
                        .request(method.clone(), app.url(path))
                        .send()
                        .await
                        .expect("request");
                    let _ = response.body().await;
                }))
                .await;
            }
        }
    };
    send(requests(500)).await;
    let (_, baseline) = app.scrape(None).await;
    let before = status_bytes("VmRSS");
    send(requests(10_000)).await;
    let (_, after) = app.scrape(None).await;
    let grown = status_bytes("VmRSS") - before;
    println!(
        "/metrics: {} → {} bytes; resident memory +{} KiB",
        baseline.len(),
        after.len(),
        grown / 1024
    );
    assert!(after.len() < baseline.len() + 10 * 1024, "{after}");
    let methods: std::collections::BTreeSet<&str> = after
        .lines()
        .filter_map(|l| l.split("method=\"").nth(1)?.split('"').next())
        .collect();
    assert!(methods.contains("other"), "{methods:?}");
    assert!(
        methods.iter().all(|m| [
            "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other"
        ]
        .contains(m)),
        "{methods:?}"
    );
    assert!(grown < 10 * MIB, "grew by {} KiB", grown / 1024);
}

#[actix_web::test]
async fn junk_parameters_and_tokens_in_urls_make_no_cache_entries() {
    let _turn = TURN.lock().await;
    let app = TestApp::spawn(Backend::Sqlite, &[]).await.expect("sqlite");
    let viewers: Vec<String> = (0..20)
        .map(|_| app.token(Role::Viewer, None, &[]))
        .collect();
    let get = |i: usize| {
        let url = app.url(&format!(
            "/api/v1/units/70?junk={i}&token={}",
            viewers[i % 20]
        ));
        let client = &app.client;
        async move {
            let mut response = client.get(url).send().await.expect("request");
            assert_eq!(response.status().as_u16(), 200);
            response.body().limit(16 << 20).await.expect("body").len()
        }
    };
    let size = get(0).await;
    let before = status_bytes("VmRSS");
    for chunk in (1..4000).collect::<Vec<_>>().chunks(16) {
        join_all(chunk.iter().map(|i| get(*i))).await;
    }
    let grown = status_bytes("VmRSS") - before;
    println!(
        "4,000 reads of a {size}-byte document: resident memory +{} KiB",
        grown / 1024
    );
    assert!(grown < 10 * MIB, "grew by {} KiB", grown / 1024);
}

#[actix_web::test]
async fn bodies_of_millions_of_records_are_refused_without_parsing_them_into_memory() {
    let _turn = TURN.lock().await;
    let app = TestApp::spawn(Backend::Sqlite, &[]).await.expect("sqlite");
    let token = app.ingest_token("motcua");
    let mut body = String::with_capacity(16_000_002);
    body.push('[');
    body.push_str(&"0,".repeat(7_999_999));
    body.push_str("0]");
    let body = actix_web::web::Bytes::from(body);
    let before = status_bytes("VmHWM").max(status_bytes("VmRSS"));
    let answers = join_all((0..4).map(|_| {
        let request = app
            .client
            .post(app.url("/api/v1/dossiers"))
            .insert_header(("Content-Type", "application/json"))
            .insert_header(("Authorization", format!("Bearer {token}")));
        let body = body.clone();
        async move {
            let mut response = request.send_body(body).await.expect("request");
            let answer: Value =
                serde_json::from_slice(&response.body().await.expect("body")).expect("json");
            (response.status().as_u16(), answer)
        }
    }))
    .await;
    let peak = status_bytes("VmHWM") - before;
    for (status, answer) in answers {
        assert_eq!(status, 413, "{answer}");
        assert!(
            answer["message"]
                .as_str()
                .expect("message")
                .contains("8000000 records; at most 10000"),
            "{answer}"
        );
    }
    println!("four 16 MB bodies at once: peak memory +{} MiB", peak / MIB);
    assert!(peak < 256 * MIB, "peak grew by {} MiB", peak / MIB);
}
