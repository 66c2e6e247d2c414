//! `ioc-bench read`: start-up (rebuild and restart from a checkpoint),
//! ranking latency against a plain SQL `GROUP BY`, and memory.

use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::Datelike;
use ioc_testkit::{wait_ready, wait_ready_blocking};

use crate::IngestArgs;
use crate::dataset::write_dossiers;
use crate::harness::{import, percentile, prepared, psql, rss_mib, serve};

#[derive(clap::Args)]
pub(crate) struct ReadArgs {
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

/// Runs the measurement and prints a Markdown table.
pub(crate) fn run(args: &ReadArgs) -> anyhow::Result<()> {
    let common = &args.common;
    std::fs::create_dir_all(&common.work)?;
    let now = chrono::Utc::now();
    // 730 days that end yesterday: no reception lies after `now`.
    let start = now.date_naive() - chrono::Days::new(731);
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
    let pid = server.id();
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
    wait_ready_blocking(
        &restarted.base_url(),
        Duration::from_secs(600),
        Duration::from_millis(20),
    )
    .context("the restarted server did not become ready")?;
    let restart_secs = respawned.elapsed().as_secs_f64();
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
