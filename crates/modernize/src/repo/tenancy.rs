//! Client accounts (global), their engagements and the memberships that give users access.

use sqlx::PgConnection;
use uuid::Uuid;

use super::global::{insert_global, list_global};
use super::table::{insert, list};
use super::{Page, RepoError};
use crate::models::{
    ClientAccount, Engagement, EngagementAccess, MemberRole, NewClientAccount, NewEngagement, UserAccountAssociation,
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

/// Grants `user_id` a role in the context's engagement, or changes the role of their grant (a
/// revoked or expired grant is renewed: active again, without expiry, granted now by the
/// context's user). Needs an engagement in the context.
pub async fn grant_engagement_access(
    tx: &mut TenantTx<'_>,
    user_id: Uuid,
    role: MemberRole,
) -> Result<EngagementAccess, RepoError> {
    let engagement_id = tx.ctx().require_engagement("engagement_access")?;
    let row = sqlx::query_as(
        "INSERT INTO migration.engagement_access (client_account_id, engagement_id, user_id, role, granted_by)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (client_account_id, engagement_id, user_id)
         DO UPDATE SET role = EXCLUDED.role, granted_by = EXCLUDED.granted_by, granted_at = now(),
                       expires_at = NULL, is_active = true, updated_at = now()
         RETURNING *",
    )
    .bind(tx.client_account_id())
    .bind(engagement_id)
    .bind(user_id)
    .bind(role)
    .bind(tx.user_id())
    .fetch_one(tx.conn())
    .await?;
    Ok(row)
}

/// A grant of access to the context's engagement: the user and their role there.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AccessGrant {
    #[sqlx(flatten)]
    pub user: crate::models::User,
    pub client_account_id: Uuid,
    pub engagement_id: Uuid,
    pub role: MemberRole,
    pub granted_by: Option<Uuid>,
    pub granted_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The grants in force (active, not expired) to the context's engagement, by e-mail address.
/// Needs an engagement in the context.
pub async fn list_engagement_access(tx: &mut TenantTx<'_>) -> Result<Vec<AccessGrant>, RepoError> {
    let engagement_id = tx.ctx().require_engagement("engagement_access")?;
    Ok(sqlx::query_as(
        "SELECT u.*, a.client_account_id, a.engagement_id, a.role, a.granted_by, a.granted_at, a.expires_at
         FROM migration.engagement_access a JOIN migration.users u ON u.id = a.user_id
         WHERE a.client_account_id = $1 AND a.engagement_id = $2 AND a.is_active
           AND (a.expires_at IS NULL OR a.expires_at > now())
         ORDER BY u.email",
    )
    .bind(tx.client_account_id())
    .bind(engagement_id)
    .fetch_all(tx.conn())
    .await?)
}

/// Ends `user_id`'s grant to the context's engagement (the row is kept, inactive, as the record
/// of who had access; NotFound when there is no active grant). Needs an engagement in the context.
pub async fn revoke_engagement_access(tx: &mut TenantTx<'_>, user_id: Uuid) -> Result<(), RepoError> {
    let engagement_id = tx.ctx().require_engagement("engagement_access")?;
    let ended = sqlx::query(
        "UPDATE migration.engagement_access SET is_active = false, updated_at = now()
         WHERE client_account_id = $1 AND engagement_id = $2 AND user_id = $3 AND is_active",
    )
    .bind(tx.client_account_id())
    .bind(engagement_id)
    .bind(user_id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if ended == 0 { Err(RepoError::not_found("engagement access of user", user_id)) } else { Ok(()) }
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

/// Changes the role of an active member of the context's client account (NotFound otherwise),
/// lowering their engagement grants that would be stronger than the new role.
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
    if changed == 0 {
        return Err(RepoError::not_found("member", user_id));
    }
    // No engagement grant stronger than the account role (the enum runs admin < analyst < viewer).
    sqlx::query(
        "UPDATE migration.engagement_access SET role = $3, updated_at = now()
         WHERE client_account_id = $1 AND user_id = $2 AND role < $3",
    )
    .bind(tx.client_account_id())
    .bind(user_id)
    .bind(role)
    .execute(tx.conn())
    .await?;
    Ok(())
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
