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

use std::path::PathBuf;

use clap::{Parser, Subcommand};

mod alerts;
mod dataset;
mod harness;
mod ingest;
mod read;
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
    Read(read::ReadArgs),
    /// Live-update latency and memory with many WebSocket clients.
    Stream(stream::StreamArgs),
    /// The alert sweeper's cost and memory on a large store.
    Alerts(alerts::AlertArgs),
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
        Bench::Ingest(args) => ingest::run(&args),
        Bench::Read(args) => read::run(&args),
        Bench::Stream(args) => stream::run(&args),
        Bench::Alerts(args) => alerts::run(&args),
    }
}
