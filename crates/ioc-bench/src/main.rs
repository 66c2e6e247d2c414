//! `ioc-bench`: measures ioc against baselines taken in the same run, on a
//! local PostgreSQL, driving the release `ioc` binary as a user would.
//!
//! `ioc-bench ingest` reports
//! 1. `ioc import` of N dossiers next to a raw `psql \copy` of the same rows
//!    into the same table (the physical limit of the machine), and
//! 2. HTTP ingest of batches from concurrent clients: records/s and batch
//!    latency percentiles.
//!
//! `ioc-bench read` reports start-up, ranking latency against a plain SQL
//! `GROUP BY`, and memory; `ioc-bench stream` the latency from an ingest
//! call's commit to many WebSocket clients holding the change.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::Datelike;
use clap::{Parser, Subcommand};
use ioc_core::{Catalog, Levels, LocalCalendar, UnitTreeBuilder};
use ioc_sim::{Generator, Scenario};

mod alerts;
mod stream;

#[derive(Parser)]
#[command(
    name = "ioc-bench",
    about = "Benchmarks of ioc with same-run baselines"
)]
struct Cli {
    #[command(subcommand)]
    command: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// Bulk import vs raw COPY, and HTTP ingest throughput.
    Ingest(IngestArgs),
    /// Start-up rebuild, ranking latency vs a plain SQL GROUP BY, memory.
    Read(ReadArgs),
    /// Live-update latency and memory with many WebSocket clients.
    Stream(stream::StreamArgs),
    /// The alert sweeper's cost and memory on a large store.
    Alerts(alerts::AlertArgs),
}

#[derive(clap::Args)]
struct ReadArgs {
    #[command(flatten)]
    common: IngestArgs,
    /// Concurrent clients asking for the ranking.
    #[arg(long, default_value_t = 50)]
    concurrency: usize,
    /// Ranking requests in all.
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// Runs of the SQL baseline.
    #[arg(long, default_value_t = 5)]
    sql_runs: usize,
}

#[derive(clap::Args)]
struct IngestArgs {
    /// A PostgreSQL URL of a user that may create databases.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pg: String,
    /// The ioc binary to measure (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/ioc")]
    ioc: PathBuf,
    /// The configuration it runs with.
    #[arg(long, default_value = "config/base.toml")]
    config: PathBuf,
    /// Dossiers in the import file.
    #[arg(long, default_value_t = 1_000_000)]
    records: u64,
    /// Dossiers sent over HTTP.
    #[arg(long, default_value_t = 200_000)]
    http_records: u64,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Records per HTTP batch.
    #[arg(long, default_value_t = 1_000)]
    batch: usize,
    /// Where the generated files go.
    #[arg(long, default_value = "target/bench")]
    work: PathBuf,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Bench::Ingest(args) => ingest(&args),
        Bench::Read(args) => read(&args),
        Bench::Stream(args) => stream::run(&args),
        Bench::Alerts(args) => alerts::run(&args),
    }
}

/// A database created for one measurement and dropped afterwards.
struct Database {
    admin: String,
    name: String,
    url: String,
}

impl Database {
    fn create(admin: &str, name: &str) -> anyhow::Result<Database> {
        psql(
            admin,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )?;
        psql(admin, &format!("CREATE DATABASE {name}"))?;
        let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
        Ok(Database {
            admin: admin.to_owned(),
            name: name.to_owned(),
            url: format!("{base}/{name}"),
        })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = psql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

fn psql(url: &str, command: &str) -> anyhow::Result<()> {
    let out = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-qc", command])
        .output()
        .context("cannot run psql")?;
    if !out.status.success() {
        bail!("psql {command:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

fn ioc(args: &IngestArgs, db: &Database, cmd: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(&args.ioc)
        .arg("--config")
        .arg(&args.config)
        .args(cmd)
        .env("IOC__DATABASE__URL", &db.url)
        .env("RUST_LOG", "warn")
        .output()
        .with_context(|| format!("cannot run {}", args.ioc.display()))?;
    if !out.status.success() {
        bail!("ioc {cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `ioc import` of `file` into `db`; checks every record was accepted
/// and returns the seconds it took.
fn import(args: &IngestArgs, db: &Database, file: &Path, records: u64) -> anyhow::Result<f64> {
    let started = Instant::now();
    let path = file.to_str().context("path")?;
    let out = ioc(
        args,
        db,
        &["import", "--source", "sim", "--format", "ndjson", path],
    )?;
    if !out.contains(&format!("accepted {records}")) {
        bail!("ioc import did not accept every record: {out}");
    }
    Ok(started.elapsed().as_secs_f64())
}

fn prepared(args: &IngestArgs, name: &str) -> anyhow::Result<Database> {
    let db = Database::create(&args.pg, name)?;
    ioc(args, &db, &["migrate"])?;
    ioc(args, &db, &["units", "load"])?;
    ioc(args, &db, &["procedures", "load"])?;
    Ok(db)
}

/// Writes `count` simulated dossiers as native NDJSON and as the CSV that
/// `\copy dossiers` takes.
fn write_files(
    args: &IngestArgs,
    seed: u64,
    count: u64,
    ndjson: &Path,
    csv: Option<&Path>,
) -> anyhow::Result<()> {
    let start = chrono::NaiveDate::from_ymd_opt(2022, 6, 1).context("date")?;
    write_dossiers(
        args,
        (seed, start, "2024-06-01T00:00:00Z".parse()?),
        count,
        ndjson,
        csv,
    )
}

/// Writes `count` dossiers of two years from `start` (seed, start, now) as
/// NDJSON, and as CSV for `\copy` when asked.
fn write_dossiers(
    args: &IngestArgs,
    (seed, start, now): (u64, chrono::NaiveDate, chrono::DateTime<chrono::Utc>),
    count: u64,
    ndjson: &Path,
    csv: Option<&Path>,
) -> anyhow::Result<()> {
    let config_dir = args.config.parent().unwrap_or(Path::new("."));
    let levels = Levels::parse(&["province", "department", "district", "commune"])
        .map_err(anyhow::Error::msg)?;
    let mut builder = UnitTreeBuilder::new(levels.clone());
    for file in ["units/binh_phuoc.csv", "units/binh_phuoc_departments.csv"] {
        let path = config_dir.join(file);
        builder.read_units(
            file,
            std::fs::File::open(&path).with_context(|| path.display().to_string())?,
        );
    }
    let tree = builder.build()?;
    let catalog_path = config_dir.join("procedures/sample_catalog.csv");
    let catalog = Catalog::read(
        &levels,
        vec![(
            "catalog".to_owned(),
            std::fs::File::open(&catalog_path).context("catalog")?,
        )],
    )?;
    let scenario = Scenario {
        seed,
        start,
        days: 730,
        online_share_start: 0.2,
        online_share_end: 0.6,
        late_share: 0.02,
        now,
    };
    let mut json_out = std::io::BufWriter::new(std::fs::File::create(ndjson)?);
    let mut csv_out = csv
        .map(std::fs::File::create)
        .transpose()?
        .map(std::io::BufWriter::new);
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or(String::new(), |t| t.naive_utc().to_string())
    };
    for d in
        Generator::new(scenario, LocalCalendar::default(), &tree, &catalog).take(count as usize)
    {
        serde_json::to_writer(&mut json_out, &d)?;
        json_out.write_all(b"\n")?;
        if let Some(out) = csv_out.as_mut() {
            writeln!(
                out,
                "sim,{},{},{},{},{},{},{},{},,{},{},{},{}",
                d.code,
                d.unit,
                d.procedure,
                d.channel.as_str(),
                d.status.code(),
                time(d.received_at),
                time(d.due_at),
                time(d.finished_at),
                d.fee_required,
                d.paid_online,
                d.e_result,
                time(Some(d.updated_at)),
            )?;
        }
    }
    json_out.flush()?;
    if let Some(mut out) = csv_out {
        out.flush()?;
    }
    Ok(())
}

fn ingest(args: &IngestArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.work)?;
    let ndjson = args.work.join("dossiers.ndjson");
    let csv = args.work.join("dossiers.csv");
    eprintln!("generating {} dossiers…", args.records);
    write_files(args, 1, args.records, &ndjson, Some(&csv))?;

    eprintln!("baseline: psql \\copy…");
    let copy_db = prepared(args, "ioc_bench_copy")?;
    let started = Instant::now();
    psql(
        &copy_db.url,
        &format!(
            "\\copy dossiers (source, code, unit_code, procedure_code, channel, status, received_at, due_at, \
             finished_at, stopped_at, fee_required, paid_online, e_result, updated_at) from '{}' csv",
            csv.display()
        ),
    )?;
    let copy_secs = started.elapsed().as_secs_f64();
    drop(copy_db);

    eprintln!("ioc import…");
    let import_db = prepared(args, "ioc_bench_import")?;
    let import_secs = import(args, &import_db, &ndjson, args.records)?;
    drop(import_db);

    eprintln!("HTTP ingest…");
    let http = http_ingest(args)?;

    let rate = |n: u64, secs: f64| n as f64 / secs;
    println!("| measurement | result |");
    println!("| --- | --- |");
    println!(
        "| raw `psql \\copy` of {} rows into `dossiers` | {:.2} s, {:.0} rows/s |",
        args.records,
        copy_secs,
        rate(args.records, copy_secs)
    );
    println!(
        "| `ioc import` of the same {} dossiers (version guard, change log, checkpoints) | {:.2} s, {:.0} rows/s = **{:.0}% of raw COPY** |",
        args.records,
        import_secs,
        rate(args.records, import_secs),
        100.0 * copy_secs / import_secs
    );
    println!(
        "| HTTP `POST /api/v1/dossiers`, {} clients × batches of {} ({} records) | **{:.0} records/s**; batch latency p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms |",
        args.clients,
        args.batch,
        args.http_records,
        http.records_per_sec,
        http.p50_ms,
        http.p99_ms,
        http.max_ms
    );
    Ok(())
}

struct HttpResult {
    records_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

/// Starts `ioc serve` on `db` at `port`, with `env` overrides.
fn serve(
    args: &IngestArgs,
    db: &Database,
    port: u16,
    env: &[(&str, &str)],
) -> anyhow::Result<Server> {
    let child = Command::new(&args.ioc)
        .arg("--config")
        .arg(&args.config)
        .arg("serve")
        .env("IOC__DATABASE__URL", &db.url)
        .env("IOC__SERVER__BIND", format!("127.0.0.1:{port}"))
        .env("IOC__METRICS__PUBLIC", "true")
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .spawn()
        .context("cannot start ioc serve")?;
    Ok(Server(child))
}

/// The server, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http_ingest(args: &IngestArgs) -> anyhow::Result<HttpResult> {
    let db = prepared(args, "ioc_bench_http")?;
    let token = ioc(
        args,
        &db,
        &[
            "token", "create", "--role", "ingest", "--source", "bench", "--units", "70",
        ],
    )?
    .trim()
    .to_owned();
    let ndjson = args.work.join("http.ndjson");
    write_files(args, 2, args.http_records, &ndjson, None)?;
    let lines: Vec<String> = std::fs::read_to_string(&ndjson)?
        .lines()
        .map(str::to_owned)
        .collect();
    let bodies: Vec<String> = lines
        .chunks(args.batch)
        .map(|c| format!("[{}]", c.join(",")))
        .collect();
    let total_records = lines.len() as f64;

    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let _server = serve(
        args,
        &db,
        port,
        &[
            ("IOC__UNITS__LOAD_ON_START", "false"),
            ("IOC__PROCEDURES__LOAD_ON_START", "false"),
        ],
    )?;
    let base = format!("http://127.0.0.1:{port}");
    let clients = args.clients;
    actix_web::rt::System::new().block_on(async move {
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(120))
            .finish();
        wait_ready(
            &client,
            &base,
            Duration::from_secs(60),
            Duration::from_millis(100),
        )
        .await?;
        let started = Instant::now();
        let mut tasks = Vec::new();
        for worker in 0..clients {
            let mine: Vec<String> = bodies
                .iter()
                .skip(worker)
                .step_by(clients)
                .cloned()
                .collect();
            let client = client.clone();
            let url = format!("{base}/api/v1/dossiers");
            let token = token.clone();
            tasks.push(actix_web::rt::spawn(async move {
                let mut latencies = Vec::with_capacity(mine.len());
                for body in mine {
                    let sent = Instant::now();
                    let mut response = client
                        .post(&url)
                        .insert_header(("Content-Type", "application/json"))
                        .insert_header(("Authorization", format!("Bearer {token}")))
                        .send_body(body)
                        .await
                        .map_err(|e| anyhow::anyhow!("request failed: {e}"))?;
                    let answer = response
                        .body()
                        .await
                        .map_err(|e| anyhow::anyhow!("body: {e}"))?;
                    if !response.status().is_success() {
                        bail!(
                            "ingest answered {}: {}",
                            response.status(),
                            String::from_utf8_lossy(&answer)
                        );
                    }
                    latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                }
                Ok::<_, anyhow::Error>(latencies)
            }));
        }
        let mut latencies = Vec::new();
        for task in tasks {
            latencies.extend(task.await??);
        }
        let secs = started.elapsed().as_secs_f64();
        latencies.sort_by(f64::total_cmp);
        let pick = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
        Ok(HttpResult {
            records_per_sec: total_records / secs,
            p50_ms: pick(0.5),
            p99_ms: pick(0.99),
            max_ms: pick(1.0),
        })
    })
}

/// Polls `GET {base}/readyz` every `every` until it answers 200; fails
/// after `patience`.
async fn wait_ready(
    client: &awc::Client,
    base: &str,
    patience: Duration,
    every: Duration,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + patience;
    loop {
        let ready = client.get(format!("{base}/readyz")).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("ioc serve did not become ready");
        }
        actix_web::rt::time::sleep(every).await;
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn rss_mib(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS")?;
    Ok(kb / 1024.0)
}

fn read(args: &ReadArgs) -> anyhow::Result<()> {
    let common = &args.common;
    std::fs::create_dir_all(&common.work)?;
    let now = chrono::Utc::now();
    let start = now.date_naive() - chrono::Days::new(730);
    let ndjson = common.work.join("read.ndjson");
    eprintln!(
        "generating {} dossiers over two years up to today…",
        common.records
    );
    write_dossiers(common, (3, start, now), common.records, &ndjson, None)?;
    let db = prepared(common, "ioc_bench_read")?;
    eprintln!("importing…");
    let import_secs = import(common, &db, &ndjson, common.records)?;
    psql(&db.url, "VACUUM ANALYZE dossiers")?;

    eprintln!("starting ioc serve…");
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let spawned = Instant::now();
    let server = serve(common, &db, port, &[("IOC__AUTH__PUBLIC_READ", "true")])?;
    let pid = server.0.id();
    let base = format!("http://127.0.0.1:{port}");
    let path = "/api/v1/rankings?level=commune&key=on_time_rate&window=year";
    let (ready_secs, latencies, wall, first_ms) = actix_web::rt::System::new().block_on({
        let base = base.clone();
        let (requests, concurrency) = (args.requests, args.concurrency);
        async move {
            let client = awc::Client::builder()
                .timeout(Duration::from_secs(120))
                .finish();
            let patience = Duration::from_secs(600).saturating_sub(spawned.elapsed());
            wait_ready(&client, &base, patience, Duration::from_millis(20)).await?;
            let ready = spawned.elapsed().as_secs_f64();
            // The first request computes the ranking from the snapshot; the
            // others are answered from the snapshot's cache until it changes.
            let first = Instant::now();
            client
                .get(format!("{base}{path}"))
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .body()
                .limit(16 << 20)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let first_ms = first.elapsed().as_secs_f64() * 1000.0;
            let started = Instant::now();
            let mut tasks = Vec::new();
            for worker in 0..concurrency {
                let client = client.clone();
                let url = format!("{base}{path}");
                let mine = requests / concurrency + usize::from(worker < requests % concurrency);
                tasks.push(actix_web::rt::spawn(async move {
                    let mut latencies = Vec::with_capacity(mine);
                    for _ in 0..mine {
                        let sent = Instant::now();
                        let mut response = client
                            .get(&url)
                            .send()
                            .await
                            .map_err(|e| anyhow::anyhow!("{e}"))?;
                        let body = response
                            .body()
                            .limit(16 << 20)
                            .await
                            .map_err(|e| anyhow::anyhow!("{e}"))?;
                        if !response.status().is_success() || body.is_empty() {
                            bail!("ranking answered {}", response.status());
                        }
                        latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                    }
                    Ok::<_, anyhow::Error>(latencies)
                }));
            }
            let mut all = Vec::new();
            for task in tasks {
                all.extend(task.await??);
            }
            Ok::<_, anyhow::Error>((ready, all, started.elapsed().as_secs_f64(), first_ms))
        }
    })?;
    let rss = rss_mib(pid)?;
    // The first start wrote a checkpoint in the background; a restart loads it.
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let out = Command::new("psql")
            .args([
                db.url.as_str(),
                "-Atc",
                "SELECT count(*) FROM aggregate_checkpoints",
            ])
            .output()?;
        if String::from_utf8_lossy(&out.stdout).trim() == "1" {
            break;
        }
        if Instant::now() > deadline {
            bail!("no aggregate checkpoint was written");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(server);
    let respawned = Instant::now();
    let restarted = serve(common, &db, port, &[])?;
    let restart_secs = loop {
        let ok = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok_and(|mut s| {
            use std::io::{Read, Write};
            let _ = s.write_all(b"GET /readyz HTTP/1.0\r\n\r\n");
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer);
            answer.contains(" 200 ")
        });
        if ok {
            break respawned.elapsed().as_secs_f64();
        }
        if respawned.elapsed() > Duration::from_secs(600) {
            bail!("the restarted server did not become ready");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(restarted);
    let mut latencies = latencies;
    latencies.sort_by(f64::total_cmp);

    eprintln!("SQL baseline…");
    let year_start =
        chrono::NaiveDate::from_ymd_opt(now.date_naive().year(), 1, 1).context("date")?;
    let sql = format!(
        "SELECT unit_code, count(*) FILTER (WHERE due_at IS NULL OR \
           (finished_at AT TIME ZONE 'UTC' AT TIME ZONE 'Asia/Ho_Chi_Minh')::date \
           <= (due_at AT TIME ZONE 'UTC' AT TIME ZONE 'Asia/Ho_Chi_Minh')::date)::float8 / count(*) AS on_time_rate, \
         count(*) AS finished \
         FROM dossiers WHERE status IN (9, 10) \
           AND finished_at >= (TIMESTAMP '{year_start} 00:00' AT TIME ZONE 'Asia/Ho_Chi_Minh') AT TIME ZONE 'UTC' \
           AND unit_code IN (SELECT code FROM units WHERE level = 'commune') \
         GROUP BY unit_code ORDER BY on_time_rate DESC, unit_code"
    );
    let mut sql_ms = Vec::new();
    for _ in 0..args.sql_runs {
        let started = Instant::now();
        psql(&db.url, &sql)?;
        sql_ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    sql_ms.sort_by(f64::total_cmp);

    // What reading every dossier costs at all: the floor of a full rebuild.
    let started = Instant::now();
    psql(
        &db.url,
        "\\copy (SELECT source, code, unit_code, procedure_code, channel, status, received_at, due_at, \
         finished_at, stopped_at, fee_required, paid_online, e_result, updated_at FROM dossiers) TO '/dev/null'",
    )?;
    let export_secs = started.elapsed().as_secs_f64();

    let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
    let sql_p50 = percentile(&sql_ms, 0.5);
    println!("| measurement | result |");
    println!("| --- | --- |");
    println!(
        "| `ioc import` of {} dossiers (setup) | {:.0} s |",
        common.records, import_secs
    );
    println!(
        "| `ioc serve` first start to ready: rebuild of the aggregates from every dossier | **{ready_secs:.1} s** |"
    );
    println!(
        "| baseline: `psql \\copy` of every dossier's columns to /dev/null (reading alone, the floor of a rebuild) | {export_secs:.1} s |"
    );
    println!(
        "| `ioc serve` restart to ready: aggregates from the checkpoint, then the log after it | **{restart_secs:.1} s** |"
    );
    println!(
        "| `GET {path}`, {} requests from {} concurrent clients | p50 **{p50:.2} ms**, p99 {p99:.2} ms, {:.0} requests/s |",
        latencies.len(),
        args.concurrency,
        latencies.len() as f64 / wall
    );
    println!(
        "| the same ranking by a plain SQL `GROUP BY` over `dossiers`, {} runs | p50 {sql_p50:.0} ms (min {:.0}, max {:.0}) |",
        sql_ms.len(),
        sql_ms[0],
        sql_ms[sql_ms.len() - 1]
    );
    println!("| ratio at p50 | **{:.0}×** |", sql_p50 / p50);
    println!(
        "| the first request on a fresh snapshot (computed, not cached) | {first_ms:.1} ms = {:.0}× faster than SQL |",
        sql_p50 / first_ms
    );
    println!("| server resident memory after the load | **{rss:.0} MiB** |");
    drop(db);
    Ok(())
}
