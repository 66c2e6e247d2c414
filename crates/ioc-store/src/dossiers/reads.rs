//! The read queries of stored dossiers.

use std::collections::HashMap;

use diesel::prelude::*;
use ioc_core::DossierState;

use super::DossierRow;
use crate::schema::dossiers;
use crate::{AnyConnection, StoreError};

/// The stored state of dossier `code` from `source`.
pub fn find(
    conn: &mut AnyConnection,
    source: &str,
    code: &str,
) -> Result<Option<DossierState>, StoreError> {
    dossiers::table
        .filter(dossiers::source.eq(source))
        .filter(dossiers::code.eq(code))
        .select(DossierRow::as_select())
        .first(conn)
        .optional()?
        .map(DossierRow::into_state)
        .transpose()
}

/// Up to `limit` dossiers of `source` not finished nor stopped (still in
/// process), oldest reception first.
pub fn unfinished(
    conn: &mut AnyConnection,
    source: &str,
    limit: i64,
) -> Result<Vec<DossierState>, StoreError> {
    dossiers::table
        .filter(dossiers::source.eq(source))
        .filter(dossiers::finished_at.is_null())
        .filter(dossiers::stopped_at.is_null())
        .order(dossiers::received_at.asc())
        .limit(limit)
        .select(DossierRow::as_select())
        .load(conn)?
        .into_iter()
        .map(DossierRow::into_state)
        .collect()
}

/// Number of stored dossiers.
pub fn count(conn: &mut AnyConnection) -> Result<i64, StoreError> {
    Ok(dossiers::table.count().get_result(conn)?)
}
/// The stored states of dossiers `codes` from `source`, by code.
pub fn find_many(
    conn: &mut AnyConnection,
    source: &str,
    codes: &[String],
) -> Result<HashMap<String, DossierState>, StoreError> {
    let mut found = HashMap::with_capacity(codes.len());
    // Bounded IN lists: SQLite allows 32,766 variables per statement.
    for chunk in codes.chunks(10_000) {
        let rows: Vec<DossierRow> = dossiers::table
            .filter(dossiers::source.eq(source))
            .filter(dossiers::code.eq_any(chunk))
            .select(DossierRow::as_select())
            .load(conn)?;
        for row in rows {
            found.insert(row.code.clone(), row.into_state()?);
        }
    }
    Ok(found)
}
