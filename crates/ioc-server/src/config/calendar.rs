//! `[calendar]`: the file of the public sector's working days.

use std::path::{Path, PathBuf};

use super::reader::Reader;

/// `[calendar]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarSettings {
    /// The working-day calendar file (days off and extra working days per year).
    pub file: PathBuf,
}

impl CalendarSettings {
    /// Reads `[calendar]`; a relative path is resolved against `base_dir`.
    pub(super) fn read(reader: &mut Reader, base_dir: &Path) -> CalendarSettings {
        CalendarSettings {
            file: reader.path("calendar.file", "calendar/vn-public-sector.toml", base_dir),
        }
    }
}
