//! `ioc-bench ingest`: `ioc import` against a raw `psql \copy` of the same
//! rows, and HTTP ingest of batches from concurrent clients.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use anyhow::bail;
use ioc_testkit::wait_ready;

use crate::IngestArgs;
use crate::dataset::write_files;
use crate::harness::{import, ingest_token, prepared, psql, serve};

/// Runs the measurement and prints a Markdown table.
pub(crate) fn run(args: &IngestArgs) -> anyhow::Result<()> {
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

/// Throughput and batch latencies of the HTTP ingest.
struct HttpResult {
    records_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

/// Sends simulated batches from concurrent clients to a fresh server.
fn http_ingest(args: &IngestArgs) -> anyhow::Result<HttpResult> {
    let db = prepared(args, "ioc_bench_http")?;
    let token = ingest_token(args, &db)?;
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
