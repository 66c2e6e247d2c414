//! The current state of dossiers, guarded by version, and the change log
//! appended in the same transaction.
//!
//! On PostgreSQL a batch is applied set by set: one `SELECT … FOR UPDATE`
//! for the batch's codes, multi-row inserts, one `UPDATE … FROM unnest(…)`,
//! and the change log by `COPY`. On SQLite, which runs in-process, row by
//! row inside one transaction.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::connection::SimpleConnection as _;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;
use diesel::sql_types::{Array, BigInt, Bool, Nullable, SmallInt, Text, Timestamp};
use diesel::sqlite::SqliteConnection;
use ioc_core::{Dossier, DossierState, Status, VersionOrder};

use crate::imports::CheckpointRow;
use crate::schema::{dossier_changes, dossiers, import_checkpoints};
use crate::time::{from_db, to_db};
use crate::{AnyConnection, StoreError};

/// What happened to one incoming version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A dossier not seen before; one change appended.
    Inserted,
    /// A newer version replaced the stored one; one change appended.
    Updated,
    /// The stored version, sent again; nothing written.
    Duplicate,
    /// Older than the stored version; nothing written.
    Stale,
    /// The stored dossier is of a unit the writer may not write (it may
    /// neither move nor withdraw it); nothing written.
    OutOfScope,
}

/// Outcomes counted: accepted (inserted or updated), duplicates, stale.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Inserted or updated.
    pub accepted: u64,
    /// Identical to the stored version.
    pub duplicates: u64,
    /// Older than the stored version.
    pub stale: u64,
}

impl Tally {
    /// Counts `outcomes`.
    pub fn of(outcomes: &[Outcome]) -> Tally {
        let mut tally = Tally::default();
        for outcome in outcomes {
            match outcome {
                Outcome::Inserted | Outcome::Updated => tally.accepted += 1,
                Outcome::Duplicate => tally.duplicates += 1,
                Outcome::Stale => tally.stale += 1,
                Outcome::OutOfScope => {}
            }
        }
        tally
    }
}

impl Outcome {
    /// Whether the version was accepted as a change.
    pub fn is_accepted(self) -> bool {
        matches!(self, Outcome::Inserted | Outcome::Updated)
    }
}

/// A dossier row as stored (without its surrogate key).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = dossiers, treat_none_as_null = true, treat_none_as_default_value = false)]
pub(crate) struct DossierRow {
    pub(crate) source: String,
    pub(crate) code: String,
    pub(crate) unit_code: String,
    pub(crate) procedure_code: String,
    pub(crate) channel: String,
    pub(crate) status: i16,
    pub(crate) received_at: Option<NaiveDateTime>,
    pub(crate) due_at: Option<NaiveDateTime>,
    pub(crate) finished_at: Option<NaiveDateTime>,
    pub(crate) stopped_at: Option<NaiveDateTime>,
    pub(crate) fee_required: bool,
    pub(crate) paid_online: bool,
    pub(crate) e_result: bool,
    pub(crate) updated_at: NaiveDateTime,
}

impl DossierRow {
    pub(crate) fn from_state(state: &DossierState) -> Self {
        let d = &state.dossier;
        DossierRow {
            source: state.source.clone(),
            code: d.code.clone(),
            unit_code: d.unit.clone(),
            procedure_code: d.procedure.clone(),
            channel: d.channel.as_str().to_owned(),
            status: d.status.code(),
            received_at: d.received_at.map(to_db),
            due_at: d.due_at.map(to_db),
            finished_at: d.finished_at.map(to_db),
            stopped_at: state.stopped_at.map(to_db),
            fee_required: d.fee_required,
            paid_online: d.paid_online,
            e_result: d.e_result,
            updated_at: to_db(d.updated_at),
        }
    }

    pub(crate) fn into_state(self) -> Result<DossierState, StoreError> {
        let corrupt = |what: String| {
            StoreError::Corrupt(format!("dossier {}/{}: {what}", self.source, self.code))
        };
        let channel = self.channel.parse().map_err(|e| corrupt(format!("{e}")))?;
        let status =
            Status::from_code(i64::from(self.status)).map_err(|e| corrupt(format!("{e}")))?;
        Ok(DossierState {
            dossier: Dossier {
                code: self.code,
                unit: self.unit_code,
                procedure: self.procedure_code,
                channel,
                status,
                received_at: self.received_at.map(from_db),
                due_at: self.due_at.map(from_db),
                finished_at: self.finished_at.map(from_db),
                fee_required: self.fee_required,
                paid_online: self.paid_online,
                e_result: self.e_result,
                updated_at: from_db(self.updated_at),
            },
            source: self.source,
            stopped_at: self.stopped_at.map(from_db),
        })
    }
}

/// One row of the change log, without its sequence number.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = dossier_changes, treat_none_as_default_value = false)]
pub(crate) struct ChangeBody {
    pub(crate) recorded_at: NaiveDateTime,
    pub(crate) source: String,
    pub(crate) code: String,
    pub(crate) old_unit_code: Option<String>,
    pub(crate) old_procedure_code: Option<String>,
    pub(crate) old_channel: Option<String>,
    pub(crate) old_status: Option<i16>,
    pub(crate) old_received_at: Option<NaiveDateTime>,
    pub(crate) old_due_at: Option<NaiveDateTime>,
    pub(crate) old_finished_at: Option<NaiveDateTime>,
    pub(crate) old_stopped_at: Option<NaiveDateTime>,
    pub(crate) old_fee_required: Option<bool>,
    pub(crate) old_paid_online: Option<bool>,
    pub(crate) old_e_result: Option<bool>,
    pub(crate) old_updated_at: Option<NaiveDateTime>,
    pub(crate) new_unit_code: String,
    pub(crate) new_procedure_code: String,
    pub(crate) new_channel: String,
    pub(crate) new_status: i16,
    pub(crate) new_received_at: Option<NaiveDateTime>,
    pub(crate) new_due_at: Option<NaiveDateTime>,
    pub(crate) new_finished_at: Option<NaiveDateTime>,
    pub(crate) new_stopped_at: Option<NaiveDateTime>,
    pub(crate) new_fee_required: bool,
    pub(crate) new_paid_online: bool,
    pub(crate) new_e_result: bool,
    pub(crate) new_updated_at: NaiveDateTime,
}

impl ChangeBody {
    fn new(recorded_at: NaiveDateTime, old: Option<&DossierRow>, new: DossierRow) -> Self {
        ChangeBody {
            recorded_at,
            old_unit_code: old.map(|o| o.unit_code.clone()),
            old_procedure_code: old.map(|o| o.procedure_code.clone()),
            old_channel: old.map(|o| o.channel.clone()),
            old_status: old.map(|o| o.status),
            old_received_at: old.and_then(|o| o.received_at),
            old_due_at: old.and_then(|o| o.due_at),
            old_finished_at: old.and_then(|o| o.finished_at),
            old_stopped_at: old.and_then(|o| o.stopped_at),
            old_fee_required: old.map(|o| o.fee_required),
            old_paid_online: old.map(|o| o.paid_online),
            old_e_result: old.map(|o| o.e_result),
            old_updated_at: old.map(|o| o.updated_at),
            source: new.source,
            code: new.code,
            new_unit_code: new.unit_code,
            new_procedure_code: new.procedure_code,
            new_channel: new.channel,
            new_status: new.status,
            new_received_at: new.received_at,
            new_due_at: new.due_at,
            new_finished_at: new.finished_at,
            new_stopped_at: new.stopped_at,
            new_fee_required: new.fee_required,
            new_paid_online: new.paid_online,
            new_e_result: new.e_result,
            new_updated_at: new.updated_at,
        }
    }

    /// The state before the change, if the dossier existed.
    pub(crate) fn old_row(&self) -> Option<DossierRow> {
        Some(DossierRow {
            source: self.source.clone(),
            code: self.code.clone(),
            unit_code: self.old_unit_code.clone()?,
            procedure_code: self.old_procedure_code.clone()?,
            channel: self.old_channel.clone()?,
            status: self.old_status?,
            received_at: self.old_received_at,
            due_at: self.old_due_at,
            finished_at: self.old_finished_at,
            stopped_at: self.old_stopped_at,
            fee_required: self.old_fee_required?,
            paid_online: self.old_paid_online?,
            e_result: self.old_e_result?,
            updated_at: self.old_updated_at?,
        })
    }

    /// The state after the change.
    pub(crate) fn new_row(&self) -> DossierRow {
        DossierRow {
            source: self.source.clone(),
            code: self.code.clone(),
            unit_code: self.new_unit_code.clone(),
            procedure_code: self.new_procedure_code.clone(),
            channel: self.new_channel.clone(),
            status: self.new_status,
            received_at: self.new_received_at,
            due_at: self.new_due_at,
            finished_at: self.new_finished_at,
            stopped_at: self.new_stopped_at,
            fee_required: self.new_fee_required,
            paid_online: self.new_paid_online,
            e_result: self.new_e_result,
            updated_at: self.new_updated_at,
        }
    }
}

/// Applies `versions` from `source` in one transaction. Each version is
/// compared with the stored state of its dossier: a newer one replaces it
/// and appends one row to the change log, an identical one is a duplicate,
/// an older one is stale. Several versions of one dossier in `versions`
/// apply in order. Returns one outcome per version, in order.
pub fn apply(
    conn: &mut AnyConnection,
    source: &str,
    versions: &[Dossier],
    recorded_at: DateTime<Utc>,
) -> Result<Vec<Outcome>, StoreError> {
    apply_then(conn, source, versions, recorded_at, &|_| true, None)
}

/// Whether a writer may change a stored dossier of the unit with this code.
pub type MayWrite<'a> = &'a dyn Fn(&str) -> bool;

/// [`apply`] for a writer limited to some units: a version whose stored
/// dossier is of a unit outside `may_write` is [`Outcome::OutOfScope`],
/// decided under the row's lock, so that no writer moves or withdraws a
/// dossier of another's units.
pub fn apply_within(
    conn: &mut AnyConnection,
    source: &str,
    versions: &[Dossier],
    recorded_at: DateTime<Utc>,
    may_write: MayWrite<'_>,
) -> Result<Vec<Outcome>, StoreError> {
    apply_then(conn, source, versions, recorded_at, may_write, None)
}

/// Makes the checkpoint row to write once the outcomes of a chunk are known.
pub(crate) type CheckpointFn<'a> = &'a dyn Fn(&[Outcome]) -> CheckpointRow;

/// [`apply`], also writing the checkpoint made by `checkpoint` from the
/// outcomes, in the same transaction.
pub(crate) fn apply_then(
    conn: &mut AnyConnection,
    source: &str,
    versions: &[Dossier],
    recorded_at: DateTime<Utc>,
    may_write: MayWrite<'_>,
    checkpoint: Option<CheckpointFn<'_>>,
) -> Result<Vec<Outcome>, StoreError> {
    let recorded_at = to_db(recorded_at);
    match conn {
        AnyConnection::Postgresql(pg) => {
            apply_postgres(pg, source, versions, recorded_at, may_write, checkpoint)
        }
        // IMMEDIATE takes the write lock up front: two deferred transactions
        // that both read and then write would make one fail with "busy".
        AnyConnection::Sqlite(sqlite) => sqlite.immediate_transaction(|c| {
            let outcomes = apply_rows(c, source, versions, recorded_at, may_write)?;
            if let Some(checkpoint) = checkpoint {
                diesel::replace_into(import_checkpoints::table)
                    .values(checkpoint(&outcomes))
                    .execute(c)?;
            }
            Ok(outcomes)
        }),
    }
}

/// The stored state of dossier `code` from `source`.
pub fn find(
    conn: &mut AnyConnection,
    source: &str,
    code: &str,
) -> Result<Option<DossierState>, StoreError> {
    dossiers::table
        .filter(dossiers::source.eq(source))
        .filter(dossiers::code.eq(code))
        .select(DossierRow::as_select())
        .first(conn)
        .optional()?
        .map(DossierRow::into_state)
        .transpose()
}

/// Up to `limit` dossiers of `source` not finished nor stopped (still in
/// process), oldest reception first.
pub fn unfinished(
    conn: &mut AnyConnection,
    source: &str,
    limit: i64,
) -> Result<Vec<DossierState>, StoreError> {
    dossiers::table
        .filter(dossiers::source.eq(source))
        .filter(dossiers::finished_at.is_null())
        .filter(dossiers::stopped_at.is_null())
        .order(dossiers::received_at.asc())
        .limit(limit)
        .select(DossierRow::as_select())
        .load(conn)?
        .into_iter()
        .map(DossierRow::into_state)
        .collect()
}

/// Number of stored dossiers.
pub fn count(conn: &mut AnyConnection) -> Result<i64, StoreError> {
    Ok(dossiers::table.count().get_result(conn)?)
}

/// What to do with one version, given the stored state of its dossier.
enum Step {
    Insert(DossierRow),
    Update {
        id: i64,
        old: DossierRow,
        new: DossierRow,
    },
    Skip(Outcome),
}

fn decide(
    source: &str,
    version: &Dossier,
    stored: Option<(i64, &DossierRow)>,
    may_write: MayWrite<'_>,
) -> Result<Step, StoreError> {
    let Some((id, row)) = stored else {
        let state = DossierState::next(None, source, version.clone());
        return Ok(Step::Insert(DossierRow::from_state(&state)));
    };
    if !may_write(&row.unit_code) {
        return Ok(Step::Skip(Outcome::OutOfScope));
    }
    let old = row.clone().into_state()?;
    Ok(match version.order_against(&old.dossier) {
        VersionOrder::Duplicate => Step::Skip(Outcome::Duplicate),
        VersionOrder::Stale => Step::Skip(Outcome::Stale),
        VersionOrder::Newer => {
            let new = DossierState::next(Some(&old), source, version.clone());
            Step::Update {
                id,
                old: row.clone(),
                new: DossierRow::from_state(&new),
            }
        }
    })
}

fn apply_rows(
    conn: &mut SqliteConnection,
    source: &str,
    versions: &[Dossier],
    recorded_at: NaiveDateTime,
    may_write: MayWrite<'_>,
) -> Result<Vec<Outcome>, StoreError> {
    let mut outcomes: Vec<Option<Outcome>> = vec![None; versions.len()];
    let mut changes = Vec::new();
    for round in rounds(versions) {
        let codes: Vec<&str> = round.iter().map(|&i| versions[i].code.as_str()).collect();
        let mut stored: HashMap<String, (i64, DossierRow)> = HashMap::with_capacity(codes.len());
        for chunk in codes.chunks(SQLITE_VARIABLES / 2) {
            let rows = dossiers::table
                .filter(dossiers::source.eq(source))
                .filter(dossiers::code.eq_any(chunk))
                .select((dossiers::id, DossierRow::as_select()))
                .load::<(i64, DossierRow)>(conn)?;
            stored.extend(
                rows.into_iter()
                    .map(|(id, row)| (row.code.clone(), (id, row))),
            );
        }
        let mut inserts = Vec::new();
        for &i in &round {
            let found = stored.get(&versions[i].code).map(|(id, row)| (*id, row));
            match decide(source, &versions[i], found, may_write)? {
                Step::Skip(outcome) => outcomes[i] = Some(outcome),
                Step::Insert(new) => inserts.push((i, new)),
                Step::Update { id, old, new } => {
                    diesel::update(dossiers::table.find(id))
                        .set(&new)
                        .execute(conn)?;
                    outcomes[i] = Some(Outcome::Updated);
                    changes.push(ChangeBody::new(recorded_at, Some(&old), new));
                }
            }
        }
        for chunk in inserts.chunks(SQLITE_VARIABLES / DOSSIER_COLUMNS) {
            let rows: Vec<&DossierRow> = chunk.iter().map(|(_, row)| row).collect();
            diesel::insert_into(dossiers::table)
                .values(rows)
                .execute(conn)?;
        }
        for (i, row) in inserts {
            outcomes[i] = Some(Outcome::Inserted);
            changes.push(ChangeBody::new(recorded_at, None, row));
        }
    }
    for chunk in changes.chunks(SQLITE_VARIABLES / CHANGE_COLUMNS) {
        diesel::insert_into(dossier_changes::table)
            .values(chunk)
            .execute(conn)?;
    }
    collect_outcomes(outcomes)
}

/// Bind variables SQLite accepts in one statement.
const SQLITE_VARIABLES: usize = 32_766;
/// Columns of a dossier row written by an insert.
const DOSSIER_COLUMNS: usize = 14;
/// Columns of a change row written by an insert.
const CHANGE_COLUMNS: usize = 27;

fn collect_outcomes(outcomes: Vec<Option<Outcome>>) -> Result<Vec<Outcome>, StoreError> {
    outcomes
        .into_iter()
        .map(|o| {
            o.ok_or_else(|| StoreError::Corrupt("a version was left without an outcome".to_owned()))
        })
        .collect()
}

/// Rows per multi-row INSERT: 14 columns stay under PostgreSQL's 65,535
/// bind parameters.
const INSERT_CHUNK: usize = 4_000;

/// Transactions that deadlock with a concurrent one are retried this often,
/// after a growing pause with jitter, so that the two do not meet again in
/// step (batches with several versions of a code lock in code order within
/// each round, not across rounds).
const DEADLOCK_RETRIES: u32 = 6;

fn apply_postgres(
    pg: &mut PgConnection,
    source: &str,
    versions: &[Dossier],
    recorded_at: NaiveDateTime,
    may_write: MayWrite<'_>,
    checkpoint: Option<CheckpointFn<'_>>,
) -> Result<Vec<Outcome>, StoreError> {
    let mut attempt = 0;
    loop {
        let result = pg.transaction(|pg| {
            let outcomes = apply_sets(pg, source, versions, recorded_at, may_write)?;
            if let Some(checkpoint) = checkpoint {
                let row = checkpoint(&outcomes);
                diesel::insert_into(import_checkpoints::table)
                    .values(&row)
                    .on_conflict((import_checkpoints::source, import_checkpoints::file_key))
                    .do_update()
                    .set(&row)
                    .execute(pg)?;
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

fn apply_sets(
    pg: &mut PgConnection,
    source: &str,
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
                .filter(dossiers::source.eq(source))
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
                let found = stored.get(&version.code).map(|(id, row)| (*id, row));
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

/// Splits `versions` into rounds in which each dossier code appears once,
/// keeping the order of a code's versions across rounds.
fn rounds(versions: &[Dossier]) -> Vec<Vec<usize>> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut rounds: Vec<Vec<usize>> = Vec::new();
    for (i, version) in versions.iter().enumerate() {
        let round = seen.entry(version.code.as_str()).or_insert(0);
        if rounds.len() <= *round {
            rounds.push(Vec::new());
        }
        rounds[*round].push(i);
        *round += 1;
    }
    rounds
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

/// The stored states of dossiers `codes` from `source`, by code.
pub fn find_many(
    conn: &mut AnyConnection,
    source: &str,
    codes: &[String],
) -> Result<HashMap<String, DossierState>, StoreError> {
    let mut found = HashMap::with_capacity(codes.len());
    // Bounded IN lists: SQLite allows 32,766 variables per statement.
    for chunk in codes.chunks(10_000) {
        let rows: Vec<DossierRow> = dossiers::table
            .filter(dossiers::source.eq(source))
            .filter(dossiers::code.eq_any(chunk))
            .select(DossierRow::as_select())
            .load(conn)?;
        for row in rows {
            found.insert(row.code.clone(), row.into_state()?);
        }
    }
    Ok(found)
}
