//! The shipped Grafana dashboards and Prometheus rules: every PromQL
//! expression parses (`promtool check rules` on a generated rules file)
//! and names only metrics that a running ioc with data exports.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ioc_testkit::{Backend, TestApp};
use serde_json::{Value, json};

use crate::stream::received_now;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every PromQL expression of a dashboard: panel targets, and the metric of
/// each `label_values(metric, label)` variable.
fn expressions(dashboard: &Value) -> Vec<String> {
    fn walk(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    match (key.as_str(), v) {
                        ("expr", Value::String(e)) => out.push(e.clone()),
                        ("query" | "definition", Value::String(q))
                            if q.starts_with("label_values(") =>
                        {
                            let inner = &q["label_values(".len()..];
                            out.push(
                                inner
                                    .split(',')
                                    .next()
                                    .unwrap_or_default()
                                    .trim()
                                    .to_owned(),
                            );
                        }
                        _ => walk(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(dashboard, &mut out);
    out
}

/// The `ioc_…` names in `expr` that `exported` does not have.
fn unknown_metrics(expr: &str, exported: &BTreeSet<String>) -> Vec<String> {
    let mut unknown = Vec::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while let Some(at) = expr[i..].find("ioc_").map(|p| p + i) {
        let starts_word = at == 0
            || !(bytes[at - 1].is_ascii_alphanumeric()
                || bytes[at - 1] == b'_'
                || bytes[at - 1] == b':');
        let end = expr[at..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(expr.len(), |p| p + at);
        let name = &expr[at..end];
        if starts_word && !exported.contains(name) {
            unknown.push(name.to_owned());
        }
        i = end;
    }
    unknown
}

/// Names a scrape exports (histograms with their series suffixes).
fn exported_names(scrape: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in scrape.lines() {
        let mut parts = line.split_whitespace();
        if let (Some("#"), Some("TYPE"), Some(name), Some(kind)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        {
            names.insert(name.to_owned());
            if kind == "histogram" {
                for suffix in ["_bucket", "_count", "_sum"] {
                    names.insert(format!("{name}{suffix}"));
                }
            }
        }
    }
    names
}

/// `promtool check rules` on `exprs` as recording rules: `Err` with
/// promtool's words when one does not parse.
fn promtool_parses(exprs: &[String], dir: &Path) -> Result<(), String> {
    let rules: Vec<Value> = exprs
        .iter()
        .enumerate()
        .map(|(n, e)| json!({"record": format!("ioc_check:expr_{n}"), "expr": e}))
        .collect();
    // JSON is YAML: no YAML writer needed.
    let file = dir.join(format!("check-{}.yml", exprs.len()));
    std::fs::write(
        &file,
        json!({"groups": [{"name": "check", "rules": rules}]}).to_string(),
    )
    .expect("write the rules file");
    let out = Command::new("promtool")
        .args(["check", "rules"])
        .arg(&file)
        .output()
        .expect("promtool (Debian's prometheus package)");
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A scrape of a server with every kind of number present.
async fn live_scrape() -> String {
    let app = TestApp::spawn(Backend::Sqlite, &[("IOC__AUTH__PUBLIC_READ", "true")])
        .await
        .expect("sqlite");
    let token = app.ingest_token("motcua");
    let mut finished = received_now("D2", "online");
    let now = chrono::Utc::now().to_rfc3339();
    finished["status"] = json!(10);
    finished["finished_at"] = json!(now);
    finished["fee_required"] = json!(true);
    finished["paid_online"] = json!(true);
    let records = json!([received_now("D1", "online"), finished]);
    assert_eq!(
        app.post_json("/api/v1/dossiers", &token, &records).await.0,
        200
    );
    for _ in 0..200 {
        if app.get_json("/api/v1/overview?window=today").await.1["province"]["finished"] == 1 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    app.scrape(None).await.1
}

#[actix_web::test]
async fn dashboards_and_rules_parse_and_name_only_exported_metrics() {
    let exported = exported_names(&live_scrape().await);
    assert!(exported.contains("ioc_unit_late_rate"), "{exported:?}");
    let dir = std::env::temp_dir().join(format!("ioc-dashboards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");

    let mut checked = 0;
    for entry in std::fs::read_dir(repo().join("dashboards/grafana")).expect("dashboards/grafana") {
        let path = entry.expect("entry").path();
        let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("read"))
            .unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
        let uses_datasource_variable =
            dashboard["templating"]["list"]
                .as_array()
                .is_some_and(|vars| {
                    vars.iter()
                        .any(|v| v["type"] == "datasource" && v["query"] == "prometheus")
                });
        assert!(
            uses_datasource_variable,
            "{}: no Prometheus datasource variable",
            path.display()
        );
        let exprs = expressions(&dashboard);
        assert!(!exprs.is_empty(), "{}: no queries", path.display());
        for expr in &exprs {
            let unknown = unknown_metrics(expr, &exported);
            assert!(
                unknown.is_empty(),
                "{}: {expr:?} names {unknown:?}, which ioc does not export",
                path.display()
            );
        }
        if let Err(e) = promtool_parses(&exprs, &dir) {
            panic!("{}: a query does not parse:\n{e}", path.display());
        }
        checked += 1;
    }
    assert_eq!(checked, 3, "three dashboards");

    let rules = repo().join("deploy/prometheus/rules.yml");
    let text = std::fs::read_to_string(&rules).expect("rules.yml");
    for line in text.lines().filter(|l| l.contains("ioc_")) {
        let unknown = unknown_metrics(line, &exported);
        assert!(unknown.is_empty(), "rules.yml: {line:?} names {unknown:?}");
    }
    let out = Command::new("promtool")
        .args(["check", "rules"])
        .arg(&rules)
        .output()
        .expect("promtool");
    assert!(
        out.status.success(),
        "promtool check rules:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = Command::new("promtool")
        .args(["check", "config"])
        .arg(repo().join("deploy/prometheus/prometheus.yml"))
        .output()
        .expect("promtool");
    assert!(
        out.status.success(),
        "promtool check config:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_misspelt_metric_or_a_broken_query_is_caught() {
    let exported = exported_names(
        "# TYPE ioc_unit_received gauge\n# TYPE ioc_http_request_duration_seconds histogram\n",
    );
    let dashboard = json!({"panels": [{"targets": [
        {"expr": "ioc_unit_recieved{window=\"today\"}"},
        {"expr": "rate(ioc_http_request_duration_seconds_count[5m])"},
        {"expr": "ioc:recorded_rule + ioc_unit_received"},
    ]}]});
    let exprs = expressions(&dashboard);
    let unknown: Vec<String> = exprs
        .iter()
        .flat_map(|e| unknown_metrics(e, &exported))
        .collect();
    assert_eq!(unknown, ["ioc_unit_recieved"]);

    let dir = std::env::temp_dir().join(format!("ioc-promql-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    assert!(promtool_parses(&exprs, &dir).is_ok());
    let broken = promtool_parses(&["sum by (unit (ioc_unit_received)".to_owned()], &dir);
    assert!(broken.is_err_and(|e| e.contains("parse error")));
    let _ = std::fs::remove_dir_all(&dir);
}
