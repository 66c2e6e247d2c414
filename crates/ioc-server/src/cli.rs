//! Command-line interface of `ioc`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::commands;
use crate::config::Settings;
use crate::startup::{Application, open_store};
use crate::telemetry;

/// ioc: the backend of a provincial Intelligent Operations Center.
#[derive(Debug, Parser)]
#[command(name = "ioc", version)]
pub struct Cli {
    /// Configuration file (default: config/base.toml when it exists).
    #[arg(long, global = true, env = "IOC_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server.
    Serve,
    /// Apply pending database migrations.
    Migrate,
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage the unit tree.
    #[command(subcommand)]
    Units(LoadCommand),
    /// Manage the procedure catalog.
    #[command(subcommand)]
    Procedures(LoadCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Backfill dossiers from files; resumable, counts nothing twice.
    Import(ImportArgs),
    /// Write simulated dossiers (native NDJSON) for the configured units and catalog.
    Simulate(SimulateArgs),
    /// Run the demo: SQLite in a data directory, 90 days of simulated
    /// history, live traffic, the wall screen and the rankings page.
    Demo(crate::demo::DemoArgs),
}

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

/// `ioc token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once (only its hash is stored).
    Create {
        /// ingest, viewer, operator or admin.
        #[arg(long)]
        role: String,
        /// The source an ingest token writes as.
        #[arg(long)]
        source: Option<String>,
        /// Unit subtrees an ingest token may write, comma-separated codes.
        #[arg(long, value_delimiter = ',')]
        units: Vec<String>,
        /// A label to recognise the token by.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Revoke a token by its id.
    Revoke {
        /// The id printed by `ioc token create`.
        id: i64,
    },
}

/// `ioc config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check the configuration and the reference files it names; report
    /// every problem and exit non-zero if there is one.
    Check,
}

/// `ioc units …` / `ioc procedures …`
#[derive(Debug, Subcommand)]
pub enum LoadCommand {
    /// Load the configured files into the database (idempotent).
    Load,
}

impl Cli {
    /// Runs the command; the exit code says whether it succeeded.
    pub async fn run(self) -> ExitCode {
        let settings = match Settings::load(self.config.as_deref()) {
            Ok(settings) => settings,
            Err(errors) => {
                eprintln!("error: {errors}");
                return ExitCode::FAILURE;
            }
        };
        telemetry::init(&settings.log);
        match self.command.execute(settings).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        }
    }
}

impl Command {
    async fn execute(self, settings: Settings) -> anyhow::Result<()> {
        match self {
            Command::Serve => {
                let app = Application::build(settings).await?;
                app.run_until_stopped()
                    .await
                    .context("the HTTP server failed")
            }
            Command::Migrate => {
                let store = open_store(&settings).await?;
                let applied = store.run(ioc_store::migrate).await?;
                if applied.is_empty() {
                    println!("{}: no pending migrations", store.describe());
                } else {
                    println!("{}: applied {}", store.describe(), applied.join(", "));
                }
                Ok(())
            }
            Command::Units(LoadCommand::Load) => {
                let store = open_store(&settings).await?;
                let report = commands::load_units(&settings, &store).await?;
                println!(
                    "units: {} inserted, {} updated, {} unchanged",
                    report.inserted, report.updated, report.unchanged
                );
                Ok(())
            }
            Command::Procedures(LoadCommand::Load) => {
                let store = open_store(&settings).await?;
                let report = commands::load_procedures(&settings, &store).await?;
                println!(
                    "procedures: {} inserted, {} updated, {} unchanged",
                    report.inserted, report.updated, report.unchanged
                );
                Ok(())
            }
            Command::Token(TokenCommand::Create {
                role,
                source,
                units,
                label,
            }) => {
                let store = open_store(&settings).await?;
                let (token, id) = commands::create_token(
                    &settings,
                    &store,
                    &role,
                    source.as_deref(),
                    &units,
                    &label,
                )
                .await?;
                println!("{token}");
                eprintln!("token {id} ({role}) created; it is shown only this once");
                Ok(())
            }
            Command::Token(TokenCommand::Revoke { id }) => {
                let store = open_store(&settings).await?;
                let now = chrono::Utc::now();
                if store
                    .run(move |conn| ioc_store::tokens::revoke(conn, id, now))
                    .await?
                {
                    println!("token {id} revoked");
                    Ok(())
                } else {
                    anyhow::bail!("no active token with id {id}")
                }
            }
            Command::Import(args) => {
                let store = open_store(&settings).await?;
                commands::import(&settings, &store, args).await
            }
            Command::Simulate(args) => commands::simulate(&settings, &args),
            Command::Demo(args) => crate::demo::run(settings, args).await,
            Command::Config(ConfigCommand::Check) => match commands::check_config(&settings) {
                Ok(summary) => {
                    println!("{summary}");
                    Ok(())
                }
                Err(problems) => anyhow::bail!(
                    "{} problem{} in the reference data:\n  {}",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" },
                    problems.join("\n  ")
                ),
            },
        }
    }
}
