//! Units through reforms (METRICS.md "Units through reforms"): a unit is a
//! *version*, a code valid over a range of local days with a name, a level
//! and a parent, because codes are reused (25195 was Phường Tân Phú until
//! 2025-06-30 and is Phường Bình Phước since); *edges* say which units a
//! unit was made from on the day of a reform. Loading checks every rule it
//! can and names file, line and field for each problem.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;

use chrono::NaiveDate;

use super::builder::{Located, parse_date, unit_fields};
use super::code::UnitCode;
use super::tree::Levels;
use crate::reference::{ReferenceError, ReferenceErrors, read_csv};

/// The columns of a versions file.
pub const VERSION_COLUMNS: [&str; 6] = [
    "code",
    "name",
    "level",
    "parent_code",
    "valid_from",
    "valid_to",
];
/// The columns of an edges file.
pub const EDGE_COLUMNS: [&str; 4] = ["old_code", "new_code", "kind", "date"];

/// Local days `[from, to)`; an open end is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DayRange {
    /// First day, or since ever.
    pub from: Option<NaiveDate>,
    /// First day after, or for good.
    pub to: Option<NaiveDate>,
}

impl DayRange {
    /// Whether `day` is in the range.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from.is_none_or(|from| from <= day) && self.to.is_none_or(|to| day < to)
    }

    /// Whether the two ranges share a day.
    pub fn overlaps(&self, other: &DayRange) -> bool {
        let starts_before_other_ends = match (self.from, other.to) {
            (Some(from), Some(to)) => from < to,
            _ => true,
        };
        let other_starts_before_end = match (other.from, self.to) {
            (Some(from), Some(to)) => from < to,
            _ => true,
        };
        starts_before_other_ends && other_starts_before_end
    }
}

impl fmt::Display for DayRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let day = |d: Option<NaiveDate>| d.map_or_else(|| "…".to_owned(), |d| d.to_string());
        write!(f, "[{}, {})", day(self.from), day(self.to))
    }
}

/// A unit as it was over a range of days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitVersion {
    /// Code; another version may carry it on other days.
    pub code: UnitCode,
    /// Name over the range.
    pub name: String,
    /// Level.
    pub level: String,
    /// Parent code, in force over the whole range; `None` for a root.
    pub parent: Option<UnitCode>,
    /// The days it is in force.
    pub valid: DayRange,
}

/// How much of the old unit went into the new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EdgeKind {
    /// All of it: the old unit's history adds into the new one.
    Whole,
    /// Part of it: the old unit's history cannot be divided.
    Partial,
    /// The unit went on unchanged.
    Unchanged,
}

impl EdgeKind {
    /// Parses `whole`, `partial` or `unchanged`.
    pub fn parse(raw: &str) -> Result<EdgeKind, String> {
        match raw {
            "whole" => Ok(EdgeKind::Whole),
            "partial" => Ok(EdgeKind::Partial),
            "unchanged" => Ok(EdgeKind::Unchanged),
            other => Err(format!(
                "unknown kind {other:?} (kinds: whole, partial, unchanged)"
            )),
        }
    }
}

/// The old unit, in force the day before `date`, went (wholly or partly)
/// into the new one, in force on `date`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// The old unit's code.
    pub old: UnitCode,
    /// The new unit's code.
    pub new: UnitCode,
    /// How much of the old unit.
    pub kind: EdgeKind,
    /// The day of the reform: the first day of the new unit.
    pub date: NaiveDate,
}

/// Every version of every unit and the edges between them, checked.
#[derive(Debug, Clone)]
pub struct UnitHistory {
    versions: Vec<UnitVersion>,
    by_code: HashMap<UnitCode, Vec<usize>>,
    edges: Vec<Edge>,
}

impl UnitHistory {
    /// The version of `code` in force on `day`.
    pub fn version_on(&self, code: &UnitCode, day: NaiveDate) -> Option<&UnitVersion> {
        self.by_code
            .get(code)?
            .iter()
            .map(|&i| &self.versions[i])
            .find(|v| v.valid.contains(day))
    }

    /// The tree in force on `day`: every version valid that day.
    pub fn tree_on(&self, day: NaiveDate) -> impl Iterator<Item = &UnitVersion> {
        self.versions.iter().filter(move |v| v.valid.contains(day))
    }

    /// The edges out of the unit `code` that ended on the day before `date`.
    pub fn successors(&self, code: &UnitCode, date: NaiveDate) -> impl Iterator<Item = &Edge> {
        self.edges
            .iter()
            .filter(move |e| &e.old == code && e.date == date)
    }

    /// The edges into the unit `code` that began on `date`.
    pub fn predecessors(&self, code: &UnitCode, date: NaiveDate) -> impl Iterator<Item = &Edge> {
        self.edges
            .iter()
            .filter(move |e| &e.new == code && e.date == date)
    }

    /// Every version, in the order of the files.
    pub fn versions(&self) -> &[UnitVersion] {
        &self.versions
    }

    /// Every edge, in the order of the files.
    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }
}

/// Reads versions and edges and checks them together.
#[derive(Debug)]
pub struct UnitHistoryBuilder {
    levels: Levels,
    versions: Vec<Located<UnitVersion>>,
    edges: Vec<Located<Edge>>,
    errors: Vec<ReferenceError>,
}

impl UnitHistoryBuilder {
    /// An empty history of units of `levels`.
    pub fn new(levels: Levels) -> Self {
        UnitHistoryBuilder {
            levels,
            versions: Vec::new(),
            edges: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Reads a versions CSV (`code,name,level,parent_code,valid_from,valid_to`;
    /// dates `YYYY-MM-DD`, either end empty when open).
    pub fn read_versions(&mut self, file: &str, input: impl Read) -> &mut Self {
        for (line, row) in read_csv(file, input, &VERSION_COLUMNS, &mut self.errors) {
            let mut err = |field: &str, message: String| {
                self.errors
                    .push(ReferenceError::new(file, line, Some(field), message));
            };
            let fields = unit_fields(&row, &self.levels, &mut err);
            let mut day = |field: &str| match row.get(field) {
                "" => Ok(None),
                raw => parse_date(raw).map(Some).map_err(|e| err(field, e)),
            };
            let (from, to) = (day("valid_from"), day("valid_to"));
            let (Some((code, name, level, parent)), Ok(from), Ok(to)) = (fields, from, to) else {
                continue;
            };
            if let (Some(f), Some(t)) = (from, to)
                && t <= f
            {
                err(
                    "valid_to",
                    format!(
                        "{t} is not after valid_from {f}: a version is valid on [valid_from, valid_to)"
                    ),
                );
                continue;
            }
            self.versions.push(Located {
                file: file.to_owned(),
                line,
                value: UnitVersion {
                    code,
                    name,
                    level,
                    parent,
                    valid: DayRange { from, to },
                },
            });
        }
        self
    }

    /// Reads an edges CSV (`old_code,new_code,kind,date`).
    pub fn read_edges(&mut self, file: &str, input: impl Read) -> &mut Self {
        for (line, row) in read_csv(file, input, &EDGE_COLUMNS, &mut self.errors) {
            let mut err = |field: &str, message: String| {
                self.errors
                    .push(ReferenceError::new(file, line, Some(field), message));
            };
            let old = UnitCode::parse(row.get("old_code"))
                .map_err(|e| err("old_code", format!("unit code {e}")));
            let new = UnitCode::parse(row.get("new_code"))
                .map_err(|e| err("new_code", format!("unit code {e}")));
            let kind = EdgeKind::parse(row.get("kind")).map_err(|e| err("kind", e));
            let date = parse_date(row.get("date")).map_err(|e| err("date", e));
            if let (Ok(old), Ok(new), Ok(kind), Ok(date)) = (old, new, kind, date) {
                self.edges.push(Located {
                    file: file.to_owned(),
                    line,
                    value: Edge {
                        old,
                        new,
                        kind,
                        date,
                    },
                });
            }
        }
        self
    }

    /// Checks that no two versions of one code overlap; that each version's
    /// parent is in force over its whole range at a higher level (only the
    /// top level stands alone); that each edge's old unit is in force the day
    /// before its date and its new unit on it, a merged or split unit ending
    /// on that date; and that the edges out of one unit on one date make
    /// sense together (at most one `whole`, not mixed with `partial`; an
    /// `unchanged` one alone and to the same code; none listed twice).
    /// Every problem is reported.
    pub fn build(self) -> Result<UnitHistory, ReferenceErrors> {
        let UnitHistoryBuilder {
            levels,
            versions,
            edges,
            mut errors,
        } = self;
        let mut by_code: HashMap<UnitCode, Vec<usize>> = HashMap::new();
        for (i, v) in versions.iter().enumerate() {
            by_code.entry(v.value.code.clone()).or_default().push(i);
        }
        for indices in by_code.values_mut() {
            indices.sort_by_key(|&i| versions[i].value.valid.from);
            for pair in indices.windows(2) {
                let (a, b) = (&versions[pair[0]], &versions[pair[1]]);
                if a.value.valid.overlaps(&b.value.valid) {
                    errors.push(ReferenceError::new(
                        &b.file,
                        b.line,
                        Some("valid_from"),
                        format!(
                            "unit {} is valid on {}, which overlaps its version {} at {}:{}",
                            b.value.code, b.value.valid, a.value.valid, a.file, a.line
                        ),
                    ));
                }
            }
        }
        for child in &versions {
            if let Some(problem) = parent_problem(&levels, &versions, &by_code, &child.value) {
                errors.push(ReferenceError::new(
                    &child.file,
                    child.line,
                    Some("parent_code"),
                    problem,
                ));
            }
        }
        let in_force = |code: &UnitCode, day: NaiveDate| {
            by_code.get(code).is_some_and(|indices| {
                indices
                    .iter()
                    .any(|&i| versions[i].value.valid.contains(day))
            })
        };
        let ends_on = |code: &UnitCode, date: NaiveDate| {
            by_code.get(code).is_some_and(|indices| {
                indices
                    .iter()
                    .any(|&i| versions[i].value.valid.to == Some(date))
            })
        };
        for edge in &edges {
            let e = &edge.value;
            let before = e.date.pred_opt().unwrap_or(e.date);
            if !in_force(&e.old, before) {
                errors.push(ReferenceError::new(
                    &edge.file,
                    edge.line,
                    Some("old_code"),
                    format!(
                        "unit {} is not in force on {before}, the day before the edge",
                        e.old
                    ),
                ));
            } else if e.kind != EdgeKind::Unchanged && !ends_on(&e.old, e.date) {
                errors.push(ReferenceError::new(
                    &edge.file,
                    edge.line,
                    Some("old_code"),
                    format!(
                        "unit {} goes on after {}: a unit merged or split ends on the edge's date",
                        e.old, e.date
                    ),
                ));
            }
            if !in_force(&e.new, e.date) {
                errors.push(ReferenceError::new(
                    &edge.file,
                    edge.line,
                    Some("new_code"),
                    format!(
                        "unit {} is not in force on {}, the edge's date",
                        e.new, e.date
                    ),
                ));
            }
        }
        errors.extend(edge_set_problems(&edges));
        if !errors.is_empty() {
            return Err(ReferenceErrors(errors));
        }
        Ok(UnitHistory {
            versions: versions.into_iter().map(|v| v.value).collect(),
            by_code,
            edges: edges.into_iter().map(|e| e.value).collect(),
        })
    }
}

/// The problems of the edges out of each unit on each date, together.
fn edge_set_problems(edges: &[Located<Edge>]) -> Vec<ReferenceError> {
    let mut problems = Vec::new();
    let mut out: HashMap<(&UnitCode, NaiveDate), Vec<&Located<Edge>>> = HashMap::new();
    for edge in edges {
        out.entry((&edge.value.old, edge.value.date))
            .or_default()
            .push(edge);
    }
    for ((old, date), set) in out {
        let Some(last) = set.last() else {
            continue;
        };
        let mut problem = |field: &str, message: String| {
            problems.push(ReferenceError::new(
                &last.file,
                last.line,
                Some(field),
                message,
            ));
        };
        let count = |kind: EdgeKind| set.iter().filter(|e| e.value.kind == kind).count();
        let (whole, partial, unchanged) = (
            count(EdgeKind::Whole),
            count(EdgeKind::Partial),
            count(EdgeKind::Unchanged),
        );
        let mut targets: Vec<&UnitCode> = set.iter().map(|e| &e.value.new).collect();
        targets.sort();
        if targets.windows(2).any(|pair| pair[0] == pair[1]) {
            problem(
                "new_code",
                format!("an edge from {old} on {date} is listed twice"),
            );
        }
        if whole > 1 {
            problem(
                "kind",
                format!(
                    "unit {old} goes whole into {whole} units on {date}; split it with partial edges"
                ),
            );
        }
        if whole > 0 && partial > 0 {
            problem(
                "kind",
                format!("unit {old} has both whole and partial edges on {date}"),
            );
        }
        if unchanged > 0 && (set.len() > 1 || set.iter().any(|e| e.value.new != e.value.old)) {
            problem(
                "kind",
                format!("an unchanged unit {old} has one edge on {date}, to its own code"),
            );
        }
    }
    problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    problems
}

/// What is wrong with `child`'s parent, if anything: only the top level
/// stands alone; a parent must be of a higher level, and its versions must
/// cover the child's range without a gap.
fn parent_problem(
    levels: &Levels,
    versions: &[Located<UnitVersion>],
    by_code: &HashMap<UnitCode, Vec<usize>>,
    child: &UnitVersion,
) -> Option<String> {
    let child_rank = levels.rank(&child.level)?;
    let Some(parent) = child.parent.as_ref() else {
        return (child_rank > 0).then(|| {
            format!(
                "unit {} of level {} has no parent; only the top level ({}) stands alone",
                child.code,
                child.level,
                levels.names().first().map_or("", String::as_str)
            )
        });
    };
    let Some(indices) = by_code.get(parent) else {
        return Some(format!("parent {parent} is not a unit"));
    };
    // Walk the parent's versions (sorted by start) over the child's range.
    let mut day = child.valid.from;
    for &i in indices {
        let p = &versions[i].value;
        let covers_day = match day {
            None => p.valid.from.is_none(),
            Some(d) => p.valid.contains(d),
        };
        if !covers_day {
            continue;
        }
        if levels.rank(&p.level).is_none_or(|rank| rank >= child_rank) {
            return Some(format!(
                "parent {parent} is a {}, not a level above {}",
                p.level, child.level
            ));
        }
        match (p.valid.to, child.valid.to) {
            (None, _) => return None,
            (Some(end), Some(child_end)) if end >= child_end => return None,
            (Some(end), _) => day = Some(end),
        }
    }
    Some(format!(
        "parent {parent} is not in force over all of {} (from {})",
        child.valid,
        day.map_or_else(|| "the start".to_owned(), |d| d.to_string())
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    const VERSIONS: &str = include_str!("../../../../config/units/dong_nai_versions.csv");
    const EDGES: &str = include_str!("../../../../config/units/dong_nai_predecessors.csv");

    fn levels() -> Levels {
        Levels::parse(&["province", "department", "district", "commune"]).expect("levels")
    }

    fn day(raw: &str) -> NaiveDate {
        raw.parse().expect("a date")
    }

    fn code(raw: &str) -> UnitCode {
        UnitCode::parse(raw).expect("a code")
    }

    fn shipped() -> UnitHistory {
        let mut builder = UnitHistoryBuilder::new(levels());
        builder
            .read_versions("dong_nai_versions.csv", VERSIONS.as_bytes())
            .read_edges("dong_nai_predecessors.csv", EDGES.as_bytes());
        builder.build().unwrap_or_else(|e| panic!("{e}"))
    }

    /// The province `version` belongs to on `on`.
    fn province_of(history: &UnitHistory, version: &UnitVersion, on: NaiveDate) -> UnitCode {
        let mut unit = version;
        while let Some(parent) = &unit.parent {
            unit = history.version_on(parent, on).expect("parent in force");
        }
        unit.code.clone()
    }

    #[test]
    fn the_shipped_trees_are_those_of_the_reform() {
        let history = shipped();
        let campaign = day("2022-08-31");
        let communes_of = |province: &str, on: NaiveDate| {
            history
                .tree_on(on)
                .filter(|v| v.level == "commune" && province_of(&history, v, on) == code(province))
                .count()
        };
        assert_eq!(communes_of("70", campaign), 111);
        // Old Đồng Nai as the file has it: its last list (June 2025).
        assert_eq!(communes_of("75", campaign), 159);
        let reform = day("2025-07-01");
        assert_eq!(communes_of("75", reform), 95);
        assert_eq!(
            history
                .tree_on(reform)
                .filter(|v| v.level == "district")
                .count(),
            0
        );
        let city = day("2026-05-01");
        let province = history.version_on(&code("75"), city).expect("75");
        assert_eq!(province.name, "Thành phố Đồng Nai");
        let wards = history
            .tree_on(city)
            .filter(|v| v.name.starts_with("Phường "))
            .count();
        assert_eq!(wards, 33);
        let name = |raw: &str, on: &str| {
            history
                .version_on(&code(raw), day(on))
                .map(|v| v.name.clone())
        };
        assert_eq!(
            name("25195", "2022-08-31").as_deref(),
            Some("Phường Tân Phú")
        );
        assert_eq!(
            name("25195", "2025-07-01").as_deref(),
            Some("Phường Bình Phước")
        );
        assert_eq!(
            name("25432", "2022-09-30").as_deref(),
            Some("Thị trấn Chơn Thành")
        );
        assert_eq!(name("25342", "2025-07-01"), None, "Xã Tân Lợi ended");
    }

    #[test]
    fn the_shipped_edges_carry_all_of_bình_phước_and_split_one_old_commune() {
        let history = shipped();
        let reform = day("2025-07-01");
        assert_eq!(history.edges().len(), 271);
        let into: Vec<(&str, EdgeKind)> = history
            .successors(&code("25342"), reform)
            .map(|e| (e.new.as_str(), e.kind))
            .collect();
        assert_eq!(into, [("25351", EdgeKind::Whole)]);
        let split: BTreeSet<(&str, EdgeKind)> = history
            .successors(&code("26449"), reform)
            .map(|e| (e.new.as_str(), e.kind))
            .collect();
        assert_eq!(
            split,
            BTreeSet::from([("26359", EdgeKind::Partial), ("26446", EdgeKind::Partial)])
        );
        let before = day("2025-06-30");
        let mut successors = BTreeSet::new();
        for commune in history
            .tree_on(before)
            .filter(|v| v.level == "commune" && province_of(&history, v, before) == code("70"))
        {
            let edges: Vec<&Edge> = history.successors(&commune.code, reform).collect();
            assert_eq!(edges.len(), 1, "{} has one successor", commune.code);
            // All of it went on: merged (109) or unchanged (2), never split.
            assert_ne!(edges[0].kind, EdgeKind::Partial, "{}", commune.code);
            successors.insert(edges[0].new.clone());
        }
        assert_eq!(successors.len(), 40);
    }

    fn problems(versions: &str, edges: &str) -> Vec<String> {
        let mut builder = UnitHistoryBuilder::new(levels());
        builder
            .read_versions("v.csv", versions.as_bytes())
            .read_edges("e.csv", edges.as_bytes());
        match builder.build() {
            Ok(_) => Vec::new(),
            Err(ReferenceErrors(errors)) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn every_broken_rule_is_named_with_its_file_line_and_field() {
        let header = "code,name,level,parent_code,valid_from,valid_to\n";
        let versions = format!(
            "{header}\
             70,Tỉnh A,province,,,2025-07-01\n\
             1,Huyện B,district,70,,2026-01-01\n\
             2,Xã C,commune,1,,2025-07-01\n\
             2,Xã C mới,commune,1,2025-06-01,\n\
             3,Xã D,commune,2,,2025-07-01\n\
             4,Xã E,commune,70,2025-07-01,2025-07-01\n"
        );
        let edges = "old_code,new_code,kind,date\n\
                     2,9,whole,2025-07-01\n\
                     8,2,most,2025-07-01\n";
        let found = problems(&versions, edges);
        let expected = [
            "v.csv:7: field `valid_to`: 2025-07-01 is not after valid_from 2025-07-01",
            "v.csv:5: field `valid_from`: unit 2 is valid on [2025-06-01, …), which overlaps its version […, 2025-07-01) at v.csv:4",
            "v.csv:3: field `parent_code`: parent 70 is not in force over all of […, 2026-01-01) (from 2025-07-01)",
            "v.csv:5: field `parent_code`: parent 1 is not in force over all of [2025-06-01, …) (from 2026-01-01)",
            "v.csv:6: field `parent_code`: parent 2 is a commune, not a level above commune",
            "e.csv:2: field `new_code`: unit 9 is not in force on 2025-07-01, the edge's date",
            "e.csv:3: field `kind`: unknown kind \"most\" (kinds: whole, partial, unchanged)",
        ];
        for problem in expected {
            assert!(
                found.iter().any(|f| f.starts_with(problem)),
                "missing {problem:?} in:\n{}",
                found.join("\n")
            );
        }
        assert_eq!(found.len(), expected.len(), "{}", found.join("\n"));
    }

    #[test]
    fn edges_that_do_not_add_up_and_orphans_are_refused() {
        let versions = "code,name,level,parent_code,valid_from,valid_to\n\
                        70,Tỉnh A,province,,,\n\
                        1,Xã B,commune,70,,2025-07-01\n\
                        2,Xã C,commune,70,,\n\
                        3,Xã D,commune,70,2025-07-01,\n\
                        4,Xã E,commune,70,2025-07-01,\n\
                        5,Xã F,commune,,,\n";
        let edges = "old_code,new_code,kind,date\n\
                     2,3,whole,2025-07-01\n\
                     1,3,whole,2025-07-01\n\
                     1,4,whole,2025-07-01\n\
                     1,4,whole,2025-07-01\n\
                     2,2,unchanged,2025-07-01\n";
        let mut found = problems(versions, edges);
        found.sort();
        let mut expected = [
            "v.csv:7: field `parent_code`: unit 5 of level commune has no parent; only the top level (province) stands alone",
            "e.csv:2: field `old_code`: unit 2 goes on after 2025-07-01: a unit merged or split ends on the edge's date",
            "e.csv:5: field `new_code`: an edge from 1 on 2025-07-01 is listed twice",
            "e.csv:5: field `kind`: unit 1 goes whole into 3 units on 2025-07-01; split it with partial edges",
            "e.csv:6: field `kind`: an unchanged unit 2 has one edge on 2025-07-01, to its own code",
        ];
        expected.sort();
        assert_eq!(found, expected);
    }
}
