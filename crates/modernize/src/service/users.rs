//! Users and their memberships: create a user with memberships in one transaction, list users;
//! the members of one client account: list, add (creating the user when needed), change role, remove.

use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

use super::accounts::is_platform_actor;
use super::views::{AddedMember, MemberView, MembershipView, UserView, UserWithMemberships};
use super::{Actor, ServiceError, UserRef, account_ctx, connection, find_account, require};
use crate::models::{MemberRole, User};
use crate::repo::users::{self as users_repo, NewUserInput, Password};
use crate::repo::{Page, RepoError, tenancy};
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

/// Who to add to a client account: the user with this e-mail address, created when there is none.
#[derive(Debug, Clone)]
pub struct NewMember {
    pub email: String,
    pub role: MemberRole,
    /// Only for a user created here: an existing user's password is theirs alone (Invalid
    /// `password` when given for one).
    pub password: Option<Password>,
    /// Only for a user created here; an existing user's names are kept.
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// The active members of the client account, by e-mail address. Any member may read them;
/// NotFound for a non-member.
pub async fn list_members(pool: &PgPool, actor: &Actor<'_>, account: &str) -> Result<Vec<MemberView>, ServiceError> {
    let mut conn = connection(pool).await?;
    let ctx = account_ctx(&mut conn, actor, account).await?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let members = tenancy::list_active_members(&mut tx).await?;
    tx.commit().await?;
    Ok(members.into_iter().map(MemberView::from).collect())
}

/// One active member of the client account (NotFound for a user who is none, and for a caller
/// who is no member).
pub async fn get_member(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    user_id: Uuid,
) -> Result<MemberView, ServiceError> {
    let mut conn = connection(pool).await?;
    let ctx = account_ctx(&mut conn, actor, account).await?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let member = active_member(&mut tx, user_id, false).await?;
    tx.commit().await?;
    Ok(member.into())
}

async fn active_member(tx: &mut TenantTx<'_>, user_id: Uuid, lock: bool) -> Result<tenancy::Member, ServiceError> {
    tenancy::find_member(tx, user_id, lock)
        .await?
        .filter(|m| m.membership_active)
        .ok_or_else(|| ServiceError::not_found("member", user_id))
}

/// Adds a user to the client account with a role, creating the user when no one has the e-mail
/// address, in one transaction. Account admins only (NotFound for a non-member, Forbidden for a
/// weaker role); Invalid `email`/`password`; Conflict `email` when the user is already an active
/// member. A removed member is added again with the new role.
pub async fn add_member(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    input: NewMember,
) -> Result<AddedMember, ServiceError> {
    let mut conn = connection(pool).await?;
    let ctx = account_ctx(&mut conn, actor, account).await?;
    require(&ctx, MemberRole::Admin, "adding a member")?;
    let email = users_repo::parse_email(&input.email)?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let existing = match users_repo::find_user_by_email(tx.conn(), &email).await {
        Ok(user) => Some(user),
        Err(RepoError::NotFound { .. }) => None,
        Err(other) => return Err(other.into()),
    };
    let (user_id, user_created) = match existing {
        Some(user) => {
            if tenancy::find_member(&mut tx, user.id, true).await?.is_some_and(|m| m.membership_active) {
                return Err(ServiceError::conflict(Some("email"), format!("{email} is already a member")));
            }
            if input.password.is_some() {
                return Err(ServiceError::invalid(
                    "password",
                    format!("{email} already has an account; only its owner sets its password"),
                ));
            }
            (user.id, false)
        }
        None => {
            let new = NewUserInput {
                email,
                password: input.password,
                first_name: input.first_name,
                last_name: input.last_name,
                is_platform_admin: false,
            };
            (users_repo::create_user(tx.conn(), &new).await?.id, true)
        }
    };
    tenancy::add_account_member(&mut tx, user_id, input.role).await?;
    let member = active_member(&mut tx, user_id, false).await?;
    tx.commit().await?;
    Ok(AddedMember { member: member.into(), user_created })
}

/// Changes an active member's role. Account admins only; NotFound for a user who is no member;
/// Conflict `role` when it would leave the account without an active admin.
pub async fn change_member_role(
    pool: &PgPool,
    actor: &Actor<'_>,
    account: &str,
    user_id: Uuid,
    role: MemberRole,
) -> Result<MemberView, ServiceError> {
    let mut conn = connection(pool).await?;
    let ctx = account_ctx(&mut conn, actor, account).await?;
    require(&ctx, MemberRole::Admin, "changing a member's role")?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    // The admins first, always in the same order, so that concurrent changes cannot deadlock.
    let admins = tenancy::lock_active_admins(&mut tx).await?;
    let member = active_member(&mut tx, user_id, true).await?;
    if member.role == MemberRole::Admin && role != MemberRole::Admin {
        keep_an_admin(&admins, user_id, "role")?;
    }
    tenancy::set_member_role(&mut tx, user_id, role).await?;
    let member = active_member(&mut tx, user_id, false).await?;
    tx.commit().await?;
    Ok(member.into())
}

/// Ends a user's membership of the client account (and their grants to its engagements). Account
/// admins only; NotFound for a user who is no active member; Conflict when it would leave the
/// account without an active admin.
pub async fn remove_member(pool: &PgPool, actor: &Actor<'_>, account: &str, user_id: Uuid) -> Result<(), ServiceError> {
    let mut conn = connection(pool).await?;
    let ctx = account_ctx(&mut conn, actor, account).await?;
    require(&ctx, MemberRole::Admin, "removing a member")?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let admins = tenancy::lock_active_admins(&mut tx).await?;
    let member = active_member(&mut tx, user_id, true).await?;
    if member.role == MemberRole::Admin {
        keep_an_admin(&admins, user_id, "user_id")?;
    }
    tenancy::deactivate_member(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Refuses a change that leaves no active admin but `user_id` (an account nobody can manage).
fn keep_an_admin(admins: &[Uuid], user_id: Uuid, field: &str) -> Result<(), ServiceError> {
    if admins.iter().any(|admin| *admin != user_id) {
        Ok(())
    } else {
        Err(ServiceError::conflict(Some(field), "this is the account's last admin: make another member admin first"))
    }
}

/// Deactivates a user (`who`: id or e-mail address): from then on their sign-in, API tokens and
/// sessions answer 401 as for an unknown user; their sessions are ended and their tokens revoked,
/// in one transaction. Operators and platform administrators only (Forbidden otherwise); NotFound
/// for an unknown user; Conflict (`user_id`/`email`) for a platform administrator deactivating
/// themselves, who would lock themselves out. Deactivating twice changes nothing.
pub async fn deactivate_user(pool: &PgPool, actor: &Actor<'_>, who: &UserRef) -> Result<UserView, ServiceError> {
    let mut conn = connection(pool).await?;
    let user_id = platform_target(&mut conn, actor, who, "deactivating a user").await?;
    if actor.user_id() == Some(user_id) {
        return Err(ServiceError::conflict(Some(who.field()), "a platform administrator cannot deactivate themselves"));
    }
    let mut tx = conn.begin().await?;
    let user = users_repo::deactivate_user(&mut tx, user_id).await.map_err(|e| user_not_found(e, who))?;
    tx.commit().await?;
    Ok(user.into())
}

/// Reactivates a deactivated user (`who`: id or e-mail address): their password signs in again.
/// The sessions ended and the API tokens revoked when they were deactivated stay so: they sign in
/// afresh and issue new tokens. Operators and platform administrators only (Forbidden otherwise);
/// NotFound for an unknown user. Reactivating an active user changes nothing.
pub async fn reactivate_user(pool: &PgPool, actor: &Actor<'_>, who: &UserRef) -> Result<UserView, ServiceError> {
    let mut conn = connection(pool).await?;
    let user_id = platform_target(&mut conn, actor, who, "reactivating a user").await?;
    let mut tx = conn.begin().await?;
    let user = users_repo::reactivate_user(&mut tx, user_id).await.map_err(|e| user_not_found(e, who))?;
    tx.commit().await?;
    Ok(user.into())
}

/// The id of the user a platform action (`action`, for the Forbidden message) is about:
/// Forbidden unless the actor is an operator or a platform administrator, then NotFound for an
/// unknown e-mail address.
async fn platform_target(
    conn: &mut PgConnection,
    actor: &Actor<'_>,
    who: &UserRef,
    action: &str,
) -> Result<Uuid, ServiceError> {
    if !is_platform_actor(conn, actor).await? {
        return Err(ServiceError::forbidden_platform(action));
    }
    match who {
        UserRef::Id(id) => Ok(*id),
        UserRef::Email(email) => {
            Ok(users_repo::find_user_by_email(conn, email).await.map_err(|e| user_not_found(e, who))?.id)
        }
    }
}

fn user_not_found(error: RepoError, who: &UserRef) -> ServiceError {
    match error {
        RepoError::NotFound { .. } => ServiceError::not_found("user", who),
        other => other.into(),
    }
}
