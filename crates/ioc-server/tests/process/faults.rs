//! Faults under load, with real processes: PostgreSQL restarted (fast and
//! immediate) and `ioc serve` killed with SIGKILL while retrying clients
//! ingest; the network to PostgreSQL stalled; SQLite on a full disk. In
//! every case what was acknowledged is stored exactly once and the live
//! numbers equal the store.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use chrono::Utc;
use futures_util::future::join_all;
use ioc_store::testing::{StopMode, TestCluster, TestDb};
use ioc_store::{DatabaseUrl, Store, StoreOptions, changes, dossiers};
use ioc_testkit::free_address;
use serde_json::{Value, json};

use crate::{ingest_token, serve};

/// Dossier `n`, received now and being processed.
fn dossier(n: usize) -> Value {
    let now = Utc::now();
    let units = ["25432", "25433", "25435", "25441", "697", "689"];
    json!({
        "code": format!("F{n:06}"), "unit": units[n % units.len()], "procedure": "2.000815",
        "channel": "online", "status": 4, "received_at": now.to_rfc3339(),
        "due_at": (now + chrono::Duration::days(10)).to_rfc3339(), "updated_at": now.to_rfc3339(),
    })
}

/// What a retrying sync client saw.
#[derive(Default)]
struct Progress {
    /// Records in acknowledged batches.
    acknowledged: AtomicUsize,
    /// Answers other than 200 (503 during the fault) and connection errors.
    failures: AtomicUsize,
}

/// Sends `batch` until it is acknowledged (200 with every record accepted
/// or a duplicate), at most a minute.
async fn send_until_acknowledged(
    address: SocketAddr,
    token: &str,
    batch: &[Value],
    progress: &Progress,
) {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    for _ in 0..300 {
        let sent = client
            .post(format!("http://{address}/api/v1/dossiers"))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .send_json(&batch)
            .await;
        if let Ok(mut response) = sent
            && response.status().as_u16() == 200
        {
            let report: Value = response.json().limit(16 << 20).await.expect("report");
            let counted = report["accepted"].as_u64().unwrap_or(0)
                + report["duplicates"].as_u64().unwrap_or(0);
            assert_eq!(report["rejected"], json!([]), "{report}");
            assert_eq!(counted as usize, batch.len(), "{report}");
            progress
                .acknowledged
                .fetch_add(batch.len(), Ordering::SeqCst);
            return;
        }
        progress.failures.fetch_add(1, Ordering::SeqCst);
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("a batch was not acknowledged within a minute");
}

/// `clients` clients each send `batches` batches of `size` records of their own.
async fn ingest(
    address: SocketAddr,
    token: &str,
    clients: usize,
    batches: usize,
    size: usize,
    progress: &Progress,
) {
    join_all((0..clients).map(|c| async move {
        for b in 0..batches {
            let first = (c * batches + b) * size;
            let batch: Vec<Value> = (first..first + size).map(dossier).collect();
            send_until_acknowledged(address, token, &batch, progress).await;
        }
    }))
    .await;
}

/// Waits until `progress` acknowledged at least `records`.
async fn acknowledged(progress: &Progress, records: usize) {
    while progress.acknowledged.load(Ordering::SeqCst) < records {
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Dossiers and changes in the store.
fn stored(url: &str) -> (i64, i64) {
    let url = DatabaseUrl::parse(url).expect("url");
    let store = Store::connect(&url, &StoreOptions::default()).expect("store");
    let mut conn = store.get().expect("connection");
    (
        dossiers::count(&mut conn).expect("dossiers"),
        changes::count(&mut conn).expect("changes"),
    )
}

/// Waits until the node's overview counts `expected` receptions today.
async fn overview_reaches(address: SocketAddr, expected: i64) -> i64 {
    let client = awc::Client::default();
    let mut received = -1;
    for _ in 0..600 {
        if let Ok(mut response) = client
            .get(format!("http://{address}/api/v1/overview?window=today"))
            .send()
            .await
            && let Ok(body) = response.json::<Value>().limit(16 << 20).await
        {
            received = body["province"]["received"].as_i64().unwrap_or(-1);
            if received == expected {
                return received;
            }
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    received
}

/// Every record was acknowledged, is stored once with one change, and is
/// counted by the node's live numbers.
async fn each_stored_once(progress: &Progress, url: &str, address: SocketAddr, total: usize) {
    assert_eq!(progress.acknowledged.load(Ordering::SeqCst), total);
    let total = total as i64;
    assert_eq!(stored(url), (total, total), "stored once, one change each");
    assert_eq!(overview_reaches(address, total).await, total);
}

#[actix_web::test]
async fn postgres_restarted_fast_then_immediately_during_ingest_loses_and_doubles_nothing() {
    let cluster = Arc::new(TestCluster::start());
    let url = cluster.url();
    let address = free_address();
    let _node = serve(&url, address, &[]).await;
    let token = ingest_token(&url);
    let progress = Progress::default();
    let (clients, batches, size) = (4, 25, 200);
    let total = clients * batches * size;
    let chaos = async {
        let mut during = Vec::new();
        for (at, mode) in [
            (total / 5, StopMode::Fast),
            (total / 2, StopMode::Immediate),
        ] {
            acknowledged(&progress, at).await;
            let c = cluster.clone();
            actix_web::web::block(move || {
                c.stop(mode);
                std::thread::sleep(Duration::from_secs(1));
                c.restart();
            })
            .await
            .expect("restart");
            during.push(progress.acknowledged.load(Ordering::SeqCst));
        }
        during
    };
    let ((), during) = futures_util::join!(
        ingest(address, &token, clients, batches, size, &progress),
        chaos
    );
    let failures = progress.failures.load(Ordering::SeqCst);
    println!(
        "{total} records acknowledged after {failures} failed attempts; restarts done at {during:?}"
    );
    assert!(
        during.iter().all(|n| *n < total),
        "both restarts happened while clients were sending: {during:?}"
    );
    each_stored_once(&progress, &url, address, total).await;
}

/// Both backends: the node is killed with SIGKILL mid-ingest and a new one
/// started on the same address and database.
async fn killed_and_restarted(db: TestDb) {
    let url = db.url_string();
    let address = free_address();
    let node = serve(&url, address, &[]).await;
    let token = ingest_token(&url);
    let progress = Progress::default();
    let (clients, batches, size) = (4, 20, 200);
    let total = clients * batches * size;
    let chaos = async {
        acknowledged(&progress, total / 3).await;
        drop(node); // SIGKILL
        serve(&url, address, &[]).await
    };
    let ((), restarted) = futures_util::join!(
        ingest(address, &token, clients, batches, size, &progress),
        chaos
    );
    let failures = progress.failures.load(Ordering::SeqCst);
    println!("{total} records acknowledged after {failures} failed attempts");
    each_stored_once(&progress, &url, address, total).await;
    drop(restarted);
}

#[actix_web::test]
async fn ioc_killed_during_ingest_and_restarted_loses_and_doubles_nothing_on_sqlite() {
    killed_and_restarted(TestDb::sqlite()).await;
}

#[actix_web::test]
async fn ioc_killed_during_ingest_and_restarted_loses_and_doubles_nothing_on_postgres() {
    if let Some(db) = TestDb::postgres() {
        killed_and_restarted(db).await;
    }
}

/// A TCP proxy to `upstream` that stops forwarding, in both directions,
/// while `stalled` is set (a network that drops everything, as far as the
/// two ends can tell).
struct StallingProxy {
    address: SocketAddr,
    stalled: Arc<AtomicBool>,
}

impl StallingProxy {
    fn start(upstream: SocketAddr) -> StallingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy port");
        let address = listener.local_addr().expect("proxy address");
        let stalled = Arc::new(AtomicBool::new(false));
        let flag = stalled.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                for (from, to) in [
                    (client.try_clone(), server.try_clone()),
                    (server.try_clone(), client.try_clone()),
                ] {
                    if let (Ok(from), Ok(to)) = (from, to) {
                        let flag = flag.clone();
                        std::thread::spawn(move || forward(from, to, &flag));
                    }
                }
            }
        });
        StallingProxy { address, stalled }
    }
}

fn forward(mut from: TcpStream, mut to: TcpStream, stalled: &AtomicBool) {
    use std::io::{Read as _, Write as _};
    let _ = from.set_read_timeout(Some(Duration::from_millis(50)));
    let mut buffer = [0u8; 16 * 1024];
    loop {
        if stalled.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        match from.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Both);
}

#[actix_web::test]
async fn a_stalled_network_to_postgres_answers_503_with_retry_after_then_recovers() {
    let Some(db) = TestDb::postgres() else {
        return;
    };
    let direct = db.url_string();
    let upstream: SocketAddr = direct
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|host| host.parse().ok())
        .expect("host:port in the test URL");
    let proxy = StallingProxy::start(upstream);
    let url = direct.replace(&upstream.to_string(), &proxy.address.to_string());
    let address = free_address();
    let _node = serve(
        &url,
        address,
        &[
            ("IOC__DATABASE__REQUEST_TIMEOUT_SECS", "2"),
            ("IOC__DATABASE__ACQUIRE_TIMEOUT_SECS", "2"),
        ],
    )
    .await;
    let token = ingest_token(&direct);
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let first: Vec<Value> = (0..100).map(dossier).collect();
    let progress = Progress::default();
    send_until_acknowledged(address, &token, &first, &progress).await;
    proxy.stalled.store(true, Ordering::SeqCst);
    let ready = client
        .get(format!("http://{address}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(
        ready.status().as_u16(),
        503,
        "readiness fails while stalled"
    );
    let second: Vec<Value> = (100..200).map(dossier).collect();
    let refused = client
        .post(format!("http://{address}/api/v1/dossiers"))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send_json(&second)
        .await
        .expect("ingest");
    assert_eq!(refused.status().as_u16(), 503);
    assert_eq!(
        refused.headers().get("retry-after").map(|v| v.as_bytes()),
        Some(&b"2"[..])
    );
    proxy.stalled.store(false, Ordering::SeqCst);
    send_until_acknowledged(address, &token, &second, &progress).await;
    let ready = client
        .get(format!("http://{address}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status().as_u16(), 200, "recovered without a restart");
    assert_eq!(stored(&direct), (200, 200));
    assert_eq!(overview_reaches(address, 200).await, 200);
}

/// A small tmpfs mounted for a test (root only), unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(megabytes: u32) -> Option<SmallDisk> {
        let dir = std::env::temp_dir().join(format!("ioc_full_disk_{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mount point");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(&dir)
            .output()
            .is_ok_and(|o| o.status.success());
        if mounted {
            return Some(SmallDisk(dir));
        }
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI runs as root and must mount a tmpfs for the full-disk test"
        );
        eprintln!("SKIPPING the full-disk test: mounting a tmpfs needs root");
        None
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).output();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[actix_web::test]
async fn sqlite_on_a_full_disk_answers_507_keeps_what_it_acknowledged_and_recovers() {
    let Some(disk) = SmallDisk::mount(24) else {
        return;
    };
    let url = format!("sqlite://{}", disk.path().join("ioc.sqlite3").display());
    let address = free_address();
    let _node = serve(&url, address, &[]).await;
    let token = ingest_token(&url);
    // Leave a little room only.
    let filler = disk.path().join("filler");
    let _ = Command::new("fallocate")
        .args(["-l", "23m"])
        .arg(&filler)
        .output();
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let mut acknowledged = 0;
    let mut full = None;
    for b in 0..400 {
        let batch: Vec<Value> = (b * 100..(b + 1) * 100).map(dossier).collect();
        let mut response = client
            .post(format!("http://{address}/api/v1/dossiers"))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .send_json(&batch)
            .await
            .expect("ingest");
        let body: Value = response.json().limit(16 << 20).await.expect("json");
        if response.status().as_u16() == 200 {
            acknowledged += 100;
        } else {
            full = Some((response.status().as_u16(), body, b));
            break;
        }
    }
    let (status, body, failed_batch) = full.expect("the disk filled up");
    assert_eq!(status, 507, "{body}");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("disk is full"),
        "{body}"
    );
    assert_eq!(
        stored(&url).0,
        acknowledged as i64,
        "every acknowledged record is kept"
    );
    std::fs::remove_file(&filler).expect("free the disk");
    let progress = Progress::default();
    let batch: Vec<Value> = (failed_batch * 100..(failed_batch + 1) * 100)
        .map(dossier)
        .collect();
    send_until_acknowledged(address, &token, &batch, &progress).await;
    let total = acknowledged as i64 + 100;
    assert_eq!(stored(&url), (total, total));
    assert_eq!(overview_reaches(address, total).await, total);
}
