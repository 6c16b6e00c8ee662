//! Shared by the integration tests: every test gets its own fresh database from `#[sqlx::test]`
//! (with `migrations = false`) and builds the schema with the real migration runner.

use modernize::db::migrate;
use sqlx::PgPool;
use sqlx::pool::PoolConnection;

pub async fn migrated(pool: &PgPool) -> PoolConnection<sqlx::Postgres> {
    let mut conn = pool.acquire().await.expect("connection");
    migrate::upgrade(&mut conn, None).await.expect("migrations apply");
    conn
}
