//! The `ioc` binary run as an operator runs it: `ioc serve` on a chosen
//! address, killed when dropped, and a wait until `/readyz` answers 200.
//!
//! ```no_run
//! # async fn example(ioc: &str, db_url: &str) {
//! use std::time::Duration;
//! use ioc_testkit::{free_address, repo_config, spawn_ioc, wait_ready};
//!
//! let address = free_address();
//! let server = spawn_ioc(ioc, repo_config(), address)
//!     .env("IOC__DATABASE__URL", db_url)
//!     .start()
//!     .expect("start ioc serve");
//! let client = awc::Client::default();
//! wait_ready(&client, &server.base_url(), Duration::from_secs(60), Duration::from_millis(100))
//!     .await
//!     .expect("ready");
//! # }
//! ```

use std::ffi::OsStr;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Error;

/// The repository's configuration, `config/base.toml`.
pub fn repo_config() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .expect("crates/ioc-testkit is two levels below the repository");
    root.join("config/base.toml")
}

/// A loopback address with a port that was free a moment ago.
pub fn free_address() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

/// `ioc --config <config> serve`, about to start: made by [`spawn_ioc`],
/// given its environment, started by [`SpawnIoc::start`].
#[must_use = "start() runs it"]
pub struct SpawnIoc {
    command: Command,
    address: SocketAddr,
}

/// Prepares `ioc serve` of binary `ioc` with configuration `config`,
/// listening on `address` (`IOC__SERVER__BIND`), its standard output
/// discarded and its standard error inherited.
pub fn spawn_ioc(
    ioc: impl AsRef<OsStr>,
    config: impl AsRef<Path>,
    address: SocketAddr,
) -> SpawnIoc {
    let mut command = Command::new(ioc);
    command
        .arg("--config")
        .arg(config.as_ref())
        .arg("serve")
        .env("IOC__SERVER__BIND", address.to_string())
        .stdout(Stdio::null());
    SpawnIoc { command, address }
}

impl SpawnIoc {
    /// Sets one environment variable (a later one of the same name wins).
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> SpawnIoc {
        self.command.env(key, value);
        self
    }

    /// Sets each of `vars`, in order.
    pub fn envs(mut self, vars: &[(&str, &str)]) -> SpawnIoc {
        self.command.envs(vars.iter().copied());
        self
    }

    /// Discards the standard error too.
    pub fn quiet(mut self) -> SpawnIoc {
        self.command.stderr(Stdio::null());
        self
    }

    /// Starts the process; it is killed when the result is dropped.
    pub fn start(mut self) -> std::io::Result<IocProcess> {
        let child = self.command.spawn()?;
        Ok(IocProcess {
            child,
            address: self.address,
        })
    }
}

/// A running `ioc serve`, killed (SIGKILL) and reaped when dropped.
pub struct IocProcess {
    /// The process, to signal or wait for.
    pub child: Child,
    /// Where it listens.
    pub address: SocketAddr,
}

impl IocProcess {
    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// `http://{address}`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl Drop for IocProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `GET {base}/readyz` every `every` until it answers 200; fails
/// after `patience`. `base` is a URL such as `http://127.0.0.1:8080`.
pub async fn wait_ready(
    client: &awc::Client,
    base: &str,
    patience: Duration,
    every: Duration,
) -> Result<(), Error> {
    let deadline = Instant::now() + patience;
    loop {
        let ready = client.get(format!("{base}/readyz")).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Error::new(format!(
                "ioc serve at {base} did not become ready within {patience:?}"
            )));
        }
        actix_web::rt::time::sleep(every).await;
    }
}

/// [`wait_ready`] for code outside an async runtime (it runs one of its
/// own, so it must not be called inside one).
pub fn wait_ready_blocking(base: &str, patience: Duration, every: Duration) -> Result<(), Error> {
    actix_web::rt::System::new()
        .block_on(async { wait_ready(&awc::Client::default(), base, patience, every).await })
}
