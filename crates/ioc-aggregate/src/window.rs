//! Windows of local days and their cut-off (METRICS.md "Days, windows,
//! cut-off").

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};
use ioc_core::LocalCalendar;
use serde::Serialize;

/// A half-open range of local days `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Window {
    /// First day.
    pub from: NaiveDate,
    /// First day after the window.
    pub to: NaiveDate,
}

/// A window as a reader names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum WindowSpec {
    /// Today so far.
    Today,
    /// Yesterday.
    Yesterday,
    /// The last 7 days, today included.
    Last7Days,
    /// Month to date.
    Month,
    /// Quarter to date.
    Quarter,
    /// Year to date.
    Year,
    /// Explicit days `[from, to)` (a campaign's range, or `from=…&to=…`).
    Range(Window),
}

/// A window name or range that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    /// Not a known window name.
    #[error(
        "unknown window {0:?} (windows: today, yesterday, 7d, month, quarter, year, campaign:<id>, or from=YYYY-MM-DD&to=YYYY-MM-DD)"
    )]
    Unknown(String),
    /// `to` is not after `from`.
    #[error("window from {from} to {to} is empty: `to` is exclusive and must be after `from`")]
    Empty {
        /// First day.
        from: NaiveDate,
        /// Day after.
        to: NaiveDate,
    },
    /// A day outside the years windows may cover.
    #[error("window day {0} is outside the days ioc counts ({FIRST_DAY} to {LAST_DAY})")]
    OutOfRange(NaiveDate),
}

/// The first day an explicit window may start on.
pub const FIRST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(day) => day,
    None => NaiveDate::MIN,
};
/// The last day an explicit window may end on (exclusive end).
pub const LAST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2200, 1, 1) {
    Some(day) => day,
    None => NaiveDate::MAX,
};

impl WindowSpec {
    /// Parses `today`, `yesterday`, `7d`, `month`, `quarter` or `year`.
    pub fn parse(name: &str) -> Result<WindowSpec, WindowError> {
        Ok(match name {
            "today" => WindowSpec::Today,
            "yesterday" => WindowSpec::Yesterday,
            "7d" => WindowSpec::Last7Days,
            "month" => WindowSpec::Month,
            "quarter" => WindowSpec::Quarter,
            "year" => WindowSpec::Year,
            other => return Err(WindowError::Unknown(other.to_owned())),
        })
    }

    /// An explicit range `[from, to)`.
    pub fn range(from: NaiveDate, to: NaiveDate) -> Result<WindowSpec, WindowError> {
        for day in [from, to] {
            if !(FIRST_DAY..=LAST_DAY).contains(&day) {
                return Err(WindowError::OutOfRange(day));
            }
        }
        if to <= from {
            return Err(WindowError::Empty { from, to });
        }
        Ok(WindowSpec::Range(Window { from, to }))
    }

    /// The days this spec covers when the local date is `today`.
    pub fn resolve(&self, today: NaiveDate) -> Window {
        let tomorrow = next(today);
        match self {
            WindowSpec::Today => Window {
                from: today,
                to: tomorrow,
            },
            WindowSpec::Yesterday => Window {
                from: prev(today),
                to: today,
            },
            WindowSpec::Last7Days => Window {
                from: today - Days::new(6),
                to: tomorrow,
            },
            WindowSpec::Month => Window {
                from: today.with_day(1).unwrap_or(today),
                to: tomorrow,
            },
            WindowSpec::Quarter => Window {
                from: NaiveDate::from_ymd_opt(today.year(), (today.month0() / 3) * 3 + 1, 1)
                    .unwrap_or(today),
                to: tomorrow,
            },
            WindowSpec::Year => Window {
                from: NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today),
                to: tomorrow,
            },
            WindowSpec::Range(window) => *window,
        }
    }

    /// The previous period: for month, quarter and year, the same number of
    /// days from the start of the previous month, quarter or year (within
    /// it); otherwise the window of the same length just before.
    pub fn previous(&self, today: NaiveDate) -> Window {
        let window = self.resolve(today);
        let months = match self {
            WindowSpec::Month => 1,
            WindowSpec::Quarter => 3,
            WindowSpec::Year => 12,
            _ => return window.shifted_back(),
        };
        let from = window
            .from
            .checked_sub_months(Months::new(months))
            .unwrap_or(NaiveDate::MIN);
        let to = from
            .checked_add_days(Days::new(window.len()))
            .unwrap_or(window.from)
            .min(window.from);
        Window { from, to }
    }
}

impl Window {
    /// Number of days.
    pub fn len(&self) -> u64 {
        u64::try_from((self.to - self.from).num_days()).unwrap_or(0)
    }

    /// Whether it has no day.
    pub fn is_empty(&self) -> bool {
        self.to <= self.from
    }

    /// The window of the same length just before this one.
    pub fn shifted_back(&self) -> Window {
        Window {
            from: self
                .from
                .checked_sub_days(Days::new(self.len()))
                .unwrap_or(NaiveDate::MIN),
            to: self.from,
        }
    }

    /// The cut-off: min(end of window, now).
    pub fn cutoff(&self, now: DateTime<Utc>, calendar: &LocalCalendar) -> Cutoff {
        let end = calendar.start_of(self.to);
        if now < end {
            let today = calendar.date_of(now);
            Cutoff {
                through: today,
                today,
            }
        } else {
            Cutoff {
                through: prev(self.to),
                today: self.to,
            }
        }
    }
}

/// Where a window's pending set is taken: receptions and finishes up to and
/// including day `through` have happened, and due dates compare with `today`
/// (the local date of the cut-off instant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoff {
    /// Last day whose receptions and finishes count.
    pub through: NaiveDate,
    /// The local date of the cut-off.
    pub today: NaiveDate,
}

fn next(day: NaiveDate) -> NaiveDate {
    day.succ_opt().unwrap_or(day)
}

fn prev(day: NaiveDate) -> NaiveDate {
    day.pred_opt().unwrap_or(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn named_windows_resolve_around_today() {
        let today = d("2022-08-31");
        let w = |name: &str| WindowSpec::parse(name).expect("window").resolve(today);
        assert_eq!(
            w("today"),
            Window {
                from: today,
                to: d("2022-09-01")
            }
        );
        assert_eq!(
            w("yesterday"),
            Window {
                from: d("2022-08-30"),
                to: today
            }
        );
        assert_eq!(
            w("7d"),
            Window {
                from: d("2022-08-25"),
                to: d("2022-09-01")
            }
        );
        assert_eq!(
            w("month"),
            Window {
                from: d("2022-08-01"),
                to: d("2022-09-01")
            }
        );
        assert_eq!(
            w("quarter"),
            Window {
                from: d("2022-07-01"),
                to: d("2022-09-01")
            }
        );
        assert_eq!(
            w("year"),
            Window {
                from: d("2022-01-01"),
                to: d("2022-09-01")
            }
        );
        assert!(WindowSpec::parse("week").is_err());
        assert!(WindowSpec::range(today, today).is_err());
    }

    #[test]
    fn explicit_ranges_stay_within_the_counted_years() {
        let far = |y: i32| NaiveDate::from_ymd_opt(y, 1, 1).expect("date");
        assert_eq!(
            WindowSpec::range(far(-200_000), far(-1000)),
            Err(WindowError::OutOfRange(far(-200_000)))
        );
        assert!(WindowSpec::range(far(2022), far(9999)).is_err());
        let widest = WindowSpec::range(FIRST_DAY, LAST_DAY).expect("the widest window");
        let today = d("2026-12-01");
        assert_eq!(widest.previous(today).to, FIRST_DAY);
        let wide = Window {
            from: NaiveDate::MIN + Days::new(5),
            to: NaiveDate::MAX,
        };
        assert_eq!(
            wide.shifted_back().from,
            NaiveDate::MIN,
            "no overflow panic"
        );
    }

    #[test]
    fn previous_periods() {
        let today = d("2022-08-31");
        let prev = |spec: WindowSpec| spec.previous(today);
        // Month to date over 31 days; July has 31 days.
        assert_eq!(
            prev(WindowSpec::Month),
            Window {
                from: d("2022-07-01"),
                to: d("2022-08-01")
            }
        );
        // On 31 March the previous month (February) is cut at its end.
        assert_eq!(
            WindowSpec::Month.previous(d("2022-03-31")),
            Window {
                from: d("2022-02-01"),
                to: d("2022-03-01")
            }
        );
        assert_eq!(
            WindowSpec::Month.previous(d("2022-03-10")),
            Window {
                from: d("2022-02-01"),
                to: d("2022-02-11")
            }
        );
        assert_eq!(
            prev(WindowSpec::Today),
            Window {
                from: d("2022-08-30"),
                to: today
            }
        );
        assert_eq!(
            prev(WindowSpec::Last7Days),
            Window {
                from: d("2022-08-18"),
                to: d("2022-08-25")
            }
        );
    }

    #[test]
    fn cutoff_is_the_end_of_the_window_or_now() {
        let cal = LocalCalendar::default();
        let now: DateTime<Utc> = "2022-08-31T03:00:00Z".parse().expect("now"); // 10:00 local
        let month = WindowSpec::Month.resolve(d("2022-08-31"));
        assert_eq!(
            month.cutoff(now, &cal),
            Cutoff {
                through: d("2022-08-31"),
                today: d("2022-08-31")
            }
        );
        let july = Window {
            from: d("2022-07-01"),
            to: d("2022-08-01"),
        };
        assert_eq!(
            july.cutoff(now, &cal),
            Cutoff {
                through: d("2022-07-31"),
                today: d("2022-08-01")
            }
        );
    }
}
