//! Bearer tokens. Only a token's SHA-256 is stored; the token itself is
//! shown once, when it is created.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::schema::api_tokens;
use crate::time::to_db;
use crate::{AnyConnection, StoreError};

/// A stored token, without the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = api_tokens)]
pub struct TokenRow {
    /// Key.
    pub id: i64,
    /// `ingest`, `viewer`, `operator` or `admin`.
    pub role: String,
    /// The source an ingest token writes as.
    pub source: Option<String>,
    /// Unit subtrees an ingest token may write, separated by `,`.
    pub units: String,
    /// Free label.
    pub label: String,
    /// When revoked, if it is.
    pub revoked_at: Option<chrono::NaiveDateTime>,
}

/// A token to store.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = api_tokens)]
pub struct NewToken {
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// Role.
    pub role: String,
    /// Source, for ingest tokens.
    pub source: Option<String>,
    /// Unit subtrees, separated by `,`.
    pub units: String,
    /// Free label.
    pub label: String,
    /// Creation time.
    pub created_at: chrono::NaiveDateTime,
}

/// Stores a new token; returns its id.
pub fn create(conn: &mut AnyConnection, token: &NewToken) -> Result<i64, StoreError> {
    Ok(diesel::insert_into(api_tokens::table)
        .values(token)
        .returning(api_tokens::id)
        .get_result(conn)?)
}

/// The unrevoked token whose hash is `token_hash`.
pub fn find_active(
    conn: &mut AnyConnection,
    token_hash: &str,
) -> Result<Option<TokenRow>, StoreError> {
    Ok(api_tokens::table
        .filter(api_tokens::token_hash.eq(token_hash))
        .filter(api_tokens::revoked_at.is_null())
        .select(TokenRow::as_select())
        .first(conn)
        .optional()?)
}

/// Every unrevoked token, with its hash.
pub fn all_active(conn: &mut AnyConnection) -> Result<Vec<(String, TokenRow)>, StoreError> {
    Ok(api_tokens::table
        .filter(api_tokens::revoked_at.is_null())
        .select((api_tokens::token_hash, TokenRow::as_select()))
        .load(conn)?)
}

/// Revokes token `id`; returns whether it existed and was active.
pub fn revoke(conn: &mut AnyConnection, id: i64, at: DateTime<Utc>) -> Result<bool, StoreError> {
    let changed = diesel::update(
        api_tokens::table
            .find(id)
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(Some(to_db(at))))
    .execute(conn)?;
    Ok(changed == 1)
}

/// The sources of the unrevoked ingest tokens, sorted, each once.
pub fn ingest_sources(conn: &mut AnyConnection) -> Result<Vec<String>, StoreError> {
    Ok(api_tokens::table
        .filter(api_tokens::role.eq("ingest"))
        .filter(api_tokens::revoked_at.is_null())
        .filter(api_tokens::source.is_not_null())
        .select(api_tokens::source.assume_not_null())
        .distinct()
        .order(api_tokens::source.assume_not_null())
        .load(conn)?)
}
