//! `ioc simulate`: seeded dossiers for the configured tree and catalog.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use ioc_sim::{Generator, Scenario};

use crate::config::Settings;
use crate::reference::{read_catalog, read_unit_tree};

/// `ioc simulate …`
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// How many dossiers.
    #[arg(long)]
    pub dossiers: u64,
    /// The file to write (NDJSON, one dossier per line).
    #[arg(long)]
    pub out: PathBuf,
    /// Seed: the same seed gives the same file.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// First local day of receptions.
    #[arg(long, default_value = "2022-06-01")]
    pub start: chrono::NaiveDate,
    /// Days that receptions span.
    #[arg(long, default_value_t = 92)]
    pub days: u32,
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
