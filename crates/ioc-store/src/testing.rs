//! Throwaway databases for tests (feature `test-util`).
//!
//! SQLite: a fresh file in the temp directory. PostgreSQL: a fresh database
//! on the first server found, in this order:
//! 1. `IOC_TEST_PG_URL` (a URL to any database of a server where the user
//!    may create databases);
//! 2. a server on 127.0.0.1:5432, user `postgres`, if one answers;
//! 3. a throwaway cluster started with `initdb`/`pg_ctl` from
//!    `/usr/lib/postgresql/*/bin` under the temp directory (as user
//!    `postgres` when run as root), left running for later test runs.
//!
//! When none works the test fails with the reasons: PostgreSQL tests never
//! skip silently. Set `IOC_TEST_SKIP_PG=1` to skip them on purpose outside
//! CI (ignored when `CI=true`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use diesel::Connection;
use diesel::connection::SimpleConnection;

use crate::{AnyConnection, DatabaseUrl, Store, StoreError, StoreOptions};

/// A database that exists for one test and is removed when dropped.
pub struct TestDb {
    url: DatabaseUrl,
    cleanup: Cleanup,
}

enum Cleanup {
    File(PathBuf),
    Database { admin_url: String, name: String },
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestDb {
    /// A new, empty SQLite database file.
    pub fn sqlite() -> TestDb {
        let path = std::env::temp_dir().join(format!("{}.sqlite3", unique_name("ioc_test")));
        TestDb {
            url: DatabaseUrl::Sqlite(path.clone()),
            cleanup: Cleanup::File(path),
        }
    }

    /// A new, empty PostgreSQL database, or `None` when PostgreSQL tests are
    /// skipped on purpose (`IOC_TEST_SKIP_PG=1` outside CI).
    ///
    /// # Panics
    /// When no PostgreSQL server can be found or started.
    pub fn postgres() -> Option<TestDb> {
        let admin_url = match postgres_server() {
            Ok(url) => url.clone(),
            Err(reasons) => {
                let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
                if !in_ci && std::env::var("IOC_TEST_SKIP_PG").is_ok_and(|v| v == "1") {
                    eprintln!("SKIPPING a PostgreSQL test (IOC_TEST_SKIP_PG=1): {reasons}");
                    return None;
                }
                panic!("no PostgreSQL server for tests: {reasons}");
            }
        };
        let name = unique_name("ioc_test");
        let mut admin = diesel::PgConnection::establish(&admin_url)
            .unwrap_or_else(|e| panic!("cannot connect to the PostgreSQL test server: {e}"));
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let url = with_database(&admin_url, &name);
        Some(TestDb {
            url: DatabaseUrl::Postgres(url),
            cleanup: Cleanup::Database { admin_url, name },
        })
    }

    /// The database's URL.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The database's URL as text, as a config file or `IOC__DATABASE__URL` takes it.
    pub fn url_string(&self) -> String {
        match &self.url {
            DatabaseUrl::Postgres(url) => url.clone(),
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::SqliteMemory => "sqlite://:memory:".to_owned(),
        }
    }

    /// A store on this database, with migrations applied.
    pub fn migrated_store(&self) -> Store {
        let store = Store::connect(&self.url, &StoreOptions::default())
            .expect("connect to the test database");
        let mut conn = store.get().expect("a test connection");
        crate::migrate(&mut conn).expect("migrations");
        drop(conn);
        store
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
            Cleanup::Database { admin_url, name } => {
                if let Ok(mut admin) = diesel::PgConnection::establish(admin_url) {
                    let _ = admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
        }
    }
}

/// A PostgreSQL cluster of a test's own (`initdb`, `pg_ctl`), to restart
/// or stop under load; stopped and removed when dropped.
pub struct TestCluster {
    bin: PathBuf,
    root: PathBuf,
    port: u16,
    as_root: bool,
}

/// How `pg_ctl` stops a cluster.
#[derive(Debug, Clone, Copy)]
pub enum StopMode {
    /// `-m fast`: sessions are ended, then a clean shutdown.
    Fast,
    /// `-m immediate`: no shutdown at all (recovery at the next start).
    Immediate,
}

impl TestCluster {
    /// Creates and starts a cluster on a free port.
    ///
    /// # Panics
    /// When PostgreSQL's binaries are missing or the cluster cannot start.
    pub fn start() -> TestCluster {
        let bin = postgres_bin_dir().unwrap_or_else(|e| panic!("no PostgreSQL binaries: {e}"));
        let root = std::env::temp_dir().join(unique_name("ioc_cluster"));
        let data = root.join("data");
        std::fs::create_dir_all(&data).expect("cluster directory");
        let as_root = is_root();
        if as_root {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&root))
            .unwrap_or_else(|e| panic!("{e}"));
        }
        run(as_postgres(as_root, &bin.join("initdb"))
            .args(["-A", "trust", "-U", "postgres", "-N", "-D"])
            .arg(&data))
        .unwrap_or_else(|e| panic!("{e}"));
        let port = free_port().unwrap_or_else(|e| panic!("{e}"));
        let cluster = TestCluster {
            bin,
            root,
            port,
            as_root,
        };
        cluster.pg_ctl(&["-w", "start"]);
        cluster
    }

    /// The URL of database `postgres` on the cluster.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the cluster.
    pub fn stop(&self, mode: StopMode) {
        let mode = match mode {
            StopMode::Fast => "fast",
            StopMode::Immediate => "immediate",
        };
        self.pg_ctl(&["-w", "-m", mode, "stop"]);
    }

    /// Starts the stopped cluster again, on the same port.
    pub fn restart(&self) {
        self.pg_ctl(&["-w", "start"]);
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.root.join("data");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            data.display()
        );
        run(as_postgres(self.as_root, &self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(data.join("log"))
            .args(["-o", &options])
            .args(args))
        .unwrap_or_else(|e| panic!("{e}"));
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        let data = self.root.join("data");
        let _ = as_postgres(self.as_root, &self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .args(["-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// `url` pointing at database `name` instead of its own.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = base[scheme_end..].split('/').next().unwrap_or("");
    let mut out = format!("{}{}/{}", &base[..scheme_end], host_part, name);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// The admin URL of a PostgreSQL server for tests, found once per process.
fn postgres_server() -> &'static Result<String, String> {
    static SERVER: OnceLock<Result<String, String>> = OnceLock::new();
    SERVER.get_or_init(find_or_start_server)
}

fn find_or_start_server() -> Result<String, String> {
    let mut reasons = Vec::new();
    if let Ok(url) = std::env::var("IOC_TEST_PG_URL") {
        return match diesel::PgConnection::establish(&url) {
            Ok(_) => Ok(url),
            Err(e) => Err(format!("IOC_TEST_PG_URL is set but does not answer: {e}")),
        };
    }
    let local = "postgres://postgres@127.0.0.1:5432/postgres";
    match diesel::PgConnection::establish(local) {
        Ok(_) => return Ok(local.to_owned()),
        Err(e) => reasons.push(format!("{local}: {}", e.to_string().trim())),
    }
    match start_throwaway_cluster() {
        Ok(url) => Ok(url),
        Err(e) => {
            reasons.push(format!("throwaway cluster: {e}"));
            Err(reasons.join("; "))
        }
    }
}

/// Starts (or reuses) a cluster under the temp directory; returns its URL.
fn start_throwaway_cluster() -> Result<String, String> {
    let bin = postgres_bin_dir()?;
    let root = std::env::temp_dir().join("ioc-test-pg");
    std::fs::create_dir_all(&root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    let lock = std::fs::File::create(root.join("lock")).map_err(|e| format!("lock file: {e}"))?;
    lock.lock()
        .map_err(|e| format!("cannot lock {}: {e}", root.display()))?;
    let data = root.join("data");
    let port_file = root.join("port");
    if let Ok(port) = std::fs::read_to_string(&port_file) {
        let url = format!("postgres://postgres@127.0.0.1:{}/postgres", port.trim());
        if diesel::PgConnection::establish(&url).is_ok() {
            return Ok(url);
        }
    }
    let as_root = std::env::var("USER").is_ok_and(|u| u == "root") || is_root();
    if !data.join("PG_VERSION").exists() {
        std::fs::create_dir_all(&data)
            .map_err(|e| format!("cannot create {}: {e}", data.display()))?;
        if as_root {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&root))?;
        }
        run(as_postgres(as_root, &bin.join("initdb"))
            .args(["-A", "trust", "-U", "postgres", "-N", "-D"])
            .arg(&data))?;
    }
    let port = free_port()?;
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
        data.display()
    );
    run(as_postgres(as_root, &bin.join("pg_ctl"))
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(data.join("log"))
        .args(["-o", &options, "-w", "start"]))?;
    std::fs::write(&port_file, port.to_string())
        .map_err(|e| format!("cannot write {}: {e}", port_file.display()))?;
    Ok(format!("postgres://postgres@127.0.0.1:{port}/postgres"))
}

fn postgres_bin_dir() -> Result<PathBuf, String> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| format!("no /usr/lib/postgresql: {e}"))?
        .filter_map(Result::ok)
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .ok_or_else(|| "no initdb under /usr/lib/postgresql/*/bin".to_owned())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn as_postgres(as_root: bool, program: &Path) -> Command {
    if as_root {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let output = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

fn free_port() -> Result<u16, String> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// Reverts every applied migration, newest first (each `down.sql`);
/// returns the names reverted. Tests check that every migration can be
/// undone and applied again.
pub fn revert_all_migrations(conn: &mut AnyConnection) -> Result<Vec<String>, StoreError> {
    use diesel_migrations::MigrationHarness;
    let reverted = match conn {
        AnyConnection::Postgresql(pg) => pg
            .revert_all_migrations(crate::migrate::POSTGRES)
            .map(crate::migrate::names),
        AnyConnection::Sqlite(sqlite) => sqlite
            .revert_all_migrations(crate::migrate::SQLITE)
            .map(crate::migrate::names),
    };
    reverted.map_err(|e| StoreError::Migration(e.to_string()))
}
