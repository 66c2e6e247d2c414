//! Starting a server for a test.

use std::net::SocketAddr;
use std::path::PathBuf;

use ioc_server::{Application, Settings};
use ioc_store::testing::TestDb;

/// Which database a test server uses.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running server and its database (dropped last).
pub struct TestApp {
    pub address: SocketAddr,
    pub client: awc::Client,
    pub db: TestDb,
}

impl TestApp {
    /// Starts ioc on `backend` with the repository's configuration, on a
    /// random port; `None` when PostgreSQL tests are skipped on purpose.
    pub async fn spawn(backend: Backend, overrides: &[(&str, &str)]) -> Option<TestApp> {
        let db = match backend {
            Backend::Sqlite => TestDb::sqlite(),
            Backend::Postgres => TestDb::postgres()?,
        };
        let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config/base.toml");
        let mut env = vec![
            ("IOC__SERVER__BIND".to_owned(), "127.0.0.1:0".to_owned()),
            ("IOC__SERVER__WORKERS".to_owned(), "1".to_owned()),
            ("IOC__DATABASE__URL".to_owned(), db.url_string()),
        ];
        env.extend(
            overrides
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let settings = Settings::load_from(Some(&config), env).expect("test settings");
        let app = Application::build(settings)
            .await
            .expect("start the server");
        let address = app.address();
        actix_web::rt::spawn(app.run_until_stopped());
        Some(TestApp {
            address,
            client: awc::Client::default(),
            db,
        })
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// GETs `path`; returns the status and the JSON body.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let mut response = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("request");
        let body = response.body().await.expect("body");
        let json = serde_json::from_slice(&body).unwrap_or_else(|e| {
            panic!("{path}: not JSON ({e}): {}", String::from_utf8_lossy(&body))
        });
        (response.status().as_u16(), json)
    }
}
