//! Checkpoints of the in-memory aggregates (opaque JSON to this crate).

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::schema::aggregate_checkpoints;
use crate::time::to_db;
use crate::{AnyConnection, StoreError};

/// A stored checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = aggregate_checkpoints)]
pub struct Checkpoint {
    /// Digest of the counting rules it was made under.
    pub fingerprint: String,
    /// The follower's position, JSON.
    pub follower: String,
    /// The counters, JSON.
    pub state: String,
    /// When it was written (UTC).
    pub created_at: chrono::NaiveDateTime,
}

/// Replaces every checkpoint by this one.
pub fn save(
    conn: &mut AnyConnection,
    fingerprint: &str,
    follower: &str,
    state: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let row = Checkpoint {
        fingerprint: fingerprint.to_owned(),
        follower: follower.to_owned(),
        state: state.to_owned(),
        created_at: to_db(at),
    };
    conn.transaction(|conn| {
        diesel::delete(aggregate_checkpoints::table).execute(conn)?;
        diesel::insert_into(aggregate_checkpoints::table)
            .values(&row)
            .execute(conn)?;
        Ok(())
    })
}

/// The checkpoint made under `fingerprint`, if any.
pub fn load(conn: &mut AnyConnection, fingerprint: &str) -> Result<Option<Checkpoint>, StoreError> {
    Ok(aggregate_checkpoints::table
        .find(fingerprint)
        .select(Checkpoint::as_select())
        .first(conn)
        .optional()?)
}
