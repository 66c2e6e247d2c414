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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

/// Counts per local day, stored densely from the first day with data:
/// updates and range sums index a slice instead of searching a tree.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct DaySeries {
    /// Day number (days since the common era) of `counts[0]`.
    base: i32,
    counts: Vec<Counts>,
}

fn day_number(day: chrono::NaiveDate) -> i32 {
    chrono::Datelike::num_days_from_ce(&day)
}

impl DaySeries {
    /// The counts of `day`, added if missing.
    pub(crate) fn get_mut(&mut self, day: chrono::NaiveDate) -> &mut Counts {
        let n = day_number(day);
        if self.counts.is_empty() {
            self.base = n;
        }
        if n < self.base {
            let missing = (self.base - n) as usize;
            self.counts
                .splice(0..0, std::iter::repeat_n(Counts::default(), missing));
            self.base = n;
        }
        let index = (n - self.base) as usize;
        if index >= self.counts.len() {
            self.counts.resize(index + 1, Counts::default());
        }
        &mut self.counts[index]
    }

    /// The counts of `day`, if any.
    pub(crate) fn get(&self, day: chrono::NaiveDate) -> Option<&Counts> {
        let index = usize::try_from(day_number(day) - self.base).ok()?;
        self.counts.get(index)
    }

    /// The days in `[from, to)`, as (day number, counts).
    pub(crate) fn range(
        &self,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> impl Iterator<Item = (i32, &Counts)> {
        let clamp = |day: chrono::NaiveDate| {
            (day_number(day) - self.base).clamp(0, self.counts.len() as i32) as usize
        };
        let (start, end) = (clamp(from), clamp(to));
        let base = self.base;
        self.counts[start..end.max(start)]
            .iter()
            .enumerate()
            .map(move |(i, c)| (base + (start + i) as i32, c))
    }

    /// The days up to and including `through`.
    pub(crate) fn through(
        &self,
        through: chrono::NaiveDate,
    ) -> impl Iterator<Item = (i32, &Counts)> {
        let end = (day_number(through) + 1 - self.base).clamp(0, self.counts.len() as i32) as usize;
        let base = self.base;
        self.counts[..end]
            .iter()
            .enumerate()
            .map(move |(i, c)| (base + i as i32, c))
    }

    /// The days with any count, for comparisons.
    fn nonzero(&self) -> impl Iterator<Item = (i32, &Counts)> {
        let base = self.base;
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.is_zero())
            .map(move |(i, c)| (base + i as i32, c))
    }

    /// Whether every count is zero.
    pub(crate) fn is_zero(&self) -> bool {
        self.nonzero().next().is_none()
    }

    /// The day number of `day`.
    pub(crate) fn number(day: chrono::NaiveDate) -> i32 {
        day_number(day)
    }
}

impl PartialEq for DaySeries {
    fn eq(&self, other: &DaySeries) -> bool {
        self.nonzero().eq(other.nonzero())
    }
}

impl Eq for DaySeries {}
