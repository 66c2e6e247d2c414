//! Liveness and readiness.

use ioc_testkit::{Backend, TestApp};
use serde_json::json;

async fn probes_answer(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, &[]).await else {
        return;
    };
    assert_eq!(
        app.get_json("/healthz").await,
        (200, json!({"status": "ok"}))
    );
    assert_eq!(
        app.get_json("/readyz").await,
        (200, json!({"status": "ready", "database": "ok"}))
    );
}

#[actix_web::test]
async fn probes_answer_on_sqlite() {
    probes_answer(Backend::Sqlite).await;
}

#[actix_web::test]
async fn probes_answer_on_postgres() {
    probes_answer(Backend::Postgres).await;
}

#[actix_web::test]
async fn readyz_reports_a_lost_database() {
    let Some(app) = TestApp::spawn(
        Backend::Postgres,
        &[("IOC__DATABASE__ACQUIRE_TIMEOUT_SECS", "1")],
    )
    .await
    else {
        return;
    };
    assert_eq!(app.get_json("/readyz").await.0, 200);
    let name = app
        .db
        .url_string()
        .rsplit('/')
        .next()
        .expect("database name")
        .to_owned();
    let admin = app
        .db
        .url_string()
        .replace(&format!("/{name}"), "/postgres");
    let mut conn =
        <diesel::PgConnection as diesel::Connection>::establish(&admin).expect("admin connection");
    diesel::connection::SimpleConnection::batch_execute(
        &mut conn,
        &format!("DROP DATABASE {name} WITH (FORCE)"),
    )
    .expect("drop the database under the server");

    let (status, body) = app.get_json("/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "unavailable");
    let reason = body["database"].as_str().expect("reason");
    assert!(
        reason.contains(&name) && reason.contains("does not exist"),
        "{reason}"
    );
    assert_eq!(
        app.get_json("/healthz").await.0,
        200,
        "the process itself is still alive"
    );
}
