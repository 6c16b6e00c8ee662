//! `modernize accounts|engagements|users`: the tenancy objects, for operators.

use clap::{Args, Subcommand};
use modernize::db::Database;
use modernize::models::{ClientAccount, Engagement, MemberRole, NewClientAccount, NewEngagement, User};
use modernize::repo::users::{self, NewUserInput, Password};
use modernize::repo::{Page, RepoError, tenancy};
use modernize::tenancy::TenantCtx;
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::cli::CliError;

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Create a client account (a tenant).
    Create {
        #[arg(long)]
        name: String,
        /// URL-safe identifier: lower-case letters, digits and dashes.
        #[arg(long)]
        slug: String,
        #[arg(long)]
        industry: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List client accounts.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum EngagementsCommand {
    /// Create an engagement in a client account.
    Create {
        /// Client account id or slug.
        #[arg(long)]
        client_account: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        slug: String,
        #[arg(long)]
        json: bool,
    },
    /// List the engagements of a client account.
    List {
        /// Client account id or slug.
        #[arg(long)]
        client_account: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a user, optionally a member of client accounts.
    Create(CreateUser),
    /// List users with their memberships and roles.
    List {
        #[arg(long)]
        json: bool,
    },
    /// API tokens of a user: create (shown once), list, revoke.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a token; it is printed once and only its hash is kept.
    Create {
        /// The user's e-mail address.
        #[arg(long)]
        email: String,
        /// What the token is for, e.g. "CI pipeline".
        #[arg(long)]
        name: String,
        /// Days until it expires [default: never].
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
        expires_in_days: Option<u32>,
        #[arg(long)]
        json: bool,
    },
    /// List a user's tokens (never their secrets).
    List {
        #[arg(long)]
        email: String,
        #[arg(long)]
        json: bool,
    },
    /// Revoke one of a user's tokens.
    Revoke {
        /// Token id.
        id: Uuid,
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Args)]
pub struct CreateUser {
    #[arg(long)]
    email: String,
    /// At least 12 characters; stored as an argon2id hash. Without it the user cannot log in yet.
    #[arg(long, env = "MODERNIZE_USER_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    #[arg(long)]
    first_name: Option<String>,
    #[arg(long)]
    last_name: Option<String>,
    /// Membership as ACCOUNT:ROLE (account id or slug; role admin, analyst or viewer); repeatable.
    #[arg(long = "member", value_name = "ACCOUNT:ROLE")]
    memberships: Vec<String>,
    #[arg(long)]
    json: bool,
}

pub(crate) async fn account(conn: &mut PgConnection, id_or_slug: &str) -> Result<ClientAccount, RepoError> {
    match id_or_slug.parse::<Uuid>() {
        Ok(id) => modernize::repo::global::get_global::<ClientAccount>(conn, id).await,
        Err(_) => tenancy::find_client_account_by_slug(conn, id_or_slug).await,
    }
}

fn print_json(value: &impl Serialize) -> Result<(), CliError> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

pub async fn run_accounts(command: AccountsCommand, database: &Database) -> Result<(), CliError> {
    let mut conn = database.connect().await?;
    match command {
        AccountsCommand::Create { name, slug, industry, json } => {
            let new: NewClientAccount =
                serde_json::from_value(serde_json::json!({"name": name, "slug": slug, "industry": industry}))?;
            let account = tenancy::create_client_account(&mut conn, &new).await?;
            if json {
                print_json(&account)?;
            } else {
                println!("created client account {} ({})", account.id, account.slug);
            }
        }
        AccountsCommand::List { json } => {
            let accounts = tenancy::list_client_accounts(&mut conn, Page::ALL).await?;
            if json {
                print_json(&accounts)?;
            } else {
                println!("{:<36}  {:<24}  name", "id", "slug");
                for a in &accounts {
                    println!("{:<36}  {:<24}  {}", a.id, a.slug, a.name);
                }
            }
        }
    }
    Ok(())
}

pub async fn run_engagements(command: EngagementsCommand, database: &Database) -> Result<(), CliError> {
    let mut conn = database.connect().await?;
    match command {
        EngagementsCommand::Create { client_account, name, slug, json } => {
            let account = account(&mut conn, &client_account).await?;
            let ctx = TenantCtx::for_operator(&mut conn, account.id, None).await?;
            let new: NewEngagement = serde_json::from_value(serde_json::json!({"name": name, "slug": slug}))?;
            let engagement = tenancy::create_engagement(&mut conn, &ctx, &new).await?;
            if json {
                print_json(&engagement)?;
            } else {
                println!("created engagement {} ({}) in {}", engagement.id, engagement.slug, account.slug);
            }
        }
        EngagementsCommand::List { client_account, json } => {
            let account = account(&mut conn, &client_account).await?;
            let ctx = TenantCtx::for_operator(&mut conn, account.id, None).await?;
            let engagements: Vec<Engagement> = tenancy::list_engagements(&mut conn, &ctx, Page::ALL).await?;
            if json {
                print_json(&engagements)?;
            } else {
                println!("{:<36}  {:<20}  {:<10}  name", "id", "slug", "status");
                for e in &engagements {
                    println!("{:<36}  {:<20}  {:<10}  {}", e.id, e.slug, e.status, e.name);
                }
            }
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct UserWithMemberships {
    #[serde(flatten)]
    user: UserView,
    memberships: Vec<users::Membership>,
}

/// A user as printed: never the password hash.
#[derive(Serialize)]
struct UserView {
    id: Uuid,
    email: String,
    first_name: Option<String>,
    last_name: Option<String>,
    is_active: bool,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self { id: u.id, email: u.email, first_name: u.first_name, last_name: u.last_name, is_active: u.is_active }
    }
}

fn parse_membership(value: &str) -> Result<(String, MemberRole), RepoError> {
    let invalid = |message: String| RepoError::Invalid { field: "member".into(), message };
    let (account, role) = value.rsplit_once(':').ok_or_else(|| invalid(format!("{value:?} is not ACCOUNT:ROLE")))?;
    let role = role.parse::<MemberRole>().map_err(|e| invalid(e.to_string()))?;
    Ok((account.to_owned(), role))
}

pub async fn run_users(command: UsersCommand, database: &Database) -> Result<(), CliError> {
    let mut conn = database.connect().await?;
    match command {
        UsersCommand::Create(args) => {
            let memberships: Vec<_> = args.memberships.iter().map(|m| parse_membership(m)).collect::<Result<_, _>>()?;
            let password = args.password.map(Password::parse).transpose()?;
            let input = NewUserInput {
                email: args.email,
                password,
                first_name: args.first_name,
                last_name: args.last_name,
                is_platform_admin: false,
            };
            // The user and all memberships, or nothing.
            let mut tx = sqlx::Connection::begin(&mut conn).await.map_err(RepoError::from)?;
            let user = users::create_user(&mut tx, &input).await?;
            for (account_ref, role) in &memberships {
                let account = account(&mut tx, account_ref).await?;
                let ctx = TenantCtx::for_operator(&mut tx, account.id, None).await?;
                tenancy::add_account_member(&mut tx, &ctx, user.id, *role).await?;
            }
            tx.commit().await.map_err(RepoError::from)?;
            let memberships = users::memberships_of_users(&mut conn, &[user.id]).await?;
            if args.json {
                print_json(&UserWithMemberships { user: user.into(), memberships })?;
            } else {
                println!("created user {} ({})", user.id, user.email);
                for m in &memberships {
                    println!("  {} in {}", m.role, m.client_account_slug);
                }
            }
        }
        UsersCommand::Token(command) => run_token(command, &mut conn).await?,
        UsersCommand::List { json } => {
            let all = users::list_users(&mut conn, Page::ALL).await?;
            let ids: Vec<Uuid> = all.iter().map(|u| u.id).collect();
            let memberships = users::memberships_of_users(&mut conn, &ids).await?;
            let listed: Vec<UserWithMemberships> = all
                .into_iter()
                .map(|u| {
                    let mine = memberships.iter().filter(|m| m.user_id == u.id).cloned().collect();
                    UserWithMemberships { user: u.into(), memberships: mine }
                })
                .collect();
            if json {
                print_json(&listed)?;
            } else {
                println!("{:<36}  {:<40}  memberships", "id", "email");
                for u in &listed {
                    let roles: Vec<String> =
                        u.memberships.iter().map(|m| format!("{}:{}", m.client_account_slug, m.role)).collect();
                    println!("{:<36}  {:<40}  {}", u.user.id, u.user.email, roles.join(", "));
                }
            }
        }
    }
    Ok(())
}

async fn run_token(command: TokenCommand, conn: &mut PgConnection) -> Result<(), CliError> {
    match command {
        TokenCommand::Create { email, name, expires_in_days, json } => {
            let user = users::find_user_by_email(conn, &email).await?;
            let expires_at = expires_in_days.map(|d| chrono::Utc::now() + chrono::Duration::days(i64::from(d)));
            let (token, secret) = users::create_api_token(conn, user.id, &name, expires_at).await?;
            if json {
                print_json(&serde_json::json!({"token": secret.expose(), "api_token": token}))?;
            } else {
                println!("created API token {} ({}) for {}", token.id, token.name, user.email);
                println!("{}", secret.expose());
                println!("Keep it now: it is not stored and cannot be shown again.");
            }
        }
        TokenCommand::List { email, json } => {
            let user = users::find_user_by_email(conn, &email).await?;
            let tokens = users::list_api_tokens(conn, user.id).await?;
            if json {
                print_json(&tokens)?;
            } else {
                println!("{:<36}  {:<18}  {:<10}  name", "id", "prefix", "state");
                for t in &tokens {
                    let expired = t.expires_at.is_some_and(|at| at <= chrono::Utc::now());
                    let state = if t.revoked_at.is_some() {
                        "revoked"
                    } else if expired {
                        "expired"
                    } else {
                        "active"
                    };
                    println!("{:<36}  mdz_{:<14}  {:<10}  {}", t.id, t.prefix, state, t.name);
                }
            }
        }
        TokenCommand::Revoke { id, email } => {
            let user = users::find_user_by_email(conn, &email).await?;
            let token = users::revoke_api_token(conn, user.id, id).await?;
            println!("revoked API token {} ({})", token.id, token.name);
        }
    }
    Ok(())
}
