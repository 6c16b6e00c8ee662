//! Client accounts (global), their engagements and the memberships that give users access.

use sqlx::PgConnection;
use uuid::Uuid;

use super::global::{insert_global, list_global};
use super::table::{insert, list};
use super::{Page, RepoError, scoped};
use crate::models::{
    ClientAccount, Engagement, EngagementAccess, MemberRole, NewClientAccount, NewEngagement, NewEngagementAccess,
    UserAccountAssociation,
};
use crate::tenancy::TenantCtx;

/// Creating a tenant is a platform-level act, so it takes no TenantCtx.
pub async fn create_client_account(
    conn: &mut PgConnection,
    new: &NewClientAccount,
) -> Result<ClientAccount, RepoError> {
    insert_global::<ClientAccount>(conn, new).await
}

pub async fn list_client_accounts(conn: &mut PgConnection, page: Page) -> Result<Vec<ClientAccount>, RepoError> {
    list_global::<ClientAccount>(conn, page).await
}

pub async fn find_client_account_by_slug(conn: &mut PgConnection, slug: &str) -> Result<ClientAccount, RepoError> {
    sqlx::query_as("SELECT * FROM migration.client_accounts WHERE slug = $1")
        .bind(slug)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| RepoError::not_found("client account", slug))
}

pub async fn create_engagement(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    new: &NewEngagement,
) -> Result<Engagement, RepoError> {
    insert::<Engagement>(conn, ctx, new).await
}

pub async fn list_engagements(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    page: Page,
) -> Result<Vec<Engagement>, RepoError> {
    list::<Engagement>(conn, ctx, page).await
}

/// Makes `user_id` a member of the context's client account with `role` (or changes the role).
pub async fn add_account_member(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    user_id: Uuid,
    role: MemberRole,
) -> Result<UserAccountAssociation, RepoError> {
    let mut tx = scoped(conn, ctx).await?;
    let row = sqlx::query_as(
        "INSERT INTO migration.user_account_associations (client_account_id, user_id, role, invited_by)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (client_account_id, user_id)
         DO UPDATE SET role = EXCLUDED.role, is_active = true, updated_at = now()
         RETURNING *",
    )
    .bind(ctx.client_account_id())
    .bind(user_id)
    .bind(role)
    .bind(ctx.user_id())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Grants `user_id` a role in the context's engagement.
pub async fn grant_engagement_access(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    user_id: Uuid,
    role: MemberRole,
) -> Result<EngagementAccess, RepoError> {
    let new = NewEngagementAccess {
        id: None,
        user_id,
        role: Some(role),
        permissions: None,
        granted_by: ctx.user_id(),
        granted_at: None,
        expires_at: None,
        is_active: None,
        created_at: None,
        updated_at: None,
    };
    insert::<EngagementAccess>(conn, ctx, &new).await
}

pub async fn list_account_members(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    page: Page,
) -> Result<Vec<UserAccountAssociation>, RepoError> {
    list::<UserAccountAssociation>(conn, ctx, page).await
}
