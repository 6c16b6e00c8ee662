//! Tenancy resources: client accounts, their engagements and their members.
//!
//! Reading is for any member of the account; creating an engagement, managing members and who has
//! access to an engagement is for the account's admins; creating a client account is for platform administrators. Another
//! tenant's account, engagement or member is 404 (decided before a role is 403).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use modernize::models::MemberRole;
use modernize::repo::users::Password;
use modernize::service::UserRef;
use modernize::service::accounts::{self, NewAccount};
use modernize::service::engagements::{self, NewEngagementInput};
use modernize::service::tokens;
use modernize::service::users::{self, NewMember};
use modernize::service::views::{
    AccountView, AddedMember, EngagementAccessView, EngagementView, MemberView, TokenView, UserView,
};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::extract::Path;
use crate::state::AppState;

/// A role in a client account, weakest last: an admin also manages engagements and members, an
/// analyst also imports, reviews and edits, a viewer reads.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Analyst,
    Viewer,
}

impl From<Role> for MemberRole {
    fn from(role: Role) -> Self {
        match role {
            Role::Admin => MemberRole::Admin,
            Role::Analyst => MemberRole::Analyst,
            Role::Viewer => MemberRole::Viewer,
        }
    }
}

/// A user to add to the account with a role; a user is created when no one has the address.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMemberRequest {
    /// The user's e-mail address (case does not matter).
    #[schema(example = "new.analyst@acme-retail.example", format = Email, max_length = 255)]
    pub email: String,
    pub role: Role,
    /// For a user created here only (at least 12 characters); never echoed. Refused (422) for an
    /// existing user, whose password is theirs alone. Without one, the new user cannot sign in
    /// until one is set.
    #[schema(format = Password, write_only, min_length = 12)]
    pub password: Option<String>,
    /// For a user created here only; an existing user's names are kept.
    #[schema(max_length = 100)]
    pub first_name: Option<String>,
    #[schema(max_length = 100)]
    pub last_name: Option<String>,
}

/// A member's new role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRoleRequest {
    pub role: Role,
}

/// The role a member is granted in one engagement.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantAccessRequest {
    /// `analyst` or `viewer`, not above the member's role in the account [default: that role].
    pub role: Option<Role>,
}

/// 201 Created with the new resource's path in `Location`.
pub(crate) fn created<T: serde::Serialize>(location: String, body: T) -> Result<Response, ApiError> {
    let location = HeaderValue::try_from(location).map_err(|e| ApiError::Internal(format!("location: {e}")))?;
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(body)).into_response())
}

/// The client accounts the caller can reach (all of them for platform administrators), by slug.
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts",
    tag = "tenancy",
    responses(
        (status = 200, description = "The caller's client accounts", body = Vec<AccountView>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list_client_accounts(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<AccountView>>, ApiError> {
    Ok(Json(accounts::list_accounts(&state.pool, &caller.actor()).await?))
}

/// Creates a client account (platform administrators only).
#[utoipa::path(
    post,
    path = "/api/v1/client-accounts",
    tag = "tenancy",
    request_body = NewAccount,
    responses(
        (status = 201, description = "Created", body = AccountView,
            headers(("location" = String, description = "/api/v1/client-accounts/{id}"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a platform administrator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken (`field`: `slug`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input (`field` names it)", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create_client_account(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<NewAccount>,
) -> Result<Response, ApiError> {
    let account = accounts::create_account(&state.pool, &caller.actor(), input).await?;
    created(format!("/api/v1/client-accounts/{}", account.id), account)
}

/// One client account, by id or slug.
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}",
    tag = "tenancy",
    params(("account" = String, Path, description = "Client account id or slug", example = "acme-retail")),
    responses(
        (status = 200, description = "The client account", body = AccountView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account, or the caller is no member", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_client_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(account): Path<String>,
) -> Result<Json<AccountView>, ApiError> {
    Ok(Json(accounts::get_account(&state.pool, &caller.actor(), &account).await?))
}

/// The account's engagements the caller can reach (all of them for its admins), by slug.
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}/engagements",
    tag = "tenancy",
    params(("account" = String, Path, description = "Client account id or slug", example = "acme-retail")),
    responses(
        (status = 200, description = "The engagements", body = Vec<EngagementView>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account, or the caller is no member", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list_engagements(
    State(state): State<AppState>,
    caller: Caller,
    Path(account): Path<String>,
) -> Result<Json<Vec<EngagementView>>, ApiError> {
    Ok(Json(engagements::list_engagements(&state.pool, &caller.actor(), &account).await?))
}

/// Creates an engagement in the account (its admins only).
#[utoipa::path(
    post,
    path = "/api/v1/client-accounts/{account}/engagements",
    tag = "tenancy",
    params(("account" = String, Path, description = "Client account id or slug", example = "acme-retail")),
    request_body = NewEngagementInput,
    responses(
        (status = 201, description = "Created", body = EngagementView,
            headers(("location" = String, description = "/api/v1/client-accounts/{account id}/engagements/{id}"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin of the account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account, or the caller is no member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account has an engagement with this slug (`field`: `slug`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input (`field` names it)", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create_engagement(
    State(state): State<AppState>,
    caller: Caller,
    Path(account): Path<String>,
    Json(input): Json<NewEngagementInput>,
) -> Result<Response, ApiError> {
    let engagement = engagements::create_engagement(&state.pool, &caller.actor(), &account, input).await?;
    created(
        format!("/api/v1/client-accounts/{}/engagements/{}", engagement.client_account_id, engagement.id),
        engagement,
    )
}

/// One engagement of the account, by id or slug.
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}",
    tag = "tenancy",
    params(
        ("account" = String, Path, description = "Client account id or slug", example = "acme-retail"),
        ("engagement" = String, Path, description = "Engagement id or slug", example = "cloud-2027"),
    ),
    responses(
        (status = 200, description = "The engagement", body = EngagementView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account or engagement, or the caller cannot reach it", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_engagement(
    State(state): State<AppState>,
    caller: Caller,
    Path((account, engagement)): Path<(String, String)>,
) -> Result<Json<EngagementView>, ApiError> {
    Ok(Json(engagements::get_engagement(&state.pool, &caller.actor(), &account, &engagement).await?))
}

/// The account's active members, by e-mail address (any member may read them).
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}/members",
    tag = "tenancy",
    params(("account" = String, Path, description = "Client account id or slug", example = "acme-retail")),
    responses(
        (status = 200, description = "The members", body = Vec<MemberView>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account, or the caller is no member", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list_members(
    State(state): State<AppState>,
    caller: Caller,
    Path(account): Path<String>,
) -> Result<Json<Vec<MemberView>>, ApiError> {
    Ok(Json(users::list_members(&state.pool, &caller.actor(), &account).await?))
}

/// Adds a user to the account with a role (its admins only), creating the user when no one has
/// the e-mail address; a removed member comes back with the new role.
#[utoipa::path(
    post,
    path = "/api/v1/client-accounts/{account}/members",
    tag = "tenancy",
    params(("account" = String, Path, description = "Client account id or slug", example = "acme-retail")),
    request_body = AddMemberRequest,
    responses(
        (status = 201, description = "Added", body = AddedMember,
            headers(("location" = String, description = "/api/v1/client-accounts/{account id}/members/{user id}"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin of the account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account, or the caller is no member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already a member (`field`: `email`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input (`field` names it)", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn add_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(account): Path<String>,
    Json(request): Json<AddMemberRequest>,
) -> Result<Response, ApiError> {
    let password = request.password.map(Password::parse).transpose()?;
    let input = NewMember {
        email: request.email,
        role: request.role.into(),
        password,
        first_name: request.first_name,
        last_name: request.last_name,
    };
    let added = users::add_member(&state.pool, &caller.actor(), &account, input).await?;
    let location =
        format!("/api/v1/client-accounts/{}/members/{}", added.member.client_account_id, added.member.user.id);
    created(location, added)
}

/// One active member of the account.
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}/members/{user}",
    tag = "tenancy",
    params(
        ("account" = String, Path, description = "Client account id or slug", example = "acme-retail"),
        ("user" = Uuid, Path, description = "The member's user id"),
    ),
    responses(
        (status = 200, description = "The member", body = MemberView),
        (status = 400, description = "The user id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account or member, or the caller is no member", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((account, user)): Path<(String, Uuid)>,
) -> Result<Json<MemberView>, ApiError> {
    Ok(Json(users::get_member(&state.pool, &caller.actor(), &account, user).await?))
}

/// Changes a member's role (the account's admins only; the last admin cannot be demoted).
#[utoipa::path(
    patch,
    path = "/api/v1/client-accounts/{account}/members/{user}",
    tag = "tenancy",
    params(
        ("account" = String, Path, description = "Client account id or slug", example = "acme-retail"),
        ("user" = Uuid, Path, description = "The member's user id"),
    ),
    request_body = ChangeRoleRequest,
    responses(
        (status = 200, description = "The member with the new role", body = MemberView),
        (status = 400, description = "Malformed JSON, or the user id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin of the account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account or member, or the caller is no member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account's last admin (`field`: `role`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input (`field` names it)", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn change_member_role(
    State(state): State<AppState>,
    caller: Caller,
    Path((account, user)): Path<(String, Uuid)>,
    Json(request): Json<ChangeRoleRequest>,
) -> Result<Json<MemberView>, ApiError> {
    let role = request.role.into();
    Ok(Json(users::change_member_role(&state.pool, &caller.actor(), &account, user, role).await?))
}

/// Removes a member from the account (its admins only; the last admin cannot be removed). The
/// user keeps their account and other memberships.
#[utoipa::path(
    delete,
    path = "/api/v1/client-accounts/{account}/members/{user}",
    tag = "tenancy",
    params(
        ("account" = String, Path, description = "Client account id or slug", example = "acme-retail"),
        ("user" = Uuid, Path, description = "The member's user id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "The user id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin of the account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account or member, or the caller is no member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account's last admin (`field`: `user_id`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((account, user)): Path<(String, Uuid)>,
) -> Result<StatusCode, ApiError> {
    users::remove_member(&state.pool, &caller.actor(), &account, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who has access to the engagement: the grants in force, by e-mail address (the account's
/// admins, who reach every engagement, are not listed). The account's admins only.
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/access",
    tag = "tenancy",
    params(
        ("account" = String, Path, description = "Client account id or slug", example = "acme-retail"),
        ("engagement" = String, Path, description = "Engagement id or slug", example = "cloud-2027"),
    ),
    responses(
        (status = 200, description = "The engagement's grants", body = Vec<EngagementAccessView>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin of the account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account or engagement, or the caller cannot reach it", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list_access(
    State(state): State<AppState>,
    caller: Caller,
    Path((account, engagement)): Path<(String, String)>,
) -> Result<Json<Vec<EngagementAccessView>>, ApiError> {
    Ok(Json(engagements::list_access(&state.pool, &caller.actor(), &account, &engagement).await?))
}

/// Grants a member of the account access to the engagement with a role, or changes the role of
/// their grant (the account's admins only). The role may not exceed the member's role in the
/// account; the account's admins reach every engagement and take no grant.
#[utoipa::path(
    put,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/access/{user}",
    tag = "tenancy",
    params(
        ("account" = String, Path, description = "Client account id or slug", example = "acme-retail"),
        ("engagement" = String, Path, description = "Engagement id or slug", example = "cloud-2027"),
        ("user" = Uuid, Path, description = "The member's user id"),
    ),
    request_body = GrantAccessRequest,
    responses(
        (status = 200, description = "The grant as it now is", body = EngagementAccessView),
        (status = 400, description = "Malformed JSON, or the user id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin of the account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account, engagement or member, or the caller cannot reach it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A role above the member's account role (`field`: `role`), or the member is an account admin (`field`: `user_id`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn grant_access(
    State(state): State<AppState>,
    caller: Caller,
    Path((account, engagement, user)): Path<(String, String, Uuid)>,
    Json(request): Json<GrantAccessRequest>,
) -> Result<Json<EngagementAccessView>, ApiError> {
    let role = request.role.map(MemberRole::from);
    let who = UserRef::Id(user);
    Ok(Json(engagements::grant_access(&state.pool, &caller.actor(), &account, &engagement, &who, role).await?))
}

/// Revokes a member's access to the engagement (the account's admins only).
#[utoipa::path(
    delete,
    path = "/api/v1/client-accounts/{account}/engagements/{engagement}/access/{user}",
    tag = "tenancy",
    params(
        ("account" = String, Path, description = "Client account id or slug", example = "acme-retail"),
        ("engagement" = String, Path, description = "Engagement id or slug", example = "cloud-2027"),
        ("user" = Uuid, Path, description = "The member's user id"),
    ),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "The user id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin of the account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account, engagement, member or grant, or the caller cannot reach it", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn revoke_access(
    State(state): State<AppState>,
    caller: Caller,
    Path((account, engagement, user)): Path<(String, String, Uuid)>,
) -> Result<StatusCode, ApiError> {
    engagements::revoke_access(&state.pool, &caller.actor(), &account, &engagement, &UserRef::Id(user)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A member's API tokens, oldest first, never their secrets (the account's admins only).
#[utoipa::path(
    get,
    path = "/api/v1/client-accounts/{account}/members/{user}/tokens",
    tag = "tenancy",
    params(
        ("account" = String, Path, description = "Client account id or slug", example = "acme-retail"),
        ("user" = Uuid, Path, description = "The member's user id"),
    ),
    responses(
        (status = 200, description = "The member's tokens", body = Vec<TokenView>),
        (status = 400, description = "The user id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin of the account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account or member, or the caller is no member", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list_member_tokens(
    State(state): State<AppState>,
    caller: Caller,
    Path((account, user)): Path<(String, Uuid)>,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    Ok(Json(tokens::list_member_tokens(&state.pool, &caller.actor(), &account, user).await?))
}

/// Revokes one of a member's API tokens (the account's admins only; revoking twice keeps the
/// first time). A token acts in every account of its user, so an admin of any of them may end it.
#[utoipa::path(
    delete,
    path = "/api/v1/client-accounts/{account}/members/{user}/tokens/{token}",
    tag = "tenancy",
    params(
        ("account" = String, Path, description = "Client account id or slug", example = "acme-retail"),
        ("user" = Uuid, Path, description = "The member's user id"),
        ("token" = Uuid, Path, description = "Token id"),
    ),
    responses(
        (status = 200, description = "The token, revoked", body = TokenView),
        (status = 400, description = "An id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin of the account", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account, member or token of the member, or the caller is no member", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn revoke_member_token(
    State(state): State<AppState>,
    caller: Caller,
    Path((account, user, token)): Path<(String, Uuid, Uuid)>,
) -> Result<Json<TokenView>, ApiError> {
    Ok(Json(tokens::revoke_member_token(&state.pool, &caller.actor(), &account, user, token).await?))
}

/// Deactivates a user (platform administrators only): from then on their sign-in, API tokens and
/// sessions answer 401; their sessions are ended and their tokens revoked.
#[utoipa::path(
    post,
    path = "/api/v1/users/{user}/deactivate",
    tag = "tenancy",
    params(("user" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user, inactive", body = UserView),
        (status = 400, description = "The user id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a platform administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller themselves (`field`: `user_id`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn deactivate_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(user): Path<Uuid>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(users::deactivate_user(&state.pool, &caller.actor(), &UserRef::Id(user)).await?))
}

/// Reactivates a deactivated user (platform administrators only): their password signs in again;
/// the sessions and API tokens ended at deactivation stay ended.
#[utoipa::path(
    post,
    path = "/api/v1/users/{user}/reactivate",
    tag = "tenancy",
    params(("user" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user, active", body = UserView),
        (status = 400, description = "The user id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a platform administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn reactivate_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(user): Path<Uuid>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(users::reactivate_user(&state.pool, &caller.actor(), &UserRef::Id(user)).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_client_accounts, create_client_account))
        .routes(routes!(get_client_account))
        .routes(routes!(list_engagements, create_engagement))
        .routes(routes!(get_engagement))
        .routes(routes!(list_access))
        .routes(routes!(grant_access, revoke_access))
        .routes(routes!(list_members, add_member))
        .routes(routes!(get_member, change_member_role, remove_member))
        .routes(routes!(list_member_tokens))
        .routes(routes!(revoke_member_token))
        .routes(routes!(deactivate_user))
        .routes(routes!(reactivate_user))
}
