//! The reject file: one JSON object per refused record, cut back on resume
//! to what committed chunks wrote.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde_json::json;

use super::ImportError;
use crate::error::FieldError;

/// The reject file, cut back to what committed chunks wrote.
pub(super) struct RejectFile {
    path: PathBuf,
    file: std::io::BufWriter<File>,
}

impl RejectFile {
    /// Opens `path`, cut back to `committed_len` bytes, for appending.
    pub(super) fn open(path: &Path, committed_len: u64) -> Result<RejectFile, ImportError> {
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

    /// Appends the reject of record `number` (at `line`, if known).
    pub(super) fn write(
        &mut self,
        number: u64,
        line: Option<u64>,
        e: &FieldError,
    ) -> Result<(), ImportError> {
        let entry = json!({"record": number, "line": line, "code": e.code, "field": e.field, "error": e.error});
        writeln!(self.file, "{entry}").map_err(|cause| ImportError::Io {
            path: self.path.clone(),
            cause,
        })
    }

    /// Flushes to disk; returns the file's length.
    pub(super) fn sync(&mut self) -> Result<u64, ImportError> {
        let io = |cause| ImportError::Io {
            path: self.path.clone(),
            cause,
        };
        self.file.flush().map_err(io)?;
        self.file.get_ref().sync_data().map_err(io)?;
        self.file.get_ref().metadata().map(|m| m.len()).map_err(io)
    }

    /// Removes the file if nothing was rejected.
    pub(super) fn finish(mut self) -> Result<(), ImportError> {
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
