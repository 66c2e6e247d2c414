//! Reading the reference files named in the configuration.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use ioc_aggregate::alerts::AlertRules;
use ioc_aggregate::campaign::Campaign;
use ioc_aggregate::score::ScoreModel;

use ioc_core::unit::{UnitHistory, UnitHistoryBuilder};
use ioc_core::{
    Catalog, Levels, ReferenceError, ReferenceErrors, UnitTree, UnitTreeBuilder, WorkingCalendar,
};

use crate::builtin;
use crate::config::{ProcedureSettings, UnitSettings};

/// Reads and checks the unit tree; every problem in every file is reported.
pub fn read_unit_tree(settings: &UnitSettings) -> Result<UnitTree, ReferenceErrors> {
    let mut builder = UnitTreeBuilder::new(settings.levels.clone());
    let mut errors = Vec::new();
    for path in &settings.files {
        if let Some(input) = open(path, &mut errors) {
            builder.read_units(&path.display().to_string(), input.as_bytes());
        }
    }
    for path in &settings.former_names {
        if let Some(input) = open(path, &mut errors) {
            builder.read_former_names(&path.display().to_string(), input.as_bytes());
        }
    }
    for path in &settings.aliases {
        if let Some(input) = open(path, &mut errors) {
            builder.read_aliases(&path.display().to_string(), input.as_bytes());
        }
    }
    with_open_errors(builder.build(), errors)
}

/// Reads and checks the unit versions and their edges (`units.versions`,
/// `units.edges`); `None` when no versions are configured.
pub fn read_unit_history(settings: &UnitSettings) -> Result<Option<UnitHistory>, ReferenceErrors> {
    if settings.versions.is_empty() {
        return match settings.edges.first() {
            None => Ok(None),
            Some(edges) => Err(ReferenceErrors(vec![ReferenceError::new(
                &edges.display().to_string(),
                0,
                None,
                "units.edges is set without units.versions: edges join versions",
            )])),
        };
    }
    let mut builder = UnitHistoryBuilder::new(settings.levels.clone());
    let mut errors = Vec::new();
    for path in &settings.versions {
        if let Some(input) = open(path, &mut errors) {
            builder.read_versions(&path.display().to_string(), input.as_bytes());
        }
    }
    for path in &settings.edges {
        if let Some(input) = open(path, &mut errors) {
            builder.read_edges(&path.display().to_string(), input.as_bytes());
        }
    }
    with_open_errors(builder.build(), errors).map(Some)
}

/// Reads and checks the working-day calendar at `path`.
pub fn read_working_calendar(path: &Path) -> Result<WorkingCalendar, ReferenceErrors> {
    let mut errors = Vec::new();
    let Some(text) = open(path, &mut errors) else {
        return Err(ReferenceErrors(errors));
    };
    WorkingCalendar::parse(&path.display().to_string(), &text)
}

/// Reads and checks the procedure catalog against the unit `levels`.
pub fn read_catalog(
    levels: &Levels,
    settings: &ProcedureSettings,
) -> Result<Catalog, ReferenceErrors> {
    let mut errors = Vec::new();
    let inputs: Vec<(String, Cursor<String>)> = settings
        .files
        .iter()
        .filter_map(|path| {
            open(path, &mut errors).map(|text| (path.display().to_string(), Cursor::new(text)))
        })
        .collect();
    with_open_errors(Catalog::read(levels, inputs), errors)
}

/// What a builder made, failing as well when a file could not be opened;
/// the problems of both are reported together.
fn with_open_errors<T>(
    built: Result<T, ReferenceErrors>,
    mut errors: Vec<ReferenceError>,
) -> Result<T, ReferenceErrors> {
    match built {
        Ok(value) if errors.is_empty() => Ok(value),
        Ok(_) => Err(ReferenceErrors(errors)),
        Err(ReferenceErrors(more)) => {
            errors.extend(more);
            Err(ReferenceErrors(errors))
        }
    }
}

/// The text of `path` (built in or on disk), or a problem in `errors`.
fn open(path: &Path, errors: &mut Vec<ReferenceError>) -> Option<String> {
    match builtin::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) => {
            errors.push(ReferenceError::new(
                &path.display().to_string(),
                0,
                None,
                format!("cannot open: {e}"),
            ));
            None
        }
    }
}

/// Reads and checks the campaign files against the unit `levels`.
pub fn read_campaigns(files: &[PathBuf], levels: &Levels) -> Result<Vec<Campaign>, Vec<String>> {
    let mut campaigns: Vec<Campaign> = Vec::new();
    let mut problems = Vec::new();
    for path in files {
        let read = builtin::read_to_string(path)
            .map_err(|e| format!("cannot open: {e}"))
            .and_then(|text| {
                toml::from_str::<Campaign>(&text)
                    .map_err(|e| e.to_string().trim().replace('\n', " "))
            })
            .and_then(|c| c.check(levels.names()).map(|()| c));
        match read {
            Ok(c) if campaigns.iter().any(|other| other.id == c.id) => {
                problems.push(format!(
                    "{}: campaign id {:?} is used twice",
                    path.display(),
                    c.id
                ));
            }
            Ok(c) => campaigns.push(c),
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    if problems.is_empty() {
        Ok(campaigns)
    } else {
        Err(problems)
    }
}

/// Reads and checks the scoring model.
pub fn read_score_model(path: &Path) -> Result<ScoreModel, String> {
    let text = builtin::read_to_string(path)
        .map_err(|e| format!("{}: cannot open: {e}", path.display()))?;
    let model: ScoreModel = toml::from_str(&text).map_err(|e| {
        format!(
            "{}: {}",
            path.display(),
            e.to_string().trim().replace('\n', " ")
        )
    })?;
    model
        .check()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(model)
}

/// Reads and checks the alert rules against the unit `levels`; every
/// problem is reported at once.
pub fn read_alert_rules(path: &Path, levels: &Levels) -> Result<AlertRules, Vec<String>> {
    let at = |e: String| format!("{}: {e}", path.display());
    let text = builtin::read_to_string(path).map_err(|e| vec![at(format!("cannot open: {e}"))])?;
    let rules: AlertRules =
        toml::from_str(&text).map_err(|e| vec![at(e.to_string().trim().replace('\n', " "))])?;
    let problems = rules.check(levels.names());
    if problems.is_empty() {
        Ok(rules)
    } else {
        Err(problems.into_iter().map(at).collect())
    }
}
