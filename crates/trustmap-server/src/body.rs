//! Request bodies read under a bound (413 past it), and gzip inflated under another.

use crate::error::ApiError;
use axum::body::Body;
use http_body_util::BodyExt;
use std::io::Read;

/// The whole body, at most `limit` bytes: a larger `Content-Length` is refused before any
/// byte is read, a chunked body as soon as it passes the bound.
pub async fn read(
    headers: &axum::http::HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    if let Some(n) = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && n > limit as u64
    {
        return Err(ApiError::too_large(limit));
    }
    let mut body = body;
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ApiError::bad_request(format!("reading the body: {e}")))?;
        if let Some(data) = frame.data_ref() {
            if out.len() + data.len() > limit {
                return Err(ApiError::too_large(limit));
            }
            out.extend_from_slice(data);
        }
    }
    Ok(out)
}

/// The body as sent, inflated when `Content-Encoding: gzip`, at most `limit` bytes
/// inflated (a small gzip bomb is refused as soon as it passes the bound).
pub fn decode(
    headers: &axum::http::HeaderMap,
    raw: Vec<u8>,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    let encoding = headers
        .get(axum::http::header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("identity") => Ok(raw),
        Some("gzip") => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&raw[..])
                .take(limit as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| ApiError::bad_request(format!("gzip body: {e}")))?;
            if out.len() > limit {
                return Err(ApiError::new(
                    axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("the body inflates to more than {limit} bytes"),
                ));
            }
            Ok(out)
        }
        Some(other) => Err(ApiError::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_encoding",
            format!("Content-Encoding {other:?}: send gzip or no encoding"),
        )),
    }
}

/// JSON of a type, or 400 saying where it is malformed.
pub fn json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("JSON body: {e}")))
}
