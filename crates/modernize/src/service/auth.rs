//! Signing in: a password or an API token proves who a user is, and gives the
//! [`AuthenticatedUser`] the other services take. A failed proof is NotFound whatever the reason
//! (unknown address, wrong secret, inactive user, revoked or expired token).

use sqlx::PgPool;

use super::accounts::begin_as_user;
use super::views::{MembershipView, UserView, UserWithMemberships};
use super::{AuthenticatedUser, ServiceError, connection};
use crate::models::User;
use crate::repo::global;
use crate::repo::users::{self as users_repo, Membership, Password, Session, SessionSecret, TokenSecret};

/// The user with this e-mail and password.
pub async fn sign_in(
    pool: &PgPool,
    email: &str,
    password: &Password,
) -> Result<(AuthenticatedUser, UserView), ServiceError> {
    let mut conn = connection(pool).await?;
    let user = users_repo::authenticate(&mut conn, email, password).await?;
    Ok((AuthenticatedUser::new(user.id), user.into()))
}

/// The user an API token (`mdz_<prefix>_<secret>`) belongs to.
pub async fn authenticate_token(
    pool: &PgPool,
    token: &TokenSecret,
) -> Result<(AuthenticatedUser, UserView), ServiceError> {
    let mut conn = connection(pool).await?;
    let user = users_repo::authenticate_token(&mut conn, token).await?;
    Ok((AuthenticatedUser::new(user.id), user.into()))
}

/// The signed-in user and their active memberships (read as the user: row-level security shows
/// only their own membership rows).
pub async fn current_user(pool: &PgPool, user: &AuthenticatedUser) -> Result<UserWithMemberships, ServiceError> {
    let mut conn = connection(pool).await?;
    let found = global::get_global::<User>(&mut conn, user.user_id()).await?;
    let mut tx = begin_as_user(&mut conn, user).await?;
    let memberships: Vec<Membership> = sqlx::query_as(
        "SELECT m.user_id, m.client_account_id, a.slug AS client_account_slug, m.role, m.is_active
         FROM migration.user_account_associations m
         JOIN migration.client_accounts a ON a.id = m.client_account_id
         WHERE m.user_id = $1 AND m.is_active ORDER BY a.slug",
    )
    .bind(user.user_id())
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(UserWithMemberships {
        user: found.into(),
        memberships: memberships.into_iter().map(MembershipView::from).collect(),
    })
}

/// A web session just opened: its secret goes to the browser once (the API's cookie).
#[derive(Debug)]
pub struct OpenedSession {
    pub session: Session,
    pub secret: SessionSecret,
}

/// Opens a web session of `user` lasting `lifetime` (`modernize.sessions`, migration 0006).
pub async fn open_session(
    pool: &PgPool,
    user: &AuthenticatedUser,
    lifetime: std::time::Duration,
    user_agent: Option<&str>,
) -> Result<OpenedSession, ServiceError> {
    let mut conn = connection(pool).await?;
    let (session, secret) = users_repo::create_session(&mut conn, user.user_id(), lifetime, user_agent).await?;
    Ok(OpenedSession { session, secret })
}

/// The user a web session's secret belongs to, with the session; NotFound for an unknown, ended
/// or expired session or an inactive user alike.
pub async fn authenticate_session(
    pool: &PgPool,
    secret: &SessionSecret,
) -> Result<(AuthenticatedUser, Session), ServiceError> {
    let mut conn = connection(pool).await?;
    let (session, user) = users_repo::authenticate_session(&mut conn, secret).await?;
    Ok((AuthenticatedUser::new(user.id), session))
}

/// Ends one of the user's web sessions (signing out).
pub async fn end_session(pool: &PgPool, user: &AuthenticatedUser, session_id: uuid::Uuid) -> Result<(), ServiceError> {
    let mut conn = connection(pool).await?;
    users_repo::revoke_session(&mut conn, user.user_id(), session_id).await?;
    Ok(())
}
