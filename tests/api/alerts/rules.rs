//! Alert rules besides the overdue sweep: a late-rate threshold with
//! hysteresis, a silent source, a campaign target, rules taken out of the
//! configuration, two nodes on one database, and acknowledgements.

use super::*;

#[actix_web::test]
async fn a_late_rate_over_the_threshold_raises_one_alert_cleared_only_below_the_hysteresis() {
    let clock = Arc::new(ManualClock::new(t("2026-11-20T10:00:00+07:00")));
    let Some(app) = TestApp::spawn_with_clock(Backend::Sqlite, &[OPEN, FAST], clock).await else {
        return;
    };
    let token = app.ingest_token("motcua");
    let batch = |from: usize, to: usize, late: bool| {
        Value::Array(
            (from..to)
                .map(|i| finished_dossier(&format!("F{i}"), late))
                .collect(),
        )
    };
    // 2 late of 302 finished this month: 0.66% > 0.4%.
    ingest(&app, &token, batch(0, 300, false)).await;
    ingest(&app, &token, batch(300, 302, true)).await;
    let raised = eventually(&app, "/api/v1/alerts?rule=late_rate_high", |b| {
        b["total"] == 1
    })
    .await;
    let alert = &raised["items"][0];
    assert_eq!(alert["unit"]["code"], "25432");
    assert_eq!(alert["details"]["numerator"], 2);
    assert_eq!(alert["details"]["denominator"], 302);
    let id = alert["id"].clone();

    // 2 of 572: 0.35%, under 0.4% but not under 0.4% − 0.1%: it stays.
    ingest(&app, &token, batch(302, 572, false)).await;
    eventually(&app, "/api/v1/alerts?rule=late_rate_high", |b| {
        b["items"][0]["details"]["denominator"] == 572
    })
    .await;
    settle(&app).await;
    let band = app
        .get_json("/api/v1/alerts?rule=late_rate_high&state=all")
        .await
        .1;
    assert_eq!(
        (
            band["total"].clone(),
            band["items"][0]["state"].clone(),
            band["items"][0]["id"].clone()
        ),
        (json!(1), json!("active"), id.clone()),
        "{band}"
    );

    // 2 of 702: 0.28% < 0.3%: it clears; it was never raised twice.
    ingest(&app, &token, batch(572, 702, false)).await;
    let cleared = eventually(&app, "/api/v1/alerts?rule=late_rate_high&state=all", |b| {
        b["items"][0]["state"] == "cleared"
    })
    .await;
    assert_eq!(
        (cleared["total"].clone(), cleared["items"][0]["id"].clone()),
        (json!(1), id)
    );
    let history = app
        .get_json(&format!("/api/v1/alerts/{}", cleared["items"][0]["id"]))
        .await
        .1;
    assert_eq!(kinds(&history), ["raise", "clear"]);
}

#[actix_web::test]
async fn a_silent_source_raises_a_stale_data_alert_that_data_clears() {
    // Friday 09:00: working hours.
    let clock = Arc::new(ManualClock::new(t("2026-11-20T09:00:00+07:00")));
    let Some(app) = TestApp::spawn_with_clock(Backend::Sqlite, &[OPEN], clock.clone()).await else {
        return;
    };
    let token = app.ingest_token("motcua");
    ingest(&app, &token, json!([pending_dossier("S1")])).await;
    settle(&app).await;

    // 59 working minutes of silence: under the limit of 60.
    clock.set(t("2026-11-20T09:59:00+07:00"));
    settle(&app).await;
    let quiet = app.get_json("/api/v1/alerts?rule=source_silent").await.1;
    assert_eq!(quiet["total"], 0, "{quiet}");

    clock.set(t("2026-11-20T10:00:30+07:00"));
    let stale = eventually(&app, "/api/v1/alerts?rule=source_silent", |b| {
        b["total"] == 1
    })
    .await;
    let alert = &stale["items"][0];
    assert_eq!(
        (
            alert["source"].clone(),
            alert["severity"].clone(),
            alert["unit"]["code"].clone()
        ),
        (json!("motcua"), json!("warning"), json!("70"))
    );
    assert_eq!(alert["details"]["last_seen_at"], "2026-11-20T02:00:00Z");

    // Data arrives: the alert clears.
    ingest(&app, &token, json!([pending_dossier("S2")])).await;
    let cleared = eventually(&app, "/api/v1/alerts?rule=source_silent&state=all", |b| {
        b["items"][0]["state"] == "cleared"
    })
    .await;
    assert_eq!(cleared["total"], 1);
}

#[actix_web::test]
async fn acknowledging_needs_an_operator_token_and_a_known_alert() {
    let clock = Arc::new(ManualClock::new(t("2026-11-20T10:00:00+07:00")));
    let Some(app) = TestApp::spawn_with_clock(Backend::Sqlite, &[OPEN], clock.clone()).await else {
        return;
    };
    let id = with_an_overdue_alert(&app, &clock).await;
    let path = format!("/api/v1/alerts/{id}/ack");
    let viewer = app.token(Role::Viewer, None, &[]);
    let operator = app.token(Role::Operator, None, &[]);
    let post = |path: String, token: Option<String>, body: &'static str| {
        let app = &app;
        async move {
            app.send(
                awc::http::Method::POST,
                &path,
                Some("application/json"),
                token.as_deref(),
                body,
            )
            .await
        }
    };

    let (status, body) = post(path.clone(), None, "").await;
    assert_eq!(
        (status, body["error"].clone()),
        (401, json!("unauthorized")),
        "{body}"
    );
    let (status, body) = post(path.clone(), Some(viewer), "").await;
    assert_eq!(
        (status, body["error"].clone()),
        (403, json!("forbidden")),
        "{body}"
    );
    let (status, body) = post(path.clone(), Some(app.ingest_token("x")), "").await;
    assert_eq!(status, 403, "{body}");
    for unknown in ["/api/v1/alerts/999999/ack", "/api/v1/alerts/abc/ack"] {
        let (status, body) = post(unknown.to_owned(), Some(operator.clone()), "").await;
        assert_eq!(
            (status, body["error"].clone()),
            (404, json!("not_found")),
            "{body}"
        );
        assert!(
            body["message"]
                .as_str()
                .unwrap_or_default()
                .contains("no alert"),
            "{body}"
        );
    }
    let (status, body) = post(path.clone(), Some(operator.clone()), "{\"nota\": 1}").await;
    assert_eq!(
        (status, body["error"].clone()),
        (400, json!("malformed_json")),
        "{body}"
    );
    // A note over 2,000 characters is refused, even one that fits in the
    // body escaped as surrogate pairs; a body over 32 KiB too.
    let long_note = json!({"note": "ư".repeat(2_001)}).to_string();
    let escaped = format!("{{\"note\": \"{}\"}}", "\\ud83c\\udffb".repeat(2_001));
    let oversized = json!({"note": "x".repeat(40_000)}).to_string();
    for (body, status, error, says) in [
        (
            long_note,
            400,
            "invalid_parameter",
            "note: longer than 2000 characters",
        ),
        (
            escaped,
            400,
            "invalid_parameter",
            "note: longer than 2000 characters",
        ),
        (
            oversized,
            413,
            "payload_too_large",
            "exceeds the limit of 32768 bytes",
        ),
    ] {
        let (got, answer) = app
            .send(
                awc::http::Method::POST,
                &path,
                Some("application/json"),
                Some(&operator),
                body,
            )
            .await;
        assert_eq!(
            (got, answer["error"].clone()),
            (status, json!(error)),
            "{answer}"
        );
        assert!(
            answer["message"]
                .as_str()
                .unwrap_or_default()
                .contains(says),
            "{answer}"
        );
    }
    let unacked = app.get_json(&format!("/api/v1/alerts/{id}")).await.1;
    assert_eq!(
        unacked["acknowledged"], false,
        "a refused ack changes nothing"
    );

    // An empty body is a plain acknowledgement; a second one conflicts.
    let (status, body) = post(path.clone(), Some(operator.clone()), "").await;
    assert_eq!(
        (status, body["acknowledged"].clone()),
        (200, json!(true)),
        "{body}"
    );
    let (status, body) = post(path.clone(), Some(operator), "").await;
    assert_eq!(
        (status, body["error"].clone()),
        (409, json!("conflict")),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("already acknowledged by test"),
        "{body}"
    );
    // The acknowledged alert moves from one list to the other (other rules,
    // such as the silent source on this Sunday, may have alerts of their own).
    let acked = "/api/v1/alerts?rule=dossier_overdue&ack=acknowledged";
    let unacked = "/api/v1/alerts?rule=dossier_overdue&ack=unacknowledged";
    assert_eq!(app.get_json(acked).await.1["total"], 1);
    assert_eq!(app.get_json(unacked).await.1["total"], 0);
    for (query, says) in [
        ("severity=urgent", "severity: unknown severity \"urgent\""),
        ("state=open", "state: unknown state \"open\""),
        (
            "per_page=501",
            "per_page: \"501\" is not a whole number from 1 to 500",
        ),
        ("page=0", "page: \"0\" is not a whole number"),
        ("unit=697&scope=all", "scope: unknown scope \"all\""),
    ] {
        let (status, body) = app.get_json(&format!("/api/v1/alerts?{query}")).await;
        assert_eq!(
            (status, body["error"].clone()),
            (400, json!("invalid_parameter")),
            "{body}"
        );
        assert!(
            body["message"].as_str().unwrap_or_default().contains(says),
            "{query}: {body}"
        );
    }
}

#[actix_web::test]
async fn two_nodes_on_one_database_raise_each_condition_once() {
    let clock = Arc::new(ManualClock::new(t("2026-11-20T10:00:00+07:00")));
    let Some(app) = TestApp::spawn_with_clock(Backend::Postgres, &[OPEN], clock.clone()).await
    else {
        return;
    };
    let other = app.another_node(&[OPEN], clock.clone()).await;
    let token = app.ingest_token("motcua");
    let dossiers: Vec<Value> = (0..50).map(|i| pending_dossier(&format!("N{i}"))).collect();
    ingest(&app, &token, Value::Array(dossiers)).await;
    // Both nodes sweep the same transition at local midnight.
    clock.set(t("2026-11-22T00:00:00+07:00"));
    eventually(&app, "/api/v1/alerts?rule=dossier_overdue", |b| {
        b["total"] == 50
    })
    .await;
    settle(&app).await;
    settle(&app).await;
    let all = app
        .get_json("/api/v1/alerts?rule=dossier_overdue&state=all&per_page=500")
        .await
        .1;
    assert_eq!(
        all["total"], 50,
        "one alert per dossier, whichever node wrote it"
    );
    for item in all["items"].as_array().expect("items") {
        let history = app
            .get_json(&format!("/api/v1/alerts/{}", item["id"]))
            .await
            .1;
        assert_eq!(kinds(&history), ["raise"], "{history}");
    }
    // 50 overdue in one commune is also over the `pending_overdue_many`
    // threshold (10): one alert for it too, raised once.
    let many = eventually(&app, "/api/v1/alerts?rule=pending_overdue_many", |b| {
        b["total"] == 1
    })
    .await;
    let history = app
        .get_json(&format!("/api/v1/alerts/{}", many["items"][0]["id"]))
        .await
        .1;
    assert_eq!(kinds(&history), ["raise"], "{history}");
    // The other node's board follows the event log: its rollup counts them all.
    for _ in 0..600 {
        if other.get_json("/api/v1/alerts/rollup").await.1["697"]["active"] == 51 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    let rollup = other.get_json("/api/v1/alerts/rollup").await.1;
    assert_eq!(rollup["697"]["active"], 51, "{rollup}");
    assert_eq!(rollup["697"]["unacknowledged"], 51, "{rollup}");
}

#[actix_web::test]
async fn a_rule_taken_out_of_the_configuration_clears_its_alerts_at_the_next_start() {
    let clock = Arc::new(ManualClock::new(t("2026-11-20T10:00:00+07:00")));
    let Some(app) = TestApp::spawn_with_clock(Backend::Sqlite, &[OPEN], clock.clone()).await else {
        return;
    };
    let id = with_an_overdue_alert(&app, &clock).await;
    let (dir, file) = rules_file("off", "# every rule off\n");
    let app = app
        .restart(&[OPEN, ("IOC__ALERTS__FILE", file.as_str())], clock.clone())
        .await;
    let cleared = eventually(&app, &format!("/api/v1/alerts/{id}"), |b| {
        b["state"] == "cleared"
    })
    .await;
    assert_eq!(kinds(&cleared), ["raise", "clear"], "{cleared}");
    let active = app.get_json("/api/v1/alerts").await.1;
    assert_eq!(active["total"], 0, "{active}");
    let _ = std::fs::remove_dir_all(dir);
}

/// A dossier of commune 25432 received on 10 July 2022, in the 92-day
/// campaign, still being processed.
fn campaign_dossier(code: &str, channel: &str) -> Value {
    json!({
        "code": code, "unit": "25432", "procedure": "2.000815", "channel": channel,
        "status": 4, "received_at": "2022-07-10T09:00:00+07:00",
        "due_at": "2022-07-30T17:00:00+07:00",
        "fee_required": false, "updated_at": "2022-07-10T09:00:00+07:00",
    })
}

#[actix_web::test]
async fn an_online_share_under_the_running_campaigns_target_raises_and_clears_with_hysteresis() {
    // Inside Bình Phước's 92-day campaign of 2022: online share ≥ 50%.
    let clock = Arc::new(ManualClock::new(t("2022-07-15T10:00:00+07:00")));
    let Some(app) = TestApp::spawn_with_clock(Backend::Sqlite, &[OPEN, FAST], clock).await else {
        return;
    };
    let token = app.ingest_token("motcua");
    let batch = |from: usize, to: usize, channel: &str| {
        Value::Array(
            (from..to)
                .map(|i| campaign_dossier(&format!("C{i}"), channel))
                .collect(),
        )
    };
    let path = "/api/v1/alerts?rule=online_share_below_target&state=all";
    // 6 online of 20: 30% < 50%.
    ingest(&app, &token, batch(0, 6, "online")).await;
    ingest(&app, &token, batch(6, 20, "direct")).await;
    let raised = eventually(&app, path, |b| b["total"] == 1).await;
    let alert = &raised["items"][0];
    assert_eq!(
        (
            alert["unit"]["code"].clone(),
            alert["details"]["limit"].clone()
        ),
        (json!("25432"), json!(0.5)),
        "{alert}"
    );
    let id = alert["id"].clone();
    // 15 of 29: 51.7%, over the target but not by the hysteresis (2%): it stays.
    ingest(&app, &token, batch(20, 29, "online")).await;
    eventually(&app, path, |b| {
        b["items"][0]["details"]["denominator"] == 29
    })
    .await;
    settle(&app).await;
    let band = app.get_json(path).await.1;
    assert_eq!(
        (band["total"].clone(), band["items"][0]["state"].clone()),
        (json!(1), json!("active")),
        "{band}"
    );
    // 17 of 31: 54.8%: it clears.
    ingest(&app, &token, batch(29, 31, "online")).await;
    let cleared = eventually(&app, path, |b| b["items"][0]["state"] == "cleared").await;
    assert_eq!(
        (cleared["total"].clone(), cleared["items"][0]["id"].clone()),
        (json!(1), id)
    );
}
