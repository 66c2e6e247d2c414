//! The OpenAPI schemas of the bodies ioc reads (feature `openapi`): the
//! native record and the DVCQG calls. The readers take fields by name
//! ([`crate::native::FIELDS`], [`crate::dvcqg::DOSSIER`],
//! [`crate::dvcqg::PROGRESS`]); the tests below hold these schemas to the
//! same names, so that the document cannot describe a field the readers do
//! not take, or miss one they do.

#![allow(non_snake_case)] // The DVCQG fields keep the portal's names.

use chrono::{DateTime, Utc};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

#[cfg(test)]
use crate::{dvcqg, native};

/// One dossier version in ioc's native schema (METRICS.md "Normalised
/// dossier"). A record with a field not listed here is rejected.
#[derive(ToSchema)]
pub struct NativeRecord {
    /// The source's dossier code, taken as sent.
    #[schema(
        max_length = 100,
        min_length = 1,
        example = "000.00.27.H10-220901-0001"
    )]
    pub code: String,
    /// A unit code of the tree.
    #[schema(example = "25432")]
    pub unit: String,
    /// The procedure's code.
    #[schema(max_length = 64, pattern = "^[A-Za-z0-9._-]+$", example = "1.001612")]
    pub procedure: String,
    /// How it was submitted.
    pub channel: Channel,
    /// The DVCQG status 1–10 (DOMAIN.md §2.3).
    #[schema(minimum = 1, maximum = 10)]
    pub status: u8,
    /// Received (RFC 3339 with offset); null while not received.
    pub received_at: Option<DateTime<Utc>>,
    /// Due; null without a time limit.
    pub due_at: Option<DateTime<Utc>>,
    /// Finished; null while pending.
    pub finished_at: Option<DateTime<Utc>>,
    /// A fee is due (false when absent).
    pub fee_required: Option<bool>,
    /// The fee was paid online (false when absent).
    pub paid_online: Option<bool>,
    /// The result was issued electronically (false when absent).
    pub e_result: Option<bool>,
    /// The source's time of this version: versions of one dossier are
    /// ordered by it.
    pub updated_at: DateTime<Utc>,
}

/// How a dossier was submitted.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Channel {
    /// At a desk.
    Direct,
    /// On a portal.
    Online,
    /// By post.
    Postal,
}

/// A value the portal sends as text or as a number.
pub struct TextOrNumber;

impl PartialSchema for TextOrNumber {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String))
            .item(ObjectBuilder::new().schema_type(Type::Integer))
            .into()
    }
}

impl ToSchema for TextOrNumber {}

/// A time of the portal: `yyyyMMddHHmmss` in `time.zone`; an empty string
/// is none.
#[derive(ToSchema)]
#[schema(value_type = String, pattern = "^([0-9]{14})?$", example = "20220901083000")]
pub struct PortalTime(pub String);

/// One record of `DongBoHoSoMC` (DOMAIN.md §2.2). Other fields, personal
/// data among them, may be sent: they are skipped unread.
#[derive(ToSchema)]
pub struct DvcqgDossier {
    /// The dossier's code.
    #[schema(max_length = 100, min_length = 1)]
    pub MaHoSo: String,
    /// The procedure's code.
    #[schema(max_length = 64)]
    pub MaTTHC: String,
    /// 1 direct, 2 online, 3 postal; missing is direct.
    pub KenhThucHien: Option<TextOrNumber>,
    /// 1–10, the portal's words, or the source's own codes (`ingest.status_map`).
    pub TrangThaiHoSo: TextOrNumber,
    /// Submitted.
    pub NgayNopHoSo: Option<PortalTime>,
    /// Received.
    pub NgayTiepNhan: Option<PortalTime>,
    /// Due.
    pub NgayHenTra: Option<PortalTime>,
    /// Processing finished.
    pub NgayKetThucXuLy: Option<PortalTime>,
    /// Result returned.
    pub NgayTra: Option<PortalTime>,
    /// Refused.
    pub NgayTuChoi: Option<PortalTime>,
    /// The handling unit: a unit code, an alias, or a name.
    pub DonViXuLy: Option<String>,
    /// 1 or 2 when the fee was paid online.
    pub DuocThanhToanTrucTuyen: Option<TextOrNumber>,
    /// Fees; one with `Gia` > 0 makes the dossier one with a fee.
    #[schema(max_items = 1000)]
    pub DanhSachLePhi: Option<Vec<DvcqgFee>>,
    /// Results; one with a file link makes the result electronic.
    #[schema(max_items = 1000)]
    pub DanhSachGiayToKetQua: Option<Vec<DvcqgResult>>,
}

/// A fee of a DVCQG dossier.
#[derive(ToSchema)]
pub struct DvcqgFee {
    /// The amount.
    pub Gia: Option<TextOrNumber>,
}

/// A result document of a DVCQG dossier.
#[derive(ToSchema)]
pub struct DvcqgResult {
    /// Where the electronic result is.
    pub DuongDanTepTinKetQua: Option<String>,
}

/// One step of `CapNhatTienDoHoSoMC`: a dossier already sent moves to a
/// status at a time.
#[derive(ToSchema)]
pub struct DvcqgProgressStep {
    /// The dossier's code.
    #[schema(max_length = 100, min_length = 1)]
    pub MaHoSo: String,
    /// The new status, as in `TrangThaiHoSo`.
    pub TrangThai: TextOrNumber,
    /// When.
    pub ThoiDiemXuLy: PortalTime,
}

/// A body of records `R`, bare or in the portal's envelope `E`.
fn records_or_envelope<R: ToSchema, E: ToSchema>(description: &str) -> RefOr<Schema> {
    OneOfBuilder::new()
        .description(Some(description))
        .item(ArrayBuilder::new().items(Ref::from_schema_name(R::name())))
        .item(Ref::from_schema_name(E::name()))
        .into()
}

/// The schemas a body of records `R` or envelope `E` refers to.
fn register<R: ToSchema, E: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    schemas.push((R::name().into_owned(), R::schema()));
    schemas.push((E::name().into_owned(), E::schema()));
    R::schemas(schemas);
    E::schemas(schemas);
}

/// A `DongBoHoSoMC` body: the records, bare or in the portal's envelope.
pub struct DvcqgSyncBody;

impl PartialSchema for DvcqgSyncBody {
    fn schema() -> RefOr<Schema> {
        records_or_envelope::<DvcqgDossier, DvcqgSyncEnvelope>(
            "the records (at most `ingest.max_batch_records`), bare or in the portal's envelope",
        )
    }
}

impl ToSchema for DvcqgSyncBody {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        register::<DvcqgDossier, DvcqgSyncEnvelope>(schemas);
    }
}

/// The portal's envelope of `DongBoHoSoMC`.
#[derive(ToSchema)]
pub struct DvcqgSyncEnvelope {
    /// `DongBoHoSoMC` when given.
    #[schema(pattern = "^DongBoHoSoMC$")]
    pub service: Option<String>,
    /// The sending unit, used for records whose `DonViXuLy` does not resolve.
    pub madonvi: Option<TextOrNumber>,
    /// The records.
    pub data: Vec<DvcqgDossier>,
}

/// A `CapNhatTienDoHoSoMC` body: the steps, bare or in the portal's envelope.
pub struct DvcqgProgressBody;

impl PartialSchema for DvcqgProgressBody {
    fn schema() -> RefOr<Schema> {
        records_or_envelope::<DvcqgProgressStep, DvcqgProgressEnvelope>(
            "the steps (at most `ingest.max_batch_records`), bare or in the portal's envelope",
        )
    }
}

impl ToSchema for DvcqgProgressBody {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        register::<DvcqgProgressStep, DvcqgProgressEnvelope>(schemas);
    }
}

/// The portal's envelope of `CapNhatTienDoHoSoMC`.
#[derive(ToSchema)]
pub struct DvcqgProgressEnvelope {
    /// `CapNhatTienDoHoSoMC` when given.
    #[schema(pattern = "^CapNhatTienDoHoSoMC$")]
    pub service: Option<String>,
    /// The sending unit.
    pub madonvi: Option<TextOrNumber>,
    /// The steps.
    pub data: Vec<DvcqgProgressStep>,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::wire::Schema as WireSchema;

    fn properties<T: ToSchema>() -> BTreeSet<String> {
        match T::schema() {
            RefOr::T(Schema::Object(object)) => object.properties.keys().cloned().collect(),
            _ => panic!("{} is not an object schema", T::name()),
        }
    }

    fn read(schema: &WireSchema) -> BTreeSet<String> {
        let lists = schema.lists.iter().map(|(name, _)| *name);
        schema
            .scalars
            .iter()
            .copied()
            .chain(lists)
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn the_documented_fields_are_the_fields_the_readers_take() {
        let native: BTreeSet<String> = native::FIELDS.iter().map(|f| (*f).to_owned()).collect();
        assert_eq!(properties::<NativeRecord>(), native);
        assert_eq!(properties::<DvcqgDossier>(), read(&dvcqg::DOSSIER));
        assert_eq!(properties::<DvcqgProgressStep>(), read(&dvcqg::PROGRESS));
        let lists: Vec<(&str, BTreeSet<String>)> = vec![
            ("DanhSachLePhi", properties::<DvcqgFee>()),
            ("DanhSachGiayToKetQua", properties::<DvcqgResult>()),
        ];
        for (name, documented) in lists {
            let (_, items) = dvcqg::DOSSIER
                .lists
                .iter()
                .find(|(list, _)| *list == name)
                .expect("a list of the reader");
            assert_eq!(documented, read(items), "items of {name}");
        }
    }
}
