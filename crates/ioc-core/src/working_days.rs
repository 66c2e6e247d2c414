//! The public sector's working days (METRICS.md "Working days"): a day is a
//! working day when it is Monday to Friday and not a day off, or when it is
//! an extra working day (a Saturday worked in exchange for a weekday off).
//! The days off and extra working days change every year, so they are data
//! (`config/calendar/*.toml`), one table per year, each day with its legal
//! basis; loading names file, line and field for every problem.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Deserialize;

use crate::reference::{ReferenceError, ReferenceErrors};

/// Why a day is off or worked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayNote {
    /// What the day is, e.g. "Tết Nguyên đán Bính Ngọ".
    pub name: String,
    /// The act or notice that makes it so.
    pub basis: String,
}

/// The working days of the years a calendar file covers.
#[derive(Debug, Clone, Default)]
pub struct WorkingCalendar {
    years: BTreeMap<i32, Year>,
}

#[derive(Debug, Clone, Default)]
struct Year {
    off: BTreeMap<NaiveDate, DayNote>,
    work: BTreeMap<NaiveDate, DayNote>,
}

impl WorkingCalendar {
    /// Whether the calendar has a table for the year of `day`.
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.years.contains_key(&day.year())
    }

    /// The years the calendar has a table for, in order.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.keys().copied()
    }

    /// Whether `day` is a working day. A year without a table counts
    /// Monday to Friday.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        let weekday = !matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
        match self.years.get(&day.year()) {
            None => weekday,
            Some(year) if year.work.contains_key(&day) => true,
            Some(year) => weekday && !year.off.contains_key(&day),
        }
    }

    /// Why `day` is off or worked against the week's rule, if it is.
    pub fn note(&self, day: NaiveDate) -> Option<&DayNote> {
        let year = self.years.get(&day.year())?;
        year.off.get(&day).or_else(|| year.work.get(&day))
    }

    /// The first working day after `day`.
    pub fn next_working_day(&self, day: NaiveDate) -> NaiveDate {
        let mut next = day;
        loop {
            match next.succ_opt() {
                Some(d) => next = d,
                None => return next,
            }
            if self.is_working_day(next) {
                return next;
            }
        }
    }

    /// The `n`-th working day after `day` (`day` itself when `n` is 0).
    pub fn working_days_after(&self, day: NaiveDate, n: u32) -> NaiveDate {
        (0..n).fold(day, |d, _| self.next_working_day(d))
    }

    /// Reads a calendar file named `file`; every problem is reported.
    pub fn parse(file: &str, text: &str) -> Result<WorkingCalendar, ReferenceErrors> {
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |span| line_of(text, span.start));
            ReferenceErrors(vec![ReferenceError::new(file, line, None, e.message())])
        })?;
        let mut errors = Vec::new();
        let mut calendar = WorkingCalendar::default();
        for table in raw.year {
            let year_number = *table.year.get_ref();
            let at = |span: std::ops::Range<usize>| line_of(text, span.start);
            if calendar.years.contains_key(&year_number) {
                errors.push(ReferenceError::new(
                    file,
                    at(table.year.span()),
                    Some("year"),
                    format!("year {year_number} has a second table"),
                ));
                continue;
            }
            let mut year = Year::default();
            for (field, entries) in [("off", table.off), ("work", table.work)] {
                for entry in entries {
                    let line = at(entry.span());
                    let entry = entry.into_inner();
                    let mut problem = |message: String| {
                        errors.push(ReferenceError::new(file, line, Some(field), message));
                    };
                    let days = match entry.days() {
                        Ok(days) => days,
                        Err(message) => {
                            problem(message);
                            continue;
                        }
                    };
                    if !entry.announced {
                        continue;
                    }
                    for day in days {
                        if day.year() != year_number {
                            problem(format!("{day} is not in year {year_number}"));
                            continue;
                        }
                        if field == "work" && !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
                        {
                            problem(format!(
                                "{day} is a {:?}: an extra working day is a Saturday or Sunday",
                                day.weekday()
                            ));
                            continue;
                        }
                        if year.off.contains_key(&day) || year.work.contains_key(&day) {
                            problem(format!("{day} is listed twice (overlapping days)"));
                            continue;
                        }
                        let note = DayNote {
                            name: entry.name.clone(),
                            basis: entry.basis.clone(),
                        };
                        if field == "off" {
                            year.off.insert(day, note);
                        } else {
                            year.work.insert(day, note);
                        }
                    }
                }
            }
            calendar.years.insert(year_number, year);
        }
        if errors.is_empty() {
            Ok(calendar)
        } else {
            Err(ReferenceErrors(errors))
        }
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> u64 {
    let before = text.get(..offset).unwrap_or(text);
    before.bytes().filter(|&b| b == b'\n').count() as u64 + 1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    year: Vec<RawYear>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYear {
    year: toml::Spanned<i32>,
    #[serde(default)]
    off: Vec<toml::Spanned<RawDay>>,
    #[serde(default)]
    work: Vec<toml::Spanned<RawDay>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDay {
    date: String,
    until: Option<String>,
    name: String,
    basis: String,
    #[serde(default = "announced_by_default")]
    announced: bool,
}

fn announced_by_default() -> bool {
    true
}

impl RawDay {
    /// The days the entry names: `date`, or `date` to `until` inclusive.
    fn days(&self) -> Result<Vec<NaiveDate>, String> {
        let parse = |raw: &str| {
            raw.parse::<NaiveDate>()
                .map_err(|_| format!("{raw:?} is not a date YYYY-MM-DD"))
        };
        if self.name.trim().is_empty() || self.basis.trim().is_empty() {
            return Err("a day needs a name and a legal basis".to_owned());
        }
        crate::text::check_plain(&self.name).map_err(|e| format!("name {e}"))?;
        crate::text::check_plain(&self.basis).map_err(|e| format!("basis {e}"))?;
        let first = parse(&self.date)?;
        let last = self
            .until
            .as_deref()
            .map(parse)
            .transpose()?
            .unwrap_or(first);
        if last < first {
            return Err(format!("until {last} is before date {first}"));
        }
        if (last - first).num_days() > 31 {
            return Err(format!("{first} to {last} is longer than a month"));
        }
        Ok(first.iter_days().take_while(|d| *d <= last).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../../config/calendar/vn-public-sector.toml");

    fn day(raw: &str) -> NaiveDate {
        raw.parse().expect("a date")
    }

    fn shipped() -> WorkingCalendar {
        WorkingCalendar::parse("vn-public-sector.toml", SHIPPED).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_shipped_calendar_has_the_facts_of_2026() {
        let calendar = shipped();
        assert_eq!(
            calendar.years().collect::<Vec<_>>(),
            [2022, 2023, 2024, 2025, 2026]
        );
        assert!(!calendar.is_working_day(day("2026-01-01")));
        assert!(
            !calendar.is_working_day(day("2026-01-02")),
            "Friday 2/1 is off"
        );
        assert!(
            calendar.is_working_day(day("2026-01-10")),
            "Saturday 10/1 is worked"
        );
        for tet in day("2026-02-14").iter_days().take(9) {
            assert!(!calendar.is_working_day(tet), "{tet} is in Tết");
        }
        assert!(calendar.is_working_day(day("2026-02-23")));
        assert!(!calendar.is_working_day(day("2026-01-11")), "a Sunday");
        assert!(
            calendar.is_working_day(day("2026-11-24")),
            "24/11 is not announced"
        );
        // 25 days off in all in 2026: the breaks 1–4/1, 14–22/2, 25–27/4,
        // 30/4–3/5 and 29/8–2/9, weekends inside them included. A break is a
        // run of days that are not worked holding a day off of the calendar.
        let (mut in_breaks, mut run, mut noted) = (0, 0, false);
        for d in day("2026-01-01")
            .iter_days()
            .take_while(|d| d.year() == 2026)
        {
            if calendar.is_working_day(d) {
                in_breaks += if noted { run } else { 0 };
                (run, noted) = (0, false);
            } else {
                run += 1;
                noted |= calendar.note(d).is_some();
            }
        }
        assert_eq!(in_breaks, 25);
        let note = calendar.note(day("2026-01-10")).expect("a note");
        assert_eq!(note.basis, "VPCP 12729/VPCP-KGVX");
    }

    #[test]
    fn working_days_skip_days_off_and_count_swapped_saturdays() {
        let calendar = shipped();
        // Friday 9/1/2026: the next working day is Saturday 10/1 (worked),
        // then Monday 12/1.
        assert_eq!(
            calendar.next_working_day(day("2026-01-09")),
            day("2026-01-10")
        );
        assert_eq!(
            calendar.working_days_after(day("2026-01-09"), 2),
            day("2026-01-12")
        );
        // Friday 13/2/2026, the last working day before Tết: the next is 23/2.
        assert_eq!(
            calendar.next_working_day(day("2026-02-13")),
            day("2026-02-23")
        );
        // A year without a table counts Monday to Friday.
        assert!(!calendar.covers(day("2027-01-04")));
        assert!(calendar.is_working_day(day("2027-01-04")));
    }

    #[test]
    fn every_problem_is_named_with_its_line_and_field() {
        let text = r#"
[[year]]
year = 2026
off = [
  { date = "2026-01-01", name = "A", basis = "B" },
  { date = "2026-01-01", name = "again", basis = "B" },
  { date = "2025-12-31", name = "C", basis = "B" },
  { date = "2026-02-10", until = "2026-02-01", name = "D", basis = "B" },
  { date = "2026-13-01", name = "E", basis = "B" },
]
work = [
  { date = "2026-01-05", name = "a Monday", basis = "B" },
]
"#;
        let found: Vec<String> = match WorkingCalendar::parse("c.toml", text) {
            Ok(_) => Vec::new(),
            Err(ReferenceErrors(errors)) => errors.iter().map(ToString::to_string).collect(),
        };
        assert_eq!(
            found,
            [
                "c.toml:6: field `off`: 2026-01-01 is listed twice (overlapping days)",
                "c.toml:7: field `off`: 2025-12-31 is not in year 2026",
                "c.toml:8: field `off`: until 2026-02-01 is before date 2026-02-10",
                "c.toml:9: field `off`: \"2026-13-01\" is not a date YYYY-MM-DD",
                "c.toml:12: field `work`: 2026-01-05 is a Mon: an extra working day is a Saturday or Sunday",
            ]
        );
        let unknown = WorkingCalendar::parse("c.toml", "[[year]]\nyear = 2026\nholidays = []\n");
        assert!(
            unknown.is_err_and(|e| e.to_string().contains("c.toml:3")),
            "an unknown field names its line"
        );
    }
}
