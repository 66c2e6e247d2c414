//! Query parameters and authorization shared by the read routes. Each set
//! of parameters is a type read by the handlers and described, from the
//! same type, in `/api/openapi.json`. Values are read as text and checked
//! by ioc itself, so that a bad one gets a 400 that names the parameter
//! and says what it takes.

use actix_web::{HttpRequest, web};
use ioc_aggregate::ranking::Scope;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::{self, Role};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::views::bad;

/// Reads need a viewer (or higher) token unless `auth.public_read` is on.
pub(crate) async fn authorize(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    if state.public_read {
        return Ok(());
    }
    let principal = auth::authenticate_reader(req, &state.tokens).await?;
    auth::require(&principal, Role::Viewer)
}

/// A query string that cannot be read (bad percent-encoding, a parameter
/// given twice) is a 400 in ioc's error body.
pub(crate) fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|e, _| {
        ApiError::BadRequest {
            code: ErrorCode::InvalidParameter,
            message: format!("the query string cannot be read: {e}"),
        }
        .into()
    })
}

/// The window of a read: a named window, or a range of days.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WindowParams {
    /// `today` (the default), `yesterday`, `7d`, `month`, `quarter`,
    /// `year`, or `campaign:<id>` (METRICS.md "Days, windows, cut-off").
    /// Ignored when `from` and `to` are given.
    #[param(example = "month")]
    pub window: Option<String>,
    /// First local day of a range, with `to` (from 1900-01-01).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// The day after the range's last (exclusive), with `from` (up to 2200-01-01).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
}

/// Whether a unit stands for its own dossiers or its whole subtree.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScopeParams {
    /// `self` (the unit's own dossiers) or `tree` (with its descendants);
    /// the default depends on the route.
    #[param(value_type = Option<Scope>)]
    pub scope: Option<String>,
}

impl ScopeParams {
    /// The scope asked for, `default` when absent.
    pub(crate) fn scope(&self, default: Scope) -> Result<Scope, ApiError> {
        self.scope.as_deref().map_or(Ok(default), |s| {
            Scope::parse(s).map_err(|e| bad("scope", e))
        })
    }
}

/// The whole number `name` given as `raw`, `default` when absent; from 1 to
/// `max`, or a 400 that says so (`what` names the number: "a number of days").
pub(crate) fn bounded<T>(
    raw: Option<&str>,
    name: &str,
    default: T,
    max: T,
    what: &str,
) -> Result<T, ApiError>
where
    T: std::str::FromStr + PartialOrd + From<u8> + std::fmt::Display,
{
    raw.map_or(Ok(default), |raw| {
        raw.parse::<T>()
            .ok()
            .filter(|n| *n >= T::from(1) && *n <= max)
            .ok_or_else(|| bad(name, format!("{raw:?} is not {what} from 1 to {max}")))
    })
}
