//! What a careless source system or an attacker can send: each defect of
//! the hardening review (issue 15, D1–D15) that the HTTP API can show, and
//! the security headers. Memory bounds are in `tests/memory`.

use ioc_server::auth::Role;
use ioc_store::dossiers;
use ioc_testkit::{Backend, TestApp, both_backends};
use serde_json::{Value, json};

use crate::ingest::counts;

/// The `field` of each rejection in a batch report.
fn rejected_fields(report: &Value) -> Vec<&str> {
    report["rejected"]
        .as_array()
        .expect("rejected")
        .iter()
        .map(|r| r["field"].as_str().expect("field"))
        .collect()
}

/// A pending dossier of `unit`, received in September 2022.
fn pending(code: &str, unit: &str) -> Value {
    json!({
        "code": code, "unit": unit, "procedure": "2.000815", "channel": "online", "status": 2,
        "received_at": "2022-09-15T09:12:00+07:00", "due_at": "2022-09-20T17:00:00+07:00",
        "updated_at": "2022-09-15T09:12:00+07:00",
    })
}

both_backends!(
    times_of_year_one_or_9999_are_rejected_per_field_natively_and_in_dvcqg,
    |app: TestApp| async move {
        let token = app.ingest_token("motcua");
        let mut ancient = pending("D1-A", "25432");
        ancient["received_at"] = json!("0001-01-01T00:00:00+07:00");
        let mut far = pending("D1-B", "25432");
        far["due_at"] = json!("9999-12-31T00:00:00+07:00");
        let mut future = pending("D1-C", "25432");
        future["updated_at"] = json!("2999-01-01T00:00:00+07:00");
        let batch = json!([ancient, far, future, pending("D1-OK", "25432")]);
        let (status, report) = app.post_json("/api/v1/dossiers", &token, &batch).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["accepted"], 1, "{report}");
        let fields = rejected_fields(&report);
        assert_eq!(fields, ["received_at", "due_at", "updated_at"], "{report}");
        let dvcqg = json!([{"MaHoSo": "D1-D", "MaTTHC": "2.000815", "KenhThucHien": "2",
            "TrangThaiHoSo": "2", "NgayTiepNhan": "00010101000000", "DonViXuLy": "25432"}]);
        let (status, answer) = app
            .post_json("/api/v1/dvcqg/DongBoHoSoMC", &token, &dvcqg)
            .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["rejected"][0]["field"], "received_at", "{answer}");
        assert!(
            answer["rejected"][0]["error"]
                .as_str()
                .expect("error")
                .contains("ingest.earliest_time"),
            "{answer}"
        );
        assert_eq!(counts(&app), (1, 1));
    }
);

both_backends!(
    a_nul_byte_rejects_its_record_and_keeps_the_good_ones,
    |app: TestApp| async move {
        let token = app.ingest_token("motcua");
        let mut nul = pending("D3-\u{0}", "25432");
        nul["procedure"] = json!("2.0008\u{0}15");
        let mut bidi = pending("D3-\u{202e}1", "25432");
        bidi["code"] = json!("D3-\u{202e}1");
        let batch = json!([pending("D3-OK", "25432"), nul, bidi]);
        let (status, report) = app.post_json("/api/v1/dossiers", &token, &batch).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["accepted"], 1, "{report}");
        assert_eq!(report["rejected"][0]["index"], 1, "{report}");
        assert_eq!(report["rejected"][0]["field"], "code", "{report}");
        assert!(
            report["rejected"][0]["error"]
                .as_str()
                .expect("error")
                .contains("U+0000"),
            "{report}"
        );
        assert_eq!(report["rejected"][1]["index"], 2, "{report}");
        let dvcqg = json!([{"MaHoSo": "D3-\u{0}X", "MaTTHC": "2.000815", "KenhThucHien": "2",
            "TrangThaiHoSo": "2", "NgayTiepNhan": "20220915091200", "DonViXuLy": "25432"}]);
        let (status, answer) = app
            .post_json("/api/v1/dvcqg/DongBoHoSoMC", &token, &dvcqg)
            .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["rejected"][0]["field"], "MaHoSo", "{answer}");
        assert_eq!(counts(&app), (1, 1));
    }
);

both_backends!(
    a_token_can_neither_move_nor_withdraw_a_dossier_of_another_district,
    |app: TestApp| async move {
        // Two tokens of one source: one for Đồng Xoài (689), one for Bình Long (697).
        let dong_xoai = app.token(Role::Ingest, Some("motcua"), &["689"]);
        let binh_long = app.token(Role::Ingest, Some("motcua"), &["697"]);
        let theirs = pending("D4-1", "25432");
        let (status, report) = app
            .post_json("/api/v1/dossiers", &binh_long, &json!([theirs]))
            .await;
        assert_eq!(
            (status, report["accepted"].clone()),
            (200, json!(1)),
            "{report}"
        );
        let mut moved = pending("D4-1", "25195");
        moved["updated_at"] = json!("2022-09-16T09:00:00+07:00");
        let mut withdrawn = moved.clone();
        withdrawn["status"] = json!(7);
        withdrawn["received_at"] = Value::Null;
        withdrawn["due_at"] = Value::Null;
        for (what, attempt) in [("move", moved), ("withdraw", withdrawn)] {
            let (status, report) = app
                .post_json("/api/v1/dossiers", &dong_xoai, &json!([attempt]))
                .await;
            assert_eq!(status, 200, "{what}: {report}");
            assert_eq!(report["accepted"], 0, "{what}: {report}");
            assert_eq!(report["rejected"][0]["field"], "unit", "{what}: {report}");
            assert!(
                report["rejected"][0]["error"]
                    .as_str()
                    .expect("error")
                    .contains("outside the units this token may write"),
                "{what}: {report}"
            );
        }
        let mut conn = app.store.get().expect("connection");
        let stored = dossiers::find(&mut conn, "motcua", "D4-1")
            .expect("find")
            .expect("stored");
        assert_eq!(stored.dossier.unit, "25432");
        assert_eq!(stored.dossier.status.code(), 2);
        assert_eq!(counts(&app), (1, 1), "no change was logged");
    }
);

both_backends!(
    a_version_sent_again_with_nanoseconds_is_a_duplicate,
    |app: TestApp| async move {
        let token = app.ingest_token("motcua");
        let mut record = pending("D8-1", "25432");
        record["updated_at"] = json!("2022-09-15T09:12:00.123456789+07:00");
        let batch = json!([record]);
        let first = app.post_json("/api/v1/dossiers", &token, &batch).await.1;
        assert_eq!(first["accepted"], 1, "{first}");
        for _ in 0..2 {
            let again = app.post_json("/api/v1/dossiers", &token, &batch).await.1;
            assert_eq!(
                (again["accepted"].clone(), again["duplicates"].clone()),
                (json!(0), json!(1)),
                "{again}"
            );
        }
        assert_eq!(counts(&app), (1, 1));
    }
);

both_backends!(
    ndjson_errors_name_the_line_blank_lines_included,
    |app: TestApp| async move {
        let token = app.ingest_token("motcua");
        let mut bad = pending("D15-2", "25432");
        bad["status"] = json!(42);
        let body = format!(
            "{}\n\n\n{}\n   \n{}\n",
            pending("D15-1", "25432"),
            bad,
            "not json"
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
        let indices: Vec<i64> = report["rejected"]
            .as_array()
            .expect("rejected")
            .iter()
            .map(|r| r["index"].as_i64().expect("index"))
            .collect();
        assert_eq!(indices, [3, 5], "line numbers - 1: {report}");
    }
);

#[actix_web::test]
async fn duplicate_keys_padded_codes_and_paid_online_without_a_fee_are_rejected() {
    let app = TestApp::spawn(Backend::Sqlite, &[]).await.expect("sqlite");
    let token = app.ingest_token("motcua");
    let mut padded = pending(" D-PAD ", "25432");
    padded["code"] = json!(" D-PAD ");
    let mut unpaid = pending("D-PAY", "25432");
    unpaid["paid_online"] = json!(true);
    let body = format!(
        "[{}, {}, {}]",
        r#"{"code": "D-DUP", "code": "D-DUP2", "unit": "25432"}"#, padded, unpaid
    );
    let (status, report) = app
        .send(
            awc::http::Method::POST,
            "/api/v1/dossiers",
            Some("application/json"),
            Some(&token),
            body,
        )
        .await;
    assert_eq!(status, 200, "{report}");
    let fields = rejected_fields(&report);
    assert_eq!(fields, ["code", "code", "paid_online"], "{report}");
    assert!(
        report["rejected"][0]["error"]
            .as_str()
            .expect("e")
            .contains("twice")
    );
    assert!(
        report["rejected"][1]["error"]
            .as_str()
            .expect("e")
            .contains("whitespace")
    );
}

#[actix_web::test]
async fn windows_of_extreme_years_are_refused_with_a_400() {
    let app = TestApp::spawn(Backend::Sqlite, &[("IOC__AUTH__PUBLIC_READ", "true")])
        .await
        .expect("sqlite");
    for path in [
        "/api/v1/overview?from=-200000-01-01&to=-1000-01-01",
        "/api/v1/rankings?level=district&key=online_share&from=2022-01-01&to=9999-01-01",
        "/api/v1/units/70?from=2022-01-01&to=2300-01-01",
    ] {
        let (status, body) = app.get_json(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(
            body["message"]
                .as_str()
                .expect("message")
                .contains("outside the days ioc counts"),
            "{path}: {body}"
        );
    }
    assert_eq!(app.get_json("/healthz").await.0, 200, "still serving");
}

#[actix_web::test]
async fn pages_and_answers_carry_security_headers() {
    let app = TestApp::spawn(Backend::Sqlite, &[("IOC__AUTH__PUBLIC_READ", "true")])
        .await
        .expect("sqlite");
    for page in ["/", "/rankings"] {
        let response = app.client.get(app.url(page)).send().await.expect("page");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let csp = header("content-security-policy");
        for directive in [
            "script-src 'self'",
            "frame-ancestors 'none'",
            "connect-src 'self'",
        ] {
            assert!(csp.contains(directive), "{page}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("referrer-policy"), "no-referrer");
    }
    let response = app
        .client
        .get(app.url("/api/v1/overview"))
        .send()
        .await
        .expect("overview");
    assert_eq!(
        response
            .headers()
            .get("x-content-type-options")
            .map(|v| v.as_bytes()),
        Some(&b"nosniff"[..])
    );
}

/// Waits until `path` on `node` answers `status` with `token` (bounded).
async fn answers(client: &awc::Client, url: &str, token: &str, status: u16) -> bool {
    for _ in 0..100 {
        let response = client
            .get(url)
            .insert_header(("Authorization", format!("Bearer {token}")))
            .send()
            .await
            .expect("request");
        if response.status().as_u16() == status {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

#[actix_web::test]
async fn a_revoked_token_closes_its_websocket_and_is_refused_on_every_node() {
    let Some(app) = TestApp::spawn(Backend::Postgres, &[]).await else {
        return;
    };
    let other = app
        .another_node(&[], std::sync::Arc::new(ioc_core::SystemClock))
        .await;
    let token = app.token(Role::Viewer, None, &[]);
    let other_url = format!("http://{}/api/v1/overview", other.address);
    assert!(answers(&other.client, &other_url, &token, 200).await);
    let mut screen = ioc_testkit::Screen::connect(app.address, &format!("?token={token}")).await;
    screen.subscribe(&["overview:today"]).await;
    assert_eq!(screen.frame().await["type"], "snapshot");
    {
        let mut conn = app.store.get().expect("connection");
        let row = ioc_store::tokens::find_active(&mut conn, &ioc_server::auth::hash_token(&token))
            .expect("find")
            .expect("active");
        assert!(ioc_store::tokens::revoke(&mut conn, row.id, chrono::Utc::now()).expect("revoke"));
    }
    assert_eq!(
        screen.close_code().await,
        Some(1008),
        "policy violation: revoked"
    );
    assert!(
        answers(&other.client, &other_url, &token, 401).await,
        "the other node refuses the token within seconds"
    );
    assert!(answers(&app.client, &app.url("/api/v1/overview"), &token, 401).await);
}

/// Sends `request` over a raw TCP connection to `address`, then waits (at
/// most 30 s) for the server's answer; its status line.
async fn raw_exchange(address: std::net::SocketAddr, request: Vec<u8>) -> String {
    actix_web::web::block(move || {
        use std::io::{Read as _, Write as _};
        let mut stream = std::net::TcpStream::connect(address).expect("connect");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .expect("timeout");
        stream.write_all(&request).expect("write");
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer)
            .lines()
            .next()
            .unwrap_or("")
            .to_owned()
    })
    .await
    .expect("exchange")
}

#[actix_web::test]
async fn slow_headers_and_slow_bodies_are_cut_off_with_408() {
    let app = TestApp::spawn(
        Backend::Sqlite,
        &[
            ("IOC__SERVER__HEADER_READ_TIMEOUT_SECS", "1"),
            ("IOC__SERVER__BODY_READ_TIMEOUT_SECS", "1"),
        ],
    )
    .await
    .expect("sqlite");
    let token = app.ingest_token("motcua");
    let headers_only = raw_exchange(
        app.address,
        b"POST /api/v1/dossiers HTTP/1.1\r\nHost: x\r\n".to_vec(),
    )
    .await;
    assert!(headers_only.contains("408"), "{headers_only}");
    let request = format!(
            "POST /api/v1/dossiers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{{\"code\":"
        )
        .into_bytes();
    let body_stalled = raw_exchange(app.address, request).await;
    assert!(body_stalled.contains("408"), "{body_stalled}");
    assert_eq!(app.get_json("/healthz").await.0, 200);
}
