//! The validated unit tree and its queries: levels, units with their
//! effective-dated names, and lookups by code, alias or name.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::Serialize;

use super::code::{AliasSystem, UnitCode};
use super::name::name_key;

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
    pub(super) levels: Levels,
    pub(super) units: BTreeMap<UnitCode, Unit>,
    pub(super) children: HashMap<UnitCode, Vec<UnitCode>>,
    pub(super) aliases: HashMap<(AliasSystem, String), UnitCode>,
    pub(super) names: HashMap<String, Vec<UnitCode>>,
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
