//! Who is calling: a web session (cookie) or an API token (`Authorization: Bearer mdz_…`).
//!
//! Sessions: signing in with e-mail and password sets `modernize_session`, an opaque random
//! value in an `HttpOnly; Secure; SameSite=Strict` cookie; the server keeps only its SHA-256
//! (`modernize.sessions`, migration 0006), so signing out ends it at once. SameSite=Strict keeps
//! the browser from sending it on any request another site starts, which is the CSRF defence; no
//! token is readable by page scripts. Why this and not a short-lived bearer token plus refresh:
//! see docs/api.md.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use chrono::{DateTime, Utc};
use modernize::error::ErrorKind;
use modernize::repo::users::{Password, SessionSecret, TokenSecret, parse_email};
use modernize::service::views::{MembershipView, UserView};
use modernize::service::{Actor, AuthenticatedUser, ServiceError, auth};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// The cookie holding a web session's secret.
pub const SESSION_COOKIE: &str = "modernize_session";

/// The authenticated caller of a request: the only way a handler gets an [`Actor`].
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub user: AuthenticatedUser,
    /// The web session the request came with (None for an API token).
    pub session_id: Option<Uuid>,
}

impl Caller {
    /// Who calls the services: this user, with the roles of their memberships.
    pub fn actor(&self) -> Actor<'static> {
        Actor::User(self.user)
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(*caller);
        }
        let caller = authenticate(&parts.headers, state).await?;
        tracing::Span::current().record("user_id", tracing::field::display(caller.user.user_id()));
        parts.extensions.insert(caller);
        Ok(caller)
    }
}

/// A refused proof of identity is 401, whatever the reason; other failures keep their kind.
fn refused(error: ServiceError) -> ApiError {
    match error.kind() {
        ErrorKind::NotFound => ApiError::Unauthenticated,
        _ => error.into(),
    }
}

/// The session cookie's value, if the request has one. A `Cookie` header naming the session that
/// cannot be read (bytes that are not visible ASCII, a malformed pair) is a wrong credential, not
/// an absent one.
fn session_cookie(headers: &HeaderMap) -> Result<Option<SessionSecret>, ApiError> {
    if let Some(cookie) = CookieJar::from_headers(headers).get(SESSION_COOKIE) {
        return Ok(Some(SessionSecret::new(cookie.value().to_owned())));
    }
    let name = SESSION_COOKIE.as_bytes();
    let named = headers.get_all(header::COOKIE).iter().any(|v| v.as_bytes().windows(name.len()).any(|w| w == name));
    if named { Err(ApiError::Unauthenticated) } else { Ok(None) }
}

/// Every credential the request presents must prove who calls: a wrong one is refused even beside
/// a right one, and a token and a session of two different users are refused too, so a request
/// never acts for someone other than every credential it carries says.
async fn authenticate(headers: &HeaderMap, state: &AppState) -> Result<Caller, ApiError> {
    let token = match headers.get(header::AUTHORIZATION) {
        Some(value) => {
            let token =
                value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).ok_or(ApiError::Unauthenticated)?.trim();
            let (user, _) =
                auth::authenticate_token(&state.pool, &TokenSecret::new(token.to_owned())).await.map_err(refused)?;
            Some(user)
        }
        None => None,
    };
    let session = match session_cookie(headers)? {
        Some(secret) => Some(auth::authenticate_session(&state.pool, &secret).await.map_err(refused)?),
        None => None,
    };
    match (token, session) {
        (Some(user), None) => Ok(Caller { user, session_id: None }),
        (None, Some((user, session))) => Ok(Caller { user, session_id: Some(session.id) }),
        (Some(token_user), Some((user, session))) if token_user == user => {
            Ok(Caller { user, session_id: Some(session.id) })
        }
        _ => Err(ApiError::Unauthenticated),
    }
}

/// Credentials to sign in with.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// The user's e-mail address (case does not matter).
    pub email: String,
    /// The user's password.
    #[schema(format = Password)]
    pub password: String,
}

/// A signed-in session (its secret travels only in the cookie).
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub user: UserView,
    /// When the session ends unless the user signs out first.
    pub expires_at: DateTime<Utc>,
}

/// The caller and where they may work.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    pub user: UserView,
    /// Active memberships only, by client account slug.
    pub memberships: Vec<MembershipView>,
    /// `session` (signed in with the web UI) or `api_token`.
    pub authenticated_by: String,
}

/// Signs in with e-mail and password: opens a session and sets its cookie.
///
/// After 5 attempts on one address, further ones are refused with 429 and a `Retry-After` header,
/// right or wrong, until the quota refills (one attempt every 12 s).
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; the session cookie is set", body = SessionView,
            headers(("set-cookie" = String, description = "modernize_session=…; HttpOnly; Secure; SameSite=Strict"))),
        (status = 401, description = "Unknown address, wrong password or inactive user (not told apart)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts for this address", body = Problem, content_type = "application/problem+json"),
    ),
    security(()),
)]
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    Json(request): Json<LoginRequest>,
) -> Result<(CookieJar, Json<SessionView>), ApiError> {
    let email = parse_email(&request.email)?;
    if let Err(not_until) = state.login_limiter.check_key(&email) {
        let wait = not_until.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()));
        return Err(ApiError::TooManyRequests { retry_after_secs: wait.as_secs().max(1) });
    }
    let password = Password::parse(request.password).map_err(|_| ApiError::WrongCredentials)?;
    let (user, view) = auth::sign_in(&state.pool, &email, &password).await.map_err(|error| match error.kind() {
        ErrorKind::NotFound => ApiError::WrongCredentials,
        _ => error.into(),
    })?;
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    let opened = auth::open_session(&state.pool, &user, state.config.session_lifetime, user_agent).await?;
    let cookie = Cookie::build((SESSION_COOKIE, opened.secret.expose().to_owned()))
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(time_duration(state.config.session_lifetime))
        .build();
    Ok((jar.add(cookie), Json(SessionView { user: view, expires_at: opened.session.expires_at })))
}

fn time_duration(duration: std::time::Duration) -> time::Duration {
    time::Duration::seconds(i64::try_from(duration.as_secs()).unwrap_or(i64::MAX))
}

/// Signs out: ends the session and clears its cookie. With an API token, does nothing (revoke
/// the token instead).
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn logout(State(state): State<AppState>, caller: Caller, jar: CookieJar) -> Result<Response, ApiError> {
    if let Some(session_id) = caller.session_id {
        auth::end_session(&state.pool, &caller.user, session_id).await?;
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    Ok((StatusCode::NO_CONTENT, jar).into_response())
}

/// The caller, with their memberships and roles.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "auth",
    responses(
        (status = 200, description = "The caller", body = MeView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_me(State(state): State<AppState>, caller: Caller) -> Result<Json<MeView>, ApiError> {
    let found = auth::current_user(&state.pool, &caller.user).await?;
    let authenticated_by = if caller.session_id.is_some() { "session" } else { "api_token" };
    Ok(Json(MeView { user: found.user, memberships: found.memberships, authenticated_by: authenticated_by.into() }))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login)).routes(routes!(logout)).routes(routes!(get_me))
}
