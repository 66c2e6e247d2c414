//! The simulated dossiers the benchmarks load, written as native NDJSON
//! and as the CSV that `\copy dossiers` takes.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context;
use ioc_core::{Catalog, Levels, LocalCalendar, UnitTreeBuilder};
use ioc_sim::{Generator, Scenario};

use crate::IngestArgs;

/// Writes `count` simulated dossiers as native NDJSON and as the CSV that
/// `\copy dossiers` takes.
pub(crate) fn write_files(
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
pub(crate) fn write_dossiers(
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
