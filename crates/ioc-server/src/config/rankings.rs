//! `[rankings]`: how units are ranked.

use super::reader::Reader;

/// `[rankings]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankingSettings {
    /// The least denominator of a ranked unit.
    pub min_volume: i64,
}

impl RankingSettings {
    /// Reads `[rankings]`.
    pub(super) fn read(reader: &mut Reader) -> RankingSettings {
        RankingSettings {
            min_volume: i64::from(reader.integer("rankings.min_volume", 1, 1, 1_000_000)),
        }
    }
}
