//! Chunks: records grouped on the reading side, then committed on the
//! applying side together with the checkpoint after them.

use chrono::Utc;
use ioc_core::Dossier;
use ioc_store::AnyConnection;
use ioc_store::imports::{self, Checkpoint, ChunkProgress};

use super::reject::RejectFile;
use super::{ImportError, ImportSpec, RecordAt};
use crate::batch::{TimeBounds, consistent};
use crate::error::FieldError;

/// Records read since the last chunk: versions to apply and rejects.
#[derive(Default)]
pub(super) struct Chunk {
    versions: Vec<Dossier>,
    rejects: Vec<(u64, Option<u64>, FieldError)>,
    consumed: u64,
}

/// Groups records into chunks (after skipping those already committed)
/// and hands them to the applying thread.
pub(super) struct ChunkBuilder {
    pub(super) chunk_size: usize,
    pub(super) skip: u64,
    pub(super) current: Chunk,
    pub(super) sender: std::sync::mpsc::SyncSender<Chunk>,
    pub(super) bounds: TimeBounds,
}

impl ChunkBuilder {
    /// Takes one record: skipped when already committed, else kept or
    /// rejected; sends the chunk once it is full.
    pub(super) fn push(&mut self, record: RecordAt) -> Result<(), ImportError> {
        if self.skip > 0 {
            self.skip -= 1;
            return Ok(());
        }
        self.current.consumed += 1;
        let now = Utc::now();
        let bounds = self.bounds;
        match record.parsed.and_then(|d| {
            consistent(&d)
                .and_then(|()| bounds.check(&d, now))
                .map(|()| d)
        }) {
            Ok(dossier) => self.current.versions.push(dossier),
            Err(e) => self.current.rejects.push((record.number, record.line, e)),
        }
        if self.current.consumed as usize >= self.chunk_size {
            self.send()?;
        }
        Ok(())
    }

    /// Sends the current chunk, unless it is empty. Fails when the applying
    /// side has stopped (its error is the one reported).
    pub(super) fn send(&mut self) -> Result<(), ImportError> {
        if self.current.consumed == 0 {
            return Ok(());
        }
        let chunk = std::mem::take(&mut self.current);
        self.sender.send(chunk).map_err(|_| ImportError::Stopped)
    }
}

/// Writes a chunk's rejects, then applies its versions together with the
/// checkpoint after it.
pub(super) fn commit(
    conn: &mut AnyConnection,
    spec: &ImportSpec<'_>,
    key: &str,
    before: &Checkpoint,
    rejects: &mut RejectFile,
    chunk: Chunk,
    finished: bool,
) -> Result<Checkpoint, ImportError> {
    for (number, line, error) in &chunk.rejects {
        rejects.write(*number, *line, error)?;
    }
    let progress = ChunkProgress {
        consumed: chunk.consumed,
        rejected: chunk.rejects.len() as u64,
        reject_bytes: rejects.sync()?,
        finished,
    };
    Ok(imports::apply_chunk(
        conn,
        (spec.source, key),
        &chunk.versions,
        before,
        progress,
        Utc::now(),
    )?)
}
