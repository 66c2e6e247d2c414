//! `ioc demo`: the product in one command. SQLite in a data directory, the
//! configured units and catalog, about 90 days of simulated history written
//! through the store's batch apply (version guard and change log, as any
//! ingest), then the server with live simulated traffic.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{Days, Utc};
use ioc_core::{Catalog, Dossier, Source, UnitTree};
use ioc_sim::{Generator, Live, Scenario};
use ioc_store::{DatabaseUrl, Store, dossiers};

use crate::bootstrap::open_store;
use crate::config::Settings;
use crate::reference::{read_catalog, read_unit_tree};
use crate::startup::Application;

/// The source demo dossiers are written as.
const SOURCE: &str = "demo";

/// [`SOURCE`] as the type the store takes.
fn demo_source() -> Source {
    Source::parse(SOURCE).expect("\"demo\" is a source name")
}
/// Share of finished dossiers that finish late: around the 0.4% target, so
/// that some units meet it and some do not.
const LATE_SHARE: f64 = 0.005;
/// Versions applied per transaction while backfilling.
const CHUNK: usize = 5_000;

/// `ioc demo …`
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Where the SQLite database lives; running again resumes it.
    #[arg(long, default_value = "data/demo")]
    pub data: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Days of history to backfill on the first run.
    #[arg(long, default_value_t = 90)]
    pub days: u32,
    /// Dossiers a day, province-wide, in the history.
    #[arg(long, default_value_t = 600)]
    pub per_day: u32,
    /// Live receptions a second (as many dossiers move on).
    #[arg(long, default_value_t = 2.0)]
    pub rate: f64,
    /// Seed of the history (the same seed gives the same history).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Seed of the live traffic; by default taken from the clock, so that a
    /// resumed demo files new dossier codes.
    #[arg(long)]
    pub live_seed: Option<u64>,
}

/// Runs the demo until Ctrl-C.
pub async fn run(mut settings: Settings, args: DemoArgs) -> anyhow::Result<()> {
    settings.database.url = DatabaseUrl::Sqlite(args.data.join("ioc.sqlite3"));
    settings.database.migrate_on_start = true;
    settings.server.bind = args.bind;
    settings.auth.public_read = true;
    // The demo is local and open: Grafana or Prometheus may scrape it as is.
    settings.metrics.public = true;
    settings.units.load_on_start = true;
    settings.procedures.load_on_start = true;
    std::fs::create_dir_all(&args.data)
        .with_context(|| format!("cannot create {}", args.data.display()))?;
    settings
        .campaigns
        .files
        .push(write_campaign(&args.data, &settings)?);
    let tree = read_unit_tree(&settings.units).map_err(|e| anyhow::anyhow!("{e}"))?;
    let catalog = read_catalog(&settings.units.levels, &settings.procedures)
        .map_err(|e| anyhow::anyhow!("{e}"))?;

    let store = open_store(&settings).await?;
    store
        .run(|conn| ioc_store::migrate(conn).map(drop))
        .await
        .context("cannot migrate the demo database")?;
    let stored = store.run(dossiers::count).await?;
    if stored == 0 {
        backfill(&store, &settings, &tree, &catalog, &args).await?;
    } else {
        println!(
            "Resuming the demo in {} ({stored} dossiers).",
            args.data.display()
        );
    }

    let app = Application::build(settings.clone()).await?;
    let address = app.address();
    let live_seed = args
        .live_seed
        .unwrap_or_else(|| Utc::now().timestamp() as u64);
    println!("ioc demo is running; Ctrl-C stops it, running it again resumes it.");
    // The lines below are read by people and by tests: flush them now.
    println!("  wall screen:   http://{address}/");
    println!("  rankings:      http://{address}/rankings");
    println!("  API:           http://{address}/api/v1/overview?window=today");
    println!(
        "  live traffic:  about {} receptions a second (seed {live_seed})",
        args.rate
    );
    std::io::Write::flush(&mut std::io::stdout()).context("cannot write to standard output")?;
    actix_web::rt::spawn(live(store, settings, tree, catalog, args, live_seed));
    app.run_until_stopped()
        .await
        .context("the HTTP server failed")
}

/// A 92-day campaign running now, with the targets of the 2022 campaign,
/// so that the screens show progress against targets.
fn write_campaign(data: &std::path::Path, settings: &Settings) -> anyhow::Result<PathBuf> {
    let today = settings.timeliness.calendar.date_of(Utc::now());
    let path = data.join("campaign.toml");
    let text = format!(
        r#"# Written by `ioc demo`: a simulated campaign around today.
id = "demo-92-ngay"
name = "Chiến dịch 92 ngày đêm (mô phỏng)"
from = "{from}"
until = "{until}"

[[target]]
key = "online_services_used_share"
op = ">="
value = 0.8
levels = ["department", "district", "commune"]

[[target]]
key = "online_share"
op = ">="
value = 0.5
levels = ["department", "district", "commune"]

[[target]]
key = "late_rate"
op = "<"
value = 0.004
levels = ["department", "district", "commune"]
"#,
        from = today - Days::new(61),
        until = today + Days::new(30),
    );
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Writes `args.days` days of history up to now.
async fn backfill(
    store: &Store,
    settings: &Settings,
    tree: &UnitTree,
    catalog: &Catalog,
    args: &DemoArgs,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let now = Utc::now();
    let today = settings.timeliness.calendar.date_of(now);
    let scenario = Scenario {
        seed: args.seed,
        start: today - Days::new(u64::from(args.days)),
        days: args.days,
        online_share_start: 0.3,
        online_share_end: 0.6,
        late_share: LATE_SHARE,
        now,
    };
    let mut generator = Generator::new(scenario, settings.timeliness.calendar, tree, catalog);
    let total = u64::from(args.days) * u64::from(args.per_day);
    println!(
        "Backfilling {total} simulated dossiers over {} days into {}…",
        args.days,
        args.data.display()
    );
    let mut written = 0u64;
    while written < total {
        let take = (total - written).min(CHUNK as u64);
        let mut versions: Vec<Dossier> = Vec::with_capacity(take as usize * 2);
        for _ in 0..take {
            let latest = generator.dossier();
            versions.extend(generator.history(latest));
        }
        // As a sync client sends them: out of order within a batch.
        generator.shuffle(&mut versions);
        store
            .run(move |conn| dossiers::apply(conn, &demo_source(), &versions, Utc::now()).map(drop))
            .await
            .context("cannot write the demo history")?;
        written += take;
    }
    println!(
        "Backfilled {total} dossiers in {:.1} s.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Sends live traffic once a second until the process stops.
async fn live(
    store: Store,
    settings: Settings,
    tree: UnitTree,
    catalog: Catalog,
    args: DemoArgs,
    seed: u64,
) {
    let now = Utc::now();
    let today = settings.timeliness.calendar.date_of(now);
    let scenario = Scenario {
        seed,
        start: today - Days::new(u64::from(args.days)),
        days: args.days + 30,
        online_share_start: 0.3,
        online_share_end: 0.7,
        late_share: LATE_SHARE,
        now,
    };
    let generator = Generator::new(scenario, settings.timeliness.calendar, &tree, &catalog);
    let mut traffic = Live::new(generator, args.rate);
    match store
        .run(|conn| dossiers::unfinished(conn, SOURCE, 5_000))
        .await
    {
        Ok(in_process) => traffic.adopt(in_process.into_iter().map(|s| s.dossier)),
        Err(e) => tracing::warn!(message = "Cannot read dossiers in process.", error = %e),
    }
    let mut last = Instant::now();
    loop {
        actix_web::rt::time::sleep(Duration::from_secs(1)).await;
        let versions = traffic.step(Utc::now(), last.elapsed());
        last = Instant::now();
        if versions.is_empty() {
            continue;
        }
        let written = store
            .run(move |conn| dossiers::apply(conn, &demo_source(), &versions, Utc::now()))
            .await;
        if let Err(e) = written {
            tracing::warn!(message = "Cannot write live demo traffic.", error = %e);
        }
    }
}
