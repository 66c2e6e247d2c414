//! Reference data in the store: the unit tree and the procedure catalog.
//! Loading is idempotent: a row is written only when it differs, so loading
//! the same files twice changes nothing.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use ioc_core::{
    AliasSystem, Catalog, Levels, OnlineLevel, Procedure, ProcedureCode, Unit, UnitCode, UnitTree,
    UnitTreeBuilder, unit::FormerName,
};

use crate::schema::{procedures, unit_aliases, unit_names, units};
use crate::time::to_db;
use crate::{AnyConnection, StoreError};

/// What a load did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoadReport {
    /// Rows that were new.
    pub inserted: usize,
    /// Rows that differed and were rewritten.
    pub updated: usize,
    /// Rows already as in the files.
    pub unchanged: usize,
}

/// A unit as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = units)]
pub struct UnitRow {
    /// Code.
    pub code: String,
    /// Current name.
    pub name: String,
    /// Level.
    pub level: String,
    /// Parent code.
    pub parent_code: Option<String>,
    /// Last change (UTC).
    pub updated_at: chrono::NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Queryable, Selectable, Insertable)]
#[diesel(table_name = unit_names)]
struct NameRow {
    unit_code: String,
    valid_to: NaiveDate,
    valid_from: Option<NaiveDate>,
    name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Queryable, Selectable, Insertable)]
#[diesel(table_name = unit_aliases)]
struct AliasRow {
    system: String,
    alias: String,
    unit_code: String,
}

/// Writes `tree` into the store in one transaction: new units are inserted
/// (parents first), changed ones updated, with their former names and
/// aliases. Units in the store but not in `tree` are kept, since dossiers
/// may refer to them.
pub fn load_units(
    conn: &mut AnyConnection,
    tree: &UnitTree,
    now: DateTime<Utc>,
) -> Result<LoadReport, StoreError> {
    conn.transaction(|conn| {
        let mut report = LoadReport::default();
        for unit in tree.top_down() {
            let wanted = UnitRow {
                code: unit.code.as_str().to_owned(),
                name: unit.name.clone(),
                level: unit.level.clone(),
                parent_code: unit.parent.as_ref().map(|p| p.as_str().to_owned()),
                updated_at: to_db(now),
            };
            let names: BTreeSet<NameRow> = unit
                .former_names
                .iter()
                .map(|n| NameRow {
                    unit_code: wanted.code.clone(),
                    valid_to: n.valid_to,
                    valid_from: n.valid_from,
                    name: n.name.clone(),
                })
                .collect();
            let aliases: BTreeSet<AliasRow> = unit
                .aliases
                .iter()
                .map(|(system, alias)| AliasRow {
                    system: system.as_str().to_owned(),
                    alias: alias.clone(),
                    unit_code: wanted.code.clone(),
                })
                .collect();

            let stored: Option<UnitRow> = units::table
                .find(&wanted.code)
                .select(UnitRow::as_select())
                .first(conn)
                .optional()?;
            let stored_names: BTreeSet<NameRow> = unit_names::table
                .filter(unit_names::unit_code.eq(&wanted.code))
                .select(NameRow::as_select())
                .load(conn)?
                .into_iter()
                .collect();
            let stored_aliases: BTreeSet<AliasRow> = unit_aliases::table
                .filter(unit_aliases::unit_code.eq(&wanted.code))
                .select(AliasRow::as_select())
                .load(conn)?
                .into_iter()
                .collect();

            let same_row = stored.as_ref().is_some_and(|s| {
                (&s.name, &s.level, &s.parent_code)
                    == (&wanted.name, &wanted.level, &wanted.parent_code)
            });
            match stored {
                None => {
                    diesel::insert_into(units::table)
                        .values(&wanted)
                        .execute(conn)?;
                    report.inserted += 1;
                }
                Some(_) if same_row && names == stored_names && aliases == stored_aliases => {
                    report.unchanged += 1;
                    continue;
                }
                Some(_) => {
                    diesel::update(units::table.find(&wanted.code))
                        .set((
                            units::name.eq(&wanted.name),
                            units::level.eq(&wanted.level),
                            units::parent_code.eq(&wanted.parent_code),
                            units::updated_at.eq(wanted.updated_at),
                        ))
                        .execute(conn)?;
                    report.updated += 1;
                }
            }
            if names != stored_names {
                diesel::delete(unit_names::table.filter(unit_names::unit_code.eq(&wanted.code)))
                    .execute(conn)?;
                for row in &names {
                    diesel::insert_into(unit_names::table)
                        .values(row)
                        .execute(conn)?;
                }
            }
            if aliases != stored_aliases {
                diesel::delete(
                    unit_aliases::table.filter(unit_aliases::unit_code.eq(&wanted.code)),
                )
                .execute(conn)?;
                for row in &aliases {
                    diesel::insert_into(unit_aliases::table)
                        .values(row)
                        .execute(conn)?;
                }
            }
        }
        Ok(report)
    })
}

/// Every stored unit, in code order.
pub fn all_units(conn: &mut AnyConnection) -> Result<Vec<UnitRow>, StoreError> {
    Ok(units::table
        .order(units::code)
        .select(UnitRow::as_select())
        .load(conn)?)
}

/// A procedure as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = procedures)]
pub struct ProcedureRow {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Field.
    pub field: String,
    /// `none`, `partial` or `full`.
    pub online_level: String,
    /// Levels, separated by `;`.
    pub levels: String,
    /// Bears a fee.
    pub fee: bool,
    /// Last change (UTC).
    pub updated_at: chrono::NaiveDateTime,
}

/// Writes `catalog` into the store in one transaction, row by row only
/// where it differs. Procedures absent from `catalog` are kept.
pub fn load_procedures(
    conn: &mut AnyConnection,
    catalog: &Catalog,
    now: DateTime<Utc>,
) -> Result<LoadReport, StoreError> {
    conn.transaction(|conn| {
        let mut report = LoadReport::default();
        for procedure in catalog.iter() {
            let wanted = ProcedureRow {
                code: procedure.code.as_str().to_owned(),
                name: procedure.name.clone(),
                field: procedure.field.clone(),
                online_level: procedure.online_level.as_str().to_owned(),
                levels: procedure.levels.join(";"),
                fee: procedure.fee,
                updated_at: to_db(now),
            };
            let stored: Option<ProcedureRow> = procedures::table
                .find(&wanted.code)
                .select(ProcedureRow::as_select())
                .first(conn)
                .optional()?;
            match stored {
                None => {
                    diesel::insert_into(procedures::table)
                        .values(&wanted)
                        .execute(conn)?;
                    report.inserted += 1;
                }
                Some(s)
                    if (&s.name, &s.field, &s.online_level, &s.levels, s.fee)
                        == (
                            &wanted.name,
                            &wanted.field,
                            &wanted.online_level,
                            &wanted.levels,
                            wanted.fee,
                        ) =>
                {
                    report.unchanged += 1;
                }
                Some(_) => {
                    diesel::update(procedures::table.find(&wanted.code))
                        .set((
                            procedures::name.eq(&wanted.name),
                            procedures::field.eq(&wanted.field),
                            procedures::online_level.eq(&wanted.online_level),
                            procedures::levels.eq(&wanted.levels),
                            procedures::fee.eq(wanted.fee),
                            procedures::updated_at.eq(wanted.updated_at),
                        ))
                        .execute(conn)?;
                    report.updated += 1;
                }
            }
        }
        Ok(report)
    })
}

/// Every stored procedure, in code order.
pub fn all_procedures(conn: &mut AnyConnection) -> Result<Vec<ProcedureRow>, StoreError> {
    Ok(procedures::table
        .order(procedures::code)
        .select(ProcedureRow::as_select())
        .load(conn)?)
}

/// The unit tree as stored, with former names and aliases, checked against
/// `levels` (the store is the source of truth for a running server).
pub fn unit_tree(conn: &mut AnyConnection, levels: &Levels) -> Result<UnitTree, StoreError> {
    let origin = "units table";
    let mut builder = UnitTreeBuilder::new(levels.clone());
    for row in all_units(conn)? {
        let code = parse_code(&row.code)?;
        let parent = row.parent_code.as_deref().map(parse_code).transpose()?;
        builder.add_unit(
            origin,
            0,
            Unit {
                code,
                name: row.name,
                level: row.level,
                parent,
                former_names: Vec::new(),
                aliases: Vec::new(),
            },
        );
    }
    let names: Vec<NameRow> = unit_names::table.select(NameRow::as_select()).load(conn)?;
    for row in names {
        let former = FormerName {
            name: row.name,
            valid_from: row.valid_from,
            valid_to: row.valid_to,
        };
        builder.add_former_name("unit_names table", 0, parse_code(&row.unit_code)?, former);
    }
    let aliases: Vec<AliasRow> = unit_aliases::table
        .select(AliasRow::as_select())
        .load(conn)?;
    for row in aliases {
        let system = AliasSystem::parse(&row.system).map_err(StoreError::Corrupt)?;
        builder.add_alias(
            "unit_aliases table",
            0,
            parse_code(&row.unit_code)?,
            system,
            row.alias,
        );
    }
    builder
        .build()
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn parse_code(raw: &str) -> Result<UnitCode, StoreError> {
    UnitCode::parse(raw).map_err(|e| StoreError::Corrupt(format!("unit code {e}")))
}

/// The procedure catalog as stored.
pub fn catalog(conn: &mut AnyConnection) -> Result<Catalog, StoreError> {
    let procedures = all_procedures(conn)?
        .into_iter()
        .map(|row| {
            Ok(Procedure {
                code: ProcedureCode::parse(&row.code).map_err(StoreError::Corrupt)?,
                online_level: OnlineLevel::parse(&row.online_level).map_err(StoreError::Corrupt)?,
                levels: row
                    .levels
                    .split(';')
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect(),
                name: row.name,
                field: row.field,
                fee: row.fee,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Catalog::from_procedures(procedures))
}
