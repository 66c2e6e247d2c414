//! `[procedures]`: the procedure catalog files.

use std::path::{Path, PathBuf};

use super::reader::Reader;

/// `[procedures]`
#[derive(Debug, Clone)]
pub struct ProcedureSettings {
    /// Catalog CSV files.
    pub files: Vec<PathBuf>,
    /// Load the files into the store when `serve` starts.
    pub load_on_start: bool,
}

impl ProcedureSettings {
    /// Reads `[procedures]`; relative paths are resolved against `base_dir`.
    pub(super) fn read(reader: &mut Reader, base_dir: &Path) -> ProcedureSettings {
        let files = reader.paths(
            "procedures.files",
            &["procedures/sample_catalog.csv"],
            base_dir,
        );
        let load_on_start = reader.boolean("procedures.load_on_start", true);
        ProcedureSettings {
            files,
            load_on_start,
        }
    }
}
