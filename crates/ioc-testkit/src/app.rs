//! A server for a test, in the test's process: the repository's
//! configuration, a random loopback port, a fresh test database, tokens
//! and request helpers.

use std::net::SocketAddr;
use std::sync::Arc;

use ioc_core::{Clock, SystemClock};
use ioc_server::auth::{Role, generate_token, hash_token};
use ioc_server::{Application, Settings};
use ioc_store::testing::TestDb;
use ioc_store::tokens::{self, NewToken};
use ioc_store::{Store, StoreOptions};

/// Which database a test server uses.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    /// A throwaway SQLite file.
    Sqlite,
    /// A throwaway PostgreSQL database (the test is skipped without one,
    /// except on CI).
    Postgres,
}

/// A running server and its database (dropped last).
pub struct TestApp {
    /// Where the server listens.
    pub address: SocketAddr,
    /// An HTTP client with a generous timeout.
    pub client: awc::Client,
    /// The server's database, opened by the test.
    pub store: Store,
    /// The server, to stop it.
    pub server: Running,
    /// The test database; the last field, so that it is dropped last.
    pub db: TestDb,
}

/// A server started by a test, to stop it.
pub struct Running {
    handle: actix_web::dev::ServerHandle,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stops the server as SIGTERM would, and waits until it has stopped.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        self.served
            .await
            .expect("the server task")
            .expect("the server stops cleanly");
    }
}

/// Another server on the same database: a restart, or a second node.
pub struct Node {
    /// Where the node listens.
    pub address: SocketAddr,
    /// An HTTP client with a generous timeout.
    pub client: awc::Client,
}

fn client() -> awc::Client {
    awc::Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .finish()
}

async fn start_server(
    db: &TestDb,
    overrides: &[(&str, &str)],
    clock: Arc<dyn Clock>,
) -> (SocketAddr, Running) {
    let config = crate::repo_config();
    let mut env = vec![
        ("IOC__SERVER__BIND".to_owned(), "127.0.0.1:0".to_owned()),
        ("IOC__SERVER__WORKERS".to_owned(), "1".to_owned()),
        // Most tests scrape /metrics without a token; `tests/api/metrics.rs`
        // tests the default, closed one.
        ("IOC__METRICS__PUBLIC".to_owned(), "true".to_owned()),
        ("IOC__DATABASE__URL".to_owned(), db.url_string()),
    ];
    env.extend(
        overrides
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let settings = Settings::load_from(Some(&config), env).expect("test settings");
    let app = Application::build_with_clock(settings, clock)
        .await
        .expect("start the server");
    let address = app.address();
    let handle = app.handle();
    let served = actix_web::rt::spawn(app.run_until_stopped());
    (address, Running { handle, served })
}

async fn get_json(client: &awc::Client, url: String) -> (u16, serde_json::Value) {
    let mut response = client.get(&url).send().await.expect("request");
    let body = response.body().limit(64 * 1024 * 1024).await.expect("body");
    let json = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {}", String::from_utf8_lossy(&body)));
    (response.status().as_u16(), json)
}

impl TestApp {
    /// Starts ioc on `backend` with the repository's configuration, on a
    /// random port; `None` when PostgreSQL tests are skipped on purpose.
    pub async fn spawn(backend: Backend, overrides: &[(&str, &str)]) -> Option<TestApp> {
        TestApp::spawn_with_clock(backend, overrides, Arc::new(SystemClock)).await
    }

    /// [`spawn`](Self::spawn) with an injected clock.
    pub async fn spawn_with_clock(
        backend: Backend,
        overrides: &[(&str, &str)],
        clock: Arc<dyn Clock>,
    ) -> Option<TestApp> {
        let db = match backend {
            Backend::Sqlite => TestDb::sqlite(),
            Backend::Postgres => TestDb::postgres()?,
        };
        let (address, server) = start_server(&db, overrides, clock).await;
        let store = Store::connect(db.url(), &StoreOptions::default()).expect("test store");
        Some(TestApp {
            address,
            client: client(),
            store,
            server,
            db,
        })
    }

    /// Starts another server on this database.
    pub async fn another_node(&self, overrides: &[(&str, &str)], clock: Arc<dyn Clock>) -> Node {
        Node {
            address: start_server(&self.db, overrides, clock).await.0,
            client: client(),
        }
    }

    /// Stops this server and starts a new one on the same database, which
    /// then answers at `address`.
    pub async fn restart(self, overrides: &[(&str, &str)], clock: Arc<dyn Clock>) -> TestApp {
        self.server.stop().await;
        let (address, server) = start_server(&self.db, overrides, clock).await;
        TestApp {
            address,
            server,
            ..self
        }
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// GETs `path`; returns the status and the JSON body.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        get_json(&self.client, self.url(path)).await
    }

    /// Creates a token of `role`; ingest tokens write as `source` for the
    /// subtrees of `units`.
    pub fn token(&self, role: Role, source: Option<&str>, units: &[&str]) -> String {
        let token = generate_token().expect("token");
        let new = NewToken {
            token_hash: hash_token(&token),
            role: role.as_str().to_owned(),
            source: source.map(str::to_owned),
            units: units.join(","),
            label: "test".to_owned(),
            created_at: chrono::Utc::now().naive_utc(),
        };
        let mut conn = self.store.get().expect("connection");
        tokens::create(&mut conn, &new).expect("store token");
        token
    }

    /// An ingest token for source `source` over the whole province.
    pub fn ingest_token(&self, source: &str) -> String {
        self.token(Role::Ingest, Some(source), &["70"])
    }

    /// Sends `body` with `method` to `path`; returns the status and JSON body.
    pub async fn send(
        &self,
        method: awc::http::Method,
        path: &str,
        content_type: Option<&str>,
        token: Option<&str>,
        body: impl Into<Vec<u8>>,
    ) -> (u16, serde_json::Value) {
        let mut request = self.client.request(method, self.url(path));
        if let Some(content_type) = content_type {
            request = request.insert_header(("Content-Type", content_type));
        }
        if let Some(token) = token {
            request = request.insert_header(("Authorization", format!("Bearer {token}")));
        }
        let mut response = request.send_body(body.into()).await.expect("request");
        let bytes = response.body().limit(64 * 1024 * 1024).await.expect("body");
        let json = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "{path}: not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        (response.status().as_u16(), json)
    }

    /// GETs `/metrics`, with `token` as bearer if given; the status and the text.
    pub async fn scrape(&self, token: Option<&str>) -> (u16, String) {
        crate::scrape(&self.client, &self.url(""), token)
            .await
            .expect("scrape")
    }

    /// POSTs a JSON body to `path` with `token`.
    pub async fn post_json(
        &self,
        path: &str,
        token: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        self.send(
            awc::http::Method::POST,
            path,
            Some("application/json"),
            Some(token),
            serde_json::to_vec(body).expect("json"),
        )
        .await
    }
}

impl Node {
    /// GETs `path`; returns the status and the JSON body.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        get_json(&self.client, format!("http://{}{}", self.address, path)).await
    }
}
