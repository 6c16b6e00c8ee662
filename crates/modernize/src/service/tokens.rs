//! API tokens: issue (the secret is shown once), list, get, revoke. A user manages their own tokens;
//! operators manage anyone's; a client account's admins list and revoke its members' tokens (a
//! token acts in every account of its user, so any of them may take it away). Another user's
//! tokens are NotFound, as if the user did not exist.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::views::{IssuedToken, TokenView};
use super::{Actor, AuthenticatedUser, ServiceError, account_ctx, connection, require};
use crate::models::MemberRole;
use crate::repo::users as users_repo;
use crate::repo::{RepoError, tenancy};
use crate::tenancy::TenantTx;

/// The user (by e-mail) whose tokens the actor may manage.
async fn token_owner(conn: &mut PgConnection, actor: &Actor<'_>, email: &str) -> Result<Uuid, ServiceError> {
    let not_found = || ServiceError::not_found("user", email);
    let user = users_repo::find_user_by_email(conn, email).await.map_err(|error| match error {
        RepoError::NotFound { .. } => not_found(),
        other => other.into(),
    })?;
    match actor {
        Actor::Operator(_) => Ok(user.id),
        Actor::User(me) if me.user_id() == user.id => Ok(user.id),
        Actor::User(_) => Err(not_found()),
    }
}

/// Issues a token for the user with this e-mail: `name` 1 to 100 characters, `expires_at` in the
/// future when given (Invalid otherwise).
pub async fn create_token(
    pool: &PgPool,
    actor: &Actor<'_>,
    email: &str,
    name: &str,
    expires_at: Option<DateTime<Utc>>,
) -> Result<IssuedToken, ServiceError> {
    let mut conn = connection(pool).await?;
    let user_id = token_owner(&mut conn, actor, email).await?;
    let (token, secret) = users_repo::create_api_token(&mut conn, user_id, name, expires_at).await?;
    Ok(IssuedToken { token: secret.expose().to_owned(), api_token: token.into() })
}

/// The user's tokens, oldest first, never their secrets.
pub async fn list_tokens(pool: &PgPool, actor: &Actor<'_>, email: &str) -> Result<Vec<TokenView>, ServiceError> {
    let mut conn = connection(pool).await?;
    let user_id = token_owner(&mut conn, actor, email).await?;
    Ok(users_repo::list_api_tokens(&mut conn, user_id).await?.into_iter().map(TokenView::from).collect())
}

/// Revokes one of the user's tokens (NotFound for a token of someone else).
pub async fn revoke_token(
    pool: &PgPool,
    actor: &Actor<'_>,
    email: &str,
    token_id: Uuid,
) -> Result<TokenView, ServiceError> {
    let mut conn = connection(pool).await?;
    let user_id = token_owner(&mut conn, actor, email).await?;
    Ok(users_repo::revoke_api_token(&mut conn, user_id, token_id).await?.into())
}

/// The signed-in user's own tokens, oldest first, never their secrets.
pub async fn list_own_tokens(pool: &PgPool, user: &AuthenticatedUser) -> Result<Vec<TokenView>, ServiceError> {
    let mut conn = connection(pool).await?;
    Ok(users_repo::list_api_tokens(&mut conn, user.user_id()).await?.into_iter().map(TokenView::from).collect())
}

/// Issues a token to the signed-in user (Invalid `name` or `expires_at` as for [`create_token`]).
pub async fn create_own_token(
    pool: &PgPool,
    user: &AuthenticatedUser,
    name: &str,
    expires_at: Option<DateTime<Utc>>,
) -> Result<IssuedToken, ServiceError> {
    let mut conn = connection(pool).await?;
    let (token, secret) = users_repo::create_api_token(&mut conn, user.user_id(), name, expires_at).await?;
    Ok(IssuedToken { token: secret.expose().to_owned(), api_token: token.into() })
}

/// One of the signed-in user's tokens (NotFound for anyone else's).
pub async fn get_own_token(pool: &PgPool, user: &AuthenticatedUser, token_id: Uuid) -> Result<TokenView, ServiceError> {
    let mut conn = connection(pool).await?;
    Ok(users_repo::get_api_token(&mut conn, user.user_id(), token_id).await?.into())
}

/// Revokes one of the signed-in user's tokens (NotFound for anyone else's; revoking twice keeps
/// the first time).
pub async fn revoke_own_token(
    pool: &PgPool,
    user: &AuthenticatedUser,
    token_id: Uuid,
) -> Result<TokenView, ServiceError> {
    let mut conn = connection(pool).await?;
    Ok(users_repo::revoke_api_token(&mut conn, user.user_id(), token_id).await?.into())
}

/// The active member `user_id` of the account (id or slug), for an admin of it (NotFound for a
/// non-member caller or a user who is no member, Forbidden for a weaker role).
async fn member_token_owner(
    conn: &mut PgConnection,
    actor: &Actor<'_>,
    account: &str,
    user_id: Uuid,
) -> Result<Uuid, ServiceError> {
    let ctx = account_ctx(conn, actor, account).await?;
    require(&ctx, MemberRole::Admin, "managing a member's API tokens")?;
    let mut tx = TenantTx::begin(conn, &ctx).await?;
    let member = tenancy::find_member(&mut tx, user_id, false).await?.filter(|m| m.membership_active);
    tx.commit().await?;
    member.map(|m| m.user.id).ok_or_else(|| ServiceError::not_found("member", user_id))
}

/// A member's tokens, oldest first, never their secrets (the account's admins and operators).
pub async fn list_member_tokens(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    user_id: Uuid,
) -> Result<Vec<TokenView>, ServiceError> {
    let mut conn = connection(pool).await?;
    let owner = member_token_owner(&mut conn, actor, account, user_id).await?;
    Ok(users_repo::list_api_tokens(&mut conn, owner).await?.into_iter().map(TokenView::from).collect())
}

/// Revokes one of a member's tokens (the account's admins and operators; NotFound for a token
/// of someone else; revoking twice keeps the first time).
pub async fn revoke_member_token(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    user_id: Uuid,
    token_id: Uuid,
) -> Result<TokenView, ServiceError> {
    let mut conn = connection(pool).await?;
    let owner = member_token_owner(&mut conn, actor, account, user_id).await?;
    Ok(users_repo::revoke_api_token(&mut conn, owner, token_id).await?.into())
}
