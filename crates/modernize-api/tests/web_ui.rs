//! The web UI is served by the same router: its pages at `/` and the app's own routes, while
//! API paths keep their problem+json 404.

mod common;

use axum::http::{StatusCode, header};
use common::{Auth, app};
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn the_ui_answers_its_routes_and_leaves_api_paths_alone(pool: PgPool) {
    let app = app(&pool).await;
    for path in ["/", "/sign-in", "/a/acme-retail/e/cloud-2027/assets?type=server"] {
        let page = app.get(path, &Auth::None).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_eq!(page.content_type(), "text/html", "{path}");
        assert!(page.headers.contains_key(header::CONTENT_SECURITY_POLICY), "{path}");
        assert!(page.headers.contains_key("x-request-id"), "{path}");
    }
    for path in ["/api/v1/no-such-thing", "/v3/no-such-thing", "/api/"] {
        app.get(path, &Auth::None).await.assert_problem(StatusCode::NOT_FOUND);
    }
}
