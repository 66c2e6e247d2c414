//! Bulk backfill from files: NDJSON or CSV in the native schema, or a DVCQG
//! JSON array/envelope. Records stream in constant memory and are applied
//! in chunks through the same version guard and change log as the HTTP
//! API. Each chunk commits together with a checkpoint, so an interrupted
//! run resumes after its last committed chunk and counts nothing twice.

use std::collections::HashMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::Utc;
use ioc_core::{Dossier, LocalCalendar, Status, UnitTree};
use ioc_store::imports::{self, Checkpoint, ChunkProgress};
use ioc_store::{AnyConnection, StoreError};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::json;

use crate::batch::{TimeBounds, consistent};
use crate::dvcqg;
use crate::error::FieldError;
use crate::native::{self, Raw, Record};
use crate::wire::ElementSeed;

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
    pub source: &'a str,
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
        imports::forget(conn, spec.source, &key)?;
    }
    let start = imports::checkpoint(conn, spec.source, &key)?.unwrap_or_default();
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

/// Records read since the last chunk: versions to apply and rejects.
#[derive(Default)]
struct Chunk {
    versions: Vec<Dossier>,
    rejects: Vec<(u64, Option<u64>, FieldError)>,
    consumed: u64,
}

/// Groups records into chunks (after skipping those already committed)
/// and hands them to the applying thread.
struct ChunkBuilder {
    chunk_size: usize,
    skip: u64,
    current: Chunk,
    sender: std::sync::mpsc::SyncSender<Chunk>,
    bounds: TimeBounds,
}

impl ChunkBuilder {
    fn push(&mut self, record: RecordAt) -> Result<(), ImportError> {
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
    fn send(&mut self) -> Result<(), ImportError> {
        if self.current.consumed == 0 {
            return Ok(());
        }
        let chunk = std::mem::take(&mut self.current);
        self.sender.send(chunk).map_err(|_| ImportError::Stopped)
    }
}

/// Writes a chunk's rejects, then applies its versions together with the
/// checkpoint after it.
fn commit(
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

/// The reject file, cut back to what committed chunks wrote.
struct RejectFile {
    path: PathBuf,
    file: std::io::BufWriter<File>,
}

impl RejectFile {
    fn open(path: &Path, committed_len: u64) -> Result<RejectFile, ImportError> {
        let io = |cause| ImportError::Io {
            path: path.to_path_buf(),
            cause,
        };
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(path)
            .map_err(io)?;
        file.set_len(committed_len).map_err(io)?;
        file.seek(SeekFrom::End(0)).map_err(io)?;
        Ok(RejectFile {
            path: path.to_path_buf(),
            file: std::io::BufWriter::new(file),
        })
    }

    fn write(&mut self, number: u64, line: Option<u64>, e: &FieldError) -> Result<(), ImportError> {
        let entry = json!({"record": number, "line": line, "code": e.code, "field": e.field, "error": e.error});
        writeln!(self.file, "{entry}").map_err(|cause| ImportError::Io {
            path: self.path.clone(),
            cause,
        })
    }

    /// Flushes to disk; returns the file's length.
    fn sync(&mut self) -> Result<u64, ImportError> {
        let io = |cause| ImportError::Io {
            path: self.path.clone(),
            cause,
        };
        self.file.flush().map_err(io)?;
        self.file.get_ref().sync_data().map_err(io)?;
        self.file.get_ref().metadata().map(|m| m.len()).map_err(io)
    }

    /// Removes the file if nothing was rejected.
    fn finish(mut self) -> Result<(), ImportError> {
        if self.sync()? == 0 {
            match std::fs::remove_file(&self.path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(ImportError::Io {
                        path: self.path.clone(),
                        cause: e,
                    });
                }
                _ => {}
            }
        }
        Ok(())
    }
}

type Sink<'a> = dyn FnMut(RecordAt) -> Result<(), ImportError> + 'a;

fn read_ndjson(
    reader: impl BufRead,
    path: &Path,
    spec: &ImportSpec<'_>,
    sink: &mut Sink<'_>,
) -> Result<(), ImportError> {
    let mut number = 0;
    for (i, line) in reader.split(b'\n').enumerate() {
        let line = line.map_err(|cause| ImportError::Io {
            path: path.to_path_buf(),
            cause,
        })?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        number += 1;
        let parsed = native::ndjson_line(&line).and_then(|e| native::from_element(&e, spec.tree));
        sink(RecordAt {
            number,
            line: Some(i as u64 + 1),
            parsed,
        })?;
    }
    Ok(())
}

struct CsvRecord<'a> {
    header: &'a csv::StringRecord,
    row: &'a csv::StringRecord,
}

impl Record for CsvRecord<'_> {
    fn get(&self, field: &str) -> Raw<'_> {
        match self
            .header
            .iter()
            .position(|h| h == field)
            .and_then(|i| self.row.get(i))
        {
            None | Some("") => Raw::Missing,
            Some(value) => Raw::Text(value),
        }
    }

    fn unknown_field(&self) -> Option<&str> {
        None // the header is checked once, before the first row
    }

    fn duplicate_field(&self) -> Option<&str> {
        None // likewise
    }
}

fn read_csv(
    reader: impl Read,
    path: &Path,
    spec: &ImportSpec<'_>,
    sink: &mut Sink<'_>,
) -> Result<(), ImportError> {
    let format_error = |message: String| ImportError::Format {
        path: path.to_path_buf(),
        message,
    };
    let mut csv = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(reader);
    let header = csv
        .headers()
        .map_err(|e| format_error(format!("cannot read the CSV header: {e}")))?
        .clone();
    if let Some(unknown) = header.iter().find(|h| !native::FIELDS.contains(h)) {
        return Err(format_error(format!(
            "line 1: unknown column {unknown:?} (columns: {})",
            native::FIELDS.join(", ")
        )));
    }
    let mut row = csv::StringRecord::new();
    let mut number = 0;
    loop {
        let line = csv.position().line();
        let parsed = match csv.read_record(&mut row) {
            Ok(false) => return Ok(()),
            Ok(true) => native::from_record(
                &CsvRecord {
                    header: &header,
                    row: &row,
                },
                spec.tree,
            ),
            Err(e) if e.is_io_error() => return Err(format_error(e.to_string())),
            Err(e) => Err(FieldError::new(
                None,
                "(record)",
                format!("unreadable CSV row: {e}"),
            )),
        };
        number += 1;
        sink(RecordAt {
            number,
            line: Some(line),
            parsed,
        })?;
    }
}

fn read_dvcqg(
    reader: impl Read,
    path: &Path,
    spec: &ImportSpec<'_>,
    sink: &mut Sink<'_>,
) -> Result<(), ImportError> {
    let cx = dvcqg::Context {
        tree: spec.tree,
        calendar: spec.calendar,
        status_map: spec.status_map,
    };
    let mut stopped: Option<ImportError> = None;
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let mut state = DvcqgStream {
        cx: &cx,
        sink,
        stopped: &mut stopped,
        unit: None,
        number: 0,
    };
    let parsed = de::Deserializer::deserialize_any(&mut deserializer, &mut state)
        .and_then(|()| deserializer.end());
    if let Some(e) = stopped {
        return Err(e);
    }
    parsed.map_err(|e| ImportError::Format {
        path: path.to_path_buf(),
        message: format!("not a DVCQG JSON array or envelope: {e}"),
    })
}

/// Streams the elements of a DVCQG array (or an envelope's `data`) to the
/// sink one at a time.
struct DvcqgStream<'a, 'b> {
    cx: &'a dvcqg::Context<'a>,
    sink: &'a mut Sink<'b>,
    stopped: &'a mut Option<ImportError>,
    unit: Option<String>,
    number: u64,
}

impl<'de> Visitor<'de> for &mut DvcqgStream<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of DVCQG records or an envelope with `data`")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(value) = seq.next_element_seed(ElementSeed(&dvcqg::DOSSIER))? {
            self.number += 1;
            let parsed = dvcqg::dossier(&value, self.unit.as_deref(), self.cx);
            let record = RecordAt {
                number: self.number,
                line: None,
                parsed,
            };
            if let Err(e) = (self.sink)(record) {
                *self.stopped = Some(e);
                return Err(de::Error::custom("stopped"));
            }
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "data" => map.next_value_seed(&mut *self)?,
                "madonvi" => self.unit = map.next_value::<Option<String>>()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for &mut DvcqgStream<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}
