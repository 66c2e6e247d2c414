//! The tree of administrative units (province, departments, districts,
//! communes). Codes are the stable key; names are effective-dated, so a
//! renamed unit keeps its code and its history; each unit may carry alias
//! codes from other systems. The levels are configured, so both the
//! three-level tree of 2022 and the two-level model of July 2025 load.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Read;

use chrono::NaiveDate;
use serde::Serialize;

use crate::reference::{ReferenceError, ReferenceErrors, read_csv};

/// Longest unit code accepted.
pub const MAX_CODE_LEN: usize = 32;
/// Longest unit name accepted, in characters.
pub const MAX_NAME_LEN: usize = 200;

/// The stable code of a unit, e.g. the GSO code `25432`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct UnitCode(String);

impl UnitCode {
    /// Parses a code: 1 to 32 characters of `A-Z a-z 0-9 . _ -`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("is empty".to_owned());
        }
        if raw.len() > MAX_CODE_LEN {
            return Err(format!("{raw:?} is longer than {MAX_CODE_LEN} characters"));
        }
        if let Some(bad) = raw
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(format!(
                "{raw:?} contains {bad:?}; a unit code is made of letters, digits, '.', '_' and '-'"
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The ordered levels of a unit tree, top first, e.g.
/// `province, department, district, commune`. A child's level comes after
/// its parent's level in this list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Levels(Vec<String>);

impl Levels {
    /// Checks that the list is non-empty, without repeats, and that each name
    /// is a lower-case identifier.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Self, String> {
        if names.is_empty() {
            return Err("no levels are configured".to_owned());
        }
        let mut levels: Vec<String> = Vec::with_capacity(names.len());
        for name in names {
            let name = name.as_ref();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                return Err(format!(
                    "level {name:?} must be a lower-case word (a-z and _)"
                ));
            }
            if levels.iter().any(|l| l == name) {
                return Err(format!("level {name:?} is listed twice"));
            }
            levels.push(name.to_owned());
        }
        Ok(Self(levels))
    }

    /// Position of `level` in the list (0 = top), if it is one.
    pub fn rank(&self, level: &str) -> Option<usize> {
        self.0.iter().position(|l| l == level)
    }

    /// The level names, top first.
    pub fn names(&self) -> &[String] {
        &self.0
    }
}

/// A code system other than ioc's own in which a unit is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AliasSystem {
    /// DVCQG agency code, e.g. `H44.07`.
    Dvcqg,
    /// E-government identifier (`MaDinhDanh`), e.g. `000.00.01.H22`.
    MaDinhDanh,
    /// The code of the province's one-stop-shop software.
    Local,
}

impl AliasSystem {
    /// Every alias system.
    pub const ALL: [AliasSystem; 3] = [
        AliasSystem::Dvcqg,
        AliasSystem::MaDinhDanh,
        AliasSystem::Local,
    ];

    /// Name used in files and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            AliasSystem::Dvcqg => "dvcqg",
            AliasSystem::MaDinhDanh => "ma_dinh_danh",
            AliasSystem::Local => "local",
        }
    }

    /// Parses the name used in files and the store.
    pub fn parse(raw: &str) -> Result<Self, String> {
        AliasSystem::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| {
                format!("unknown alias system {raw:?} (expected dvcqg, ma_dinh_danh or local)")
            })
    }
}

/// A name a unit bore before, for local days `[valid_from, valid_to)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormerName {
    /// The name, with its type prefix (e.g. "Huyện Chơn Thành").
    pub name: String,
    /// First day of the name; `None` = since before records began.
    pub valid_from: Option<NaiveDate>,
    /// First day the name no longer applied.
    pub valid_to: NaiveDate,
}

/// One administrative unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unit {
    /// Stable code.
    pub code: UnitCode,
    /// Current name, with its type prefix.
    pub name: String,
    /// Level, one of the tree's configured levels.
    pub level: String,
    /// Parent unit; `None` for a unit of the top level.
    pub parent: Option<UnitCode>,
    /// Earlier names, oldest first.
    pub former_names: Vec<FormerName>,
    /// Codes of this unit in other systems, sorted.
    pub aliases: Vec<(AliasSystem, String)>,
}

impl Unit {
    /// The name the unit bore on local day `date`.
    pub fn name_on(&self, date: NaiveDate) -> &str {
        self.former_names
            .iter()
            .find(|n| n.valid_from.is_none_or(|from| from <= date) && date < n.valid_to)
            .map_or(self.name.as_str(), |n| n.name.as_str())
    }
}

/// A validated unit tree: every parent exists, no cycles, levels descend.
#[derive(Debug, Clone)]
pub struct UnitTree {
    levels: Levels,
    units: BTreeMap<UnitCode, Unit>,
    children: HashMap<UnitCode, Vec<UnitCode>>,
    aliases: HashMap<(AliasSystem, String), UnitCode>,
    names: HashMap<String, Vec<UnitCode>>,
}

/// Why a unit reference did not resolve to exactly one unit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnresolvedUnit {
    /// No unit has that code, alias or name.
    #[error("unknown unit {0:?} (not a unit code, alias or name)")]
    Unknown(String),
    /// Several units bear that name.
    #[error("unit name {name:?} is ambiguous: units {}", .candidates.join(", "))]
    Ambiguous {
        /// The name as given.
        name: String,
        /// Codes of the units bearing it.
        candidates: Vec<String>,
    },
}

/// A unit name reduced for matching: lower case, single spaces, without a
/// leading "Ủy ban nhân dân"/"UBND" (sources write "UBND xã Tân Thành" for
/// the unit "Xã Tân Thành").
fn name_key(name: &str) -> String {
    let folded = name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    for prefix in ["ủy ban nhân dân ", "uỷ ban nhân dân ", "ubnd "] {
        if let Some(rest) = folded.strip_prefix(prefix) {
            return rest.to_owned();
        }
    }
    folded
}

impl UnitTree {
    /// The tree's levels, top first.
    pub fn levels(&self) -> &Levels {
        &self.levels
    }

    /// The unit with `code`.
    pub fn get(&self, code: &UnitCode) -> Option<&Unit> {
        self.units.get(code)
    }

    /// Number of units.
    pub fn len(&self) -> usize {
        self.units.len()
    }

    /// Whether the tree has no unit.
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// Direct children of `code`, in code order.
    pub fn children(&self, code: &UnitCode) -> &[UnitCode] {
        self.children.get(code).map_or(&[], Vec::as_slice)
    }

    /// All units, parents before their children (siblings in code order).
    pub fn top_down(&self) -> Vec<&Unit> {
        let mut order = Vec::with_capacity(self.units.len());
        let mut stack: Vec<&UnitCode> = self
            .units
            .values()
            .filter(|u| u.parent.is_none())
            .map(|u| &u.code)
            .rev()
            .collect();
        while let Some(code) = stack.pop() {
            if let Some(unit) = self.units.get(code) {
                order.push(unit);
                stack.extend(self.children(code).iter().rev());
            }
        }
        order
    }

    /// `code` and every unit below it.
    pub fn subtree(&self, code: &UnitCode) -> Vec<&UnitCode> {
        let mut out = Vec::new();
        let mut stack: Vec<&UnitCode> = self
            .units
            .get_key_value(code)
            .map(|(c, _)| c)
            .into_iter()
            .collect();
        while let Some(c) = stack.pop() {
            out.push(c);
            stack.extend(self.children(c).iter().rev());
        }
        out
    }

    /// The unit known as `alias` in `system`.
    pub fn resolve_alias(&self, system: AliasSystem, alias: &str) -> Option<&UnitCode> {
        self.aliases.get(&(system, alias.to_owned()))
    }

    /// The unit a source refers to by `reference`: its code, an alias in
    /// any system, or its current or a former name.
    pub fn resolve(&self, reference: &str) -> Result<&UnitCode, UnresolvedUnit> {
        let reference = reference.trim();
        if let Some((code, _)) = UnitCode::parse(reference)
            .ok()
            .and_then(|c| self.units.get_key_value(&c))
        {
            return Ok(code);
        }
        if let Some(code) = AliasSystem::ALL
            .into_iter()
            .find_map(|system| self.resolve_alias(system, reference))
        {
            return Ok(code);
        }
        match self.names.get(&name_key(reference)).map(Vec::as_slice) {
            Some([code]) => Ok(code),
            Some(codes) if !codes.is_empty() => Err(UnresolvedUnit::Ambiguous {
                name: reference.to_owned(),
                candidates: codes.iter().map(|c| c.as_str().to_owned()).collect(),
            }),
            _ => Err(UnresolvedUnit::Unknown(reference.to_owned())),
        }
    }

    /// Units of `level`, in code order.
    pub fn at_level<'a>(&'a self, level: &'a str) -> impl Iterator<Item = &'a Unit> + 'a {
        self.units.values().filter(move |u| u.level == level)
    }
}

struct Located<T> {
    file: String,
    line: u64,
    value: T,
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
            let code =
                UnitCode::parse(row.get("code")).map_err(|e| err("code", format!("unit code {e}")));
            let name = check_name(row.get("name")).map_err(|e| err("name", e));
            let level = row.get("level");
            let level_ok = if self.levels.rank(level).is_some() {
                Ok(())
            } else {
                err(
                    "level",
                    format!(
                        "unknown level {level:?} (levels: {})",
                        self.levels.names().join(", ")
                    ),
                );
                Err(())
            };
            let parent = match row.get("parent_code") {
                "" => Ok(None),
                raw => UnitCode::parse(raw)
                    .map(Some)
                    .map_err(|e| err("parent_code", format!("parent code {e}"))),
            };
            if let (Ok(code), Ok(name), Ok(()), Ok(parent)) = (code, name, level_ok, parent) {
                let unit = Unit {
                    code,
                    name,
                    level: level.to_owned(),
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

fn parse_date(raw: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| format!("{raw:?} is not a date YYYY-MM-DD"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(names: &[&str]) -> Levels {
        Levels::parse(names).expect("levels")
    }

    fn three_levels() -> Levels {
        levels(&["province", "department", "district", "commune"])
    }

    fn build(units: &str) -> Result<UnitTree, ReferenceErrors> {
        let mut builder = UnitTreeBuilder::new(three_levels());
        builder.read_units("units.csv", units.as_bytes());
        builder.build()
    }

    const SMALL: &str = "code,name,level,parent_code\n\
        70,Tỉnh Bình Phước,province,\n\
        697,Thị xã Chơn Thành,district,70\n\
        25432,Phường Hưng Long,commune,697\n\
        25433,Phường Thành Tâm,commune,697\n\
        70.TP,Sở Tư pháp,department,70\n";

    #[test]
    fn loads_a_tree_with_children_and_subtrees() {
        let tree = build(SMALL).expect("valid tree");
        assert_eq!(tree.len(), 5);
        let province = UnitCode::parse("70").expect("code");
        let district = UnitCode::parse("697").expect("code");
        assert_eq!(tree.children(&province).len(), 2);
        let subtree: Vec<&str> = tree.subtree(&district).iter().map(|c| c.as_str()).collect();
        assert_eq!(subtree, ["697", "25432", "25433"]);
        let order: Vec<&str> = tree.top_down().iter().map(|u| u.code.as_str()).collect();
        assert_eq!(order, ["70", "697", "25432", "25433", "70.TP"]);
    }

    #[test]
    fn former_names_apply_before_the_rename() {
        let mut builder = UnitTreeBuilder::new(three_levels());
        builder.read_units("units.csv", SMALL.as_bytes()).read_former_names(
            "names.csv",
            "code,name,valid_from,valid_to\n697,Huyện Chơn Thành,,2022-10-01\n25432,Thị trấn Chơn Thành,,2022-10-01\n"
                .as_bytes(),
        );
        let tree = builder.build().expect("valid tree");
        let unit = tree
            .get(&UnitCode::parse("697").expect("code"))
            .expect("unit");
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        assert_eq!(unit.name_on(day("2022-06-01")), "Huyện Chơn Thành");
        assert_eq!(unit.name_on(day("2022-09-30")), "Huyện Chơn Thành");
        assert_eq!(unit.name_on(day("2022-10-01")), "Thị xã Chơn Thành");
    }

    #[test]
    fn aliases_resolve_and_must_be_unique() {
        let mut builder = UnitTreeBuilder::new(three_levels());
        builder
            .read_units("units.csv", SMALL.as_bytes())
            .read_aliases(
                "aliases.csv",
                "code,system,alias\n697,dvcqg,H10.697\n25432,local,HL\n".as_bytes(),
            );
        let tree = builder.build().expect("valid tree");
        assert_eq!(
            tree.resolve_alias(AliasSystem::Dvcqg, "H10.697")
                .map(UnitCode::as_str),
            Some("697")
        );
        assert_eq!(tree.resolve_alias(AliasSystem::Local, "H10.697"), None);

        let mut builder = UnitTreeBuilder::new(three_levels());
        builder
            .read_units("units.csv", SMALL.as_bytes())
            .read_aliases(
                "aliases.csv",
                "code,system,alias\n697,dvcqg,H10.1\n25432,dvcqg,H10.1\n25433,post,x\n".as_bytes(),
            );
        let errors = builder.build().unwrap_err().0;
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(
            (errors[0].line, errors[0].field.as_deref()),
            (3, Some("alias"))
        );
        assert!(
            errors[0]
                .message
                .contains("already given to unit 697 at aliases.csv:2"),
            "{}",
            errors[0]
        );
        assert_eq!(
            (errors[1].line, errors[1].field.as_deref()),
            (4, Some("system"))
        );
    }

    #[test]
    fn references_resolve_by_code_alias_or_name() {
        let mut builder = UnitTreeBuilder::new(three_levels());
        builder
            .read_units(
                "units.csv",
                format!("{SMALL}25434,Xã Tân Thành,commune,697\n25435,Xã Tân Thành,commune,697\n")
                    .as_bytes(),
            )
            .read_former_names(
                "names.csv",
                "code,name,valid_from,valid_to\n25432,Thị trấn Chơn Thành,,2022-10-01\n".as_bytes(),
            )
            .read_aliases(
                "aliases.csv",
                "code,system,alias\n697,ma_dinh_danh,000.00.01.H10\n".as_bytes(),
            );
        let tree = builder.build().expect("tree");
        let resolve = |r: &str| tree.resolve(r).map(|c| c.as_str().to_owned());
        assert_eq!(resolve("25433"), Ok("25433".to_owned()));
        assert_eq!(resolve("000.00.01.H10"), Ok("697".to_owned()));
        assert_eq!(resolve("UBND  phường Hưng Long"), Ok("25432".to_owned()));
        assert_eq!(
            resolve("Thị trấn Chơn Thành"),
            Ok("25432".to_owned()),
            "former names resolve"
        );
        assert!(matches!(
            resolve("Xã Tân Thành"),
            Err(UnresolvedUnit::Ambiguous { .. })
        ));
        assert_eq!(
            resolve("Xã Không Có"),
            Err(UnresolvedUnit::Unknown("Xã Không Có".to_owned()))
        );
    }

    #[test]
    fn the_two_level_model_of_2025_loads() {
        let mut builder = UnitTreeBuilder::new(levels(&["province", "commune"]));
        builder.read_units(
            "dong-nai-2025.csv",
            "code,name,level,parent_code\n75,Tỉnh Đồng Nai,province,\n25432,Phường Chơn Thành,commune,75\n".as_bytes(),
        );
        let tree = builder.build().expect("two-level tree");
        assert_eq!(tree.at_level("commune").count(), 1);
    }

    #[test]
    fn every_problem_is_reported_with_file_line_and_field() {
        let input = "code,name,level,parent_code\n\
            70,Tỉnh Bình Phước,province,\n\
            697,Thị xã Chơn Thành,ward,70\n\
            697,Huyện Chơn Thành,district,70\n\
            25432,Phường Hưng Long,commune,999\n\
            bad code,X,commune,70\n\
            25433,,commune,697\n\
            25434,Xã A,commune,25435\n\
            25435,Xã B,commune,25434\n\
            70.TP,Sở Tư pháp,department,\n\
            25436,Xã C,commune\n";
        let errors = build(input).unwrap_err().0;
        let found: Vec<(u64, Option<&str>)> = errors
            .iter()
            .map(|e| (e.line, e.field.as_deref()))
            .collect();
        assert_eq!(
            found,
            [
                (3, Some("level")),
                (5, Some("parent_code")),
                (6, Some("code")),
                (7, Some("name")),
                (8, Some("parent_code")),
                (10, Some("parent_code")),
                (11, None),
            ],
            "{errors:#?}"
        );
        let text = |line: u64| {
            errors
                .iter()
                .find(|e| e.line == line)
                .map(ToString::to_string)
                .unwrap_or_default()
        };
        assert!(text(3).contains("unknown level \"ward\""), "{}", text(3));
        assert!(text(5).contains("parent 999"), "{}", text(5));
        assert!(
            text(8).contains("cycle: 25434 → 25435 → 25434"),
            "{}",
            text(8)
        );
        assert!(text(10).contains("only the top level"), "{}", text(10));
        assert!(
            text(11).contains("has 3 fields, the header has 4"),
            "{}",
            text(11)
        );
        assert!(
            text(3).starts_with("units.csv:3: field `level`:"),
            "{}",
            text(3)
        );
    }

    #[test]
    fn duplicate_codes_name_the_first_definition() {
        let input = "code,name,level,parent_code\n70,Tỉnh,province,\n697,A,district,70\n697,B,district,70\n";
        let errors = build(input).unwrap_err().0;
        assert_eq!(errors.len(), 1);
        assert_eq!(
            (errors[0].line, errors[0].field.as_deref()),
            (4, Some("code"))
        );
        assert!(
            errors[0].message.contains("first defined at units.csv:3"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn a_parent_must_be_of_a_higher_level() {
        let input =
            "code,name,level,parent_code\n70,Tỉnh,province,\n1,Xã,commune,70\n2,Huyện,district,1\n";
        let errors = build(input).unwrap_err().0;
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 4);
        assert!(
            errors[0].message.contains("cannot be under 1 (commune)"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn missing_columns_are_named() {
        let errors = build("code,name,parent\n70,X,\n").unwrap_err().0;
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].message.contains("level, parent_code"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn unit_codes_are_checked() {
        assert!(UnitCode::parse("000.00.01.H22").is_ok());
        assert!(UnitCode::parse("").is_err());
        assert!(UnitCode::parse("a/b").is_err());
        assert!(UnitCode::parse(&"9".repeat(33)).is_err());
    }

    #[test]
    fn levels_are_checked() {
        assert!(Levels::parse(&["province", "province"]).is_err());
        assert!(Levels::parse::<&str>(&[]).is_err());
        assert!(Levels::parse(&["Province"]).is_err());
    }
}
