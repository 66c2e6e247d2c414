//! `ioc import`, run as an administrator would: resumable after a kill,
//! counting nothing twice, with a reject file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ioc_store::testing::TestDb;
use ioc_store::{Store, StoreOptions, changes, dossiers};
use ioc_testkit::repo_config;

use crate::IOC;

fn ioc(db: &TestDb, args: &[&str]) -> Output {
    Command::new(IOC)
        .arg("--config")
        .arg(repo_config())
        .args(args)
        .env("IOC__DATABASE__URL", db.url_string())
        .env("RUST_LOG", "warn")
        .output()
        .expect("run ioc")
}

fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn prepared(db: &TestDb) -> Store {
    ok(ioc(db, &["migrate"]));
    ok(ioc(db, &["units", "load"]));
    ok(ioc(db, &["procedures", "load"]));
    Store::connect(db.url(), &StoreOptions::default()).expect("store")
}

fn counts(store: &Store) -> (i64, i64) {
    let mut conn = store.get().expect("connection");
    (
        dossiers::count(&mut conn).expect("dossiers"),
        changes::count(&mut conn).expect("changes"),
    )
}

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("ioc-import-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const MILLION: u64 = 1_000_000;

/// One simulated file per test process, shared by both backends' tests.
fn million_dossiers() -> &'static Path {
    static FILE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    FILE.get_or_init(|| {
        let path =
            std::env::temp_dir().join(format!("ioc-import-million-{}.ndjson", std::process::id()));
        let out = Command::new(IOC)
            .arg("--config")
            .arg(repo_config())
            .args([
                "simulate",
                "--dossiers",
                &MILLION.to_string(),
                "--seed",
                "7",
                "--days",
                "730",
                "--out",
            ])
            .arg(&path)
            .output()
            .expect("run ioc simulate");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        path
    })
}

fn committed_records(store: &Store) -> u64 {
    let mut conn = store.get().expect("connection");
    let key = ioc_ingest::import::file_key(million_dossiers()).expect("file key");
    ioc_store::imports::checkpoint(&mut conn, "sim", &key)
        .expect("checkpoint")
        .map_or(0, |c| c.records)
}

fn kill_half_way_then_resume(db: &TestDb, backend: &str) {
    let store = prepared(db);
    let file = million_dossiers();
    let scratch = Scratch::new(&format!("kill-{backend}"));
    let rejects = scratch.path("rejects.ndjson");
    let rejects = rejects.to_str().expect("path");
    let mut child = Command::new(IOC)
        .arg("--config")
        .arg(repo_config())
        .args([
            "import",
            "--source",
            "sim",
            "--format",
            "ndjson",
            "--chunk",
            "20000",
            "--rejects",
            rejects,
        ])
        .arg(file)
        .env("IOC__DATABASE__URL", db.url_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ioc import");
    // Kill it once a good part is committed (a bound on waiting, not a speed check).
    let deadline = Instant::now() + Duration::from_secs(1800);
    while committed_records(&store) < MILLION / 3 {
        assert!(
            child.try_wait().expect("poll").is_none(),
            "the import ended before it could be killed"
        );
        assert!(Instant::now() < deadline, "the import made no progress");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("kill ioc import");
    child.wait().expect("reap");
    let committed = committed_records(&store);
    let (dossiers_after_kill, changes_after_kill) = counts(&store);
    assert!(committed < MILLION, "killed half-way");
    assert_eq!(
        (dossiers_after_kill, changes_after_kill),
        (committed as i64, committed as i64)
    );

    let file = file.to_str().expect("path");
    let import = [
        "import",
        "--source",
        "sim",
        "--format",
        "ndjson",
        "--rejects",
        rejects,
        file,
    ];
    let out = ok(ioc(db, &import));
    assert!(
        out.contains(&format!("accepted {MILLION}, duplicates 0, stale 0, rejected 0 ({MILLION} records; resumed after record {committed})")),
        "{out}"
    );
    assert_eq!(counts(&store), (MILLION as i64, MILLION as i64));

    // Running it again finds the file done and counts nothing.
    let again = ok(ioc(db, &import));
    assert!(
        again.contains(&format!("accepted {MILLION}, duplicates 0")),
        "{again}"
    );
    assert!(again.contains("nothing to do"), "{again}");
    assert_eq!(counts(&store), (MILLION as i64, MILLION as i64));
}

#[test]
fn a_killed_import_resumes_and_counts_each_dossier_once_on_sqlite() {
    kill_half_way_then_resume(&TestDb::sqlite(), "sqlite");
}

#[test]
fn a_killed_import_resumes_and_counts_each_dossier_once_on_postgres() {
    if let Some(db) = TestDb::postgres() {
        kill_half_way_then_resume(&db, "postgres");
    }
}

fn csv_with_rejects(db: &TestDb) {
    let store = prepared(db);
    let scratch = Scratch::new(&format!("csv-{}", db.url_string().len()));
    let file = scratch.path("backfill.csv");
    std::fs::write(
        &file,
        "code,unit,procedure,channel,status,received_at,due_at,finished_at,fee_required,paid_online,e_result,updated_at\n\
         A-1,25432,2.000815,online,4,2022-09-15T09:12:00+07:00,2022-09-20T17:00:00+07:00,,true,true,false,2022-09-15T09:12:00+07:00\n\
         A-2,25432,2.000815,postal,11,2022-09-15T09:12:00+07:00,,,false,false,false,2022-09-15T09:12:00+07:00\n\
         A-1,25432,2.000815,online,10,2022-09-15T09:12:00+07:00,2022-09-20T17:00:00+07:00,2022-09-19T15:30:00+07:00,true,true,true,2022-09-19T15:30:00+07:00\n\
         A-3,99999,2.000815,direct,2,2022-09-15T09:12:00+07:00,,,false,false,false,2022-09-15T09:12:00+07:00\n\
         A-4,25433,1.001193,direct,2,2022-09-16T08:00:00+07:00,2022-09-14T08:00:00+07:00,,false,false,false,2022-09-16T08:00:00+07:00\n\
         A-0,25433,1.001193,direct,2,2022-09-16T08:00:00+07:00,,,false,false,false,2022-09-16T08:00:00+07:00\n",
    )
    .expect("write csv");
    let out = ok(ioc(
        db,
        &[
            "import",
            "--source",
            "csv-src",
            "--format",
            "csv",
            "--chunk",
            "2",
            file.to_str().expect("path"),
        ],
    ));
    assert!(
        out.contains("accepted 3, duplicates 0, stale 0, rejected 3 (6 records)"),
        "{out}"
    );
    let rejects =
        std::fs::read_to_string(scratch.path("backfill.csv.rejects.ndjson")).expect("reject file");
    let lines: Vec<serde_json::Value> = rejects
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let summary: Vec<(u64, u64, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["record"].as_u64().expect("record"),
                l["line"].as_u64().expect("line"),
                l["field"].as_str().expect("field"),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [(2, 3, "status"), (4, 5, "unit"), (5, 6, "due_at")],
        "{rejects}"
    );
    assert!(
        lines[1]["error"]
            .as_str()
            .expect("error")
            .contains("unknown unit code \"99999\"")
    );

    let mut conn = store.get().expect("connection");
    let a1 = dossiers::find(&mut conn, "csv-src", "A-1")
        .expect("find")
        .expect("A-1");
    assert_eq!(
        a1.dossier.status.code(),
        10,
        "the later version in the file wins"
    );
    drop(conn);
    assert_eq!(counts(&store), (2, 3));

    let again = ok(ioc(
        db,
        &[
            "import",
            "--source",
            "csv-src",
            "--format",
            "csv",
            file.to_str().expect("path"),
        ],
    ));
    assert!(
        again.contains("accepted 3, duplicates 0, stale 0, rejected 3 (6 records; imported by an earlier run, nothing to do"),
        "{again}"
    );
    let restarted = ok(ioc(
        db,
        &[
            "import",
            "--restart",
            "--source",
            "csv-src",
            "--format",
            "csv",
            file.to_str().expect("path"),
        ],
    ));
    assert!(
        restarted.contains("accepted 0, duplicates 2, stale 1, rejected 3 (6 records)"),
        "{restarted}"
    );
    assert_eq!(counts(&store), (2, 3), "nothing counted twice");
}

#[test]
fn csv_imports_write_rejects_and_count_once_on_sqlite() {
    csv_with_rejects(&TestDb::sqlite());
}

#[test]
fn csv_imports_write_rejects_and_count_once_on_postgres() {
    if let Some(db) = TestDb::postgres() {
        csv_with_rejects(&db);
    }
}

#[test]
fn dvcqg_files_stream_and_bad_files_are_named() {
    let db = TestDb::sqlite();
    let store = prepared(&db);
    let scratch = Scratch::new("dvcqg");
    let record = |n: u32| {
        format!(
            r#"{{"MaHoSo":"D-{n}","MaTTHC":"2.000815","KenhThucHien":"2","TrangThaiHoSo":"4","NgayTiepNhan":"20220915091200","NgayHenTra":"20220920170000","DonViXuLy":"Phường Hưng Long","ChuHoSo":"Nguyễn Văn A"}}"#
        )
    };
    let file = scratch.path("dvcqg.json");
    let records: Vec<String> = (0..50).map(record).collect();
    std::fs::write(
        &file,
        format!(
            r#"{{"madonvi":"697","service":"DongBoHoSoMC","data":[{}]}}"#,
            records.join(",")
        ),
    )
    .expect("write");
    let out = ok(ioc(
        &db,
        &[
            "import",
            "--source",
            "tinh",
            "--format",
            "dvcqg",
            "--chunk",
            "7",
            file.to_str().expect("path"),
        ],
    ));
    assert!(
        out.contains("accepted 50, duplicates 0, stale 0, rejected 0 (50 records)"),
        "{out}"
    );
    assert_eq!(counts(&store), (50, 50));

    let bad = scratch.path("bad.csv");
    std::fs::write(
        &bad,
        "code,unit,recieved_at\nX,25432,2022-09-15T09:12:00+07:00\n",
    )
    .expect("write");
    let output = ioc(
        &db,
        &[
            "import",
            "--source",
            "tinh",
            "--format",
            "csv",
            bad.to_str().expect("path"),
        ],
    );
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("bad.csv: line 1: unknown column \"recieved_at\""),
        "{err}"
    );

    let output = ioc(
        &db,
        &[
            "import",
            "--source",
            "bad source!",
            "--format",
            "csv",
            bad.to_str().expect("path"),
        ],
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("source \"bad source!\" must be"));
    let output = ioc(
        &db,
        &[
            "import",
            "--source",
            "tinh",
            "--format",
            "xml",
            bad.to_str().expect("path"),
        ],
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown format \"xml\""));
}
