//! What the `ioc` subcommands do, apart from argument parsing.

use anyhow::Context;
use ioc_store::Store;
use ioc_store::reference::{self, LoadReport};
use ioc_store::tokens;

use crate::auth::{Role, generate_token, new_token};

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
    match (tree, catalog) {
        (Ok(tree), Ok(catalog)) => Ok(format!(
            "configuration OK ({}): {} units, {} procedures, {}",
            settings.origin,
            tree.len(),
            catalog.len(),
            settings.database.url
        )),
        (tree, catalog) => {
            let mut problems = Vec::new();
            for errors in [tree.err(), catalog.err()].into_iter().flatten() {
                problems.extend(errors.0.iter().map(ToString::to_string));
            }
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
