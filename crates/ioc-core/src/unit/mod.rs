//! The tree of administrative units (province, departments, districts,
//! communes). Codes are the stable key; names are effective-dated, so a
//! renamed unit keeps its code and its history; each unit may carry alias
//! codes from other systems. The levels are configured, so both the
//! three-level tree of 2022 and the two-level model of July 2025 load.
//! Across reforms, where codes are reused, `history` keeps every version of
//! a unit with its valid range and the edges from old units to new ones.

mod builder;
mod code;
mod history;
mod name;
mod tree;

pub use builder::{
    ALIAS_COLUMNS, FORMER_NAME_COLUMNS, MAX_NAME_LEN, UNIT_COLUMNS, UnitTreeBuilder,
};
pub use code::{AliasSystem, MAX_CODE_LEN, UnitCode};
pub use history::{
    DayRange, EDGE_COLUMNS, Edge, EdgeKind, UnitHistory, UnitHistoryBuilder, UnitVersion,
    VERSION_COLUMNS,
};
pub use tree::{FormerName, Levels, Unit, UnitTree, UnresolvedUnit};

#[cfg(test)]
mod tests;
