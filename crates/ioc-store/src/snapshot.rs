//! A consistent read of every dossier together with the position of the
//! change log it reflects, to rebuild in-memory aggregates.

use diesel::prelude::*;
use ioc_core::DossierState;

use crate::dossiers::DossierRow;
use crate::schema::{dossier_changes, dossiers};
use crate::{AnyConnection, StoreError};

/// How many of the latest sequence numbers are checked for gaps.
pub const RECENT_SEQS: i64 = 10_000;

/// The change log as of a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogPosition {
    /// The highest sequence number committed.
    pub max_seq: i64,
    /// The sequence numbers in `(max_seq − RECENT_SEQS, max_seq]` that are
    /// committed; a missing one may belong to a transaction still in flight.
    pub recent: Vec<i64>,
}

/// Calls `visit` with every stored dossier, in one read-only snapshot
/// (repeatable read on PostgreSQL), and returns the change-log position
/// that snapshot reflects.
pub fn read_all(
    conn: &mut AnyConnection,
    mut visit: impl FnMut(DossierState),
) -> Result<LogPosition, StoreError> {
    in_snapshot(conn, |conn| {
        let mut last_id = 0;
        loop {
            let page: Vec<(i64, DossierRow)> = dossiers::table
                .filter(dossiers::id.gt(last_id))
                .order(dossiers::id)
                .limit(50_000)
                .select((dossiers::id, DossierRow::as_select()))
                .load(conn)?;
            let Some((id, _)) = page.last() else {
                break;
            };
            last_id = *id;
            for (_, row) in page {
                visit(row.into_state()?);
            }
        }
        Ok(())
    })
}

/// Calls `visit` with every dossier that is neither finished nor stopped
/// and has a due time (a small part of all, read through a partial
/// index), in one snapshot; returns the change-log position it reflects.
pub fn read_open_with_due(
    conn: &mut AnyConnection,
    mut visit: impl FnMut(DossierState),
) -> Result<LogPosition, StoreError> {
    in_snapshot(conn, |conn| {
        let rows: Vec<DossierRow> = dossiers::table
            .filter(dossiers::finished_at.is_null())
            .filter(dossiers::stopped_at.is_null())
            .filter(dossiers::due_at.is_not_null())
            .select(DossierRow::as_select())
            .load(conn)?;
        for row in rows {
            visit(row.into_state()?);
        }
        Ok(())
    })
}

/// Runs `read` in one read-only snapshot and returns the log position.
fn in_snapshot(
    conn: &mut AnyConnection,
    read: impl FnOnce(&mut AnyConnection) -> Result<(), StoreError>,
) -> Result<LogPosition, StoreError> {
    let postgres = matches!(conn, AnyConnection::Postgresql(_));
    conn.transaction(|conn| {
        if postgres {
            diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(conn)?;
        }
        let max_seq = crate::changes::last_seq(conn)?;
        let recent: Vec<i64> = dossier_changes::table
            .filter(dossier_changes::seq.gt(max_seq - RECENT_SEQS))
            .order(dossier_changes::seq)
            .select(dossier_changes::seq)
            .load(conn)?;
        read(conn)?;
        Ok(LogPosition { max_seq, recent })
    })
}
