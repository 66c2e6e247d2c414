//! The PostgreSQL fast path: a batch applied set by set, in one
//! transaction retried on deadlock.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection as _;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;
use diesel::sql_types::{Array, BigInt, Bool, Nullable, SmallInt, Text, Timestamp};
use ioc_core::{Dossier, Source};

use super::{
    AfterApply, ChangeBody, DossierRow, MayWrite, Outcome, Step, collect_outcomes, decide, rounds,
};
use crate::StoreError;
use crate::schema::{dossier_changes, dossiers};

/// Rows per multi-row INSERT: 14 columns stay under PostgreSQL's 65,535
/// bind parameters.
const INSERT_CHUNK: usize = 4_000;

/// Transactions that deadlock with a concurrent one are retried this often,
/// after a growing pause with jitter, so that the two do not meet again in
/// step (batches with several versions of a code lock in code order within
/// each round, not across rounds).
const DEADLOCK_RETRIES: u32 = 6;

/// [`super::apply_then`] on PostgreSQL.
pub(super) fn apply(
    pg: &mut PgConnection,
    source: &Source,
    versions: &[Dossier],
    recorded_at: NaiveDateTime,
    may_write: MayWrite<'_>,
    then: Option<&dyn AfterApply>,
) -> Result<Vec<Outcome>, StoreError> {
    let mut attempt = 0;
    loop {
        let result = pg.transaction(|pg| {
            let outcomes = apply_sets(pg, source, versions, recorded_at, may_write)?;
            if let Some(then) = then {
                then.postgres(pg, &outcomes)?;
            }
            Ok(outcomes)
        });
        match result {
            Err(StoreError::Query(diesel::result::Error::DatabaseError(_, info)))
                if attempt < DEADLOCK_RETRIES && info.message().contains("deadlock detected") =>
            {
                attempt += 1;
                tracing::warn!(
                    message = "Batch deadlocked with another; retrying.",
                    attempt
                );
                let jitter = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| u64::from(d.subsec_micros() % 10_000));
                std::thread::sleep(
                    std::time::Duration::from_millis(5 << attempt)
                        + std::time::Duration::from_micros(jitter),
                );
            }
            result => return result,
        }
    }
}

/// Largest batch whose lookup is planned for its own codes.
const CUSTOM_PLAN_MAX_CODES: usize = 500;

/// Applies `versions` set by set, in the caller's transaction.
fn apply_sets(
    pg: &mut PgConnection,
    source: &Source,
    versions: &[Dossier],
    recorded_at: NaiveDateTime,
    may_write: MayWrite<'_>,
) -> Result<Vec<Outcome>, StoreError> {
    let mut outcomes: Vec<Option<Outcome>> = vec![None; versions.len()];
    let mut changes = Vec::new();
    for round in rounds(versions) {
        let mut pending = round;
        // A code another transaction inserts concurrently conflicts with our
        // insert; it then exists, and the next pass treats it as stored.
        while !pending.is_empty() {
            let codes: Vec<&str> = pending.iter().map(|&i| versions[i].code.as_str()).collect();
            // Small batches arriving steadily (as sync clients send them)
            // ran twice as slowly on the cached generic plan of this lookup
            // as on a plan made for their codes (`ioc-bench stream`,
            // BENCHMARKS.md); for large batches, planning for every code
            // costs more than it saves (`ioc-bench ingest`).
            let plan = if codes.len() <= CUSTOM_PLAN_MAX_CODES {
                "force_custom_plan"
            } else {
                "auto"
            };
            pg.batch_execute(&format!("SET LOCAL plan_cache_mode = {plan}"))?;
            let stored: HashMap<String, (i64, DossierRow)> = dossiers::table
                .filter(dossiers::source.eq(source.as_str()))
                .filter(dossiers::code.eq_any(&codes))
                .order(dossiers::code)
                .for_update()
                .select((dossiers::id, DossierRow::as_select()))
                .load::<(i64, DossierRow)>(pg)?
                .into_iter()
                .map(|(id, row)| (row.code.clone(), (id, row)))
                .collect();
            pg.batch_execute("SET LOCAL plan_cache_mode = auto")?;
            let mut inserts = Vec::new();
            let mut updates = Vec::new();
            for &i in &pending {
                let version = &versions[i];
                let found = stored
                    .get(version.code.as_str())
                    .map(|(id, row)| (*id, row));
                match decide(source, version, found, may_write)? {
                    Step::Skip(outcome) => outcomes[i] = Some(outcome),
                    Step::Insert(new) => inserts.push((i, new)),
                    Step::Update { id, old, new } => updates.push((i, id, old, new)),
                }
            }
            // Lock and insert in code order, so that concurrent batches meet
            // their common rows in the same order and do not deadlock.
            inserts.sort_by(|a, b| a.1.code.cmp(&b.1.code));
            update_rows(pg, &updates)?;
            for (i, _, old, new) in updates {
                outcomes[i] = Some(Outcome::Updated);
                changes.push(ChangeBody::new(recorded_at, Some(&old), new));
            }
            pending = insert_rows(pg, inserts, recorded_at, &mut outcomes, &mut changes)?;
        }
    }
    if !changes.is_empty() {
        diesel::copy_from(dossier_changes::table)
            .from_insertable(&changes)
            .execute(pg)?;
    }
    collect_outcomes(outcomes)
}

/// Inserts new dossiers; returns the indices of versions whose code was
/// inserted concurrently by another transaction.
fn insert_rows(
    pg: &mut PgConnection,
    inserts: Vec<(usize, DossierRow)>,
    recorded_at: NaiveDateTime,
    outcomes: &mut [Option<Outcome>],
    changes: &mut Vec<ChangeBody>,
) -> Result<Vec<usize>, StoreError> {
    if inserts.is_empty() {
        return Ok(Vec::new());
    }
    let (indices, rows): (Vec<usize>, Vec<DossierRow>) = inserts.into_iter().unzip();
    // Fast path: COPY, in a savepoint. It fails as a whole if another
    // transaction inserted one of the codes meanwhile; then the rows go in
    // with ON CONFLICT DO NOTHING, and the conflicting ones are returned.
    let copied = pg.transaction(|pg| {
        diesel::copy_from(dossiers::table)
            .from_insertable(&rows)
            .execute(pg)
    });
    let done: Option<std::collections::HashSet<String>> = match copied {
        Ok(_) => None,
        Err(diesel::result::Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            let mut done = std::collections::HashSet::new();
            for chunk in rows.chunks(INSERT_CHUNK) {
                done.extend(
                    diesel::insert_into(dossiers::table)
                        .values(chunk)
                        .on_conflict((dossiers::source, dossiers::code))
                        .do_nothing()
                        .returning(dossiers::code)
                        .get_results::<String>(pg)?,
                );
            }
            Some(done)
        }
        Err(e) => return Err(e.into()),
    };
    let mut conflicted = Vec::new();
    for (i, row) in indices.into_iter().zip(rows) {
        if done.as_ref().is_none_or(|d| d.contains(&row.code)) {
            outcomes[i] = Some(Outcome::Inserted);
            changes.push(ChangeBody::new(recorded_at, None, row));
        } else {
            conflicted.push(i);
        }
    }
    Ok(conflicted)
}

/// Writes new states over stored dossiers in one statement.
fn update_rows(
    pg: &mut PgConnection,
    updates: &[(usize, i64, DossierRow, DossierRow)],
) -> Result<(), StoreError> {
    if updates.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&DossierRow) -> Option<NaiveDateTime>| -> Vec<Option<NaiveDateTime>> {
        updates.iter().map(|(_, _, _, new)| f(new)).collect()
    };
    diesel::sql_query(
        "UPDATE dossiers AS d SET unit_code = v.unit_code, procedure_code = v.procedure_code, \
         channel = v.channel, status = v.status, received_at = v.received_at, due_at = v.due_at, \
         finished_at = v.finished_at, stopped_at = v.stopped_at, fee_required = v.fee_required, \
         paid_online = v.paid_online, e_result = v.e_result, updated_at = v.updated_at \
         FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         AS v(id, unit_code, procedure_code, channel, status, received_at, due_at, finished_at, \
              stopped_at, fee_required, paid_online, e_result, updated_at) \
         WHERE d.id = v.id",
    )
    .bind::<Array<BigInt>, _>(updates.iter().map(|u| u.1).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(
        updates
            .iter()
            .map(|u| u.3.unit_code.clone())
            .collect::<Vec<_>>(),
    )
    .bind::<Array<Text>, _>(
        updates
            .iter()
            .map(|u| u.3.procedure_code.clone())
            .collect::<Vec<_>>(),
    )
    .bind::<Array<Text>, _>(
        updates
            .iter()
            .map(|u| u.3.channel.clone())
            .collect::<Vec<_>>(),
    )
    .bind::<Array<SmallInt>, _>(updates.iter().map(|u| u.3.status).collect::<Vec<_>>())
    .bind::<Array<Nullable<Timestamp>>, _>(column(|r| r.received_at))
    .bind::<Array<Nullable<Timestamp>>, _>(column(|r| r.due_at))
    .bind::<Array<Nullable<Timestamp>>, _>(column(|r| r.finished_at))
    .bind::<Array<Nullable<Timestamp>>, _>(column(|r| r.stopped_at))
    .bind::<Array<Bool>, _>(updates.iter().map(|u| u.3.fee_required).collect::<Vec<_>>())
    .bind::<Array<Bool>, _>(updates.iter().map(|u| u.3.paid_online).collect::<Vec<_>>())
    .bind::<Array<Bool>, _>(updates.iter().map(|u| u.3.e_result).collect::<Vec<_>>())
    .bind::<Array<Timestamp>, _>(updates.iter().map(|u| u.3.updated_at).collect::<Vec<_>>())
    .execute(pg)?;
    Ok(())
}
