//! The DVCQG sync format (DOMAIN.md §2), so that a province's existing sync
//! client can point at ioc: `DongBoHoSoMC` sends dossiers, and
//! `CapNhatTienDoHoSoMC` sends progress steps that move a dossier's status.
//!
//! A body is a bare JSON array, or the envelope
//! `{"session", "madonvi", "service", "isUpdating", "data": [...]}`. Times
//! are `yyyyMMddHHmmss` in local time; an empty string means none. Only the
//! fields a metric needs are read: personal data never enters ioc.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use ioc_core::{
    Channel, Dossier, DossierCode, DossierState, LocalCalendar, ProcedureCode, Source, Status,
    UnitCode, UnitTree,
};

use crate::error::{BatchError, FieldError};
use crate::native::{MAX_CODE_LEN, MAX_PROCEDURE_LEN};
use crate::wire::{self, Element, List, Object, Scalar, Schema};

/// The service name of dossier sync.
pub const SYNC_SERVICE: &str = "DongBoHoSoMC";
/// The service name of progress updates.
pub const PROGRESS_SERVICE: &str = "CapNhatTienDoHoSoMC";

/// What a DVCQG record is read against.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The unit tree, to resolve units by code, alias or name.
    pub tree: &'a UnitTree,
    /// The calendar of the local times in payloads.
    pub calendar: LocalCalendar,
    /// The sender's own status codes, mapped to standard ones.
    pub status_map: &'a HashMap<String, Status>,
}

/// The fields read of a `DongBoHoSoMC` record; every other field
/// (personal data among them) is skipped unread.
pub static DOSSIER: Schema = Schema {
    scalars: &[
        "MaHoSo",
        "MaTTHC",
        "KenhThucHien",
        "TrangThaiHoSo",
        "NgayNopHoSo",
        "NgayTiepNhan",
        "NgayHenTra",
        "NgayKetThucXuLy",
        "NgayTra",
        "NgayTuChoi",
        "DonViXuLy",
        "DuocThanhToanTrucTuyen",
    ],
    lists: &[("DanhSachLePhi", &FEE), ("DanhSachGiayToKetQua", &RESULT)],
};

/// The fields read of a `CapNhatTienDoHoSoMC` step.
pub static PROGRESS: Schema = Schema {
    scalars: &["MaHoSo", "TrangThai", "ThoiDiemXuLy"],
    lists: &[],
};

static FEE: Schema = Schema {
    scalars: &["Gia"],
    lists: &[],
};

static RESULT: Schema = Schema {
    scalars: &["DuongDanTepTinKetQua"],
    lists: &[],
};

/// The records of a body and the envelope's unit, if any.
#[derive(Debug)]
pub struct Envelope {
    /// `madonvi`: the sending unit, used when a record's `DonViXuLy` does not resolve.
    pub unit: Option<String>,
    /// The records.
    pub records: Vec<Element>,
}

/// Reads a body of `service` with records of `schema` ([`DOSSIER`] or
/// [`PROGRESS`]), at most `limit` of them: a bare array or an envelope.
pub fn read(
    body: &[u8],
    service: &str,
    schema: &'static Schema,
    limit: usize,
) -> Result<Envelope, BatchError> {
    let envelope = wire::envelope(body, schema, limit)?;
    if let Some(field) = envelope.duplicate {
        return Err(BatchError::Shape(format!(
            "envelope field `{field}` is given twice; send it once"
        )));
    }
    for (field, value) in [("service", &envelope.service), ("madonvi", &envelope.unit)] {
        let found = match value {
            None | Some(Scalar::Null | Scalar::Text(_)) => continue,
            // Some senders give the unit's code as a number.
            Some(Scalar::Int(_)) if field == "madonvi" => continue,
            Some(Scalar::Int(_)) => "a number",
            Some(Scalar::Bool(_)) => "a boolean",
            Some(Scalar::Float(_)) => "a fractional number",
            Some(Scalar::Other(kind)) => kind,
        };
        return Err(BatchError::Shape(format!(
            "envelope field `{field}` must be a string, not {found}"
        )));
    }
    if let Some(Scalar::Text(sent)) = &envelope.service
        && sent != service
    {
        return Err(BatchError::Shape(format!(
            "envelope service is {sent:?}, but this endpoint is {service}"
        )));
    }
    let records = match envelope.data {
        Some(Ok(records)) => records.within(limit)?,
        Some(Err(_)) => {
            return Err(BatchError::Shape(
                "envelope field `data` must be an array".to_owned(),
            ));
        }
        None => return Err(BatchError::Shape("envelope has no `data` array".to_owned())),
    };
    Ok(Envelope {
        unit: envelope.unit.as_ref().and_then(text),
        records,
    })
}

/// Normalises one `DongBoHoSoMC` record into a dossier version, as
/// METRICS.md's table "Normalised dossier" says.
pub fn dossier(
    value: &Element,
    envelope_unit: Option<&str>,
    cx: &Context<'_>,
) -> Result<Dossier, FieldError> {
    let record = object(value)?;
    let code = dossier_code(record)?;
    let code_hint = Some(code.as_str());
    let fail = |field: &str, error: String| FieldError::new(code_hint, field, error);
    let procedure = required(record, "MaTTHC", MAX_PROCEDURE_LEN, code_hint)?;
    let procedure = ProcedureCode::parse(&procedure).map_err(|e| fail("MaTTHC", e))?;
    let channel = Channel::parse_dvcqg(&scalar(record, "KenhThucHien").unwrap_or_default())
        .map_err(|e| fail("KenhThucHien", e.to_string()))?;
    let status = status(record, "TrangThaiHoSo", cx).map_err(|e| fail("TrangThaiHoSo", e))?;
    let time = |field: &str| local_time(record, field, cx.calendar).map_err(|e| fail(field, e));
    let submitted_at = time("NgayNopHoSo")?;
    let received_at = time("NgayTiepNhan")?;
    let due_at = time("NgayHenTra")?;
    let processed_at = time("NgayKetThucXuLy")?;
    let returned_at = time("NgayTra")?;
    let refused_at = time("NgayTuChoi")?;
    let unit = unit(record, envelope_unit, cx.tree).map_err(|(field, e)| fail(field, e))?;
    let updated_at = [submitted_at, received_at, processed_at, returned_at, refused_at]
        .into_iter()
        .flatten()
        .max()
        .ok_or_else(|| {
            fail(
                "NgayTiepNhan",
                "no event time (NgayNopHoSo, NgayTiepNhan, NgayKetThucXuLy, NgayTra, NgayTuChoi) to order versions by"
                    .to_owned(),
            )
        })?;
    let fee_required = fee_required(record).map_err(|e| fail("DanhSachLePhi", e))?;
    let paid_online = matches!(
        scalar(record, "DuocThanhToanTrucTuyen").as_deref(),
        Some("1" | "2")
    );
    Ok(Dossier {
        code,
        unit,
        procedure,
        channel,
        status,
        received_at: received_at.filter(|_| !status.is_unreceived()),
        due_at,
        finished_at: processed_at
            .or(returned_at)
            .filter(|_| status.is_finished()),
        fee_required,
        paid_online: paid_online && fee_required,
        e_result: e_result(record),
        updated_at,
    })
}

/// One `CapNhatTienDoHoSoMC` progress step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressStep {
    /// `MaHoSo`.
    pub code: DossierCode,
    /// `TrangThai`: the status the dossier moves to.
    pub status: Status,
    /// `ThoiDiemXuLy`: when.
    pub at: DateTime<Utc>,
}

/// Reads one progress step.
pub fn progress_step(value: &Element, cx: &Context<'_>) -> Result<ProgressStep, FieldError> {
    let record = object(value)?;
    let code = dossier_code(record)?;
    let fail = |field: &str, error: String| FieldError::new(Some(code.as_str()), field, error);
    let status = status(record, "TrangThai", cx).map_err(|e| fail("TrangThai", e))?;
    let at = local_time(record, "ThoiDiemXuLy", cx.calendar)
        .map_err(|e| fail("ThoiDiemXuLy", e))?
        .ok_or_else(|| fail("ThoiDiemXuLy", "is required".to_owned()))?;
    Ok(ProgressStep { code, status, at })
}

impl ProgressStep {
    /// The version of `stored` after this step: the new status at the
    /// step's time, received or finished then if it had not been yet.
    pub fn next_version(&self, stored: &DossierState) -> Dossier {
        let mut next = stored.dossier.clone();
        next.status = self.status;
        next.updated_at = self.at;
        if self.status.is_unreceived() {
            next.received_at = None;
        } else if next.received_at.is_none() && !self.status.is_stopped() {
            next.received_at = Some(self.at);
        }
        next.finished_at = if self.status.is_finished() {
            next.finished_at.or(Some(self.at))
        } else {
            None
        };
        next
    }
}

/// The versions that `steps` make of the dossiers of `source` in `stored`
/// (by code); a step of a dossier not stored is rejected.
pub(crate) fn versions_after(
    steps: Vec<(usize, Result<ProgressStep, FieldError>)>,
    stored: &HashMap<String, DossierState>,
    source: &Source,
) -> Vec<(usize, Result<Dossier, FieldError>)> {
    steps
        .into_iter()
        .map(|(index, step)| {
            let version = step.and_then(|step| {
                let current = stored.get(step.code.as_str()).ok_or_else(|| {
                    FieldError::new(
                        Some(step.code.as_str()),
                        "MaHoSo",
                        format!(
                            "dossier {} of source {source} is not known; send it with {SYNC_SERVICE} first",
                            step.code
                        ),
                    )
                })?;
                Ok(step.next_version(current))
            });
            (index, version)
        })
        .collect()
}

fn object(value: &Element) -> Result<&Object, FieldError> {
    match value {
        Element::Object(object) => Ok(object),
        Element::Other(kind) => Err(FieldError::new(
            None,
            "(record)",
            format!("expected a JSON object, found {kind}"),
        )),
    }
}

/// A string or number as text, trimmed (sync clients pad fields); an
/// empty string is none.
fn text(value: &Scalar) -> Option<String> {
    match value {
        Scalar::Text(s) if s.trim().is_empty() => None,
        Scalar::Text(s) => Some(s.trim().to_owned()),
        Scalar::Int(n) => Some(n.to_string()),
        Scalar::Float(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A scalar field as text.
fn scalar(record: &Object, field: &str) -> Option<String> {
    record.get(field).and_then(text)
}

/// `MaHoSo`, the dossier's code.
fn dossier_code(record: &Object) -> Result<DossierCode, FieldError> {
    let code = required(record, "MaHoSo", MAX_CODE_LEN, None)?;
    DossierCode::parse(&code).map_err(|e| FieldError::new(None, "MaHoSo", e))
}

fn required(
    record: &Object,
    field: &str,
    max: usize,
    code: Option<&str>,
) -> Result<String, FieldError> {
    match scalar(record, field) {
        None => Err(FieldError::new(code, field, "is required")),
        Some(s) if s.chars().count() > max => Err(FieldError::new(
            code,
            field,
            format!("is longer than {max} characters"),
        )),
        Some(s) => match ioc_core::text::check_plain(&s) {
            Ok(()) => Ok(s),
            Err(e) => Err(FieldError::new(code, field, e)),
        },
    }
}

fn status(record: &Object, field: &str, cx: &Context<'_>) -> Result<Status, String> {
    let raw = scalar(record, field).ok_or_else(|| "is required".to_owned())?;
    if let Some(mapped) = cx.status_map.get(&raw) {
        return Ok(*mapped);
    }
    Status::parse_dvcqg(&raw)
        .map_err(|e| format!("{e}; map the sender's own codes in ingest.status_map"))
}

fn local_time(
    record: &Object,
    field: &str,
    calendar: LocalCalendar,
) -> Result<Option<DateTime<Utc>>, String> {
    let Some(raw) = scalar(record, field) else {
        return Ok(None);
    };
    let local = NaiveDateTime::parse_from_str(&raw, "%Y%m%d%H%M%S")
        .map_err(|_| format!("{raw:?} is not a time yyyyMMddHHmmss"))?;
    calendar
        .from_local(local)
        .map(Some)
        .ok_or_else(|| format!("{raw:?} does not exist in time zone {}", calendar.zone()))
}

/// The handling unit: `DonViXuLy` (code, alias or name), else the
/// envelope's `madonvi`.
fn unit(
    record: &Object,
    envelope_unit: Option<&str>,
    tree: &UnitTree,
) -> Result<UnitCode, (&'static str, String)> {
    let own = scalar(record, "DonViXuLy").map(|name| tree.resolve(&name).cloned());
    let sender = envelope_unit.map(|u| tree.resolve(u).cloned());
    match (own, sender) {
        (Some(Ok(unit)), _) | (_, Some(Ok(unit))) => Ok(unit),
        (Some(Err(e)), _) => Err(("DonViXuLy", e.to_string())),
        (None, Some(Err(e))) => Err(("madonvi", e.to_string())),
        (None, None) => Err((
            "DonViXuLy",
            "is required (or give the envelope's madonvi)".to_owned(),
        )),
    }
}

fn fee_required(record: &Object) -> Result<bool, String> {
    let fees = match record.list("DanhSachLePhi") {
        None => return Ok(false),
        Some(List::Objects(fees)) => fees,
        Some(List::NotAnArray(_)) => return Err("expected an array of fee items".to_owned()),
        Some(List::TooLong) => {
            return Err(format!("has more than {} fee items", wire::MAX_LIST_ITEMS));
        }
    };
    for fee in fees {
        let amount = scalar(fee, "Gia").unwrap_or_default();
        let amount: f64 = if amount.is_empty() {
            0.0
        } else {
            amount
                .parse()
                .map_err(|_| format!("fee amount Gia {amount:?} is not a number"))?
        };
        if amount > 0.0 {
            return Ok(true);
        }
    }
    Ok(false)
}

fn e_result(record: &Object) -> bool {
    match record.list("DanhSachGiayToKetQua") {
        Some(List::Objects(results)) => results
            .iter()
            .any(|r| scalar(r, "DuongDanTepTinKetQua").is_some()),
        _ => false,
    }
}
