//! Where the database is, how to reach it, and the schema tooling around it.

pub mod catalog;
pub mod epoch;
pub mod local;
pub mod migrate;
pub mod validate;

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

use local::{ClusterError, LocalCluster};

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    #[error(transparent)]
    LocalCluster(#[from] ClusterError),
    #[error("cannot create database {database:?}: {}", database_message(.source))]
    CreateDatabase {
        database: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot drop database {database:?}: {}", database_message(.source))]
    DropDatabase {
        database: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot connect to {target}: {}", database_message(.source))]
    Connect {
        target: String,
        #[source]
        source: sqlx::Error,
    },
}

/// The database the tool works on: a server given by URL, or the private local cluster.
#[derive(Debug, Clone)]
pub struct Database {
    options: PgConnectOptions,
    /// Where the database is, for humans (no password).
    description: String,
}

impl Database {
    /// `url` wins; without it the private cluster under `data_dir` is initialised and started.
    pub async fn resolve(url: Option<&str>, cluster: &LocalCluster) -> Result<Self, ConnectError> {
        let database = match url {
            Some(url) => Self::from_url(url)?,
            None => {
                let options = cluster.ensure_running().await?;
                Self::from_options(options)
            }
        };
        database.create_if_missing().await?;
        Ok(database)
    }

    pub fn from_url(url: &str) -> Result<Self, ConnectError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(ConnectError::InvalidUrl("it must start with postgres:// or postgresql://".into()));
        }
        let options = PgConnectOptions::from_str(url).map_err(|e| ConnectError::InvalidUrl(e.to_string()))?;
        Ok(Self::from_options(options))
    }

    pub fn from_options(options: PgConnectOptions) -> Self {
        let options = options.application_name("modernize").log_statements(tracing::log::LevelFilter::Debug);
        let description = describe(&options);
        Self { options, description }
    }

    pub fn options(&self) -> &PgConnectOptions {
        &self.options
    }

    pub fn name(&self) -> String {
        database_name(&self.options)
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    pub async fn connect(&self) -> Result<PgConnection, ConnectError> {
        PgConnection::connect_with(&self.options)
            .await
            .map_err(|source| ConnectError::Connect { target: self.description.clone(), source })
    }

    pub async fn pool(&self, max_connections: u32) -> Result<PgPool, ConnectError> {
        PgPoolOptions::new()
            .max_connections(max_connections)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| Box::pin(ping_if_idle_long(conn, meta.idle_for)))
            .connect_with(self.options.clone())
            .await
            .map_err(|source| ConnectError::Connect { target: self.description.clone(), source })
    }

    /// A pool like [`Self::pool`] whose connections opened before a schema change that `epoch`
    /// saw are closed instead of handed out (a long-running `serve` or `worker` across a deploy,
    /// a rollback or a restore).
    ///
    /// # Errors
    /// [`ConnectError::Connect`] when the first connection cannot be opened.
    pub async fn pool_following(
        &self,
        max_connections: u32,
        epoch: &std::sync::Arc<epoch::SchemaEpoch>,
    ) -> Result<PgPool, ConnectError> {
        let epoch = std::sync::Arc::clone(epoch);
        PgPoolOptions::new()
            .max_connections(max_connections)
            .test_before_acquire(false)
            .before_acquire(move |conn, meta| {
                let admitted = epoch.admits(meta.age);
                Box::pin(async move { Ok(admitted && ping_if_idle_long(conn, meta.idle_for).await?) })
            })
            .connect_with(self.options.clone())
            .await
            .map_err(|source| ConnectError::Connect { target: self.description.clone(), source })
    }

    /// Drops the database from its server when it exists, closing every connection to it
    /// (`WITH (FORCE)`): the fresh start of each benchmark of docs/benchmarks.md.
    pub async fn drop_if_exists(&self) -> Result<(), ConnectError> {
        let name = self.name();
        let maintenance = self.options.clone().database("postgres");
        let mut conn = PgConnection::connect_with(&maintenance)
            .await
            .map_err(|source| ConnectError::Connect { target: describe(&maintenance), source })?;
        let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_identifier(&name));
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut conn)
            .await
            .map_err(|source| ConnectError::DropDatabase { database: name.clone(), source })?;
        conn.close().await.map_err(|source| ConnectError::DropDatabase { database: name, source })?;
        Ok(())
    }

    /// Creates the database on its server when it does not exist yet.
    pub async fn create_if_missing(&self) -> Result<(), ConnectError> {
        let name = self.name();
        let create_error = |source| ConnectError::CreateDatabase { database: name.clone(), source };
        let maintenance = self.options.clone().database("postgres");
        let mut conn = PgConnection::connect_with(&maintenance)
            .await
            .map_err(|source| ConnectError::Connect { target: describe(&maintenance), source })?;
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut conn)
            .await
            .map_err(create_error)?;
        if !exists {
            let statement = format!("CREATE DATABASE {}", quote_identifier(&name));
            match sqlx::raw_sql(sqlx::AssertSqlSafe(statement)).execute(&mut conn).await {
                Ok(_) => tracing::info!(database = %name, "created database"),
                // Another process created it between our check and our CREATE: fine.
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
                Err(e) => return Err(create_error(e)),
            }
        }
        conn.close().await.map_err(create_error)?;
        Ok(())
    }
}

/// A pooled connection idle for longer than this is pinged before it is handed out.
const PING_AFTER_IDLE: std::time::Duration = std::time::Duration::from_secs(30);

/// The pools' test before handing out a connection: sqlx pings every connection as it goes back
/// to the pool (which also flushes a rollback), and by default again as it is taken out, two round
/// trips per use; an API request uses the pool twice (the token, then the work). A connection
/// back from a use moments ago needs no second ping; one that sat idle long enough for the server
/// or the network to have dropped it still gets one (an error closes it and another is taken).
async fn ping_if_idle_long(conn: &mut PgConnection, idle_for: std::time::Duration) -> Result<bool, sqlx::Error> {
    if idle_for > PING_AFTER_IDLE {
        conn.ping().await?;
    }
    Ok(true)
}

fn database_name(options: &PgConnectOptions) -> String {
    options.get_database().unwrap_or_else(|| options.get_username()).to_owned()
}

fn describe(options: &PgConnectOptions) -> String {
    let database = database_name(options);
    let user = options.get_username();
    match options.get_socket() {
        Some(socket) => format!("postgresql://{user}@/{database}?host={}", socket.display()),
        None => format!("postgresql://{user}@{}:{}/{database}", options.get_host(), options.get_port()),
    }
}

/// Quotes an SQL identifier (doubling embedded quotes), for the few statements that cannot
/// take a bind parameter.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_identifier("modernize"), "\"modernize\"");
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn descriptions_hide_passwords() {
        let db = Database::from_url("postgres://alice:secret@db.example:5433/estate").expect("valid url");
        assert_eq!(db.description(), "postgresql://alice@db.example:5433/estate");
        assert_eq!(db.name(), "estate");
    }
}

/// What a person reads of a database error: PostgreSQL's message, with its detail and hint,
/// never the line of PostgreSQL's C source that sqlx's `Display` appends ("… at line 621").
pub fn database_message(error: &sqlx::Error) -> String {
    let Some(db) = error.as_database_error() else { return error.to_string() };
    let mut text = db.message().to_owned();
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        if let Some(detail) = pg.detail() {
            text.push_str(": ");
            text.push_str(detail);
        }
        if let Some(hint) = pg.hint() {
            text.push_str(" (");
            text.push_str(hint);
            text.push(')');
        }
    }
    text
}

#[cfg(test)]
mod message_tests {
    #[sqlx::test(migrations = false)]
    async fn database_errors_shown_to_a_person_carry_no_source_line(pool: sqlx::PgPool) {
        let error = sqlx::query("SELECT '99999999999'::int").execute(&pool).await.expect_err("out of range");
        assert!(error.to_string().contains(" at line "), "sqlx appends PostgreSQL's source line: {error}");
        let shown = super::database_message(&error);
        assert_eq!(shown, "value \"99999999999\" is out of range for type integer");
    }
}
