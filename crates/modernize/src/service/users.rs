//! Users and their memberships: create a user with memberships in one transaction, list users.

use sqlx::{Connection, PgPool};
use uuid::Uuid;

use super::accounts::is_platform_actor;
use super::views::{MembershipView, UserView, UserWithMemberships};
use super::{Actor, ServiceError, account_ctx, connection, find_account, require};
use crate::models::{MemberRole, User};
use crate::repo::users::{self as users_repo, NewUserInput, Password};
use crate::repo::{Page, tenancy};
use crate::tenancy::TenantTx;

/// A membership to grant: a client account (id or slug) and the role in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipInput {
    pub account: String,
    pub role: MemberRole,
}

/// A new user; `password` may be left out (the user cannot sign in until one is set).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub password: Option<Password>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub memberships: Vec<MembershipInput>,
}

/// Parses `ACCOUNT:ROLE` (account id or slug; role admin, analyst or viewer).
pub fn parse_membership(value: &str) -> Result<MembershipInput, ServiceError> {
    let (account, role) = value
        .rsplit_once(':')
        .ok_or_else(|| ServiceError::invalid("memberships", format!("{value:?} is not ACCOUNT:ROLE")))?;
    let role = role.parse::<MemberRole>().map_err(|e| ServiceError::invalid("memberships", e.to_string()))?;
    Ok(MembershipInput { account: account.to_owned(), role })
}

/// Creates a user and its memberships, all or nothing. The actor must be an admin of every
/// account named (NotFound for an account they are not a member of, Forbidden for a weaker role);
/// a user without any membership may only be created by operators and platform administrators.
/// Invalid `email`/`password`, Conflict `email` when the address is taken.
pub async fn create_user(
    pool: &PgPool,
    actor: &Actor<'_>,
    input: NewUser,
) -> Result<UserWithMemberships, ServiceError> {
    let mut conn = connection(pool).await?;
    let mut grants = Vec::with_capacity(input.memberships.len());
    for membership in &input.memberships {
        let ctx = account_ctx(&mut conn, actor, &membership.account).await?;
        require(&ctx, MemberRole::Admin, "granting a membership")?;
        let slug = find_account(&mut conn, &membership.account).await?.slug;
        grants.push((ctx, slug, membership.role));
    }
    if grants.is_empty() && !is_platform_actor(&mut conn, actor).await? {
        return Err(ServiceError::forbidden_platform("creating a user without a membership"));
    }
    let new = NewUserInput {
        email: input.email,
        password: input.password,
        first_name: input.first_name,
        last_name: input.last_name,
        is_platform_admin: false,
    };
    let mut memberships = Vec::with_capacity(grants.len());
    let user = match grants.split_first() {
        None => {
            // Global rows only: no tenant to act for.
            let mut tx = conn.begin().await?;
            let user = users_repo::create_user(&mut tx, &new).await?;
            tx.commit().await?;
            user
        }
        Some(((first, _, _), _)) => {
            let mut tx = TenantTx::begin(&mut conn, first).await?;
            let user = users_repo::create_user(tx.conn(), &new).await?;
            for (ctx, slug, role) in &grants {
                tx.switch_to(ctx).await?;
                let row = tenancy::add_account_member(&mut tx, user.id, *role).await?;
                memberships.push(MembershipView {
                    client_account_id: row.client_account_id,
                    client_account_slug: slug.clone(),
                    role: row.role,
                    is_active: row.is_active,
                });
            }
            tx.commit().await?;
            user
        }
    };
    memberships.sort_by(|a, b| a.client_account_slug.cmp(&b.client_account_slug));
    memberships.dedup_by(|a, b| a.client_account_id == b.client_account_id);
    Ok(UserWithMemberships { user: user.into(), memberships })
}

/// Users with their memberships. Without `account`: every user of the platform with all
/// memberships (operators and platform administrators only). With `account` (id or slug): the
/// members of that account with their membership in it (admins of the account; NotFound for a
/// non-member, Forbidden for a weaker role).
pub async fn list_users(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: Option<&str>,
) -> Result<Vec<UserWithMemberships>, ServiceError> {
    let mut conn = connection(pool).await?;
    let (users, memberships): (Vec<User>, Vec<users_repo::Membership>) = match account {
        None => {
            if !is_platform_actor(&mut conn, actor).await? {
                return Err(ServiceError::forbidden_platform("listing every user"));
            }
            let users = users_repo::list_users(&mut conn, Page::ALL).await?;
            let ids: Vec<Uuid> = users.iter().map(|u| u.id).collect();
            let memberships = users_repo::memberships_of_users(&mut conn, &ids).await?;
            (users, memberships)
        }
        Some(account) => {
            let ctx = account_ctx(&mut conn, actor, account).await?;
            require(&ctx, MemberRole::Admin, "listing the account's users")?;
            let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
            let memberships: Vec<users_repo::Membership> = sqlx::query_as(
                "SELECT m.user_id, m.client_account_id, a.slug AS client_account_slug, m.role, m.is_active
                 FROM migration.user_account_associations m
                 JOIN migration.client_accounts a ON a.id = m.client_account_id
                 WHERE m.client_account_id = $1",
            )
            .bind(ctx.client_account_id())
            .fetch_all(tx.conn())
            .await?;
            let ids: Vec<Uuid> = memberships.iter().map(|m| m.user_id).collect();
            let users: Vec<User> =
                sqlx::query_as("SELECT * FROM migration.users WHERE id = ANY ($1) ORDER BY created_at")
                    .bind(&ids)
                    .fetch_all(tx.conn())
                    .await?;
            tx.commit().await?;
            (users, memberships)
        }
    };
    Ok(users
        .into_iter()
        .map(|u| {
            let mine = memberships.iter().filter(|m| m.user_id == u.id).cloned().map(MembershipView::from).collect();
            UserWithMemberships { user: UserView::from(u), memberships: mine }
        })
        .collect())
}
