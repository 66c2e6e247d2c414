//! The `ioc` binary, run as an administrator would run it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use ioc_store::testing::TestDb;
use ioc_store::{Store, StoreOptions, reference};
use ioc_testkit::{free_address, repo_config, spawn_ioc, wait_ready_blocking};

use crate::IOC;

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("ioc-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write scratch file");
        path
    }

    fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("read scratch dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ioc(config: &Path, db_url: &str, args: &[&str]) -> Output {
    Command::new(IOC)
        .arg("--config")
        .arg(config)
        .args(args)
        .env("IOC__DATABASE__URL", db_url)
        .env_remove("RUST_LOG")
        .output()
        .expect("run ioc")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn migrate_and_load_twice(db: &TestDb) {
    let config = repo_config();
    let url = db.url_string();
    let migrated = ioc(&config, &url, &["migrate"]);
    assert!(migrated.status.success(), "{}", stderr(&migrated));
    assert!(
        stdout(&migrated).contains("applied"),
        "{}",
        stdout(&migrated)
    );

    let first = ioc(&config, &url, &["units", "load"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(
        stdout(&first).trim(),
        "units: 143 inserted, 0 updated, 0 unchanged"
    );
    let procedures = ioc(&config, &url, &["procedures", "load"]);
    assert!(procedures.status.success(), "{}", stderr(&procedures));
    assert_eq!(
        stdout(&procedures).trim(),
        "procedures: 41 inserted, 0 updated, 0 unchanged"
    );

    let store = Store::connect(db.url(), &StoreOptions::default()).expect("store");
    let mut conn = store.get().expect("connection");
    let before = reference::all_units(&mut conn).expect("units");

    let again = ioc(&config, &url, &["migrate"]);
    assert!(
        stdout(&again).contains("no pending migrations"),
        "{}",
        stdout(&again)
    );
    let second = ioc(&config, &url, &["units", "load"]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(
        stdout(&second).trim(),
        "units: 0 inserted, 0 updated, 143 unchanged"
    );
    let procedures = ioc(&config, &url, &["procedures", "load"]);
    assert_eq!(
        stdout(&procedures).trim(),
        "procedures: 0 inserted, 0 updated, 41 unchanged"
    );

    let after = reference::all_units(&mut conn).expect("units");
    assert_eq!(after, before, "a second load changes nothing");
    assert_eq!(after.len(), 143);
    let count = |level: &str| after.iter().filter(|u| u.level == level).count();
    assert_eq!(count("province"), 1);
    assert_eq!(count("district"), 11);
    assert_eq!(count("commune"), 111);
    assert_eq!(count("department"), 20);
    let chon_thanh = after.iter().find(|u| u.code == "697").expect("unit 697");
    assert_eq!(chon_thanh.name, "Thị xã Chơn Thành");
}

#[test]
fn migrate_and_load_reference_data_on_sqlite() {
    migrate_and_load_twice(&TestDb::sqlite());
}

#[test]
fn migrate_and_load_reference_data_on_postgres() {
    if let Some(db) = TestDb::postgres() {
        migrate_and_load_twice(&db);
    }
}

#[test]
fn config_check_names_every_mistake_and_fails() {
    let scratch = Scratch::new("check");
    scratch.write(
        "units.csv",
        "code,name,level,parent_code\n70,Tỉnh Bình Phước,province,\n697,Thị xã Chơn Thành,ward,70\n",
    );
    let config = scratch.write(
        "ioc.toml",
        "[server]\nbind = \"not an address\"\n\n[time]\nzone = \"Asia/Hanoi\"\n\n[units]\nfiles = [\"units.csv\"]\nformer_names = []\naliases = []\n\n[procedures]\nfiles = []\n",
    );
    let output = ioc(&config, "sqlite://unused.sqlite3", &["config", "check"]);
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(err.contains("2 problems in the configuration"), "{err}");
    assert!(
        err.contains("server.bind") && err.contains("\"not an address\""),
        "{err}"
    );
    assert!(
        err.contains("time.zone") && err.contains("unknown time zone \"Asia/Hanoi\""),
        "{err}"
    );

    // With the configuration fixed, the reference files are checked too.
    let scoring =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/scoring/partial_766.toml");
    let config = scratch.write(
        "ioc.toml",
        &format!(
            "[units]\nfiles = [\"units.csv\"]\nformer_names = []\naliases = [\"missing.csv\"]\n\n[procedures]\nfiles = []\n\n\
             [campaigns]\nfiles = []\n\n[scoring]\nfile = {:?}\n\n[alerts]\nfile = \"alerts.toml\"\n",
            scoring.display().to_string()
        ),
    );
    scratch.write(
        "alerts.toml",
        "[[threshold]]\nid = \"late\"\nkey = \"late_ratio\"\nwindow = \"month\"\nlevels = [\"commune\"]\nabove = 0.004\nseverity = \"warning\"\n",
    );
    let output = ioc(&config, "sqlite://unused.sqlite3", &["config", "check"]);
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(err.contains("3 problems in the reference data"), "{err}");
    assert!(
        err.contains("alerts.toml: threshold \"late\": unknown key \"late_ratio\""),
        "{err}"
    );
    assert!(err.contains("missing.csv: cannot open"), "{err}");
    assert!(
        err.contains("units.csv:3: field `level`: unknown level \"ward\""),
        "{err}"
    );

    let ok = ioc(
        &repo_config(),
        "sqlite://unused.sqlite3",
        &["config", "check"],
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(
        stdout(&ok).contains("143 units, 41 procedures"),
        "{}",
        stdout(&ok)
    );
    assert_eq!(
        scratch.entries(),
        ["alerts.toml", "ioc.toml", "units.csv"],
        "config check writes nothing"
    );
}

#[test]
fn units_load_reports_bad_rows_with_file_line_and_field() {
    let scratch = Scratch::new("bad-units");
    scratch.write(
        "units.csv",
        "code,name,level,parent_code\n\
         70,Tỉnh Bình Phước,province,\n\
         688,Thị xã Phước Long,district,70,extra\n\
         689,Thành phố Đồng Xoài,borough,70\n\
         690,Thị xã Bình Long,district,70\n\
         690,Thị xã Bình Long (again),district,70\n\
         25216,Phường A,commune,25217\n\
         25217,Phường B,commune,25216\n",
    );
    scratch.write(
        "names.csv",
        "code,name,valid_from,valid_to\n690,Huyện Bình Long,2009-01-01,2008-01-01\n",
    );
    let config = scratch.write(
        "ioc.toml",
        "[units]\nfiles = [\"units.csv\"]\nformer_names = [\"names.csv\"]\naliases = []\n",
    );
    let db = TestDb::sqlite();
    let url = db.url_string();
    assert!(ioc(&config, &url, &["migrate"]).status.success());
    let output = ioc(&config, &url, &["units", "load"]);
    assert!(!output.status.success());
    let err = stderr(&output);
    let file = scratch.0.join("units.csv").display().to_string();
    for expected in [
        format!("{file}:3: has 5 fields, the header has 4"),
        format!("{file}:4: field `level`: unknown level \"borough\""),
        format!("{file}:6: field `code`: duplicate unit code 690 (first defined at {file}:5)"),
        format!(
            "{file}:7: field `parent_code`: the parent chain is a cycle: 25216 → 25217 → 25216"
        ),
        "names.csv:2: field `valid_to`: 2008-01-01 is not after valid_from".to_owned(),
    ] {
        assert!(err.contains(&expected), "missing {expected:?} in:\n{err}");
    }
    let store = Store::connect(db.url(), &StoreOptions::default()).expect("store");
    let mut conn = store.get().expect("connection");
    assert_eq!(
        reference::all_units(&mut conn).expect("units"),
        [],
        "nothing is loaded from bad files"
    );
}

#[test]
fn serve_fails_fast_on_an_unreachable_database_and_creates_nothing() {
    let scratch = Scratch::new("unreachable");
    for (url, expected) in [
        (
            "postgres://postgres@127.0.0.1:1/ioc",
            "cannot connect to PostgreSQL database postgres://postgres@127.0.0.1:1/ioc: connection to server at \"127.0.0.1\", port 1 failed: Connection refused",
        ),
        (
            "host=127.0.0.1 port=1 dbname=ioc",
            "database.url (from IOC__DATABASE__URL): invalid database URL",
        ),
        (
            "postgres://ioc:s3cret@127.0.0.1:1/ioc",
            "postgres://ioc:***@127.0.0.1:1/ioc",
        ),
    ] {
        let output = Command::new(IOC)
            .current_dir(&scratch.0)
            .arg("--config")
            .arg(repo_config())
            .arg("serve")
            .env("IOC__DATABASE__URL", url)
            .output()
            .expect("run ioc");
        assert!(!output.status.success(), "{url}");
        let err = stderr(&output);
        assert!(err.contains(expected), "{url}: {err}");
        assert!(!err.contains("s3cret"), "{err}");
    }
    assert_eq!(
        scratch.entries(),
        Vec::<String>::new(),
        "no stray SQLite file"
    );
}

fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

#[test]
fn serve_takes_database_and_bind_from_the_environment() {
    let db = TestDb::sqlite();
    let server = spawn_ioc(IOC, repo_config(), free_address())
        .env("IOC__DATABASE__URL", db.url_string())
        .quiet()
        .start()
        .expect("start ioc serve");
    let port = server.address.port();
    // Wait for the server to come up (a bound on waiting, not a speed check).
    wait_ready_blocking(
        &server.base_url(),
        Duration::from_secs(60),
        Duration::from_millis(100),
    )
    .expect("ioc serve did not start");
    let ready = get(port, "/readyz").expect("readyz");
    assert!(
        ready.starts_with("HTTP/1.0 200") || ready.starts_with("HTTP/1.1 200"),
        "{ready}"
    );
    assert!(ready.contains(r#""status":"ready""#), "{ready}");
    let health = get(port, "/healthz").expect("healthz");
    assert!(health.contains(r#""status":"ok""#), "{health}");

    // serve migrated and loaded the reference data into the database it was given.
    let store = Store::connect(db.url(), &StoreOptions::default()).expect("store");
    let mut conn = store.get().expect("connection");
    assert_eq!(reference::all_units(&mut conn).expect("units").len(), 143);
}

#[test]
fn tokens_are_created_once_and_checked() {
    let db = TestDb::sqlite();
    let url = db.url_string();
    let config = repo_config();
    assert!(ioc(&config, &url, &["migrate"]).status.success());
    assert!(ioc(&config, &url, &["units", "load"]).status.success());

    let created = ioc(
        &config,
        &url,
        &[
            "token", "create", "--role", "ingest", "--source", "motcua", "--units", "697,689",
        ],
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let token = stdout(&created).trim().to_owned();
    assert!(token.starts_with("ioc_") && token.len() == 68, "{token}");
    assert!(
        stderr(&created).contains("shown only this once"),
        "{}",
        stderr(&created)
    );

    let store = Store::connect(db.url(), &StoreOptions::default()).expect("store");
    let mut conn = store.get().expect("connection");
    let hash = ioc_server::auth::hash_token(&token);
    let row = ioc_store::tokens::find_active(&mut conn, &hash)
        .expect("lookup")
        .expect("stored hashed");
    assert_eq!(
        (row.role.as_str(), row.source.as_deref(), row.units.as_str()),
        ("ingest", Some("motcua"), "697,689")
    );
    assert!(
        ioc_store::tokens::find_active(&mut conn, &token)
            .expect("lookup")
            .is_none(),
        "the token itself is not stored"
    );

    for (args, expected) in [
        (
            &["token", "create", "--role", "ingest", "--units", "697"][..],
            "needs --source",
        ),
        (
            &["token", "create", "--role", "ingest", "--source", "s"][..],
            "needs --units",
        ),
        (
            &[
                "token", "create", "--role", "ingest", "--source", "s", "--units", "12345",
            ][..],
            "unknown unit code \"12345\"",
        ),
        (
            &["token", "create", "--role", "viewer", "--source", "s"][..],
            "ingest tokens only",
        ),
        (
            &["token", "create", "--role", "root"][..],
            "unknown role \"root\"",
        ),
        (
            &["token", "revoke", "999"][..],
            "no active token with id 999",
        ),
    ] {
        let output = ioc(&config, &url, args);
        assert!(!output.status.success(), "{args:?}");
        assert!(
            stderr(&output).contains(expected),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    let revoked = ioc(&config, &url, &["token", "revoke", &row.id.to_string()]);
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    assert!(
        ioc_store::tokens::find_active(&mut conn, &hash)
            .expect("lookup")
            .is_none(),
        "revoked"
    );
}

#[test]
fn serve_refuses_what_the_engine_does_not_support() {
    let db = TestDb::sqlite();
    let output = Command::new(IOC)
        .arg("--config")
        .arg(repo_config())
        .arg("serve")
        .env("IOC__DATABASE__URL", db.url_string())
        .env("IOC__TIMELINESS__GRANULARITY", "instant")
        .output()
        .expect("run ioc");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains(
            "timeliness.granularity = \"instant\" is not supported by the aggregation engine yet"
        ),
        "{}",
        stderr(&output)
    );
}
