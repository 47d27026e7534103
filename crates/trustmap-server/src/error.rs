//! The API's errors: JSON `{"error": {"code": "...", "message": "..."}}` with a stable code
//! per status. The store's and the engine's typed errors say which status they are.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An error answered to a client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn too_large(limit: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than {limit} bytes"),
        )
    }

    pub fn rate_limited() -> ApiError {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests for this token; retry later",
        )
    }

    /// A failure the client cannot act on: the details go to the server's log, not to the
    /// client.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        eprintln!("trustmap serve: internal error: {detail}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error (see the server's log)",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        let mut r = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            r.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
        }
        r
    }
}

impl From<trustmap_store::Error> for ApiError {
    fn from(e: trustmap_store::Error) -> ApiError {
        use trustmap_store::ErrorKind;
        match e.kind() {
            ErrorKind::NotFound => ApiError::not_found(e.to_string()),
            ErrorKind::Conflict => ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string()),
            ErrorKind::InvalidInput => ApiError::bad_request(e.to_string()),
            ErrorKind::Unavailable => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                e.to_string(),
            ),
            _ => ApiError::internal(error_chain(&e)),
        }
    }
}

impl From<trustmap_engine::Error> for ApiError {
    fn from(e: trustmap_engine::Error) -> ApiError {
        use trustmap_engine::Error as E;
        match e {
            E::Store { source, .. } => source.into(),
            E::Request(m) | E::UnknownRule(m) | E::NotApplicable(m) => ApiError::bad_request(m),
            e @ E::BadDate(_) => ApiError::bad_request(e.to_string()),
            e => ApiError::internal(error_chain(&e)),
        }
    }
}

/// An error and its sources, for the log.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
