//! The wall screen (`/`) and the rankings page (`/rankings`), from
//! `dashboards/wall/`, built into the binary: plain HTML, CSS and JS with no
//! build step and no third-party code. They read the API like any client
//! (with `?token=` when reads need a token).

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};

use crate::error::{ApiError, ErrorBody};
use crate::openapi::{Asset, HtmlPage};

/// (name, content type, body) of every file the pages use.
const FILES: [(&str, &str, &str); 12] = [
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../../../../dashboards/wall/index.html"),
    ),
    (
        "rankings.html",
        "text/html; charset=utf-8",
        include_str!("../../../../dashboards/wall/rankings.html"),
    ),
    (
        "wall.css",
        "text/css; charset=utf-8",
        include_str!("../../../../dashboards/wall/wall.css"),
    ),
    (
        "rankings.css",
        "text/css; charset=utf-8",
        include_str!("../../../../dashboards/wall/rankings.css"),
    ),
    (
        "live.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../../dashboards/wall/live.js"),
    ),
    (
        "i18n.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../../dashboards/wall/i18n.js"),
    ),
    (
        "ui.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../../dashboards/wall/ui.js"),
    ),
    (
        "wall.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../../dashboards/wall/wall.js"),
    ),
    (
        "rankings.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../../dashboards/wall/rankings.js"),
    ),
    (
        "api-docs.html",
        "text/html; charset=utf-8",
        include_str!("../../../../dashboards/wall/api-docs.html"),
    ),
    (
        "api-docs.css",
        "text/css; charset=utf-8",
        include_str!("../../../../dashboards/wall/api-docs.css"),
    ),
    (
        "api-docs.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../../dashboards/wall/api-docs.js"),
    ),
];

fn file(name: &str) -> Result<HttpResponse, ApiError> {
    let (_, content_type, body) = FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| ApiError::NotFound(format!("no file {name:?}")))?;
    Ok(HttpResponse::Ok()
        .content_type(*content_type)
        // Served from the binary: revalidate so an upgrade shows at once.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .body(*body))
}

/// The pages run only their own scripts and styles, talk only to their
/// own origin (REST and `/ws`), and are never framed: a name that slipped
/// into markup could neither run code nor send the page's token elsewhere.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /`: the wall screen.
#[utoipa::path(
    operation_id = "wall_page",
    tag = "pages",
    responses((status = 200, description = "The wall screen", content((HtmlPage = "text/html"))))
)]
#[get("/")]
pub async fn wall() -> Result<HttpResponse, ApiError> {
    file("index.html")
}

/// `GET /rankings`: the leaders' rankings page.
#[utoipa::path(
    operation_id = "rankings_page",
    tag = "pages",
    responses((status = 200, description = "The rankings page", content((HtmlPage = "text/html"))))
)]
#[get("/rankings")]
pub async fn rankings() -> Result<HttpResponse, ApiError> {
    file("rankings.html")
}

/// `GET /api/docs`: a reference of the HTTP API, read from
/// `/api/openapi.json` in the browser.
#[utoipa::path(
    operation_id = "api_reference_page",
    tag = "pages",
    responses((status = 200, description = "The API reference", content((HtmlPage = "text/html"))))
)]
#[get("/api/docs")]
pub async fn api_docs() -> Result<HttpResponse, ApiError> {
    file("api-docs.html")
}

/// `GET /static/{name}`: the pages' scripts and styles.
#[utoipa::path(
    operation_id = "page_asset",
    tag = "pages",
    params(("name" = String, Path, description = "A file of the pages", example = "wall.js")),
    responses(
        (status = 200, description = "The file", content((Asset = "text/javascript"), (Asset = "text/css"), (HtmlPage = "text/html"))),
        (status = 404, description = "No such file", body = ErrorBody),
    )
)]
#[get("/static/{name}")]
pub async fn asset(name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    file(&name)
}
