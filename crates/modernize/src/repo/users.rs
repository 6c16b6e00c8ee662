//! Users are global: one account per person, whatever client accounts they work for. Passwords
//! are stored as argon2id hashes (PHC strings), never in clear; hashing and verifying run on
//! tokio's blocking pool, never on an async worker thread.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sqlx::{Connection, PgConnection};

use super::global::list_global;
use super::{Page, RepoError};
use serde::Serialize;
use uuid::Uuid;

use crate::models::{MemberRole, User};

/// A password in clear, kept out of logs and debug output.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_LENGTH: usize = 12;

    pub fn parse(value: String) -> Result<Self, RepoError> {
        if value.chars().count() < Self::MIN_LENGTH {
            return Err(RepoError::Invalid {
                field: "password".into(),
                message: format!("must be at least {} characters", Self::MIN_LENGTH),
            });
        }
        Ok(Self(value))
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

#[derive(Debug, Clone)]
pub struct NewUserInput {
    pub email: String,
    pub password: Option<Password>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub is_platform_admin: bool,
}

/// Normalises an e-mail address (trimmed, lower case) and checks its shape.
pub fn parse_email(email: &str) -> Result<String, RepoError> {
    let email = email.trim().to_lowercase();
    let valid = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
    }) && !email.contains(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(RepoError::Invalid { field: "email".into(), message: format!("{email:?} is not an e-mail address") })
    }
}

pub fn hash_secret(secret: &str) -> Result<String, RepoError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| RepoError::Invalid { field: "password".into(), message: e.to_string() })
}

fn secret_matches(secret: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| Argon2::default().verify_password(secret.as_bytes(), &hash).is_ok())
}

/// An argon2id hash with the parameters [`hash_secret`] uses (`Argon2::default()`: m=19456 KiB,
/// t=2, p=1) of a secret no one knows. Checked when there is no real hash to check (unknown
/// e-mail or token prefix, user without a password), so that a refusal takes as long as a wrong
/// password and the time does not reveal which accounts or tokens exist (OWASP authentication
/// cheat sheet, "authentication responses").
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZSBkdW1teSBzYWx0$2WyI8hDqBiaZ2Y5R2PzKh1y8GsMXcjuqj2Q9Z3mUX1E";

/// `secret_matches` against the stored hash when there is one, else the same work against
/// [`DUMMY_HASH`], always false.
fn secret_matches_or_dummy(secret: &str, stored: Option<&str>) -> bool {
    match stored {
        Some(stored) => secret_matches(secret, stored),
        None => {
            let _ = secret_matches(secret, DUMMY_HASH);
            false
        }
    }
}

/// Runs `work` on tokio's blocking pool. argon2 costs tens of milliseconds of CPU (19 MiB,
/// two passes) by design; on an async worker thread it would stall every request scheduled there.
async fn off_async_threads<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, RepoError> {
    tokio::task::spawn_blocking(work).await.map_err(RepoError::Blocking)
}

/// [`hash_secret`] off the async threads.
async fn hash_off_thread(secret: String) -> Result<String, RepoError> {
    off_async_threads(move || hash_secret(&secret)).await?
}

/// [`secret_matches_or_dummy`] off the async threads: one argon2 verification whatever `stored` is.
async fn verify_off_thread(secret: String, stored: Option<String>) -> Result<bool, RepoError> {
    off_async_threads(move || secret_matches_or_dummy(&secret, stored.as_deref())).await
}

/// Creates the user and its profile together.
pub async fn create_user(conn: &mut PgConnection, input: &NewUserInput) -> Result<User, RepoError> {
    let email = parse_email(&input.email)?;
    let password_hash = match &input.password {
        Some(password) => Some(hash_off_thread(password.0.clone()).await?),
        None => None,
    };
    let mut tx = conn.begin().await?;
    let user: User = sqlx::query_as(
        "INSERT INTO migration.users (email, password_hash, first_name, last_name, is_platform_admin, is_verified)
         VALUES ($1, $2, $3, $4, $5, false) RETURNING *",
    )
    .bind(&email)
    .bind(password_hash)
    .bind(&input.first_name)
    .bind(&input.last_name)
    .bind(input.is_platform_admin)
    .fetch_one(&mut *tx)
    .await?;
    let display_name = match (&input.first_name, &input.last_name) {
        (Some(first), Some(last)) => Some(format!("{first} {last}")),
        (first, last) => first.clone().or_else(|| last.clone()),
    };
    sqlx::query("INSERT INTO migration.user_profiles (user_id, display_name) VALUES ($1, $2)")
        .bind(user.id)
        .bind(display_name)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(user)
}

pub async fn find_user_by_email(conn: &mut PgConnection, email: &str) -> Result<User, RepoError> {
    let email = parse_email(email)?;
    sqlx::query_as("SELECT * FROM migration.users WHERE email = $1")
        .bind(&email)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| RepoError::not_found("user", email))
}

/// The active user with this e-mail and password; NotFound for an unknown address, a wrong
/// password or an inactive user alike, so the answer does not reveal which.
///
/// Every refusal costs one argon2 verification, like a wrong password: against the dummy hash
/// when there is no user or no password, so the time taken does not tell them apart either.
pub async fn authenticate(conn: &mut PgConnection, email: &str, password: &Password) -> Result<User, RepoError> {
    let user = match find_user_by_email(conn, email).await {
        Ok(user) => Some(user),
        Err(RepoError::NotFound { .. } | RepoError::Invalid { .. }) => None,
        Err(e) => return Err(e),
    };
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let matches = verify_off_thread(password.0.clone(), stored).await?;
    match user {
        Some(user) if matches && user.is_active => {
            sqlx::query("UPDATE migration.users SET last_login_at = now() WHERE id = $1")
                .bind(user.id)
                .execute(conn)
                .await?;
            Ok(user)
        }
        _ => Err(RepoError::not_found("user", "with these credentials")),
    }
}

pub async fn list_users(conn: &mut PgConnection, page: Page) -> Result<Vec<User>, RepoError> {
    list_global::<User>(conn, page).await
}

/// A user's membership in one client account, as operators see it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Membership {
    pub user_id: Uuid,
    pub client_account_id: Uuid,
    pub client_account_slug: String,
    pub role: MemberRole,
    pub is_active: bool,
}

/// Every membership of the given users across client accounts: an operator's view (the CLI),
/// run with the caller's own role, never on behalf of a tenant.
pub async fn memberships_of_users(conn: &mut PgConnection, user_ids: &[Uuid]) -> Result<Vec<Membership>, RepoError> {
    let rows = sqlx::query_as(
        "SELECT m.user_id, m.client_account_id, a.slug AS client_account_slug, m.role, m.is_active
         FROM migration.user_account_associations m
         JOIN migration.client_accounts a ON a.id = m.client_account_id
         WHERE m.user_id = ANY ($1) ORDER BY a.slug",
    )
    .bind(user_ids)
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let hash = hash_secret("correct horse battery staple").expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(secret_matches("correct horse battery staple", &hash));
        assert!(!secret_matches("correct horse battery stapler", &hash));
        assert!(!secret_matches("anything", "not a hash"));
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        let dummy = PasswordHash::new(DUMMY_HASH).expect("a PHC string");
        let real = hash_secret("whatever").expect("hash");
        let real = PasswordHash::new(&real).expect("a PHC string");
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params, "same memory, iterations and lanes");
        assert_eq!(dummy.hash.map(|h| h.len()), real.hash.map(|h| h.len()));
        assert!(!secret_matches_or_dummy("whatever", None));
    }

    #[test]
    fn emails_are_normalised_or_refused() {
        assert_eq!(parse_email("  Alice@Example.COM ").expect("valid"), "alice@example.com");
        for bad in ["", "alice", "@example.com", "alice@localhost", "a b@example.com", "alice@.com"] {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn short_passwords_are_refused_and_never_printed() {
        assert!(Password::parse("short".into()).is_err());
        let password = Password::parse("a long enough secret".into()).expect("valid");
        assert_eq!(format!("{password:?}"), "Password(***)");
    }
}

/// An API token as it is listed: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ApiToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    /// The public part of the token, to recognise it (`mdz_<prefix>_…`).
    pub prefix: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A whole token in clear (`mdz_<prefix>_<secret>`): shown once, kept out of logs.
#[derive(Clone)]
pub struct TokenSecret(String);

impl TokenSecret {
    pub fn new(token: String) -> Self {
        Self(token)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The prefix and the secret, when the token has the right shape.
    fn parts(&self) -> Option<(&str, &str)> {
        let (prefix, secret) = self.0.strip_prefix("mdz_")?.split_once('_')?;
        (!prefix.is_empty() && !secret.is_empty()).then_some((prefix, secret))
    }
}

/// How a token's secret is stored: `sha256$<64 hex digits>`. A token's secret is 192 random bits,
/// so, like a session's, it needs no slow hash (there is nothing to guess from a dictionary); a
/// stolen table still cannot be replayed. argon2 here cost ~50 ms of CPU per API request.
fn token_digest(secret: &str) -> String {
    use sha2::Digest;
    format!("sha256${}", hex::encode(sha2::Sha256::digest(secret.as_bytes())))
}

/// Whether `secret` is the one `stored` was made from: a SHA-256 digest compared in constant time,
/// or an argon2id hash of a token issued before digests (checked off the async threads).
async fn token_matches(secret: &str, stored: &str) -> Result<bool, RepoError> {
    use subtle::ConstantTimeEq;
    if stored.starts_with("$argon2") {
        return verify_off_thread(secret.to_owned(), Some(stored.to_owned())).await;
    }
    Ok(token_digest(secret).as_bytes().ct_eq(stored.as_bytes()).into())
}

impl std::fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSecret(***)")
    }
}

fn random_hex(bytes: usize) -> String {
    use argon2::password_hash::rand_core::RngCore;
    let mut buffer = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buffer);
    hex::encode(buffer)
}

/// Issues a token for `user_id`; the secret is returned once and only its digest
/// ([`token_digest`]) is stored.
pub async fn create_api_token(
    conn: &mut PgConnection,
    user_id: Uuid,
    name: &str,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<(ApiToken, TokenSecret), RepoError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(RepoError::Invalid { field: "name".into(), message: "must be 1 to 100 characters".into() });
    }
    if expires_at.is_some_and(|at| at <= chrono::Utc::now()) {
        return Err(RepoError::Invalid { field: "expires_at".into(), message: "must be in the future".into() });
    }
    // 64 bits to find the row, 192 bits of secret.
    let (prefix, secret) = (random_hex(8), random_hex(24));
    let token: Option<ApiToken> = sqlx::query_as(
        "INSERT INTO modernize.api_tokens (user_id, name, prefix, secret_hash, expires_at)
         SELECT id, $2, $3, $4, $5 FROM migration.users WHERE id = $1
         RETURNING id, user_id, name, prefix, created_at, expires_at, last_used_at, revoked_at",
    )
    .bind(user_id)
    .bind(name)
    .bind(&prefix)
    .bind(token_digest(&secret))
    .bind(expires_at)
    .fetch_optional(conn)
    .await?;
    let token = token.ok_or_else(|| RepoError::not_found("user", user_id))?;
    Ok((token, TokenSecret(format!("mdz_{prefix}_{secret}"))))
}

pub async fn list_api_tokens(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<ApiToken>, RepoError> {
    Ok(sqlx::query_as(
        "SELECT id, user_id, name, prefix, created_at, expires_at, last_used_at, revoked_at
         FROM modernize.api_tokens WHERE user_id = $1 ORDER BY created_at",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await?)
}

/// One of the user's tokens (a token of another user is not found).
pub async fn get_api_token(conn: &mut PgConnection, user_id: Uuid, token_id: Uuid) -> Result<ApiToken, RepoError> {
    sqlx::query_as(
        "SELECT id, user_id, name, prefix, created_at, expires_at, last_used_at, revoked_at
         FROM modernize.api_tokens WHERE user_id = $1 AND id = $2",
    )
    .bind(user_id)
    .bind(token_id)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| RepoError::not_found("API token", token_id))
}

/// Revokes one of the user's tokens (a token of another user is not found). Revoking twice keeps
/// the first revocation time.
pub async fn revoke_api_token(conn: &mut PgConnection, user_id: Uuid, token_id: Uuid) -> Result<ApiToken, RepoError> {
    sqlx::query_as(
        "UPDATE modernize.api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE user_id = $1 AND id = $2
         RETURNING id, user_id, name, prefix, created_at, expires_at, last_used_at, revoked_at",
    )
    .bind(user_id)
    .bind(token_id)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| RepoError::not_found("API token", token_id))
}

/// The active user a token belongs to; NotFound for a malformed, unknown, wrong, revoked or
/// expired token alike, so the answer does not reveal which. An unknown prefix costs the same digest
/// and comparison as a wrong secret, so the time does not either. `last_used_at` is written at
/// most once a minute per token: concurrent requests with one token would otherwise queue on its
/// row lock. A token still stored as argon2 (issued before digests) gets its digest on first use.
pub async fn authenticate_token(conn: &mut PgConnection, token: &TokenSecret) -> Result<User, RepoError> {
    let refused = || RepoError::not_found("user", "with this token");
    let Some((prefix, secret)) = token.parts() else {
        return Err(refused());
    };
    // The token and its user in one statement: this runs on every API request.
    let found: Option<TokenUser> = sqlx::query_as(
        "SELECT t.id AS token_id, t.secret_hash AS token_secret_hash,
                t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute' AS token_use_unrecorded, u.*
           FROM modernize.api_tokens t JOIN migration.users u ON u.id = t.user_id
          WHERE t.prefix = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
            AND u.is_active",
    )
    .bind(prefix)
    .fetch_optional(&mut *conn)
    .await?;
    let stored = found.as_ref().map_or(DUMMY_TOKEN_DIGEST, |t| t.token_secret_hash.as_str());
    let matches = token_matches(secret, stored).await?;
    let Some(found) = found.filter(|_| matches) else {
        return Err(refused());
    };
    // Recorded at most once a minute (a write per request would cost more than the request), and
    // an argon2id hash replaced by the digest the first time its token is used.
    let digest = (!found.token_secret_hash.starts_with("sha256$")).then(|| token_digest(secret));
    if digest.is_some() || found.token_use_unrecorded {
        sqlx::query(
            "UPDATE modernize.api_tokens SET last_used_at = now(), secret_hash = coalesce($2, secret_hash)
             WHERE id = $1 AND ($2 IS NOT NULL OR last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
        )
        .bind(found.token_id)
        .bind(digest)
        .execute(&mut *conn)
        .await?;
    }
    Ok(found.user)
}

/// A token found by its prefix, with its user ([`authenticate_token`]).
#[derive(sqlx::FromRow)]
struct TokenUser {
    token_id: Uuid,
    token_secret_hash: String,
    /// Whether `last_used_at` is older than a minute (or unset).
    token_use_unrecorded: bool,
    #[sqlx(flatten)]
    user: User,
}

/// A digest no secret has (not 64 hex digits), compared when no token has the prefix.
const DUMMY_TOKEN_DIGEST: &str = "sha256$xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

/// A web sign-in session as the server knows it: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// A session's secret in clear (64 hex characters): handed to the browser once, kept out of logs.
#[derive(Clone)]
pub struct SessionSecret(String);

impl SessionSecret {
    pub fn new(secret: String) -> Self {
        Self(secret)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What is stored: a random 256-bit value needs no slow hash, SHA-256 keeps a stolen table
    /// from being replayed.
    fn digest(&self) -> String {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(self.0.as_bytes()))
    }
}

impl std::fmt::Debug for SessionSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionSecret(***)")
    }
}

/// Opens a session of `user_id` lasting `lifetime`; the secret is returned once and only its
/// SHA-256 is stored (`modernize.sessions`, migration 0006).
pub async fn create_session(
    conn: &mut PgConnection,
    user_id: Uuid,
    lifetime: std::time::Duration,
    user_agent: Option<&str>,
) -> Result<(Session, SessionSecret), RepoError> {
    let secret = SessionSecret(random_hex(32));
    let session: Option<Session> = sqlx::query_as(
        "INSERT INTO modernize.sessions (user_id, secret_sha256, expires_at, user_agent)
         SELECT id, $2, now() + make_interval(secs => $3), left($4, 500) FROM migration.users WHERE id = $1
         RETURNING id, user_id, created_at, expires_at",
    )
    .bind(user_id)
    .bind(secret.digest())
    .bind(lifetime.as_secs_f64())
    .bind(user_agent)
    .fetch_optional(conn)
    .await?;
    let session = session.ok_or_else(|| RepoError::not_found("user", user_id))?;
    Ok((session, secret))
}

/// The session and its active user; NotFound for an unknown, ended or expired session or an
/// inactive user alike.
pub async fn authenticate_session(
    conn: &mut PgConnection,
    secret: &SessionSecret,
) -> Result<(Session, User), RepoError> {
    let session: Option<Session> = sqlx::query_as(
        "UPDATE modernize.sessions s SET last_seen_at = now()
         FROM migration.users u
         WHERE s.secret_sha256 = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
           AND u.id = s.user_id AND u.is_active
         RETURNING s.id, s.user_id, s.created_at, s.expires_at",
    )
    .bind(secret.digest())
    .fetch_optional(&mut *conn)
    .await?;
    let session = session.ok_or_else(|| RepoError::not_found("session", "with this cookie"))?;
    let user =
        sqlx::query_as("SELECT * FROM migration.users WHERE id = $1").bind(session.user_id).fetch_one(conn).await?;
    Ok((session, user))
}

/// Ends one of the user's sessions (signing out; another user's is not found); ending it twice
/// keeps the first time.
pub async fn revoke_session(conn: &mut PgConnection, user_id: Uuid, session_id: Uuid) -> Result<(), RepoError> {
    let ended = sqlx::query(
        "UPDATE modernize.sessions SET revoked_at = coalesce(revoked_at, now()) WHERE user_id = $1 AND id = $2",
    )
    .bind(user_id)
    .bind(session_id)
    .execute(conn)
    .await?
    .rows_affected();
    if ended == 0 { Err(RepoError::not_found("session", session_id)) } else { Ok(()) }
}

/// Deactivates a user, in the caller's transaction: from then on sign-in, their API tokens and
/// their sessions answer as for an unknown user; their live sessions are ended and their live
/// tokens revoked, so the record says so too. NotFound for an unknown user; deactivating twice
/// keeps the first time.
pub async fn deactivate_user(conn: &mut PgConnection, user_id: Uuid) -> Result<User, RepoError> {
    let user: User = sqlx::query_as(
        "UPDATE migration.users SET is_active = false,
                updated_at = CASE WHEN is_active THEN now() ELSE updated_at END
         WHERE id = $1 RETURNING *",
    )
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| RepoError::not_found("user", user_id))?;
    sqlx::query("UPDATE modernize.sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE modernize.api_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(user)
}

/// Reactivates a deactivated user, in the caller's transaction: sign-in works again with their
/// password; the sessions ended and the tokens revoked at deactivation stay so (the user signs in
/// afresh and issues new tokens). NotFound for an unknown user; reactivating an active user
/// changes nothing.
pub async fn reactivate_user(conn: &mut PgConnection, user_id: Uuid) -> Result<User, RepoError> {
    sqlx::query_as(
        "UPDATE migration.users SET is_active = true,
                updated_at = CASE WHEN is_active THEN updated_at ELSE now() END
         WHERE id = $1 RETURNING *",
    )
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| RepoError::not_found("user", user_id))
}
