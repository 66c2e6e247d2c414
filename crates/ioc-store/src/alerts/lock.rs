//! The lock that serialises alert writers.

use diesel::prelude::*;

use crate::{AnyConnection, StoreError};

/// The advisory lock that serialises alert writers on PostgreSQL.
const WRITE_LOCK: i64 = 0x10C_A1E7;

/// Runs `work` in a transaction that holds the alert write lock.
pub(super) fn locked<R>(
    conn: &mut AnyConnection,
    work: impl FnOnce(&mut AnyConnection) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    type Manager = <AnyConnection as Connection>::TransactionManager;
    match conn {
        AnyConnection::Postgresql(_) => conn.transaction(|conn| {
            diesel::sql_query(format!("SELECT pg_advisory_xact_lock({WRITE_LOCK})"))
                .execute(conn)?;
            work(conn)
        }),
        // IMMEDIATE takes the write lock up front: a deferred transaction
        // that read before another writer committed could not write (WAL).
        AnyConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
            match work(conn) {
                Ok(result) => {
                    Manager::commit_transaction(conn)?;
                    Ok(result)
                }
                Err(e) => {
                    Manager::rollback_transaction(conn)?;
                    Err(e)
                }
            }
        }
    }
}
