//! Bearer tokens: creation, hashing, and the principal a request acts as.
//!
//! Roles: `ingest` writes dossiers, as one source and for its unit
//! subtrees only; `viewer` reads; `operator` also acknowledges alerts;
//! `admin` does everything but ingest (which is tied to a source).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::http::header;
use ioc_core::{Source, UnitCode, UnitTree};
use ioc_ingest::WriteScope;
use ioc_store::Store;
use ioc_store::tokens::{self, NewToken, TokenRow};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// What a token allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Read the API and screens.
    Viewer,
    /// Read, and acknowledge alerts.
    Operator,
    /// Everything except writing dossiers.
    Admin,
    /// Write dossiers of one source and unit scope.
    Ingest,
}

impl Role {
    /// Parses `ingest`, `viewer`, `operator` or `admin`.
    pub fn parse(raw: &str) -> Result<Role, String> {
        match raw {
            "ingest" => Ok(Role::Ingest),
            "viewer" => Ok(Role::Viewer),
            "operator" => Ok(Role::Operator),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role {other:?} (expected ingest, viewer, operator or admin)"
            )),
        }
    }

    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Ingest => "ingest",
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

/// The caller of an authenticated request.
#[derive(Debug, Clone)]
pub struct Principal {
    /// Token id, for logs.
    pub token_id: i64,
    /// The token's label (who holds it).
    pub label: String,
    /// Role.
    pub role: Role,
    /// Source written as (ingest tokens).
    pub source: Option<Source>,
    /// Units that may be written (ingest tokens).
    pub scope: WriteScope,
}

/// A new random token: `ioc_` and 64 hex digits.
pub fn generate_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("ioc_{}", hex(&bytes)))
}

/// The stored form of a token: its SHA-256, hex.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// What `ioc token create` stores, checked against the unit tree.
pub fn new_token(
    role: Role,
    source: Option<&str>,
    units: &[String],
    label: &str,
    tree: &UnitTree,
    token: &str,
) -> Result<NewToken, String> {
    if role == Role::Ingest {
        let source = source.ok_or("an ingest token needs --source NAME")?;
        Source::parse(source)?;
        if units.is_empty() {
            return Err(
                "an ingest token needs --units CODE[,CODE] (the subtrees it may write)".to_owned(),
            );
        }
    } else if source.is_some() || !units.is_empty() {
        return Err(format!(
            "--source and --units apply to ingest tokens only, not {}",
            role.as_str()
        ));
    }
    for unit in units {
        let known = UnitCode::parse(unit)
            .ok()
            .is_some_and(|c| tree.get(&c).is_some());
        if !known {
            return Err(format!("unknown unit code {unit:?} in --units"));
        }
    }
    Ok(NewToken {
        token_hash: hash_token(token),
        role: role.as_str().to_owned(),
        source: source.map(str::to_owned),
        units: units.join(","),
        label: label.to_owned(),
        created_at: chrono::Utc::now().naive_utc(),
    })
}

/// The unrevoked tokens, kept in memory so that a request is checked
/// without a database round trip. The set is read again on every change of
/// the token table (PostgreSQL's `NOTIFY`), and at least every `refresh`
/// interval (SQLite, or a listener that is down), so a revocation
/// (`ioc token revoke`, on any node) reaches every node, and every open
/// WebSocket, within seconds. A token created since the last read is looked
/// up in the database once. Memory is bounded by the tokens stored: an
/// unknown token adds nothing. A set not read again for [`STALE_AFTER`]
/// (the database does not answer) is not trusted: requests then look their
/// token up in the database, and fail with it.
pub struct Tokens {
    store: Store,
    tree: Arc<UnitTree>,
    active: RwLock<Active>,
    /// Bumped by every read of the whole set, with when it happened.
    read: std::sync::Mutex<(u64, std::time::Instant)>,
    changed: Arc<tokio::sync::Notify>,
    /// Wakes `changed` on the token table's notifications; stops when dropped.
    _listener: Option<ioc_store::listen::Listener>,
}

/// The unrevoked tokens by hash, and their ids (every open WebSocket asks
/// for its id each second).
#[derive(Default)]
struct Active {
    by_hash: HashMap<String, Arc<Principal>>,
    ids: HashSet<i64>,
}

impl Active {
    fn insert(&mut self, hash: String, principal: Arc<Principal>) {
        self.ids.insert(principal.token_id);
        self.by_hash.insert(hash, principal);
    }
}

impl Tokens {
    /// Reads the unrevoked tokens of `store`.
    pub async fn load(store: Store, tree: Arc<UnitTree>) -> Result<Arc<Tokens>, ApiError> {
        let changed = Arc::new(tokio::sync::Notify::new());
        let wake = changed.clone();
        let listener =
            ioc_store::listen::listen(store.url(), ioc_store::listen::TOKENS, move || {
                wake.notify_one();
            })?;
        let tokens = Arc::new(Tokens {
            store,
            tree,
            active: RwLock::new(Active::default()),
            read: std::sync::Mutex::new((0, std::time::Instant::now())),
            changed,
            _listener: listener,
        });
        tokens.refresh().await?;
        Ok(tokens)
    }

    /// Reads the unrevoked tokens again on each notification and at least
    /// every `every`, until the last other holder of `tokens` is gone.
    pub fn refresh_every(tokens: &Arc<Tokens>, every: Duration) {
        let weak = Arc::downgrade(tokens);
        let changed = tokens.changed.clone();
        actix_web::rt::spawn(async move {
            loop {
                tokio::select! {
                    () = changed.notified() => {}
                    () = tokio::time::sleep(every) => {}
                }
                let Some(tokens) = weak.upgrade() else { return };
                if let Err(e) = tokens.refresh().await {
                    tracing::warn!(message = "Cannot read the tokens; keeping the last set.", error = %e);
                }
            }
        });
    }

    async fn refresh(&self) -> Result<(), ApiError> {
        let rows = self.store.run_bounded(tokens::all_active).await?;
        let mut active = Active::default();
        for (hash, row) in rows {
            match principal(row, &self.tree) {
                Ok(p) => active.insert(hash, Arc::new(p)),
                Err(e) => tracing::warn!(message = "Token ignored.", error = %e),
            }
        }
        *self
            .active
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = active;
        let mut read = self.read();
        *read = (read.0 + 1, std::time::Instant::now());
        Ok(())
    }

    fn read(&self) -> std::sync::MutexGuard<'_, (u64, std::time::Instant)> {
        self.read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether token `id` was unrevoked at the last read.
    pub fn is_active(&self, id: i64) -> bool {
        self.active
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .ids
            .contains(&id)
    }

    /// The principal of `token`: from memory, else from the database.
    async fn resolve(&self, token: &str) -> Result<Principal, ApiError> {
        let hash = hash_token(token);
        let (generation, at) = *self.read();
        let known = self
            .active
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .by_hash
            .get(&hash)
            .cloned();
        if let Some(principal) = known.filter(|_| at.elapsed() < STALE_AFTER) {
            return Ok(principal.as_ref().clone());
        }
        let lookup = hash.clone();
        let row = self
            .store
            .run_bounded(move |conn| tokens::find_active(conn, &lookup))
            .await?
            .ok_or_else(|| ApiError::Unauthorized("the token is unknown or revoked".to_owned()))?;
        let principal = principal(row, &self.tree)?;
        // Only if no read of the set came in between: that read may have
        // seen this token revoked.
        let read = self.read();
        if read.0 == generation {
            self.active
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(hash, Arc::new(principal.clone()));
        }
        drop(read);
        Ok(principal)
    }
}

/// How long the token set is trusted without being read again.
pub const STALE_AFTER: Duration = Duration::from_secs(30);

/// Resolves the request's bearer token: 401 when it is missing, malformed,
/// unknown or revoked.
pub async fn authenticate(req: &HttpRequest, tokens: &Tokens) -> Result<Principal, ApiError> {
    tokens.resolve(&bearer(req)?).await
}

/// Resolves the token of a read request: the bearer header, or else a
/// `token` query parameter, for what browsers open without custom headers
/// (`/ws`, download links of the pages). Query tokens are hidden in logs.
pub async fn authenticate_reader(
    req: &HttpRequest,
    tokens: &Tokens,
) -> Result<Principal, ApiError> {
    if req.headers().contains_key(header::AUTHORIZATION) {
        return authenticate(req, tokens).await;
    }
    let query = actix_web::web::Query::<std::collections::HashMap<String, String>>::from_query(
        req.query_string(),
    )
    .map_err(|e| ApiError::Unauthorized(format!("unreadable query string: {e}")))?;
    let token = query
        .get("token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthorized(
                "missing Authorization: Bearer <token> header (or ?token=<token>)".to_owned(),
            )
        })?;
    tokens.resolve(token).await
}

/// The principal of a stored token, its units expanded to their subtrees.
fn principal(row: TokenRow, tree: &UnitTree) -> Result<Principal, ApiError> {
    let role =
        Role::parse(&row.role).map_err(|e| ApiError::Internal(format!("token {}: {e}", row.id)))?;
    let scope = if role == Role::Ingest {
        let mut units = HashSet::new();
        for root in row.units.split(',').filter(|u| !u.is_empty()) {
            if let Ok(code) = UnitCode::parse(root) {
                units.extend(
                    tree.subtree(&code)
                        .into_iter()
                        .map(|c| c.as_str().to_owned()),
                );
            }
        }
        WriteScope::Units(Arc::new(units))
    } else {
        WriteScope::All
    };
    Ok(Principal {
        token_id: row.id,
        label: row.label,
        role,
        source: row
            .source
            .map(|s| Source::parse(&s))
            .transpose()
            .map_err(|e| ApiError::Internal(format!("token {}: {e}", row.id)))?,
        scope,
    })
}

/// Requires the principal to hold `role`, or a higher one for reads.
pub fn require(principal: &Principal, role: Role) -> Result<(), ApiError> {
    let allowed = match role {
        Role::Ingest => principal.role == Role::Ingest,
        Role::Viewer | Role::Operator | Role::Admin => {
            principal.role != Role::Ingest && principal.role >= role
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "this endpoint needs a token of role {}; this one is {}",
            role.as_str(),
            principal.role.as_str()
        )))
    }
}

/// The token of `Authorization: Bearer <token>` (the scheme in any case);
/// 401 when the header is missing or of another shape.
pub(crate) fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::Unauthorized("missing Authorization: Bearer <token> header".to_owned())
    })?;
    let value = value.to_str().map_err(|_| {
        ApiError::Unauthorized("the Authorization header is not readable text".to_owned())
    })?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_owned())
        }
        _ => Err(ApiError::Unauthorized(
            "the Authorization header must be `Bearer <token>`".to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = generate_token().expect("token");
        let b = generate_token().expect("token");
        assert_ne!(a, b);
        assert!(a.starts_with("ioc_") && a.len() == 68, "{a}");
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn reads_need_a_reading_role() {
        let principal = |role| Principal {
            token_id: 1,
            label: String::new(),
            role,
            source: None,
            scope: WriteScope::All,
        };
        assert!(require(&principal(Role::Admin), Role::Viewer).is_ok());
        assert!(require(&principal(Role::Viewer), Role::Admin).is_err());
        assert!(require(&principal(Role::Ingest), Role::Viewer).is_err());
        assert!(require(&principal(Role::Admin), Role::Ingest).is_err());
        assert!(require(&principal(Role::Ingest), Role::Ingest).is_ok());
    }
}
