//! The counters kept per unit and local day.

use std::ops::{AddAssign, Index, IndexMut};

/// What is counted per day. Receptions count on the day of `received_at`,
/// finishes on the day of `finished_at`, withdrawals on the day the dossier
/// entered status 7 or 8; the pending bookkeeping as each variant says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counter {
    Received,
    ReceivedDirect,
    ReceivedOnline,
    ReceivedPostal,
    /// Received, of procedures the unit offers online (partial or full).
    ReceivedOffered,
    /// Received online, of procedures the unit offers online.
    ReceivedOnlineOffered,
    /// Received, of procedures offered fully online (766 online provision).
    ReceivedFull,
    /// Received online, of procedures offered fully online.
    ReceivedOnlineFull,
    FeeDossiers,
    PaidOnline,
    FinishedEarly,
    FinishedOnTime,
    FinishedLate,
    FinishedEResult,
    Withdrawn,
    /// Pending-eligible (received, not refused, withdrawn or stopped), on the
    /// day of reception.
    Arrivals,
    /// Pending-eligible and finished, on the day of finishing.
    Departures,
    /// Pending-eligible with a due time, on the due day.
    Due,
    /// Pending-eligible, finished, with a due time, on the later of the due
    /// day and the finish day.
    SettledAfterDue,
    /// Pending-eligible, finished on a day after its due day, on the finish day.
    FinishedPastDue,
}

impl Counter {
    pub(crate) const COUNT: usize = 20;
}

/// One day's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts([i64; Counter::COUNT]);

impl Counts {
    pub(crate) fn is_zero(&self) -> bool {
        self.0.iter().all(|c| *c == 0)
    }
}

impl Index<Counter> for Counts {
    type Output = i64;
    fn index(&self, counter: Counter) -> &i64 {
        &self.0[counter as usize]
    }
}

impl IndexMut<Counter> for Counts {
    fn index_mut(&mut self, counter: Counter) -> &mut i64 {
        &mut self.0[counter as usize]
    }
}

impl AddAssign<&Counts> for Counts {
    fn add_assign(&mut self, other: &Counts) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }
}
