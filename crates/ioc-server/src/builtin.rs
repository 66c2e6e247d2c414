//! The configuration and reference data built into the binary, so that
//! `ioc` runs from any directory and after `cargo install`: `config/` of the
//! repository as it was built. When no configuration file is given and
//! `config/base.toml` is not in the working directory, the settings are the
//! built-in defaults (the same as `config/base.toml`) and the reference files
//! they name are these copies, under paths that start with [`PREFIX`]; a path
//! set in the environment still names a file on disk.

use std::io;
use std::path::{Path, PathBuf};

/// Paths of built-in files start with this.
pub const PREFIX: &str = "builtin:";

/// The base of built-in paths, standing where a configuration file's
/// directory would.
pub fn base() -> &'static Path {
    Path::new(PREFIX)
}

/// Every file of `config/`, by its path under it.
const FILES: &[(&str, &str)] = &[
    ("alerts.toml", include_str!("../../../config/alerts.toml")),
    ("base.toml", include_str!("../../../config/base.toml")),
    (
        "calendar/vn-public-sector.toml",
        include_str!("../../../config/calendar/vn-public-sector.toml"),
    ),
    (
        "campaigns/binh_phuoc_92_days_2022.toml",
        include_str!("../../../config/campaigns/binh_phuoc_92_days_2022.toml"),
    ),
    (
        "procedures/sample_catalog.csv",
        include_str!("../../../config/procedures/sample_catalog.csv"),
    ),
    (
        "scoring/partial_766.toml",
        include_str!("../../../config/scoring/partial_766.toml"),
    ),
    (
        "units/binh_phuoc.csv",
        include_str!("../../../config/units/binh_phuoc.csv"),
    ),
    (
        "units/binh_phuoc_aliases.csv",
        include_str!("../../../config/units/binh_phuoc_aliases.csv"),
    ),
    (
        "units/binh_phuoc_departments.csv",
        include_str!("../../../config/units/binh_phuoc_departments.csv"),
    ),
    (
        "units/binh_phuoc_former_names.csv",
        include_str!("../../../config/units/binh_phuoc_former_names.csv"),
    ),
    (
        "units/dong_nai_predecessors.csv",
        include_str!("../../../config/units/dong_nai_predecessors.csv"),
    ),
    (
        "units/dong_nai_versions.csv",
        include_str!("../../../config/units/dong_nai_versions.csv"),
    ),
];

/// The built-in path of `relative` (a path under `config/`).
pub fn path(relative: &str) -> PathBuf {
    base().join(relative)
}

/// The text of a reference file: the built-in copy for a built-in path,
/// else the file on disk.
pub fn read_to_string(path: &Path) -> io::Result<String> {
    match path.to_str().and_then(|p| p.strip_prefix(PREFIX)) {
        Some(relative) => {
            let relative = relative.trim_start_matches('/');
            FILES
                .iter()
                .find(|(name, _)| *name == relative)
                .map(|(_, text)| (*text).to_owned())
                .ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("no built-in file {relative:?}"),
                    )
                })
        }
        None => std::fs::read_to_string(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file under `config/`, as a path relative to it.
    fn config_files(dir: &Path, under: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("config dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                config_files(&path, under, out);
            } else {
                let relative = path.strip_prefix(under).expect("under config");
                out.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }

    #[test]
    fn every_file_of_config_is_built_in_as_it_is() {
        let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
        let mut on_disk = Vec::new();
        config_files(&config, &config, &mut on_disk);
        on_disk.sort();
        let built_in: Vec<String> = FILES.iter().map(|(name, _)| (*name).to_owned()).collect();
        assert_eq!(built_in, on_disk, "add the new file of config/ to FILES");
        for (name, text) in FILES {
            let disk = std::fs::read_to_string(config.join(name)).expect("file");
            assert_eq!(*text, disk, "{name}");
        }
    }

    #[test]
    fn built_in_paths_read_the_copies_and_others_the_disk() {
        let units = read_to_string(&path("units/binh_phuoc.csv")).expect("built in");
        assert!(units.contains("code,name,level,parent_code"));
        assert!(read_to_string(&path("units/nowhere.csv")).is_err());
        assert!(read_to_string(Path::new("/nonexistent/units.csv")).is_err());
    }
}
