//! `ioc-bench stream`: live-update latency under load. Many WebSocket
//! clients subscribe to `overview:today` and a district's unit topic while
//! records are ingested at a fixed rate; for each ingest call, the time
//! from its answer (the commit is done) until each client holds a province
//! count that includes it.

use std::cell::RefCell;
use std::net::TcpListener;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix_web::rt::time::sleep;
use anyhow::{Context, bail};
use awc::ws::{Frame, Message};
use futures_util::{SinkExt as _, StreamExt as _};
use ioc_core::{Levels, UnitTreeBuilder};
use serde_json::{Value, json};

use crate::{IngestArgs, ioc, percentile, prepared, rss_mib, serve};

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
}

/// What one client saw: when it held which province count.
#[derive(Default)]
struct Seen {
    counts: Vec<(Instant, i64)>,
    closed: Option<String>,
    final_overview: Value,
}

/// Runs the measurement and prints a Markdown table.
pub fn run(args: &StreamArgs) -> anyhow::Result<()> {
    let common = &args.common;
    std::fs::create_dir_all(&common.work)?;
    let db = prepared(common, "ioc_bench_stream")?;
    let token = ioc(
        common,
        &db,
        &[
            "token", "create", "--role", "ingest", "--source", "bench", "--units", "70",
        ],
    )?
    .trim()
    .to_owned();
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
    let pid = server.0.id();
    let base = format!("127.0.0.1:{port}");
    let ws_clients = args.ws_clients;
    let per_call = args.rate.div_ceil(args.calls_per_sec);
    let calls = args.calls_per_sec * args.secs as usize;
    let period = Duration::from_secs(1) / args.calls_per_sec as u32;

    actix_web::rt::System::new().block_on(async move {
        let http = awc::Client::builder().timeout(Duration::from_secs(60)).finish();
        wait_ready(&http, &base).await?;
        let idle_rss = rss_mib(pid)?;

        eprintln!("connecting {ws_clients} WebSocket clients…");
        let stop = Rc::new(RefCell::new(false));
        let mut clients = Vec::new();
        for (i, chunk) in (0..ws_clients).collect::<Vec<_>>().chunks(100).enumerate() {
            let mut opened = Vec::new();
            for n in chunk {
                let district = &districts[n % districts.len()];
                opened.push(connect(&base, district));
            }
            for socket in futures_util::future::join_all(opened).await {
                let seen = Rc::new(RefCell::new(Seen::default()));
                clients.push((seen.clone(), actix_web::rt::spawn(listen(socket?, seen, stop.clone()))));
            }
            if i % 5 == 4 {
                eprintln!("  {} connected", clients.len());
            }
        }
        // Every client has its snapshots before ingest starts.
        sleep(Duration::from_secs(3)).await;
        let connected_rss = rss_mib(pid)?;

        eprintln!("ingesting {} records/s for {} s…", args.rate, args.secs);
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
                bail!("ingest answered {}: {}", response.status(), String::from_utf8_lossy(&answer));
            }
            total += per_call as i64;
            commits.push((Instant::now(), total));
        }
        let ingest_secs = started.elapsed().as_secs_f64();
        let loaded_rss = rss_mib(pid)?;
        sleep(Duration::from_secs(5)).await;
        *stop.borrow_mut() = true;
        let metrics = scrape(&http, &base).await?;
        let mut rest = http
            .get(format!("http://{base}/api/v1/overview?window=today"))
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let rest: Value = serde_json::from_slice(&rest.body().limit(64 << 20).await?)?;

        let mut latencies = Vec::new();
        let (mut closed, mut converged) = (0, 0);
        for (seen, task) in clients {
            task.abort();
            let seen = seen.borrow();
            closed += usize::from(seen.closed.is_some());
            converged += usize::from(seen.final_overview == rest);
            let mut at = seen.counts.iter();
            let mut current = at.next();
            for (committed, count) in &commits {
                while let Some((_, held)) = current
                    && held < count
                {
                    current = at.next();
                }
                match current {
                    Some((when, _)) => latencies.push(
                        when.saturating_duration_since(*committed).as_secs_f64() * 1000.0,
                    ),
                    None => break,
                }
            }
        }
        latencies.sort_by(f64::total_cmp);
        let expected = commits.len() * ws_clients;
        println!("| measure | value |");
        println!("|---|---|");
        println!("| WebSocket clients (overview:today + a district unit topic each) | {ws_clients} |");
        println!(
            "| ingest | {} records in {} calls over {ingest_secs:.1} s ({:.0} records/s) |",
            total,
            commits.len(),
            total as f64 / ingest_secs
        );
        println!("| (ingest call answered, client holds the change) pairs measured | {} of {expected} |", latencies.len());
        for (label, q) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0)] {
            println!("| latency {label} | {:.0} ms |", percentile(&latencies, q));
        }
        println!("| server RSS: ready, no clients | {idle_rss:.0} MiB |");
        println!(
            "| server RSS: clients connected | {connected_rss:.0} MiB ({:.1} KiB per client) |",
            (connected_rss - idle_rss) * 1024.0 / ws_clients as f64
        );
        println!("| server RSS: end of ingest | {loaded_rss:.0} MiB |");
        println!("| clients whose final overview equals GET /api/v1/overview | {converged} of {ws_clients} |");
        println!("| clients closed by the server | {closed} |");
        for family in ["ioc_ws_frames_dropped_total", "ioc_ws_changes_coalesced_total", "ioc_ws_disconnects_total", "ioc_ws_frames_sent_total"] {
            for line in metrics.lines().filter(|l| l.starts_with(family)) {
                println!("| `{line}` | |");
            }
        }
        Ok(())
    })
}

async fn wait_ready(http: &awc::Client, base: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let ready = http.get(format!("http://{base}/readyz")).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("ioc serve did not become ready");
        }
        sleep(Duration::from_millis(100)).await;
    }
}

async fn scrape(http: &awc::Client, base: &str) -> anyhow::Result<String> {
    let mut response = http
        .get(format!("http://{base}/metrics"))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(String::from_utf8_lossy(&response.body().limit(64 << 20).await?).into_owned())
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

/// Follows the overview as a wall screen does, recording each count held.
async fn listen(mut socket: Socket, seen: Rc<RefCell<Seen>>, stop: Rc<RefCell<bool>>) {
    let mut overview = Value::Null;
    while !*stop.borrow() {
        let frame = match socket.next().await {
            Some(Ok(frame)) => frame,
            Some(Err(e)) => {
                seen.borrow_mut().closed = Some(e.to_string());
                return;
            }
            None => {
                seen.borrow_mut().closed = Some("ended".to_owned());
                return;
            }
        };
        match frame {
            Frame::Text(bytes) => {
                let Ok(frame) = serde_json::from_slice::<Value>(&bytes) else {
                    continue;
                };
                if frame["topic"] != "overview:today" {
                    continue;
                }
                match frame["type"].as_str() {
                    Some("snapshot") => overview = frame["data"].clone(),
                    Some("delta") => ioc_stream::patch::apply(&mut overview, &frame["data"]),
                    _ => continue,
                }
                let count = overview["province"]["received"]
                    .as_i64()
                    .unwrap_or_default();
                let mut seen = seen.borrow_mut();
                seen.counts.push((Instant::now(), count));
                seen.final_overview = overview.clone();
            }
            Frame::Ping(bytes) => {
                let _ = socket.send(Message::Pong(bytes)).await;
            }
            Frame::Close(reason) => {
                seen.borrow_mut().closed = Some(format!("{reason:?}"));
                return;
            }
            _ => {}
        }
    }
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
