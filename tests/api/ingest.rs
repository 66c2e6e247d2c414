//! Native batch ingestion: exactly-once counting, per-record errors, and
//! the specific answer to each kind of bad request.

use ioc_server::auth::Role;
use ioc_store::{changes, dossiers};
use ioc_testkit::{Backend, TestApp, both_backends};
use serde_json::{Value, json};

const UNITS: [&str; 4] = ["25432", "25433", "697", "70.STP"];

/// A native record of dossier `n` in `status`, versioned at `updated_at`.
pub fn record(n: usize, status: i64, updated_at: &str) -> Value {
    let finished = status == 9 || status == 10;
    let channel = ["direct", "online", "postal"][n % 3];
    json!({
        "code": format!("HS-{n:06}"),
        "unit": UNITS[n % UNITS.len()],
        "procedure": "2.000815",
        "channel": channel,
        "status": status,
        "received_at": "2022-09-15T09:12:00+07:00",
        "due_at": "2022-09-20T17:00:00+07:00",
        "finished_at": if finished { Value::from(updated_at) } else { Value::Null },
        "fee_required": n.is_multiple_of(2),
        "paid_online": n.is_multiple_of(4),
        "e_result": finished,
        "updated_at": updated_at,
    })
}

/// Dossiers and changes stored.
pub fn counts(app: &TestApp) -> (i64, i64) {
    let mut conn = app.store.get().expect("connection");
    (
        dossiers::count(&mut conn).expect("dossiers"),
        changes::count(&mut conn).expect("changes"),
    )
}

both_backends!(
    replaying_a_batch_counts_it_once,
    |app: TestApp| async move {
        let token = app.ingest_token("motcua");
        let batch: Vec<Value> = (0..10_000)
            .map(|n| record(n, 4, "2022-09-16T08:00:00+07:00"))
            .collect();
        let batch = Value::Array(batch);
        let (status, first) = app.post_json("/api/v1/dossiers", &token, &batch).await;
        assert_eq!(status, 200, "{first}");
        assert_eq!(
            first,
            json!({"accepted": 10_000, "duplicates": 0, "stale": 0, "rejected": []})
        );
        for _ in 0..2 {
            let (status, again) = app.post_json("/api/v1/dossiers", &token, &batch).await;
            assert_eq!(status, 200);
            assert_eq!(
                again,
                json!({"accepted": 0, "duplicates": 10_000, "stale": 0, "rejected": []})
            );
        }
        assert_eq!(counts(&app), (10_000, 10_000));
    }
);

/// Splits `records` into batches of at most `size` in which no dossier
/// code appears twice, keeping their order.
fn batches_without_repeats(records: Vec<Value>, size: usize) -> Vec<Vec<Value>> {
    let mut batches: Vec<Vec<Value>> = Vec::new();
    for record in records {
        let code = record["code"].clone();
        match batches
            .iter_mut()
            .find(|b| b.len() < size && !b.iter().any(|r| r["code"] == code))
        {
            Some(batch) => batch.push(record),
            None => batches.push(vec![record]),
        }
    }
    batches
}

both_backends!(
    shuffled_versions_end_in_the_newest_state,
    |app: TestApp| async move {
        let token = app.ingest_token("motcua");
        let steps = [
            (2, "2022-09-15T09:12:00+07:00"),
            (4, "2022-09-16T10:00:00+07:00"),
            (10, "2022-09-19T15:30:00+07:00"),
        ];
        let mut all: Vec<Value> = (0..500)
            .flat_map(|n| steps.iter().map(move |(s, at)| record(n, *s, at)))
            .collect();
        // A fixed permutation: every 7th record of the list, cycling.
        let len = all.len();
        let order: Vec<usize> = (0..len).map(|i| (i * 7) % len).collect();
        all = order.into_iter().map(|i| all[i].clone()).collect();
        let mut accepted = 0;
        for batch in batches_without_repeats(all, 200) {
            let (status, report) = app
                .post_json("/api/v1/dossiers", &token, &Value::Array(batch))
                .await;
            assert_eq!(status, 200, "{report}");
            assert_eq!(report["rejected"], json!([]));
            accepted += report["accepted"].as_i64().expect("accepted");
        }
        let (dossier_count, change_count) = counts(&app);
        assert_eq!((dossier_count, change_count), (500, accepted));
        let mut conn = app.store.get().expect("connection");
        for n in 0..500 {
            let stored = dossiers::find(&mut conn, "motcua", &format!("HS-{n:06}"))
                .expect("find")
                .expect("stored");
            assert_eq!(stored.dossier.status.code(), 10, "HS-{n:06}");
        }
        drop(conn);

        // A stale version changes nothing.
        let stale = json!([record(3, 4, "2022-09-16T10:00:00+07:00")]);
        let (_, report) = app.post_json("/api/v1/dossiers", &token, &stale).await;
        assert_eq!(
            report,
            json!({"accepted": 0, "duplicates": 0, "stale": 1, "rejected": []})
        );
        assert_eq!(counts(&app), (500, accepted));
    }
);

both_backends!(
    bad_records_are_reported_and_good_ones_kept,
    |app: TestApp| async move {
        let token = app.token(Role::Ingest, Some("motcua"), &["697"]);
        let valid = |n| {
            let mut r = record(n, 4, "2022-09-16T08:00:00+07:00");
            r["unit"] = json!("25432");
            r
        };
        let with = |n, field: &str, value: Value| {
            let mut r = valid(n);
            r[field] = value;
            r
        };
        let mut missing = valid(1);
        missing.as_object_mut().expect("object").remove("procedure");
        let mut misspelt = valid(10);
        let received = misspelt
            .as_object_mut()
            .expect("object")
            .remove("received_at")
            .expect("field");
        misspelt["recieved_at"] = received;
        let batch = json!([
            valid(0),
            missing,
            with(2, "received_at", json!("15/09/2022 09:12")),
            with(3, "status", json!(11)),
            with(4, "unit", json!("99999")),
            with(5, "due_at", json!("2022-09-14T17:00:00+07:00")),
            with(6, "code", json!("X".repeat(101))),
            valid(7),
            valid(7),
            json!(42),
            misspelt,
            with(8, "unit", json!("25216")),
        ]);
        let (status, report) = app.post_json("/api/v1/dossiers", &token, &batch).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["accepted"], 2);
        let rejected: Vec<(u64, String, String)> = report["rejected"]
            .as_array()
            .expect("rejected")
            .iter()
            .map(|r| {
                (
                    r["index"].as_u64().expect("index"),
                    r["field"].as_str().expect("field").to_owned(),
                    r["error"].as_str().expect("error").to_owned(),
                )
            })
            .collect();
        let expect = [
            (1, "procedure", "is required"),
            (
                2,
                "received_at",
                "\"15/09/2022 09:12\" is not an RFC 3339 time with offset",
            ),
            (3, "status", "unknown TrangThaiHoSo code \"11\""),
            (4, "unit", "unknown unit code \"99999\""),
            (5, "due_at", "is before received_at"),
            (6, "code", "is longer than 100 characters"),
            (8, "code", "appears earlier in this batch, at index 7"),
            (9, "(record)", "expected a JSON object, found a number"),
            (10, "recieved_at", "unknown field"),
            (
                11,
                "unit",
                "unit 25216 is outside the units this token may write",
            ),
        ];
        assert_eq!(rejected.len(), expect.len(), "{report:#}");
        for ((index, field, error), (want_index, want_field, want_error)) in
            rejected.iter().zip(expect)
        {
            assert_eq!(
                (*index, field.as_str()),
                (want_index, want_field),
                "{report:#}"
            );
            assert!(
                error.contains(want_error),
                "index {index}: {error:?} lacks {want_error:?}"
            );
        }
        assert_eq!(
            report["rejected"][0]["code"], "HS-000001",
            "the code is reported when readable"
        );
        assert_eq!(counts(&app), (2, 2), "only the valid records are stored");
    }
);

both_backends!(ndjson_batches_are_accepted, |app: TestApp| async move {
    let token = app.ingest_token("motcua");
    let body = format!(
        "{}\n\n{}\nnot json\n",
        record(1, 2, "2022-09-15T09:12:00+07:00"),
        record(2, 2, "2022-09-15T09:12:00+07:00")
    );
    let (status, report) = app
        .send(
            awc::http::Method::POST,
            "/api/v1/dossiers",
            Some("application/x-ndjson"),
            Some(&token),
            body,
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["accepted"], 2);
    // Line 4 of the body: the index is the line number − 1, blank lines
    // included (docs/API.md), as a sender finds it in its file.
    assert_eq!(report["rejected"][0]["index"], 3);
    assert_eq!(report["rejected"][0]["field"], "(record)");
});

async fn status_and_error(
    app: &TestApp,
    content_type: Option<&str>,
    token: Option<&str>,
    body: &str,
) -> (u16, String, String) {
    let (status, json) = app
        .send(
            awc::http::Method::POST,
            "/api/v1/dossiers",
            content_type,
            token,
            body.to_owned(),
        )
        .await;
    (
        status,
        json["error"].as_str().unwrap_or_default().to_owned(),
        json["message"].as_str().unwrap_or_default().to_owned(),
    )
}

#[actix_web::test]
async fn bad_requests_get_their_specific_status_and_message() {
    let overrides = [
        ("IOC__INGEST__MAX_BODY_BYTES", "4096"),
        ("IOC__INGEST__MAX_BATCH_RECORDS", "5"),
    ];
    let Some(app) = TestApp::spawn(Backend::Sqlite, &overrides).await else {
        return;
    };
    let token = app.ingest_token("motcua");
    let json = Some("application/json");

    let (status, code, message) = status_and_error(&app, json, Some(&token), r#"[{"code": "#).await;
    assert_eq!(
        (status, code.as_str()),
        (400, "malformed_json"),
        "{message}"
    );
    assert!(message.contains("line 1, column"), "{message}");

    let (status, code, message) =
        status_and_error(&app, Some("text/plain"), Some(&token), "[]").await;
    assert_eq!(
        (status, code.as_str()),
        (415, "unsupported_media_type"),
        "{message}"
    );
    assert!(message.contains("application/x-ndjson"), "{message}");

    let (status, code, _) = status_and_error(&app, None, Some(&token), "[]").await;
    assert_eq!((status, code.as_str()), (415, "unsupported_media_type"));

    let (status, code, _) = status_and_error(&app, json, Some(&token), "").await;
    assert_eq!((status, code.as_str()), (400, "empty_body"));

    let (status, code, message) =
        status_and_error(&app, json, Some(&token), r#"{"code": "x"}"#).await;
    assert_eq!((status, code.as_str()), (400, "invalid_batch"));
    assert!(message.contains("expected a JSON array"), "{message}");

    let big = format!(
        "[{}]",
        vec![record(1, 2, "2022-09-15T09:12:00+07:00").to_string(); 20].join(",")
    );
    let (status, code, message) = status_and_error(&app, json, Some(&token), &big).await;
    assert_eq!(
        (status, code.as_str()),
        (413, "payload_too_large"),
        "{message}"
    );
    assert!(message.contains("4096 bytes"), "{message}");

    let six: Vec<String> = (0..6)
        .map(|n| record(n, 2, "2022-09-15T09:12:00+07:00").to_string())
        .collect();
    let (status, code, message) =
        status_and_error(&app, json, Some(&token), &format!("[{}]", six.join(","))).await;
    assert_eq!((status, code.as_str()), (413, "payload_too_large"));
    assert!(message.contains("6 records; at most 5"), "{message}");

    let (status, code, message) = status_and_error(&app, json, None, "[]").await;
    assert_eq!((status, code.as_str()), (401, "unauthorized"));
    assert!(message.contains("missing Authorization"), "{message}");

    let (status, code, message) = status_and_error(&app, json, Some("ioc_not-a-token"), "[]").await;
    assert_eq!((status, code.as_str()), (401, "unauthorized"));
    assert!(message.contains("unknown or revoked"), "{message}");

    let revoked = app.ingest_token("motcua");
    {
        let mut conn = app.store.get().expect("connection");
        let row =
            ioc_store::tokens::find_active(&mut conn, &ioc_server::auth::hash_token(&revoked))
                .expect("lookup")
                .expect("token");
        ioc_store::tokens::revoke(&mut conn, row.id, chrono::Utc::now()).expect("revoke");
    }
    let (status, code, _) = status_and_error(&app, json, Some(&revoked), "[]").await;
    assert_eq!(
        (status, code.as_str()),
        (401, "unauthorized"),
        "a revoked token"
    );

    let viewer = app.token(Role::Viewer, None, &[]);
    let (status, code, message) = status_and_error(&app, json, Some(&viewer), "[]").await;
    assert_eq!((status, code.as_str()), (403, "forbidden"));
    assert!(
        message.contains("role ingest; this one is viewer"),
        "{message}"
    );

    let response = app
        .client
        .post(app.url("/api/v1/dossiers"))
        .insert_header(("Content-Type", "application/json"))
        .send_body("[]")
        .await
        .expect("request");
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .map(|v| v.as_bytes()),
        Some(&b"Bearer"[..])
    );
    assert_eq!(
        counts(&app),
        (0, 0),
        "nothing was stored by refused requests"
    );
}

#[actix_web::test]
async fn ingest_outcomes_are_exported_as_metrics() {
    let Some(app) = TestApp::spawn(Backend::Sqlite, &[]).await else {
        return;
    };
    let token = app.ingest_token("motcua");
    let batch = json!([
        record(1, 2, "2022-09-15T09:12:00+07:00"),
        record(2, 11, "2022-09-15T09:12:00+07:00")
    ]);
    app.post_json("/api/v1/dossiers", &token, &batch).await;
    app.post_json("/api/v1/dossiers", &token, &batch).await;
    let (_, text) = app.scrape(None).await;
    for line in [
        r#"ioc_ingest_records_total{outcome="accepted",source="motcua"} 1"#,
        r#"ioc_ingest_records_total{outcome="duplicate",source="motcua"} 1"#,
        r#"ioc_ingest_records_total{outcome="rejected",source="motcua"} 2"#,
        r#"ioc_ingest_batch_duration_seconds_count{endpoint="dossiers"} 2"#,
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in:\n{text}"
        );
    }
}
