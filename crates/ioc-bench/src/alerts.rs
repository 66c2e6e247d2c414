//! `ioc-bench alerts`: what the alert sweeper costs on a large store — N
//! dossiers of which 1% are pending — against the same server with every
//! alert rule off (same run, same database), and against a naive sweep that
//! polls the dossiers table each minute.

use std::io::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ioc_testkit::{sample, scrape, wait_ready};

use crate::IngestArgs;
use crate::harness::{Database, ioc, psql, rss_mib, serve};

/// `ioc-bench alerts`
#[derive(clap::Args)]
pub struct AlertArgs {
    #[command(flatten)]
    common: IngestArgs,
    /// Dossiers in the store; one in a hundred is pending.
    #[arg(long, default_value_t = 10_000_000)]
    dossiers: u64,
    /// Seconds of idle clock over which the sweeper's cost is measured.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
}

/// One server run's numbers.
struct Run {
    ready_secs: f64,
    first_sweep_secs: f64,
    active: f64,
    cpu_secs_per_minute: f64,
    sweeps_per_minute: f64,
    sweep_ms_per_minute: f64,
    sweep_ms_each: f64,
    rss_mib: f64,
}

/// Runs the benchmark and prints a Markdown table.
pub fn run(args: &AlertArgs) -> anyhow::Result<()> {
    let common = &args.common;
    std::fs::create_dir_all(&common.work)?;
    let db = Database::create(&common.pg, "ioc_bench_alerts")?;
    ioc(common, &db, &["migrate"])?;
    ioc(common, &db, &["units", "load"])?;
    ioc(common, &db, &["procedures", "load"])?;
    let started = Instant::now();
    populate(&db, args.dossiers)?;
    eprintln!(
        "{} dossiers written in {:.0} s",
        args.dossiers,
        started.elapsed().as_secs_f64()
    );
    let naive_ms = naive_poll_ms(&db)?;
    let off_file = common.work.join("alerts-off.toml");
    std::fs::write(&off_file, "# every rule off\n")?;
    let off_path = std::fs::canonicalize(&off_file)?.display().to_string();
    // First without rules (it also writes the aggregate checkpoint both
    // runs then start from), then with the shipped rules.
    let off = measure(args, &db, &[("IOC__ALERTS__FILE", off_path.as_str())])?;
    let on = measure(args, &db, &[])?;
    println!(
        "| with {} dossiers, {} pending | rules off | shipped rules |",
        args.dossiers,
        args.dossiers / 100
    );
    println!("| --- | ---: | ---: |");
    println!(
        "| ready after (s) | {:.1} | {:.1} |",
        off.ready_secs, on.ready_secs
    );
    println!(
        "| first sweep done after ready (s) | {:.1} | {:.1} |",
        off.first_sweep_secs, on.first_sweep_secs
    );
    println!(
        "| active alerts after the first sweep | {:.0} | {:.0} |",
        off.active.abs(),
        on.active
    );
    println!(
        "| ioc CPU per minute of clock, idle (s) | {:.2} | {:.2} |",
        off.cpu_secs_per_minute, on.cpu_secs_per_minute
    );
    println!(
        "| sweeps per minute | {:.0} | {:.0} |",
        off.sweeps_per_minute, on.sweeps_per_minute
    );
    println!(
        "| sweep time per minute of clock, idle (ms) | {:.0} | {:.0} |",
        off.sweep_ms_per_minute, on.sweep_ms_per_minute
    );
    println!(
        "| one idle sweep, mean (ms) | {:.2} | {:.2} |",
        off.sweep_ms_each, on.sweep_ms_each
    );
    println!(
        "| resident memory (MiB) | {:.0} | {:.0} |",
        off.rss_mib, on.rss_mib
    );
    println!("| naive poll of the table, one query (ms) | {naive_ms:.0} | |");
    Ok(())
}

/// Writes `n` dossiers in SQL: 99% finished over two years, 1% pending
/// with due dates from 10 days ago to 20 days ahead (a third overdue).
fn populate(db: &Database, n: u64) -> anyhow::Result<()> {
    psql(
        &db.url,
        &format!(
            "INSERT INTO dossiers (source, code, unit_code, procedure_code, channel, status,
                received_at, due_at, finished_at, stopped_at, fee_required, paid_online,
                e_result, updated_at)
             SELECT 'bench', 'D' || i, u.codes[1 + i % array_length(u.codes, 1)], '2.000815',
                CASE WHEN i % 2 = 0 THEN 'online' ELSE 'direct' END,
                CASE WHEN p THEN 4 ELSE 10 END,
                r,
                CASE WHEN p THEN date_trunc('hour', now()::timestamp)
                        + ((i / 100) % 30 - 10) * interval '1 day'
                     ELSE r + interval '5 days' END,
                CASE WHEN p THEN NULL ELSE r + interval '3 days' END,
                NULL, false, false, false, r
             FROM generate_series(1, {n}) AS i,
                (SELECT array_agg(code ORDER BY code) AS codes FROM units
                 WHERE level = 'commune') AS u,
                LATERAL (SELECT i % 100 = 0 AS p) AS pending,
                LATERAL (SELECT CASE WHEN p THEN now()::timestamp - interval '20 days'
                    ELSE timestamp '2024-11-01' + (i % 700) * interval '1 day'
                        + (i % 480) * interval '1 minute' END AS r) AS received;
             ANALYZE dossiers;"
        ),
    )
}

/// What a sweep that polls the table each minute would pay per minute: the
/// best of 5 runs of its query (all pending dossiers past their due day,
/// without the partial index ioc keeps).
fn naive_poll_ms(db: &Database) -> anyhow::Result<f64> {
    let query = "SELECT count(*) FROM dossiers WHERE status NOT IN (3, 7, 8, 9, 10) \
                 AND due_at < date_trunc('day', now()::timestamp);";
    let script = format!(
        "SET enable_indexscan = off;\nSET enable_bitmapscan = off;\n\\timing on\n{}\n",
        query.repeat(5)
    );
    let mut child = Command::new("psql")
        .args([db.url.as_str(), "-v", "ON_ERROR_STOP=1", "-q", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .context("cannot run psql")?;
    child
        .stdin
        .take()
        .context("psql's stdin")?
        .write_all(script.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!("psql: {}", String::from_utf8_lossy(&out.stderr));
    }
    let times: Vec<f64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("Time: "))
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect();
    times
        .into_iter()
        .reduce(f64::min)
        .context("psql printed no timing")
}

fn measure(args: &AlertArgs, db: &Database, env: &[(&str, &str)]) -> anyhow::Result<Run> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let started = Instant::now();
    let server = serve(&args.common, db, port, env)?;
    let pid = server.id();
    let address = format!("127.0.0.1:{port}");
    let base = format!("http://{address}");
    actix_web::rt::System::new().block_on(async {
        let http = awc::Client::builder()
            .timeout(Duration::from_secs(120))
            .finish();
        wait_ready(
            &http,
            &base,
            Duration::from_secs(1800),
            Duration::from_millis(200),
        )
        .await?;
        let ready_secs = started.elapsed().as_secs_f64();
        let ready = Instant::now();
        loop {
            if metric(&http, &address, "ioc_alert_sweeps_total").await? >= 1.0 {
                break;
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        let first_sweep_secs = ready.elapsed().as_secs_f64();
        let active = active_alerts(&http, &address).await?;
        // Let the start-up settle, then measure an idle stretch of clock.
        actix_web::rt::time::sleep(Duration::from_secs(10)).await;
        let cpu0 = cpu_secs(pid)?;
        let sweeps0 = metric(&http, &address, "ioc_alert_sweeps_total").await?;
        let took0 = metric(&http, &address, "ioc_alert_sweep_seconds_total").await?;
        let window = Instant::now();
        actix_web::rt::time::sleep(Duration::from_secs(args.seconds)).await;
        let minutes = window.elapsed().as_secs_f64() / 60.0;
        let cpu = cpu_secs(pid)? - cpu0;
        let sweeps = metric(&http, &address, "ioc_alert_sweeps_total").await? - sweeps0;
        let took = metric(&http, &address, "ioc_alert_sweep_seconds_total").await? - took0;
        Ok(Run {
            ready_secs,
            first_sweep_secs,
            active,
            cpu_secs_per_minute: cpu / minutes,
            sweeps_per_minute: sweeps / minutes,
            sweep_ms_per_minute: took * 1000.0 / minutes,
            sweep_ms_each: took * 1000.0 / sweeps.max(1.0),
            rss_mib: rss_mib(pid)?,
        })
    })
}

async fn metric(http: &awc::Client, address: &str, name: &str) -> anyhow::Result<f64> {
    let (_, text) = scrape(http, &format!("http://{address}"), None).await?;
    Ok(sample(&text, name).unwrap_or(0.0))
}

async fn active_alerts(http: &awc::Client, address: &str) -> anyhow::Result<f64> {
    let (_, text) = scrape(http, &format!("http://{address}"), None).await?;
    Ok(text
        .lines()
        .filter(|l| l.starts_with("ioc_alerts_active{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

/// User and system CPU seconds the process has used.
fn cpu_secs(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // After the command name: state is field 3, utime 14 and stime 15.
    let ticks = |i: usize| -> anyhow::Result<f64> {
        Ok(fields
            .get(i - 3)
            .context("short /proc stat")?
            .parse::<f64>()?)
    };
    Ok((ticks(14)? + ticks(15)?) / 100.0)
}
