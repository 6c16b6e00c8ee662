//! `deploy` and `rollback` (issue 17, seed phase 6): pre-flight, a verified backup, maintenance
//! mode only when a pending migration needs it, the migrations, `db validate`, the seed's smoke
//! test, and a row in `modernize.deployments` with each step's duration.
//!
//! Both are two calls: `plan_*` reads only (it is all `--dry-run` runs), then `deploy`/`rollback`
//! carries the plan out. A step that fails after the plan stops the run; the outcome says what was
//! left (maintenance, schema) and how to roll back, and is recorded as a failed deployment.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::backup::{self, BackupError, BackupPlan, PgTools};
use crate::db::migrate::{self, MigrateError, Migration};
use crate::db::{ConnectError, Database, validate};
use crate::models::{NewClientAccount, NewEngagement};
use crate::repo::RepoError;
use crate::repo::flows::{self, DiscoveryInput};
use crate::repo::imports::{self, DataImportInput};
use crate::repo::tenancy;
use crate::tenancy::{OperatorToken, TenantCtx, TenantTx};

/// What a deploy backup directory's name starts with (`deploy-<database>-<UTC time>`): retention
/// prunes only these, never the consolidation's backups beside them.
const BACKUP_PREFIX: &str = "deploy-";

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(
        "the database was migrated by a newer modernize (it has migration {version}, {name}, which this binary \
         does not know): deploy that version or newer, never an older one; nothing was changed"
    )]
    NewerDatabase { version: i64, name: String },
    #[error(transparent)]
    Migrate(MigrateError),
    #[error(
        "not enough free disk for the backup under {dir}: {free} bytes free, {needed} needed (the database's \
         size); nothing was changed (free space, or point --backup-dir elsewhere)"
    )]
    DiskSpace { dir: PathBuf, free: u64, needed: u64 },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no deployment {0} to roll back")]
    NoDeployment(i64),
    #[error("no deployment recorded: nothing to roll back")]
    NothingDeployed,
    #[error(
        "deployment {id} cannot be rolled back: {reason}; nothing was changed (restore an older backup with \
         `modernize restore <dir>`)"
    )]
    NotReversible { id: i64, reason: String },
    #[error("database error: {}", crate::db::database_message(.0))]
    Database(#[from] sqlx::Error),
}

impl From<MigrateError> for DeployError {
    fn from(error: MigrateError) -> Self {
        match error {
            MigrateError::UnknownVersion { version, name } => Self::NewerDatabase { version, name },
            other => Self::Migrate(other),
        }
    }
}

/// How `deploy` and `rollback` run.
#[derive(Debug, Clone)]
pub struct Settings<'a> {
    /// pg_dump, pg_restore and psql against the database being deployed.
    pub tools: PgTools,
    /// Where deploy backups go, one directory each (the CLI: `<data-dir>/backups`).
    pub backup_root: PathBuf,
    /// How many deploy backups to keep (the newest, at least 1): older ones are deleted once a
    /// new backup is verified.
    pub keep_backups: usize,
    /// The migrations of this binary, in version order ([`migrate::MIGRATIONS`]; tests append one).
    pub migrations: &'a [Migration],
}

/// A migration `deploy` would apply.
#[derive(Debug, Clone, Serialize)]
pub struct PendingMigration {
    pub version: i64,
    pub name: &'static str,
    /// Applying it needs no maintenance window (`-- modernize:online-safe`).
    pub online_safe: bool,
}

/// What `deploy` will do (all that `deploy --dry-run` does is compute this).
#[derive(Debug, Clone, Serialize)]
pub struct DeployPlan {
    pub database: String,
    pub tool_version: &'static str,
    pub schema_from: i64,
    pub schema_to: i64,
    pub pending: Vec<PendingMigration>,
    /// Some pending migration is not online-safe: writes are refused while they run.
    pub maintenance_needed: bool,
    /// The maintenance flag exists (migration 0011 applied); without it no window can be opened.
    pub maintenance_available: bool,
    pub database_bytes: u64,
    /// Free bytes where the backup goes.
    pub free_bytes: u64,
    pub backup_dir: PathBuf,
    pub keep_backups: usize,
    /// Pre-flight's duration, ms.
    pub preflight_ms: i64,
    /// The steps, in order, as an operator reads them.
    pub steps: Vec<String>,
}

/// One step of a run, as stored in `modernize.deployments.steps`.
#[derive(Debug, Clone, Serialize)]
pub struct StepTiming {
    pub name: &'static str,
    pub ms: i64,
    pub detail: String,
}

/// A migration applied (deploy) or reverted (rollback) by the run.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationRun {
    pub version: i64,
    pub name: &'static str,
    pub online_safe: bool,
    pub lossless_down: bool,
    pub ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Deploy,
    Rollback,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Deploy => "deploy",
            Kind::Rollback => "rollback",
        }
    }
}

/// How `rollback` brings the schema back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Every migration involved reverts without loss: their down files run, data written since stays.
    DownMigrations,
    /// The deployment's verified backup is restored (all or nothing): writes since it are lost.
    BackupRestore,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::DownMigrations => "down_migrations",
            Method::BackupRestore => "backup_restore",
        }
    }
}

/// What a deploy or rollback did (also what its `modernize.deployments` row holds).
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub kind: Kind,
    /// The `modernize.deployments` row; None when the schema left has no such table (before
    /// migration 0011), so the run could not be recorded.
    pub deployment_id: Option<i64>,
    pub succeeded: bool,
    pub schema_from: i64,
    pub schema_to: i64,
    pub migrations: Vec<MigrationRun>,
    pub backup_dir: Option<PathBuf>,
    /// Rollbacks: the deployment rolled back and how.
    pub rollback_of: Option<i64>,
    pub method: Option<Method>,
    pub steps: Vec<StepTiming>,
    /// How long writes were refused, ms.
    pub maintenance_ms: i64,
    /// Maintenance is still on after the run (a failure left the schema between versions).
    pub maintenance_left_on: bool,
    pub failed_step: Option<&'static str>,
    pub error: Option<String>,
    /// What to do now, for a failed run.
    pub next: Option<String>,
}

/// Pre-flight: the database is reachable and not migrated by a newer binary, the pending
/// migrations (each online-safe or not), and free disk for the backup (at least the database's
/// size). Reads only. Errors: `Connect`, `NewerDatabase`, `DiskSpace`, `Database`.
pub async fn plan_deploy(database: &Database, settings: &Settings<'_>) -> Result<DeployPlan, DeployError> {
    let started = Instant::now();
    let mut conn = database.connect().await?;
    let status = migrate::status_with(&mut conn, settings.migrations).await?;
    let pending: Vec<PendingMigration> = settings
        .migrations
        .iter()
        .filter(|m| status.migrations.iter().any(|s| s.version == m.version && s.applied_at.is_none()))
        .map(|m| PendingMigration { version: m.version, name: m.name, online_safe: m.online_safe() })
        .collect();
    let database_bytes: i64 =
        sqlx::query_scalar("SELECT pg_database_size(current_database())").fetch_one(&mut conn).await?;
    let database_bytes = u64::try_from(database_bytes).unwrap_or(0);
    let free_bytes = free_bytes(&settings.backup_root)?;
    if free_bytes < database_bytes {
        return Err(DeployError::DiskSpace {
            dir: settings.backup_root.clone(),
            free: free_bytes,
            needed: database_bytes,
        });
    }
    let maintenance_available = crate::ops::maintenance(&mut conn).await?.is_some();
    let maintenance_needed = pending.iter().any(|m| !m.online_safe);
    let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let backup_dir = settings.backup_root.join(format!("{BACKUP_PREFIX}{}-{stamp}", database.name()));
    let schema_to = pending.last().map_or(status.current_version, |m| m.version);
    let mut steps = vec![format!(
        "back up {} ({database_bytes} bytes) to {} and verify it by restoring it into a scratch database; \
         keep the newest {} deploy backups",
        database.description(),
        backup_dir.display(),
        settings.keep_backups.max(1)
    )];
    match (maintenance_needed, maintenance_available) {
        (true, true) => steps.push("maintenance ON: writes answer 503, workers stop claiming jobs".into()),
        (true, false) => steps.push(
            "maintenance needed but the flag arrives with migration 0011: stop `serve` and `worker` yourself".into(),
        ),
        (false, _) => steps.push("no maintenance window: every pending migration is online-safe".into()),
    }
    if pending.is_empty() {
        steps.push(format!("no migration pending (schema {})", status.current_version));
    }
    for m in &pending {
        let safe = if m.online_safe { "online-safe" } else { "needs maintenance" };
        steps.push(format!("apply migration {:04} {} ({safe})", m.version, m.name));
    }
    steps.push("db validate".into());
    steps.push("smoke test: no v3_ tables, master-flow linkage, legacy field names, no is_mock (rolled back)".into());
    if maintenance_needed && maintenance_available {
        steps.push("maintenance off".into());
    }
    steps.push("record the deployment in modernize.deployments".into());
    Ok(DeployPlan {
        database: database.description().to_owned(),
        tool_version: env!("CARGO_PKG_VERSION"),
        schema_from: status.current_version,
        schema_to,
        pending,
        maintenance_needed,
        maintenance_available,
        database_bytes,
        free_bytes,
        backup_dir,
        keep_backups: settings.keep_backups.max(1),
        preflight_ms: elapsed_ms(started),
        steps,
    })
}

/// Free bytes on the file system that holds `dir` (or its nearest existing ancestor).
fn free_bytes(dir: &Path) -> Result<u64, DeployError> {
    let existing = dir.ancestors().find(|p| p.exists()).unwrap_or(Path::new("/"));
    let stat = nix::sys::statvfs::statvfs(existing)
        .map_err(|errno| DeployError::Io { path: existing.to_owned(), source: errno.into() })?;
    Ok(stat.blocks_available().saturating_mul(stat.fragment_size()))
}

/// Steps, their timings and the maintenance window of one run.
struct Run {
    kind: Kind,
    started_at: DateTime<Utc>,
    schema_from: i64,
    steps: Vec<StepTiming>,
    migrations: Vec<MigrationRun>,
    backup_dir: Option<PathBuf>,
    maintenance_since: Option<Instant>,
    maintenance_ms: i64,
    /// A backup was restored: the schema and data changed even with no migration run.
    restored: bool,
}

impl Run {
    fn step(&mut self, name: &'static str, started: Instant, detail: impl Into<String>) {
        self.steps.push(StepTiming { name, ms: elapsed_ms(started), detail: detail.into() });
    }

    async fn maintenance(&mut self, conn: &mut PgConnection, on: bool, reason: &str) -> Result<(), DeployError> {
        let started = Instant::now();
        let set = crate::ops::set_maintenance(conn, on, Some(reason), 60).await;
        let switched = set.is_ok();
        let detail = match set {
            Ok(_) => reason.to_owned(),
            Err(crate::ops::OpsError::Database(e)) => return Err(e.into()),
            // A restore took the flag away (a schema before 0011): nothing left to switch.
            Err(other) => format!("skipped: {other}"),
        };
        match (on, switched) {
            (true, true) => {
                self.maintenance_since.get_or_insert_with(Instant::now);
            }
            (true, false) => {}
            (false, _) => {
                if let Some(since) = self.maintenance_since.take() {
                    self.maintenance_ms += elapsed_ms(since);
                }
            }
        }
        self.step(if on { "maintenance_on" } else { "maintenance_off" }, started, detail);
        Ok(())
    }
}

/// Carries out `plan` (from [`plan_deploy`], which it trusts): backup and retention, maintenance
/// when needed, the migrations, `db validate`, the smoke test, maintenance off, the record. A
/// failing step stops the run and comes back as an `Outcome` with `succeeded: false`: maintenance
/// is switched off again when no migration was applied (the schema is as before), and left on
/// otherwise (the schema is between versions until `rollback`); the failure is recorded.
/// Errors (`Connect`, `Database`): the database became unreachable, nothing recorded.
pub async fn deploy(
    database: &Database,
    operator: &OperatorToken,
    settings: &Settings<'_>,
    plan: &DeployPlan,
) -> Result<Outcome, DeployError> {
    let mut conn = database.connect().await?;
    let mut run = Run {
        kind: Kind::Deploy,
        started_at: Utc::now(),
        schema_from: plan.schema_from,
        steps: vec![StepTiming {
            name: "preflight",
            ms: plan.preflight_ms,
            detail: format!(
                "{} pending, {} bytes to back up, {} bytes free",
                plan.pending.len(),
                plan.database_bytes,
                plan.free_bytes
            ),
        }],
        migrations: Vec::new(),
        backup_dir: None,
        maintenance_since: None,
        maintenance_ms: 0,
        restored: false,
    };

    let started = Instant::now();
    let backed_up = backup_and_prune(settings, &plan.backup_dir).await;
    match backed_up {
        Ok(detail) => {
            run.backup_dir = Some(plan.backup_dir.clone());
            run.step("backup", started, detail);
        }
        Err(error) => {
            run.step("backup", started, error.to_string());
            return finish_failed(&mut conn, run, "backup", error.to_string(), None).await;
        }
    }

    if plan.maintenance_needed && plan.maintenance_available {
        let reason = format!("deploying schema {} (modernize {})", plan.schema_to, plan.tool_version);
        run.maintenance(&mut conn, true, &reason).await?;
    }

    let started = Instant::now();
    for pending in &plan.pending {
        let Some(migration) = settings.migrations.iter().find(|m| m.version == pending.version) else { continue };
        let applied = migrate::upgrade_with(&mut conn, settings.migrations, Some(migration.version)).await;
        match applied {
            Ok(steps) => run.migrations.extend(steps.iter().map(|s| MigrationRun {
                version: s.version,
                name: s.name,
                online_safe: migration.online_safe(),
                lossless_down: migration.lossless_down(),
                ms: s.execution_ms,
            })),
            Err(error) => {
                run.step("migrate", started, error.to_string());
                return finish_failed(&mut conn, run, "migrate", error.to_string(), None).await;
            }
        }
    }
    run.step("migrate", started, format!("{} applied", run.migrations.len()));

    if let Err((step, error)) = validate_and_smoke(&mut conn, operator, &mut run).await {
        return finish_failed(&mut conn, run, step, error, None).await;
    }
    if run.maintenance_since.is_some() {
        run.maintenance(&mut conn, false, "deployment done").await?;
    }
    finish(&mut conn, run, None, None).await
}

/// Creates and verifies the backup, then prunes old deploy backups; says what it did.
async fn backup_and_prune(settings: &Settings<'_>, dir: &Path) -> Result<String, BackupError> {
    backup::private_dir(&settings.backup_root)?;
    let plan = BackupPlan { tools: settings.tools.clone(), dir: dir.to_owned() };
    let created = match backup::create(&plan).await {
        Ok(_) => backup::verify(&settings.tools, dir).await,
        Err(error) => Err(error),
    };
    let manifest = match created {
        Ok(manifest) => manifest,
        Err(error) => {
            // An unverified backup must never be mistaken for one to restore.
            if let Err(removed) = std::fs::remove_dir_all(dir) {
                tracing::warn!(dir = %dir.display(), %removed, "cannot remove the failed backup");
            }
            return Err(error);
        }
    };
    let pruned = prune_backups(&settings.backup_root, settings.keep_backups.max(1))?;
    let rows: i64 = manifest.tables.iter().map(|t| t.rows).sum();
    Ok(format!(
        "{} verified: {} tables, {rows} rows; {} old deploy backups pruned",
        dir.display(),
        manifest.tables.len(),
        pruned.len()
    ))
}

/// Deletes all but the newest `keep` deploy backups under `root` (names sort by time); returns
/// what it deleted.
pub fn prune_backups(root: &Path, keep: usize) -> Result<Vec<PathBuf>, BackupError> {
    let io = |source| BackupError::Io { path: root.to_owned(), source };
    let mut backups: Vec<PathBuf> = std::fs::read_dir(root)
        .map_err(io)?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_str().is_some_and(|n| n.starts_with(BACKUP_PREFIX)))
        .map(|e| e.path())
        .filter(|p| p.join("manifest.json").is_file())
        .collect();
    backups.sort();
    let excess = backups.len().saturating_sub(keep);
    let pruned: Vec<PathBuf> = backups.into_iter().take(excess).collect();
    for dir in &pruned {
        std::fs::remove_dir_all(dir).map_err(|source| BackupError::Io { path: dir.clone(), source })?;
    }
    Ok(pruned)
}

/// `db validate`, then the smoke test; the failing step's name and why.
async fn validate_and_smoke(
    conn: &mut PgConnection,
    operator: &OperatorToken,
    run: &mut Run,
) -> Result<(), (&'static str, String)> {
    let started = Instant::now();
    match validate::validate(conn).await {
        Ok(report) if report.passed => run.step("validate", started, format!("{} checks passed", report.checks.len())),
        Ok(report) => {
            let failures: Vec<&String> = report.failures().collect();
            let error =
                format!("db validate failed: {}", failures.iter().map(|f| f.as_str()).collect::<Vec<_>>().join("; "));
            run.step("validate", started, error.clone());
            return Err(("validate", error));
        }
        Err(e) => {
            let error = crate::db::database_message(&e);
            run.step("validate", started, error.clone());
            return Err(("validate", error));
        }
    }
    let started = Instant::now();
    // This binary's statements name every column of its own schema: on an older one (a rollback
    // that restored a backup) they fail for want of a column, which says nothing about the data.
    // That schema is served by the previous release's binary (docs/operations.md, rollback).
    let (schema, own) = match current_schema(conn).await {
        Ok(schema) => (schema, crate::db::migrate::latest_version()),
        Err(e) => {
            let error = crate::db::database_message(&e);
            run.step("smoke_test", started, error.clone());
            return Err(("smoke_test", error));
        }
    };
    if schema < own {
        run.step(
            "smoke_test",
            started,
            format!(
                "skipped: schema {schema} is older than this binary's {own}; the previous release's binary \
                 serves it (docs/operations.md, rollback)"
            ),
        );
        return Ok(());
    }
    match smoke_test(conn, operator).await {
        Ok(checks) => run.step("smoke_test", started, checks.join(", ")),
        Err(error) => {
            let error = format!("smoke test failed: {error}");
            run.step("smoke_test", started, error.clone());
            return Err(("smoke_test", error));
        }
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum SmokeError {
    #[error("{0}")]
    Check(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error("database error: {}", crate::db::database_message(.0))]
    Database(#[from] sqlx::Error),
}

/// The seed's integration checks (task 5.1) against the live schema: no `v3_` table in schema
/// `migration`; a master flow and the discovery flow linked to it; an import created with the
/// legacy field names (`source_filename`, `file_size_bytes`) read back under the current ones; no
/// `is_mock` column. The rows are written in a tenant transaction (row-level security applies) for
/// a throw-away client account, and rolled back: nothing stays. Returns the checks passed.
pub async fn smoke_test(conn: &mut PgConnection, operator: &OperatorToken) -> Result<Vec<&'static str>, SmokeError> {
    let check = |ok: bool, what: String| if ok { Ok(()) } else { Err(SmokeError::Check(what)) };
    let v3: Vec<String> = sqlx::query_scalar(
        r"SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'migration' AND table_name LIKE 'v3\_%'",
    )
    .fetch_all(&mut *conn)
    .await?;
    check(v3.is_empty(), format!("v3 tables present: {}", v3.join(", ")))?;
    let is_mock: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.columns WHERE table_schema = 'migration' AND column_name = 'is_mock'",
    )
    .fetch_all(&mut *conn)
    .await?;
    check(is_mock.is_empty(), format!("is_mock columns in: {}", is_mock.join(", ")))?;

    let account = Uuid::new_v4();
    let ctx = TenantCtx::operator_unchecked(operator, account);
    let mut tx = TenantTx::begin(conn, &ctx).await?;
    let slug = format!("smoke-test-{}", account.simple());
    let fields = serde_json::json!({ "id": account, "name": "modernize deploy smoke test", "slug": slug });
    let new_account: NewClientAccount = serde_json::from_value(fields.clone())
        .map_err(|source| RepoError::Encode { table: "client_accounts", source })?;
    tenancy::create_client_account(tx.conn(), &new_account).await?;
    let new_engagement: NewEngagement =
        serde_json::from_value(serde_json::json!({ "name": "smoke test", "slug": slug }))
            .map_err(|source| RepoError::Encode { table: "engagements", source })?;
    let engagement = tenancy::create_engagement(&mut tx, &new_engagement).await?;
    tx.set_engagement(Some(engagement.id));
    let input = DiscoveryInput { flow_name: Some("smoke test".into()), ..Default::default() };
    let (master, discovery, _) = flows::start_discovery(&mut tx, &input).await?;
    check(
        discovery.master_flow_id == Some(master.flow_id),
        format!("discovery flow {} is not linked to master flow {}", discovery.id, master.flow_id),
    )?;
    let legacy = DataImportInput {
        source_filename: Some("smoke.csv".into()),
        file_size_bytes: Some(1024),
        master_flow_id: Some(master.flow_id),
        ..Default::default()
    };
    let (import, _) = imports::create_import(&mut tx, legacy).await?;
    check(
        import.filename == "smoke.csv" && import.file_size == Some(1024),
        format!("legacy fields read back as filename {:?}, file_size {:?}", import.filename, import.file_size),
    )?;
    // Dropped without commit: the throw-away tenant and its rows are rolled back.
    drop(tx);
    Ok(vec!["no_v3_tables", "no_is_mock_columns", "master_flow_linkage", "legacy_field_names"])
}

/// Records a failed run: maintenance off when the schema is as before the run (no migration run,
/// no backup restored), left on otherwise; `next` says what to do.
async fn finish_failed(
    conn: &mut PgConnection,
    mut run: Run,
    step: &'static str,
    error: String,
    rollback_of: Option<(i64, Method)>,
) -> Result<Outcome, DeployError> {
    let unchanged = run.migrations.is_empty() && !run.restored;
    if unchanged && run.maintenance_since.is_some() {
        run.maintenance(conn, false, "failed before changing the schema").await?;
    }
    let backup = run.backup_dir.as_ref().map_or_else(|| "<backup dir>".to_owned(), |d| d.display().to_string());
    let mut outcome = finish(conn, run, Some((step, error)), rollback_of).await?;
    outcome.next = Some(match (unchanged, outcome.kind, outcome.deployment_id) {
        (true, kind, _) => format!(
            "the database is as before (schema {}, maintenance {}); fix the cause and run `modernize {}` again",
            outcome.schema_to,
            if outcome.maintenance_left_on { "ON" } else { "off" },
            kind.as_str()
        ),
        (false, Kind::Deploy, Some(id)) => format!(
            "roll back with `modernize rollback --to {id}`; maintenance stays {} until then \
             (`modernize maintenance off` keeps the new schema)",
            if outcome.maintenance_left_on { "ON" } else { "off" }
        ),
        (false, Kind::Deploy, None) => format!("restore the backup with `modernize restore {backup}`"),
        (false, Kind::Rollback, _) => format!(
            "maintenance stays ON: fix the cause and run `modernize rollback` again, or `modernize restore {backup}`"
        ),
    });
    Ok(outcome)
}

/// Writes the run's row (when the table exists in the schema left) and builds the outcome.
async fn finish(
    conn: &mut PgConnection,
    run: Run,
    failed: Option<(&'static str, String)>,
    rollback: Option<(i64, Method)>,
) -> Result<Outcome, DeployError> {
    let (rollback_of, method) = (rollback.map(|r| r.0), rollback.map(|r| r.1));
    let schema_to = current_schema(conn).await?;
    let maintenance_left_on = crate::ops::in_maintenance(conn).await?;
    let mut maintenance_ms = run.maintenance_ms;
    if let Some(since) = run.maintenance_since {
        maintenance_ms += elapsed_ms(since);
    }
    let (failed_step, error) = match failed {
        Some((step, error)) => (Some(step), Some(error)),
        None => (None, None),
    };
    let recorded: bool =
        sqlx::query_scalar("SELECT to_regclass('modernize.deployments') IS NOT NULL").fetch_one(&mut *conn).await?;
    let deployment_id = if recorded {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO modernize.deployments (kind, status, tool_version, schema_from, schema_to, migrations,
                 backup_dir, rollback_of, method, steps, maintenance_ms, error, started_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(run.kind.as_str())
        .bind(if error.is_none() { "succeeded" } else { "failed" })
        .bind(env!("CARGO_PKG_VERSION"))
        .bind(run.schema_from)
        .bind(schema_to)
        .bind(sqlx::types::Json(&run.migrations))
        .bind(run.backup_dir.as_ref().map(|d| d.display().to_string()))
        .bind(rollback_of)
        .bind(method.map(Method::as_str))
        .bind(sqlx::types::Json(&run.steps))
        .bind(maintenance_ms)
        .bind(&error)
        .bind(run.started_at)
        .fetch_one(&mut *conn)
        .await?;
        Some(id)
    } else {
        None
    };
    Ok(Outcome {
        kind: run.kind,
        deployment_id,
        succeeded: error.is_none(),
        schema_from: run.schema_from,
        schema_to,
        migrations: run.migrations,
        backup_dir: run.backup_dir,
        rollback_of,
        method,
        steps: run.steps,
        maintenance_ms,
        maintenance_left_on,
        failed_step,
        error,
        next: None,
    })
}

/// A migration `rollback` reverts.
#[derive(Debug, Clone, Serialize)]
pub struct RevertedMigration {
    pub version: i64,
    pub name: &'static str,
    /// Its down file loses no data (`-- modernize:lossless`).
    pub lossless_down: bool,
    /// Its down file needs no maintenance window ([`Migration::online_safe_down`]).
    pub online_safe_down: bool,
}

/// What `rollback` will do.
#[derive(Debug, Clone, Serialize)]
pub struct RollbackPlan {
    pub database: String,
    /// The deployment undone (and every later one with it).
    pub deployment_id: i64,
    pub deployment_started_at: DateTime<Utc>,
    pub schema_from: i64,
    /// The schema the deployment started from.
    pub schema_to: i64,
    pub revert: Vec<RevertedMigration>,
    pub method: Method,
    /// Writes are refused while it runs: a restore, or a down file not online-safe. Otherwise the
    /// down files run beside `serve` (a maintenance window a failed deployment left on is
    /// switched off at the end all the same).
    pub maintenance_needed: bool,
    /// The deployment's backup (restored when `method` is `backup_restore`).
    pub backup_dir: Option<PathBuf>,
    pub preflight_ms: i64,
    /// What the rollback does and what it loses, for the confirmation.
    pub summary: String,
}

#[derive(sqlx::FromRow)]
struct DeploymentRow {
    id: i64,
    schema_from: i64,
    backup_dir: Option<String>,
    started_at: DateTime<Utc>,
}

/// Which deployment `rollback` undoes and how: `to` names one (default: the newest deploy not yet
/// rolled back). Down-migrations when every applied migration above the deployment's starting
/// schema has a lossless down file; otherwise its backup is restored. Reads only. Errors:
/// `NothingDeployed`, `NoDeployment`, `NotReversible` (no verified backup where one is needed),
/// `NewerDatabase`, `Connect`, `Database`.
pub async fn plan_rollback(
    database: &Database,
    settings: &Settings<'_>,
    to: Option<i64>,
) -> Result<RollbackPlan, DeployError> {
    let started = Instant::now();
    let mut conn = database.connect().await?;
    let status = migrate::status_with(&mut conn, settings.migrations).await?;
    let recorded: bool =
        sqlx::query_scalar("SELECT to_regclass('modernize.deployments') IS NOT NULL").fetch_one(&mut conn).await?;
    if !recorded {
        return Err(DeployError::NothingDeployed);
    }
    let row: Option<DeploymentRow> = match to {
        Some(id) => sqlx::query_as(
            "SELECT id, schema_from, backup_dir, started_at FROM modernize.deployments WHERE id = $1 AND kind = 'deploy'",
        )
        .bind(id)
        .fetch_optional(&mut conn)
        .await?,
        None => sqlx::query_as(
            "SELECT id, schema_from, backup_dir, started_at FROM modernize.deployments d
             WHERE kind = 'deploy' AND NOT EXISTS (SELECT 1 FROM modernize.deployments r
                 WHERE r.kind = 'rollback' AND r.status = 'succeeded' AND r.rollback_of <= d.id AND r.id > d.id)
             ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&mut conn)
        .await?,
    };
    let row = match (row, to) {
        (Some(row), _) => row,
        (None, Some(id)) => return Err(DeployError::NoDeployment(id)),
        (None, None) => return Err(DeployError::NothingDeployed),
    };
    let revert: Vec<RevertedMigration> = settings
        .migrations
        .iter()
        .rev()
        .filter(|m| m.version > row.schema_from)
        .filter(|m| status.migrations.iter().any(|s| s.version == m.version && s.applied_at.is_some()))
        .map(|m| RevertedMigration {
            version: m.version,
            name: m.name,
            lossless_down: m.lossless_down(),
            online_safe_down: m.online_safe_down(),
        })
        .collect();
    let backup_dir = row.backup_dir.map(PathBuf::from);
    let method = if revert.iter().all(|m| m.lossless_down) { Method::DownMigrations } else { Method::BackupRestore };
    let maintenance_needed = method == Method::BackupRestore || revert.iter().any(|m| !m.online_safe_down);
    let listed: Vec<String> = revert.iter().map(|m| format!("{:04} {}", m.version, m.name)).collect();
    let summary = match (method, &backup_dir) {
        (Method::DownMigrations, _) => format!(
            "rollback of deployment {} reverts {} on {} with their lossless down files (data written since stays)",
            row.id,
            if listed.is_empty() { "no migration".to_owned() } else { listed.join(", ") },
            database.description()
        ),
        (Method::BackupRestore, Some(dir)) => format!(
            "rollback of deployment {} restores its backup {} (taken before it, schema {}) over {}: EVERY write \
             since {} is lost",
            row.id,
            dir.display(),
            row.schema_from,
            database.description(),
            row.started_at
        ),
        (Method::BackupRestore, None) => {
            return Err(DeployError::NotReversible {
                id: row.id,
                reason: format!("{} have no lossless down file and it has no backup", listed.join(", ")),
            });
        }
    };
    if let (Method::BackupRestore, Some(dir)) = (method, &backup_dir)
        && !dir.join("manifest.json").is_file()
    {
        return Err(DeployError::NotReversible {
            id: row.id,
            reason: format!("its backup {} is gone (pruned by retention?)", dir.display()),
        });
    }
    Ok(RollbackPlan {
        database: database.description().to_owned(),
        deployment_id: row.id,
        deployment_started_at: row.started_at,
        schema_from: status.current_version,
        schema_to: row.schema_from,
        revert,
        method,
        maintenance_needed,
        backup_dir,
        preflight_ms: elapsed_ms(started),
        summary,
    })
}

/// Carries out `plan` (from [`plan_rollback`]): maintenance on (when `maintenance_needed`), the
/// down-migrations or the guarded restore (all or nothing), `db validate` and the smoke test
/// (skipped at schema 0: nothing to check), maintenance off, and a `rollback` row. A restore
/// brings back the deployment record of the backup's time: the rows written since (the
/// deployment rolled back among them) are put back before the rollback's own. A failure is
/// recorded and leaves maintenance on.
pub async fn rollback(
    database: &Database,
    operator: &OperatorToken,
    settings: &Settings<'_>,
    plan: &RollbackPlan,
) -> Result<Outcome, DeployError> {
    let mut conn = database.connect().await?;
    let mut run = Run {
        kind: Kind::Rollback,
        started_at: Utc::now(),
        schema_from: plan.schema_from,
        steps: vec![StepTiming { name: "preflight", ms: plan.preflight_ms, detail: plan.summary.clone() }],
        migrations: Vec::new(),
        backup_dir: plan.backup_dir.clone(),
        maintenance_since: None,
        maintenance_ms: 0,
        restored: false,
    };
    let rollback = Some((plan.deployment_id, plan.method));
    if plan.maintenance_needed {
        run.maintenance(&mut conn, true, &format!("rolling back deployment {}", plan.deployment_id)).await?;
    }
    let started = Instant::now();
    match (plan.method, &plan.backup_dir) {
        (Method::BackupRestore, Some(dir)) => {
            let history: serde_json::Value =
                sqlx::query_scalar("SELECT coalesce(jsonb_agg(d ORDER BY id), '[]') FROM modernize.deployments d")
                    .fetch_one(&mut conn)
                    .await?;
            if let Err(error) = backup::restore_over_newer_data(&settings.tools, dir).await {
                run.step("restore", started, error.to_string());
                return finish_failed(&mut conn, run, "restore", error.to_string(), rollback).await;
            }
            run.restored = true;
            let restored_rows = put_back_history(&mut conn, &history).await?;
            let detail = format!("{} restored and verified; {restored_rows} deployment rows put back", dir.display());
            run.step("restore", started, detail);
            // The restored flag is the backup's (off): the window stays open until the checks pass.
            run.maintenance(&mut conn, true, "rollback: checking the restored database").await?;
        }
        (Method::BackupRestore, None) => {
            let error = "no backup to restore".to_owned();
            return finish_failed(&mut conn, run, "restore", error, rollback).await;
        }
        (Method::DownMigrations, _) => {
            match migrate::downgrade_with(&mut conn, settings.migrations, plan.schema_to).await {
                Ok(steps) => run.migrations.extend(steps.iter().map(|s| {
                    let known = settings.migrations.iter().find(|m| m.version == s.version);
                    MigrationRun {
                        version: s.version,
                        name: s.name,
                        online_safe: known.is_some_and(Migration::online_safe),
                        lossless_down: known.is_some_and(Migration::lossless_down),
                        ms: s.execution_ms,
                    }
                })),
                Err(error) => {
                    run.step("down_migrations", started, error.to_string());
                    return finish_failed(&mut conn, run, "down_migrations", error.to_string(), rollback).await;
                }
            }
            run.step("down_migrations", started, format!("{} reverted", run.migrations.len()));
        }
    }
    if plan.schema_to > 0 {
        if let Err((step, error)) = validate_and_smoke(&mut conn, operator, &mut run).await {
            return finish_failed(&mut conn, run, step, error, rollback).await;
        }
    } else {
        run.step("validate", Instant::now(), "skipped: schema 0 (an empty database) has nothing to check");
    }
    // Off also when no window was opened here but a failed deployment left one on.
    if plan.maintenance_needed || crate::ops::in_maintenance(&mut conn).await? {
        run.maintenance(&mut conn, false, "rollback done").await?;
    }
    finish(&mut conn, run, None, rollback).await
}

/// Puts back the deployment rows a restore took away (those written after the backup), keeping
/// their ids; returns how many. Nothing when the restored schema has no such table.
async fn put_back_history(conn: &mut PgConnection, history: &serde_json::Value) -> Result<u64, DeployError> {
    let table: bool =
        sqlx::query_scalar("SELECT to_regclass('modernize.deployments') IS NOT NULL").fetch_one(&mut *conn).await?;
    if !table {
        return Ok(0);
    }
    let inserted = sqlx::query(
        "INSERT INTO modernize.deployments OVERRIDING SYSTEM VALUE
         SELECT * FROM jsonb_populate_recordset(NULL::modernize.deployments, $1) ON CONFLICT (id) DO NOTHING",
    )
    .bind(history)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    // Explicit ids do not move the identity: new rows must come after the ones put back.
    sqlx::query(
        "SELECT setval(pg_get_serial_sequence('modernize.deployments', 'id'), m) FROM
         (SELECT max(id) AS m FROM modernize.deployments) x WHERE m IS NOT NULL",
    )
    .execute(&mut *conn)
    .await?;
    Ok(inserted)
}

/// The newest migration applied (0 when none: the history table may not exist).
async fn current_schema(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    let history: bool = sqlx::query_scalar("SELECT to_regclass('modernize.schema_migrations') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?;
    if !history {
        return Ok(0);
    }
    sqlx::query_scalar("SELECT coalesce(max(version), 0) FROM modernize.schema_migrations").fetch_one(conn).await
}

fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}
