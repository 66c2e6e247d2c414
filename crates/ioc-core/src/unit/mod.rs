//! The tree of administrative units (province, departments, districts,
//! communes). Codes are the stable key; names are effective-dated, so a
//! renamed unit keeps its code and its history; each unit may carry alias
//! codes from other systems. The levels are configured, so both the
//! three-level tree of 2022 and the two-level model of July 2025 load.

mod builder;
mod code;
mod tree;

pub use builder::{
    ALIAS_COLUMNS, FORMER_NAME_COLUMNS, MAX_NAME_LEN, UNIT_COLUMNS, UnitTreeBuilder,
};
pub use code::{AliasSystem, MAX_CODE_LEN, UnitCode};
pub use tree::{FormerName, Levels, Unit, UnitTree, UnresolvedUnit};

#[cfg(test)]
mod tests;
