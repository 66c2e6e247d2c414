//! `[units]`: the unit levels, the unit tree files, and the files of units
//! through reforms.

use std::path::{Path, PathBuf};

use ioc_core::Levels;

use super::reader::Reader;

/// `[units]`
#[derive(Debug, Clone)]
pub struct UnitSettings {
    /// Levels, top first.
    pub levels: Levels,
    /// Unit CSV files.
    pub files: Vec<PathBuf>,
    /// Former-name CSV files.
    pub former_names: Vec<PathBuf>,
    /// Alias CSV files.
    pub aliases: Vec<PathBuf>,
    /// Load the files into the store when `serve` starts.
    pub load_on_start: bool,
    /// Unit version CSV files (units through reforms), checked by
    /// `ioc config check`.
    pub versions: Vec<PathBuf>,
    /// Predecessor edge CSV files between those versions.
    pub edges: Vec<PathBuf>,
}

impl UnitSettings {
    /// Reads `[units]`; relative paths are resolved against `base_dir`.
    pub(super) fn read(reader: &mut Reader, base_dir: &Path) -> UnitSettings {
        let levels = reader.list(
            "units.levels",
            &["province", "department", "district", "commune"],
        );
        let levels = Levels::parse(&levels).unwrap_or_else(|e| {
            reader.problem("units.levels", e);
            Levels::parse(&["province"]).expect("invariant: a one-level list is valid")
        });
        let files = reader.paths(
            "units.files",
            &["units/binh_phuoc.csv", "units/binh_phuoc_departments.csv"],
            base_dir,
        );
        let former_names = reader.paths(
            "units.former_names",
            &["units/binh_phuoc_former_names.csv"],
            base_dir,
        );
        let aliases = reader.paths("units.aliases", &["units/binh_phuoc_aliases.csv"], base_dir);
        let load_on_start = reader.boolean("units.load_on_start", true);
        let versions = reader.paths("units.versions", &[], base_dir);
        let edges = reader.paths("units.edges", &[], base_dir);
        UnitSettings {
            levels,
            files,
            former_names,
            aliases,
            load_on_start,
            versions,
            edges,
        }
    }
}
