//! `[campaigns]`: the campaign files.

use std::path::{Path, PathBuf};

use super::reader::Reader;

/// `[campaigns]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignSettings {
    /// Campaign files.
    pub files: Vec<PathBuf>,
}

impl CampaignSettings {
    /// Reads `[campaigns]`; relative paths are resolved against `base_dir`.
    pub(super) fn read(reader: &mut Reader, base_dir: &Path) -> CampaignSettings {
        CampaignSettings {
            files: reader.paths(
                "campaigns.files",
                &["campaigns/binh_phuoc_92_days_2022.toml"],
                base_dir,
            ),
        }
    }
}
