//! The local calendar: days are counted in the province's time zone
//! (`time.zone`, Asia/Ho_Chi_Minh by default); instants are stored in UTC.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// Maps UTC instants to local calendar days and back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalCalendar {
    zone: Tz,
}

/// A time zone name that the IANA database does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone {0:?} (expected an IANA name such as Asia/Ho_Chi_Minh)")]
pub struct UnknownTimeZone(pub String);

impl Default for LocalCalendar {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl LocalCalendar {
    /// Asia/Ho_Chi_Minh, the default of `time.zone`.
    pub const DEFAULT: LocalCalendar = LocalCalendar {
        zone: chrono_tz::Asia::Ho_Chi_Minh,
    };

    /// A calendar in the IANA zone `name`.
    pub fn parse(name: &str) -> Result<Self, UnknownTimeZone> {
        name.parse::<Tz>()
            .map(|zone| Self { zone })
            .map_err(|_| UnknownTimeZone(name.to_owned()))
    }

    /// The time zone.
    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// The local calendar date of `instant`.
    pub fn date_of(&self, instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.zone).date_naive()
    }

    /// The first instant of local day `date`.
    pub fn start_of(&self, date: NaiveDate) -> DateTime<Utc> {
        let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
        // A zone that skips midnight (a DST jump) starts the day at the first
        // instant that exists; Vietnam has no DST, but the zone is configurable.
        self.zone
            .from_local_datetime(&midnight)
            .earliest()
            .unwrap_or_else(|| self.zone.from_utc_datetime(&midnight))
            .with_timezone(&Utc)
    }

    /// Interprets a wall-clock time of this zone (as DVCQG payloads carry
    /// them) as an instant; `None` when that local time does not exist.
    pub fn from_local(&self, local: chrono::NaiveDateTime) -> Option<DateTime<Utc>> {
        self.zone
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("test instant")
    }

    #[test]
    fn local_day_starts_at_17h_utc_the_day_before() {
        let cal = LocalCalendar::default();
        let day = NaiveDate::from_ymd_opt(2022, 6, 1).expect("date");
        assert_eq!(cal.start_of(day), utc("2022-05-31T17:00:00Z"));
        assert_eq!(
            cal.date_of(utc("2022-05-31T16:59:59Z")),
            day.pred_opt().expect("date")
        );
        assert_eq!(cal.date_of(utc("2022-05-31T17:00:00Z")), day);
    }

    #[test]
    fn zones_are_configurable_and_checked() {
        assert!(LocalCalendar::parse("Europe/Berlin").is_ok());
        let err = LocalCalendar::parse("Asia/Hanoi").unwrap_err();
        assert!(err.to_string().contains("Asia/Hanoi"));
    }
}
