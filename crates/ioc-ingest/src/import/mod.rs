//! Bulk backfill from files: NDJSON or CSV in the native schema, or a DVCQG
//! JSON array/envelope. Records stream in constant memory and are applied
//! in chunks through the same version guard and change log as the HTTP
//! API. Each chunk commits together with a checkpoint, so an interrupted
//! run resumes after its last committed chunk and counts nothing twice.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ioc_core::{Dossier, LocalCalendar, Status, UnitTree};
use ioc_store::imports::{self, Checkpoint};
use ioc_store::{AnyConnection, StoreError};

use crate::batch::TimeBounds;
use crate::error::FieldError;

mod chunk;
mod formats;
mod reject;

use chunk::{Chunk, ChunkBuilder, commit};
use formats::{read_csv, read_dvcqg, read_ndjson};
use reject::RejectFile;

/// A file format `ioc import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One native JSON record per line.
    Ndjson,
    /// CSV with a header of native field names.
    Csv,
    /// A DVCQG `DongBoHoSoMC` body: a JSON array, or an envelope whose
    /// `madonvi` comes before `data`.
    Dvcqg,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw {
            "ndjson" => Ok(Format::Ndjson),
            "csv" => Ok(Format::Csv),
            "dvcqg" => Ok(Format::Dvcqg),
            other => Err(format!(
                "unknown format {other:?} (expected ndjson, csv or dvcqg)"
            )),
        }
    }
}

/// What an import needs besides the file.
pub struct ImportSpec<'a> {
    /// The source the records are written as.
    pub source: &'a ioc_core::Source,
    /// The file format.
    pub format: Format,
    /// The unit tree.
    pub tree: &'a UnitTree,
    /// Calendar of DVCQG local times.
    pub calendar: LocalCalendar,
    /// The source's own status codes (DVCQG).
    pub status_map: &'a HashMap<String, Status>,
    /// Records per transaction.
    pub chunk_size: usize,
    /// Where rejected records are written, one JSON object per line.
    pub rejects: PathBuf,
    /// Ignore a checkpoint and read the file from the start.
    pub restart: bool,
    /// The times accepted, as for the HTTP API.
    pub bounds: TimeBounds,
}

/// How an import ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// Totals over every run of this file, this one included.
    pub totals: Checkpoint,
    /// Records an earlier run had committed, skipped by this one.
    pub resumed_from: u64,
    /// An earlier run had imported the whole file; nothing was done.
    pub already_done: bool,
}

/// Why an import stopped before the end of the file. What was committed
/// stays committed, with its checkpoint.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file (or the reject file) could not be read or written.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        cause: std::io::Error,
    },
    /// The file cannot be read as its format at all from this point on.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line where known.
        message: String,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The reading side stopped because the applying side had failed.
    #[error("stopped after an earlier error")]
    Stopped,
}

/// A record read from the file: its 1-based number, its line where the
/// format has lines, and the version or the reason it is refused.
struct RecordAt {
    number: u64,
    line: Option<u64>,
    parsed: Result<Dossier, FieldError>,
}

/// A stable key of a file: its name, size and a hash of its first 64 KiB.
pub fn file_key(path: &Path) -> Result<String, std::io::Error> {
    let mut file = File::open(path)?;
    let size = file.metadata()?.len();
    let mut head = vec![0u8; 64 * 1024];
    let n = read_up_to(&mut file, &mut head)?;
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    Ok(format!(
        "{name}:{size}:{:016x}",
        ioc_core::hash::fnv1a(&head[..n])
    ))
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Imports `path` as `spec` says, reporting progress after each chunk.
pub fn import_file(
    conn: &mut AnyConnection,
    path: &Path,
    spec: &ImportSpec<'_>,
    progress: &mut dyn FnMut(&Checkpoint),
) -> Result<ImportSummary, ImportError> {
    let io = |cause| ImportError::Io {
        path: path.to_path_buf(),
        cause,
    };
    let key = file_key(path).map_err(io)?;
    if spec.restart {
        imports::forget(conn, spec.source.as_str(), &key)?;
    }
    let start = imports::checkpoint(conn, spec.source.as_str(), &key)?.unwrap_or_default();
    if start.finished {
        return Ok(ImportSummary {
            resumed_from: start.records,
            totals: start,
            already_done: true,
        });
    }
    let mut rejects = RejectFile::open(&spec.rejects, start.reject_bytes)?;
    let file = File::open(path).map_err(io)?;
    // Two threads: this one applies chunks while the reader parses the next
    // (two cores: parsing overlaps the database's work).
    let (sender, chunks) = std::sync::mpsc::sync_channel::<Chunk>(2);
    let mut checkpoint = start.clone();
    std::thread::scope(|scope| -> Result<(), ImportError> {
        // Owned here, so that an early return drops it and a reader blocked
        // on a full channel stops instead of waiting for ever.
        let chunks = chunks;
        let reader = scope.spawn(move || {
            let mut builder = ChunkBuilder {
                chunk_size: spec.chunk_size,
                skip: start.records,
                current: Chunk::default(),
                sender,
                bounds: spec.bounds,
            };
            let reader = BufReader::with_capacity(1 << 20, file);
            match spec.format {
                Format::Ndjson => read_ndjson(reader, path, spec, &mut |r| builder.push(r))?,
                Format::Csv => read_csv(reader, path, spec, &mut |r| builder.push(r))?,
                Format::Dvcqg => read_dvcqg(reader, path, spec, &mut |r| builder.push(r))?,
            }
            builder.send()
        });
        for chunk in chunks.iter() {
            checkpoint = commit(conn, spec, &key, &checkpoint, &mut rejects, chunk, false)?;
            progress(&checkpoint);
        }
        reader.join().map_err(|_| ImportError::Format {
            path: path.to_path_buf(),
            message: "the reader thread panicked".to_owned(),
        })?
    })?;
    checkpoint = commit(
        conn,
        spec,
        &key,
        &checkpoint,
        &mut rejects,
        Chunk::default(),
        true,
    )?;
    progress(&checkpoint);
    rejects.finish()?;
    Ok(ImportSummary {
        totals: checkpoint,
        resumed_from: start.records,
        already_done: false,
    })
}
