//! When each source last had a change accepted (what the `source_silent`
//! rule watches).

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::schema::source_activity;
use crate::time::{from_db, to_db};
use crate::{AnyConnection, StoreError};

/// When each source last had a change accepted, as recorded.
pub fn source_activity(
    conn: &mut AnyConnection,
) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
    Ok(source_activity::table
        .select((source_activity::source, source_activity::last_seen_at))
        .load::<(String, chrono::NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(source, at)| (source, from_db(at)))
        .collect())
}

/// Records when sources were last seen (a later time replaces an earlier one).
pub fn record_source_activity(
    conn: &mut AnyConnection,
    seen: &[(String, DateTime<Utc>)],
) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        for (source, at) in seen {
            let at = to_db(*at);
            let updated = diesel::update(
                source_activity::table
                    .filter(source_activity::source.eq(source))
                    .filter(source_activity::last_seen_at.lt(at)),
            )
            .set(source_activity::last_seen_at.eq(at))
            .execute(conn)?;
            if updated == 0 {
                let exists: i64 = source_activity::table
                    .filter(source_activity::source.eq(source))
                    .count()
                    .get_result(conn)?;
                if exists == 0 {
                    diesel::insert_into(source_activity::table)
                        .values((
                            source_activity::source.eq(source),
                            source_activity::last_seen_at.eq(at),
                        ))
                        .execute(conn)?;
                }
            }
        }
        Ok(())
    })
}
