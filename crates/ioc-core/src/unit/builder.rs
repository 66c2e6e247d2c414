//! Building a unit tree: reading units, former names and aliases from CSV
//! files, then checking them together and reporting every problem at once.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use chrono::NaiveDate;

use super::code::{AliasSystem, UnitCode};
use super::name::name_key;
use super::tree::{FormerName, Levels, Unit, UnitTree};
use crate::reference::{CsvRow, ReferenceError, ReferenceErrors, read_csv};

/// Longest unit name accepted, in characters.
pub const MAX_NAME_LEN: usize = 200;

/// A value with the file and line it was read from.
#[derive(Debug, Clone)]
pub(super) struct Located<T> {
    pub(super) file: String,
    pub(super) line: u64,
    pub(super) value: T,
}

/// The fields of a unit row (`code`, `name`, `level`, `parent_code`), each
/// checked against `levels`; every problem goes to `err`.
pub(super) fn unit_fields(
    row: &CsvRow,
    levels: &Levels,
    mut err: impl FnMut(&str, String),
) -> Option<(UnitCode, String, String, Option<UnitCode>)> {
    let code = UnitCode::parse(row.get("code")).map_err(|e| err("code", format!("unit code {e}")));
    let name = check_name(row.get("name")).map_err(|e| err("name", e));
    let level = row.get("level");
    let level = if levels.rank(level).is_some() {
        Ok(level.to_owned())
    } else {
        let known = levels.names().join(", ");
        err(
            "level",
            format!("unknown level {level:?} (levels: {known})"),
        );
        Err(())
    };
    let parent = match row.get("parent_code") {
        "" => Ok(None),
        raw => UnitCode::parse(raw)
            .map(Some)
            .map_err(|e| err("parent_code", format!("parent code {e}"))),
    };
    match (code, name, level, parent) {
        (Ok(code), Ok(name), Ok(level), Ok(parent)) => Some((code, name, level, parent)),
        _ => None,
    }
}

/// Reads units, former names and aliases from CSV files and checks them
/// together; every problem found is reported at once by [`build`](Self::build).
pub struct UnitTreeBuilder {
    levels: Levels,
    units: Vec<Located<Unit>>,
    former_names: Vec<Located<(UnitCode, FormerName)>>,
    aliases: Vec<Located<(UnitCode, AliasSystem, String)>>,
    errors: Vec<ReferenceError>,
}

/// Columns of a units file.
pub const UNIT_COLUMNS: [&str; 4] = ["code", "name", "level", "parent_code"];
/// Columns of a former-names file.
pub const FORMER_NAME_COLUMNS: [&str; 4] = ["code", "name", "valid_from", "valid_to"];
/// Columns of an aliases file.
pub const ALIAS_COLUMNS: [&str; 3] = ["code", "system", "alias"];

impl UnitTreeBuilder {
    /// A builder for a tree with `levels`.
    pub fn new(levels: Levels) -> Self {
        Self {
            levels,
            units: Vec::new(),
            former_names: Vec::new(),
            aliases: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Adds one unit read from `origin` (line `line`); its former names and
    /// aliases are added with [`add_former_name`](Self::add_former_name)
    /// and [`add_alias`](Self::add_alias).
    pub fn add_unit(&mut self, origin: &str, line: u64, unit: Unit) -> &mut Self {
        self.units.push(Located {
            file: origin.to_owned(),
            line,
            value: unit,
        });
        self
    }

    /// Adds a former name of unit `code`.
    pub fn add_former_name(
        &mut self,
        origin: &str,
        line: u64,
        code: UnitCode,
        name: FormerName,
    ) -> &mut Self {
        self.former_names.push(Located {
            file: origin.to_owned(),
            line,
            value: (code, name),
        });
        self
    }

    /// Adds an alias of unit `code` in `system`.
    pub fn add_alias(
        &mut self,
        origin: &str,
        line: u64,
        code: UnitCode,
        system: AliasSystem,
        alias: String,
    ) -> &mut Self {
        self.aliases.push(Located {
            file: origin.to_owned(),
            line,
            value: (code, system, alias),
        });
        self
    }

    /// Reads a units CSV (`code,name,level,parent_code`) named `file`.
    pub fn read_units(&mut self, file: &str, input: impl Read) -> &mut Self {
        for (line, row) in read_csv(file, input, &UNIT_COLUMNS, &mut self.errors) {
            let mut err = |field: &str, message: String| {
                self.errors
                    .push(ReferenceError::new(file, line, Some(field), message));
            };
            if let Some((code, name, level, parent)) = unit_fields(&row, &self.levels, &mut err) {
                let unit = Unit {
                    code,
                    name,
                    level,
                    parent,
                    former_names: Vec::new(),
                    aliases: Vec::new(),
                };
                self.add_unit(file, line, unit);
            }
        }
        self
    }

    /// Reads a former-names CSV (`code,name,valid_from,valid_to`, dates
    /// `YYYY-MM-DD`, `valid_to` exclusive, `valid_from` may be empty).
    pub fn read_former_names(&mut self, file: &str, input: impl Read) -> &mut Self {
        for (line, row) in read_csv(file, input, &FORMER_NAME_COLUMNS, &mut self.errors) {
            let mut err = |field: &str, message: String| {
                self.errors
                    .push(ReferenceError::new(file, line, Some(field), message));
            };
            let code =
                UnitCode::parse(row.get("code")).map_err(|e| err("code", format!("unit code {e}")));
            let name = check_name(row.get("name")).map_err(|e| err("name", e));
            let valid_from = match row.get("valid_from") {
                "" => Ok(None),
                raw => parse_date(raw).map(Some).map_err(|e| err("valid_from", e)),
            };
            let valid_to = parse_date(row.get("valid_to")).map_err(|e| err("valid_to", e));
            if let (Ok(code), Ok(name), Ok(valid_from), Ok(valid_to)) =
                (code, name, valid_from, valid_to)
            {
                if valid_from.is_some_and(|from| from >= valid_to) {
                    err("valid_to", format!("{valid_to} is not after valid_from"));
                    continue;
                }
                let former = FormerName {
                    name,
                    valid_from,
                    valid_to,
                };
                self.add_former_name(file, line, code, former);
            }
        }
        self
    }

    /// Reads an aliases CSV (`code,system,alias`).
    pub fn read_aliases(&mut self, file: &str, input: impl Read) -> &mut Self {
        for (line, row) in read_csv(file, input, &ALIAS_COLUMNS, &mut self.errors) {
            let mut err = |field: &str, message: String| {
                self.errors
                    .push(ReferenceError::new(file, line, Some(field), message));
            };
            let code =
                UnitCode::parse(row.get("code")).map_err(|e| err("code", format!("unit code {e}")));
            let system = AliasSystem::parse(row.get("system")).map_err(|e| err("system", e));
            let alias = check_name(row.get("alias")).map_err(|e| err("alias", e));
            if let (Ok(code), Ok(system), Ok(alias)) = (code, system, alias) {
                self.add_alias(file, line, code, system, alias);
            }
        }
        self
    }

    /// Checks everything read and returns the tree, or every problem found.
    pub fn build(self) -> Result<UnitTree, ReferenceErrors> {
        let Self {
            levels,
            units,
            former_names,
            aliases,
            mut errors,
        } = self;
        let mut by_code: BTreeMap<UnitCode, Located<Unit>> = BTreeMap::new();
        for unit in units {
            if let Some(first) = by_code.get(&unit.value.code) {
                errors.push(ReferenceError::new(
                    &unit.file,
                    unit.line,
                    Some("code"),
                    format!(
                        "duplicate unit code {} (first defined at {}:{})",
                        unit.value.code, first.file, first.line
                    ),
                ));
            } else {
                by_code.insert(unit.value.code.clone(), unit);
            }
        }
        check_structure(&levels, &by_code, &mut errors);
        attach_former_names(&mut by_code, former_names, &mut errors);
        let alias_index = attach_aliases(&mut by_code, aliases, &mut errors);
        if !errors.is_empty() {
            errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
            return Err(ReferenceErrors(errors));
        }
        let units: BTreeMap<UnitCode, Unit> =
            by_code.into_iter().map(|(c, u)| (c, u.value)).collect();
        let mut children: HashMap<UnitCode, Vec<UnitCode>> = HashMap::new();
        for unit in units.values() {
            if let Some(parent) = &unit.parent {
                children
                    .entry(parent.clone())
                    .or_default()
                    .push(unit.code.clone());
            }
        }
        let mut names: HashMap<String, Vec<UnitCode>> = HashMap::new();
        for unit in units.values() {
            let all = std::iter::once(&unit.name).chain(unit.former_names.iter().map(|n| &n.name));
            for name in all {
                let codes = names.entry(name_key(name)).or_default();
                if !codes.contains(&unit.code) {
                    codes.push(unit.code.clone());
                }
            }
        }
        Ok(UnitTree {
            levels,
            units,
            children,
            aliases: alias_index,
            names,
        })
    }
}

/// Parents exist, the parent graph has no cycle, and levels descend.
fn check_structure(
    levels: &Levels,
    units: &BTreeMap<UnitCode, Located<Unit>>,
    errors: &mut Vec<ReferenceError>,
) {
    let mut in_cycle: Vec<&UnitCode> = Vec::new();
    for located in units.values() {
        let unit = &located.value;
        let at = |message: String| {
            ReferenceError::new(&located.file, located.line, Some("parent_code"), message)
        };
        let Some(parent_code) = &unit.parent else {
            if levels.rank(&unit.level) != Some(0) {
                errors.push(ReferenceError::new(
                    &located.file,
                    located.line,
                    Some("parent_code"),
                    format!(
                        "unit {} of level {} has no parent; only the top level ({}) may stand alone",
                        unit.code,
                        unit.level,
                        levels.names()[0]
                    ),
                ));
            }
            continue;
        };
        let Some(parent) = units.get(parent_code) else {
            errors.push(at(format!(
                "parent {parent_code} of unit {} is not defined",
                unit.code
            )));
            continue;
        };
        if let Some(cycle) = cycle_through(&unit.code, units) {
            if !in_cycle.contains(&&unit.code) {
                in_cycle.extend(units.keys().filter(|c| cycle.contains(c)));
                let path: Vec<&str> = cycle.iter().map(UnitCode::as_str).collect();
                errors.push(at(format!(
                    "the parent chain is a cycle: {}",
                    path.join(" → ")
                )));
            }
            continue;
        }
        if levels.rank(&parent.value.level) >= levels.rank(&unit.level) {
            errors.push(at(format!(
                "unit {} ({}) cannot be under {} ({}): a parent's level must come before its child's in [{}]",
                unit.code,
                unit.level,
                parent_code,
                parent.value.level,
                levels.names().join(", ")
            )));
        }
    }
}

/// The cycle `start` lies on, as a path that returns to `start`.
fn cycle_through(
    start: &UnitCode,
    units: &BTreeMap<UnitCode, Located<Unit>>,
) -> Option<Vec<UnitCode>> {
    let mut path = vec![start.clone()];
    let mut current = start;
    while let Some(parent) = units.get(current).and_then(|u| u.value.parent.as_ref()) {
        path.push(parent.clone());
        if parent == start {
            return Some(path);
        }
        if path.len() > units.len() + 1 {
            return None; // a cycle above `start`, reported from its own units
        }
        current = parent;
    }
    None
}

fn attach_former_names(
    units: &mut BTreeMap<UnitCode, Located<Unit>>,
    former_names: Vec<Located<(UnitCode, FormerName)>>,
    errors: &mut Vec<ReferenceError>,
) {
    for Located {
        file,
        line,
        value: (code, name),
    } in former_names
    {
        let Some(unit) = units.get_mut(&code) else {
            errors.push(ReferenceError::new(
                &file,
                line,
                Some("code"),
                format!("unit {code} is not defined"),
            ));
            continue;
        };
        let overlaps = unit.value.former_names.iter().any(|other| {
            other.valid_from.is_none_or(|f| f < name.valid_to)
                && name.valid_from.is_none_or(|f| f < other.valid_to)
        });
        if overlaps {
            errors.push(ReferenceError::new(
                &file,
                line,
                Some("valid_from"),
                format!("period overlaps another former name of unit {code}"),
            ));
            continue;
        }
        unit.value.former_names.push(name);
        unit.value.former_names.sort_by_key(|n| n.valid_to);
    }
}

fn attach_aliases(
    units: &mut BTreeMap<UnitCode, Located<Unit>>,
    aliases: Vec<Located<(UnitCode, AliasSystem, String)>>,
    errors: &mut Vec<ReferenceError>,
) -> HashMap<(AliasSystem, String), UnitCode> {
    let mut index: HashMap<(AliasSystem, String), (UnitCode, String, u64)> = HashMap::new();
    for Located {
        file,
        line,
        value: (code, system, alias),
    } in aliases
    {
        let Some(unit) = units.get_mut(&code) else {
            errors.push(ReferenceError::new(
                &file,
                line,
                Some("code"),
                format!("unit {code} is not defined"),
            ));
            continue;
        };
        if let Some((owner, first_file, first_line)) = index.get(&(system, alias.clone())) {
            errors.push(ReferenceError::new(
                &file,
                line,
                Some("alias"),
                format!(
                    "{} alias {alias:?} is already given to unit {owner} at {first_file}:{first_line}",
                    system.as_str()
                ),
            ));
            continue;
        }
        index.insert((system, alias.clone()), (code, file, line));
        unit.value.aliases.push((system, alias));
        unit.value.aliases.sort();
    }
    index
        .into_iter()
        .map(|(k, (code, _, _))| (k, code))
        .collect()
}

fn check_name(raw: &str) -> Result<String, String> {
    if raw.is_empty() {
        Err("is empty".to_owned())
    } else if raw.chars().count() > MAX_NAME_LEN {
        Err(format!("is longer than {MAX_NAME_LEN} characters"))
    } else {
        crate::text::check_plain(raw).map(|()| raw.to_owned())
    }
}

pub(super) fn parse_date(raw: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| format!("{raw:?} is not a date YYYY-MM-DD"))
}
