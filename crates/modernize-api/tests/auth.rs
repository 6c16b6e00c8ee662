//! Signing in and out, API tokens, the caller, and the refusal of repeated failed sign-ins.

mod common;

use axum::http::{Method, StatusCode, header};
use common::{Auth, app, app_with, tenant};
use modernize::fixtures::{ACME, DEMO_PASSWORD, GLOBEX};
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn signing_in_sets_a_strict_http_only_cookie_that_signing_out_ends(pool: PgPool) {
    let app = app(&pool).await;
    let ids = tenant(&pool, ACME).await;
    let answer = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            &Auth::None,
            Some(json!({"email": "Analyst@Acme-Retail.example", "password": DEMO_PASSWORD})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(answer.body["user"]["id"], ids.analyst_user_id.to_string());
    assert!(answer.body["user"].get("password_hash").is_none());
    let cookie = answer.headers.get(header::SET_COOKIE).and_then(|v| v.to_str().ok()).expect("cookie");
    for attribute in ["modernize_session=", "HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    // Only a digest of the cookie's value is stored.
    let secret = cookie.split(';').next().and_then(|c| c.split_once('=')).map(|(_, v)| v.to_owned()).expect("value");
    let stored: String =
        sqlx::query_scalar("SELECT secret_sha256 FROM modernize.sessions").fetch_one(&pool).await.expect("row");
    assert_ne!(stored, secret);

    let session = Auth::Cookie(format!("modernize_session={secret}"));
    let me = app.get("/api/v1/me", &session).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
    assert_eq!(me.body["authenticated_by"], "session");
    assert_eq!(
        me.body["memberships"],
        json!([{"client_account_id": ids.client_account_id, "client_account_slug": ACME.slug, "role": "analyst", "is_active": true}])
    );

    let out = app.call(Method::POST, "/api/v1/auth/logout", &session, None).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let cleared = out.headers.get(header::SET_COOKIE).and_then(|v| v.to_str().ok()).expect("cookie cleared");
    assert!(cleared.starts_with("modernize_session=;") || cleared.contains("Max-Age=0"), "{cleared}");
    app.get("/api/v1/me", &session).await.assert_problem(StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrations = false)]
async fn wrong_credentials_are_refused_alike(pool: PgPool) {
    let app = app(&pool).await;
    tenant(&pool, ACME).await;
    let attempts = [
        json!({"email": "analyst@acme-retail.example", "password": "not the password at all"}),
        json!({"email": "nobody@acme-retail.example", "password": DEMO_PASSWORD}),
        json!({"email": "analyst@acme-retail.example", "password": "short"}),
    ];
    let mut details = Vec::new();
    for attempt in attempts {
        let answer = app.call(Method::POST, "/api/v1/auth/login", &Auth::None, Some(attempt)).await;
        answer.assert_problem(StatusCode::UNAUTHORIZED);
        assert!(!answer.headers.contains_key(header::SET_COOKIE));
        details.push(answer.body["detail"].clone());
    }
    assert!(details.windows(2).all(|w| w[0] == w[1]), "{details:?}");
    let sessions: i64 =
        sqlx::query_scalar("SELECT count(*) FROM modernize.sessions").fetch_one(&pool).await.expect("count");
    assert_eq!(sessions, 0);
}

#[sqlx::test(migrations = false)]
async fn repeated_failed_sign_ins_are_refused_with_429(pool: PgPool) {
    // Per hour, so that the quota does not refill while argon2 runs in this debug build.
    let quota = governor::Quota::per_hour(std::num::NonZeroU32::MIN.saturating_add(4));
    let app = app_with(&pool, |config| config.login_quota = quota).await;
    tenant(&pool, ACME).await;
    let wrong = json!({"email": "admin@acme-retail.example", "password": "a wrong password guess"});
    for _ in 0..5 {
        let answer = app.call(Method::POST, "/api/v1/auth/login", &Auth::None, Some(wrong.clone())).await;
        answer.assert_problem(StatusCode::UNAUTHORIZED);
    }
    let answer = app.call(Method::POST, "/api/v1/auth/login", &Auth::None, Some(wrong)).await;
    answer.assert_problem(StatusCode::TOO_MANY_REQUESTS);
    assert!(answer.headers.contains_key(header::RETRY_AFTER));
    // Even the right password waits now: the limit is per address, not per guess.
    let right = json!({"email": "ADMIN@acme-retail.example", "password": DEMO_PASSWORD});
    app.call(Method::POST, "/api/v1/auth/login", &Auth::None, Some(right))
        .await
        .assert_problem(StatusCode::TOO_MANY_REQUESTS);
    // Another address is not affected.
    app.login("viewer@acme-retail.example", DEMO_PASSWORD).await;
}

#[sqlx::test(migrations = false)]
async fn api_tokens_authenticate_until_revoked(pool: PgPool) {
    let app = app(&pool).await;
    let acme = tenant(&pool, ACME).await;
    let globex = tenant(&pool, GLOBEX).await;
    let token = app.token(globex.viewer_user_id).await;
    let me = app.get("/api/v1/me", &token).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
    assert_eq!(me.body["authenticated_by"], "api_token");
    assert_eq!(me.body["user"]["email"], "viewer@globex-manufacturing.example");
    assert_eq!(me.body["memberships"][0]["role"], "viewer");
    assert_eq!(me.body["memberships"].as_array().map(Vec::len), Some(1), "not a member of {}", acme.client_account_id);

    let mut conn = pool.acquire().await.expect("connection");
    let listed = modernize::repo::users::list_api_tokens(&mut conn, globex.viewer_user_id).await.expect("tokens");
    modernize::repo::users::revoke_api_token(&mut conn, globex.viewer_user_id, listed[0].id).await.expect("revoke");
    app.get("/api/v1/me", &token).await.assert_problem(StatusCode::UNAUTHORIZED);
    for bad in ["mdz_nope", "mdz_0000000000000000_00", ""] {
        app.get("/api/v1/me", &Auth::Bearer(bad.into())).await.assert_problem(StatusCode::UNAUTHORIZED);
    }
    let answer = app.get("/api/v1/me", &Auth::None).await;
    answer.assert_problem(StatusCode::UNAUTHORIZED);
    assert_eq!(answer.headers.get(header::WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()), Some("Bearer"));
}

#[sqlx::test(migrations = false)]
async fn an_expired_session_is_refused(pool: PgPool) {
    let app = app(&pool).await;
    tenant(&pool, ACME).await;
    let session = app.login("admin@acme-retail.example", DEMO_PASSWORD).await;
    assert_eq!(app.get("/api/v1/me", &session).await.status, StatusCode::OK);
    sqlx::query(
        "UPDATE modernize.sessions SET created_at = now() - interval '2 days', expires_at = now() - interval '1 day'",
    )
    .execute(&pool)
    .await
    .expect("expire");
    app.get("/api/v1/me", &session).await.assert_problem(StatusCode::UNAUTHORIZED);
}

/// A request is refused when any credential it carries is wrong, even beside a right one, and
/// when its token and session belong to two different users.
#[sqlx::test(migrations = false)]
async fn every_credential_presented_must_hold(pool: PgPool) {
    let app = app(&pool).await;
    let acme = tenant(&pool, ACME).await;
    let Auth::Bearer(token) = app.token(acme.analyst_user_id).await else { panic!("a bearer token") };
    let Auth::Cookie(own_session) = app.login("analyst@acme-retail.example", DEMO_PASSWORD).await else {
        panic!("a cookie")
    };
    let Auth::Cookie(other_session) = app.login("viewer@acme-retail.example", DEMO_PASSWORD).await else {
        panic!("a cookie")
    };
    let me = |cookie: &str| {
        axum::http::Request::get("/api/v1/me")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::COOKIE, cookie)
            .body(axum::body::Body::empty())
            .expect("request")
    };
    let both = app.send(me(&own_session)).await;
    assert_eq!(both.status, StatusCode::OK, "{:?}", both.body);
    app.send(me("modernize_session=forged")).await.assert_problem(StatusCode::UNAUTHORIZED);
    let unreadable = axum::http::Request::get("/api/v1/me")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::COOKIE, axum::http::HeaderValue::from_bytes(b"modernize_session=\xe9t\xe9").expect("latin-1"))
        .body(axum::body::Body::empty())
        .expect("request");
    app.send(unreadable).await.assert_problem(StatusCode::UNAUTHORIZED);
    app.send(me(&other_session)).await.assert_problem(StatusCode::UNAUTHORIZED);
}
