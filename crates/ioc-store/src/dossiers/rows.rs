//! Row mapping between diesel rows and [`ioc_core::Dossier`]: the stored
//! state of a dossier and one row of its change log.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use ioc_core::{Dossier, DossierCode, DossierState, ProcedureCode, Source, Status, UnitCode};

use crate::StoreError;
use crate::schema::{dossier_changes, dossiers};
use crate::time::{from_db, to_db};

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
            source: state.source.as_str().to_owned(),
            code: d.code.as_str().to_owned(),
            unit_code: d.unit.as_str().to_owned(),
            procedure_code: d.procedure.as_str().to_owned(),
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
        // The row's strings become the types without a copy.
        let unit = UnitCode::try_from(self.unit_code).map_err(|e| corrupt(format!("unit {e}")))?;
        let procedure = ProcedureCode::try_from(self.procedure_code)
            .map_err(|e| corrupt(format!("procedure {e}")))?;
        let code = DossierCode::try_from(self.code).map_err(|e| {
            StoreError::Corrupt(format!("dossier of source {}: code {e}", self.source))
        })?;
        let source = Source::try_from(self.source)
            .map_err(|e| StoreError::Corrupt(format!("dossier {code}: {e}")))?;
        Ok(DossierState {
            dossier: Dossier {
                code,
                unit,
                procedure,
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
            source,
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
    /// The change from `old` (none for a new dossier) to `new`.
    pub(super) fn new(
        recorded_at: NaiveDateTime,
        old: Option<&DossierRow>,
        new: DossierRow,
    ) -> Self {
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
