//! `/metrics`: business gauges equal to the REST API's numbers, service
//! metrics, the optional token, and a scrape that `promtool check metrics`
//! accepts.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use ioc_testkit::{Backend, TestApp, sample};
use serde_json::json;

use crate::stream::received_now;

#[actix_web::test]
async fn business_gauges_equal_the_rest_api_and_promtool_accepts_the_scrape() {
    let app = TestApp::spawn(Backend::Sqlite, &[("IOC__AUTH__PUBLIC_READ", "true")])
        .await
        .expect("sqlite");
    let token = app.ingest_token("motcua");
    let (status, report) = app
        .post_json(
            "/api/v1/dossiers",
            &token,
            &json!([
                received_now("M1", "online"),
                received_now("M2", "direct"),
                received_now("M3", "online")
            ]),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    let mut district = json!(null);
    for _ in 0..200 {
        district = app
            .get_json("/api/v1/units/697?window=today&scope=tree")
            .await
            .1;
        if district["keys"]["received"] == 3 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, commune) = app.get_json("/api/v1/units/25432?window=today").await;
    let (status, text) = app.scrape(None).await;
    assert_eq!(status, 200);

    let gauge = |labels: &str| sample(&text, labels);
    assert_eq!(
        gauge(r#"ioc_unit_received{level="district",unit="697",window="today"}"#),
        district["keys"]["received"].as_f64()
    );
    assert_eq!(
        gauge(r#"ioc_unit_received{level="commune",unit="25432",window="today"}"#),
        commune["keys"]["received"].as_f64()
    );
    assert_eq!(
        gauge(r#"ioc_unit_online_share{level="district",unit="697",window="today"}"#),
        district["keys"]["online_share"].as_f64()
    );
    assert_eq!(
        gauge(
            r#"ioc_unit_received_by_channel{channel="online",level="district",unit="697",window="today"}"#
        ),
        Some(2.0)
    );
    assert_eq!(
        gauge(r#"ioc_unit_pending{level="province",unit="70",window="month"}"#),
        Some(3.0)
    );
    // Undefined ratios are absent, not zero.
    assert_eq!(
        gauge(r#"ioc_unit_late_rate{level="district",unit="697",window="today"}"#),
        None
    );
    assert!(
        gauge(
            r#"ioc_http_request_duration_seconds_count{method="GET",route="/api/v1/units/{code}",status="200"}"#
        ) >= Some(2.0)
    );
    assert_eq!(gauge(r#"ioc_build_info{version="0.1.0"}"#), Some(1.0));
    assert!(gauge(r#"ioc_db_pool_connections{state="idle"}"#).is_some());
    assert_eq!(
        gauge("ioc_changelog_position"),
        Some(3.0),
        "three changes applied"
    );
    assert!(gauge("ioc_changelog_apply_lag_seconds").is_some());
    assert!(!text.contains("M1"), "no dossier code in a label");

    let promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    match promtool {
        Ok(mut child) => {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(text.as_bytes())
                .expect("write the scrape");
            let out = child.wait_with_output().expect("promtool");
            assert!(
                out.status.success(),
                "promtool check metrics:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Err(e) => {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true");
            assert!(
                !ci && std::env::var("IOC_TEST_SKIP_PROMTOOL").is_ok_and(|v| v == "1"),
                "promtool not found ({e}): install Debian's prometheus package, or set IOC_TEST_SKIP_PROMTOOL=1 outside CI"
            );
        }
    }
}

#[actix_web::test]
async fn metrics_can_require_a_token() {
    let app = TestApp::spawn(
        Backend::Sqlite,
        &[
            ("IOC__METRICS__TOKEN", "s3cret"),
            ("IOC__METRICS__PUBLIC", "false"),
        ],
    )
    .await
    .expect("sqlite");
    assert_eq!(app.scrape(None).await.0, 401);
    assert_eq!(app.scrape(Some("wrong")).await.0, 401);
    let (status, text) = app.scrape(Some("s3cret")).await;
    assert_eq!(status, 200);
    assert!(text.contains("ioc_build_info"));
}

#[actix_web::test]
async fn metrics_are_closed_by_default_even_with_public_reads() {
    let app = TestApp::spawn(
        Backend::Sqlite,
        &[
            ("IOC__METRICS__PUBLIC", "false"),
            ("IOC__AUTH__PUBLIC_READ", "true"),
        ],
    )
    .await
    .expect("sqlite");
    let (status, text) = app.scrape(None).await;
    assert_eq!(status, 401, "{text}");
    assert!(text.contains("metrics.public"), "{text}");
    let ingest = app.ingest_token("motcua");
    assert_eq!(app.scrape(Some(&ingest)).await.0, 403);
    let viewer = app.token(ioc_server::auth::Role::Viewer, None, &[]);
    let (status, text) = app.scrape(Some(&viewer)).await;
    assert_eq!(status, 200);
    assert!(text.contains("ioc_build_info"));
}

/// A Prometheus server scraping one target, killed when dropped.
struct Prometheus {
    child: std::process::Child,
    address: std::net::SocketAddr,
    dir: std::path::PathBuf,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Prometheus {
    fn start(target: std::net::SocketAddr) -> Prometheus {
        let dir = std::env::temp_dir().join(format!(
            "ioc-prometheus-{}-{}",
            std::process::id(),
            target.port()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: ioc\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .expect("write prometheus.yml");
        let address = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={address}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus (Debian's prometheus package)");
        Prometheus {
            child,
            address,
            dir,
        }
    }
}

#[actix_web::test]
async fn a_real_prometheus_scrapes_the_business_gauges() {
    let app = TestApp::spawn(Backend::Sqlite, &[("IOC__AUTH__PUBLIC_READ", "true")])
        .await
        .expect("sqlite");
    let token = app.ingest_token("motcua");
    let records = json!([received_now("P1", "online"), received_now("P2", "online")]);
    assert_eq!(
        app.post_json("/api/v1/dossiers", &token, &records).await.0,
        200
    );
    let mut expected = None;
    for _ in 0..200 {
        let (_, unit) = app
            .get_json("/api/v1/units/697?window=today&scope=tree")
            .await;
        if unit["keys"]["received"] == 2 {
            expected = unit["keys"]["received"].as_f64();
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(expected, Some(2.0));

    let prometheus = Prometheus::start(app.address);
    let query = format!(
        "http://{}/api/v1/query?query=ioc_unit_received%7Bunit%3D%22697%22%2Cwindow%3D%22today%22%7D",
        prometheus.address
    );
    let mut seen = None;
    for _ in 0..600 {
        if let Ok(mut response) = app.client.get(&query).send().await
            && let Ok(body) = response.body().await
            && let Ok(answer) = serde_json::from_slice::<serde_json::Value>(&body)
        {
            seen = answer["data"]["result"][0]["value"][1]
                .as_str()
                .and_then(|v| v.parse::<f64>().ok());
            if seen == expected {
                break;
            }
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen, expected, "Prometheus's value of ioc_unit_received");
}
