//! Who a request acts for, and the transaction it acts in.
//!
//! A [`TenantCtx`] names a client account (and possibly one of its engagements), the user and the
//! role; its fields are private and only the constructors here produce one, each after checking
//! that the tenant exists and (for members) the membership. A [`TenantTx`] is the only way to
//! reach tenant data: it begins a transaction, switches to the role `modernize_app` (subject to
//! row-level security) and sets the tenant once; every repository function on tenant data takes
//! one, and the caller commits it once.

use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::{Connection, PgConnection, Postgres, Transaction};
use uuid::Uuid;

use crate::models::{Engagement, MemberRole};
use crate::repo::RepoError;

/// Proof that the process acts as an operator (the CLI, the worker): full rights on every client
/// account. Only one can ever be made per process, by [`OperatorToken::bootstrap`], which the
/// binary calls first thing in `main`; code reached later (an HTTP handler) cannot make another.
#[derive(Debug)]
pub struct OperatorToken(());

static OPERATOR_TAKEN: AtomicBool = AtomicBool::new(false);

impl OperatorToken {
    /// The process's operator capability: `Some` on the first call in the process, `None` on
    /// every later one. The binary's bootstrap takes it before it parses a request of any kind.
    pub fn bootstrap() -> Option<Self> {
        (!OPERATOR_TAKEN.swap(true, Ordering::SeqCst)).then_some(Self(()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantCtx {
    client_account_id: Uuid,
    engagement_id: Option<Uuid>,
    user_id: Option<Uuid>,
    role: MemberRole,
}

/// Roles from weakest to strongest: each role may do what the weaker ones may.
fn rank(role: MemberRole) -> u8 {
    match role {
        MemberRole::Viewer => 0,
        MemberRole::Analyst => 1,
        MemberRole::Admin => 2,
    }
}

impl TenantCtx {
    pub fn client_account_id(&self) -> Uuid {
        self.client_account_id
    }

    pub fn engagement_id(&self) -> Option<Uuid> {
        self.engagement_id
    }

    pub fn user_id(&self) -> Option<Uuid> {
        self.user_id
    }

    pub fn role(&self) -> MemberRole {
        self.role
    }

    /// Whether the context's role is `role` or a stronger one.
    pub fn has_role(&self, role: MemberRole) -> bool {
        rank(self.role) >= rank(role)
    }

    /// The engagement, for tables whose rows all belong to one.
    pub fn require_engagement(&self, table: &'static str) -> Result<Uuid, RepoError> {
        self.engagement_id.ok_or(RepoError::EngagementRequired { table })
    }

    /// An operator context for a tenant being built (fixtures): nothing to check yet.
    pub(crate) fn operator_unchecked(_operator: &OperatorToken, client_account_id: Uuid) -> Self {
        Self { client_account_id, engagement_id: None, user_id: None, role: MemberRole::Admin }
    }

    /// For the user creating the client account `client_account_id` (a platform administrator),
    /// who becomes its first admin in the same transaction: nothing to check yet.
    pub(crate) fn for_account_creator(client_account_id: Uuid, user_id: Uuid) -> Self {
        Self { client_account_id, engagement_id: None, user_id: Some(user_id), role: MemberRole::Admin }
    }

    /// For operators (the CLI, the worker): full rights on the client account, after checking
    /// that it (and the engagement, when given) exists; NotFound otherwise.
    pub async fn for_operator(
        conn: &mut PgConnection,
        operator: &OperatorToken,
        client_account_id: Uuid,
        engagement_id: Option<Uuid>,
    ) -> Result<Self, RepoError> {
        let mut tx = TenantTx::begin_for_operator(conn, operator, client_account_id).await?;
        if let Some(engagement_id) = engagement_id {
            tx.enter_engagement(engagement_id).await?;
        }
        let ctx = tx.ctx.clone();
        tx.commit().await?;
        Ok(ctx)
    }

    /// For an authenticated user: the role is the user's membership role in the client account
    /// (or, when an engagement is named: admin for account admins; for other members the role of
    /// their grant there, never above their account role, and NotFound without one). A user
    /// without a membership gets NotFound, exactly as for an account that does not exist.
    pub async fn for_member(
        conn: &mut PgConnection,
        user_id: Uuid,
        client_account_id: Uuid,
        engagement_id: Option<Uuid>,
    ) -> Result<Self, RepoError> {
        let mut tx = TenantTx::begin_for_member(conn, user_id, client_account_id).await?;
        if let Some(engagement_id) = engagement_id {
            tx.enter_engagement(engagement_id).await?;
        }
        let ctx = tx.ctx.clone();
        tx.commit().await?;
        Ok(ctx)
    }

    /// [`TenantCtx::for_member`]'s checks, in `tx` (a tenant transaction of that user and account).
    async fn member_in(
        tx: &mut TenantTx<'_>,
        user_id: Uuid,
        client_account_id: Uuid,
        engagement_id: Option<Uuid>,
    ) -> Result<Self, RepoError> {
        let account_role: Option<MemberRole> = sqlx::query_scalar(
            "SELECT m.role FROM migration.user_account_associations m
             JOIN migration.users u ON u.id = m.user_id
             WHERE m.client_account_id = $1 AND m.user_id = $2 AND m.is_active AND u.is_active",
        )
        .bind(client_account_id)
        .bind(user_id)
        .fetch_optional(tx.conn())
        .await?;
        let Some(account_role) = account_role else {
            return Err(RepoError::not_found("client account", client_account_id));
        };
        let role = match engagement_id {
            None => account_role,
            Some(engagement_id) => {
                let engagement_role: Option<Option<MemberRole>> = sqlx::query_scalar(
                    "SELECT (SELECT a.role FROM migration.engagement_access a
                             WHERE a.client_account_id = e.client_account_id AND a.engagement_id = e.id
                               AND a.user_id = $3 AND a.is_active AND (a.expires_at IS NULL OR a.expires_at > now()))
                     FROM migration.engagements e WHERE e.client_account_id = $1 AND e.id = $2",
                )
                .bind(client_account_id)
                .bind(engagement_id)
                .bind(user_id)
                .fetch_optional(tx.conn())
                .await?;
                let Some(grant) = engagement_role else {
                    return Err(RepoError::not_found("engagement", engagement_id));
                };
                role_in_engagement(account_role, grant)
                    .ok_or_else(|| RepoError::not_found("engagement", engagement_id))?
            }
        };
        Ok(Self { client_account_id, engagement_id, user_id: Some(user_id), role })
    }

    /// The same member or operator, narrowed to one engagement of the account (NotFound when the
    /// account has no such engagement). For members the role is looked up again, since an
    /// engagement grant may differ from the account role.
    pub async fn in_engagement(&self, conn: &mut PgConnection, engagement_id: Uuid) -> Result<Self, RepoError> {
        let mut tx = TenantTx::begin(conn, self).await?;
        tx.enter_engagement(engagement_id).await?;
        let ctx = tx.ctx.clone();
        tx.commit().await?;
        Ok(ctx)
    }

    /// That the client account (and the engagement, when set) exists, in `tx`: NotFound otherwise.
    async fn check_exists_in(&self, tx: &mut TenantTx<'_>) -> Result<(), RepoError> {
        let account: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM migration.client_accounts WHERE id = $1)")
            .bind(self.client_account_id)
            .fetch_one(tx.conn())
            .await?;
        if !account {
            return Err(RepoError::not_found("client account", self.client_account_id));
        }
        if let Some(engagement_id) = self.engagement_id {
            let engagement: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM migration.engagements WHERE client_account_id = $1 AND id = $2)",
            )
            .bind(self.client_account_id)
            .bind(engagement_id)
            .fetch_one(tx.conn())
            .await?;
            if !engagement {
                return Err(RepoError::not_found("engagement", engagement_id));
            }
        }
        Ok(())
    }
}

/// A member's role in an engagement of their account, from their account role and their grant
/// there (`None`: no grant in force); `None` when they have no access to it.
fn role_in_engagement(account_role: MemberRole, grant: Option<MemberRole>) -> Option<MemberRole> {
    match grant {
        // An account admin reaches every engagement as admin, whatever grant they kept from an
        // earlier role; others need an engagement grant.
        _ if account_role == MemberRole::Admin => Some(account_role),
        None => None,
        // A grant never lifts a member above their account role (services refuse such grants and
        // lower them when the account role is lowered; this holds regardless).
        Some(role) if rank(role) > rank(account_role) => Some(account_role),
        Some(role) => Some(role),
    }
}

/// An engagement of the transaction's client account, as a request names it.
#[derive(Debug, Clone, Copy)]
pub enum EngagementKey<'a> {
    Id(Uuid),
    Slug(&'a str),
}

/// The row of [`TenantTx::begin_for_member_in_engagement`]'s one statement.
#[derive(sqlx::FromRow)]
struct MemberEngagement {
    member_account_role: MemberRole,
    member_engagement_grant: Option<MemberRole>,
    #[sqlx(flatten)]
    engagement: Engagement,
}

/// [`TenantTx::begin_for_member_in_engagement`]'s statement, the engagement chosen by `$key`
/// (`$3`): the member's account role (the checks of [`TenantCtx::member_in`]), their grant in the
/// engagement, and the engagement.
macro_rules! member_engagement {
    ($key:literal) => {
        concat!(
            "SELECT m.role AS member_account_role,
                    (SELECT a.role FROM migration.engagement_access a
                      WHERE a.client_account_id = e.client_account_id AND a.engagement_id = e.id
                        AND a.user_id = m.user_id AND a.is_active AND (a.expires_at IS NULL OR a.expires_at > now()))
                      AS member_engagement_grant,
                    e.*
               FROM migration.user_account_associations m
               JOIN migration.users u ON u.id = m.user_id
               JOIN migration.engagements e ON e.client_account_id = m.client_account_id
              WHERE m.client_account_id = $1 AND m.user_id = $2 AND m.is_active AND u.is_active AND ",
            $key
        )
    };
}

/// A transaction acting for one tenant: begun by [`TenantTx::begin`], which switches to the role
/// `modernize_app` and sets `modernize.client_account_id` (and `modernize.user_id`) for the whole
/// transaction in one statement. Row-level security then admits only that client account's rows,
/// whatever a query's `WHERE` says. Dropping it without [`TenantTx::commit`] rolls back.
pub struct TenantTx<'c> {
    tx: Transaction<'c, Postgres>,
    ctx: TenantCtx,
}

impl std::fmt::Debug for TenantTx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantTx").field("ctx", &self.ctx).finish_non_exhaustive()
    }
}

impl<'c> TenantTx<'c> {
    /// Begins the tenant transaction on `conn`, which must not already be in a transaction: the
    /// role and tenant are set transaction-locally, and inside a savepoint they would outlive it
    /// for the rest of the caller's transaction.
    pub async fn begin(conn: &'c mut PgConnection, ctx: &TenantCtx) -> Result<Self, RepoError> {
        if conn.is_in_transaction() {
            return Err(RepoError::NestedTenantTx);
        }
        let tx = conn.begin().await?;
        Self::set_up(tx, ctx).await
    }

    /// Begins the tenant transaction on a connection of `pool`.
    pub async fn begin_on(pool: &sqlx::PgPool, ctx: &TenantCtx) -> Result<TenantTx<'static>, RepoError> {
        TenantTx::set_up(pool.begin().await?, ctx).await
    }

    async fn set_up<'t>(mut tx: Transaction<'t, Postgres>, ctx: &TenantCtx) -> Result<TenantTx<'t>, RepoError> {
        sqlx::query(
            "SELECT set_config('role', 'modernize_app', true),
                    set_config('modernize.client_account_id', $1, true),
                    set_config('modernize.user_id', $2, true)",
        )
        .bind(ctx.client_account_id().to_string())
        .bind(ctx.user_id().map(|u| u.to_string()).unwrap_or_default())
        .execute(&mut *tx)
        .await?;
        Ok(TenantTx { tx, ctx: ctx.clone() })
    }

    /// Begins the tenant transaction of an operator in the client account `client_account_id`,
    /// after checking in it that the account exists (NotFound otherwise): the context
    /// [`TenantCtx::for_operator`] gives, without a transaction of its own for the check.
    pub async fn begin_for_operator(
        conn: &'c mut PgConnection,
        _operator: &OperatorToken,
        client_account_id: Uuid,
    ) -> Result<Self, RepoError> {
        let ctx = TenantCtx { client_account_id, engagement_id: None, user_id: None, role: MemberRole::Admin };
        let mut tx = Self::begin(conn, &ctx).await?;
        ctx.check_exists_in(&mut tx).await?;
        Ok(tx)
    }

    /// Begins the tenant transaction of the user `user_id` in the client account
    /// `client_account_id`, with the role [`TenantCtx::for_member`] gives (checked in it; NotFound
    /// without an active membership). A request's checks and its work then share one transaction
    /// (each transaction costs its round trips: begin, settings, commit).
    pub async fn begin_for_member(
        conn: &'c mut PgConnection,
        user_id: Uuid,
        client_account_id: Uuid,
    ) -> Result<Self, RepoError> {
        // The settings are those of the member's context; the role is known once checked.
        let probe =
            TenantCtx { client_account_id, engagement_id: None, user_id: Some(user_id), role: MemberRole::Viewer };
        let mut tx = Self::begin(conn, &probe).await?;
        tx.ctx = TenantCtx::member_in(&mut tx, user_id, client_account_id, None).await?;
        Ok(tx)
    }

    /// [`TenantTx::begin_for_member`] followed by [`TenantTx::enter_engagement`] of the engagement
    /// `engagement` names, with its row: the same checks and errors, but the membership, the
    /// engagement and the member's grant there are read in one statement (this runs on every API
    /// request that names an engagement; each statement is a round trip). Only when that finds
    /// nothing are they read one by one, to tell which of them is missing.
    pub async fn begin_for_member_in_engagement(
        conn: &'c mut PgConnection,
        user_id: Uuid,
        client_account_id: Uuid,
        engagement: EngagementKey<'_>,
    ) -> Result<(Self, Engagement), RepoError> {
        let probe =
            TenantCtx { client_account_id, engagement_id: None, user_id: Some(user_id), role: MemberRole::Viewer };
        let mut tx = Self::begin(conn, &probe).await?;
        // Two texts rather than `id = $3 OR slug = $4`, so that each is one index lookup.
        let found: Option<MemberEngagement> = match engagement {
            EngagementKey::Id(id) => {
                sqlx::query_as(member_engagement!("e.id = $3"))
                    .bind(client_account_id)
                    .bind(user_id)
                    .bind(id)
                    .fetch_optional(tx.conn())
                    .await?
            }
            EngagementKey::Slug(slug) => {
                sqlx::query_as(member_engagement!("e.slug = $3"))
                    .bind(client_account_id)
                    .bind(user_id)
                    .bind(slug)
                    .fetch_optional(tx.conn())
                    .await?
            }
        };
        let missing = || match engagement {
            EngagementKey::Id(id) => RepoError::not_found("engagement", id),
            EngagementKey::Slug(slug) => RepoError::not_found("engagement", slug),
        };
        let Some(found) = found else {
            // No membership (NotFound for the account, as `begin_for_member` says) or no engagement.
            TenantCtx::member_in(&mut tx, user_id, client_account_id, None).await?;
            return Err(missing());
        };
        let role = role_in_engagement(found.member_account_role, found.member_engagement_grant).ok_or_else(missing)?;
        tx.ctx =
            TenantCtx { client_account_id, engagement_id: Some(found.engagement.id), user_id: Some(user_id), role };
        Ok((tx, found.engagement))
    }

    /// Narrows the transaction's context to the engagement `engagement_id` of its client account,
    /// checked in it as [`TenantCtx::in_engagement`] does (NotFound when the account has no such
    /// engagement or the member no access to it; the role becomes the member's there). The
    /// settings row-level security reads (tenant and user) are unchanged.
    pub async fn enter_engagement(&mut self, engagement_id: Uuid) -> Result<(), RepoError> {
        let ctx = match self.ctx.user_id {
            Some(user_id) => {
                TenantCtx::member_in(self, user_id, self.ctx.client_account_id, Some(engagement_id)).await?
            }
            None => {
                let ctx = TenantCtx { engagement_id: Some(engagement_id), ..self.ctx.clone() };
                ctx.check_exists_in(self).await?;
                ctx
            }
        };
        self.ctx = ctx;
        Ok(())
    }

    pub fn ctx(&self) -> &TenantCtx {
        &self.ctx
    }

    pub fn client_account_id(&self) -> Uuid {
        self.ctx.client_account_id
    }

    pub fn user_id(&self) -> Option<Uuid> {
        self.ctx.user_id
    }

    /// The connection, running as `modernize_app` for this tenant: raw statements on it are
    /// subject to row-level security like the repository's.
    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// Acts for another tenant from here on, in the same transaction (setting the tenant again at
    /// the top level of the transaction replaces it; no savepoint is involved). For use cases that
    /// must be atomic across client accounts, e.g. a user created with memberships in several.
    pub async fn switch_to(&mut self, ctx: &TenantCtx) -> Result<(), RepoError> {
        sqlx::query(
            "SELECT set_config('modernize.client_account_id', $1, true), set_config('modernize.user_id', $2, true)",
        )
        .bind(ctx.client_account_id().to_string())
        .bind(ctx.user_id().map(|u| u.to_string()).unwrap_or_default())
        .execute(&mut *self.tx)
        .await?;
        self.ctx = ctx.clone();
        Ok(())
    }

    /// Narrows or widens the context to another engagement of the same client account (the
    /// tenant, and so what row-level security admits, is unchanged). For building a tenant.
    pub(crate) fn set_engagement(&mut self, engagement_id: Option<Uuid>) {
        self.ctx.engagement_id = engagement_id;
    }

    pub async fn commit(self) -> Result<(), RepoError> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl TenantTx<'_> {
    /// ANALYZE of a tenant table after a bulk change, so the rest of the transaction is planned
    /// on fresh statistics. Only the table's owner may ANALYZE, so this one statement runs as the
    /// session's role (a listed owner-run exception, docs/architecture.md): it returns no row and
    /// PostgreSQL shows a table's statistics under row-level security to no one but its owner.
    pub async fn analyze_as_owner(&mut self, table: &'static str) -> Result<(), RepoError> {
        debug_assert!(crate::schema::TABLES.iter().any(|t| t.name == table), "{table} is a table of the schema");
        sqlx::query("SELECT set_config('role', 'none', true)").execute(&mut *self.tx).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE migration.{}", crate::db::quote_identifier(table))))
            .execute(&mut *self.tx)
            .await?;
        sqlx::query("SELECT set_config('role', 'modernize_app', true)").execute(&mut *self.tx).await?;
        Ok(())
    }
}
