//! Two `ioc serve` processes on one PostgreSQL database: a screen on one
//! node sees every change ingested through the other, none lost or counted
//! twice, although the ingest transactions commit out of sequence order.

use std::process::Command;
use std::time::Duration;

use chrono::Utc;
use ioc_store::testing::TestDb;
use ioc_testkit::{IocProcess as Node, Screen, free_address};
use serde_json::{Value, json};

/// Starts `ioc serve` on `db` and waits until it is ready.
async fn start(db: &TestDb) -> Node {
    crate::serve(&db.url_string(), free_address(), &[]).await
}

async fn get(client: &awc::Client, node: &Node, path: &str) -> Value {
    let mut response = client
        .get(format!("http://{}{path}", node.address))
        .send()
        .await
        .expect("GET");
    let body = response.body().limit(64 << 20).await.expect("body");
    serde_json::from_slice(&body).expect("JSON")
}

/// An ingest token on `db`.
fn token(db: &TestDb) -> String {
    crate::ingest_token(&db.url_string())
}

/// Dossier `n` received now in one of a few communes; `finished` ones are
/// completed on time.
fn dossier(n: usize, finished: bool) -> Value {
    let now = Utc::now();
    let units = ["25432", "25433", "25435", "25441"];
    json!({
        "code": format!("N{n:05}"), "unit": units[n % units.len()], "procedure": "2.000815",
        "channel": if n.is_multiple_of(3) { "direct" } else { "online" },
        "status": if finished { 10 } else { 4 },
        "received_at": now.to_rfc3339(),
        "due_at": (now + chrono::Duration::days(10)).to_rfc3339(),
        "finished_at": finished.then(|| now.to_rfc3339()),
        "fee_required": false,
        "updated_at": (now + chrono::Duration::seconds(i64::from(finished))).to_rfc3339(),
    })
}

/// Posts `records` to node `a` in `batches` concurrent requests.
async fn ingest_concurrently(a: &Node, token: &str, records: Vec<Value>, batches: usize) {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(120))
        .finish();
    let size = records.len().div_ceil(batches);
    let requests = records.chunks(size).map(|chunk| {
        let request = client
            .post(format!("http://{}/api/v1/dossiers", a.address))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .send_json(&chunk);
        async move {
            let mut response = request.await.expect("POST");
            let body = response.body().await.expect("body");
            assert_eq!(response.status(), 200, "{}", String::from_utf8_lossy(&body));
        }
    });
    futures_util::future::join_all(requests).await;
}

#[actix_web::test]
async fn a_screen_on_node_b_sees_exactly_what_node_a_ingested() {
    let Some(db) = TestDb::postgres() else {
        return;
    };
    // A migrates and loads reference data; then B starts on the same database.
    let a = start(&db).await;
    let b = start(&db).await;
    let token = token(&db);
    let mut screen = Screen::connect(b.address, "").await;
    screen.subscribe(&["overview:today"]).await;
    assert_eq!(screen.frame().await["type"], "snapshot");

    // 1,000 new dossiers in 20 concurrent transactions, then 200 of them
    // finished in 8 more: commits land out of sequence order.
    ingest_concurrently(
        &a,
        &token,
        (0..1_000).map(|n| dossier(n, false)).collect(),
        20,
    )
    .await;
    ingest_concurrently(
        &a,
        &token,
        (0..200).map(|n| dossier(n * 5, true)).collect(),
        8,
    )
    .await;

    let client = awc::Client::default();
    let mut on_a = Value::Null;
    for _ in 0..600 {
        on_a = get(&client, &a, "/api/v1/overview?window=today").await;
        if on_a["province"]["received"] == 1_000 && on_a["province"]["finished"] == 200 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        (
            on_a["province"]["received"].clone(),
            on_a["province"]["finished"].clone(),
            on_a["province"]["pending"].clone()
        ),
        (json!(1_000), json!(200), json!(800))
    );
    let on_b = screen.until("overview:today", |o| *o == on_a).await;
    assert_eq!(on_b, on_a);
    assert_eq!(
        get(&client, &b, "/api/v1/overview?window=today").await,
        on_a
    );
    // Nothing more arrives: the last delta left B exactly where A is.
    while screen
        .frame_within(Duration::from_millis(1_500))
        .await
        .is_some()
    {}
    assert_eq!(screen.topics["overview:today"].value, on_a);
}

#[actix_web::test]
async fn sigterm_closes_websockets_with_going_away_and_exits() {
    let Some(db) = TestDb::postgres() else {
        return;
    };
    let mut node = start(&db).await;
    let mut screen = Screen::connect(node.address, "").await;
    screen.subscribe(&["overview:today"]).await;
    assert_eq!(screen.frame().await["type"], "snapshot");
    let terminated = Command::new("kill")
        .args(["-TERM", &node.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(terminated.success());
    assert_eq!(screen.close_code().await, Some(1001));
    let status = node.child.wait().expect("wait");
    assert!(status.success(), "ioc serve exited with {status}");
}
