//! Engagements of a client account: create (slug derived from the name when none is given), list,
//! get by id or slug.

use serde::Deserialize;
use sqlx::PgPool;

use super::views::EngagementView;
use super::{Actor, ServiceError, account_ctx, check_name, connection, engagement_ctx, require, slug_or_derived};
use crate::models::{Engagement, MemberRole, NewEngagement};
use crate::repo::{Page, tenancy};
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
