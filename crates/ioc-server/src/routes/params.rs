//! Query parameters and authorization shared by the read routes.

use std::collections::HashMap;

use actix_web::{HttpRequest, web};
use ioc_aggregate::ranking::Scope;

use crate::auth::{self, Role};
use crate::error::ApiError;
use crate::state::AppState;
use crate::views::bad;

/// A request's query parameters.
pub(crate) type Query = web::Query<HashMap<String, String>>;

/// Reads need a viewer (or higher) token unless `auth.public_read` is on.
pub(crate) async fn authorize(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    if state.public_read {
        return Ok(());
    }
    let principal = auth::authenticate_reader(req, &state.tokens).await?;
    auth::require(&principal, Role::Viewer)
}

/// The whole number `name` of the query, `default` when absent; from 1 to
/// `max`, or a 400 that says so (`what` names the number: "a number of days").
pub(crate) fn bounded<T>(
    query: &Query,
    name: &str,
    default: T,
    max: T,
    what: &str,
) -> Result<T, ApiError>
where
    T: std::str::FromStr + PartialOrd + From<u8> + std::fmt::Display,
{
    query.get(name).map_or(Ok(default), |raw| {
        raw.parse::<T>()
            .ok()
            .filter(|n| *n >= T::from(1) && *n <= max)
            .ok_or_else(|| bad(name, format!("{raw:?} is not {what} from 1 to {max}")))
    })
}

/// The `scope=` of the query (`self` or `tree`), `default` when absent.
pub(crate) fn scope(query: &Query, default: Scope) -> Result<Scope, ApiError> {
    query.get("scope").map_or(Ok(default), |s| {
        Scope::parse(s).map_err(|e| bad("scope", e))
    })
}
