//! Client accounts (tenants): create, list, get by id or slug.

use serde::Deserialize;
use sqlx::{Connection, PgConnection, PgPool, Postgres, Transaction};

use super::views::AccountView;
use super::{Actor, AuthenticatedUser, ServiceError, account_ctx, check_name, connection, slug_or_derived};
use uuid::Uuid;

use crate::models::{ClientAccount, MemberRole, NewClientAccount, User};
use crate::repo::{Page, global, tenancy};
use crate::tenancy::{TenantCtx, TenantTx};

/// A new client account; without a slug, one is derived from the name.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// 1 to 255 characters.
    #[schema(example = "Initech", min_length = 1, max_length = 255)]
    pub name: String,
    /// Lower-case letters, digits and dashes, at most 100, not a UUID; derived from the name when
    /// left out.
    #[schema(example = "initech", max_length = 100, pattern = "^[a-z0-9][a-z0-9-]*$")]
    pub slug: Option<String>,
    /// At most 100 characters.
    #[schema(max_length = 100)]
    pub industry: Option<String>,
    pub description: Option<String>,
}

/// Whether the actor may act on the platform itself (create tenants, see every user): operators
/// and platform administrators.
pub(crate) async fn is_platform_actor(conn: &mut PgConnection, actor: &Actor<'_>) -> Result<bool, ServiceError> {
    match actor {
        Actor::Operator(_) => Ok(true),
        Actor::User(user) => {
            let found = global::get_global::<User>(conn, user.user_id()).await?;
            Ok(found.is_active && found.is_platform_admin)
        }
    }
}

/// Creates a client account. Operators and platform administrators only (Forbidden otherwise);
/// a platform administrator becomes the new account's admin in the same transaction (else no
/// one could reach it). Invalid `name` or `slug` for a bad one, Conflict `slug` when it is taken.
pub async fn create_account(pool: &PgPool, actor: &Actor<'_>, input: NewAccount) -> Result<AccountView, ServiceError> {
    let mut conn = connection(pool).await?;
    if !is_platform_actor(&mut conn, actor).await? {
        return Err(ServiceError::forbidden_platform("creating a client account"));
    }
    let name = check_name("name", &input.name)?;
    let slug = slug_or_derived(input.slug.as_deref(), &name)?;
    let id = Uuid::new_v4();
    let new: NewClientAccount = serde_json::from_value(serde_json::json!({
        "id": id, "name": name, "slug": slug, "industry": input.industry, "description": input.description
    }))
    .map_err(|e| ServiceError::invalid("client account", e.to_string()))?;
    let account = match actor {
        Actor::Operator(_) => tenancy::create_client_account(&mut conn, &new).await?,
        Actor::User(user) => {
            let ctx = TenantCtx::for_account_creator(id, user.user_id());
            let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
            let account = tenancy::create_client_account(tx.conn(), &new).await?;
            tenancy::add_account_member(&mut tx, user.user_id(), MemberRole::Admin).await?;
            tx.commit().await?;
            account
        }
    };
    Ok(account.into())
}

/// The client accounts the actor can reach: every one for operators and platform
/// administrators, otherwise those the user is an active member of. Ordered by slug.
pub async fn list_accounts(pool: &PgPool, actor: &Actor<'_>) -> Result<Vec<AccountView>, ServiceError> {
    let mut conn = connection(pool).await?;
    let mut accounts: Vec<ClientAccount> = match actor {
        _ if is_platform_actor(&mut conn, actor).await? => tenancy::list_client_accounts(&mut conn, Page::ALL).await?,
        Actor::Operator(_) => Vec::new(),
        Actor::User(user) => {
            let mut tx = begin_as_user(&mut conn, user).await?;
            let rows = sqlx::query_as(
                "SELECT a.* FROM migration.client_accounts a
                 JOIN migration.user_account_associations m ON m.client_account_id = a.id
                 WHERE m.user_id = $1 AND m.is_active",
            )
            .bind(user.user_id())
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            rows
        }
    };
    accounts.sort_by(|a, b| a.slug.cmp(&b.slug));
    Ok(accounts.into_iter().map(AccountView::from).collect())
}

/// One client account by id or slug; NotFound when it does not exist or the actor is not a
/// member of it.
pub async fn get_account(pool: &PgPool, actor: &Actor<'_>, account: &str) -> Result<AccountView, ServiceError> {
    let mut conn = connection(pool).await?;
    let ctx = account_ctx(&mut conn, actor, account).await?;
    let found = global::get_global::<ClientAccount>(&mut conn, ctx.client_account_id()).await?;
    Ok(found.into())
}

/// A transaction acting for a user across tenants: as `modernize_app` with no tenant set, so
/// row-level security shows only the user's own membership rows.
pub(crate) async fn begin_as_user<'c>(
    conn: &'c mut PgConnection,
    user: &AuthenticatedUser,
) -> Result<Transaction<'c, Postgres>, ServiceError> {
    let mut tx = conn.begin().await?;
    sqlx::query(
        "SELECT set_config('role', 'modernize_app', true), set_config('modernize.client_account_id', '', true),
                set_config('modernize.user_id', $1, true)",
    )
    .bind(user.user_id().to_string())
    .execute(&mut *tx)
    .await?;
    Ok(tx)
}
