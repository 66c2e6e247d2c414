//! `/api/openapi.json` against the server it describes: the document
//! validates as OpenAPI 3.1, and Schemathesis, run from it over every
//! operation with real tokens and a few dossiers (so that alerts exist to
//! follow links to), finds nothing: no 5xx, and every status, content type,
//! header and body as the document says. The tools come from
//! tests/openapi/requirements.txt, installed by `scripts/test-deps`.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{serve, token};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A program of the tools' virtual environment.
fn tool(name: &str) -> PathBuf {
    let path = repo().join("target/test-tools/python/bin").join(name);
    assert!(
        path.exists(),
        "{} not found: run scripts/test-deps (it installs tests/openapi/requirements.txt)",
        path.display()
    );
    path
}

fn report(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Pending dossiers of commune 25432, due on 21 November 2026: overdue
/// now, so that the sweeper raises alerts.
fn overdue_dossiers() -> Value {
    let dossier = |n: u32| {
        json!({
            "code": format!("OPENAPI-{n}"), "unit": "25432", "procedure": "2.000815",
            "channel": "online", "status": 4, "received_at": "2026-11-19T09:00:00+07:00",
            "due_at": "2026-11-21T17:00:00+07:00", "fee_required": false,
            "updated_at": "2026-11-19T09:00:00+07:00",
        })
    };
    Value::Array((1..=3).map(dossier).collect())
}

#[actix_web::test]
async fn schemathesis_finds_nothing_over_every_operation() {
    let dir = std::env::temp_dir().join(format!("ioc-openapi-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let db_url = format!("sqlite://{}", dir.join("ioc.sqlite3").display());
    let node = serve(
        &db_url,
        ioc_testkit::free_address(),
        &[("IOC__AUTH__PUBLIC_READ", "false")],
    )
    .await;
    let admin = token(&db_url, &["--role", "admin", "--label", "schemathesis"]);
    let ingest = token(
        &db_url,
        &[
            "--role",
            "ingest",
            "--source",
            "schemathesis",
            "--units",
            "70",
        ],
    );
    let base = node.base_url();
    let client = awc::Client::default();

    // The server reads new tokens within a few seconds.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut posted = client
            .post(format!("{base}/api/v1/dossiers"))
            .bearer_auth(&ingest)
            .send_json(&overdue_dossiers())
            .await
            .expect("post dossiers");
        let answer: Value = posted.json().await.expect("a JSON answer");
        if posted.status() == 401 && Instant::now() < deadline {
            actix_web::rt::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        assert_eq!(posted.status(), 200, "{answer}");
        assert_eq!(answer["accepted"], 3, "{answer}");
        break;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut listed = client
            .get(format!("{base}/api/v1/alerts"))
            .bearer_auth(&admin)
            .send()
            .await
            .expect("list alerts");
        let page: Value = listed.json().await.expect("a JSON page");
        if page["total"].as_i64().is_some_and(|n| n > 0) {
            break;
        }
        assert!(Instant::now() < deadline, "no alert was raised: {page}");
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }

    let document = format!("{base}/api/openapi.json");
    let described: Value = client
        .get(&document)
        .send()
        .await
        .expect("get the document")
        .json()
        .limit(4 << 20)
        .await
        .expect("the document is JSON");
    assert_eq!(described["openapi"], "3.1.0");
    let saved = dir.join("openapi.json");
    std::fs::write(&saved, described.to_string()).expect("save the document");
    let validated = Command::new(tool("openapi-spec-validator"))
        .arg(&saved)
        .output()
        .expect("run openapi-spec-validator");
    assert!(
        validated.status.success(),
        "the document is not valid OpenAPI:\n{}",
        report(&validated)
    );

    // One worker: Hypothesis describing its strategies from two threads at
    // once trips CPython 3.11's parser ("AST constructor recursion depth
    // mismatch"), an error of the tool, not of the API.
    // A new seed each run, printed at the end; IOC_SCHEMATHESIS_SEED
    // replays one.
    let seed: Vec<String> = std::env::var("IOC_SCHEMATHESIS_SEED")
        .map(|seed| vec!["--seed".to_owned(), seed])
        .unwrap_or_default();
    let tested = Command::new(tool("schemathesis"))
        .arg("--config-file")
        .arg(repo().join("tests/openapi/schemathesis.toml"))
        .args(["--no-color", "run", &document])
        // Without a filter the document's own operation is left out.
        .args(["--include-path-regex", ".*"])
        .args(["--workers", "1", "--max-examples", "60"])
        .args(&seed)
        .env("IOC_ADMIN_TOKEN", &admin)
        .env("IOC_INGEST_TOKEN", &ingest)
        .current_dir(&dir)
        .output()
        .expect("run schemathesis");
    let output = report(&tested);
    assert!(
        tested.status.success(),
        "Schemathesis found problems:\n{output}"
    );
    let operations = described["paths"]
        .as_object()
        .expect("paths")
        .values()
        .map(|item| item.as_object().map_or(0, serde_json::Map::len))
        .sum::<usize>();
    for every in [
        format!("Selected: {operations}/{operations}"),
        format!("Tested: {operations}"),
    ] {
        assert!(
            output.contains(&every),
            "Schemathesis did not test every operation ({every} expected):\n{output}"
        );
    }
    drop(node);
    let _ = std::fs::remove_dir_all(&dir);
}
