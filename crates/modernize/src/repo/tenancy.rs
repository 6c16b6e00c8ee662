//! Client accounts (global), their engagements and the memberships that give users access.

use sqlx::PgConnection;
use uuid::Uuid;

use super::global::{insert_global, list_global};
use super::table::{insert, list};
use super::{Page, RepoError};
use crate::models::{
    ClientAccount, Engagement, EngagementAccess, MemberRole, NewClientAccount, NewEngagement, NewEngagementAccess,
    UserAccountAssociation,
};
use crate::tenancy::TenantTx;

/// Refuses a slug that parses as a UUID (any form `Uuid::parse_str` accepts): accounts and
/// engagements are named by id or slug, and such a slug would name another row (issue 11).
pub fn check_slug(slug: &str) -> Result<(), RepoError> {
    if Uuid::try_parse(slug).is_ok() {
        return Err(RepoError::Invalid {
            field: "slug".into(),
            message: format!("{slug:?} reads as a UUID, which names rows by id: choose a slug with other characters"),
        });
    }
    Ok(())
}

/// Creating a tenant is a platform-level act, so it takes no TenantCtx.
pub async fn create_client_account(
    conn: &mut PgConnection,
    new: &NewClientAccount,
) -> Result<ClientAccount, RepoError> {
    check_slug(&new.slug)?;
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

pub async fn create_engagement(tx: &mut TenantTx<'_>, new: &NewEngagement) -> Result<Engagement, RepoError> {
    check_slug(&new.slug)?;
    insert::<Engagement>(tx, new).await
}

pub async fn list_engagements(tx: &mut TenantTx<'_>, page: Page) -> Result<Vec<Engagement>, RepoError> {
    list::<Engagement>(tx, page).await
}

/// Makes `user_id` a member of the context's client account with `role` (or changes the role).
pub async fn add_account_member(
    tx: &mut TenantTx<'_>,
    user_id: Uuid,
    role: MemberRole,
) -> Result<UserAccountAssociation, RepoError> {
    let row = sqlx::query_as(
        "INSERT INTO migration.user_account_associations (client_account_id, user_id, role, invited_by)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (client_account_id, user_id)
         DO UPDATE SET role = EXCLUDED.role, is_active = true, updated_at = now()
         RETURNING *",
    )
    .bind(tx.client_account_id())
    .bind(user_id)
    .bind(role)
    .bind(tx.user_id())
    .fetch_one(tx.conn())
    .await?;
    Ok(row)
}

/// Grants `user_id` a role in the context's engagement.
pub async fn grant_engagement_access(
    tx: &mut TenantTx<'_>,
    user_id: Uuid,
    role: MemberRole,
) -> Result<EngagementAccess, RepoError> {
    let new = NewEngagementAccess {
        id: None,
        user_id,
        role: Some(role),
        permissions: None,
        granted_by: tx.user_id(),
        granted_at: None,
        expires_at: None,
        is_active: None,
        created_at: None,
        updated_at: None,
    };
    insert::<EngagementAccess>(tx, &new).await
}

pub async fn list_account_members(tx: &mut TenantTx<'_>, page: Page) -> Result<Vec<UserAccountAssociation>, RepoError> {
    list::<UserAccountAssociation>(tx, page).await
}
