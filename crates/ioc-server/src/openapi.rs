//! The OpenAPI 3.1 document of the HTTP API (`GET /api/openapi.json`).
//! Its operations come from the `#[utoipa::path]` annotation of every
//! handler, collected as the handlers are mounted (`startup.rs`), and its
//! schemas from the types the handlers read and answer; what the document
//! cannot know at build time (whether reads need a token, whether
//! `/metrics` is public) it takes from the running configuration.

use std::collections::BTreeMap;

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, OpenApi as Document, Ref, RefOr, Response, ResponseBuilder, SecurityRequirement,
};
use utoipa::{IntoResponses, Modify, OpenApi, PartialSchema, ToSchema};

use crate::error::{DvcqgErrorBody, ErrorBody};

/// The security scheme of a bearer token in `Authorization`.
pub const BEARER: &str = "bearer";
/// The security scheme of a reading token in `?token=` (for browsers,
/// which cannot set headers on WebSockets or links).
pub const TOKEN_QUERY: &str = "token_query";

/// What the document says before the handlers add their operations.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "ioc",
        description = "The HTTP API of ioc, the backend of a provincial Intelligent Operations Center: \
            dossiers in (native JSON or NDJSON, and the national portal's DVCQG sync format), \
            live numbers out (overview, units, rankings, campaigns, alerts, exports), \
            Prometheus metrics and the wall's pages. docs/API.md says what every number means; \
            the live updates of `/ws` are described there too.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "read", description = "The numbers: overview, units, trends, rankings, campaigns (JSON, CSV, Excel)."),
        (name = "alerts", description = "Alerts, their history and acknowledgements."),
        (name = "ingest", description = "Dossiers in ioc's native schema."),
        (name = "dvcqg", description = "Endpoints that stand in for the national portal (DVCQG), answered in its style."),
        (name = "catalog", description = "The procedure catalog."),
        (name = "stream", description = "Live updates over a WebSocket (protocol in docs/API.md)."),
        (name = "operations", description = "Probes and Prometheus metrics."),
        (name = "pages", description = "The wall screen, the rankings page and this reference."),
    ),
    components(schemas(ErrorBody, DvcqgErrorBody)),
    modifiers(&SecuritySchemes),
)]
pub struct ApiDoc;

/// Declares the two ways of sending a token.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A token made by `ioc token create` (roles: viewer, operator, ingest, admin).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            TOKEN_QUERY,
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "token",
                "A reading token in the query, for pages and WebSockets.",
            ))),
        );
    }
}

/// What the running configuration changes in the document.
#[derive(Debug, Clone, Copy)]
pub struct Access {
    /// `auth.public_read`: reads need no token.
    pub public_read: bool,
    /// `metrics.public`: `/metrics` needs no token.
    pub metrics_public: bool,
}

/// The whole document: `paths` as collected from the mounted handlers,
/// with reads (and `/metrics`) marked as open when the configuration
/// opens them.
pub fn document(mut paths: Document, access: Access) -> Document {
    let reader = SecurityRequirement::new(TOKEN_QUERY, Vec::<String>::new());
    for (path, item) in paths.paths.paths.iter_mut() {
        for operation in operations(item) {
            if let Some(summary) = operation.summary.as_mut() {
                *summary = without_route(summary);
            }
            let Some(security) = operation.security.as_mut() else {
                continue;
            };
            let open = if path == "/metrics" {
                access.metrics_public
            } else {
                access.public_read && security.contains(&reader)
            };
            if open {
                security.push(SecurityRequirement::default());
            }
        }
    }
    paths
}

/// A handler's first doc paragraph on one line, without the route it
/// starts with ("`GET /api/v1/meta`: the levels…" → "The levels…").
fn without_route(summary: &str) -> String {
    let summary = summary.split_whitespace().collect::<Vec<_>>().join(" ");
    let rest = summary
        .strip_prefix('`')
        .and_then(|s| s.split_once("`: ").map(|(_, rest)| rest))
        .unwrap_or(&summary);
    let mut chars = rest.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

fn operations(
    item: &mut utoipa::openapi::path::PathItem,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// A string body of `media_type` (any, when empty).
fn text_schema(media_type: &str, description: &str) -> RefOr<Schema> {
    let schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description));
    if media_type.is_empty() {
        schema.into()
    } else {
        schema.content_media_type(media_type).into()
    }
}

macro_rules! text_body {
    ($(#[$doc:meta])* $name:ident, $media:expr, $description:literal) => {
        $(#[$doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                text_schema($media, $description)
            }
        }

        impl ToSchema for $name {}
    };
}

text_body!(
    /// A table as CSV.
    CsvTable,
    "text/csv",
    "The table as CSV, UTF-8 with a byte-order mark; Vietnamese column titles."
);
text_body!(
    /// A table as an Excel workbook.
    Workbook,
    crate::routes::export::XLSX,
    "The table as an Excel workbook (one sheet, titles in bold)."
);
text_body!(
    /// The procedure catalog as CSV.
    CatalogCsv,
    "text/csv",
    "The procedure catalog in the format of config/procedures/*.csv (docs/OPERATIONS.md)."
);
text_body!(
    /// NDJSON: one native record per line.
    NdjsonRecords,
    "application/x-ndjson",
    "One NativeRecord per line; blank lines are skipped and counted in `index`."
);
text_body!(
    /// The Prometheus text format.
    PrometheusText,
    "text/plain",
    "Every metric of ioc in the Prometheus text exposition format 0.0.4."
);
text_body!(
    /// An HTML page.
    HtmlPage,
    "text/html",
    "An HTML page."
);
text_body!(
    /// A file of the pages.
    Asset,
    "",
    "A script or stylesheet of the pages."
);

/// An error answer: `description`, the error body, and the headers that
/// come with the status.
fn error(status: u16, description: &str, body: &str) -> (String, RefOr<Response>) {
    let mut response = ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(body)))
            .build(),
    );
    let header = |description: &str| {
        HeaderBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .description(Some(description))
            .build()
    };
    match status {
        401 => response = response.header("WWW-Authenticate", header("`Bearer`")),
        503 => {
            response = response.header(
                "Retry-After",
                header("Seconds to wait; the pool waits for the database"),
            )
        }
        _ => {}
    }
    (status.to_string(), response.build().into())
}

fn errors(statuses: &[u16], body: &str) -> BTreeMap<String, RefOr<Response>> {
    statuses
        .iter()
        .map(|&status| {
            let description = match status {
                400 => "A parameter or the body is invalid; `message` says which and why",
                401 => "No valid token",
                403 => "The token may not do this",
                404 => "No such unit, campaign or alert",
                408 => "The body did not arrive within `server.body_read_timeout_secs`",
                409 => "The alert was already acknowledged",
                413 => "The body or the batch is over its limit",
                415 => "A content type the endpoint does not take",
                500 => "A bug or an unexpected failure; details are in the server's log",
                503 => "The database does not answer; retry after `Retry-After`",
                507 => "The database's disk is full; nothing of this request was stored",
                _ => "An error",
            };
            error(status, description, body)
        })
        .collect()
}

macro_rules! error_set {
    ($(#[$doc:meta])* $name:ident, $body:ident, [$($status:literal),*]) => {
        $(#[$doc])*
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                errors(&[$($status),*], $body::name().as_ref())
            }
        }
    };
}

error_set!(
    /// The errors of a route that reads nothing from the request but its token.
    AuthErrors,
    ErrorBody,
    [401, 403, 500, 503]
);
error_set!(
    /// The errors of a read of one resource named in the path only.
    LookupErrors,
    ErrorBody,
    [401, 403, 404, 500, 503]
);
error_set!(
    /// The errors of a read.
    ReadErrors,
    ErrorBody,
    [400, 401, 403, 500, 503]
);
error_set!(
    /// The errors of a read of one resource.
    ResourceErrors,
    ErrorBody,
    [400, 401, 403, 404, 500, 503]
);
error_set!(
    /// The errors of an acknowledgement.
    AckErrors,
    ErrorBody,
    [400, 401, 403, 404, 408, 409, 413, 500, 503, 507]
);
error_set!(
    /// The errors of a write of a body.
    WriteErrors,
    ErrorBody,
    [400, 401, 403, 408, 413, 415, 500, 503, 507]
);
error_set!(
    /// The errors of the DVCQG endpoints, in the portal's style.
    DvcqgErrors,
    DvcqgErrorBody,
    [400, 401, 403, 408, 413, 500, 503, 507]
);

#[cfg(test)]
mod tests {
    use super::without_route;

    #[test]
    fn summaries_lose_the_route_they_start_with() {
        assert_eq!(
            without_route("`GET /api/v1/meta`: the levels of\nthe tree"),
            "The levels of the tree"
        );
        assert_eq!(without_route("Every metric of ioc"), "Every metric of ioc");
        assert_eq!(without_route("`odd"), "`odd");
    }
}
