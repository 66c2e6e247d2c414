//! Bad read parameters: each error names the parameter and the valid values.

use super::*;

#[actix_web::test]
async fn bad_parameters_name_themselves_and_the_valid_values() {
    let Some(app) = TestApp::spawn(Backend::Sqlite, &[]).await else {
        return;
    };
    let viewer = app.token(Role::Viewer, None, &[]);
    let ingest = app.ingest_token("motcua");
    let get = |path: &'static str, token: Option<String>| {
        let app = &app;
        async move {
            app.send(
                awc::http::Method::GET,
                path,
                None,
                token.as_deref(),
                Vec::new(),
            )
            .await
        }
    };
    let (status, body) = get("/api/v1/overview", None).await;
    assert_eq!(
        (status, body["error"].clone()),
        (401, json!("unauthorized")),
        "reads need a token unless public_read"
    );
    let (status, _) = get("/api/v1/overview", Some(ingest)).await;
    assert_eq!(status, 403, "an ingest token cannot read");
    let (status, body) = get("/api/v1/overview?token=nonsense", None).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (401, Some("the token is unknown or revoked")),
        "a query token is checked like a bearer token"
    );
    let v = Some(viewer);
    assert_eq!(get("/api/v1/overview?window=month", v.clone()).await.0, 200);

    for (path, status, needle) in [
        (
            "/api/v1/units/99999",
            404,
            "unit \"99999\" is not in the unit tree",
        ),
        (
            "/api/v1/units/25432?window=fortnight",
            400,
            "window: unknown window \"fortnight\" (windows: today, yesterday, 7d",
        ),
        (
            "/api/v1/units/25432?from=2022-09-10&to=2022-09-01",
            400,
            "window: window from 2022-09-10 to 2022-09-01 is empty",
        ),
        (
            "/api/v1/units/25432?from=2022/09/01&to=2022-09-10",
            400,
            "from: \"2022/09/01\" is not a date YYYY-MM-DD",
        ),
        (
            "/api/v1/units/25432?scope=all",
            400,
            "scope: unknown scope \"all\" (scopes: self, tree)",
        ),
        (
            "/api/v1/units/25432?window=campaign:nope",
            400,
            "unknown campaign \"nope\" (campaigns: bp-92-ngay-2022)",
        ),
        (
            "/api/v1/rankings?level=ward&key=received",
            400,
            "level: unknown level \"ward\" (levels: province, department, district, commune)",
        ),
        (
            "/api/v1/rankings?level=commune&key=speed",
            400,
            "key: unknown key \"speed\" (keys: received,",
        ),
        ("/api/v1/rankings?key=received", 400, "level: is required"),
        (
            "/api/v1/rankings?level=commune&key=received&format=pdf",
            400,
            "format: unknown format \"pdf\"",
        ),
        (
            "/api/v1/campaigns/nope",
            404,
            "campaign \"nope\" (campaigns: bp-92-ngay-2022)",
        ),
        (
            "/api/v1/units/25432/trend?days=0",
            400,
            "days: \"0\" is not a number of days from 1 to 366",
        ),
        (
            "/api/v1/units/25432/trend?days=400",
            400,
            "days: \"400\" is not a number of days from 1 to 366",
        ),
        (
            "/api/v1/units/25432/trend?scope=all",
            400,
            "scope: unknown scope \"all\"",
        ),
        (
            "/api/v1/units/99999/trend",
            404,
            "unit \"99999\" is not in the unit tree",
        ),
        ("/static/nope.js", 404, "no file \"nope.js\""),
    ] {
        let (got, body) = get(path, v.clone()).await;
        assert_eq!(got, status, "{path}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(needle),
            "{path}: {message:?} lacks {needle:?}"
        );
    }
}
