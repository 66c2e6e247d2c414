//! `[server]`: where and how the HTTP server listens.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::reader::Reader;

/// `[server]`
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Address to listen on; port 0 picks a free port.
    pub bind: SocketAddr,
    /// HTTP worker threads; 0 = one per core.
    pub workers: usize,
    /// Longest wait for a request's headers.
    pub header_read_timeout: Duration,
    /// Longest wait for a request's whole body.
    pub body_read_timeout: Duration,
    /// Peers whose `X-Forwarded-For` names the client (reverse proxies).
    pub trusted_proxies: Vec<IpAddr>,
}

impl ServerSettings {
    /// Reads `[server]`.
    pub(super) fn read(reader: &mut Reader) -> ServerSettings {
        let bind = reader.parse("server.bind", "127.0.0.1:8080", |s| {
            s.parse::<SocketAddr>()
                .map_err(|_| format!("{s:?} is not an address IP:PORT such as 127.0.0.1:8080"))
        });
        let workers = reader.integer("server.workers", 0, 0, 1024);
        let header_read_timeout = reader.integer("server.header_read_timeout_secs", 5, 1, 600);
        let body_read_timeout = reader.integer("server.body_read_timeout_secs", 30, 1, 3600);
        let trusted_proxies = reader
            .list("server.trusted_proxies", &[])
            .into_iter()
            .filter_map(|raw| match raw.parse::<IpAddr>() {
                Ok(ip) => Some(ip),
                Err(_) => {
                    reader.problem(
                        "server.trusted_proxies",
                        format!("{raw:?} is not an IP address"),
                    );
                    None
                }
            })
            .collect();
        ServerSettings {
            bind,
            workers: workers as usize,
            header_read_timeout: Duration::from_secs(header_read_timeout.into()),
            body_read_timeout: Duration::from_secs(body_read_timeout.into()),
            trusted_proxies,
        }
    }
}
