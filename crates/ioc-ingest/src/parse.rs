//! One entry per wire format: a body read, within the batch limit, into a
//! [`ParsedBatch`], or refused as a whole with a [`BatchError`].

use ioc_core::{Dossier, UnitTree};

use crate::dvcqg::{self, PROGRESS, PROGRESS_SERVICE, ProgressStep, SYNC_SERVICE};
use crate::error::{BatchError, FieldError};
use crate::native;
use crate::scope::WriteScope;

/// A batch read from its wire format: each record with its 0-based
/// position in the batch (for NDJSON, the line number − 1), parsed or
/// rejected.
#[derive(Debug)]
pub enum ParsedBatch {
    /// Dossier versions: native JSON or NDJSON, DVCQG `DongBoHoSoMC`.
    Versions(Vec<(usize, Result<Dossier, FieldError>)>),
    /// Steps that move dossiers already stored: DVCQG `CapNhatTienDoHoSoMC`.
    Steps(Vec<(usize, Result<ProgressStep, FieldError>)>),
}

/// Reads a native JSON array (`application/json`) of at most
/// `max_records` dossier versions.
pub fn parse_json_array(
    body: &[u8],
    tree: &UnitTree,
    max_records: usize,
) -> Result<ParsedBatch, BatchError> {
    let elements = native::read_json_array(body, max_records)?;
    Ok(native_versions(elements, tree))
}

/// Reads native NDJSON (`application/x-ndjson`) of at most `max_records`
/// dossier versions; a line that is not JSON is that record's error.
pub fn parse_ndjson(
    body: &[u8],
    tree: &UnitTree,
    max_records: usize,
) -> Result<ParsedBatch, BatchError> {
    let elements = native::read_ndjson(body, max_records)?;
    Ok(native_versions(elements, tree))
}

/// Reads a DVCQG `DongBoHoSoMC` body of at most `max_records` dossiers.
/// The envelope's `madonvi`, when given, must be a unit within `scope`.
pub fn parse_dvcqg_sync(
    body: &[u8],
    cx: &dvcqg::Context<'_>,
    scope: &WriteScope,
    max_records: usize,
) -> Result<ParsedBatch, BatchError> {
    let envelope = dvcqg::read(body, SYNC_SERVICE, &dvcqg::DOSSIER, max_records)?;
    let unit = envelope_unit(envelope.unit.as_deref(), cx.tree, scope)?;
    Ok(ParsedBatch::Versions(
        envelope
            .records
            .iter()
            .map(|r| dvcqg::dossier(r, unit, cx))
            .enumerate()
            .collect(),
    ))
}

/// Reads a DVCQG `CapNhatTienDoHoSoMC` body of at most `max_records`
/// progress steps.
pub fn parse_dvcqg_progress(
    body: &[u8],
    cx: &dvcqg::Context<'_>,
    max_records: usize,
) -> Result<ParsedBatch, BatchError> {
    let envelope = dvcqg::read(body, PROGRESS_SERVICE, &PROGRESS, max_records)?;
    Ok(ParsedBatch::Steps(
        envelope
            .records
            .iter()
            .map(|r| dvcqg::progress_step(r, cx))
            .enumerate()
            .collect(),
    ))
}

fn native_versions(elements: Vec<native::Positioned>, tree: &UnitTree) -> ParsedBatch {
    ParsedBatch::Versions(
        elements
            .into_iter()
            .map(|(i, e)| (i, e.and_then(|e| native::from_element(&e, tree))))
            .collect(),
    )
}

/// The envelope's `madonvi` as sent, once it resolves to a unit within
/// `scope`.
fn envelope_unit<'a>(
    sent: Option<&'a str>,
    tree: &UnitTree,
    scope: &WriteScope,
) -> Result<Option<&'a str>, BatchError> {
    let Some(sent) = sent else {
        return Ok(None);
    };
    match tree.resolve(sent) {
        Ok(unit) if scope.allows(unit.as_str()) => Ok(Some(sent)),
        Ok(unit) => Err(BatchError::UnitOutsideScope {
            sent: sent.to_owned(),
            unit: unit.clone(),
        }),
        Err(e) => Err(BatchError::UnknownUnit(e)),
    }
}
