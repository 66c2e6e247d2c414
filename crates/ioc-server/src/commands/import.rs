//! `ioc import`: backfill dossiers from files; resumable, counts nothing twice.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use ioc_ingest::import::{Format, ImportSpec, import_file};
use ioc_store::imports::Checkpoint;
use ioc_store::{Store, reference};

use ioc_core::Source;

use crate::config::Settings;

/// `ioc import …`
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Files to import, in order.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The source the dossiers are written as (as an ingest token's source).
    #[arg(long)]
    pub source: String,
    /// ndjson or csv (native schema), or dvcqg (a DongBoHoSoMC array or envelope).
    #[arg(long)]
    pub format: String,
    /// Records per transaction.
    #[arg(long, default_value_t = 20_000)]
    pub chunk: usize,
    /// Where rejected records go (default: FILE.rejects.ndjson; one file only).
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// Read the files from the start, ignoring where an earlier run stopped.
    #[arg(long)]
    pub restart: bool,
}

/// Runs `ioc import`: each file in turn, with progress on a terminal and
/// totals at the end.
pub async fn import(settings: &Settings, store: &Store, args: ImportArgs) -> anyhow::Result<()> {
    let format: Format = args.format.parse().map_err(anyhow::Error::msg)?;
    let source = Source::parse(&args.source).map_err(anyhow::Error::msg)?;
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
                source: &source,
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
