//! Who a request acts for. A [`TenantCtx`] names a client account (and possibly one of its
//! engagements), the user and the role; its fields are private and only the constructors here
//! produce one, each after checking the tenant exists and (for members) the membership.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::models::MemberRole;
use crate::repo::{RepoError, scoped};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantCtx {
    client_account_id: Uuid,
    engagement_id: Option<Uuid>,
    user_id: Option<Uuid>,
    role: MemberRole,
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

    /// The engagement, for tables whose rows all belong to one.
    pub fn require_engagement(&self, table: &'static str) -> Result<Uuid, RepoError> {
        self.engagement_id.ok_or(RepoError::EngagementRequired { table })
    }

    /// For operators (the CLI, admin tools): full rights on the client account, after checking
    /// that it (and the engagement, when given) exists.
    pub async fn for_operator(
        conn: &mut PgConnection,
        client_account_id: Uuid,
        engagement_id: Option<Uuid>,
    ) -> Result<Self, RepoError> {
        let ctx = Self { client_account_id, engagement_id, user_id: None, role: MemberRole::Admin };
        ctx.check_exists(conn).await?;
        Ok(ctx)
    }

    /// For an authenticated user: the role is the user's membership role in the client account
    /// (or, when an engagement is named, in that engagement if granted there). A user without a
    /// membership gets NotFound, exactly as for an account that does not exist.
    pub async fn for_member(
        conn: &mut PgConnection,
        user_id: Uuid,
        client_account_id: Uuid,
        engagement_id: Option<Uuid>,
    ) -> Result<Self, RepoError> {
        let probe = Self { client_account_id, engagement_id: None, user_id: Some(user_id), role: MemberRole::Viewer };
        let mut tx = scoped(conn, &probe).await?;
        let account_role: Option<MemberRole> = sqlx::query_scalar(
            "SELECT m.role FROM migration.user_account_associations m
             JOIN migration.users u ON u.id = m.user_id
             WHERE m.client_account_id = $1 AND m.user_id = $2 AND m.is_active AND u.is_active",
        )
        .bind(client_account_id)
        .bind(user_id)
        .fetch_optional(&mut *tx)
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
                .fetch_optional(&mut *tx)
                .await?;
                match engagement_role {
                    None => return Err(RepoError::not_found("engagement", engagement_id)),
                    // An account admin reaches every engagement; others need an engagement grant.
                    Some(None) if account_role == MemberRole::Admin => account_role,
                    Some(None) => return Err(RepoError::not_found("engagement", engagement_id)),
                    Some(Some(role)) => role,
                }
            }
        };
        tx.commit().await?;
        Ok(Self { client_account_id, engagement_id, user_id: Some(user_id), role })
    }

    async fn check_exists(&self, conn: &mut PgConnection) -> Result<(), RepoError> {
        let mut tx = scoped(conn, self).await?;
        let account: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM migration.client_accounts WHERE id = $1)")
            .bind(self.client_account_id)
            .fetch_one(&mut *tx)
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
            .fetch_one(&mut *tx)
            .await?;
            if !engagement {
                return Err(RepoError::not_found("engagement", engagement_id));
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
