//! Checkpoints of `ioc import`: how far into a file the committed chunks
//! reach, written in the same transaction as each chunk.

use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use ioc_core::{Dossier, Source};

use crate::dossiers::{AfterApply, Outcome, Tally, apply_then};
use crate::schema::import_checkpoints;
use crate::time::to_db;
use crate::{AnyConnection, StoreError};

/// Progress of one file imported as one source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checkpoint {
    /// Records consumed (applied or rejected).
    pub records: u64,
    /// Accepted so far.
    pub accepted: u64,
    /// Duplicates so far.
    pub duplicates: u64,
    /// Stale so far.
    pub stale: u64,
    /// Rejected so far.
    pub rejected: u64,
    /// Length of the reject file after the last committed chunk.
    pub reject_bytes: u64,
    /// Whether the whole file was consumed.
    pub finished: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = import_checkpoints)]
struct CheckpointRow {
    source: String,
    file_key: String,
    records: i64,
    accepted: i64,
    duplicates: i64,
    stale: i64,
    rejected: i64,
    reject_bytes: i64,
    finished: bool,
    updated_at: chrono::NaiveDateTime,
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl CheckpointRow {
    fn new(source: &str, file_key: &str, cp: &Checkpoint, at: DateTime<Utc>) -> Self {
        CheckpointRow {
            source: source.to_owned(),
            file_key: file_key.to_owned(),
            records: signed(cp.records),
            accepted: signed(cp.accepted),
            duplicates: signed(cp.duplicates),
            stale: signed(cp.stale),
            rejected: signed(cp.rejected),
            reject_bytes: signed(cp.reject_bytes),
            finished: cp.finished,
            updated_at: to_db(at),
        }
    }
}

/// The checkpoint of `file_key` imported as `source`, if a run committed one.
pub fn checkpoint(
    conn: &mut AnyConnection,
    source: &str,
    file_key: &str,
) -> Result<Option<Checkpoint>, StoreError> {
    let row: Option<CheckpointRow> = import_checkpoints::table
        .filter(import_checkpoints::source.eq(source))
        .filter(import_checkpoints::file_key.eq(file_key))
        .select(CheckpointRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(|r| Checkpoint {
        records: unsigned(r.records),
        accepted: unsigned(r.accepted),
        duplicates: unsigned(r.duplicates),
        stale: unsigned(r.stale),
        rejected: unsigned(r.rejected),
        reject_bytes: unsigned(r.reject_bytes),
        finished: r.finished,
    }))
}

/// What one chunk of a file consumed, apart from the versions it applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkProgress {
    /// Records read in the chunk (applied or rejected).
    pub consumed: u64,
    /// Of those, rejected before reaching the store.
    pub rejected: u64,
    /// Length of the reject file after the chunk's rejects were written.
    pub reject_bytes: u64,
    /// Whether the chunk ends the file.
    pub finished: bool,
}

/// Applies one chunk of file `file_key` and, in the same transaction,
/// records the checkpoint after it: `before` plus the chunk. Returns the
/// new checkpoint.
pub fn apply_chunk(
    conn: &mut AnyConnection,
    (source, file_key): (&Source, &str),
    versions: &[Dossier],
    before: &Checkpoint,
    chunk: ChunkProgress,
    recorded_at: DateTime<Utc>,
) -> Result<Checkpoint, StoreError> {
    let after = |outcomes: &[Outcome]| {
        let mut next = before.clone();
        next.records += chunk.consumed;
        next.rejected += chunk.rejected;
        next.reject_bytes = chunk.reject_bytes;
        next.finished = chunk.finished;
        let tally = Tally::of(outcomes);
        next.accepted += tally.accepted;
        next.duplicates += tally.duplicates;
        next.stale += tally.stale;
        next
    };
    let row = |outcomes: &[Outcome]| {
        CheckpointRow::new(source.as_str(), file_key, &after(outcomes), recorded_at)
    };
    let write = WriteCheckpoint { row: &row };
    let outcomes = apply_then(conn, source, versions, recorded_at, &|_| true, Some(&write))?;
    Ok(after(&outcomes))
}

/// Writes the checkpoint made by `row` from a chunk's outcomes, in the
/// chunk's transaction.
struct WriteCheckpoint<'a> {
    row: &'a dyn Fn(&[Outcome]) -> CheckpointRow,
}

impl AfterApply for WriteCheckpoint<'_> {
    fn postgres(&self, pg: &mut PgConnection, outcomes: &[Outcome]) -> Result<(), StoreError> {
        let row = (self.row)(outcomes);
        diesel::insert_into(import_checkpoints::table)
            .values(&row)
            .on_conflict((import_checkpoints::source, import_checkpoints::file_key))
            .do_update()
            .set(&row)
            .execute(pg)?;
        Ok(())
    }

    fn sqlite(
        &self,
        sqlite: &mut SqliteConnection,
        outcomes: &[Outcome],
    ) -> Result<(), StoreError> {
        diesel::replace_into(import_checkpoints::table)
            .values((self.row)(outcomes))
            .execute(sqlite)?;
        Ok(())
    }
}

/// Forgets the checkpoint, so that the next run reads the file from the start.
pub fn forget(conn: &mut AnyConnection, source: &str, file_key: &str) -> Result<(), StoreError> {
    diesel::delete(
        import_checkpoints::table
            .filter(import_checkpoints::source.eq(source))
            .filter(import_checkpoints::file_key.eq(file_key)),
    )
    .execute(conn)?;
    Ok(())
}
