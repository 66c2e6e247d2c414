//! Loading the procedure catalog over HTTP.

use ioc_server::auth::Role;
use ioc_store::reference;
use ioc_testkit::{Backend, TestApp, both_backends};

const PUT: awc::http::Method = awc::http::Method::PUT;

both_backends!(admins_load_the_catalog_as_csv, |app: TestApp| async move {
    let admin = app.token(Role::Admin, None, &[]);
    let csv = "code,name,field,online_level,levels,fee\n\
               2.000815,Chứng thực bản sao từ bản chính (sửa),Chứng thực,full,commune;district,yes\n\
               9.999999,Thủ tục mới,Khác,partial,commune,no\n";
    let (status, body) = app
        .send(
            PUT,
            "/api/v1/procedures",
            Some("text/csv"),
            Some(&admin),
            csv,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        serde_json::json!({"inserted": 1, "updated": 1, "unchanged": 0})
    );
    let mut conn = app.store.get().expect("connection");
    let rows = reference::all_procedures(&mut conn).expect("procedures");
    assert_eq!(rows.len(), 42, "41 shipped + 1 new; none removed");
    let renamed = rows
        .iter()
        .find(|p| p.code == "2.000815")
        .expect("2.000815");
    assert_eq!(renamed.name, "Chứng thực bản sao từ bản chính (sửa)");
});

#[actix_web::test]
async fn the_catalog_endpoint_refuses_bad_input_and_other_roles() {
    let Some(app) = TestApp::spawn(Backend::Sqlite, &[]).await else {
        return;
    };
    let admin = app.token(Role::Admin, None, &[]);
    let operator = app.token(Role::Operator, None, &[]);
    let good = "code,name,field,online_level,levels,fee\n1.1,A,F,full,commune,yes\n";

    let (status, body) = app
        .send(
            PUT,
            "/api/v1/procedures",
            Some("text/csv"),
            Some(&operator),
            good,
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("forbidden")),
        "{body}"
    );
    let (status, _) = app
        .send(PUT, "/api/v1/procedures", Some("text/csv"), None, good)
        .await;
    assert_eq!(status, 401);
    let (status, body) = app
        .send(
            PUT,
            "/api/v1/procedures",
            Some("application/json"),
            Some(&admin),
            "[]",
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (415, Some("unsupported_media_type")),
        "{body}"
    );

    let bad = "code,name,field,online_level,levels,fee\n1.1,A,F,sometimes,commune,yes\n1.2,B,F,full,ward,no\n";
    let (status, body) = app
        .send(
            PUT,
            "/api/v1/procedures",
            Some("text/csv"),
            Some(&admin),
            bad,
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_catalog")),
        "{body}"
    );
    let message = body["message"].as_str().expect("message");
    assert!(
        message.contains("request body:2: field `online_level`"),
        "{message}"
    );
    assert!(
        message.contains("request body:3: field `levels`: unknown level ward"),
        "{message}"
    );
    let mut conn = app.store.get().expect("connection");
    assert_eq!(
        reference::all_procedures(&mut conn)
            .expect("procedures")
            .len(),
        41,
        "nothing written"
    );
}
