//! The web UI (`web/`), built by Vite into `web/dist` and embedded in the binary.
//!
//! [`respond`] answers a `GET`/`HEAD` for a UI path: the file when one matches, else `index.html`
//! (the UI routes in the browser, so `/assets-inventory?type=server` must load the app). Paths
//! that belong to the API (`/api/…`, `/v3/…`, `/health`, `/ready`) are never answered here, so
//! the API keeps its own problem+json 404 for them.
//!
//! Caching: files under `/assets/` carry a content hash in their name (Vite) and are immutable;
//! `index.html` is revalidated on every load (ETag from the embedded file's SHA-256).

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use rust_embed::{EmbeddedFile, RustEmbed};

#[derive(RustEmbed)]
#[folder = "$MODERNIZE_WEB_DIST"]
struct Assets;

/// First path segments owned by the API; the UI never answers them.
const API_SEGMENTS: [&str; 4] = ["api", "v3", "health", "ready"];

/// Content-Security-Policy of the app: everything from this origin, nothing from the internet.
/// Inline styles are allowed because the component library sets CSS variables in `style`.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; \
                   object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

/// Whether `path` is one the UI serves (anything that is not an API path).
pub fn is_ui_path(path: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or_default();
    !API_SEGMENTS.contains(&first)
}

/// Whether the binary carries the built UI (false: a Rust-only build, which serves a page
/// saying how to build it).
pub const BUILT: bool = cfg!(web_built);

/// The UI's answer to a request, or `None` when the request is not for the UI (an API path or a
/// method other than `GET`/`HEAD`): the caller then answers it (e.g. with its 404).
pub fn respond(method: &Method, uri: &Uri, headers: &HeaderMap) -> Option<Response> {
    if (method != Method::GET && method != Method::HEAD) || !is_ui_path(uri.path()) {
        return None;
    }
    let path = uri.path().trim_start_matches('/');
    let (file, name) = match Assets::get(path).filter(|_| !path.is_empty()) {
        Some(file) => (file, path),
        // A missing hashed asset is a real 404 (a stale page asking for an old build's file),
        // not the app: answering HTML for a script would fail obscurely in the browser.
        None if path.starts_with("assets/") => return Some(not_found()),
        None => (Assets::get("index.html")?, "index.html"),
    };
    Some(file_response(method, headers, &file, name))
}

fn file_response(method: &Method, headers: &HeaderMap, file: &EmbeddedFile, name: &str) -> Response {
    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    let cache = if name.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
    let mut builder = Response::builder()
        .header(header::CONTENT_TYPE, file.metadata.mimetype())
        .header(header::CACHE_CONTROL, cache)
        .header(header::ETAG, &etag)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    if name == "index.html" {
        builder = builder.header(header::CONTENT_SECURITY_POLICY, CSP).header(header::REFERRER_POLICY, "same-origin");
    }
    let fresh = headers.get(header::IF_NONE_MATCH).is_some_and(|tag| tag.as_bytes() == etag.as_bytes());
    let (status, body) = if fresh {
        (StatusCode::NOT_MODIFIED, Body::empty())
    } else if method == Method::HEAD {
        (StatusCode::OK, Body::empty())
    } else {
        (StatusCode::OK, Body::from(file.data.clone().into_owned()))
    };
    builder.status(status).body(body).unwrap_or_else(|_| internal_error())
}

fn not_found() -> Response {
    let mut response = Response::new(Body::from("not found"));
    *response.status_mut() = StatusCode::NOT_FOUND;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

fn internal_error() -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}
