//! Building and running the server: connect the store, bring the schema
//! and reference data up to date, bind, serve.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::{App, HttpServer, web};
use anyhow::Context;
use ioc_core::{Clock, SystemClock};
use ioc_stream::{Hub, HubConfig};
use tracing_actix_web::TracingLogger;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

use crate::aggregates::{self, AggregateConfig};
use crate::alerting::{Alerting, AlertingConfig};
use crate::bootstrap;
use crate::config::{Settings, StreamSettings};
use crate::metrics::Metrics;
use crate::openapi::{self, ApiDoc};
use crate::pipeline::Pipeline;
use crate::reference::{read_alert_rules, read_campaigns, read_score_model};
use crate::routes;
use crate::routes::docs::ApiDocument;
use crate::state::AppState;
use crate::telemetry::RedactedSpan;
use crate::unit_metrics::UnitMetrics;
use crate::views::Views;

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
        let campaigns = read_campaigns(&settings.campaigns.files, &settings.units.levels)
            .map_err(|problems| anyhow::anyhow!("{}", problems.join("; ")))?;
        let score = read_score_model(&settings.scoring.file).map_err(anyhow::Error::msg)?;
        let alert_rules = read_alert_rules(&settings.alerts.file, &settings.units.levels)
            .map_err(|problems| anyhow::anyhow!("{}", problems.join("; ")))?;
        let store = bootstrap::open_store(&settings).await?;
        bootstrap::prepare(&settings, &store).await?;
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
        // One signal for the hub: new aggregates or alert transitions.
        let views_changed = tokio::sync::watch::Sender::new(0);
        let (aggregates, feed, engine_stage) = aggregates::start(
            &store,
            AggregateConfig {
                tree: tree.clone(),
                rules: settings.timeliness,
                campaigns,
                score,
                min_volume: settings.rankings.min_volume,
                clock,
                views_changed: views_changed.clone(),
            },
        )
        .await?;
        let feed_newest = feed.newest();
        let mut pipeline = Pipeline::new(feed);
        actix_web::rt::spawn(engine_stage.run(pipeline.stage()));
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
                views_changed: views_changed.clone(),
            },
            aggregates.clone(),
            tree.clone(),
            settings.timeliness,
            (pipeline.stage(), feed_newest),
        )
        .await
        .context("cannot start alerting")?;
        actix_web::rt::spawn(pipeline.run());
        let views = Arc::new(Views {
            aggregates: aggregates.clone(),
            alerting: alerting.clone(),
            tree: tree.clone(),
            calendar: settings.timeliness.calendar,
        });
        let hub = Arc::new(Hub::new(
            views.clone(),
            views_changed.subscribe(),
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
            metrics_access: crate::metrics::MetricsAccess {
                token: settings.metrics.token.clone(),
                public: settings.metrics.public,
            },
            alerting,
            timeliness: settings.timeliness,
            public_read: settings.auth.public_read,
            calendar: settings.timeliness.calendar,
            ingest: settings.ingest.clone(),
            metrics,
        });
        let hub = state.hub.clone();
        let alerting = state.alerting.clone();
        let document = web::Data::new(api_document(openapi::Access {
            public_read: settings.auth.public_read,
            metrics_public: settings.metrics.public,
        })?);
        let mut server = HttpServer::new(move || {
            routes::mount(App::new().into_utoipa_app())
                .into_app()
                .wrap(actix_web::middleware::from_fn(head_as_get))
                .wrap(security_headers())
                .wrap(actix_web::middleware::from_fn(record_http))
                .wrap(TracingLogger::<RedactedSpan>::new())
                .app_data(state.clone())
                .app_data(document.clone())
                .app_data(routes::params::query_config())
                .default_service(web::to(routes::docs::unrouted))
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

/// The OpenAPI document of the routes `routes::mount` mounts, as `access`
/// opens them.
pub fn api_document(access: openapi::Access) -> anyhow::Result<ApiDocument> {
    let (_, paths) =
        routes::mount(App::new().into_utoipa_app().openapi(ApiDoc::openapi())).split_for_parts();
    ApiDocument::new(&openapi::document(paths, access))
        .context("cannot encode the OpenAPI document")
}

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

/// Serves `HEAD` as `GET` (RFC 9110 §9.3.2): the request is routed as a
/// `GET`, and the connection, which read a `HEAD`, sends the headers only.
async fn head_as_get(
    mut req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    if req.method() == actix_web::http::Method::HEAD {
        req.head_mut().method = actix_web::http::Method::GET;
    }
    next.call(req).await
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
