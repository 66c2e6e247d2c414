//! PostgreSQL's notifications of the change log and the tokens.

use super::*;

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
