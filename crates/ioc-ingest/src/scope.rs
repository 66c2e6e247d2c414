//! The units a sender may write dossiers for.

use std::collections::HashSet;
use std::sync::Arc;

/// The units a sender may write dossiers for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteScope {
    /// Any unit.
    All,
    /// Only these unit codes (the sender's subtrees, expanded); shared, as
    /// every request of a token asks the same set.
    Units(Arc<HashSet<String>>),
}

impl WriteScope {
    /// Whether dossiers of `unit` may be written.
    pub fn allows(&self, unit: &str) -> bool {
        match self {
            WriteScope::All => true,
            WriteScope::Units(units) => units.contains(unit),
        }
    }
}
