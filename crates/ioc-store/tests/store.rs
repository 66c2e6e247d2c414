//! Store behaviour on both backends: migrations, idempotent reference
//! loads, the version guard and the change log.

use ioc_core::Source;
use ioc_core::{DossierCode, ProcedureCode, UnitCode};
use std::fs::File;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use ioc_core::{Catalog, Channel, Dossier, Levels, Status, UnitTree, UnitTreeBuilder};
use ioc_store::dossiers::{self, Outcome};
use ioc_store::reference::{self, LoadReport};
use ioc_store::{changes, pending_migrations};
use ioc_testkit::both_backends;

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

both_backends!(
    dossiers_are_guarded_by_version_and_logged_in_order,
    |store| {
        let mut conn = store.get().expect("connection");
        let received = version("H-1", Status::Processing, "2022-09-15T09:12:00+07:00");
        let finished = version("H-1", Status::Delivered, "2022-09-19T15:30:00+07:00");
        let other = version("H-2", Status::Received, "2022-09-16T08:00:00+07:00");
        let at = t("2026-01-01T00:00:00Z");

        let outcomes = dossiers::apply(
            &mut conn,
            &Source::parse("one-stop").expect("source"),
            &[received.clone(), other.clone()],
            at,
        )
        .expect("apply");
        assert_eq!(outcomes, [Outcome::Inserted, Outcome::Inserted]);
        let outcomes = dossiers::apply(
            &mut conn,
            &Source::parse("one-stop").expect("source"),
            &[finished.clone(), received.clone(), finished.clone()],
            at,
        )
        .expect("apply");
        assert_eq!(
            outcomes,
            [Outcome::Updated, Outcome::Stale, Outcome::Duplicate]
        );

        let stored = dossiers::find(&mut conn, "one-stop", "H-1")
            .expect("find")
            .expect("stored");
        assert_eq!(
            stored.dossier, finished,
            "the newest version is kept, read back exactly"
        );
        assert_eq!(dossiers::count(&mut conn).expect("count"), 2);
        assert_eq!(
            dossiers::find(&mut conn, "other-source", "H-1").expect("find"),
            None,
            "the key includes the source"
        );

        let log = changes::after(&mut conn, 0, 100).expect("log");
        let seqs: Vec<i64> = log.iter().map(|c| c.seq).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
        let summary: Vec<(&str, Option<Status>, Status)> = log
            .iter()
            .map(|c| {
                (
                    c.new.dossier.code.as_str(),
                    c.old.as_ref().map(|o| o.dossier.status),
                    c.new.dossier.status,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("H-1", None, Status::Processing),
                ("H-2", None, Status::Received),
                ("H-1", Some(Status::Processing), Status::Delivered),
            ]
        );
        assert_eq!(
            changes::after(&mut conn, seqs[1], 100).expect("tail").len(),
            1
        );
    }
);

both_backends!(a_failed_batch_writes_nothing, |store| {
    let mut conn = store.get().expect("connection");
    let next = version("H-9", Status::Processing, "2022-09-15T09:12:00+07:00");
    let good = version("H-8", Status::Processing, "2022-09-15T09:12:00+07:00");
    dossiers::apply(
        &mut conn,
        &Source::parse("s").expect("source"),
        std::slice::from_ref(&good),
        t("2026-01-01T00:00:00Z"),
    )
    .expect("apply");
    // Drop the change log: the next apply fails after writing its dossier row,
    // and the transaction must take that row back.
    use diesel::connection::SimpleConnection;
    conn.batch_execute("DROP TABLE dossier_changes")
        .expect("drop");
    assert!(
        dossiers::apply(
            &mut conn,
            &Source::parse("s").expect("source"),
            &[next],
            t("2026-01-01T00:00:00Z")
        )
        .is_err()
    );
    assert_eq!(dossiers::count(&mut conn).expect("count"), 1);
});

/// A deterministic shuffle (xorshift), so failures reproduce.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let j = usize::try_from(seed % (i as u64 + 1)).expect("index");
        items.swap(i, j);
    }
}

/// `dossiers` dossiers with four versions each, one hour apart: received,
/// processing, (withdrawn or) finished late, result delivered.
fn histories(dossiers: usize) -> Vec<Vec<Dossier>> {
    (0..dossiers)
        .map(|n| {
            let code = format!("H-{n:05}");
            let statuses = if n % 7 == 0 {
                [
                    Status::Received,
                    Status::Processing,
                    Status::AwaitingSupplement,
                    Status::Withdrawn,
                ]
            } else {
                [
                    Status::Received,
                    Status::Processing,
                    Status::Processed,
                    Status::Delivered,
                ]
            };
            statuses
                .iter()
                .enumerate()
                .map(|(step, status)| {
                    let at = t("2022-09-15T09:00:00+07:00") + chrono::Duration::hours(step as i64);
                    let mut v = version(&code, *status, &at.to_rfc3339());
                    v.unit = UnitCode::parse(if step >= 2 && n % 5 == 0 {
                        "25433"
                    } else {
                        "25432"
                    })
                    .expect("unit code");
                    v
                })
                .collect()
        })
        .collect()
}

both_backends!(
    versions_of_one_dossier_in_one_batch_apply_in_order,
    |store| {
        let mut conn = store.get().expect("connection");
        let history = histories(1).remove(0);
        let batch = [
            history[1].clone(),
            history[0].clone(),
            history[3].clone(),
            history[3].clone(),
        ];
        let outcomes = dossiers::apply(
            &mut conn,
            &Source::parse("s").expect("source"),
            &batch,
            t("2026-01-01T00:00:00Z"),
        )
        .expect("apply");
        assert_eq!(
            outcomes,
            [
                Outcome::Inserted,
                Outcome::Stale,
                Outcome::Updated,
                Outcome::Duplicate
            ]
        );
        let stored = dossiers::find(&mut conn, "s", history[0].code.as_str())
            .expect("find")
            .expect("stored");
        assert_eq!(stored.dossier, history[3]);
        assert_eq!(changes::count(&mut conn).expect("changes"), 2);
    }
);

both_backends!(shuffled_versions_end_in_the_newest_state, |store| {
    let mut conn = store.get().expect("connection");
    let histories = histories(300);
    let mut all: Vec<Dossier> = histories.iter().flatten().cloned().collect();
    shuffle(&mut all, 42);
    let mut accepted = 0;
    for batch in all.chunks(97) {
        let outcomes = dossiers::apply(
            &mut conn,
            &Source::parse("s").expect("source"),
            batch,
            t("2026-01-01T00:00:00Z"),
        )
        .expect("apply");
        accepted += outcomes.iter().filter(|o| o.is_accepted()).count();
    }
    assert_eq!(dossiers::count(&mut conn).expect("count"), 300);
    assert_eq!(
        changes::count(&mut conn).expect("changes"),
        i64::try_from(accepted).expect("count")
    );
    for history in &histories {
        let newest = history.last().expect("version");
        let stored = dossiers::find(&mut conn, "s", newest.code.as_str())
            .expect("find")
            .expect("stored");
        assert_eq!(&stored.dossier, newest);
    }
    // Replaying everything, in another order, changes nothing.
    shuffle(&mut all, 7);
    let outcomes = dossiers::apply(
        &mut conn,
        &Source::parse("s").expect("source"),
        &all,
        t("2026-01-02T00:00:00Z"),
    )
    .expect("replay");
    assert!(outcomes.iter().all(|o| !o.is_accepted()), "{outcomes:?}");
    assert_eq!(
        changes::count(&mut conn).expect("changes"),
        i64::try_from(accepted).expect("count")
    );
});

both_backends!(concurrent_batches_neither_lose_nor_double_count, |store| {
    let histories = histories(200);
    let all: Vec<Dossier> = histories.iter().flatten().cloned().collect();
    let workers: Vec<_> = (0..4u64)
        .map(|w| {
            let store = store.clone();
            let mut mine = all.clone();
            shuffle(&mut mine, 1000 + w);
            std::thread::spawn(move || {
                let mut conn = store.get().expect("connection");
                for batch in mine.chunks(50) {
                    dossiers::apply(
                        &mut conn,
                        &Source::parse("s").expect("source"),
                        batch,
                        t("2026-01-01T00:00:00Z"),
                    )
                    .expect("apply");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("worker");
    }
    let mut conn = store.get().expect("connection");
    assert_eq!(dossiers::count(&mut conn).expect("count"), 200);
    // Each dossier's changes form one unbroken chain ending in its newest version.
    let log = changes::after(&mut conn, 0, 100_000).expect("log");
    let mut last: std::collections::HashMap<DossierCode, ioc_core::DossierState> =
        Default::default();
    for change in log {
        let code = change.new.dossier.code.clone();
        assert_eq!(
            change.old.as_ref(),
            last.get(&code),
            "change {} of {code} breaks the chain",
            change.seq
        );
        last.insert(code, change.new);
    }
    for history in &histories {
        let newest = history.last().expect("version");
        assert_eq!(&last[&newest.code].dossier, newest);
        let stored = dossiers::find(&mut conn, "s", newest.code.as_str())
            .expect("find")
            .expect("stored");
        assert_eq!(&stored.dossier, newest);
    }
});

#[test]
fn a_commit_to_the_change_log_notifies_listeners_on_postgres() {
    let Some(db) = ioc_store::testing::TestDb::postgres() else {
        return;
    };
    let store = db.migrated_store();
    {
        let mut conn = store.get().expect("connection");
        reference::load_units(&mut conn, &binh_phuoc(), Utc::now()).expect("units");
        reference::load_procedures(&mut conn, &catalog(), Utc::now()).expect("catalog");
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let _listener = ioc_store::listen::listen(db.url(), ioc_store::listen::CHANGES, move || {
        let _ = tx.send(());
    })
    .expect("listen")
    .expect("PostgreSQL has a listener");
    let mut conn = store.get().expect("connection");
    dossiers::apply(
        &mut conn,
        &Source::parse("s").expect("source"),
        &[version("L1", Status::Received, "2022-09-20T09:00:00+07:00")],
        Utc::now(),
    )
    .expect("apply");
    rx.recv_timeout(std::time::Duration::from_secs(20))
        .expect("a notification after the commit");
}

#[test]
fn creating_and_revoking_a_token_notifies_listeners_on_postgres() {
    let Some(db) = ioc_store::testing::TestDb::postgres() else {
        return;
    };
    let store = db.migrated_store();
    let (tx, rx) = std::sync::mpsc::channel();
    let _listener = ioc_store::listen::listen(db.url(), ioc_store::listen::TOKENS, move || {
        let _ = tx.send(());
    })
    .expect("listen")
    .expect("PostgreSQL has a listener");
    let mut conn = store.get().expect("connection");
    let id = ioc_store::tokens::create(
        &mut conn,
        &ioc_store::tokens::NewToken {
            token_hash: "ab".repeat(32),
            role: "viewer".to_owned(),
            source: None,
            units: String::new(),
            label: "test".to_owned(),
            created_at: Utc::now().naive_utc(),
        },
    )
    .expect("create");
    rx.recv_timeout(std::time::Duration::from_secs(20))
        .expect("a notification after the creation");
    assert!(ioc_store::tokens::revoke(&mut conn, id, Utc::now()).expect("revoke"));
    rx.recv_timeout(std::time::Duration::from_secs(20))
        .expect("a notification after the revocation");
}

#[test]
fn sqlite_has_no_listener() {
    let db = ioc_store::testing::TestDb::sqlite();
    let listener =
        ioc_store::listen::listen(db.url(), ioc_store::listen::CHANGES, || {}).expect("listen");
    assert!(listener.is_none());
}
