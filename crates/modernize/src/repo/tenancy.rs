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

/// A member of the context's client account: the user and the membership, as members see it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Member {
    #[sqlx(flatten)]
    pub user: crate::models::User,
    pub client_account_id: Uuid,
    pub role: MemberRole,
    pub membership_active: bool,
    pub joined_at: chrono::DateTime<chrono::Utc>,
}

const MEMBER_SELECT: &str =
    "SELECT u.*, m.client_account_id, m.role, m.is_active AS membership_active, m.created_at AS joined_at
     FROM migration.user_account_associations m JOIN migration.users u ON u.id = m.user_id
     WHERE m.client_account_id = $1";

/// The active members of the context's client account, by e-mail address.
pub async fn list_active_members(tx: &mut TenantTx<'_>) -> Result<Vec<Member>, RepoError> {
    let sql = format!("{MEMBER_SELECT} AND m.is_active ORDER BY u.email");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(tx.client_account_id()).fetch_all(tx.conn()).await?)
}

/// One member of the context's client account, whether active or not (None when the user never
/// was one). `FOR UPDATE` locks the membership until the transaction ends.
pub async fn find_member(tx: &mut TenantTx<'_>, user_id: Uuid, for_update: bool) -> Result<Option<Member>, RepoError> {
    let lock = if for_update { " FOR UPDATE OF m" } else { "" };
    let sql = format!("{MEMBER_SELECT} AND m.user_id = $2{lock}");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tx.client_account_id())
        .bind(user_id)
        .fetch_optional(tx.conn())
        .await?)
}

/// The users holding an active admin membership of the context's client account, their
/// memberships locked until the transaction ends (so two admins cannot demote each other at once
/// and leave the account without one).
pub async fn lock_active_admins(tx: &mut TenantTx<'_>) -> Result<Vec<Uuid>, RepoError> {
    Ok(sqlx::query_scalar(
        "SELECT user_id FROM migration.user_account_associations
         WHERE client_account_id = $1 AND role = 'admin' AND is_active ORDER BY user_id FOR UPDATE",
    )
    .bind(tx.client_account_id())
    .fetch_all(tx.conn())
    .await?)
}

/// Changes the role of an active member of the context's client account (NotFound otherwise).
pub async fn set_member_role(tx: &mut TenantTx<'_>, user_id: Uuid, role: MemberRole) -> Result<(), RepoError> {
    let changed = sqlx::query(
        "UPDATE migration.user_account_associations SET role = $3, updated_at = now()
         WHERE client_account_id = $1 AND user_id = $2 AND is_active",
    )
    .bind(tx.client_account_id())
    .bind(user_id)
    .bind(role)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if changed == 0 { Err(RepoError::not_found("member", user_id)) } else { Ok(()) }
}

/// Ends a user's membership of the context's client account and their grants to its
/// engagements (rows kept, inactive, as the record of who had access; NotFound when the user is
/// no active member).
pub async fn deactivate_member(tx: &mut TenantTx<'_>, user_id: Uuid) -> Result<(), RepoError> {
    let ended = sqlx::query(
        "UPDATE migration.user_account_associations SET is_active = false, updated_at = now()
         WHERE client_account_id = $1 AND user_id = $2 AND is_active",
    )
    .bind(tx.client_account_id())
    .bind(user_id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if ended == 0 {
        return Err(RepoError::not_found("member", user_id));
    }
    sqlx::query(
        "UPDATE migration.engagement_access SET is_active = false, updated_at = now()
         WHERE client_account_id = $1 AND user_id = $2 AND is_active",
    )
    .bind(tx.client_account_id())
    .bind(user_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}
