//! The current state of dossiers, guarded by version, and the change log
//! appended in the same transaction.
//!
//! On PostgreSQL a batch is applied set by set: one `SELECT … FOR UPDATE`
//! of the batch's codes, `COPY` of new dossiers (falling back to `INSERT …
//! ON CONFLICT DO NOTHING` on a concurrent insert), one `UPDATE … FROM
//! unnest(…)`, and the change log by `COPY`. On SQLite, one `IMMEDIATE`
//! transaction: updates row by row, inserts in multi-row chunks.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;
use ioc_core::{Dossier, DossierState, Source, VersionOrder};

use crate::time::to_db;
use crate::{AnyConnection, StoreError};

mod postgres;
mod reads;
mod rows;
mod sqlite;

pub use reads::{count, find, find_many, unfinished};
pub(crate) use rows::{ChangeBody, DossierRow};

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

/// Applies `versions` from `source` in one transaction. Each version is
/// compared with the stored state of its dossier: a newer one replaces it
/// and appends one row to the change log, an identical one is a duplicate,
/// an older one is stale. Several versions of one dossier in `versions`
/// apply in order. Returns one outcome per version, in order.
pub fn apply(
    conn: &mut AnyConnection,
    source: &Source,
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
    source: &Source,
    versions: &[Dossier],
    recorded_at: DateTime<Utc>,
    may_write: MayWrite<'_>,
) -> Result<Vec<Outcome>, StoreError> {
    apply_then(conn, source, versions, recorded_at, may_write, None)
}

/// Work done in a batch's transaction once its outcomes are known (`ioc
/// import` writes its checkpoint so). Owned here, so that this module needs
/// nothing of the modules that hook into it.
pub(crate) trait AfterApply {
    /// Runs inside the batch's transaction on PostgreSQL.
    fn postgres(&self, pg: &mut PgConnection, outcomes: &[Outcome]) -> Result<(), StoreError>;
    /// Runs inside the batch's transaction on SQLite.
    fn sqlite(&self, sqlite: &mut SqliteConnection, outcomes: &[Outcome])
    -> Result<(), StoreError>;
}

/// [`apply`], also running `then` with the outcomes, in the same
/// transaction.
pub(crate) fn apply_then(
    conn: &mut AnyConnection,
    source: &Source,
    versions: &[Dossier],
    recorded_at: DateTime<Utc>,
    may_write: MayWrite<'_>,
    then: Option<&dyn AfterApply>,
) -> Result<Vec<Outcome>, StoreError> {
    let recorded_at = to_db(recorded_at);
    match conn {
        AnyConnection::Postgresql(pg) => {
            postgres::apply(pg, source, versions, recorded_at, may_write, then)
        }
        AnyConnection::Sqlite(sqlite) => {
            sqlite::apply(sqlite, source, versions, recorded_at, may_write, then)
        }
    }
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

/// What to do with `version`, given the stored row of its dossier (and its id).
fn decide(
    source: &Source,
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

/// The outcomes, failing if a version was left without one.
fn collect_outcomes(outcomes: Vec<Option<Outcome>>) -> Result<Vec<Outcome>, StoreError> {
    outcomes
        .into_iter()
        .map(|o| {
            o.ok_or_else(|| StoreError::Corrupt("a version was left without an outcome".to_owned()))
        })
        .collect()
}
