//! Silence of sources: time since a source's last accepted change,
//! counted in working minutes, against the silent-source rule.

use chrono::{DateTime, Datelike, Utc};
use serde_json::json;

use super::{SilentSourceRule, Wanted};

impl SilentSourceRule {
    /// Working minutes between `from` and `to` (local working days and
    /// hours), counted over at most the last 60 days.
    pub fn working_minutes(
        &self,
        calendar: ioc_core::LocalCalendar,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> i64 {
        if to <= from {
            return 0;
        }
        let last = calendar.date_of(to);
        let first = calendar
            .date_of(from)
            .max(last - chrono::Duration::days(60));
        let mut minutes = 0;
        for day in first.iter_days().take_while(|d| *d <= last) {
            if !self.working_days.contains(&day.weekday()) {
                continue;
            }
            let (Some(start), Some(end)) = (
                calendar.from_local(day.and_time(self.day_starts)),
                calendar.from_local(day.and_time(self.day_ends)),
            ) else {
                continue;
            };
            let (a, b) = (start.max(from), end.min(to));
            if b > a {
                minutes += (b - a).num_minutes();
            }
        }
        minutes
    }

    /// What the rule wants for a source last seen at `last_seen`.
    pub fn judge(
        &self,
        calendar: ioc_core::LocalCalendar,
        last_seen: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Wanted {
        let silent = self.working_minutes(calendar, last_seen, now);
        if silent >= i64::from(self.minutes) {
            Wanted::Active {
                severity: self.severity,
                details: json!({"last_seen_at": last_seen, "limit_minutes": self.minutes})
                    .to_string(),
            }
        } else {
            Wanted::Cleared
        }
    }
}
