//! The procedure (TTHC) catalog: which procedures exist, how far each is
//! offered online, at which unit levels, and whether it bears a fee.

use std::collections::BTreeMap;
use std::io::Read;

use serde::Serialize;

use crate::Levels;
use crate::reference::{ReferenceError, ReferenceErrors, read_csv};

/// Longest procedure code accepted.
pub const MAX_PROCEDURE_CODE_LEN: usize = 64;

/// A procedure code of the national catalog, e.g. `2.000815`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ProcedureCode(String);

impl ProcedureCode {
    /// Parses a code: 1 to 64 characters of `A-Z a-z 0-9 . _ -`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::try_from(raw.to_owned())
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ProcedureCode {
    type Error = String;

    /// Takes `raw` when it is valid, without copying it.
    fn try_from(raw: String) -> Result<ProcedureCode, String> {
        if raw.is_empty() {
            return Err("is empty".to_owned());
        }
        if raw.len() > MAX_PROCEDURE_CODE_LEN {
            return Err(format!(
                "{raw:?} is longer than {MAX_PROCEDURE_CODE_LEN} characters"
            ));
        }
        if raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            Ok(Self(raw))
        } else {
            Err(format!(
                "{raw:?} is not a procedure code (letters, digits, '.', '_' and '-')"
            ))
        }
    }
}

impl<'de> serde::Deserialize<'de> for ProcedureCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ProcedureCode, D::Error> {
        let raw = <String as serde::Deserialize>::deserialize(d)?;
        ProcedureCode::try_from(raw).map_err(serde::de::Error::custom)
    }
}

impl PartialEq<&str> for ProcedureCode {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<str> for ProcedureCode {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl std::fmt::Display for ProcedureCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How far a procedure is offered online (Decree 42/2022 art. 11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnlineLevel {
    /// Information only; filing happens in person.
    None,
    /// Một phần: part of the procedure is online.
    Partial,
    /// Toàn trình: filing and processing are entirely online.
    Full,
}

impl OnlineLevel {
    /// Name used in files and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            OnlineLevel::None => "none",
            OnlineLevel::Partial => "partial",
            OnlineLevel::Full => "full",
        }
    }

    /// Parses `none`, `partial` or `full`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "none" => Ok(OnlineLevel::None),
            "partial" => Ok(OnlineLevel::Partial),
            "full" => Ok(OnlineLevel::Full),
            other => Err(format!(
                "unknown online level {other:?} (expected none, partial or full)"
            )),
        }
    }

    /// Offered online at all (partial or full): counts in `online_services`.
    pub fn is_online(self) -> bool {
        !matches!(self, OnlineLevel::None)
    }
}

/// One procedure of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Procedure {
    /// National catalog code.
    pub code: ProcedureCode,
    /// Name.
    pub name: String,
    /// Field (lĩnh vực), e.g. "Hộ tịch".
    pub field: String,
    /// How far it is offered online.
    pub online_level: OnlineLevel,
    /// Unit levels at which it is offered.
    pub levels: Vec<String>,
    /// Whether it bears a fee.
    pub fee: bool,
}

/// A validated procedure catalog, keyed by code.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    procedures: BTreeMap<ProcedureCode, Procedure>,
}

/// Columns of a catalog file; `levels` separates levels with `;`.
pub const CATALOG_COLUMNS: [&str; 6] = ["code", "name", "field", "online_level", "levels", "fee"];

impl Catalog {
    /// Reads catalog CSV files, `(name, content)`, checking level names
    /// against `levels`; reports every problem at once.
    pub fn read<R: Read>(
        levels: &Levels,
        files: Vec<(String, R)>,
    ) -> Result<Catalog, ReferenceErrors> {
        let mut errors = Vec::new();
        let mut procedures: BTreeMap<ProcedureCode, (Procedure, String, u64)> = BTreeMap::new();
        for (file, input) in files {
            for (line, row) in read_csv(&file, input, &CATALOG_COLUMNS, &mut errors) {
                let mut err = |field: &str, message: String| {
                    errors.push(ReferenceError::new(&file, line, Some(field), message));
                };
                let code = ProcedureCode::parse(row.get("code"))
                    .map_err(|e| err("code", format!("procedure code {e}")));
                let name = non_empty(row.get("name"), 500).map_err(|e| err("name", e));
                let field = non_empty(row.get("field"), 200).map_err(|e| err("field", e));
                let online =
                    OnlineLevel::parse(row.get("online_level")).map_err(|e| err("online_level", e));
                let offered = parse_levels(levels, row.get("levels")).map_err(|e| err("levels", e));
                let fee = parse_fee(row.get("fee")).map_err(|e| err("fee", e));
                let (Ok(code), Ok(name), Ok(field), Ok(online_level), Ok(levels), Ok(fee)) =
                    (code, name, field, online, offered, fee)
                else {
                    continue;
                };
                if let Some((_, first_file, first_line)) = procedures.get(&code) {
                    errors.push(ReferenceError::new(
                        &file,
                        line,
                        Some("code"),
                        format!(
                            "duplicate procedure code {} (first defined at {first_file}:{first_line})",
                            code.as_str()
                        ),
                    ));
                    continue;
                }
                let procedure = Procedure {
                    code: code.clone(),
                    name,
                    field,
                    online_level,
                    levels,
                    fee,
                };
                procedures.insert(code, (procedure, file.clone(), line));
            }
        }
        if errors.is_empty() {
            Ok(Catalog {
                procedures: procedures
                    .into_iter()
                    .map(|(c, (p, _, _))| (c, p))
                    .collect(),
            })
        } else {
            Err(ReferenceErrors(errors))
        }
    }

    /// A catalog of `procedures` already checked (e.g. read back from the store).
    pub fn from_procedures(procedures: impl IntoIterator<Item = Procedure>) -> Catalog {
        Catalog {
            procedures: procedures
                .into_iter()
                .map(|p| (p.code.clone(), p))
                .collect(),
        }
    }

    /// The procedure with `code`.
    pub fn get(&self, code: &ProcedureCode) -> Option<&Procedure> {
        self.procedures.get(code)
    }

    /// All procedures in code order.
    pub fn iter(&self) -> impl Iterator<Item = &Procedure> {
        self.procedures.values()
    }

    /// Number of procedures.
    pub fn len(&self) -> usize {
        self.procedures.len()
    }

    /// Whether the catalog is empty.
    pub fn is_empty(&self) -> bool {
        self.procedures.is_empty()
    }
}

/// The `;`-separated levels of a catalog row, each one of `levels`.
fn parse_levels(levels: &Levels, raw: &str) -> Result<Vec<String>, String> {
    let offered: Vec<String> = raw
        .split(';')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let unknown: Vec<&str> = offered
        .iter()
        .map(String::as_str)
        .filter(|l| levels.rank(l).is_none())
        .collect();
    if offered.is_empty() {
        Err("names no level (separate levels with ';')".to_owned())
    } else if !unknown.is_empty() {
        Err(format!(
            "unknown level {} (levels: {})",
            unknown.join(", "),
            levels.names().join(", ")
        ))
    } else {
        Ok(offered)
    }
}

fn parse_fee(raw: &str) -> Result<bool, String> {
    match raw {
        "yes" | "true" | "1" => Ok(true),
        "no" | "false" | "0" => Ok(false),
        other => Err(format!("{other:?} is not yes or no")),
    }
}

fn non_empty(raw: &str, max: usize) -> Result<String, String> {
    if raw.is_empty() {
        Err("is empty".to_owned())
    } else if raw.chars().count() > max {
        Err(format!("is longer than {max} characters"))
    } else {
        crate::text::check_plain(raw).map(|()| raw.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels() -> Levels {
        Levels::parse(&["province", "department", "district", "commune"]).expect("levels")
    }

    #[test]
    fn reads_a_catalog() {
        let csv = "code,name,field,online_level,levels,fee\n\
            # comment lines are skipped\n\
            2.000815,Chứng thực bản sao từ bản chính,Chứng thực,full,commune;district,yes\n\
            1.001193,Đăng ký khai sinh,Hộ tịch,partial,commune,no\n";
        let catalog =
            Catalog::read(&levels(), vec![("p.csv".to_owned(), csv.as_bytes())]).expect("catalog");
        assert_eq!(catalog.len(), 2);
        let p = catalog
            .get(&ProcedureCode::parse("2.000815").expect("code"))
            .expect("procedure");
        assert_eq!(p.levels, ["commune", "district"]);
        assert!(p.fee && p.online_level.is_online());
    }

    #[test]
    fn reports_each_bad_field() {
        let csv = "code,name,field,online_level,levels,fee\n\
            2.000815,A,F,full,commune,yes\n\
            1.0,A,F,everything,commune,yes\n\
            1.1,B,F,full,ward,maybe\n\
            2.000815,C,F,none,commune,no\n\
            1.2,,F,none,,no\n";
        let errors = Catalog::read(&levels(), vec![("p.csv".to_owned(), csv.as_bytes())])
            .unwrap_err()
            .0;
        let found: Vec<(u64, &str)> = errors
            .iter()
            .map(|e| (e.line, e.field.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            found,
            [
                (3, "online_level"),
                (4, "levels"),
                (4, "fee"),
                (5, "code"),
                (6, "name"),
                (6, "levels")
            ],
            "{errors:#?}"
        );
    }

    #[test]
    fn names_with_control_characters_are_refused() {
        let csv = "code,name,field,online_level,levels,fee\n1.1,Cấp\u{0}phép,F\u{202e},full,commune,yes\n";
        let errors = Catalog::read(&levels(), vec![("p.csv".to_owned(), csv.as_bytes())])
            .unwrap_err()
            .0;
        let fields: Vec<&str> = errors.iter().filter_map(|e| e.field.as_deref()).collect();
        assert_eq!(fields, ["name", "field"], "{errors:#?}");
    }
}
