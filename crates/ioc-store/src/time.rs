//! Instants are stored as UTC `TIMESTAMP` columns (`NaiveDateTime`), the
//! one timestamp type both backends share through diesel.

use chrono::{DateTime, NaiveDateTime, Utc};

/// An instant as stored.
pub(crate) fn to_db(instant: DateTime<Utc>) -> NaiveDateTime {
    instant.naive_utc()
}

/// A stored instant.
pub(crate) fn from_db(stored: NaiveDateTime) -> DateTime<Utc> {
    stored.and_utc()
}
