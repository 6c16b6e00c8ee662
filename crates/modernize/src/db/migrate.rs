//! Versioned, reversible, checksummed schema migrations, applied by the binary itself.
//!
//! Why not `sqlx::migrate::Migrator`: it keeps its history table in the domain schema's search
//! path and sends a whole file as one query string, and PostgreSQL refuses `CREATE INDEX
//! CONCURRENTLY` inside such a string. Here the history lives in the bookkeeping schema
//! (`modernize.schema_migrations`) and a file starting with `-- modernize:no-transaction` is run
//! statement by statement (statements end with `;` at the end of a line) so that indexes can be
//! built on a live database without blocking writes. Every other file runs in one transaction.

use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};

use crate::schema::DOMAIN_SCHEMA;

/// One migration: the SQL that applies it and the SQL that reverses it.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    up: &'static str,
    down: &'static str,
    up_settings: &'static [(&'static str, &'static str)],
}

macro_rules! migration {
    ($version:literal, $prefix:literal, $name:literal) => {
        migration!($version, $prefix, $name, up_settings: &[])
    };
    ($version:literal, $prefix:literal, $name:literal, up_settings: $settings:expr) => {
        Migration {
            version: $version,
            name: $name,
            up: include_str!(concat!("../../../../migrations/", $prefix, "_", $name, ".up.sql")),
            down: include_str!(concat!("../../../../migrations/", $prefix, "_", $name, ".down.sql")),
            up_settings: $settings,
        }
    };
}

/// 0007's backfill (`UPDATE migration.assets SET dedup_key … AND NOT EXISTS (… o.dedup_key =
/// k.dedup_key)`) anti-joins the assets with themselves on a column that has no index yet (the
/// unique index comes after it) and no statistics (it was just added). The planner estimates its
/// `row_number() … = 1` filter at the default 0.5 % of the rows, fresh statistics or not, and so
/// plans a nested loop that walks the engagement's assets once for every asset, or without nested
/// loops a merge join on the tenant alone that does the same: quadratic in an engagement's size
/// (100,000 assets in 5 engagements ran for over 6 minutes and was cancelled). Every join of the
/// statement is an equality over whole tables: as hash joins it is linear whatever the estimates
/// (2 s of joins and 27 s of index maintenance at 100,000 assets, load average 12). The file
/// cannot say so itself: a landed migration is never edited.
const ASSET_IDENTITY_SETTINGS: &[(&str, &str)] = &[("enable_nestloop", "off"), ("enable_mergejoin", "off")];

/// Every migration, in order. A file in `migrations/` that is missing here fails a test.
pub static MIGRATIONS: [Migration; 23] = [
    migration!(1, "0001", "consolidated_schema"),
    migration!(2, "0002", "performance_indexes"),
    migration!(3, "0003", "row_level_security"),
    migration!(4, "0004", "job_queue"),
    migration!(5, "0005", "api_tokens"),
    migration!(6, "0006", "sessions"),
    migration!(7, "0007", "asset_identity", up_settings: ASSET_IDENTITY_SETTINGS),
    migration!(8, "0008", "mapping_decisions"),
    migration!(9, "0009", "audit_trail_index"),
    migration!(10, "0010", "asset_list_indexes"),
    migration!(11, "0011", "operations"),
    migration!(12, "0012", "search_functions"),
    migration!(13, "0013", "filters_under_rls"),
    migration!(14, "0014", "record_file_row"),
    migration!(15, "0015", "asset_identity_keys"),
    migration!(16, "0016", "import_sheet_issues"),
    migration!(17, "0017", "search_keys"),
    migration!(18, "0018", "search_keys_index"),
    migration!(19, "0019", "time_ordered_ids"),
    migration!(20, "0020", "six_r_hostname_indexes"),
    migration!(21, "0021", "raw_record_indexes"),
    migration!(22, "0022", "raw_record_values"),
    migration!(23, "0023", "raw_record_issue_index"),
];

const NO_TRANSACTION_MARKER: &str = "-- modernize:no-transaction";
/// A line of an up file: applying it neither blocks nor breaks a running `serve` or `worker` of
/// the previous version (new tables, columns without a rewrite, views), so `deploy` needs no
/// maintenance window for it. Concurrent index builds (no-transaction files) are online too.
const ONLINE_SAFE_MARKER: &str = "-- modernize:online-safe";
/// A line of a down file: reverting loses no data (it drops only what can be rebuilt, such as
/// indexes or policies), so `rollback` may run it instead of restoring the backup.
const LOSSLESS_DOWN_MARKER: &str = "-- modernize:lossless";

/// Serialises concurrent `upgrade`/`downgrade` runs against one database.
const MIGRATION_LOCK_KEY: i64 = 0x6d6f_6465_726e; // "modern"

impl Migration {
    /// A migration outside [`MIGRATIONS`], for the `*_with` functions: tests use it to append one
    /// that fails, or one that needs a maintenance window, to the real set.
    pub const fn new(version: i64, name: &'static str, up: &'static str, down: &'static str) -> Self {
        Self { version, name, up, down, up_settings: &[] }
    }

    /// SHA-256 over both directions: editing either once landed is detected.
    pub fn checksum(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.up.as_bytes());
        hasher.update([0u8]);
        hasher.update(self.down.as_bytes());
        hex::encode(hasher.finalize())
    }

    pub fn file_stem(&self) -> String {
        format!("{:04}_{}", self.version, self.name)
    }

    pub fn up_sql(&self) -> &'static str {
        self.up
    }

    pub fn down_sql(&self) -> &'static str {
        self.down
    }

    /// Planner settings (name, value) the up statements run with, reset afterwards: for a landed
    /// migration whose plan goes wrong and whose file cannot be edited (see
    /// `ASSET_IDENTITY_SETTINGS`).
    pub fn up_settings(&self) -> &'static [(&'static str, &'static str)] {
        self.up_settings
    }

    /// Whether applying it needs no maintenance window (see `ONLINE_SAFE_MARKER`); a migration
    /// that does not say so is assumed to need one.
    pub fn online_safe(&self) -> bool {
        !Self::runs_in_transaction(self.up) || has_marker(self.up, ONLINE_SAFE_MARKER)
    }

    /// Whether reverting it needs no maintenance window: its down file, by the rule of
    /// [`Migration::online_safe`] (a no-transaction file of concurrent index builds and drops, or
    /// one with the `ONLINE_SAFE_MARKER`).
    pub fn online_safe_down(&self) -> bool {
        !Self::runs_in_transaction(self.down) || has_marker(self.down, ONLINE_SAFE_MARKER)
    }

    /// Whether reverting it loses no data (see `LOSSLESS_DOWN_MARKER`); one that does not say so
    /// is assumed to lose some (a no-transaction down file may drop a column, as 0007's does).
    pub fn lossless_down(&self) -> bool {
        has_marker(self.down, LOSSLESS_DOWN_MARKER)
    }

    fn runs_in_transaction(sql: &str) -> bool {
        !sql.trim_start().starts_with(NO_TRANSACTION_MARKER)
    }
}

fn has_marker(sql: &str, marker: &str) -> bool {
    sql.lines().any(|line| line.trim_start().starts_with(marker))
}

/// Splits a no-transaction migration into its statements: full-line `--` comments are dropped and
/// a statement ends with `;` at the end of a line.
pub fn split_statements(sql: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    for line in sql.lines().filter(|line| !line.trim_start().starts_with("--")) {
        current.push_str(line);
        current.push('\n');
        if line.trim_end().ends_with(';') {
            statements.push(std::mem::take(&mut current));
        }
    }
    statements.push(current);
    statements.into_iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "migration {version} was applied with checksum {applied} but this binary's file has {expected}: \
         landed migrations must never be edited; add a new migration instead"
    )]
    ChecksumMismatch { version: i64, applied: String, expected: String },
    #[error(
        "the database has migration {version} ({name}), which this binary does not know: it was \
         migrated by a newer version of modernize"
    )]
    UnknownVersion { version: i64, name: String },
    #[error("unknown target version {0}; known versions are 0 to {1}")]
    UnknownTarget(i64, i64),
    #[error("migration {version} ({name}) failed {direction}: {}", crate::db::database_message(.source))]
    Failed {
        version: i64,
        name: &'static str,
        direction: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("database error: {}", crate::db::database_message(.0))]
    Database(#[from] sqlx::Error),
}

/// A row of `modernize.schema_migrations`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AppliedMigration {
    pub version: i64,
    pub name: String,
    pub checksum: String,
    pub applied_at: DateTime<Utc>,
    pub execution_ms: i64,
}

/// What `upgrade` or `downgrade` did to one migration.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub version: i64,
    pub name: &'static str,
    pub direction: Direction,
    pub execution_ms: i64,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Up,
    Down,
}

#[derive(Debug, Clone, Serialize)]
pub struct MigrationStatus {
    pub version: i64,
    pub name: &'static str,
    pub checksum: String,
    pub applied_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub current_version: i64,
    pub latest_version: i64,
    pub migrations: Vec<MigrationStatus>,
}

impl Status {
    pub fn is_current(&self) -> bool {
        self.current_version == self.latest_version && self.migrations.iter().all(|m| m.applied_at.is_some())
    }
}

pub fn latest_version() -> i64 {
    latest_version_of(&MIGRATIONS)
}

fn latest_version_of(set: &[Migration]) -> i64 {
    set.last().map_or(0, |m| m.version)
}

/// Applies every pending migration up to `target` (all of them when `None`).
pub async fn upgrade(conn: &mut PgConnection, target: Option<i64>) -> Result<Vec<Step>, MigrateError> {
    upgrade_with(conn, &MIGRATIONS, target).await
}

/// [`upgrade`] over the migrations `set` (in version order) instead of [`MIGRATIONS`].
pub async fn upgrade_with(
    conn: &mut PgConnection,
    set: &[Migration],
    target: Option<i64>,
) -> Result<Vec<Step>, MigrateError> {
    let target = check_target(set, target.unwrap_or_else(|| latest_version_of(set)))?;
    ensure_history_table(conn).await?;
    with_lock(conn, async |conn| {
        let applied = verified_history(conn, set).await?;
        let mut steps = Vec::new();
        for migration in set.iter().filter(|m| m.version <= target) {
            if applied.iter().any(|a| a.version == migration.version) {
                continue;
            }
            let started = Instant::now();
            run(conn, migration, Direction::Up).await?;
            let execution_ms = elapsed_ms(started);
            steps.push(Step {
                version: migration.version,
                name: migration.name,
                direction: Direction::Up,
                execution_ms,
            });
        }
        Ok(steps)
    })
    .await
}

/// Reverses applied migrations, newest first, until the database is at version `to`.
pub async fn downgrade(conn: &mut PgConnection, to: i64) -> Result<Vec<Step>, MigrateError> {
    downgrade_with(conn, &MIGRATIONS, to).await
}

/// [`downgrade`] over the migrations `set` (in version order) instead of [`MIGRATIONS`].
pub async fn downgrade_with(conn: &mut PgConnection, set: &[Migration], to: i64) -> Result<Vec<Step>, MigrateError> {
    let to = check_target(set, to)?;
    with_lock(conn, async |conn| {
        let applied = verified_history(conn, set).await?;
        let mut steps = Vec::new();
        for migration in set.iter().rev().filter(|m| m.version > to) {
            if !applied.iter().any(|a| a.version == migration.version) {
                continue;
            }
            let started = Instant::now();
            run(conn, migration, Direction::Down).await?;
            steps.push(Step {
                version: migration.version,
                name: migration.name,
                direction: Direction::Down,
                execution_ms: elapsed_ms(started),
            });
        }
        Ok(steps)
    })
    .await
}

/// Which migrations are applied, verifying the checksums of those that are. Reads only: a
/// database without the history table has none applied.
pub async fn status(conn: &mut PgConnection) -> Result<Status, MigrateError> {
    status_with(conn, &MIGRATIONS).await
}

/// [`status`] over the migrations `set` (in version order) instead of [`MIGRATIONS`].
pub async fn status_with(conn: &mut PgConnection, set: &[Migration]) -> Result<Status, MigrateError> {
    let applied = verified_history(conn, set).await?;
    let migrations: Vec<_> = set
        .iter()
        .map(|m| MigrationStatus {
            version: m.version,
            name: m.name,
            checksum: m.checksum(),
            applied_at: applied.iter().find(|a| a.version == m.version).map(|a| a.applied_at),
        })
        .collect();
    let current_version = applied.iter().map(|a| a.version).max().unwrap_or(0);
    Ok(Status { current_version, latest_version: latest_version_of(set), migrations })
}

/// Records migrations as applied without running them: for a database whose schema was brought
/// to that state by other means (the legacy consolidation), after the caller has proven it.
pub async fn record_applied(conn: &mut PgConnection, up_to: i64) -> Result<(), MigrateError> {
    ensure_history_table(conn).await?;
    for migration in MIGRATIONS.iter().filter(|m| m.version <= up_to) {
        sqlx::query(
            "INSERT INTO modernize.schema_migrations (version, name, checksum, execution_ms) \
             VALUES ($1, $2, $3, 0) ON CONFLICT (version) DO NOTHING",
        )
        .bind(migration.version)
        .bind(migration.name)
        .bind(migration.checksum())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

fn check_target(set: &[Migration], target: i64) -> Result<i64, MigrateError> {
    let known = target == 0 || set.iter().any(|m| m.version == target);
    if known { Ok(target) } else { Err(MigrateError::UnknownTarget(target, latest_version_of(set))) }
}

fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

async fn with_lock<T>(
    conn: &mut PgConnection,
    work: impl AsyncFnOnce(&mut PgConnection) -> Result<T, MigrateError>,
) -> Result<T, MigrateError> {
    sqlx::query("SELECT pg_advisory_lock($1)").bind(MIGRATION_LOCK_KEY).execute(&mut *conn).await?;
    let result = work(conn).await;
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)").bind(MIGRATION_LOCK_KEY).execute(&mut *conn).await;
    let value = result?;
    unlocked?;
    Ok(value)
}

async fn ensure_history_table(conn: &mut PgConnection) -> Result<(), MigrateError> {
    // Quietly: IF NOT EXISTS reports a NOTICE on every run otherwise.
    sqlx::raw_sql(
        "SET LOCAL client_min_messages = warning;
         CREATE SCHEMA IF NOT EXISTS modernize;
         COMMENT ON SCHEMA modernize IS 'Bookkeeping of the modernize tool: migration history, jobs, consolidation archive.';
         CREATE TABLE IF NOT EXISTS modernize.schema_migrations (
             version bigint PRIMARY KEY,
             name text NOT NULL,
             checksum text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now(),
             execution_ms bigint NOT NULL
         );
         COMMENT ON TABLE modernize.schema_migrations IS 'Migrations applied to this database, with the checksum of their files.';",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn verified_history(conn: &mut PgConnection, set: &[Migration]) -> Result<Vec<AppliedMigration>, MigrateError> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('modernize.schema_migrations') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?;
    if !exists {
        return Ok(Vec::new());
    }
    let applied: Vec<AppliedMigration> = sqlx::query_as(
        "SELECT version, name, checksum, applied_at, execution_ms \
         FROM modernize.schema_migrations ORDER BY version",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in &applied {
        let Some(known) = set.iter().find(|m| m.version == row.version) else {
            return Err(MigrateError::UnknownVersion { version: row.version, name: row.name.clone() });
        };
        let expected = known.checksum();
        if row.checksum != expected {
            return Err(MigrateError::ChecksumMismatch {
                version: row.version,
                applied: row.checksum.clone(),
                expected,
            });
        }
    }
    Ok(applied)
}

async fn run(conn: &mut PgConnection, migration: &Migration, direction: Direction) -> Result<(), MigrateError> {
    let (sql, settings, label) = match direction {
        Direction::Up => (migration.up, migration.up_settings, "applying"),
        Direction::Down => (migration.down, &[][..], "reverting"),
    };
    let failed =
        |source| MigrateError::Failed { version: migration.version, name: migration.name, direction: label, source };
    let started = Instant::now();
    if Migration::runs_in_transaction(sql) {
        let mut tx = conn.begin().await?;
        set(&mut tx, settings, true).await?;
        sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(failed)?;
        record(&mut tx, migration, direction, elapsed_ms(started)).await?;
        tx.commit().await?;
    } else {
        drop_invalid_indexes(conn).await?;
        set(conn, settings, false).await?;
        let mut applied = Ok(());
        for statement in split_statements(sql) {
            applied = sqlx::raw_sql(sqlx::AssertSqlSafe(statement)).execute(&mut *conn).await.map(drop);
            if applied.is_err() {
                break;
            }
        }
        // Reset on failure too: the connection goes back to its caller (or its pool).
        for (name, _) in settings {
            sqlx::query("SELECT set_config($1, NULL, false)").bind(name).execute(&mut *conn).await?;
        }
        applied.map_err(failed)?;
        record(conn, migration, direction, elapsed_ms(started)).await?;
    }
    tracing::info!(version = migration.version, name = migration.name, ?direction, "migration done");
    Ok(())
}

/// Sets each (name, value) for the session, or for the transaction when `local`.
async fn set(conn: &mut PgConnection, settings: &[(&str, &str)], local: bool) -> Result<(), sqlx::Error> {
    for (name, value) in settings {
        sqlx::query("SELECT set_config($1, $2, $3)").bind(name).bind(value).bind(local).execute(&mut *conn).await?;
    }
    Ok(())
}

/// An interrupted `CREATE INDEX CONCURRENTLY` leaves an INVALID index that `IF NOT EXISTS` would
/// then keep; dropping such leftovers first lets a re-run of the migration finish the work.
async fn drop_invalid_indexes(conn: &mut PgConnection) -> Result<(), MigrateError> {
    let invalid: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_index i \
         JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE NOT i.indisvalid AND n.nspname = $1",
    )
    .bind(DOMAIN_SCHEMA)
    .fetch_all(&mut *conn)
    .await?;
    for index in invalid {
        tracing::warn!(%index, "dropping an invalid index left by an interrupted build");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP INDEX CONCURRENTLY IF EXISTS {index}")))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn record(
    conn: &mut PgConnection,
    migration: &Migration,
    direction: Direction,
    execution_ms: i64,
) -> Result<(), MigrateError> {
    match direction {
        Direction::Up => {
            sqlx::query(
                "INSERT INTO modernize.schema_migrations (version, name, checksum, execution_ms) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(migration.version)
            .bind(migration.name)
            .bind(migration.checksum())
            .bind(execution_ms)
            .execute(&mut *conn)
            .await?;
        }
        Direction::Down => {
            sqlx::query("DELETE FROM modernize.schema_migrations WHERE version = $1")
                .bind(migration.version)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_migrations_is_registered_in_order() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations");
        let mut stems: Vec<String> = std::fs::read_dir(dir)
            .expect("migrations directory")
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter_map(|name| name.strip_suffix(".up.sql").map(str::to_owned))
            .collect();
        stems.sort();
        let registered: Vec<String> = MIGRATIONS.iter().map(Migration::file_stem).collect();
        assert_eq!(stems, registered);
        assert!(MIGRATIONS.windows(2).all(|w| w[0].version < w[1].version));
    }

    #[test]
    fn landed_migrations_are_never_edited() {
        // Append the checksum of each new migration when it lands; never change a line here.
        let landed = [
            (1, "5928f624a93c7f659eec8ffc2457acba3e33c54e035e98bad4cdc038fbc95ac6"),
            (2, "bf212c9a200c1ad34f307567bfc31c671c18d8556aa1e025c5ffb3e038e54a70"),
            (3, "884dbedddb0cd7d3465045100559af41a37efd290383900bef02d5b476bd0fb5"),
            (4, "d1274fb3300a28e06dc0e894da533c5374ba882f857bfc732339a8158026c0ee"),
            (5, "0c4020fd0fea10b7b05b7e5c17de2feb5b6021652fa644834243afbf03fb76ee"),
            (6, "285c5ad312549ffbac8b76b03b3328db52c076b0fbaac3dc7ddf1d5005d6f662"),
            (7, "c5ea38042066b2cfd84d89b22e200990d960ace976bd1543d1b6708796b325b5"),
            (8, "e0873c2e887a80dfb179a16d425dccc612437773ed3ac88f40a9b0c10c62b181"),
            (9, "9eba8183c25c74407b2f1ce1c37c277eeefd1e9de32749fb099737f9d9436fa5"),
            (10, "9b77b76f3e2cedee210e8a9dc52280a649e1662b2761a2703462579cd6baf48b"),
            (11, "de05c038463f5fb5e6d6237e0e05d3c57c8a975620e682a10570383c9375949d"),
            (12, "d787357833bb12d226cf31942e3ffc28f28508316968664600bbfdb962ab00d1"),
            (13, "e46fa9b03f58debedfae8e58d1022ece7f10d5b2a0e324116c265dfb63505f2b"),
            (14, "b0090e964475834443ddc5ea94b69bba6a4ed26db52c8b39a7abc10ba77a0ce3"),
            (15, "d98756a55a3840cc1084762352f73935445e4717468d3448c290359abdea7cb6"),
            (16, "439c972ee2ee7cbb8a60cb098e72966b26883fdae05506fa8fd34d4ce86b9233"),
            (17, "adaae24db093d073440f641178d32e2ec9ca21e02a997cd85734d91fde4e9e58"),
            (18, "7fb6dd7cb3d52bc6377ec6687d0c2d74335607f519c58e8f9ea68f8c06c1d0a2"),
            (19, "e685ebbbb7aa15f77caf57da3b288dd9f7d94ecc5687235c14f16a60ec5b9fea"),
            (20, "edba53d58d955dd35184488517a73da88bb85bade07d3d666d579637d5c84b2e"),
            (21, "8587c7aeaa619b6c9169d4ad7d522efc5016c25e91064eee4807d5b17cb9a526"),
            (22, "e712e7d0221efcf756b6c1055235735692eb52bc5d70c646f99b7e4568a48ef9"),
        ];
        for (version, checksum) in landed {
            let migration = MIGRATIONS.iter().find(|m| m.version == version).expect("landed migration");
            assert_eq!(migration.checksum(), checksum, "migration {version} was edited after landing");
        }
    }

    #[test]
    fn no_transaction_files_split_into_single_statements() {
        for migration in &MIGRATIONS {
            for sql in [migration.up, migration.down] {
                if Migration::runs_in_transaction(sql) {
                    continue;
                }
                for statement in split_statements(sql) {
                    assert_eq!(statement.matches(';').count(), 1, "one statement: {statement}");
                    assert!(statement.ends_with(';'));
                }
            }
        }
    }

    #[test]
    fn before_the_markers_only_concurrent_migrations_are_online_safe_and_no_down_is_lossless() {
        let marked = |f: fn(&Migration) -> bool| -> Vec<i64> {
            MIGRATIONS.iter().filter(|m| m.version <= 10 && f(m)).map(|m| m.version).collect()
        };
        assert_eq!(marked(Migration::online_safe), [2, 7, 9, 10]);
        assert!(marked(Migration::lossless_down).is_empty());
        let operations = MIGRATIONS.iter().find(|m| m.version == 11).expect("0011");
        assert!(operations.online_safe() && !operations.lossless_down());
    }

    #[test]
    fn splitting_keeps_statements_and_drops_comments() {
        let sql = "-- header\nSET a = 1;\n\n-- why\nCREATE INDEX x\n    ON t (c);\n-- trailing\n";
        assert_eq!(split_statements(sql), vec!["SET a = 1;", "CREATE INDEX x\n    ON t (c);"]);
    }
}
