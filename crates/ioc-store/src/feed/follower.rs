//! Following the change log without skipping a change that commits late.
//!
//! Sequence numbers are handed out when a transaction writes, not when it
//! commits, so a reader can see seq 101 before seq 100 commits. The
//! follower applies every change it sees once, keeps its position at the
//! last seq below which nothing is missing, and treats a gap as final (a
//! rolled-back transaction) only after it has stayed open for `patience`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// Where a follower stands in the log.
#[derive(Debug, Clone)]
pub struct Follower {
    position: i64,
    applied_above: BTreeSet<i64>,
    gaps: BTreeMap<i64, Instant>,
    patience: Duration,
}

/// What a checkpoint keeps of a follower: its position and the seqs above
/// it already applied (open gaps are waited for again after a restart).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FollowerState {
    /// Position.
    pub position: i64,
    /// Seqs above the position already applied.
    pub applied_above: Vec<i64>,
}

impl Follower {
    /// A follower whose snapshot reflects every seq up to `max_seq` that is
    /// in `recent` (the committed seqs of the latest stretch of the log);
    /// seqs missing from `recent` are waited for.
    pub fn new(max_seq: i64, recent: &[i64], patience: Duration) -> Follower {
        let lowest = recent.first().copied().unwrap_or(max_seq + 1);
        let mut position = lowest - 1;
        let mut applied_above = BTreeSet::new();
        for seq in recent {
            if *seq == position + 1 && applied_above.is_empty() {
                position = *seq;
            } else {
                applied_above.insert(*seq);
            }
        }
        Follower {
            position,
            applied_above,
            gaps: BTreeMap::new(),
            patience,
        }
    }

    /// The part of the follower a checkpoint keeps.
    pub fn state(&self) -> FollowerState {
        FollowerState {
            position: self.position,
            applied_above: self.applied_above.iter().copied().collect(),
        }
    }

    /// A follower restored from a checkpoint.
    pub fn restore(state: &FollowerState, patience: Duration) -> Follower {
        Follower {
            position: state.position,
            applied_above: state.applied_above.iter().copied().collect(),
            gaps: BTreeMap::new(),
            patience,
        }
    }

    /// Reads start after this seq (nothing at or below it is missing).
    pub fn position(&self) -> i64 {
        self.position
    }

    /// The highest seq applied, to read new changes after.
    pub fn newest(&self) -> i64 {
        self.applied_above.last().copied().unwrap_or(self.position)
    }

    /// Applies each change not applied yet, then moves the position over
    /// what is complete. Returns how many changes were applied.
    pub fn absorb<T>(
        &mut self,
        changes: impl IntoIterator<Item = (i64, T)>,
        now: Instant,
        mut apply: impl FnMut(T),
    ) -> usize {
        let mut applied = 0;
        for (seq, change) in changes {
            if seq <= self.position || !self.applied_above.insert(seq) {
                continue;
            }
            apply(change);
            applied += 1;
        }
        loop {
            let next = self.position + 1;
            if self.applied_above.remove(&next) {
                self.position = next;
                self.gaps.remove(&next);
            } else if self.applied_above.is_empty() {
                break;
            } else {
                let since = *self.gaps.entry(next).or_insert(now);
                if now.duration_since(since) < self.patience {
                    break;
                }
                // Waited long enough: the transaction was rolled back.
                self.gaps.remove(&next);
                self.position = next;
            }
        }
        applied
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_that_commits_late_is_not_skipped() {
        let start = Instant::now();
        let mut follower = Follower::new(0, &[], Duration::from_secs(30));
        let mut seen = Vec::new();
        // 101 and 103 are visible, 102 is still in flight.
        follower.absorb([(1, 1), (3, 3)], start, |c| seen.push(c));
        assert_eq!((follower.position(), follower.newest()), (1, 3));
        // 102 commits; 3 is read again and not applied twice.
        follower.absorb(
            [(2, 2), (3, 3), (4, 4)],
            start + Duration::from_secs(1),
            |c| seen.push(c),
        );
        assert_eq!(seen, [1, 3, 2, 4]);
        assert_eq!(follower.position(), 4);
    }

    #[test]
    fn a_gap_that_stays_open_is_given_up_after_patience() {
        let start = Instant::now();
        let mut follower = Follower::new(0, &[], Duration::from_secs(30));
        follower.absorb([(1, ()), (3, ())], start, |()| {});
        follower.absorb(
            Vec::<(i64, ())>::new(),
            start + Duration::from_secs(10),
            |()| {},
        );
        assert_eq!(follower.position(), 1);
        follower.absorb(
            Vec::<(i64, ())>::new(),
            start + Duration::from_secs(31),
            |()| {},
        );
        assert_eq!(follower.position(), 3);
    }

    #[test]
    fn a_snapshot_with_gaps_waits_for_them() {
        let mut follower = Follower::new(10, &[7, 8, 10], Duration::from_secs(30));
        assert_eq!((follower.position(), follower.newest()), (8, 10));
        let mut seen = Vec::new();
        follower.absorb([(9, 9), (10, 10), (11, 11)], Instant::now(), |c| {
            seen.push(c)
        });
        assert_eq!(seen, [9, 11], "10 was in the snapshot already");
        assert_eq!(follower.position(), 11);
    }
}
