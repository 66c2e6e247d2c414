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

/// Requests no route takes: HEAD is served as GET without a body, OPTIONS
/// names the methods of a path, another method on a path of the API is a
/// 405 with `Allow`, any other path a JSON 404.
#[actix_web::test]
async fn head_options_wrong_methods_and_unknown_paths() {
    let Some(app) = TestApp::spawn(Backend::Sqlite, &[]).await else {
        return;
    };
    let client = awc::Client::default();
    let mut head = client.head(app.url("/healthz")).send().await.expect("HEAD");
    assert_eq!(head.status(), 200);
    assert!(head.body().await.expect("body").is_empty());

    let options = client
        .request(awc::http::Method::OPTIONS, app.url("/api/v1/alerts/rollup"))
        .send()
        .await
        .expect("OPTIONS");
    assert_eq!(options.status(), 204);
    assert_eq!(
        options.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("GET, HEAD, OPTIONS")
    );

    let mut wrong = client
        .post(app.url("/api/v1/%6Deta"))
        .send()
        .await
        .expect("POST");
    assert_eq!(wrong.status(), 405);
    assert_eq!(
        wrong.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("GET, HEAD, OPTIONS")
    );
    let body: serde_json::Value = wrong.json().await.expect("JSON");
    assert_eq!(body["error"], "method_not_allowed", "{body}");

    let (status, body) = app.get_json("/api/v1/nowhere").await;
    assert_eq!((status, body["error"].clone()), (404, json!("not_found")));
}
