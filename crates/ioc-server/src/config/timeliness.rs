//! `[time]` and `[timeliness]`: the calendar local days are counted in, and
//! how due times are compared; together the [`TimelinessRules`].

use ioc_core::{Granularity, LocalCalendar, TimelinessRules};

use super::reader::Reader;

/// Reads `[time]` and `[timeliness]`.
pub(super) fn read(reader: &mut Reader) -> TimelinessRules {
    TimelinessRules {
        calendar: time(reader),
        granularity: timeliness(reader),
    }
}

/// `[time]`: the time zone of local days.
fn time(reader: &mut Reader) -> LocalCalendar {
    reader.parse("time.zone", "Asia/Ho_Chi_Minh", |s| {
        LocalCalendar::parse(s).map_err(|e| e.to_string())
    })
}

/// `[timeliness]`: whether dates or instants are compared.
fn timeliness(reader: &mut Reader) -> Granularity {
    reader.parse("timeliness.granularity", "day", |s| {
        s.parse::<Granularity>()
    })
}
