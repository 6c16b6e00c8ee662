//! The embedded UI answers UI paths (files, or index.html for the app's own routes) and leaves
//! API paths and writes to the API.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use http_body_util::BodyExt;

fn get(path: &str) -> Option<axum::response::Response> {
    let uri: Uri = path.parse().expect("test URI");
    modernize_web::respond(&Method::GET, &uri, &HeaderMap::new())
}

async fn body(response: axum::response::Response) -> String {
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8(bytes.to_vec()).expect("utf-8")
}

#[tokio::test]
async fn app_routes_get_index_html_with_a_strict_policy() {
    for path in ["/", "/sign-in", "/a/acme/e/wave-1/assets?type=server&sort=-name"] {
        let response = get(path).expect("a UI path");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        assert_eq!(headers[header::CONTENT_TYPE], "text/html", "{path}");
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache", "{path}");
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().expect("ascii");
        assert!(csp.contains("default-src 'self'"), "{csp}");
        assert!(body(response).await.contains("<html"), "{path}");
    }
}

#[test]
fn api_paths_and_writes_are_left_to_the_api() {
    for path in ["/api/v1/me", "/api/v1/nope", "/v3/imports", "/health", "/ready"] {
        assert!(get(path).is_none(), "{path}");
    }
    let uri: Uri = "/".parse().expect("test URI");
    assert!(modernize_web::respond(&Method::POST, &uri, &HeaderMap::new()).is_none());
    // A UI route merely starting like an API word is still the UI's.
    assert!(get("/healthy-assets").is_some());
}

#[test]
fn a_missing_hashed_asset_is_404_not_the_app() {
    let response = get("/assets/index-00000000.js").expect("a UI path");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_known_etag_answers_304() {
    let first = get("/").expect("a UI path");
    let etag = first.headers()[header::ETAG].clone();
    let mut headers = HeaderMap::new();
    headers.insert(header::IF_NONE_MATCH, HeaderValue::from_bytes(etag.as_bytes()).expect("etag"));
    let uri: Uri = "/".parse().expect("test URI");
    let again = modernize_web::respond(&Method::GET, &uri, &headers).expect("a UI path");
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(body(again).await.is_empty());
}

/// With the UI built (web/dist), its hashed scripts are served as immutable JavaScript.
#[tokio::test]
async fn built_assets_are_served_immutable() {
    if !modernize_web::BUILT {
        return;
    }
    let index = body(get("/").expect("index")).await;
    let script =
        index.split("src=\"").nth(1).and_then(|rest| rest.split('"').next()).expect("index.html loads a script");
    let response = get(script).expect("a UI path");
    assert_eq!(response.status(), StatusCode::OK, "{script}");
    assert_eq!(response.headers()[header::CONTENT_TYPE], "text/javascript");
    assert_eq!(response.headers()[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
}
