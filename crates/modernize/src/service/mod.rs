//! The service layer: one public function per use case, shared by the CLI and the REST API.
//!
//! A service takes a pool, an [`Actor`] (who calls) and plain input; it resolves the tenant
//! context (NotFound for an account or engagement the actor cannot reach, exactly as for one that
//! does not exist), checks the role ([`ServiceError`] Forbidden when the actor is a member with a
//! weaker role: 404 before 403), opens one [`TenantTx`], calls the repositories, commits once, and
//! returns view types (never row types: a password hash cannot be printed).
//!
//! Roles: a viewer reads; an analyst also imports, reviews mappings, pauses, resumes, retries and
//! cancels flows and edits assets; an admin also manages the account's engagements, users and
//! memberships. Operators (the CLI and worker bootstrap, see [`OperatorToken`]) may do everything.

pub mod accounts;
pub mod assets;
pub mod auth;
pub mod dependencies;
pub mod discovery;
pub mod engagements;
pub mod error;
pub mod sixr;
pub mod tokens;
pub mod users;
pub mod views;

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

pub use error::ServiceError;

use crate::models::{ClientAccount, Engagement, MemberRole};
use crate::repo::{RepoError, global, tenancy as tenancy_repo};
use crate::tenancy::{EngagementKey, OperatorToken, TenantCtx, TenantTx};

/// A user whose identity was proven (password or API token): made only by [`auth`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthenticatedUser {
    user_id: Uuid,
}

impl AuthenticatedUser {
    pub(crate) fn new(user_id: Uuid) -> Self {
        Self { user_id }
    }

    pub fn user_id(&self) -> Uuid {
        self.user_id
    }
}

/// A user named by id (the API's paths) or e-mail address (the CLI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    Id(Uuid),
    Email(String),
}

impl UserRef {
    /// The input field that names the member, for errors.
    pub(crate) fn field(&self) -> &'static str {
        match self {
            Self::Id(_) => "user_id",
            Self::Email(_) => "email",
        }
    }
}

impl std::fmt::Display for UserRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Id(id) => write!(f, "{id}"),
            Self::Email(email) => f.write_str(email),
        }
    }
}

/// Who calls a service.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// The CLI or the worker, holding the process's operator capability.
    Operator(&'a OperatorToken),
    /// A signed-in user, acting with the roles of their memberships.
    User(AuthenticatedUser),
}

impl Actor<'_> {
    pub fn user_id(&self) -> Option<Uuid> {
        match self {
            Self::Operator(_) => None,
            Self::User(user) => Some(user.user_id),
        }
    }
}

/// Checks that the context's role is at least `required` for `action`.
pub(crate) fn require(ctx: &TenantCtx, required: MemberRole, action: &str) -> Result<(), ServiceError> {
    if ctx.has_role(required) { Ok(()) } else { Err(ServiceError::forbidden(action, required, Some(ctx.role()))) }
}

/// The client account an id or slug names (global lookup; callers check access afterwards).
pub async fn find_account(conn: &mut PgConnection, id_or_slug: &str) -> Result<ClientAccount, ServiceError> {
    let found = match id_or_slug.parse::<Uuid>() {
        Ok(id) => global::get_global::<ClientAccount>(conn, id).await,
        // No slug has this shape (and a NUL byte could not even be sent to PostgreSQL).
        Err(_) if check_slug(id_or_slug).is_err() => Err(RepoError::not_found("client account", id_or_slug)),
        Err(_) => tenancy_repo::find_client_account_by_slug(conn, id_or_slug).await,
    };
    found.map_err(|error| match error {
        RepoError::NotFound { .. } => ServiceError::not_found("client account", id_or_slug),
        other => other.into(),
    })
}

/// The actor's context in the client account named by `account` (id or slug): NotFound when it
/// does not exist or the actor is not a member.
pub async fn account_ctx(conn: &mut PgConnection, actor: &Actor<'_>, account: &str) -> Result<TenantCtx, ServiceError> {
    let tx = account_tx(conn, actor, account).await?;
    let ctx = tx.ctx().clone();
    tx.commit().await?;
    Ok(ctx)
}

/// [`account_ctx`]'s checks, with the tenant transaction they ran in left open for the work.
pub(crate) async fn account_tx<'c>(
    conn: &'c mut PgConnection,
    actor: &Actor<'_>,
    account: &str,
) -> Result<TenantTx<'c>, ServiceError> {
    let found = find_account(conn, account).await?;
    let tx = match actor {
        Actor::Operator(token) => TenantTx::begin_for_operator(conn, token, found.id).await,
        Actor::User(user) => TenantTx::begin_for_member(conn, user.user_id, found.id).await,
    };
    let tx = tx.map_err(|error| match error {
        RepoError::NotFound { .. } => ServiceError::not_found("client account", account),
        other => other.into(),
    })?;
    // The tenant of the request or command under way, for its logs (a span without this field,
    // such as a CLI command's, ignores it).
    tracing::Span::current().record("client_account_id", tracing::field::display(tx.client_account_id()));
    Ok(tx)
}

/// The actor's context in one engagement (id or slug) of the account: NotFound when the
/// engagement does not exist in it or the actor has no access to it.
pub async fn engagement_ctx(
    conn: &mut PgConnection,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
) -> Result<(TenantCtx, Engagement), ServiceError> {
    let (tx, found) = engagement_tx(conn, actor, account, engagement).await?;
    let ctx = tx.ctx().clone();
    tx.commit().await?;
    Ok((ctx, found))
}

/// [`engagement_ctx`]'s checks, with the tenant transaction they ran in left open for the work
/// (a read such as the asset list then takes one transaction, not four).
pub(crate) async fn engagement_tx<'c>(
    conn: &'c mut PgConnection,
    actor: &Actor<'_>,
    account: &str,
    engagement: &str,
) -> Result<(TenantTx<'c>, Engagement), ServiceError> {
    let key = match engagement.parse::<Uuid>() {
        Ok(id) => Some(EngagementKey::Id(id)),
        // No slug has this shape: the engagement is missing, once the account is checked.
        Err(_) if check_slug(engagement).is_err() => None,
        Err(_) => Some(EngagementKey::Slug(engagement)),
    };
    if let (Actor::User(user), Some(key)) = (actor, key) {
        // A member's checks, the engagement and the role in one statement (every API request).
        let found = find_account(conn, account).await?;
        let entered = TenantTx::begin_for_member_in_engagement(conn, user.user_id, found.id, key).await;
        let (tx, found) = entered.map_err(|error| match error {
            RepoError::NotFound { entity: "client account", .. } => ServiceError::not_found("client account", account),
            RepoError::NotFound { .. } => ServiceError::not_found("engagement", engagement),
            other => other.into(),
        })?;
        let span = tracing::Span::current();
        span.record("client_account_id", tracing::field::display(tx.client_account_id()));
        span.record("engagement_id", tracing::field::display(found.id));
        return Ok((tx, found));
    }
    let mut tx = account_tx(conn, actor, account).await?;
    let client_account_id = tx.client_account_id();
    let found: Option<Engagement> = match key {
        None => None,
        Some(EngagementKey::Id(id)) => {
            sqlx::query_as("SELECT * FROM migration.engagements WHERE client_account_id = $1 AND id = $2")
                .bind(client_account_id)
                .bind(id)
                .fetch_optional(tx.conn())
                .await?
        }
        Some(EngagementKey::Slug(slug)) => {
            sqlx::query_as("SELECT * FROM migration.engagements WHERE client_account_id = $1 AND slug = $2")
                .bind(client_account_id)
                .bind(slug)
                .fetch_optional(tx.conn())
                .await?
        }
    };
    let not_found = || ServiceError::not_found("engagement", engagement);
    let found = found.ok_or_else(not_found)?;
    tx.enter_engagement(found.id).await.map_err(|error| match error {
        RepoError::NotFound { .. } => not_found(),
        other => other.into(),
    })?;
    tracing::Span::current().record("engagement_id", tracing::field::display(found.id));
    Ok((tx, found))
}

/// A connection of the pool, as a service error when the pool cannot give one.
pub(crate) async fn connection(pool: &PgPool) -> Result<sqlx::pool::PoolConnection<sqlx::Postgres>, ServiceError> {
    Ok(pool.acquire().await?)
}

/// A URL-safe identifier from a name: lower-case ASCII letters and digits, other runs become one
/// dash (`"Cloud Migration 2027"` → `cloud-migration-2027`); letters with accents lose them.
pub fn slug_from_name(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(fold_accent) {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').chars().take(100).collect::<String>().trim_end_matches('-').to_owned()
}

fn fold_accent(c: char) -> Vec<char> {
    let folded = match c {
        'à' | 'á' | 'â' | 'ã' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Å' => "a",
        'ä' | 'Ä' | 'æ' | 'Æ' => "ae",
        'ç' | 'Ç' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ñ' | 'Ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ø' => "o",
        'ö' | 'Ö' | 'œ' | 'Œ' => "oe",
        'ù' | 'ú' | 'û' | 'Ù' | 'Ú' | 'Û' => "u",
        'ü' | 'Ü' => "ue",
        'ß' => "ss",
        _ => return vec![c],
    };
    folded.chars().collect()
}

/// Checks a slug given by a caller: the schema's shape (`^[a-z0-9][a-z0-9-]*$`), at most 100
/// characters, and not a UUID (ids and slugs name accounts and engagements alike, so a slug that
/// parses as a UUID would name another row).
pub fn check_slug(slug: &str) -> Result<(), ServiceError> {
    let shaped = slug.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !shaped || slug.chars().count() > 100 {
        return Err(ServiceError::invalid(
            "slug",
            format!("{slug:?} must be 1 to 100 lower-case letters, digits and dashes, starting with a letter or digit"),
        ));
    }
    if slug.parse::<Uuid>().is_ok() {
        return Err(ServiceError::invalid("slug", format!("{slug:?} is a UUID; a slug must not look like an id")));
    }
    Ok(())
}

/// The slug given, checked, or one derived from the name.
pub(crate) fn slug_or_derived(slug: Option<&str>, name: &str) -> Result<String, ServiceError> {
    let slug = match slug {
        Some(slug) => slug.to_owned(),
        None => slug_from_name(name),
    };
    if slug.is_empty() {
        return Err(ServiceError::invalid("name", "needs at least one letter or digit to derive a slug from"));
    }
    check_slug(&slug)?;
    Ok(slug)
}

/// A name given by a caller: trimmed, 1 to 255 characters.
pub(crate) fn check_name(field: &str, name: &str) -> Result<String, ServiceError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 255 {
        return Err(ServiceError::invalid(field, "must be 1 to 255 characters"));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_derived_from_names() {
        assert_eq!(slug_from_name("Cloud Migration 2027"), "cloud-migration-2027");
        assert_eq!(slug_from_name("  Zürich / Genève  "), "zuerich-geneve");
        assert_eq!(slug_from_name("---"), "");
    }

    #[test]
    fn slugs_that_look_like_ids_are_refused() {
        assert!(check_slug("acme-retail").is_ok());
        assert!(check_slug("0b6c1c52-54e4-4f4c-9f5c-0c7f6d8f9a11").is_err());
        assert!(check_slug("Acme").is_err());
        assert!(check_slug("-acme").is_err());
    }
}
