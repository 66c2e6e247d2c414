//! Command-line interface of `ioc`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::bootstrap::open_store;
use crate::commands::check::ConfigCommand;
use crate::commands::demo::{self, DemoArgs};
use crate::commands::import::{self, ImportArgs};
use crate::commands::load::{LoadCommand, Reference};
use crate::commands::simulate::{self, SimulateArgs};
use crate::commands::token::TokenCommand;
use crate::config::Settings;
use crate::startup::Application;
use crate::telemetry;

/// ioc: the backend of a provincial Intelligent Operations Center.
#[derive(Debug, Parser)]
#[command(name = "ioc", version)]
pub struct Cli {
    /// Configuration file (default: config/base.toml when it exists, else the
    /// configuration built into the binary).
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
    Demo(DemoArgs),
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
            Command::Units(load) => {
                let store = open_store(&settings).await?;
                load.run(Reference::Units, &settings, &store).await
            }
            Command::Procedures(load) => {
                let store = open_store(&settings).await?;
                load.run(Reference::Procedures, &settings, &store).await
            }
            Command::Token(token) => {
                let store = open_store(&settings).await?;
                token.run(&settings, &store).await
            }
            Command::Import(args) => {
                let store = open_store(&settings).await?;
                import::import(&settings, &store, args).await
            }
            Command::Simulate(args) => simulate::simulate(&settings, &args),
            Command::Demo(args) => demo::run(settings, args).await,
            Command::Config(check) => check.run(&settings),
        }
    }
}
