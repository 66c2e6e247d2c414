//! The live aggregates of `ioc serve`: checkpoints and the time-driven sweep.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ioc_aggregate::Window;
use ioc_aggregate::score::ScoreModel;
use ioc_core::{
    Channel, Dossier, DossierCode, Levels, ManualClock, ProcedureCode, Source, Status,
    TimelinessRules, UnitCode, UnitTreeBuilder,
};
use ioc_server::aggregates::{AggregateConfig, Aggregates, start};
use ioc_server::pipeline::Pipeline;
use ioc_store::testing::TestDb;
use ioc_store::{Store, checkpoints, dossiers, reference};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("time")
        .with_timezone(&Utc)
}

fn dossier(code: &str, due: &str) -> Dossier {
    Dossier {
        code: DossierCode::parse(code).expect("dossier code"),
        unit: UnitCode::parse("25432").expect("unit code"),
        procedure: ProcedureCode::parse("2.000815").expect("procedure code"),
        channel: Channel::Online,
        status: Status::Processing,
        received_at: Some(t("2022-09-15T09:00:00+07:00")),
        due_at: Some(t(due)),
        finished_at: None,
        fee_required: false,
        paid_online: false,
        e_result: false,
        updated_at: t("2022-09-15T09:00:00+07:00"),
    }
}

fn store_with_units(db: &TestDb) -> Store {
    let store = db.migrated_store();
    let levels = Levels::parse(&["province", "district", "commune"]).expect("levels");
    let mut builder = UnitTreeBuilder::new(levels.clone());
    builder.read_units(
        "units",
        "code,name,level,parent_code\n70,Tỉnh,province,\n697,Huyện,district,70\n25432,Xã,commune,697\n".as_bytes(),
    );
    let tree = builder.build().expect("tree");
    let catalog = ioc_core::Catalog::read(
        &levels,
        vec![(
            "c".to_owned(),
            "code,name,field,online_level,levels,fee\n2.000815,A,F,full,commune,yes\n".as_bytes(),
        )],
    )
    .expect("catalog");
    let mut conn = store.get().expect("connection");
    reference::load_units(&mut conn, &tree, Utc::now()).expect("units");
    reference::load_procedures(&mut conn, &catalog, Utc::now()).expect("catalog");
    store
}

async fn aggregates(store: &Store, clock: Arc<ManualClock>) -> Arc<Aggregates> {
    let levels = Levels::parse(&["province", "district", "commune"]).expect("levels");
    let tree = store
        .run(move |conn| reference::unit_tree(conn, &levels))
        .await
        .expect("tree");
    let score: ScoreModel = toml::from_str("label = \"partial 766\"\npart = []\n").expect("model");
    let (aggregates, feed, stage) = start(
        store,
        AggregateConfig {
            tree: Arc::new(tree),
            rules: TimelinessRules::default(),
            campaigns: Vec::new(),
            score,
            min_volume: 1,
            clock,
            views_changed: tokio::sync::watch::Sender::new(0),
        },
    )
    .await
    .expect("aggregates");
    let mut pipeline = Pipeline::new(feed);
    actix_web::rt::spawn(stage.run(pipeline.stage()));
    actix_web::rt::spawn(pipeline.run());
    aggregates
}

async fn until(what: &str, condition: impl Fn() -> bool) {
    for _ in 0..400 {
        if condition() {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{what} never happened");
}

fn september() -> Window {
    Window {
        from: "2022-09-01".parse().expect("date"),
        to: "2022-10-01".parse().expect("date"),
    }
}

#[actix_web::test]
async fn the_sweep_republishes_when_a_due_day_passes_with_no_event() {
    let db = TestDb::sqlite();
    let store = store_with_units(&db);
    {
        let mut conn = store.get().expect("connection");
        dossiers::apply(
            &mut conn,
            &Source::parse("s").expect("source"),
            &[dossier("A", "2022-09-21T17:00:00+07:00")],
            Utc::now(),
        )
        .expect("apply");
    }
    let clock = Arc::new(ManualClock::new(t("2022-09-20T10:00:00+07:00")));
    let live = aggregates(&store, clock.clone()).await;
    let before = live.version();
    let overdue = |live: &Aggregates| {
        live.snapshot()
            .keys(["25432"], september(), live.now())
            .pending_overdue
    };
    assert_eq!(overdue(&live), 0);
    // Nothing is sent; the clock passes the due day.
    clock.set(t("2022-09-22T00:00:05+07:00"));
    until("a sweep", || live.version() > before).await;
    assert_eq!(overdue(&live), 1);
}

#[actix_web::test]
async fn a_restart_restores_the_checkpoint_and_replays_the_log_after_it() {
    let db = TestDb::sqlite();
    let store = store_with_units(&db);
    {
        let mut conn = store.get().expect("connection");
        dossiers::apply(
            &mut conn,
            &Source::parse("s").expect("source"),
            &[dossier("A", "2022-09-21T17:00:00+07:00")],
            Utc::now(),
        )
        .expect("apply");
    }
    let clock = Arc::new(ManualClock::new(t("2022-09-20T10:00:00+07:00")));
    let first = aggregates(&store, clock.clone()).await;
    let fingerprint = first.snapshot().fingerprint();
    let saved = || {
        let mut conn = store.get().expect("connection");
        checkpoints::load(&mut conn, &fingerprint)
            .expect("load")
            .is_some()
    };
    until("a checkpoint", saved).await;
    // A change after the checkpoint, then a restart.
    {
        let mut conn = store.get().expect("connection");
        dossiers::apply(
            &mut conn,
            &Source::parse("s").expect("source"),
            &[dossier("B", "2022-09-25T17:00:00+07:00")],
            Utc::now(),
        )
        .expect("apply");
    }
    let second = aggregates(&store, clock.clone()).await;
    until("the replay", || {
        second
            .snapshot()
            .keys(["25432"], september(), second.now())
            .pending
            == 2
    })
    .await;
    let rebuilt = {
        let mut conn = store.get().expect("connection");
        diesel::connection::SimpleConnection::batch_execute(
            &mut *conn,
            "DELETE FROM aggregate_checkpoints",
        )
        .expect("forget checkpoints");
        drop(conn);
        aggregates(&store, clock).await
    };
    assert!(
        *second.snapshot() == *rebuilt.snapshot(),
        "restored + replayed == rebuilt from every dossier"
    );
}
