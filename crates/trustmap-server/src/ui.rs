//! The web UI: a few static files compiled into the binary (`include_str!`), served at `/`
//! (the page) and `/ui/NAME` (its script and styles). No build step, no framework, nothing
//! fetched from elsewhere: the page's script (`ui/app.js`) signs in with an API token the
//! user pastes (kept in `sessionStorage`, sent as `Authorization: Bearer`; no cookies, so no
//! CSRF surface) and draws every page from the API's JSON with DOM calls and `textContent`
//! only. The helpers and styles the HTML report also uses (`dom.js`, `base.css`) come from
//! `trustmap-export`, so both draw text, tallies and charts the same way.
//!
//! Every response of the server (API or UI) carries [`security_headers`]: a CSP that runs
//! only this origin's script files (no inline script, no `eval`), `frame-ancestors 'none'`,
//! `nosniff` and no referrer.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// The page's policy: scripts, styles and fetches from this origin only; no inline script
/// or style attribute, no `eval`, no framing, no form posts, no `<base>`.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

/// The files under `/ui/`: name, media type, content. A hand-written table (five files)
/// rather than an embedding crate: nothing here needs directory walking or compression.
pub const FILES: &[(&str, &str, &str)] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../ui/app.js"),
    ),
    (
        "ui.css",
        "text/css; charset=utf-8",
        include_str!("../ui/ui.css"),
    ),
    (
        "dom.js",
        "text/javascript; charset=utf-8",
        trustmap_export::html::DOM_JS,
    ),
    (
        "base.css",
        "text/css; charset=utf-8",
        trustmap_export::html::BASE_CSS,
    ),
];

/// The page every UI route answers.
pub const INDEX: &str = include_str!("../ui/index.html");

/// `/` and `/ui/NAME`, no token needed (the files hold no data; the data comes from the API).
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route("/ui/", get(index))
        .route("/ui/{name}", get(file))
}

async fn index() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        INDEX,
    )
        .into_response()
}

async fn file(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, media, body)) => (
            [
                (header::CONTENT_TYPE, *media),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            *body,
        )
            .into_response(),
        None => crate::ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such UI file")
            .into_response(),
    }
}

/// Adds the security headers to every response (UI and API alike).
pub async fn security_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ui_has_no_inline_script_no_eval_and_no_markup_from_strings() {
        assert!(INDEX.contains(r#"<script src="/ui/dom.js"></script>"#));
        assert!(
            !INDEX.contains("<script>"),
            "an inline script in index.html"
        );
        assert!(!INDEX.contains("style=\""), "an inline style in index.html");
        for (name, _, body) in FILES {
            for bad in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
                "new Function",
                "setAttribute(\"style\"",
                "http://",
                "https://",
            ] {
                let hits: Vec<&str> = body
                    .lines()
                    .filter(|l| l.contains(bad) && !l.contains("http://www.w3.org/2000/svg"))
                    .collect();
                assert!(hits.is_empty(), "{name} uses {bad}: {hits:?}");
            }
        }
        // Every file the page names is served.
        for name in ["dom.js", "app.js", "base.css", "ui.css"] {
            assert!(INDEX.contains(&format!("/ui/{name}")), "{name}");
            assert!(FILES.iter().any(|(n, _, _)| *n == name), "{name}");
        }
        assert!(CSP.contains("frame-ancestors 'none'") && !CSP.contains("unsafe"));
    }
}
