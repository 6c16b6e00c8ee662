//! Engagements of a client account: create (slug derived from the name when none is given), list,
//! get by id or slug; who has access to one: grant, change, revoke, list.
//!
//! Access rule: account admins reach every engagement as admins; analysts and viewers reach the
//! engagements they are granted, with the grant's role, which may not exceed their account role
//! (an analyst may be granted analyst or viewer, a viewer only viewer). Only account admins and
//! operators manage grants.

use serde::Deserialize;
use sqlx::PgPool;

use super::views::{EngagementAccessView, EngagementView};
use super::{
    Actor, ServiceError, UserRef, account_ctx, check_name, connection, engagement_ctx, require, slug_or_derived,
};
use crate::models::{Engagement, MemberRole, NewEngagement};
use crate::repo::users as users_repo;
use crate::repo::{Page, RepoError, tenancy};
use crate::tenancy::TenantTx;

/// A new engagement; without a slug, one is derived from the name.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEngagementInput {
    /// 1 to 255 characters.
    #[schema(example = "Data centre exit 2028", min_length = 1, max_length = 255)]
    pub name: String,
    /// Lower-case letters, digits and dashes, at most 100, not a UUID, unique in the account;
    /// derived from the name when left out.
    #[schema(example = "dc-exit-2028", max_length = 100, pattern = "^[a-z0-9][a-z0-9-]*$")]
    pub slug: Option<String>,
    pub description: Option<String>,
}

/// Creates an engagement in the client account `account` (id or slug). Account admins only:
/// NotFound for a non-member, Forbidden for a weaker role, Invalid `name`/`slug`, Conflict `slug`
/// when the account already has an engagement with that slug.
pub async fn create_engagement(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    input: NewEngagementInput,
) -> Result<EngagementView, ServiceError> {
    let mut conn = connection(pool).await?;
    let ctx = account_ctx(&mut conn, actor, account).await?;
    require(&ctx, MemberRole::Admin, "creating an engagement")?;
    let name = check_name("name", &input.name)?;
    let slug = slug_or_derived(input.slug.as_deref(), &name)?;
    let new: NewEngagement = serde_json::from_value(serde_json::json!({
        "name": name, "slug": slug, "description": input.description, "created_by": actor.user_id()
    }))
    .map_err(|e| ServiceError::invalid("engagement", e.to_string()))?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let engagement = tenancy::create_engagement(&mut tx, &new).await?;
    tx.commit().await?;
    Ok(engagement.into())
}

/// The engagements of the account the actor can reach, by slug: all of them for account admins
/// and operators, those with an active grant for other members. NotFound for a non-member.
pub async fn list_engagements(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
) -> Result<Vec<EngagementView>, ServiceError> {
    let mut conn = connection(pool).await?;
    let ctx = account_ctx(&mut conn, actor, account).await?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let mut engagements: Vec<Engagement> = if ctx.has_role(MemberRole::Admin) {
        tenancy::list_engagements(&mut tx, Page::ALL).await?
    } else {
        sqlx::query_as(
            "SELECT e.* FROM migration.engagements e
             JOIN migration.engagement_access a ON a.client_account_id = e.client_account_id AND a.engagement_id = e.id
             WHERE e.client_account_id = $1 AND a.user_id = $2 AND a.is_active
               AND (a.expires_at IS NULL OR a.expires_at > now())",
        )
        .bind(ctx.client_account_id())
        .bind(ctx.user_id())
        .fetch_all(tx.conn())
        .await?
    };
    tx.commit().await?;
    engagements.sort_by(|a, b| a.slug.cmp(&b.slug));
    Ok(engagements.into_iter().map(EngagementView::from).collect())
}

/// One engagement by id or slug within the account; NotFound when either does not exist or the
/// actor cannot reach it.
pub async fn get_engagement(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
) -> Result<EngagementView, ServiceError> {
    let mut conn = connection(pool).await?;
    let (_, found) = engagement_ctx(&mut conn, actor, account, engagement).await?;
    Ok(found.into())
}

/// The active member `who` names in the context's account (NotFound `member` otherwise, also for
/// an address no user has: nothing is told about users outside the account).
async fn find_active_member(tx: &mut TenantTx<'_>, who: &UserRef) -> Result<tenancy::Member, ServiceError> {
    let not_found = || ServiceError::not_found("member", who);
    let user_id = match who {
        UserRef::Id(id) => *id,
        UserRef::Email(email) => match users_repo::find_user_by_email(tx.conn(), email).await {
            Ok(user) => user.id,
            Err(RepoError::NotFound { .. }) => return Err(not_found()),
            Err(other) => return Err(other.into()),
        },
    };
    tenancy::find_member(tx, user_id, true).await?.filter(|m| m.membership_active).ok_or_else(not_found)
}

/// Who has access to the engagement (`engagement` id or slug within `account`): the grants in
/// force, by e-mail address (account admins, who reach every engagement, are not listed). Account
/// admins and operators only: NotFound for a non-member or an engagement the caller cannot reach,
/// Forbidden for a weaker role.
pub async fn list_access(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
) -> Result<Vec<EngagementAccessView>, ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, _) = engagement_ctx(&mut conn, actor, account, engagement).await?;
    require(&ctx, MemberRole::Admin, "listing an engagement's access")?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let grants = tenancy::list_engagement_access(&mut tx).await?;
    tx.commit().await?;
    Ok(grants.into_iter().map(EngagementAccessView::from).collect())
}

/// Grants the member `who` access to the engagement with `role` (default: their account role), or
/// changes the role of their grant. Account admins and operators only (NotFound/Forbidden as for
/// [`list_access`]); NotFound `member` when `who` is no active member of the account; Invalid
/// `user_id`/`email` for an account admin (they reach every engagement already), Invalid `role`
/// for a role above the member's account role.
pub async fn grant_access(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
    who: &UserRef,
    role: Option<MemberRole>,
) -> Result<EngagementAccessView, ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, _) = engagement_ctx(&mut conn, actor, account, engagement).await?;
    require(&ctx, MemberRole::Admin, "granting access to an engagement")?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let member = find_active_member(&mut tx, who).await?;
    if member.role == MemberRole::Admin {
        return Err(ServiceError::invalid(
            who.field(),
            format!("{} is an admin of the account and reaches every engagement as admin", member.user.email),
        ));
    }
    let role = role.unwrap_or(member.role);
    // The enum runs from the strongest role (admin) to the weakest (viewer).
    if role < member.role {
        return Err(ServiceError::invalid(
            "role",
            format!(
                "{} is {} in the account; an engagement grant cannot exceed it (ask for {} or weaker)",
                member.user.email, member.role, member.role
            ),
        ));
    }
    tenancy::grant_engagement_access(&mut tx, member.user.id, role).await?;
    let granted = tenancy::list_engagement_access(&mut tx)
        .await?
        .into_iter()
        .find(|grant| grant.user.id == member.user.id)
        .ok_or_else(|| ServiceError::internal("a grant just written is not listed"))?;
    tx.commit().await?;
    Ok(granted.into())
}

/// Ends the member `who`'s grant to the engagement (kept as an inactive row, the record of who
/// had access). Account admins and operators only (NotFound/Forbidden as for [`list_access`]);
/// NotFound when `who` is no active member or holds no active grant there.
pub async fn revoke_access(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
    who: &UserRef,
) -> Result<(), ServiceError> {
    let mut conn = connection(pool).await?;
    let (ctx, _) = engagement_ctx(&mut conn, actor, account, engagement).await?;
    require(&ctx, MemberRole::Admin, "revoking access to an engagement")?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let member = find_active_member(&mut tx, who).await?;
    tenancy::revoke_engagement_access(&mut tx, member.user.id).await.map_err(|error| match error {
        RepoError::NotFound { .. } => ServiceError::not_found("engagement access of", who),
        other => other.into(),
    })?;
    tx.commit().await?;
    Ok(())
}
