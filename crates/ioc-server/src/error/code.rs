//! The machine-readable codes of the HTTP API's errors: the `error` field
//! of an error body. (The codes of WebSocket error frames are
//! `ioc_stream::protocol::ErrorCode`.) The strings are a wire contract,
//! documented in `docs/API.md`.

/// A stable error code clients switch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 401: no valid bearer token.
    Unauthorized,
    /// 403: the token may not do this.
    Forbidden,
    /// 404: no such unit, campaign, alert or other resource.
    NotFound,
    /// 405: a path of the API with a method it does not take.
    MethodNotAllowed,
    /// 409: the request conflicts with the resource's state.
    Conflict,
    /// 408: the body did not arrive in time.
    RequestTimeout,
    /// 413: the body or the batch is over its limit.
    PayloadTooLarge,
    /// 415: a content type the endpoint does not take.
    UnsupportedMediaType,
    /// 507: the database's disk is full.
    InsufficientStorage,
    /// 503: the database does not answer.
    Unavailable,
    /// 500: a bug or an unexpected failure.
    Internal,
    /// 400: an ingest body with no record.
    EmptyBody,
    /// 400: a body that is not well-formed JSON.
    MalformedJson,
    /// 400: well-formed JSON that is not a batch of the endpoint's shape.
    InvalidBatch,
    /// 400: a procedure catalog that cannot be read.
    InvalidCatalog,
    /// 400: a DVCQG envelope's `madonvi` that names no single unit.
    UnknownUnit,
    /// 400: a body that could not be read off the connection.
    UnreadableBody,
    /// 400: a query parameter (or a field of a small body) out of range.
    InvalidParameter,
    /// 400: `GET /ws` without a WebSocket upgrade.
    NotWebsocket,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [ErrorCode; 19] = [
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Conflict,
        ErrorCode::RequestTimeout,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::InsufficientStorage,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
        ErrorCode::EmptyBody,
        ErrorCode::MalformedJson,
        ErrorCode::InvalidBatch,
        ErrorCode::InvalidCatalog,
        ErrorCode::UnknownUnit,
        ErrorCode::UnreadableBody,
        ErrorCode::InvalidParameter,
        ErrorCode::NotWebsocket,
    ];

    /// The code as sent on the wire, in snake case.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Conflict => "conflict",
            ErrorCode::RequestTimeout => "request_timeout",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::InsufficientStorage => "insufficient_storage",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
            ErrorCode::EmptyBody => "empty_body",
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::InvalidBatch => "invalid_batch",
            ErrorCode::InvalidCatalog => "invalid_catalog",
            ErrorCode::UnknownUnit => "unknown_unit",
            ErrorCode::UnreadableBody => "unreadable_body",
            ErrorCode::InvalidParameter => "invalid_parameter",
            ErrorCode::NotWebsocket => "not_websocket",
        }
    }
}

/// In OpenAPI, a code is one of the strings of [`ErrorCode::ALL`].
impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .description(Some(
                "A stable error code clients switch on (docs/API.md, Errors).",
            ))
            .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
            .into()
    }
}

impl utoipa::ToSchema for ErrorCode {}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::ErrorCode;

    const API_DOC: &str = include_str!("../../../../docs/API.md");

    #[test]
    fn all_lists_every_variant_once() {
        let distinct: HashSet<ErrorCode> = ErrorCode::ALL.into_iter().collect();
        assert_eq!(
            distinct.len(),
            ErrorCode::ALL.len(),
            "a variant is listed twice"
        );
        for code in ErrorCode::ALL {
            // Exhaustive: a new variant does not compile until it is named
            // here, a reminder to list it in ALL as well.
            match code {
                ErrorCode::Unauthorized
                | ErrorCode::Forbidden
                | ErrorCode::NotFound
                | ErrorCode::MethodNotAllowed
                | ErrorCode::Conflict
                | ErrorCode::RequestTimeout
                | ErrorCode::PayloadTooLarge
                | ErrorCode::UnsupportedMediaType
                | ErrorCode::InsufficientStorage
                | ErrorCode::Unavailable
                | ErrorCode::Internal
                | ErrorCode::EmptyBody
                | ErrorCode::MalformedJson
                | ErrorCode::InvalidBatch
                | ErrorCode::InvalidCatalog
                | ErrorCode::UnknownUnit
                | ErrorCode::UnreadableBody
                | ErrorCode::InvalidParameter
                | ErrorCode::NotWebsocket => {}
            }
        }
    }

    #[test]
    fn codes_are_unique_snake_case() {
        let strings: HashSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            strings.len(),
            ErrorCode::ALL.len(),
            "two variants share a string"
        );
        for code in strings {
            let snake = !code.is_empty()
                && !code.starts_with('_')
                && !code.ends_with('_')
                && !code.contains("__")
                && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
            assert!(snake, "{code:?} is not snake_case");
        }
    }

    #[test]
    fn every_code_is_documented_in_the_api_doc() {
        for code in ErrorCode::ALL {
            let quoted = format!("`{}`", code.as_str());
            assert!(
                API_DOC.contains(&quoted),
                "{quoted} is not in docs/API.md; add it to the error table"
            );
        }
    }
}
