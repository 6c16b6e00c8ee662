//! Shared by the integration tests: every test gets its own fresh database from `#[sqlx::test]`
//! (with `migrations = false`) and builds the schema with the real migration runner.

#![allow(dead_code)] // each test crate uses its own subset

use modernize::db::migrate;
use sqlx::PgPool;
use sqlx::pool::PoolConnection;

pub async fn migrated(pool: &PgPool) -> PoolConnection<sqlx::Postgres> {
    let mut conn = pool.acquire().await.expect("connection");
    migrate::upgrade(&mut conn, None).await.expect("migrations apply");
    conn
}

/// A URL reaching the test's own database, for running the binary against it.
pub fn database_url(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL is set for the tests");
    let database = pool.connect_options().get_database().expect("test database name").to_owned();
    let (server, query) = match base.split_once('?') {
        Some((server, query)) => (server.to_owned(), format!("?{query}")),
        None => (base.clone(), String::new()),
    };
    let server = server.rsplit_once('/').map_or(server.as_str(), |(s, _)| s).to_owned();
    format!("{server}/{database}{query}")
}
