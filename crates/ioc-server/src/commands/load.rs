//! `ioc units load` and `ioc procedures load`.

use clap::Subcommand;
use ioc_store::Store;

use crate::bootstrap::{load_procedures, load_units};
use crate::config::Settings;

/// `ioc units …` / `ioc procedures …`
#[derive(Debug, Subcommand)]
pub enum LoadCommand {
    /// Load the configured files into the database (idempotent).
    Load,
}

/// What `ioc … load` loads.
#[derive(Debug, Clone, Copy)]
pub enum Reference {
    /// The unit tree.
    Units,
    /// The procedure catalog.
    Procedures,
}

impl LoadCommand {
    /// Loads the configured files of `what` and prints what changed.
    pub async fn run(
        self,
        what: Reference,
        settings: &Settings,
        store: &Store,
    ) -> anyhow::Result<()> {
        let LoadCommand::Load = self;
        let (name, report) = match what {
            Reference::Units => ("units", load_units(settings, store).await?),
            Reference::Procedures => ("procedures", load_procedures(settings, store).await?),
        };
        println!(
            "{name}: {} inserted, {} updated, {} unchanged",
            report.inserted, report.updated, report.unchanged
        );
        Ok(())
    }
}
