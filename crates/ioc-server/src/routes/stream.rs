//! `GET /ws`: live updates over a WebSocket. The hub (`ioc-stream`) decides
//! what to send; this task moves frames between it and the socket, pings,
//! and ends the session on every exit path (dropping the hub session
//! unsubscribes it everywhere).

use std::any::Any;
use std::os::fd::AsFd as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::Extensions;

use actix_web::{HttpRequest, HttpResponse, get, web};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, ProtocolError};
use ioc_stream::{Disconnect, Next, Session};

use crate::auth::{self, Role};
use crate::config::StreamSettings;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::openapi::AuthErrors;
use crate::state::AppState;
use ioc_stream::protocol::ErrorCode as FrameCode;

/// Close code for a client silent for longer than `stream.client_timeout_secs`.
pub const CLOSE_TIMEOUT: u16 = 4001;
/// How often a session checks whether its client fell too far behind and
/// whether its token is still valid.
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// How long a close frame may take to go out before the socket is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// How long after a close by the server the TCP connection is ended
/// whatever it still holds, so that a client that stopped reading cannot
/// keep it (and the data queued for it) open.
const CLOSE_LINGER: Duration = Duration::from_secs(2);

/// The TCP connection under a request. Closing a WebSocket frame by frame
/// waits for the client to drain what is queued; a client that stopped
/// reading never does, so the server ends the connection itself.
#[derive(Clone)]
pub struct Connection(Arc<std::net::TcpStream>);

impl Connection {
    /// Keeps a handle on each new TCP connection (`HttpServer::on_connect`).
    pub fn record(connection: &dyn Any, extensions: &mut Extensions) {
        if let Some(tcp) = connection.downcast_ref::<actix_web::rt::net::TcpStream>()
            && let Ok(fd) = tcp.as_fd().try_clone_to_owned()
        {
            extensions.insert(Connection(Arc::new(std::net::TcpStream::from(fd))));
        }
    }

    /// Ends the connection at once, discarding what was not sent (a reset).
    fn abort(&self) {
        let socket = socket2::SockRef::from(self.0.as_ref());
        let _ = socket.set_linger(Some(Duration::ZERO));
        let _ = self.0.shutdown(std::net::Shutdown::Both);
    }
}

/// Upgrades to a WebSocket. Needs a viewer token, as a bearer header or
/// `?token=` (browsers cannot set headers on WebSockets), unless
/// `auth.public_read` is on.
#[utoipa::path(
    tag = "stream",
    params(
        ("Upgrade" = String, Header, description = "`websocket` (in any case)"),
        ("Connection" = String, Header, description = "A list that holds `Upgrade` (in any case)"),
        ("Sec-WebSocket-Key" = String, Header, pattern = "^[A-Za-z0-9+/]{21}[AQgw]==$",
            description = "The client's key: 16 random bytes in base64 (RFC 6455)"),
        ("Sec-WebSocket-Version" = String, Header, pattern = "^13$", description = "`13`"),
    ),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol of docs/API.md, \"Live updates\""),
        (status = 400, description = "Not a WebSocket upgrade (`not_websocket`)", body = ErrorBody),
        AuthErrors
    ),
    security(("bearer" = []), ("token_query" = []))
)]
#[get("/ws")]
pub async fn ws(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let token = if state.public_read {
        None
    } else {
        let principal = auth::authenticate_reader(&req, &state.tokens).await?;
        auth::require(&principal, Role::Viewer)?;
        Some(principal.token_id)
    };
    let (response, socket, messages) =
        actix_ws::handle(&req, body).map_err(|e| ApiError::BadRequest {
            code: ErrorCode::NotWebsocket,
            message: format!("/ws expects a WebSocket upgrade: {e}"),
        })?;
    let settings = state.stream.clone();
    let messages = messages
        .max_frame_size(settings.max_message_bytes)
        .aggregate_continuations()
        .max_continuation_size(settings.max_message_bytes);
    match state.hub.open() {
        Ok(session) => {
            let hub = state.hub.clone();
            let tokens = state.tokens.clone();
            let connection = req.conn_data::<Connection>().cloned();
            actix_web::rt::spawn(async move {
                let revoked = || token.is_some_and(|id| !tokens.is_active(id));
                let reason = serve(&session, socket, messages, &settings, &revoked).await;
                drop(session);
                hub.disconnected(reason);
                if let Some(connection) = connection.filter(|_| reason != Disconnect::ClientClosed)
                {
                    tokio::time::sleep(CLOSE_LINGER).await;
                    connection.abort();
                }
                tracing::debug!(
                    message = "WebSocket session ended.",
                    reason = reason.as_str()
                );
            });
        }
        Err(full) => {
            let connection = req.conn_data::<Connection>().cloned();
            actix_web::rt::spawn(async move {
                close(socket, CloseCode::Again, full.to_string()).await;
                if let Some(connection) = connection {
                    tokio::time::sleep(CLOSE_LINGER).await;
                    connection.abort();
                }
            });
        }
    }
    Ok(response)
}

async fn close(socket: actix_ws::Session, code: CloseCode, reason: String) {
    let reason = CloseReason {
        code,
        description: Some(reason),
    };
    let _ = tokio::time::timeout(CLOSE_GRACE, socket.close(Some(reason))).await;
}

/// Runs a session until it ends, and says why. Writing and reading are
/// separate futures, so that a client that stops reading (a write that
/// never completes) is still noticed and closed by the reading side.
async fn serve(
    session: &Session,
    socket: actix_ws::Session,
    mut messages: actix_ws::AggregatedMessageStream,
    settings: &StreamSettings,
    revoked: &dyn Fn() -> bool,
) -> Disconnect {
    let mut writer_socket = socket.clone();
    let writer = async {
        loop {
            match session.next().await {
                Next::Frame(_, text) => {
                    if writer_socket.text(text).await.is_err() {
                        return (Disconnect::SendFailed, None);
                    }
                }
                Next::Close(close) => {
                    return (
                        close.disconnect,
                        Some((CloseCode::Other(close.code), close.reason.to_owned())),
                    );
                }
            }
        }
    };
    let mut reader_socket = socket.clone();
    let reader = async {
        let mut last_heard = Instant::now();
        let mut ping = tokio::time::interval(settings.ping_interval);
        let mut check = tokio::time::interval(CHECK_EVERY);
        loop {
            tokio::select! {
                message = messages.recv() => {
                    last_heard = Instant::now();
                    match message {
                        None | Some(Ok(AggregatedMessage::Close(_))) => {
                            return (Disconnect::ClientClosed, None);
                        }
                        Some(Ok(AggregatedMessage::Text(text))) => session.handle(&text),
                        Some(Ok(AggregatedMessage::Binary(_))) => session.reject(
                            FrameCode::BinaryNotSupported,
                            "send requests as JSON text frames",
                        ),
                        Some(Ok(AggregatedMessage::Ping(bytes))) => {
                            // A client that does not read cannot block the reader.
                            let _ = tokio::time::timeout(CLOSE_GRACE, reader_socket.pong(&bytes)).await;
                        }
                        Some(Ok(AggregatedMessage::Pong(_))) => {}
                        Some(Err(ProtocolError::Overflow)) => {
                            return (
                                Disconnect::ProtocolError,
                                Some((CloseCode::Size, format!(
                                    "message larger than {} bytes",
                                    settings.max_message_bytes
                                ))),
                            );
                        }
                        Some(Err(e)) => {
                            return (Disconnect::ProtocolError, Some((CloseCode::Protocol, e.to_string())));
                        }
                    }
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() > settings.client_timeout {
                        return (
                            Disconnect::Timeout,
                            Some((CloseCode::Other(CLOSE_TIMEOUT), "no message or pong within the client timeout".to_owned())),
                        );
                    }
                    let _ = tokio::time::timeout(CLOSE_GRACE, reader_socket.ping(b"")).await;
                }
                _ = check.tick() => {
                    if revoked() {
                        return (
                            Disconnect::Revoked,
                            Some((CloseCode::Policy, "the token was revoked".to_owned())),
                        );
                    }
                    if session.check_slow() {
                        return (
                            Disconnect::SlowConsumer,
                            Some((CloseCode::Other(ioc_stream::CLOSE_SLOW), "slow consumer: fell behind for too long".to_owned())),
                        );
                    }
                }
            }
        }
    };
    let (reason, close_with) = tokio::select! {
        ended = writer => ended,
        ended = reader => ended,
    };
    if let Some((code, text)) = close_with {
        close(socket, code, text).await;
    } else if reason == Disconnect::ClientClosed {
        close(socket, CloseCode::Normal, String::new()).await;
    }
    reason
}
