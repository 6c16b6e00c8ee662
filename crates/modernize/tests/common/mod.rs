//! Shared by the integration tests: every test gets its own fresh database from `#[sqlx::test]`
//! (with `migrations = false`) and builds the schema with the real migration runner.

use modernize::db::migrate;
use sqlx::PgPool;
use sqlx::pool::PoolConnection;

#[allow(dead_code)]
pub async fn migrated(pool: &PgPool) -> PoolConnection<sqlx::Postgres> {
    let mut conn = pool.acquire().await.expect("connection");
    migrate::upgrade(&mut conn, None).await.expect("migrations apply");
    conn
}

/// The test process's operator capability (taken once, shared by the tests of this binary).
#[allow(dead_code)]
pub fn operator() -> &'static modernize::tenancy::OperatorToken {
    static OPERATOR: std::sync::OnceLock<modernize::tenancy::OperatorToken> = std::sync::OnceLock::new();
    OPERATOR.get_or_init(|| modernize::tenancy::OperatorToken::bootstrap().expect("the first in this test process"))
}

/// Runs `$call` (an expression using the tenant transaction `$tx`) for `$ctx` on the connection
/// `$conn`, committing when it succeeds (a failure rolls back), and gives its result.
#[macro_export]
macro_rules! as_tenant {
    ($conn:expr, $ctx:expr, |$tx:ident| $call:expr) => {{
        let mut $tx = modernize::tenancy::TenantTx::begin(&mut *$conn, $ctx).await.expect("tenant transaction");
        let result = $call.await;
        if result.is_ok() {
            $tx.commit().await.expect("commit");
        }
        result
    }};
}
