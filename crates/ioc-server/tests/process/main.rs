//! Process tests of `ioc`, in one test binary: the binary run as an
//! administrator runs it (the CLI, `ioc import`, `ioc demo`), `ioc serve`
//! processes on one database, faults under load, the live aggregates, the
//! pages in headless Chromium, and the OpenAPI document under an API
//! tester. The harness is `ioc-testkit`.

mod aggregates;
mod browser;
mod cli;
mod demo;
mod faults;
mod import;
mod nodes;
mod openapi;

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use ioc_testkit::{IocProcess, repo_config, spawn_ioc, wait_ready};

/// The `ioc` binary of this build.
const IOC: &str = env!("CARGO_BIN_EXE_ioc");

/// Starts `ioc serve` on `db_url` at `address` (public reads, two
/// workers, `env` on top) and waits until it is ready.
async fn serve(db_url: &str, address: SocketAddr, env: &[(&str, &str)]) -> IocProcess {
    let node = spawn_ioc(IOC, repo_config(), address)
        .env("IOC__DATABASE__URL", db_url)
        .env("IOC__SERVER__WORKERS", "2")
        .env("IOC__AUTH__PUBLIC_READ", "true")
        .env("RUST_LOG", "error")
        .envs(env)
        .start()
        .expect("start ioc serve");
    wait_ready(
        &awc::Client::default(),
        &node.base_url(),
        Duration::from_secs(60),
        Duration::from_millis(100),
    )
    .await
    .expect("ioc serve never became ready");
    node
}

/// An ingest token of source `motcua` for the subtree of unit 70, made
/// with `ioc token create` on the database at `db_url`.
fn ingest_token(db_url: &str) -> String {
    token(
        db_url,
        &["--role", "ingest", "--source", "motcua", "--units", "70"],
    )
}

/// A token made with `ioc token create ARGS` on the database at `db_url`.
fn token(db_url: &str, args: &[&str]) -> String {
    let output = Command::new(IOC)
        .arg("--config")
        .arg(repo_config())
        .args(["token", "create"])
        .args(args)
        .env("IOC__DATABASE__URL", db_url)
        .env("RUST_LOG", "error")
        .output()
        .expect("ioc token create");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .find(|w| w.starts_with("ioc_"))
        .expect("a token in the output")
        .to_owned()
}
