//! What every benchmark shares: scratch databases, running `psql` and the
//! `ioc` binary, serving (through `ioc-testkit`, as the tests do), and the
//! measurements read off a run (percentiles, resident memory).

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use ioc_testkit::{IocProcess, spawn_ioc};

use crate::IngestArgs;

/// A database created for one measurement and dropped afterwards.
pub(crate) struct Database {
    admin: String,
    name: String,
    /// URL of the database.
    pub(crate) url: String,
}

impl Database {
    /// Creates database `name` on the server of `admin`, dropping any
    /// left from an earlier run.
    pub(crate) fn create(admin: &str, name: &str) -> anyhow::Result<Database> {
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

/// Runs one `psql` command on `url`; fails with its error output.
pub(crate) fn psql(url: &str, command: &str) -> anyhow::Result<()> {
    let out = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-qc", command])
        .output()
        .context("cannot run psql")?;
    if !out.status.success() {
        bail!("psql {command:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// An ingest token of source `bench` for the whole province (unit 70),
/// made with `ioc token create`.
pub(crate) fn ingest_token(args: &IngestArgs, db: &Database) -> anyhow::Result<String> {
    let cmd = [
        "token", "create", "--role", "ingest", "--source", "bench", "--units", "70",
    ];
    Ok(ioc(args, db, &cmd)?.trim().to_owned())
}

/// Runs the `ioc` binary with `cmd` on `db`; returns its standard output.
pub(crate) fn ioc(args: &IngestArgs, db: &Database, cmd: &[&str]) -> anyhow::Result<String> {
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
pub(crate) fn import(
    args: &IngestArgs,
    db: &Database,
    file: &Path,
    records: u64,
) -> anyhow::Result<f64> {
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

/// A fresh database `name`, migrated, with units and procedures loaded.
pub(crate) fn prepared(args: &IngestArgs, name: &str) -> anyhow::Result<Database> {
    let db = Database::create(&args.pg, name)?;
    ioc(args, &db, &["migrate"])?;
    ioc(args, &db, &["units", "load"])?;
    ioc(args, &db, &["procedures", "load"])?;
    Ok(db)
}

/// Starts `ioc serve` on `db` at `port`, with `env` overrides; it is
/// killed when dropped.
pub(crate) fn serve(
    args: &IngestArgs,
    db: &Database,
    port: u16,
    env: &[(&str, &str)],
) -> anyhow::Result<IocProcess> {
    spawn_ioc(
        &args.ioc,
        &args.config,
        SocketAddr::from(([127, 0, 0, 1], port)),
    )
    .env("IOC__DATABASE__URL", &db.url)
    .env("IOC__METRICS__PUBLIC", "true")
    .env("RUST_LOG", "warn")
    .envs(env)
    .start()
    .context("cannot start ioc serve")
}

/// The `q` quantile (0 to 1) of `sorted`.
pub(crate) fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Resident memory of process `pid`, in MiB.
pub(crate) fn rss_mib(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS")?;
    Ok(kb / 1024.0)
}
