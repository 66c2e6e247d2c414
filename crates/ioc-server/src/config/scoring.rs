//! `[scoring]`: the scoring model file.

use std::path::{Path, PathBuf};

use super::reader::Reader;

/// `[scoring]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoringSettings {
    /// The scoring model file.
    pub file: PathBuf,
}

impl ScoringSettings {
    /// Reads `[scoring]`; a relative path is resolved against `base_dir`.
    pub(super) fn read(reader: &mut Reader, base_dir: &Path) -> ScoringSettings {
        ScoringSettings {
            file: reader.path("scoring.file", "scoring/partial_766.toml", base_dir),
        }
    }
}
