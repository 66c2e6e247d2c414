//! The DVCQG-compatible endpoints: the portal's sample payload and its
//! variants, normalised as METRICS.md says, with no personal data kept.

use ioc_server::auth::Role;
use ioc_store::{changes, dossiers};
use ioc_testkit::{Backend, TestApp, both_backends};
use serde_json::{Value, json};

const SYNC: &str = "/api/v1/dvcqg/DongBoHoSoMC";
const PROGRESS: &str = "/api/v1/dvcqg/CapNhatTienDoHoSoMC";

/// The sample of DOMAIN.md §2.3 (synthetic values, real field names).
fn sample() -> Value {
    json!({
        "MaHoSo": "000.00.01.H00-220915-12345",
        "MaTTHC": "2.000815", "TenTTHC": "Chứng thực bản sao", "MaLinhVuc": "CT", "TenLinhVuc": "Chứng thực",
        "KenhThucHien": "2", "LoaiDoiTuong": "1", "MaDoiTuong": "dvcqg-user-778899",
        "ChuHoSo": "Nguyễn Văn A", "SoGiayToChuHoSo": "070123456789", "SoDienThoai": "0900000000",
        "Email": "nguyenvana@example.vn", "Fax": "", "ThongTinKhac": "Số 12 đường Phú Riềng Đỏ",
        "TrichYeuHoSo": "Đề nghị chứng thực bản sao bằng tốt nghiệp",
        "NgayNopHoSo": "20220915080510", "NgayTiepNhan": "20220915091200", "NgayHenTra": "20220920170000",
        "TrangThaiHoSo": "10", "NgayKetThucXuLy": "20220919153000", "NgayTra": "20220920090000", "NgayTuChoi": "",
        "HinhThuc": "0", "DonViXuLy": "UBND xã Tân Thành", "NoiNopHoSo": "2",
        "HoSoCoThanhPhanSoHoa": "1", "TaiKhoanDuocXacThucVoiVNeID": "1", "DuocThanhToanTrucTuyen": "1",
        "DinhDanhCHS": [{"LoaiDinhDanh": "1", "SoDinhDanh": "070123456789"}],
        "DSKetNoiCSDL": [{"MaCSDL": "7"}],
        "TaiLieuNop": [{"TepDinhKemId": "", "TenTepDinhKem": "Tờ khai", "IsDeleted": "0", "MaThanhPhanHoSo": "TP1",
                        "DuongDanTaiTepTin": "https://dvc.example.vn/file.pdf?token=secret-link", "DuocSoHoa": "1",
                        "DuocTaiSuDung": "0", "DuocLayTuKhoDMQG": "0", "MaKetQuaThayThe": ""}],
        "DanhSachGiayToKetQua": [{"TenGiayTo": "Kết quả", "MaThanhPhanHoSo": "", "GiayToId": "",
                                  "DuongDanTepTinKetQua": "https://dvc.example.vn/kq.pdf?token=secret-link",
                                  "MaGiayToKetQua": "KQ1"}],
        "DanhSachLePhi": [{"TenPhiLePhi": "Lệ phí", "MaPhiLePhi": "1", "HinhThucThu": "1", "Gia": "50000", "LoaiPhiLePhi": "1"}],
        "DanhSachTepDinhKemKhac": [], "DanhSachHoSoBoSung": [], "GhiChu": "Gọi 0900000000", "ThongTinTra": ""
    })
}

/// Everything stored about dossiers, as text.
fn stored_text(app: &TestApp) -> String {
    let mut conn = app.store.get().expect("connection");
    let log = changes::after(&mut conn, 0, 10_000).expect("log");
    let states: Vec<_> = log
        .iter()
        .filter_map(|c| {
            dossiers::find(
                &mut conn,
                c.new.source.as_str(),
                c.new.dossier.code.as_str(),
            )
            .expect("find")
        })
        .collect();
    format!("{log:?}\n{states:?}")
}

fn t(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .expect("time")
        .with_timezone(&chrono::Utc)
}

both_backends!(
    the_portal_sample_is_normalised_without_personal_data,
    |app: TestApp| async move {
        let token = app.ingest_token("motcua");
        let envelope = json!({
            "session": "session-token-from-the-sender",
            "madonvi": "25207",
            "service": "DongBoHoSoMC",
            "isUpdating": false,
            "data": [sample()],
        });
        let (status, answer) = app.post_json(SYNC, &token, &envelope).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["error_code"], "0", "{answer}");
        assert!(
            answer["message"]
                .as_str()
                .expect("message")
                .contains("thành công"),
            "{answer}"
        );
        assert_eq!(answer["accepted"], 1);

        let mut conn = app.store.get().expect("connection");
        let stored = dossiers::find(&mut conn, "motcua", "000.00.01.H00-220915-12345")
            .expect("find")
            .expect("stored");
        drop(conn);
        let d = serde_json::to_value(&stored.dossier).expect("json");
        assert_eq!(
            d,
            json!({
                "code": "000.00.01.H00-220915-12345",
                "unit": "25207",
                "procedure": "2.000815",
                "channel": "online",
                "status": 10,
                "received_at": t("2022-09-15T09:12:00+07:00"),
                "due_at": t("2022-09-20T17:00:00+07:00"),
                "finished_at": t("2022-09-19T15:30:00+07:00"),
                "fee_required": true,
                "paid_online": true,
                "e_result": true,
                "updated_at": t("2022-09-20T09:00:00+07:00"),
            }),
            "the ambiguous DonViXuLy falls back to madonvi; finished_at is NgayKetThucXuLy; updated_at the last event"
        );

        let text = stored_text(&app);
        for personal in [
            "Nguyễn Văn A",
            "070123456789",
            "0900000000",
            "nguyenvana@example.vn",
            "Phú Riềng Đỏ",
            "Đề nghị",
            "secret-link",
            "dvcqg-user-778899",
            "session-token",
        ] {
            assert!(
                !text.contains(personal),
                "{personal:?} reached the database"
            );
        }

        // The same record again is a duplicate, counted once.
        let (_, again) = app.post_json(SYNC, &token, &envelope).await;
        assert_eq!(
            (again["error_code"].clone(), again["duplicates"].clone()),
            (json!("0"), json!(1))
        );
    }
);

both_backends!(
    variants_of_the_format_are_accepted,
    |app: TestApp| async move {
        let token = app.ingest_token("motcua");
        let mut english = sample();
        english["MaHoSo"] = json!("V-ENGLISH");
        english["DonViXuLy"] = json!("UBND phường Hưng Long");
        english["TrangThaiHoSo"] = json!("done");
        english["NgayKetThucXuLy"] = json!("");
        let mut submitted = sample();
        submitted["MaHoSo"] = json!("V-SUBMITTED");
        submitted["DonViXuLy"] = json!("Phường Hưng Long");
        submitted["TrangThaiHoSo"] = json!("receiving");
        submitted["KenhThucHien"] = json!("");
        for field in ["NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra"] {
            submitted[field] = json!("");
        }
        submitted["DanhSachLePhi"] = json!([]);
        submitted["DanhSachGiayToKetQua"] = json!([]);
        let mut ambiguous = sample();
        ambiguous["MaHoSo"] = json!("V-AMBIGUOUS");
        let mut bad_time = sample();
        bad_time["MaHoSo"] = json!("V-BADTIME");
        bad_time["DonViXuLy"] = json!("25432");
        bad_time["NgayHenTra"] = json!("2022-09-20");
        let mut unknown_status = sample();
        unknown_status["MaHoSo"] = json!("V-UNKNOWN");
        unknown_status["DonViXuLy"] = json!("25432");
        unknown_status["TrangThaiHoSo"] = json!("interoperating");

        let bare = json!([english, submitted, ambiguous, bad_time, unknown_status]);
        let (status, answer) = app.post_json(SYNC, &token, &bare).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            answer["error_code"], "-2",
            "records were rejected: {answer}"
        );
        assert_eq!(answer["accepted"], 2, "{answer}");
        let rejected = answer["rejected"].as_array().expect("rejected");
        let fields: Vec<(u64, &str)> = rejected
            .iter()
            .map(|r| {
                (
                    r["index"].as_u64().expect("index"),
                    r["field"].as_str().expect("field"),
                )
            })
            .collect();
        assert_eq!(
            fields,
            [(2, "DonViXuLy"), (3, "NgayHenTra"), (4, "TrangThaiHoSo")],
            "{answer:#}"
        );
        let error = |i: usize| rejected[i]["error"].as_str().expect("error").to_owned();
        assert!(
            error(0).contains("ambiguous: units 25207, 25318"),
            "{}",
            error(0)
        );
        assert!(
            error(1).contains("\"2022-09-20\" is not a time yyyyMMddHHmmss"),
            "{}",
            error(1)
        );
        assert!(
            error(2).contains("\"interoperating\"") && error(2).contains("ingest.status_map"),
            "{}",
            error(2)
        );

        let mut conn = app.store.get().expect("connection");
        let english = dossiers::find(&mut conn, "motcua", "V-ENGLISH")
            .expect("find")
            .expect("stored");
        assert_eq!(english.dossier.status.code(), 10);
        assert_eq!(english.dossier.unit, "25432");
        assert_eq!(
            english.dossier.finished_at,
            Some(t("2022-09-20T09:00:00+07:00")),
            "without NgayKetThucXuLy, NgayTra ends processing"
        );
        let submitted = dossiers::find(&mut conn, "motcua", "V-SUBMITTED")
            .expect("find")
            .expect("stored");
        assert_eq!(submitted.dossier.status.code(), 1);
        assert_eq!(
            submitted.dossier.channel.as_str(),
            "direct",
            "a missing KenhThucHien means direct"
        );
        assert_eq!(
            (submitted.dossier.received_at, submitted.dossier.due_at),
            (None, None)
        );
        assert!(
            !submitted.dossier.fee_required
                && !submitted.dossier.paid_online
                && !submitted.dossier.e_result
        );
    }
);

#[actix_web::test]
async fn senders_own_status_codes_can_be_mapped() {
    let overrides = [(
        "IOC__INGEST__STATUS_MAP",
        r#"{ motcua = { "interoperating" = 4 } }"#,
    )];
    let Some(app) = TestApp::spawn(Backend::Sqlite, &overrides).await else {
        return;
    };
    let token = app.ingest_token("motcua");
    let mut record = sample();
    record["DonViXuLy"] = json!("25432");
    record["TrangThaiHoSo"] = json!("interoperating");
    record["NgayKetThucXuLy"] = json!("");
    record["NgayTra"] = json!("");
    let (_, answer) = app.post_json(SYNC, &token, &json!([record])).await;
    assert_eq!(
        (answer["error_code"].clone(), answer["accepted"].clone()),
        (json!("0"), json!(1)),
        "{answer}"
    );
    let other = app.ingest_token("another-source");
    let (_, answer) = app.post_json(SYNC, &other, &json!([record])).await;
    assert_eq!(
        answer["rejected"][0]["field"], "TrangThaiHoSo",
        "the map is per source: {answer}"
    );
}

both_backends!(progress_steps_move_a_dossier, |app: TestApp| async move {
    let token = app.ingest_token("motcua");
    let mut received = sample();
    received["DonViXuLy"] = json!("25432");
    received["TrangThaiHoSo"] = json!("2");
    for field in ["NgayKetThucXuLy", "NgayTra"] {
        received[field] = json!("");
    }
    app.post_json(SYNC, &token, &json!([received])).await;
    let step = |status: &str, at: &str| {
        json!({"MaHoSo": "000.00.01.H00-220915-12345", "NguoiXuLy": "Cán bộ một cửa", "ChucDanh": "",
               "ThoiDiemXuLy": at, "PhongBanXuLy": "", "NoiDungXuLy": "Xử lý", "TrangThai": status,
               "NgayBatDau": "", "NgayKetThucTheoQuyDinh": ""})
    };
    let envelope = json!({"madonvi": "25432", "service": "CapNhatTienDoHoSoMC", "data": [
        step("4", "20220916080000"),
        {"MaHoSo": "UNKNOWN-1", "TrangThai": "4", "ThoiDiemXuLy": "20220916080000"},
    ]});
    let (status, answer) = app.post_json(PROGRESS, &token, &envelope).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["accepted"], 1, "{answer}");
    assert_eq!(answer["rejected"][0]["field"], "MaHoSo");
    assert!(
        answer["rejected"][0]["error"]
            .as_str()
            .expect("error")
            .contains("DongBoHoSoMC first")
    );

    let (_, answer) = app
        .post_json(PROGRESS, &token, &json!([step("9", "20220919153000")]))
        .await;
    assert_eq!(
        (answer["error_code"].clone(), answer["accepted"].clone()),
        (json!("0"), json!(1)),
        "{answer}"
    );
    let (_, answer) = app
        .post_json(PROGRESS, &token, &json!([step("5", "20220917080000")]))
        .await;
    assert_eq!(
        answer["stale"], 1,
        "an older step changes nothing: {answer}"
    );

    let mut conn = app.store.get().expect("connection");
    let stored = dossiers::find(&mut conn, "motcua", "000.00.01.H00-220915-12345")
        .expect("find")
        .expect("stored");
    assert_eq!(stored.dossier.status.code(), 9);
    assert_eq!(
        stored.dossier.finished_at,
        Some(t("2022-09-19T15:30:00+07:00"))
    );
    assert_eq!(changes::count(&mut conn).expect("changes"), 3);
});

#[actix_web::test]
async fn dvcqg_errors_answer_in_dvcqg_style() {
    let Some(app) = TestApp::spawn(Backend::Sqlite, &[]).await else {
        return;
    };
    let (status, answer) = app
        .send(
            awc::http::Method::POST,
            SYNC,
            Some("application/json"),
            None,
            "[]",
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(answer["error_code"], "-1");
    let token = app.token(Role::Ingest, Some("motcua"), &["697"]);
    let envelope = json!({"madonvi": "25207", "service": "DongBoHoSoMC", "data": [sample()]});
    let (status, answer) = app.post_json(SYNC, &token, &envelope).await;
    assert_eq!(
        status, 403,
        "a batch on behalf of a unit outside the token's scope: {answer}"
    );
    assert!(
        answer["message"]
            .as_str()
            .expect("message")
            .contains("outside the units this token may write")
    );
    let wrong_service = json!({"service": "CapNhatTienDoHoSoMC", "data": []});
    let (status, answer) = app.post_json(SYNC, &token, &wrong_service).await;
    assert_eq!(
        (status, answer["error"].clone()),
        (400, json!("invalid_batch")),
        "{answer}"
    );
}
