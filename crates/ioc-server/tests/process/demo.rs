//! `ioc demo`: backfills history once, serves the pages and the API with
//! live traffic moving the numbers, stops cleanly on SIGTERM (as on
//! Ctrl-C), and resumes the same data when run again.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ioc_testkit::{free_address, repo_config};

use crate::IOC;

struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Demo {
    /// Starts the demo with the repository's configuration and returns it
    /// with the lines it printed up to the URLs.
    fn start(data: &Path, port: u16) -> (Demo, Vec<String>) {
        let mut command = Command::new(IOC);
        command.arg("--config").arg(repo_config());
        Demo::spawn(command, data, port)
    }

    /// Starts the demo in `dir`, with no configuration file: the built-in one.
    fn start_in(dir: &Path, data: &Path, port: u16) -> (Demo, Vec<String>) {
        let mut command = Command::new(IOC);
        command.current_dir(dir).env_remove("IOC_CONFIG");
        Demo::spawn(command, data, port)
    }

    fn spawn(mut command: Command, data: &Path, port: u16) -> (Demo, Vec<String>) {
        let mut child = command
            .args([
                "demo",
                "--days",
                "14",
                "--per-day",
                "200",
                "--rate",
                "5",
                "--bind",
            ])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data")
            .arg(data)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start ioc demo");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("a line");
            let done = line.contains("live traffic");
            lines.push(line);
            if done {
                break;
            }
        }
        (Demo(child), lines)
    }

    fn stop(mut self) {
        let pid = self.0.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(sent.success());
        let status = self.0.wait().expect("wait");
        assert!(status.success(), "ioc demo exited with {status}");
    }
}

/// Waits until today's count moves from what it is now (live traffic).
fn today_moves(port: u16) -> bool {
    let today = "window=today";
    let first = province_received(port, today).expect("today's count");
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(200));
        if province_received(port, today) > Some(first) {
            return true;
        }
    }
    false
}

/// The body of `GET path`, or `None` when nothing listens.
fn get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_owned())
}

fn province_received(port: u16, window: &str) -> Option<i64> {
    let body = get(port, &format!("/api/v1/overview?{window}"))?;
    let value: serde_json::Value = serde_json::from_str(&body).ok()?;
    value["province"]["received"].as_i64()
}

#[test]
fn the_demo_backfills_moves_stops_and_resumes() {
    let data = std::env::temp_dir().join(format!("ioc-demo-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let port = free_address().port();

    let (demo, printed) = Demo::start(&data, port);
    let printed = printed.join("\n");
    assert!(printed.contains("Backfilled 2800 dossiers"), "{printed}");
    assert!(
        printed.contains(&format!("http://127.0.0.1:{port}/rankings")),
        "{printed}"
    );
    let wall = get(port, "/").expect("the wall screen");
    assert!(wall.contains("/static/wall.js"));

    // Live traffic moves today's numbers.
    assert!(today_moves(port), "today's count never moved");
    demo.stop();
    assert_eq!(get(port, "/healthz"), None, "stopped");

    let (demo, printed) = Demo::start(&data, port);
    let printed = printed.join("\n");
    assert!(printed.contains("Resuming the demo"), "{printed}");
    assert!(!printed.contains("Backfilling"), "{printed}");
    let all = province_received(port, "from=2000-01-01&to=2100-01-01");
    assert!(all >= Some(2_800), "the history is still there: {all:?}");
    demo.stop();
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn the_demo_runs_from_any_directory_on_its_built_in_configuration() {
    let dir = std::env::temp_dir().join(format!("ioc-demo-anywhere-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("an empty directory");
    let port = free_address().port();
    let (demo, printed) = Demo::start_in(&dir, &dir.join("data"), port);
    let printed = printed.join("\n");
    assert!(printed.contains("Backfilled 2800 dossiers"), "{printed}");
    let wall = get(port, "/").expect("the wall screen");
    assert!(wall.contains("/static/wall.js"));
    let units = get(port, "/api/v1/units/70").expect("the built-in unit tree");
    assert!(units.contains("Bình Phước"), "{units}");
    assert!(today_moves(port), "today's count never moved");
    demo.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
