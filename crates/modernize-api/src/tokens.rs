//! The caller's own API tokens: list, issue (the secret is in the 201 response, once), get,
//! revoke. Another user's token is 404.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use modernize::service::tokens;
use modernize::service::views::{IssuedToken, TokenView};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::Path;
use crate::state::AppState;
use crate::tenancy::created;

/// A token to issue to the caller.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// What the token is for, 1 to 100 characters.
    #[schema(example = "ci pipeline", min_length = 1, max_length = 100)]
    pub name: String,
    /// When the token stops working (in the future); never, when left out.
    pub expires_at: Option<DateTime<Utc>>,
}

/// The caller's API tokens, oldest first (never their secrets).
#[utoipa::path(
    get,
    path = "/api/v1/me/tokens",
    tag = "auth",
    responses(
        (status = 200, description = "The caller's tokens", body = Vec<TokenView>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list_my_tokens(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<TokenView>>, ApiError> {
    Ok(Json(tokens::list_own_tokens(&state.pool, &caller.user).await?))
}

/// Issues an API token to the caller. The whole token (`mdz_…`) is in this response only; the
/// server keeps a SHA-256 digest of its secret.
#[utoipa::path(
    post,
    path = "/api/v1/me/tokens",
    tag = "auth",
    request_body = CreateTokenRequest,
    responses(
        (status = 201, description = "Issued; `token` is shown this once", body = IssuedToken,
            headers(("location" = String, description = "/api/v1/me/tokens/{id}"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input (`field` names it)", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create_my_token(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<CreateTokenRequest>,
) -> Result<Response, ApiError> {
    let issued = tokens::create_own_token(&state.pool, &caller.user, &request.name, request.expires_at).await?;
    created(format!("/api/v1/me/tokens/{}", issued.api_token.id), issued)
}

/// One of the caller's tokens.
#[utoipa::path(
    get,
    path = "/api/v1/me/tokens/{id}",
    tag = "auth",
    params(("id" = Uuid, Path, description = "The token's id")),
    responses(
        (status = 200, description = "The token", body = TokenView),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No token of the caller's has this id", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_my_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<TokenView>, ApiError> {
    Ok(Json(tokens::get_own_token(&state.pool, &caller.user, id).await?))
}

/// Revokes one of the caller's tokens: it is refused from now on (revoking twice is harmless).
#[utoipa::path(
    delete,
    path = "/api/v1/me/tokens/{id}",
    tag = "auth",
    params(("id" = Uuid, Path, description = "The token's id")),
    responses(
        (status = 200, description = "Revoked", body = TokenView),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No token of the caller's has this id", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn revoke_my_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<TokenView>, ApiError> {
    Ok(Json(tokens::revoke_own_token(&state.pool, &caller.user, id).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_my_tokens, create_my_token)).routes(routes!(get_my_token, revoke_my_token))
}
