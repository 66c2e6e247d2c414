//! Timeliness as `METRICS.md` defines it: finished early, on time or late,
//! and pending overdue or due soon, compared by local calendar day or, when
//! configured, by instant.

use chrono::{DateTime, Days, Utc};
use serde::{Deserialize, Serialize};

use crate::LocalCalendar;

/// How due times are compared (`timeliness.granularity`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    /// Compare local calendar dates (the default, as the provinces report).
    #[default]
    Day,
    /// A dossier is late as soon as the instant passes its due time; early and
    /// on time are still told apart by local date.
    Instant,
}

impl std::str::FromStr for Granularity {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw {
            "day" => Ok(Granularity::Day),
            "instant" => Ok(Granularity::Instant),
            other => Err(format!(
                "unknown granularity {other:?} (expected day or instant)"
            )),
        }
    }
}

/// How a finished dossier kept its promised return time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timeliness {
    /// Finished on a day before the due day.
    Early,
    /// Finished on the due day, or the dossier has no due time.
    OnTime,
    /// Finished after the due day.
    Late,
}

/// The timeliness rules of one deployment: its calendar and granularity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimelinessRules {
    /// Calendar in which days are counted.
    pub calendar: LocalCalendar,
    /// Day or instant comparison.
    pub granularity: Granularity,
}

impl TimelinessRules {
    /// Classifies a dossier finished at `finished_at` that was due at `due_at`.
    pub fn classify(
        &self,
        finished_at: DateTime<Utc>,
        due_at: Option<DateTime<Utc>>,
    ) -> Timeliness {
        let Some(due_at) = due_at else {
            return Timeliness::OnTime;
        };
        let finished_day = self.calendar.date_of(finished_at);
        let due_day = self.calendar.date_of(due_at);
        let late = match self.granularity {
            Granularity::Day => finished_day > due_day,
            Granularity::Instant => finished_at > due_at,
        };
        if late {
            Timeliness::Late
        } else if finished_day < due_day {
            Timeliness::Early
        } else {
            Timeliness::OnTime
        }
    }

    /// A dossier still pending at `now` is overdue.
    pub fn is_overdue(&self, now: DateTime<Utc>, due_at: Option<DateTime<Utc>>) -> bool {
        let Some(due_at) = due_at else {
            return false;
        };
        match self.granularity {
            Granularity::Day => self.calendar.date_of(now) > self.calendar.date_of(due_at),
            Granularity::Instant => now > due_at,
        }
    }

    /// A dossier pending at `now`, not overdue, is due by the end of the next
    /// local day.
    pub fn is_due_soon(&self, now: DateTime<Utc>, due_at: Option<DateTime<Utc>>) -> bool {
        let Some(due) = due_at else {
            return false;
        };
        let tomorrow = self.calendar.date_of(now).checked_add_days(Days::new(1));
        !self.is_overdue(now, Some(due))
            && tomorrow.is_some_and(|d| self.calendar.date_of(due) <= d)
    }

    /// The first instant at which a dossier due at `due_at` counts as overdue:
    /// the start of the next local day (day granularity), or just after the
    /// due time (instant granularity). The overdue sweep is keyed on it.
    pub fn overdue_from(&self, due_at: DateTime<Utc>) -> DateTime<Utc> {
        match self.granularity {
            Granularity::Day => {
                let next = self.calendar.date_of(due_at).checked_add_days(Days::new(1));
                next.map_or(due_at, |d| self.calendar.start_of(d))
            }
            Granularity::Instant => due_at + chrono::Duration::nanoseconds(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("test instant")
            .with_timezone(&Utc)
    }

    const DAY: TimelinessRules = TimelinessRules {
        calendar: LocalCalendar::DEFAULT,
        granularity: Granularity::Day,
    };
    const INSTANT: TimelinessRules = TimelinessRules {
        calendar: LocalCalendar::DEFAULT,
        granularity: Granularity::Instant,
    };

    #[test]
    fn day_granularity_compares_local_dates() {
        let due = Some(t("2022-09-20T17:00:00+07:00"));
        // 23:59 local on the due day is on time; one minute later is late.
        assert_eq!(
            DAY.classify(t("2022-09-20T23:59:00+07:00"), due),
            Timeliness::OnTime
        );
        assert_eq!(
            DAY.classify(t("2022-09-21T00:00:00+07:00"), due),
            Timeliness::Late
        );
        // 23:59 local the day before is early, although it is the due day in UTC.
        assert_eq!(
            DAY.classify(t("2022-09-19T23:59:00+07:00"), due),
            Timeliness::Early
        );
        // 00:30 local on the due day is 17:30 UTC the day before: still on time.
        assert_eq!(
            DAY.classify(t("2022-09-20T00:30:00+07:00"), due),
            Timeliness::OnTime
        );
    }

    #[test]
    fn no_due_time_is_on_time_and_never_overdue() {
        assert_eq!(
            DAY.classify(t("2022-09-20T10:00:00+07:00"), None),
            Timeliness::OnTime
        );
        assert!(!DAY.is_overdue(t("2030-01-01T00:00:00+07:00"), None));
        assert!(!DAY.is_due_soon(t("2030-01-01T00:00:00+07:00"), None));
    }

    #[test]
    fn instant_granularity_is_late_after_the_due_instant() {
        let due = Some(t("2022-09-20T17:00:00+07:00"));
        assert_eq!(
            INSTANT.classify(t("2022-09-20T17:00:00+07:00"), due),
            Timeliness::OnTime
        );
        assert_eq!(
            INSTANT.classify(t("2022-09-20T17:00:01+07:00"), due),
            Timeliness::Late
        );
        assert_eq!(
            INSTANT.classify(t("2022-09-19T09:00:00+07:00"), due),
            Timeliness::Early
        );
        assert!(INSTANT.is_overdue(t("2022-09-20T17:00:01+07:00"), due));
        assert!(!INSTANT.is_overdue(t("2022-09-20T17:00:00+07:00"), due));
    }

    #[test]
    fn pending_becomes_overdue_at_local_midnight_after_the_due_day() {
        let due = t("2022-09-20T17:00:00+07:00");
        assert!(!DAY.is_overdue(t("2022-09-20T23:59:59+07:00"), Some(due)));
        assert!(DAY.is_overdue(t("2022-09-21T00:00:00+07:00"), Some(due)));
        assert_eq!(DAY.overdue_from(due), t("2022-09-21T00:00:00+07:00"));
        assert_eq!(DAY.overdue_from(due), t("2022-09-20T17:00:00Z"));
    }

    #[test]
    fn due_soon_covers_today_and_tomorrow_only() {
        let now = t("2022-09-19T10:00:00+07:00");
        assert!(DAY.is_due_soon(now, Some(t("2022-09-19T17:00:00+07:00"))));
        assert!(DAY.is_due_soon(now, Some(t("2022-09-20T23:00:00+07:00"))));
        assert!(!DAY.is_due_soon(now, Some(t("2022-09-21T00:00:00+07:00"))));
        // An overdue dossier is not also due soon.
        assert!(!DAY.is_due_soon(now, Some(t("2022-09-18T17:00:00+07:00"))));
    }
}
