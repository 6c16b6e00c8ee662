//! `modernize accounts|engagements|users`: the tenancy objects, for operators.

use clap::{Args, Subcommand};
use modernize::db::Database;
use modernize::models::MemberRole;
use modernize::repo::users::Password;
use modernize::service::UserRef;
use modernize::service::accounts::{self, NewAccount};
use modernize::service::engagements::{self, NewEngagementInput};
use modernize::service::users::{self, NewUser, parse_membership};
use modernize::service::{Actor, tokens};
use modernize::tenancy::OperatorToken;
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::cli::CliError;
use crate::text::Inline;

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Create a client account (a tenant).
    Create {
        #[arg(long)]
        name: String,
        /// URL-safe identifier: lower-case letters, digits and dashes [default: derived from the name].
        #[arg(long)]
        slug: Option<String>,
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
        /// URL-safe identifier [default: derived from the name].
        #[arg(long)]
        slug: Option<String>,
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
    /// Grant a member of the account access to an engagement, or change the role of their grant.
    Grant {
        #[command(flatten)]
        engagement: EngagementArgs,
        /// The member's e-mail address.
        #[arg(long)]
        email: String,
        /// analyst or viewer, not above the member's role in the account [default: that role].
        #[arg(long, value_parser = parse_role)]
        role: Option<MemberRole>,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a member's access to an engagement.
    Revoke {
        #[command(flatten)]
        engagement: EngagementArgs,
        /// The member's e-mail address.
        #[arg(long)]
        email: String,
    },
    /// Who has access to an engagement (account admins reach every engagement and are not listed).
    Access {
        #[command(flatten)]
        engagement: EngagementArgs,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct EngagementArgs {
    /// Client account id or slug.
    #[arg(long)]
    client_account: String,
    /// Engagement id or slug.
    #[arg(long)]
    engagement: String,
}

fn parse_role(value: &str) -> Result<MemberRole, String> {
    value.parse().map_err(|e: modernize::models::UnknownVariant| e.to_string())
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a user, optionally a member of client accounts.
    Create(CreateUser),
    /// List users with their memberships and roles.
    List {
        /// Only the members of this client account (id or slug).
        #[arg(long)]
        client_account: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Deactivate a user: sign-in, API tokens and sessions stop working (sessions ended, tokens revoked).
    Deactivate {
        #[arg(long)]
        email: String,
        #[arg(long)]
        json: bool,
    },
    /// Reactivate a deactivated user: their password signs in again; the sessions and API tokens
    /// ended at deactivation stay ended.
    Reactivate {
        #[arg(long)]
        email: String,
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
    /// Revoke one of a user's tokens (for good: whatever uses it is refused from then on).
    Revoke {
        /// Token id.
        id: Uuid,
        #[arg(long)]
        email: String,
        /// Confirm: a revoked token cannot be used again. Without it the command asks on a
        /// terminal and refuses elsewhere.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub struct CreateUser {
    #[arg(long)]
    email: String,
    /// Ask for the password on the terminal (twice, not echoed). Scripts set the environment
    /// variable MODERNIZE_USER_PASSWORD instead; never on the command line, where every user of
    /// the machine can read it. At least 12 characters; stored as an argon2id hash. Without
    /// either the user cannot log in yet.
    #[arg(long)]
    ask_password: bool,
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

fn print_json(value: &impl Serialize) -> Result<(), CliError> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A pool of one connection: each command runs one use case at a time.
async fn pool(database: &Database) -> Result<PgPool, CliError> {
    Ok(database.pool(1).await?)
}

pub async fn run_accounts(
    command: AccountsCommand,
    database: &Database,
    operator: &OperatorToken,
) -> Result<(), CliError> {
    let pool = pool(database).await?;
    let actor = Actor::Operator(operator);
    match command {
        AccountsCommand::Create { name, slug, industry, json } => {
            let account =
                accounts::create_account(&pool, &actor, NewAccount { name, slug, industry, description: None }).await?;
            if json {
                print_json(&account)?;
            } else {
                println!("created client account {} ({})", account.id, Inline(&account.slug));
            }
        }
        AccountsCommand::List { json } => {
            let accounts = accounts::list_accounts(&pool, &actor).await?;
            if json {
                print_json(&accounts)?;
            } else {
                println!("{:<36}  {:<24}  name", "id", "slug");
                for a in &accounts {
                    println!("{:<36}  {:<24}  {}", a.id, Inline(&a.slug), Inline(&a.name));
                }
            }
        }
    }
    Ok(())
}

pub async fn run_engagements(
    command: EngagementsCommand,
    database: &Database,
    operator: &OperatorToken,
) -> Result<(), CliError> {
    let pool = pool(database).await?;
    let actor = Actor::Operator(operator);
    match command {
        EngagementsCommand::Create { client_account, name, slug, json } => {
            let input = NewEngagementInput { name, slug, description: None };
            let engagement = engagements::create_engagement(&pool, &actor, &client_account, input).await?;
            if json {
                print_json(&engagement)?;
            } else {
                println!(
                    "created engagement {} ({}) in {}",
                    engagement.id,
                    Inline(&engagement.slug),
                    Inline(&client_account)
                );
            }
        }
        EngagementsCommand::List { client_account, json } => {
            let engagements = engagements::list_engagements(&pool, &actor, &client_account).await?;
            if json {
                print_json(&engagements)?;
            } else {
                println!("{:<36}  {:<20}  {:<10}  name", "id", "slug", "status");
                for e in &engagements {
                    println!("{:<36}  {:<20}  {:<10}  {}", e.id, Inline(&e.slug), e.status, Inline(&e.name));
                }
            }
        }
        EngagementsCommand::Grant { engagement: e, email, role, json } => {
            let who = UserRef::Email(email);
            let grant = engagements::grant_access(&pool, &actor, &e.client_account, &e.engagement, &who, role).await?;
            if json {
                print_json(&grant)?;
            } else {
                println!(
                    "granted {} the {} role in {}/{}",
                    Inline(&grant.user.email),
                    grant.role,
                    Inline(&e.client_account),
                    Inline(&e.engagement)
                );
            }
        }
        EngagementsCommand::Revoke { engagement: e, email } => {
            let who = UserRef::Email(email);
            engagements::revoke_access(&pool, &actor, &e.client_account, &e.engagement, &who).await?;
            println!(
                "revoked the access of {} to {}/{}",
                Inline(&who),
                Inline(&e.client_account),
                Inline(&e.engagement)
            );
        }
        EngagementsCommand::Access { engagement: e, json } => {
            let grants = engagements::list_access(&pool, &actor, &e.client_account, &e.engagement).await?;
            if json {
                print_json(&grants)?;
            } else {
                println!("{:<36}  {:<40}  role", "user id", "email");
                for g in &grants {
                    println!("{:<36}  {:<40}  {}", g.user.id, Inline(&g.user.email), g.role);
                }
            }
        }
    }
    Ok(())
}

pub async fn run_users(command: UsersCommand, database: &Database, operator: &OperatorToken) -> Result<(), CliError> {
    let pool = pool(database).await?;
    let actor = Actor::Operator(operator);
    match command {
        UsersCommand::Create(args) => {
            let memberships = args.memberships.iter().map(|m| parse_membership(m)).collect::<Result<_, _>>()?;
            let password = if args.ask_password {
                Some(crate::text::ask_new_password()?)
            } else {
                std::env::var("MODERNIZE_USER_PASSWORD").ok().filter(|p| !p.is_empty())
            };
            let password = password.map(Password::parse).transpose()?;
            let input = NewUser {
                email: args.email,
                password,
                first_name: args.first_name,
                last_name: args.last_name,
                memberships,
            };
            let created = users::create_user(&pool, &actor, input).await?;
            if args.json {
                print_json(&created)?;
            } else {
                println!("created user {} ({})", created.user.id, Inline(&created.user.email));
                for m in &created.memberships {
                    println!("  {} in {}", m.role, Inline(&m.client_account_slug));
                }
            }
        }
        UsersCommand::Token(command) => run_token(command, &pool, &actor).await?,
        UsersCommand::Deactivate { email, json } => {
            let user = users::deactivate_user(&pool, &actor, &UserRef::Email(email)).await?;
            if json {
                print_json(&user)?;
            } else {
                println!("deactivated user {} ({})", user.id, Inline(&user.email));
            }
        }
        UsersCommand::Reactivate { email, json } => {
            let user = users::reactivate_user(&pool, &actor, &UserRef::Email(email)).await?;
            if json {
                print_json(&user)?;
            } else {
                println!("reactivated user {} ({})", user.id, Inline(&user.email));
            }
        }
        UsersCommand::List { client_account, json } => {
            let listed = users::list_users(&pool, &actor, client_account.as_deref()).await?;
            if json {
                print_json(&listed)?;
            } else {
                println!("{:<36}  {:<40}  memberships", "id", "email");
                for u in &listed {
                    let roles: Vec<String> = u
                        .memberships
                        .iter()
                        .map(|m| format!("{}:{}", Inline(&m.client_account_slug), m.role))
                        .collect();
                    println!("{:<36}  {:<40}  {}", u.user.id, Inline(&u.user.email), roles.join(", "));
                }
            }
        }
    }
    Ok(())
}

async fn run_token(command: TokenCommand, pool: &PgPool, actor: &Actor<'_>) -> Result<(), CliError> {
    match command {
        TokenCommand::Create { email, name, expires_in_days, json } => {
            let expires_at = expires_in_days.map(|d| chrono::Utc::now() + chrono::Duration::days(i64::from(d)));
            let issued = tokens::create_token(pool, actor, &email, &name, expires_at).await?;
            if json {
                print_json(&issued)?;
            } else {
                println!(
                    "created API token {} ({}) for {}",
                    issued.api_token.id,
                    Inline(&issued.api_token.name),
                    Inline(&email)
                );
                println!("{}", issued.token);
                println!("Keep it now: it is not stored and cannot be shown again.");
            }
        }
        TokenCommand::List { email, json } => {
            let tokens = tokens::list_tokens(pool, actor, &email).await?;
            if json {
                print_json(&tokens)?;
            } else {
                println!("{:<36}  {:<18}  {:<10}  name", "id", "prefix", "state");
                for t in &tokens {
                    println!("{:<36}  mdz_{:<14}  {:<10}  {}", t.id, t.prefix, t.state, Inline(&t.name));
                }
            }
        }
        TokenCommand::Revoke { id, email, yes } => {
            // An unknown token is reported as such before anything is asked; a revoked one
            // has nothing left to lose.
            let tokens = tokens::list_tokens(pool, actor, &email).await?;
            if let Some(token) = tokens.iter().find(|t| t.id == id && t.revoked_at.is_none()) {
                let action = format!(
                    "users token revoke makes API token {} ({:?}, mdz_{}…, {}) of {email} unusable for good: \
                     whatever signs in with it is refused from then on",
                    token.id, token.name, token.prefix, token.state
                );
                crate::text::confirm(&action, yes)?;
            }
            let token = tokens::revoke_token(pool, actor, &email, id).await?;
            println!("revoked API token {} ({})", token.id, Inline(&token.name));
        }
    }
    Ok(())
}
