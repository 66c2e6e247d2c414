//! What the `ioc` subcommands do, apart from argument parsing.

use anyhow::Context;
use ioc_store::Store;
use ioc_store::reference::{self, LoadReport};
use ioc_store::tokens;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use ioc_ingest::import::{Format, ImportSpec, import_file};
use ioc_store::imports::Checkpoint;

use crate::auth::{self, Role, generate_token, new_token};
use std::io::Write as _;

use ioc_sim::{Generator, Scenario};

use crate::cli::{ImportArgs, SimulateArgs};

use crate::config::Settings;
use crate::reference::{read_catalog, read_unit_tree};

/// Reads the configured unit files and writes them into the store.
pub async fn load_units(settings: &Settings, store: &Store) -> anyhow::Result<LoadReport> {
    let tree = read_unit_tree(&settings.units)?;
    let now = chrono::Utc::now();
    store
        .run(move |conn| reference::load_units(conn, &tree, now))
        .await
        .context("cannot write units")
}

/// Reads the configured catalog files and writes them into the store.
pub async fn load_procedures(settings: &Settings, store: &Store) -> anyhow::Result<LoadReport> {
    let catalog = read_catalog(&settings.units.levels, &settings.procedures)?;
    let now = chrono::Utc::now();
    store
        .run(move |conn| reference::load_procedures(conn, &catalog, now))
        .await
        .context("cannot write procedures")
}

/// Checks the configuration and the reference files it names; returns a
/// summary, or every problem found.
pub fn check_config(settings: &Settings) -> Result<String, Vec<String>> {
    let tree = read_unit_tree(&settings.units);
    let catalog = read_catalog(&settings.units.levels, &settings.procedures);
    let campaigns =
        crate::reference::read_campaigns(&settings.read.campaign_files, &settings.units.levels);
    let score = crate::reference::read_score_model(&settings.read.scoring_file);
    let alerts = crate::reference::read_alert_rules(&settings.alerts.file, &settings.units.levels);
    let tls = crate::webhook::tls_config(settings.alerts.webhook_ca_file.as_deref());
    match (tree, catalog, campaigns, score, alerts, tls) {
        (Ok(tree), Ok(catalog), Ok(campaigns), Ok(_), Ok(alerts), Ok(_)) => Ok(format!(
            "configuration OK ({}): {} units, {} procedures, {} campaign(s), {} threshold rule(s), {}",
            settings.origin,
            tree.len(),
            catalog.len(),
            campaigns.len(),
            alerts.thresholds.len(),
            settings.database.url
        )),
        (tree, catalog, campaigns, score, alerts, tls) => {
            let mut problems = Vec::new();
            for errors in [tree.err(), catalog.err()].into_iter().flatten() {
                problems.extend(errors.0.iter().map(ToString::to_string));
            }
            problems.extend(campaigns.err().unwrap_or_default());
            problems.extend(score.err());
            problems.extend(alerts.err().unwrap_or_default());
            problems.extend(tls.err().map(|e| e.to_string()));
            Err(problems)
        }
    }
}

/// Creates a token; returns the token and its id.
pub async fn create_token(
    settings: &Settings,
    store: &Store,
    role: &str,
    source: Option<&str>,
    units: &[String],
    label: &str,
) -> anyhow::Result<(String, i64)> {
    let role = Role::parse(role).map_err(anyhow::Error::msg)?;
    let levels = settings.units.levels.clone();
    let tree = store
        .run(move |conn| reference::unit_tree(conn, &levels))
        .await
        .context("cannot read the unit tree")?;
    let token =
        generate_token().map_err(|e| anyhow::anyhow!("no randomness for the token: {e}"))?;
    let new = new_token(role, source, units, label, &tree, &token).map_err(anyhow::Error::msg)?;
    let id = store
        .run(move |conn| tokens::create(conn, &new))
        .await
        .context("cannot store the token")?;
    Ok((token, id))
}

/// Runs `ioc import`: each file in turn, with progress on a terminal and
/// totals at the end.
pub async fn import(settings: &Settings, store: &Store, args: ImportArgs) -> anyhow::Result<()> {
    let format: Format = args.format.parse().map_err(anyhow::Error::msg)?;
    auth::check_source(&args.source).map_err(anyhow::Error::msg)?;
    if args.rejects.is_some() && args.files.len() > 1 {
        anyhow::bail!(
            "--rejects names one file; with several inputs each gets FILE.rejects.ndjson"
        );
    }
    if args.chunk == 0 {
        anyhow::bail!("--chunk must be at least 1");
    }
    let levels = settings.units.levels.clone();
    let tree = store
        .run(move |conn| reference::unit_tree(conn, &levels))
        .await
        .context("cannot read the unit tree")?;
    let status_map = settings
        .ingest
        .status_map
        .get(&args.source)
        .cloned()
        .unwrap_or_default();
    let calendar = settings.timeliness.calendar;
    let bounds = settings.ingest.bounds;
    let store = store.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn = store.get()?;
        let mut total = Checkpoint::default();
        for file in &args.files {
            let rejects = args.rejects.clone().unwrap_or_else(|| {
                let mut name = file.clone().into_os_string();
                name.push(".rejects.ndjson");
                PathBuf::from(name)
            });
            let spec = ImportSpec {
                source: &args.source,
                format,
                tree: &tree,
                calendar,
                status_map: &status_map,
                chunk_size: args.chunk,
                rejects: rejects.clone(),
                restart: args.restart,
                bounds,
            };
            let mut meter = ProgressMeter::new(file);
            let summary = import_file(&mut conn, file, &spec, &mut |cp| meter.show(cp))
                .with_context(|| {
                    format!(
                        "import of {} stopped; run the same command again to resume",
                        file.display()
                    )
                })?;
            meter.done();
            let t = &summary.totals;
            println!(
                "{}: accepted {}, duplicates {}, stale {}, rejected {} ({} records{})",
                file.display(),
                t.accepted,
                t.duplicates,
                t.stale,
                t.rejected,
                t.records,
                if summary.already_done {
                    "; imported by an earlier run, nothing to do (--restart reads it again)"
                        .to_owned()
                } else if summary.resumed_from > 0 {
                    format!("; resumed after record {}", summary.resumed_from)
                } else {
                    String::new()
                }
            );
            if t.rejected > 0 {
                println!(
                    "  rejected records and their reasons: {}",
                    rejects.display()
                );
            }
            total.accepted += t.accepted;
            total.duplicates += t.duplicates;
            total.stale += t.stale;
            total.rejected += t.rejected;
            total.records += t.records;
        }
        if args.files.len() > 1 {
            println!(
                "total: accepted {}, duplicates {}, stale {}, rejected {} ({} records)",
                total.accepted, total.duplicates, total.stale, total.rejected, total.records
            );
        }
        Ok(())
    })
    .await?
}

/// A one-line progress display with rows per second, on a terminal only.
struct ProgressMeter {
    name: String,
    started: Instant,
    first_records: Option<u64>,
    terminal: bool,
}

impl ProgressMeter {
    fn new(file: &std::path::Path) -> Self {
        ProgressMeter {
            name: file.display().to_string(),
            started: Instant::now(),
            first_records: None,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    fn show(&mut self, cp: &Checkpoint) {
        if !self.terminal {
            return;
        }
        let base = *self.first_records.get_or_insert(cp.records);
        let rate = (cp.records - base) as f64 / self.started.elapsed().as_secs_f64().max(0.001);
        eprint!(
            "\r{}: {} records, {:.0} rows/s, accepted {}, duplicates {}, stale {}, rejected {}   ",
            self.name, cp.records, rate, cp.accepted, cp.duplicates, cp.stale, cp.rejected
        );
    }

    fn done(&self) {
        if self.terminal {
            eprintln!();
        }
    }
}

/// Runs `ioc simulate`: writes seeded dossiers for the configured tree and
/// catalog, as native NDJSON.
pub fn simulate(settings: &Settings, args: &SimulateArgs) -> anyhow::Result<()> {
    let tree = read_unit_tree(&settings.units)?;
    let catalog = read_catalog(&settings.units.levels, &settings.procedures)?;
    let end = args.start + chrono::Days::new(u64::from(args.days));
    let scenario = Scenario {
        seed: args.seed,
        start: args.start,
        days: args.days,
        online_share_start: 0.2,
        online_share_end: 0.6,
        late_share: 0.02,
        now: settings.timeliness.calendar.start_of(end),
    };
    let file = std::fs::File::create(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let generator = Generator::new(scenario, settings.timeliness.calendar, &tree, &catalog);
    for dossier in generator.take(usize::try_from(args.dossiers).unwrap_or(usize::MAX)) {
        serde_json::to_writer(&mut out, &dossier)?;
        out.write_all(b"\n")?;
    }
    out.flush()
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "{}: {} dossiers (seed {})",
        args.out.display(),
        args.dossiers,
        args.seed
    );
    Ok(())
}
