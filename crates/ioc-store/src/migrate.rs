//! Embedded migrations, one tree per backend with identical names.

use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::{AnyConnection, StoreError};

pub(crate) const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub(crate) const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Applies every pending migration; returns the names of those applied.
pub fn migrate(conn: &mut AnyConnection) -> Result<Vec<String>, StoreError> {
    let applied = match conn {
        AnyConnection::Postgresql(pg) => pg.run_pending_migrations(POSTGRES).map(names),
        AnyConnection::Sqlite(sqlite) => sqlite.run_pending_migrations(SQLITE).map(names),
    };
    applied.map_err(|e| StoreError::Migration(e.to_string()))
}

/// Names of the migrations not yet applied.
pub fn pending_migrations(conn: &mut AnyConnection) -> Result<Vec<String>, StoreError> {
    let pending = match conn {
        AnyConnection::Postgresql(pg) => pg
            .pending_migrations(POSTGRES)
            .map(|m| m.iter().map(|m| m.name().to_string()).collect()),
        AnyConnection::Sqlite(sqlite) => sqlite
            .pending_migrations(SQLITE)
            .map(|m| m.iter().map(|m| m.name().to_string()).collect()),
    };
    pending.map_err(|e| StoreError::Migration(e.to_string()))
}

pub(crate) fn names(versions: Vec<diesel::migration::MigrationVersion<'_>>) -> Vec<String> {
    versions.iter().map(ToString::to_string).collect()
}
