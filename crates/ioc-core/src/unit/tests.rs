//! Tests of the unit tree: codes, levels, loading, checking and lookups.

use chrono::NaiveDate;

use super::*;
use crate::reference::ReferenceErrors;

fn levels(names: &[&str]) -> Levels {
    Levels::parse(names).expect("levels")
}

fn three_levels() -> Levels {
    levels(&["province", "department", "district", "commune"])
}

fn build(units: &str) -> Result<UnitTree, ReferenceErrors> {
    let mut builder = UnitTreeBuilder::new(three_levels());
    builder.read_units("units.csv", units.as_bytes());
    builder.build()
}

const SMALL: &str = "code,name,level,parent_code\n\
    70,Tỉnh Bình Phước,province,\n\
    697,Thị xã Chơn Thành,district,70\n\
    25432,Phường Hưng Long,commune,697\n\
    25433,Phường Thành Tâm,commune,697\n\
    70.TP,Sở Tư pháp,department,70\n";

#[test]
fn loads_a_tree_with_children_and_subtrees() {
    let tree = build(SMALL).expect("valid tree");
    assert_eq!(tree.len(), 5);
    let province = UnitCode::parse("70").expect("code");
    let district = UnitCode::parse("697").expect("code");
    assert_eq!(tree.children(&province).len(), 2);
    let subtree: Vec<&str> = tree.subtree(&district).iter().map(|c| c.as_str()).collect();
    assert_eq!(subtree, ["697", "25432", "25433"]);
    let order: Vec<&str> = tree.top_down().iter().map(|u| u.code.as_str()).collect();
    assert_eq!(order, ["70", "697", "25432", "25433", "70.TP"]);
}

#[test]
fn former_names_apply_before_the_rename() {
    let mut builder = UnitTreeBuilder::new(three_levels());
    builder.read_units("units.csv", SMALL.as_bytes()).read_former_names(
        "names.csv",
        "code,name,valid_from,valid_to\n697,Huyện Chơn Thành,,2022-10-01\n25432,Thị trấn Chơn Thành,,2022-10-01\n"
            .as_bytes(),
    );
    let tree = builder.build().expect("valid tree");
    let unit = tree
        .get(&UnitCode::parse("697").expect("code"))
        .expect("unit");
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
    assert_eq!(unit.name_on(day("2022-06-01")), "Huyện Chơn Thành");
    assert_eq!(unit.name_on(day("2022-09-30")), "Huyện Chơn Thành");
    assert_eq!(unit.name_on(day("2022-10-01")), "Thị xã Chơn Thành");
}

#[test]
fn aliases_resolve_and_must_be_unique() {
    let mut builder = UnitTreeBuilder::new(three_levels());
    builder
        .read_units("units.csv", SMALL.as_bytes())
        .read_aliases(
            "aliases.csv",
            "code,system,alias\n697,dvcqg,H10.697\n25432,local,HL\n".as_bytes(),
        );
    let tree = builder.build().expect("valid tree");
    assert_eq!(
        tree.resolve_alias(AliasSystem::Dvcqg, "H10.697")
            .map(UnitCode::as_str),
        Some("697")
    );
    assert_eq!(tree.resolve_alias(AliasSystem::Local, "H10.697"), None);

    let mut builder = UnitTreeBuilder::new(three_levels());
    builder
        .read_units("units.csv", SMALL.as_bytes())
        .read_aliases(
            "aliases.csv",
            "code,system,alias\n697,dvcqg,H10.1\n25432,dvcqg,H10.1\n25433,post,x\n".as_bytes(),
        );
    let errors = builder.build().unwrap_err().0;
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(
        (errors[0].line, errors[0].field.as_deref()),
        (3, Some("alias"))
    );
    assert!(
        errors[0]
            .message
            .contains("already given to unit 697 at aliases.csv:2"),
        "{}",
        errors[0]
    );
    assert_eq!(
        (errors[1].line, errors[1].field.as_deref()),
        (4, Some("system"))
    );
}

#[test]
fn references_resolve_by_code_alias_or_name() {
    let mut builder = UnitTreeBuilder::new(three_levels());
    builder
        .read_units(
            "units.csv",
            format!("{SMALL}25434,Xã Tân Thành,commune,697\n25435,Xã Tân Thành,commune,697\n")
                .as_bytes(),
        )
        .read_former_names(
            "names.csv",
            "code,name,valid_from,valid_to\n25432,Thị trấn Chơn Thành,,2022-10-01\n".as_bytes(),
        )
        .read_aliases(
            "aliases.csv",
            "code,system,alias\n697,ma_dinh_danh,000.00.01.H10\n".as_bytes(),
        );
    let tree = builder.build().expect("tree");
    let resolve = |r: &str| tree.resolve(r).map(|c| c.as_str().to_owned());
    assert_eq!(resolve("25433"), Ok("25433".to_owned()));
    assert_eq!(resolve("000.00.01.H10"), Ok("697".to_owned()));
    assert_eq!(resolve("UBND  phường Hưng Long"), Ok("25432".to_owned()));
    assert_eq!(
        resolve("Thị trấn Chơn Thành"),
        Ok("25432".to_owned()),
        "former names resolve"
    );
    assert!(matches!(
        resolve("Xã Tân Thành"),
        Err(UnresolvedUnit::Ambiguous { .. })
    ));
    assert_eq!(
        resolve("Xã Không Có"),
        Err(UnresolvedUnit::Unknown("Xã Không Có".to_owned()))
    );
}

#[test]
fn the_two_level_model_of_2025_loads() {
    let mut builder = UnitTreeBuilder::new(levels(&["province", "commune"]));
    builder.read_units(
        "dong-nai-2025.csv",
        "code,name,level,parent_code\n75,Tỉnh Đồng Nai,province,\n25432,Phường Chơn Thành,commune,75\n".as_bytes(),
    );
    let tree = builder.build().expect("two-level tree");
    assert_eq!(tree.at_level("commune").count(), 1);
}

#[test]
fn every_problem_is_reported_with_file_line_and_field() {
    let input = "code,name,level,parent_code\n\
        70,Tỉnh Bình Phước,province,\n\
        697,Thị xã Chơn Thành,ward,70\n\
        697,Huyện Chơn Thành,district,70\n\
        25432,Phường Hưng Long,commune,999\n\
        bad code,X,commune,70\n\
        25433,,commune,697\n\
        25434,Xã A,commune,25435\n\
        25435,Xã B,commune,25434\n\
        70.TP,Sở Tư pháp,department,\n\
        25436,Xã C,commune\n";
    let errors = build(input).unwrap_err().0;
    let found: Vec<(u64, Option<&str>)> = errors
        .iter()
        .map(|e| (e.line, e.field.as_deref()))
        .collect();
    assert_eq!(
        found,
        [
            (3, Some("level")),
            (5, Some("parent_code")),
            (6, Some("code")),
            (7, Some("name")),
            (8, Some("parent_code")),
            (10, Some("parent_code")),
            (11, None),
        ],
        "{errors:#?}"
    );
    let text = |line: u64| {
        errors
            .iter()
            .find(|e| e.line == line)
            .map(ToString::to_string)
            .unwrap_or_default()
    };
    assert!(text(3).contains("unknown level \"ward\""), "{}", text(3));
    assert!(text(5).contains("parent 999"), "{}", text(5));
    assert!(
        text(8).contains("cycle: 25434 → 25435 → 25434"),
        "{}",
        text(8)
    );
    assert!(text(10).contains("only the top level"), "{}", text(10));
    assert!(
        text(11).contains("has 3 fields, the header has 4"),
        "{}",
        text(11)
    );
    assert!(
        text(3).starts_with("units.csv:3: field `level`:"),
        "{}",
        text(3)
    );
}

#[test]
fn duplicate_codes_name_the_first_definition() {
    let input =
        "code,name,level,parent_code\n70,Tỉnh,province,\n697,A,district,70\n697,B,district,70\n";
    let errors = build(input).unwrap_err().0;
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0].line, errors[0].field.as_deref()),
        (4, Some("code"))
    );
    assert!(
        errors[0].message.contains("first defined at units.csv:3"),
        "{}",
        errors[0]
    );
}

#[test]
fn a_parent_must_be_of_a_higher_level() {
    let input =
        "code,name,level,parent_code\n70,Tỉnh,province,\n1,Xã,commune,70\n2,Huyện,district,1\n";
    let errors = build(input).unwrap_err().0;
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 4);
    assert!(
        errors[0].message.contains("cannot be under 1 (commune)"),
        "{}",
        errors[0]
    );
}

#[test]
fn missing_columns_are_named() {
    let errors = build("code,name,parent\n70,X,\n").unwrap_err().0;
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].message.contains("level, parent_code"),
        "{}",
        errors[0]
    );
}

#[test]
fn unit_codes_are_checked() {
    assert!(UnitCode::parse("000.00.01.H22").is_ok());
    assert!(UnitCode::parse("").is_err());
    assert!(UnitCode::parse("a/b").is_err());
    assert!(UnitCode::parse(&"9".repeat(33)).is_err());
}

#[test]
fn levels_are_checked() {
    assert!(Levels::parse(&["province", "province"]).is_err());
    assert!(Levels::parse::<&str>(&[]).is_err());
    assert!(Levels::parse(&["Province"]).is_err());
}
