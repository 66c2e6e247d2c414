//! `GET /api/openapi.json`: the OpenAPI 3.1 document of this server, as
//! made when it started (`crate::openapi`); and the answer to a request
//! no route takes, which the document's paths tell apart: a path the API
//! has with a method it does not take is a 405 that names the methods it
//! does, any other path a 404.

use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, get, web};
use utoipa::openapi::OpenApi;

use crate::error::{ApiError, ErrorBody, ErrorCode};

/// The document, encoded once, and the methods of each of its paths.
pub struct ApiDocument {
    json: web::Bytes,
    paths: Vec<(Vec<Segment>, Vec<Method>)>,
}

/// One segment of a path template.
#[derive(Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Parameter,
}

impl ApiDocument {
    /// Encodes `document` and keeps its paths.
    pub fn new(document: &OpenApi) -> serde_json::Result<ApiDocument> {
        let paths = document
            .paths
            .paths
            .iter()
            .map(|(template, item)| {
                let segments = template
                    .split('/')
                    .map(|s| {
                        if s.starts_with('{') && s.ends_with('}') {
                            Segment::Parameter
                        } else {
                            Segment::Literal(s.to_owned())
                        }
                    })
                    .collect();
                let methods = [
                    (item.get.is_some(), Method::GET),
                    (item.post.is_some(), Method::POST),
                    (item.put.is_some(), Method::PUT),
                    (item.patch.is_some(), Method::PATCH),
                    (item.delete.is_some(), Method::DELETE),
                ]
                .into_iter()
                .filter_map(|(present, method)| present.then_some(method))
                .collect();
                (segments, methods)
            })
            .collect();
        Ok(ApiDocument {
            json: serde_json::to_vec(document)?.into(),
            paths,
        })
    }

    /// The methods the API takes on `path` (percent-decoded, as the router
    /// reads it), each once; empty when it has no such path.
    fn methods_of(&self, path: &str) -> Vec<Method> {
        let path = percent_decoded(path);
        let given: Vec<&str> = path.split('/').collect();
        let mut methods: Vec<Method> = Vec::new();
        let matching = self.paths.iter().filter(|(segments, _)| {
            segments.len() == given.len()
                && segments.iter().zip(&given).all(|(s, g)| match s {
                    Segment::Literal(l) => l == g,
                    Segment::Parameter => !g.is_empty(),
                })
        });
        for method in matching.flat_map(|(_, methods)| methods) {
            if !methods.contains(method) {
                methods.push(method.clone());
            }
        }
        methods
    }
}

/// `GET /api/openapi.json`: every operation of this API, its parameters,
/// bodies, answers, errors and security, in OpenAPI 3.1. Needs no token.
#[utoipa::path(
    tag = "pages",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = serde_json::Value))
)]
#[get("/api/openapi.json")]
pub async fn openapi_json(document: web::Data<ApiDocument>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(document.json.clone())
}

/// `path` with its `%XX` escapes decoded where they make valid UTF-8.
fn percent_decoded(path: &str) -> String {
    let bytes = path.as_bytes();
    let hex = |b: Option<&u8>| b.and_then(|&b| (b as char).to_digit(16));
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| path.to_owned())
}

/// What no route takes: for a path of the API, `OPTIONS` is a 204 and any
/// other method a 405, both with `Allow` (`HEAD` is served as `GET` before
/// routing); any other path is a 404.
pub async fn unrouted(req: HttpRequest, document: web::Data<ApiDocument>) -> HttpResponse {
    let methods = document.methods_of(req.path());
    if methods.is_empty() {
        return actix_web::ResponseError::error_response(&ApiError::NotFound(format!(
            "no route {}; GET /api/openapi.json lists every route",
            req.path()
        )));
    }
    let mut allow: Vec<&str> = methods.iter().map(Method::as_str).collect();
    if methods.contains(&Method::GET) {
        allow.push("HEAD");
    }
    allow.push("OPTIONS");
    let allow = allow.join(", ");
    if req.method() == Method::OPTIONS {
        return HttpResponse::NoContent()
            .insert_header((header::ALLOW, allow))
            .finish();
    }
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, allow.clone()))
        .json(ErrorBody {
            error: ErrorCode::MethodNotAllowed,
            message: format!("{} takes {allow}, not {}", req.path(), req.method()),
        })
}

#[cfg(test)]
mod tests {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem, PathsBuilder};
    use utoipa::openapi::{InfoBuilder, OpenApiBuilder};

    use super::*;

    #[test]
    fn paths_with_parameters_match_any_segment_but_an_empty_one() {
        let paths = PathsBuilder::new()
            .path(
                "/api/v1/units/{code}",
                PathItem::new(HttpMethod::Get, OperationBuilder::new()),
            )
            .path(
                "/api/v1/alerts/{id}/ack",
                PathItem::new(HttpMethod::Post, OperationBuilder::new()),
            )
            .path(
                "/api/v1/alerts/{id}",
                PathItem::new(HttpMethod::Get, OperationBuilder::new()),
            )
            .path(
                "/api/v1/alerts/rollup",
                PathItem::new(HttpMethod::Get, OperationBuilder::new()),
            )
            .build();
        let document = OpenApiBuilder::new()
            .info(InfoBuilder::new().title("t").version("1").build())
            .paths(paths)
            .build();
        let document = ApiDocument::new(&document).expect("encodes");
        assert_eq!(document.methods_of("/api/v1/units/25432"), [Method::GET]);
        assert_eq!(document.methods_of("/api/v1/%75nits/25432"), [Method::GET]);
        assert_eq!(document.methods_of("/api/v1/alerts/7/ack"), [Method::POST]);
        assert_eq!(document.methods_of("/api/v1/alerts/rollup"), [Method::GET]);
        assert!(document.methods_of("/api/v1/units/").is_empty());
        assert!(document.methods_of("/api/v1/units/1/2").is_empty());
        assert!(document.methods_of("/nowhere").is_empty());
    }
}
