//! Webhook deliveries of alert events: retried with one idempotency key
//! per event, owed deliveries made after a restart, once across two
//! nodes, and over https to a receiver of a configured CA.

use super::*;

/// Says whether a webhook receiver accepts its `n`th delivery (from 1).
type Accepts = Arc<dyn Fn(usize) -> bool + Send + Sync>;

/// A webhook receiver on loopback: every delivery is recorded, with
/// whether it was accepted; `accepts` decides.
async fn receiver(accepts: Accepts) -> (String, Arc<Mutex<Vec<(String, Value)>>>) {
    receiver_on(accepts, None).await
}

/// [`receiver`] over TLS with `tls` when given (an `https://` URL).
async fn receiver_on(
    accepts: Accepts,
    tls: Option<rustls::ServerConfig>,
) -> (String, Arc<Mutex<Vec<(String, Value)>>>) {
    use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
    let seen: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let state = seen.clone();
    let server = HttpServer::new(move || {
        let state = state.clone();
        let accepts = accepts.clone();
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Json<Value>| {
            let state = state.clone();
            let accepts = accepts.clone();
            async move {
                let key = req
                    .headers()
                    .get("Idempotency-Key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let mut seen = state.lock().expect("receiver state");
                let mut body = body.into_inner();
                let accepted = accepts(seen.len() + 1);
                body["accepted"] = json!(accepted);
                seen.push((key, body));
                if accepted {
                    HttpResponse::Ok().finish()
                } else {
                    HttpResponse::InternalServerError().finish()
                }
            }
        }))
    })
    .workers(1);
    let scheme = if tls.is_some() { "https" } else { "http" };
    let server = match tls {
        Some(tls) => server.bind_rustls_0_23("127.0.0.1:0", tls),
        None => server.bind("127.0.0.1:0"),
    }
    .expect("bind the receiver");
    let address = server.addrs()[0];
    actix_web::rt::spawn(server.run());
    (format!("{scheme}://{address}/hooks/ioc"), seen)
}

/// A certificate for 127.0.0.1 issued by a CA of the test's own: the
/// server's TLS configuration and the CA's PEM.
fn test_tls() -> (rustls::ServerConfig, String) {
    let ca_key = rcgen::KeyPair::generate().expect("CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "ioc test CA");
    let ca = ca_params.self_signed(&ca_key).expect("CA");
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .expect("params")
        .signed_by(&key, &ca, &ca_key)
        .expect("certificate");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .expect("server TLS");
    (config, ca.pem())
}

#[actix_web::test]
async fn webhook_deliveries_are_retried_with_one_idempotency_key_per_event() {
    // The first delivery is refused.
    let (url, seen) = receiver(Arc::new(|n| n > 1)).await;
    let (dir, file) = rules_file(
        "webhook",
        &format!(
            "[dossier_overdue]\nsteps = [{{ days = 1, severity = \"warning\" }}]\nwebhook = \"{url}\"\n"
        ),
    );
    let clock = Arc::new(ManualClock::new(t("2026-11-20T10:00:00+07:00")));
    let overrides = [OPEN, ("IOC__ALERTS__FILE", file.as_str())];
    let Some(app) = TestApp::spawn_with_clock(Backend::Sqlite, &overrides, clock.clone()).await
    else {
        return;
    };
    let id = with_an_overdue_alert(&app, &clock).await;
    let operator = app.token(Role::Operator, None, &[]);
    let (status, _) = app
        .post_json(&format!("/api/v1/alerts/{id}/ack"), &operator, &json!({}))
        .await;
    assert_eq!(status, 200);
    for _ in 0..600 {
        if seen.lock().expect("receiver state").len() >= 3 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = seen.lock().expect("receiver state").clone();
    let summary: Vec<(String, Value, Value)> = seen
        .iter()
        .map(|(key, body)| {
            (
                key.clone(),
                body["event"]["kind"].clone(),
                body["alert"]["id"].clone(),
            )
        })
        .collect();
    assert_eq!(summary.len(), 3, "{summary:?}");
    // The raise was refused once and sent again under the same key, before
    // the next event: deliveries to a receiver keep their order.
    assert_eq!(summary[0], summary[1], "{summary:?}");
    assert_eq!(summary[0].1, "raise");
    assert_eq!(summary[2].1, "ack");
    assert_ne!(summary[0].0, summary[2].0);
    assert!(summary[0].0.starts_with("ioc-alert-event-"), "{summary:?}");
    assert_eq!(summary[2].2, json!(id));
    let _ = std::fs::remove_dir_all(dir);
}

/// The deliveries `seen` so far: (idempotency key, event kind, accepted).
fn deliveries(seen: &Mutex<Vec<(String, Value)>>) -> Vec<(String, Value, bool)> {
    seen.lock()
        .expect("receiver state")
        .iter()
        .map(|(key, body)| {
            (
                key.clone(),
                body["event"]["kind"].clone(),
                body["accepted"] == json!(true),
            )
        })
        .collect()
}

/// Waits (bounded) until `done` holds for the deliveries seen.
async fn deliveries_until(
    seen: &Mutex<Vec<(String, Value)>>,
    done: impl Fn(&[(String, Value, bool)]) -> bool,
) -> Vec<(String, Value, bool)> {
    for _ in 0..600 {
        let now = deliveries(seen);
        if done(&now) {
            return now;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    deliveries(seen)
}

#[actix_web::test]
async fn webhook_deliveries_owed_at_a_restart_are_made_by_the_next_start() {
    let accepting = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = accepting.clone();
    let (url, seen) = receiver(Arc::new(move |_| {
        flag.load(std::sync::atomic::Ordering::SeqCst)
    }))
    .await;
    let (dir, file) = rules_file(
        "webhook-restart",
        &format!(
            "[dossier_overdue]\nsteps = [{{ days = 1, severity = \"warning\" }}]\nwebhook = \"{url}\"\n"
        ),
    );
    let clock = Arc::new(ManualClock::new(t("2026-11-20T10:00:00+07:00")));
    let overrides = [
        OPEN,
        ("IOC__ALERTS__FILE", file.as_str()),
        ("IOC__ALERTS__WEBHOOK_ATTEMPTS", "100"),
    ];
    let Some(app) = TestApp::spawn_with_clock(Backend::Sqlite, &overrides, clock.clone()).await
    else {
        return;
    };
    with_an_overdue_alert(&app, &clock).await;
    let refused = deliveries_until(&seen, |d| !d.is_empty()).await;
    assert_eq!(refused[0].1, "raise", "{refused:?}");
    assert!(!refused[0].2, "the receiver is down");
    // The node stops with the raise undelivered; the next start owes it.
    let app = app.restart(&overrides, clock.clone()).await;
    accepting.store(true, std::sync::atomic::Ordering::SeqCst);
    let done = deliveries_until(&seen, |d| d.iter().any(|(_, _, ok)| *ok)).await;
    let accepted: Vec<&(String, Value, bool)> = done.iter().filter(|d| d.2).collect();
    assert_eq!(accepted.len(), 1, "{done:?}");
    assert_eq!(
        accepted[0].0, refused[0].0,
        "the same idempotency key across the restart"
    );
    assert_eq!(accepted[0].1, "raise");
    assert!(
        done.iter().all(|d| d.0 == refused[0].0),
        "only the raise: {done:?}"
    );
    drop(app);
    let _ = std::fs::remove_dir_all(dir);
}

#[actix_web::test]
async fn two_nodes_deliver_each_webhook_event_once() {
    let (url, seen) = receiver(Arc::new(|_| true)).await;
    let (dir, file) = rules_file(
        "webhook-nodes",
        &format!(
            "[dossier_overdue]\nsteps = [{{ days = 1, severity = \"warning\" }}]\nwebhook = \"{url}\"\n"
        ),
    );
    let clock = Arc::new(ManualClock::new(t("2026-11-20T10:00:00+07:00")));
    let overrides = [OPEN, ("IOC__ALERTS__FILE", file.as_str())];
    let Some(app) = TestApp::spawn_with_clock(Backend::Postgres, &overrides, clock.clone()).await
    else {
        return;
    };
    let _other = app.another_node(&overrides, clock.clone()).await;
    let token = app.ingest_token("motcua");
    let dossiers: Vec<Value> = (0..20).map(|i| pending_dossier(&format!("W{i}"))).collect();
    ingest(&app, &token, Value::Array(dossiers)).await;
    clock.set(t("2026-11-22T08:00:00+07:00"));
    let done = deliveries_until(&seen, |d| d.len() >= 20).await;
    // Give a second delivery of any event time to arrive, then count.
    actix_web::rt::time::sleep(Duration::from_secs(3)).await;
    let done = deliveries(&seen).len().max(done.len());
    let keys: std::collections::BTreeSet<String> =
        deliveries(&seen).into_iter().map(|d| d.0).collect();
    assert_eq!(
        (done, keys.len()),
        (20, 20),
        "each raise delivered once, by one node"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[actix_web::test]
async fn webhooks_are_delivered_over_https_to_a_receiver_of_a_configured_ca() {
    let (tls, ca) = test_tls();
    let (url, seen) = receiver_on(Arc::new(|_| true), Some(tls)).await;
    assert!(url.starts_with("https://"), "{url}");
    let (dir, file) = rules_file(
        "webhook-https",
        &format!(
            "[dossier_overdue]\nsteps = [{{ days = 1, severity = \"warning\" }}]\nwebhook = \"{url}\"\n"
        ),
    );
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca).expect("CA file");
    let ca_file = ca_file.display().to_string();
    let clock = Arc::new(ManualClock::new(t("2026-11-20T10:00:00+07:00")));
    let overrides = [
        OPEN,
        ("IOC__ALERTS__FILE", file.as_str()),
        ("IOC__ALERTS__WEBHOOK_CA_FILE", ca_file.as_str()),
    ];
    let Some(app) = TestApp::spawn_with_clock(Backend::Sqlite, &overrides, clock.clone()).await
    else {
        return;
    };
    with_an_overdue_alert(&app, &clock).await;
    let done = deliveries_until(&seen, |d| !d.is_empty()).await;
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!((done[0].1.clone(), done[0].2), (json!("raise"), true));
    let _ = std::fs::remove_dir_all(dir);
}
