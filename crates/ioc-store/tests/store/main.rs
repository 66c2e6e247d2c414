//! Store behaviour on both backends: migrations, idempotent reference
//! loads, the version guard and the change log (`version_guard`), and
//! PostgreSQL's notifications (`listen`).

use std::fs::File;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use ioc_core::{
    Catalog, Channel, Dossier, DossierCode, Levels, ProcedureCode, Source, Status, UnitCode,
    UnitTree, UnitTreeBuilder,
};
use ioc_store::dossiers::{self, Outcome};
use ioc_store::reference::{self, LoadReport};
use ioc_store::{changes, pending_migrations};
use ioc_testkit::both_backends;

mod listen;
mod version_guard;

fn config(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../config")
        .join(file)
}

fn levels() -> Levels {
    Levels::parse(&["province", "department", "district", "commune"]).expect("levels")
}

fn binh_phuoc() -> UnitTree {
    let mut builder = UnitTreeBuilder::new(levels());
    let open = |f: &str| File::open(config(f)).expect("reference file");
    builder
        .read_units("binh_phuoc.csv", open("units/binh_phuoc.csv"))
        .read_units(
            "binh_phuoc_departments.csv",
            open("units/binh_phuoc_departments.csv"),
        )
        .read_former_names(
            "binh_phuoc_former_names.csv",
            open("units/binh_phuoc_former_names.csv"),
        )
        .read_aliases(
            "aliases.csv",
            "code,system,alias\n697,dvcqg,H10.697\n".as_bytes(),
        );
    builder.build().expect("the shipped tree is valid")
}

fn catalog() -> Catalog {
    let file = File::open(config("procedures/sample_catalog.csv")).expect("catalog file");
    Catalog::read(&levels(), vec![("sample_catalog.csv".to_owned(), file)])
        .expect("the shipped catalog is valid")
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("instant")
        .with_timezone(&Utc)
}

fn version(code: &str, status: Status, updated_at: &str) -> Dossier {
    Dossier {
        code: DossierCode::parse(code).expect("dossier code"),
        unit: UnitCode::parse("25432").expect("unit code"),
        procedure: ProcedureCode::parse("2.000815").expect("procedure code"),
        channel: Channel::Online,
        status,
        received_at: Some(t("2022-09-15T09:12:00+07:00")),
        due_at: Some(t("2022-09-20T17:00:00+07:00")),
        finished_at: status.is_finished().then(|| t(updated_at)),
        fee_required: true,
        paid_online: true,
        e_result: status.is_finished(),
        updated_at: t(updated_at),
    }
}

both_backends!(migrations_leave_nothing_pending, |store| {
    let mut conn = store.get().expect("connection");
    assert_eq!(
        pending_migrations(&mut conn).expect("pending"),
        Vec::<String>::new()
    );
    assert_eq!(
        ioc_store::migrate(&mut conn).expect("second run"),
        Vec::<String>::new()
    );
});

both_backends!(every_migration_goes_down_and_up_again, |store| {
    let mut conn = store.get().expect("connection");
    let shipped =
        std::fs::read_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres"))
            .expect("migrations")
            .count();
    let reverted = ioc_store::testing::revert_all_migrations(&mut conn).expect("down");
    assert_eq!(reverted.len(), shipped, "{reverted:?}");
    assert_eq!(
        pending_migrations(&mut conn).expect("pending").len(),
        shipped
    );
    assert_eq!(
        ioc_store::migrate(&mut conn).expect("up again").len(),
        shipped
    );
    assert!(pending_migrations(&mut conn).expect("pending").is_empty());
});

both_backends!(units_load_once_and_only_once, |store| {
    let tree = binh_phuoc();
    let mut conn = store.get().expect("connection");
    let first =
        reference::load_units(&mut conn, &tree, t("2026-01-01T00:00:00Z")).expect("first load");
    assert_eq!(
        first,
        LoadReport {
            inserted: 143,
            updated: 0,
            unchanged: 0
        }
    );
    let rows = reference::all_units(&mut conn).expect("units");
    assert_eq!(rows.len(), 143);
    let by_level = |level: &str| rows.iter().filter(|u| u.level == level).count();
    assert_eq!(
        (
            by_level("province"),
            by_level("department"),
            by_level("district"),
            by_level("commune")
        ),
        (1, 20, 11, 111)
    );

    let second =
        reference::load_units(&mut conn, &tree, t("2026-02-01T00:00:00Z")).expect("second load");
    assert_eq!(
        second,
        LoadReport {
            inserted: 0,
            updated: 0,
            unchanged: 143
        }
    );
    assert_eq!(
        reference::all_units(&mut conn).expect("units"),
        rows,
        "a second load must change no row"
    );
});

both_backends!(a_renamed_unit_is_updated_in_place, |store| {
    let mut conn = store.get().expect("connection");
    let tree = binh_phuoc();
    reference::load_units(&mut conn, &tree, t("2026-01-01T00:00:00Z")).expect("load");
    let mut builder = UnitTreeBuilder::new(levels());
    builder.read_units(
        "renamed.csv",
        "code,name,level,parent_code\n70,Tỉnh Bình Phước,province,\n697,Thành phố Chơn Thành,district,70\n".as_bytes(),
    );
    let renamed = builder.build().expect("tree");
    let report =
        reference::load_units(&mut conn, &renamed, t("2026-03-01T00:00:00Z")).expect("reload");
    assert_eq!(
        report,
        LoadReport {
            inserted: 0,
            updated: 1,
            unchanged: 1
        },
        "only 697 changed"
    );
    let rows = reference::all_units(&mut conn).expect("units");
    let chon_thanh = rows.iter().find(|u| u.code == "697").expect("697");
    assert_eq!(chon_thanh.name, "Thành phố Chơn Thành");
    assert_eq!(rows.len(), 143, "units missing from the new files are kept");
});

both_backends!(procedures_load_once_and_only_once, |store| {
    let mut conn = store.get().expect("connection");
    let catalog = catalog();
    let n = catalog.len();
    assert!(n >= 40);
    let first =
        reference::load_procedures(&mut conn, &catalog, t("2026-01-01T00:00:00Z")).expect("load");
    assert_eq!(
        first,
        LoadReport {
            inserted: n,
            updated: 0,
            unchanged: 0
        }
    );
    let rows = reference::all_procedures(&mut conn).expect("procedures");
    let second =
        reference::load_procedures(&mut conn, &catalog, t("2026-02-01T00:00:00Z")).expect("reload");
    assert_eq!(
        second,
        LoadReport {
            inserted: 0,
            updated: 0,
            unchanged: n
        }
    );
    assert_eq!(
        reference::all_procedures(&mut conn).expect("procedures"),
        rows
    );
});
