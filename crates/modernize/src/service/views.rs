//! What services return (and the CLI's `--json` prints, and the API will send): built from rows,
//! holding only what a caller may see. No row type crosses the service boundary. Each describes
//! its JSON shape for the API's OpenAPI document (`utoipa::ToSchema`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::models::{ClientAccount, Engagement, EngagementStatus, MemberRole, User};
use crate::repo::tenancy::{AccessGrant, Member};
use crate::repo::users::{ApiToken, Membership};

/// A client account (tenant).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub industry: Option<String>,
    pub description: Option<String>,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<ClientAccount> for AccountView {
    fn from(a: ClientAccount) -> Self {
        Self {
            id: a.id,
            name: a.name,
            slug: a.slug,
            industry: a.industry,
            description: a.description,
            is_active: a.is_active,
            created_at: a.created_at,
        }
    }
}

/// An engagement of a client account.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EngagementView {
    pub id: Uuid,
    pub client_account_id: Uuid,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    #[schema(value_type = String, example = "active")]
    pub status: EngagementStatus,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<Engagement> for EngagementView {
    fn from(e: Engagement) -> Self {
        Self {
            id: e.id,
            client_account_id: e.client_account_id,
            name: e.name,
            slug: e.slug,
            description: e.description,
            status: e.status,
            is_active: e.is_active,
            created_at: e.created_at,
        }
    }
}

/// A user: never the password hash.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub is_active: bool,
    pub is_platform_admin: bool,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            email: u.email,
            first_name: u.first_name,
            last_name: u.last_name,
            is_active: u.is_active,
            is_platform_admin: u.is_platform_admin,
        }
    }
}

/// A user's membership in one client account.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MembershipView {
    pub client_account_id: Uuid,
    pub client_account_slug: String,
    /// `admin`, `analyst` or `viewer`.
    #[schema(value_type = String, example = "analyst")]
    pub role: MemberRole,
    pub is_active: bool,
}

impl From<Membership> for MembershipView {
    fn from(m: Membership) -> Self {
        Self {
            client_account_id: m.client_account_id,
            client_account_slug: m.client_account_slug,
            role: m.role,
            is_active: m.is_active,
        }
    }
}

/// A user with the memberships the caller may see.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UserWithMemberships {
    #[serde(flatten)]
    pub user: UserView,
    pub memberships: Vec<MembershipView>,
}

/// An API token as listed: never its secret nor its hash.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    /// The public part of the token, to recognise it (`mdz_<prefix>_…`).
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// `active`, `expired` or `revoked`, as of the call.
    pub state: &'static str,
}

impl From<ApiToken> for TokenView {
    fn from(t: ApiToken) -> Self {
        let state = if t.revoked_at.is_some() {
            "revoked"
        } else if t.expires_at.is_some_and(|at| at <= Utc::now()) {
            "expired"
        } else {
            "active"
        };
        Self {
            id: t.id,
            user_id: t.user_id,
            name: t.name,
            prefix: t.prefix,
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
            state,
        }
    }
}

/// A token just issued: the whole token in clear, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct IssuedToken {
    pub token: String,
    pub api_token: TokenView,
}

/// A member of a client account: the user and their role there.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub user: UserView,
    pub client_account_id: Uuid,
    /// `admin`, `analyst` or `viewer`.
    #[schema(value_type = String, example = "analyst")]
    pub role: MemberRole,
    /// Whether the membership is in force (a removed member's is not).
    pub is_active: bool,
    /// When the user became a member.
    pub joined_at: DateTime<Utc>,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        Self {
            user: m.user.into(),
            client_account_id: m.client_account_id,
            role: m.role,
            is_active: m.membership_active,
            joined_at: m.joined_at,
        }
    }
}

/// A member just added, and whether their user was created for it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AddedMember {
    #[serde(flatten)]
    pub member: MemberView,
    /// True when no user had this e-mail address and one was created.
    pub user_created: bool,
}

/// A member's grant of access to one engagement, with the role they hold there.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EngagementAccessView {
    pub user: UserView,
    pub client_account_id: Uuid,
    pub engagement_id: Uuid,
    /// `analyst` or `viewer`: never above the member's role in the account.
    #[schema(value_type = String, example = "viewer")]
    pub role: MemberRole,
    /// Who granted it (none when an operator did).
    pub granted_by: Option<Uuid>,
    pub granted_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl From<AccessGrant> for EngagementAccessView {
    fn from(a: AccessGrant) -> Self {
        Self {
            user: a.user.into(),
            client_account_id: a.client_account_id,
            engagement_id: a.engagement_id,
            role: a.role,
            granted_by: a.granted_by,
            granted_at: a.granted_at,
            expires_at: a.expires_at,
        }
    }
}
