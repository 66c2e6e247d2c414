//! The SQLite path: a batch applied row by row inside one `IMMEDIATE`
//! transaction (SQLite runs in-process).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use ioc_core::{Dossier, Source};

use super::{
    AfterApply, ChangeBody, DossierRow, MayWrite, Outcome, Step, collect_outcomes, decide, rounds,
};
use crate::StoreError;
use crate::schema::{dossier_changes, dossiers};

/// [`super::apply_then`] on SQLite.
pub(super) fn apply(
    sqlite: &mut SqliteConnection,
    source: &Source,
    versions: &[Dossier],
    recorded_at: NaiveDateTime,
    may_write: MayWrite<'_>,
    then: Option<&dyn AfterApply>,
) -> Result<Vec<Outcome>, StoreError> {
    // IMMEDIATE takes the write lock up front: two deferred transactions
    // that both read and then write would make one fail with "busy".
    sqlite.immediate_transaction(|c| {
        let outcomes = apply_rows(c, source, versions, recorded_at, may_write)?;
        if let Some(then) = then {
            then.sqlite(c, &outcomes)?;
        }
        Ok(outcomes)
    })
}

/// Applies `versions` row by row, in the caller's transaction.
fn apply_rows(
    conn: &mut SqliteConnection,
    source: &Source,
    versions: &[Dossier],
    recorded_at: NaiveDateTime,
    may_write: MayWrite<'_>,
) -> Result<Vec<Outcome>, StoreError> {
    let mut outcomes: Vec<Option<Outcome>> = vec![None; versions.len()];
    let mut changes = Vec::new();
    for round in rounds(versions) {
        let codes: Vec<&str> = round.iter().map(|&i| versions[i].code.as_str()).collect();
        let mut stored: HashMap<String, (i64, DossierRow)> = HashMap::with_capacity(codes.len());
        for chunk in codes.chunks(SQLITE_VARIABLES / 2) {
            let rows = dossiers::table
                .filter(dossiers::source.eq(source.as_str()))
                .filter(dossiers::code.eq_any(chunk))
                .select((dossiers::id, DossierRow::as_select()))
                .load::<(i64, DossierRow)>(conn)?;
            stored.extend(
                rows.into_iter()
                    .map(|(id, row)| (row.code.clone(), (id, row))),
            );
        }
        let mut inserts = Vec::new();
        for &i in &round {
            let found = stored
                .get(versions[i].code.as_str())
                .map(|(id, row)| (*id, row));
            match decide(source, &versions[i], found, may_write)? {
                Step::Skip(outcome) => outcomes[i] = Some(outcome),
                Step::Insert(new) => inserts.push((i, new)),
                Step::Update { id, old, new } => {
                    diesel::update(dossiers::table.find(id))
                        .set(&new)
                        .execute(conn)?;
                    outcomes[i] = Some(Outcome::Updated);
                    changes.push(ChangeBody::new(recorded_at, Some(&old), new));
                }
            }
        }
        for chunk in inserts.chunks(SQLITE_VARIABLES / DOSSIER_COLUMNS) {
            let rows: Vec<&DossierRow> = chunk.iter().map(|(_, row)| row).collect();
            diesel::insert_into(dossiers::table)
                .values(rows)
                .execute(conn)?;
        }
        for (i, row) in inserts {
            outcomes[i] = Some(Outcome::Inserted);
            changes.push(ChangeBody::new(recorded_at, None, row));
        }
    }
    for chunk in changes.chunks(SQLITE_VARIABLES / CHANGE_COLUMNS) {
        diesel::insert_into(dossier_changes::table)
            .values(chunk)
            .execute(conn)?;
    }
    collect_outcomes(outcomes)
}

/// Bind variables SQLite accepts in one statement.
const SQLITE_VARIABLES: usize = 32_766;
/// Columns of a dossier row written by an insert.
const DOSSIER_COLUMNS: usize = 14;
/// Columns of a change row written by an insert.
const CHANGE_COLUMNS: usize = 27;
