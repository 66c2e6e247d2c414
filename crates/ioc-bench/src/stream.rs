//! `ioc-bench stream`: live-update latency under load. Many WebSocket
//! clients subscribe to `overview:today` and a district's unit topic while
//! records are ingested at a fixed rate; for each ingest call, the time
//! from its answer (the commit is done) until each client holds a province
//! count that includes it.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use actix_web::rt::time::sleep;
use anyhow::{Context, bail};
use awc::ws::{Frame, Message};
use futures_util::{SinkExt as _, StreamExt as _};
use ioc_core::{Levels, UnitTreeBuilder};
use ioc_testkit::{scrape, wait_ready};
use serde_json::{Value, json};

use crate::IngestArgs;
use crate::harness::{ingest_token, percentile, prepared, rss_mib, serve};

/// Arguments of `ioc-bench stream`.
#[derive(clap::Args)]
pub struct StreamArgs {
    #[command(flatten)]
    common: IngestArgs,
    /// WebSocket clients.
    #[arg(long, default_value_t = 2_000)]
    ws_clients: usize,
    /// Records ingested per second.
    #[arg(long, default_value_t = 2_000)]
    rate: usize,
    /// Ingest calls per second (records per call = rate / calls).
    #[arg(long, default_value_t = 10)]
    calls_per_sec: usize,
    /// How long ingest runs, in seconds.
    #[arg(long, default_value_t = 60)]
    secs: u64,
    /// Threads the WebSocket clients run on (ingest has its own).
    #[arg(long, default_value_t = 2)]
    client_threads: usize,
}

/// What one client saw: when it held which province count.
#[derive(Default)]
struct Seen {
    counts: Vec<(Instant, i64)>,
    closed: Option<String>,
    /// The whole overview, kept by one client in [`SAMPLE`] only.
    overview: Option<Value>,
}

/// One client in this many keeps the whole overview (snapshot and merged
/// deltas) to compare with the REST API at the end; the others read only
/// the province count, so that the load generator keeps up.
const SAMPLE: usize = 50;

/// Runs the measurement and prints a Markdown table.
pub fn run(args: &StreamArgs) -> anyhow::Result<()> {
    let common = &args.common;
    std::fs::create_dir_all(&common.work)?;
    let db = prepared(common, "ioc_bench_stream")?;
    let token = ingest_token(common, &db)?;
    let (communes, districts) = units(common)?;
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let server = serve(
        common,
        &db,
        port,
        &[
            ("IOC__AUTH__PUBLIC_READ", "true"),
            ("IOC__STREAM__MAX_SESSIONS", "100000"),
        ],
    )?;
    let pid = server.id();
    let base = format!("127.0.0.1:{port}");
    let system = actix_web::rt::System::new();
    // A client's connection pool lives in the `block_on` that made it.
    let http = || {
        awc::Client::builder()
            .timeout(Duration::from_secs(60))
            .finish()
    };
    system.block_on(async {
        let patience = Duration::from_secs(120);
        wait_ready(
            &http(),
            &format!("http://{base}"),
            patience,
            Duration::from_millis(100),
        )
        .await
    })?;
    let idle_rss = rss_mib(pid)?;

    eprintln!(
        "connecting {} WebSocket clients on {} threads…",
        args.ws_clients, args.client_threads
    );
    let stop = Arc::new(AtomicBool::new(false));
    let (connected_tx, connected_rx) = std::sync::mpsc::channel();
    let threads: Vec<_> = (0..args.client_threads)
        .map(|t| {
            let mine: Vec<usize> = (t..args.ws_clients).step_by(args.client_threads).collect();
            let (base, districts, stop, connected) = (
                base.clone(),
                districts.clone(),
                stop.clone(),
                connected_tx.clone(),
            );
            std::thread::spawn(move || clients(&base, &mine, &districts, &stop, &connected))
        })
        .collect();
    for _ in 0..args.client_threads {
        connected_rx
            .recv()
            .context("a client thread failed to connect")??;
    }
    // Every client has its snapshots before ingest starts.
    std::thread::sleep(Duration::from_secs(3));
    let connected_rss = rss_mib(pid)?;

    eprintln!("ingesting {} records/s for {} s…", args.rate, args.secs);
    let per_call = args.rate.div_ceil(args.calls_per_sec);
    let calls = args.calls_per_sec * args.secs as usize;
    let period = Duration::from_secs(1) / args.calls_per_sec as u32;
    let (commits, ingest_secs) = system.block_on(async {
        let http = http();
        let mut commits = Vec::with_capacity(calls);
        let started = Instant::now();
        let mut total = 0i64;
        for call in 0..calls {
            let due = started + period * call as u32;
            sleep(due.saturating_duration_since(Instant::now())).await;
            let body: Vec<Value> = (0..per_call)
                .map(|i| record(call * per_call + i, &communes))
                .collect();
            let mut response = http
                .post(format!("http://{base}/api/v1/dossiers"))
                .insert_header(("Authorization", format!("Bearer {token}")))
                .send_json(&body)
                .await
                .map_err(|e| anyhow::anyhow!("ingest: {e}"))?;
            let answer = response.body().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            if !response.status().is_success() {
                bail!(
                    "ingest answered {}: {}",
                    response.status(),
                    String::from_utf8_lossy(&answer)
                );
            }
            total += per_call as i64;
            commits.push((Instant::now(), total));
        }
        Ok::<_, anyhow::Error>((commits, started.elapsed().as_secs_f64()))
    })?;
    let total = commits.last().map_or(0, |c| c.1);
    let loaded_rss = rss_mib(pid)?;
    std::thread::sleep(Duration::from_secs(5));
    stop.store(true, Ordering::Release);
    let (metrics, rest) = system.block_on(async {
        let http = http();
        let (_, metrics) = scrape(&http, &format!("http://{base}"), None).await?;
        let mut rest = http
            .get(format!("http://{base}/api/v1/overview?window=today"))
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let rest: Value = serde_json::from_slice(&rest.body().limit(64 << 20).await?)?;
        Ok::<_, anyhow::Error>((metrics, rest))
    })?;
    let mut seen = Vec::new();
    for thread in threads {
        seen.extend(
            thread
                .join()
                .map_err(|_| anyhow::anyhow!("a client thread panicked"))??,
        );
    }

    let mut latencies = Vec::new();
    let (mut closed, mut sampled, mut converged) = (0, 0, 0);
    for client in &seen {
        closed += usize::from(client.closed.is_some());
        if let Some(overview) = &client.overview {
            sampled += 1;
            converged += usize::from(*overview == rest);
        }
        let mut at = client.counts.iter();
        let mut current = at.next();
        for (committed, count) in &commits {
            while let Some((_, held)) = current
                && held < count
            {
                current = at.next();
            }
            match current {
                Some((when, _)) => latencies
                    .push(when.saturating_duration_since(*committed).as_secs_f64() * 1000.0),
                None => break,
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    let ws_clients = seen.len();
    let expected = commits.len() * ws_clients;
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| WebSocket clients (overview:today + a district unit topic each) | {ws_clients}, on {} client threads |",
        args.client_threads
    );
    println!(
        "| ingest | {total} records in {} calls over {ingest_secs:.1} s ({:.0} records/s) |",
        commits.len(),
        total as f64 / ingest_secs
    );
    println!(
        "| (ingest call answered, client holds the change) pairs measured | {} of {expected} |",
        latencies.len()
    );
    for (label, q) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0)] {
        println!("| latency {label} | {:.0} ms |", percentile(&latencies, q));
    }
    println!("| server RSS: ready, no clients | {idle_rss:.0} MiB |");
    println!(
        "| server RSS: clients connected | {connected_rss:.0} MiB ({:.1} KiB per client) |",
        (connected_rss - idle_rss) * 1024.0 / ws_clients as f64
    );
    println!("| server RSS: end of ingest | {loaded_rss:.0} MiB |");
    println!(
        "| sampled clients whose merged overview equals GET /api/v1/overview at the end | {converged} of {sampled} |"
    );
    println!("| clients closed by the server | {closed} |");
    for family in [
        "ioc_ws_frames_dropped_total",
        "ioc_ws_changes_coalesced_total",
        "ioc_ws_disconnects_total",
        "ioc_ws_frames_sent_total",
    ] {
        for line in metrics.lines().filter(|l| l.starts_with(family)) {
            println!("| `{line}` | |");
        }
    }
    Ok(())
}

/// Connects this thread's clients, reports, follows until `stop`.
fn clients(
    base: &str,
    mine: &[usize],
    districts: &[String],
    stop: &Arc<AtomicBool>,
    connected: &std::sync::mpsc::Sender<anyhow::Result<()>>,
) -> anyhow::Result<Vec<Seen>> {
    actix_web::rt::System::new().block_on(async move {
        let mut tasks = Vec::with_capacity(mine.len());
        for chunk in mine.chunks(100) {
            let sockets = futures_util::future::join_all(
                chunk
                    .iter()
                    .map(|n| connect(base, &districts[n % districts.len()])),
            )
            .await;
            for (socket, n) in sockets.into_iter().zip(chunk) {
                let socket = match socket {
                    Ok(socket) => socket,
                    Err(e) => {
                        let _ = connected.send(Err(anyhow::anyhow!("{e}")));
                        return Err(e);
                    }
                };
                tasks.push(actix_web::rt::spawn(listen(
                    socket,
                    n % SAMPLE == 0,
                    stop.clone(),
                )));
            }
        }
        let _ = connected.send(Ok(()));
        let mut seen = Vec::with_capacity(tasks.len());
        for task in tasks {
            seen.push(task.await.map_err(|e| anyhow::anyhow!("{e}"))?);
        }
        Ok(seen)
    })
}

type Socket = actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>;

async fn connect(base: &str, district: &str) -> anyhow::Result<Socket> {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(60))
        .finish();
    let (_, mut socket) = client
        .ws(format!("ws://{base}/ws"))
        .max_frame_size(64 << 20)
        .connect()
        .await
        .map_err(|e| anyhow::anyhow!("WebSocket: {e}"))?;
    let subscribe =
        json!({"op": "subscribe", "topics": ["overview:today", format!("unit:{district}:today")]});
    socket
        .send(Message::Text(subscribe.to_string().into()))
        .await
        .context("subscribe")?;
    Ok(socket)
}

/// The parts of a frame the load generator reads.
#[derive(serde::Deserialize)]
struct Light<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    topic: Option<&'a str>,
    data: Option<LightData>,
}

#[derive(serde::Deserialize)]
struct LightData {
    province: Option<LightProvince>,
}

#[derive(serde::Deserialize)]
struct LightProvince {
    received: Option<i64>,
}

/// Follows the overview as a wall screen does, recording each count held,
/// until `stop` (checked at each frame and once a second).
async fn listen(mut socket: Socket, keep_whole: bool, stop: Arc<AtomicBool>) -> Seen {
    let mut seen = Seen {
        overview: keep_whole.then_some(Value::Null),
        ..Seen::default()
    };
    while !stop.load(Ordering::Acquire) {
        let frame = match actix_web::rt::time::timeout(Duration::from_secs(1), socket.next()).await
        {
            Err(_) => continue,
            Ok(Some(Ok(frame))) => frame,
            Ok(Some(Err(e))) => {
                seen.closed = Some(e.to_string());
                break;
            }
            Ok(None) => {
                seen.closed = Some("ended".to_owned());
                break;
            }
        };
        match frame {
            Frame::Text(bytes) => {
                let Ok(light) = serde_json::from_slice::<Light<'_>>(&bytes) else {
                    continue;
                };
                if light.topic != Some("overview:today") {
                    continue;
                }
                if let Some(overview) = seen.overview.as_mut()
                    && let Ok(frame) = serde_json::from_slice::<Value>(&bytes)
                {
                    match light.kind {
                        "snapshot" => *overview = frame["data"].clone(),
                        _ => ioc_stream::patch::apply(overview, &frame["data"]),
                    }
                }
                if let Some(count) = light.data.and_then(|d| d.province).and_then(|p| p.received) {
                    seen.counts.push((Instant::now(), count));
                }
            }
            Frame::Ping(bytes) => {
                let _ = socket.send(Message::Pong(bytes)).await;
            }
            Frame::Close(reason) => {
                seen.closed = Some(format!("{reason:?}"));
                break;
            }
            _ => {}
        }
    }
    seen
}

/// Commune and district codes of the configured tree.
fn units(args: &IngestArgs) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let config_dir = args.config.parent().context("config dir")?;
    let levels = Levels::parse(&["province", "department", "district", "commune"])
        .map_err(anyhow::Error::msg)?;
    let mut builder = UnitTreeBuilder::new(levels);
    let path = config_dir.join("units/binh_phuoc.csv");
    builder.read_units("units", std::fs::File::open(&path).context("units")?);
    let tree = builder.build()?;
    let codes = |level: &str| -> Vec<String> {
        tree.at_level(level)
            .map(|u| u.code.as_str().to_owned())
            .collect()
    };
    Ok((codes("commune"), codes("district")))
}

/// Dossier `n`, received now in a commune, in process.
fn record(n: usize, communes: &[String]) -> Value {
    let now = chrono::Utc::now();
    json!({
        "code": format!("WS{n:08}"), "unit": communes[n % communes.len()], "procedure": "2.000815",
        "channel": if n.is_multiple_of(2) { "online" } else { "direct" }, "status": 4,
        "received_at": now.to_rfc3339(), "due_at": (now + chrono::Duration::days(10)).to_rfc3339(),
        "fee_required": false, "updated_at": now.to_rfc3339(),
    })
}
