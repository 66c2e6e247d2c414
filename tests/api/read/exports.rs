//! Rankings exported as CSV and Excel, with Vietnamese headers.

use super::*;

#[actix_web::test]
async fn rankings_export_as_csv_and_excel_with_vietnamese_headers() {
    let open = [("IOC__AUTH__PUBLIC_READ", "true")];
    let clock = Arc::new(ManualClock::new(t("2022-09-20T10:00:00+07:00")));
    let Some(app) = TestApp::spawn_with_clock(Backend::Sqlite, &open, clock).await else {
        return;
    };
    let token = app.ingest_token("motcua");
    app.post_json("/api/v1/dossiers", &token, &dataset()).await;
    eventually(&app, "/api/v1/units/25432?window=month", |b| {
        b["keys"]["received"] == 9
    })
    .await;

    let mut csv = app
        .client
        .get(app.url("/api/v1/rankings?level=commune&key=received&window=month"))
        .insert_header(("Accept", "text/csv"))
        .send()
        .await
        .expect("csv");
    assert_eq!(
        csv.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/csv; charset=utf-8")
    );
    let text = String::from_utf8(csv.body().await.expect("body").to_vec()).expect("utf-8");
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    assert_eq!(
        lines.next(),
        Some("Hạng,Mã đơn vị,Tên đơn vị,Hồ sơ tiếp nhận,Tử số,Mẫu số,Hạng kỳ trước,Thay đổi")
    );
    assert_eq!(lines.next(), Some("1,25432,Thị trấn Chơn Thành,9,9,1,1,0"));
    let (_, json) = app
        .get_json("/api/v1/rankings?level=commune&key=received&window=month")
        .await;
    assert_eq!(
        text.trim_start_matches('\u{feff}').lines().count() - 1,
        json["items"].as_array().expect("items").len()
    );

    let mut xlsx = app
        .client
        .get(app.url("/api/v1/rankings?level=commune&key=received&window=month&format=xlsx"))
        .send()
        .await
        .expect("xlsx");
    assert_eq!(
        xlsx.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    let bytes = xlsx.body().limit(16 << 20).await.expect("body");
    assert!(
        bytes.starts_with(b"PK\x03\x04"),
        "an XLSX file is a zip archive"
    );

    let mut unit_csv = app
        .client
        .get(app.url("/api/v1/units/697?window=month&format=csv"))
        .send()
        .await
        .expect("unit csv");
    let text = String::from_utf8(unit_csv.body().await.expect("body").to_vec()).expect("utf-8");
    assert!(
        text.contains("Mã đơn vị,Tên đơn vị,Cấp,Hồ sơ tiếp nhận"),
        "{text}"
    );
    assert!(
        text.contains("25432,Thị trấn Chơn Thành,commune,9,"),
        "{text}"
    );
}
