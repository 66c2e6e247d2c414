//! Building and running the server: connect the store, bring the schema
//! and reference data up to date, bind, serve.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::{App, HttpServer, web};
use anyhow::Context;
use ioc_store::{Store, StoreOptions};
use tracing_actix_web::TracingLogger;

use crate::telemetry::RedactedSpan;

use ioc_core::{Clock, LocalCalendar, SystemClock, UnitTree};

use crate::aggregates::{self, AggregateConfig, Aggregates};
use crate::alerting::{Alerting, AlertingConfig};
use crate::reference::{read_alert_rules, read_campaigns, read_score_model};

use crate::config::{IngestSettings, Settings, StreamSettings};
use crate::metrics::Metrics;
use crate::routes;
use crate::unit_metrics::UnitMetrics;
use crate::views::Views;
use ioc_stream::{Hub, HubConfig};

/// Shared state of the HTTP handlers.
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The unit tree, as stored.
    pub tree: Arc<UnitTree>,
    /// The unrevoked tokens.
    pub tokens: Arc<crate::auth::Tokens>,
    /// The calendar of local times in payloads.
    pub calendar: LocalCalendar,
    /// Ingestion limits and status maps.
    pub ingest: IngestSettings,
    /// The metrics registry.
    pub metrics: Metrics,
    /// The live aggregates.
    pub aggregates: Arc<Aggregates>,
    /// Read endpoints need no token.
    pub public_read: bool,
    /// The JSON views of the read model.
    pub views: Arc<Views>,
    /// The live-update hub of `/ws`.
    pub hub: Arc<Hub>,
    /// `/ws` limits.
    pub stream: StreamSettings,
    /// Longest wait for a request body.
    pub body_read_timeout: std::time::Duration,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Who may read `/metrics`.
    pub metrics_access: crate::routes::metrics::Access,
    /// Alerts: rules, board, sweeper.
    pub alerting: Arc<Alerting>,
    /// Calendar and timeliness, for alert views.
    pub timeliness: ioc_core::TimelinessRules,
}

/// A bound server, ready to run.
pub struct Application {
    server: actix_web::dev::Server,
    address: SocketAddr,
    hub: Arc<Hub>,
    alerting: Arc<Alerting>,
}

impl Application {
    /// Connects to the database (failing fast, with the driver's reason),
    /// applies migrations and loads reference data as configured, and binds
    /// the listening socket.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        Application::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// [`build`](Self::build) with an injected clock (tests move time).
    pub async fn build_with_clock(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Application> {
        let campaigns = read_campaigns(&settings.read.campaign_files, &settings.units.levels)
            .map_err(|problems| anyhow::anyhow!("{}", problems.join("; ")))?;
        let score = read_score_model(&settings.read.scoring_file).map_err(anyhow::Error::msg)?;
        let alert_rules = read_alert_rules(&settings.alerts.file, &settings.units.levels)
            .map_err(|problems| anyhow::anyhow!("{}", problems.join("; ")))?;
        let store = open_store(&settings).await?;
        prepare(&settings, &store).await?;
        let levels = settings.units.levels.clone();
        let tree = store
            .run(move |conn| ioc_store::reference::unit_tree(conn, &levels))
            .await
            .context("cannot read the unit tree from the database")?;
        if tree.is_empty() {
            tracing::warn!(
                message = "The database has no units; every dossier will be rejected. Run `ioc units load`."
            );
        }
        let listener = TcpListener::bind(settings.server.bind)
            .with_context(|| format!("cannot listen on {}", settings.server.bind))?;
        let address = listener.local_addr()?;
        let tree = Arc::new(tree);
        let aggregates = aggregates::start(
            &store,
            AggregateConfig {
                tree: tree.clone(),
                rules: settings.timeliness,
                campaigns,
                score,
                min_volume: settings.read.min_volume,
                clock,
            },
        )
        .await?;
        let alerting = Alerting::start(
            &store,
            AlertingConfig {
                rules: alert_rules,
                evaluate_every: settings.alerts.evaluate_every,
                topic_items: settings.alerts.topic_items,
                webhook_attempts: settings.alerts.webhook_attempts,
                webhook_timeout: settings.alerts.webhook_timeout,
                webhook_tls: crate::webhook::tls_config(settings.alerts.webhook_ca_file.as_deref())
                    .context("cannot set up TLS for webhooks")?,
            },
            aggregates.clone(),
            tree.clone(),
            settings.timeliness,
        )
        .await
        .context("cannot start alerting")?;
        let views = Arc::new(Views {
            aggregates: aggregates.clone(),
            alerting: alerting.clone(),
            tree: tree.clone(),
            calendar: settings.timeliness.calendar,
        });
        let hub = Arc::new(Hub::new(
            views.clone(),
            either_changes(aggregates.versions(), alerting.versions()),
            hub_config(&settings.stream),
        ));
        actix_web::rt::spawn(hub.clone().run());
        let tokens = crate::auth::Tokens::load(store.clone(), tree.clone())
            .await
            .map_err(|e| anyhow::anyhow!("cannot read the tokens: {e}"))?;
        crate::auth::Tokens::refresh_every(&tokens, TOKEN_REFRESH);
        let metrics = Metrics::new().context("cannot register metrics")?;
        metrics
            .register_stream(hub.clone())
            .context("cannot register metrics")?;
        metrics
            .register_alerts(alerting.clone())
            .context("cannot register metrics")?;
        metrics
            .register_units(
                UnitMetrics::new(views.clone(), settings.metrics.units.clone())
                    .context("cannot register metrics")?,
            )
            .context("cannot register metrics")?;
        let state = web::Data::new(AppState {
            store,
            tree,
            tokens,
            aggregates,
            views,
            hub,
            stream: settings.stream.clone(),
            body_read_timeout: settings.server.body_read_timeout,
            trusted_proxies: settings.server.trusted_proxies.clone(),
            metrics_access: crate::routes::metrics::Access {
                token: settings.metrics.token.clone(),
                public: settings.metrics.public,
            },
            alerting,
            timeliness: settings.timeliness,
            public_read: settings.read.public_read,
            calendar: settings.timeliness.calendar,
            ingest: settings.ingest.clone(),
            metrics,
        });
        let hub = state.hub.clone();
        let alerting = state.alerting.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(security_headers())
                .wrap(actix_web::middleware::from_fn(record_http))
                .wrap(TracingLogger::<RedactedSpan>::new())
                .app_data(state.clone())
                .service(routes::health::healthz)
                .service(routes::health::readyz)
                .service(routes::metrics::metrics)
                .service(routes::ingest::post_dossiers)
                .service(routes::ingest::dvcqg_sync)
                .service(routes::ingest::dvcqg_progress)
                .service(routes::ingest::put_procedures)
                .service(routes::read::overview)
                .service(routes::read::unit_keys)
                .service(routes::read::rankings)
                .service(routes::read::campaigns)
                .service(routes::read::campaign_progress)
                .service(routes::stream::ws)
                .service(routes::read::trend)
                .service(routes::alerts::list)
                .service(routes::alerts::rollup)
                .service(routes::alerts::show)
                .service(routes::alerts::acknowledge)
                .service(routes::pages::wall)
                .service(routes::pages::rankings)
                .service(routes::pages::asset)
        })
        .on_connect(routes::stream::Connection::record)
        .client_request_timeout(settings.server.header_read_timeout)
        // Signals are handled in `run_until_stopped`, which first closes
        // the WebSockets (they would otherwise hold the shutdown).
        .disable_signals()
        .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
        .listen(listener)?;
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        tracing::info!(message = "Listening.", %address);
        Ok(Application {
            server: server.run(),
            address,
            hub,
            alerting,
        })
    }

    /// The address the server listens on (with the real port when 0 was asked).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// A handle that stops the server (tests stop and restart servers).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT or SIGTERM (or a stop through [`handle`](Self::handle)),
    /// then stops gracefully: WebSockets are closed with 1001 (going
    /// away), requests in flight finish, the alert sweeper stops.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let hub = self.hub;
        let alerting = self.alerting;
        actix_web::rt::spawn(async move {
            if stop_signal().await.is_ok() {
                tracing::info!(message = "Stopping.");
                hub.close_all();
                handle.stop(true).await;
            }
        });
        let served = self.server.await;
        alerting.stop();
        served
    }
}

/// A version that changes whenever `a` or `b` does: the hub renders again
/// on new aggregates and on alert transitions.
fn either_changes(
    mut a: tokio::sync::watch::Receiver<u64>,
    mut b: tokio::sync::watch::Receiver<u64>,
) -> tokio::sync::watch::Receiver<u64> {
    let (sender, receiver) = tokio::sync::watch::channel(0);
    actix_web::rt::spawn(async move {
        loop {
            let changed = tokio::select! {
                changed = a.changed() => changed,
                changed = b.changed() => changed,
            };
            if changed.is_err() || sender.is_closed() {
                return;
            }
            sender.send_modify(|v| *v += 1);
        }
    });
    receiver
}

fn hub_config(stream: &StreamSettings) -> HubConfig {
    HubConfig {
        min_interval: stream.min_interval,
        refresh_every: HUB_REFRESH,
        queue_frames: stream.queue_frames,
        slow_limit: stream.slow_client_limit,
        max_sessions: stream.max_sessions,
        max_topics: stream.max_topics,
    }
}

/// How often the unrevoked tokens are read again: a revocation reaches
/// every request and open WebSocket of every node within this time.
const TOKEN_REFRESH: std::time::Duration = std::time::Duration::from_secs(2);

/// How often live topics are rendered again with no change published, so
/// that a new local day reaches screens.
const HUB_REFRESH: std::time::Duration = std::time::Duration::from_secs(60);

/// Records each request's duration by route pattern, method and status.
async fn record_http(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = method_label(req.method());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let result = next.call(req).await;
    let status = match &result {
        Ok(response) => response.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    if let Some(state) = state {
        state
            .metrics
            .http_seconds
            .with_label_values(&[route.as_str(), method, status.as_str()])
            .observe(started.elapsed().as_secs_f64());
    }
    result
}

/// Headers on every response: no content sniffing, no referrer (a page's
/// URL may carry its `?token=`).
fn security_headers() -> actix_web::middleware::DefaultHeaders {
    actix_web::middleware::DefaultHeaders::new()
        .add((actix_web::http::header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((actix_web::http::header::REFERRER_POLICY, "no-referrer"))
}

/// The method as a metric label: the standard methods by name, any other
/// string a client sends as `other`, so that no client can grow the label set.
fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ]
    .iter()
    .find(|m| *m == method)
    .map_or("other", Method::as_str)
}

/// Seconds requests in flight may take after a stop signal.
const SHUTDOWN_TIMEOUT_SECS: u64 = 10;

/// Waits for SIGINT (Ctrl-C) or SIGTERM.
async fn stop_signal() -> std::io::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted,
        _ = term.recv() => Ok(()),
    }
}

/// Connects to the configured database.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let url = settings.database.url.clone();
    let options = StoreOptions {
        max_connections: settings.database.max_connections,
        acquire_timeout: settings.database.acquire_timeout,
        request_timeout: settings.database.request_timeout,
        ..StoreOptions::default()
    };
    let store = tokio::task::spawn_blocking(move || Store::connect(&url, &options)).await??;
    tracing::info!(message = "Connected.", database = %store.describe());
    Ok(store)
}

/// Migrates (or checks that nothing is pending) and loads reference data,
/// as the configuration says.
async fn prepare(settings: &Settings, store: &Store) -> anyhow::Result<()> {
    let migrate = settings.database.migrate_on_start;
    let described = store.describe();
    store
        .run(move |conn| {
            if migrate {
                for name in ioc_store::migrate(conn)? {
                    tracing::info!(message = "Migration applied.", migration = %name);
                }
                return Ok(Vec::new());
            }
            ioc_store::pending_migrations(conn)
        })
        .await
        .and_then(|pending| {
            if pending.is_empty() {
                Ok(())
            } else {
                Err(ioc_store::StoreError::Migration(format!(
                    "{described} has {} pending migration(s) ({}); run `ioc migrate` or set database.migrate_on_start",
                    pending.len(),
                    pending.join(", ")
                )))
            }
        })?;
    if settings.units.load_on_start {
        let report = crate::commands::load_units(settings, store).await?;
        tracing::info!(
            message = "Units loaded.",
            inserted = report.inserted,
            updated = report.updated,
            unchanged = report.unchanged
        );
    }
    if settings.procedures.load_on_start {
        let report = crate::commands::load_procedures(settings, store).await?;
        tracing::info!(
            message = "Procedures loaded.",
            inserted = report.inserted,
            updated = report.updated,
            unchanged = report.unchanged
        );
    }
    Ok(())
}
