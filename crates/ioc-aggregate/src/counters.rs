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

/// Counts per local day with data, in day order: the cost of a unit grows
/// with the days that have counts, never with the span between its first
/// and last day (a record dated year 1 or 9999 costs one entry, not
/// millions). Updates near the end (today) append; range sums are a
/// binary search and a slice.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct DaySeries {
    /// (day number since the common era, counts), ascending, none all zero.
    days: Vec<(i32, Counts)>,
}

fn day_number(day: chrono::NaiveDate) -> i32 {
    chrono::Datelike::num_days_from_ce(&day)
}

impl DaySeries {
    /// Adds `delta` to `counter` on `day`; a day whose counts all return
    /// to zero is dropped.
    pub(crate) fn add(&mut self, day: chrono::NaiveDate, counter: Counter, delta: i64) {
        let n = day_number(day);
        let at = match self.days.last() {
            Some((last, _)) if *last == n => Ok(self.days.len() - 1),
            Some((last, _)) if *last < n => Err(self.days.len()),
            _ => self.days.binary_search_by_key(&n, |(d, _)| *d),
        };
        let index = at.unwrap_or_else(|index| {
            self.days.insert(index, (n, Counts::default()));
            index
        });
        let counts = &mut self.days[index].1;
        counts[counter] += delta;
        if counts.is_zero() {
            self.days.remove(index);
        }
    }

    /// The counts of `day`, if any.
    pub(crate) fn get(&self, day: chrono::NaiveDate) -> Option<&Counts> {
        let n = day_number(day);
        self.days
            .binary_search_by_key(&n, |(d, _)| *d)
            .ok()
            .map(|i| &self.days[i].1)
    }

    /// The index of the first day not before day number `n`.
    fn position(&self, n: i32) -> usize {
        self.days.partition_point(|(d, _)| *d < n)
    }

    /// The days with data in `[from, to)`, as (day number, counts).
    pub(crate) fn range(
        &self,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> impl Iterator<Item = (i32, &Counts)> {
        let start = self.position(day_number(from));
        let end = self.position(day_number(to)).max(start);
        self.days[start..end].iter().map(|(d, c)| (*d, c))
    }

    /// The days with data up to and including `through`.
    pub(crate) fn through(
        &self,
        through: chrono::NaiveDate,
    ) -> impl Iterator<Item = (i32, &Counts)> {
        let end = self.position(day_number(through).saturating_add(1));
        self.days[..end].iter().map(|(d, c)| (*d, c))
    }

    /// Whether every count is zero.
    pub(crate) fn is_zero(&self) -> bool {
        self.days.is_empty()
    }

    /// Number of days with data.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.days.len()
    }

    /// The day number of `day`.
    pub(crate) fn number(day: chrono::NaiveDate) -> i32 {
        day_number(day)
    }
}

impl PartialEq for DaySeries {
    fn eq(&self, other: &DaySeries) -> bool {
        self.days == other.days
    }
}

impl Eq for DaySeries {}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn extreme_days_cost_one_entry_each_and_leave_nothing_when_undone() {
        let mut series = DaySeries::default();
        series.add(day(2026, 12, 1), Counter::Received, 1);
        series.add(day(1, 1, 1), Counter::Received, 1);
        series.add(day(9999, 12, 31), Counter::Due, 1);
        assert_eq!(series.len(), 3);
        let all: Vec<i32> = series.through(day(9999, 12, 31)).map(|(d, _)| d).collect();
        assert_eq!(all.len(), 3);
        assert!(all.windows(2).all(|w| w[0] < w[1]), "{all:?}");
        assert_eq!(series.range(day(2026, 1, 1), day(2027, 1, 1)).count(), 1);
        series.add(day(1, 1, 1), Counter::Received, -1);
        series.add(day(9999, 12, 31), Counter::Due, -1);
        assert_eq!(series.len(), 1);
        assert_eq!(
            series.get(day(2026, 12, 1)).map(|c| c[Counter::Received]),
            Some(1)
        );
        series.add(day(2026, 12, 1), Counter::Received, -1);
        assert!(series.is_zero());
    }

    #[test]
    fn ranges_are_half_open_and_through_is_inclusive() {
        let mut series = DaySeries::default();
        for d in [3, 1, 5, 4] {
            series.add(day(2026, 1, d), Counter::Received, i64::from(d));
        }
        let sum = |it: &mut dyn Iterator<Item = (i32, &Counts)>| {
            it.map(|(_, c)| c[Counter::Received]).sum::<i64>()
        };
        assert_eq!(sum(&mut series.range(day(2026, 1, 3), day(2026, 1, 5))), 7);
        assert_eq!(sum(&mut series.through(day(2026, 1, 4))), 8);
        assert_eq!(sum(&mut series.range(day(2026, 1, 6), day(2026, 1, 2))), 0);
    }
}
