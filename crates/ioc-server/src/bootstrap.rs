//! Bringing a node's store up: connect, migrate (or check that nothing is
//! pending) and load the reference data, as the configuration says.

use anyhow::Context;
use ioc_store::reference::{self, LoadReport};
use ioc_store::{Store, StoreOptions};

use crate::config::Settings;
use crate::reference::{read_catalog, read_unit_tree};

/// Connects to the configured database.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let url = settings.database.url.clone();
    let options = StoreOptions {
        max_connections: settings.database.max_connections,
        acquire_timeout: settings.database.acquire_timeout,
        request_timeout: settings.database.request_timeout,
        ..StoreOptions::default()
    };
    let store = tokio::task::spawn_blocking(move || Store::connect(&url, &options)).await??;
    tracing::info!(message = "Connected.", database = %store.describe());
    Ok(store)
}

/// Migrates (or checks that nothing is pending) and loads reference data,
/// as the configuration says.
pub async fn prepare(settings: &Settings, store: &Store) -> anyhow::Result<()> {
    let migrate = settings.database.migrate_on_start;
    let described = store.describe();
    store
        .run(move |conn| {
            if migrate {
                for name in ioc_store::migrate(conn)? {
                    tracing::info!(message = "Migration applied.", migration = %name);
                }
                return Ok(Vec::new());
            }
            ioc_store::pending_migrations(conn)
        })
        .await
        .and_then(|pending| {
            if pending.is_empty() {
                Ok(())
            } else {
                Err(ioc_store::StoreError::Migration(format!(
                    "{described} has {} pending migration(s) ({}); run `ioc migrate` or set database.migrate_on_start",
                    pending.len(),
                    pending.join(", ")
                )))
            }
        })?;
    if settings.units.load_on_start {
        log_load("Units loaded.", &load_units(settings, store).await?);
    }
    if settings.procedures.load_on_start {
        log_load(
            "Procedures loaded.",
            &load_procedures(settings, store).await?,
        );
    }
    Ok(())
}

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

fn log_load(message: &str, report: &LoadReport) {
    tracing::info!(
        message,
        inserted = report.inserted,
        updated = report.updated,
        unchanged = report.unchanged
    );
}
