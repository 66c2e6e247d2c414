//! Structured logs with `tracing`, to standard error.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::config::{LogFormat, LogSettings};

/// Installs the global subscriber; `RUST_LOG` overrides the configured
/// level. Does nothing if one is already installed (as in tests).
pub fn init(settings: &LogSettings) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // One line per HTTP request, when its span closes.
        .with_span_events(FmtSpan::CLOSE);
    let _ = match settings.format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// The span of each HTTP request, as tracing-actix-web's default but with
/// the value of a `token=` query parameter hidden: wall screens pass their
/// viewer token in the `/ws` URL, and tokens never go to logs.
pub struct RedactedSpan;

impl tracing_actix_web::RootSpanBuilder for RedactedSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "default".to_owned());
        let target = redact_token(
            request
                .uri()
                .path_and_query()
                .map_or("", actix_web::http::uri::PathAndQuery::as_str),
        );
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.target = %target,
            http.client_ip = %client_ip(request),
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// The client's address: the peer's, unless the peer is one of
/// `server.trusted_proxies`; then the last address of `X-Forwarded-For`
/// that is not itself a trusted proxy (what the outermost trusted proxy
/// saw). A client cannot put another address in the logs by sending the
/// header itself.
fn client_ip(request: &actix_web::dev::ServiceRequest) -> String {
    let Some(peer) = request.peer_addr().map(|a| a.ip()) else {
        return String::new();
    };
    let trusted: &[std::net::IpAddr] = request
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .map_or(&[], |state| &state.trusted_proxies);
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    forwarded_client(request.headers(), trusted)
        .map_or_else(|| peer.to_string(), |ip| ip.to_string())
}

/// The last address of the `X-Forwarded-For` headers not in `trusted`;
/// `None` when a hop on the way there is not an address (what a client
/// wrote cannot then be told from what the proxies saw).
fn forwarded_client(
    headers: &actix_web::http::header::HeaderMap,
    trusted: &[std::net::IpAddr],
) -> Option<std::net::IpAddr> {
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.into_iter().rev() {
        let ip: std::net::IpAddr = hop.parse().ok()?;
        if !trusted.contains(&ip) {
            return Some(ip);
        }
    }
    None
}

/// `path?a=1&token=SECRET&b=2` → `path?a=1&token=REDACTED&b=2`. Names
/// are compared decoded, as the query is read (`%74oken` is `token`).
fn redact_token(target: &str) -> String {
    let Some((path, query)) = target.split_once('?') else {
        return target.to_owned();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| {
            let name = pair.split_once('=').map_or(pair, |(name, _)| name);
            if ioc_core::text::percent_decoded(name) == "token" {
                format!("{name}=REDACTED")
            } else {
                pair.to_owned()
            }
        })
        .collect();
    format!("{path}?{}", query.join("&"))
}

#[cfg(test)]
mod tests {
    use super::{forwarded_client, redact_token};

    #[test]
    fn forwarded_addresses_are_read_right_to_left_past_trusted_proxies() {
        let mut headers = actix_web::http::header::HeaderMap::new();
        headers.insert(
            actix_web::http::header::HeaderName::from_static("x-forwarded-for"),
            actix_web::http::header::HeaderValue::from_static("6.6.6.6, 203.0.113.7, 10.0.0.2"),
        );
        let trusted = ["10.0.0.2".parse().expect("ip")];
        assert_eq!(
            forwarded_client(&headers, &trusted),
            Some("203.0.113.7".parse().expect("ip")),
            "the address the trusted proxy saw, not what the client wrote"
        );
        headers.insert(
            actix_web::http::header::HeaderName::from_static("x-forwarded-for"),
            actix_web::http::header::HeaderValue::from_static("6.6.6.6, unknown, 10.0.0.2"),
        );
        assert_eq!(
            forwarded_client(&headers, &trusted),
            None,
            "no guess past a bad hop"
        );
    }

    #[test]
    fn tokens_in_urls_are_hidden() {
        assert_eq!(redact_token("/ws?token=ioc_abc"), "/ws?token=REDACTED");
        assert_eq!(
            redact_token("/ws?a=1&token=x&b=2"),
            "/ws?a=1&token=REDACTED&b=2"
        );
        assert_eq!(redact_token("/api/v1/overview"), "/api/v1/overview");
        assert_eq!(redact_token("/x?tokens=1"), "/x?tokens=1");
        assert_eq!(
            redact_token("/ws?%74oken=ioc_abc&%74%6F%6B%65%6E=x"),
            "/ws?%74oken=REDACTED&%74%6F%6B%65%6E=REDACTED"
        );
        assert_eq!(redact_token("/ws?token"), "/ws?token=REDACTED");
    }
}
