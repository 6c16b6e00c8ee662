//! Verified backups and the guarded restore: the consolidation's `backup` phase (seed task 1.2),
//! `deploy`'s backup and `rollback`'s restore (the seed's rollback procedure).
//!
//! A backup directory holds `full.dump` (`pg_dump -Fc` of the whole database), one dump per table
//! task 1.2 names (`tables/<table>.dump`), and `manifest.json`: the sha256 of every file and a
//! fingerprint (row count and order-independent content hash) of every table, taken from the
//! snapshot the dumps read (`pg_dump --snapshot`). A backup is only trusted once restored into a
//! scratch database whose fingerprints equal the manifest's; `restore` checks the same after
//! bringing the database back.

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};
use tokio::task::JoinHandle;

/// The tables seed task 1.2 dumps one by one (those that exist).
const TABLE_DUMPS: [&str; 7] = [
    "data_imports",
    "discovery_flows",
    "assets",
    "import_field_mappings",
    "v3_data_imports",
    "v3_discovery_flows",
    "v3_field_mappings",
];

const MANIFEST: &str = "manifest.json";
/// gzip level of the dumps: 1 is about twice as fast as the default for a dump about 20% larger.
const DUMP_COMPRESSION: u32 = 1;
const FULL_DUMP: &str = "full.dump";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("backup directory {0} already holds files; choose a new one")]
    DirectoryNotEmpty(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot run {tool}: {source} (install PostgreSQL's client tools or set MODERNIZE_PG_BIN)")]
    Spawn {
        tool: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{tool} failed ({status}): {stderr}")]
    Tool { tool: String, status: String, stderr: String },
    #[error("manifest {path}: {source}")]
    Manifest {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("backup file {file} is corrupt: its sha256 is {actual}, the manifest says {expected}")]
    Checksum { file: String, expected: String, actual: String },
    #[error("the restored database differs from the backed-up one: {}", .0.join("; "))]
    Mismatch(Vec<String>),
    #[error("database error: {}", crate::db::database_message(.0))]
    Database(#[from] sqlx::Error),
    #[error("a backup task failed: {0}")]
    Task(String),
    #[error(
        "{dir} is a backup of database {backup_of}, not of {target}; nothing was changed \
         (pass --force to restore it here all the same)"
    )]
    OtherDatabase { dir: PathBuf, backup_of: String, target: String },
    #[error(
        "database {target} holds data newer than the backup, which restoring would lose: {}; nothing was changed \
         (pass --force to restore all the same)",
        .lost.join("; ")
    )]
    NewerData { target: String, lost: Vec<String> },
}

/// How to run pg_dump, pg_restore against the server, and reach its databases.
#[derive(Debug, Clone)]
pub struct PgTools {
    options: PgConnectOptions,
    password: Option<String>,
}

impl PgTools {
    /// `password` is not readable back from `PgConnectOptions`: pass it along (see `url_password`).
    pub fn new(options: PgConnectOptions, password: Option<String>) -> Self {
        Self { options, password }
    }

    pub fn database(&self) -> String {
        self.options.get_database().unwrap_or_else(|| self.options.get_username()).to_owned()
    }

    fn command(&self, tool: &str, database: &str) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(find_tool(tool));
        let host = match self.options.get_socket() {
            Some(socket) => socket.display().to_string(),
            None => self.options.get_host().to_owned(),
        };
        command
            .env("PGHOST", host)
            .env("PGPORT", self.options.get_port().to_string())
            .env("PGUSER", self.options.get_username())
            .env("PGDATABASE", database)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(password) = &self.password {
            command.env("PGPASSWORD", password);
        }
        command
    }

    async fn run(&self, tool: &str, database: &str, args: &[&str]) -> Result<(), BackupError> {
        let output = self
            .command(tool, database)
            .args(args)
            .output()
            .await
            .map_err(|source| BackupError::Spawn { tool: tool.to_owned(), source })?;
        if output.status.success() {
            return Ok(());
        }
        Err(BackupError::Tool {
            tool: tool.to_owned(),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }

    /// `run` as a task of its own, so that several tools can run at once.
    fn spawn(&self, tool: &'static str, database: &str, args: Vec<String>) -> JoinHandle<Result<(), BackupError>> {
        let (tools, database) = (self.clone(), database.to_owned());
        tokio::spawn(async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            tools.run(tool, &database, &args).await
        })
    }

    /// Dropping a database or hashing a big table is slow by nature: no slow-statement warnings.
    async fn connect(&self, database: &str) -> Result<PgConnection, sqlx::Error> {
        let options = self.options.clone().database(database);
        options.log_slow_statements(tracing::log::LevelFilter::Off, std::time::Duration::ZERO).connect().await
    }
}

/// The password of a `postgres://user:password@host/...` URL, percent-decoded.
pub fn url_password(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let userinfo = rest.split_once('@')?.0;
    let encoded = userinfo.split_once(':')?.1;
    let bytes = encoded.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                i += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(decoded).ok()
}

/// `MODERNIZE_PG_BIN`, else the newest `/usr/lib/postgresql/<major>/bin` having the tool, else PATH.
fn find_tool(tool: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("MODERNIZE_PG_BIN") {
        return Path::new(&dir).join(tool);
    }
    let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let major = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((major, entry.path().join("bin").join(tool)))
        })
        .filter(|(_, path)| path.is_file())
        .collect();
    versioned.sort();
    versioned.pop().map_or_else(|| PathBuf::from(tool), |(_, path)| path)
}

/// Where and how to back up before migrating.
#[derive(Debug, Clone)]
pub struct BackupPlan {
    pub tools: PgTools,
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestFile {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// Row count and content hash of one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Fingerprint {
    pub table: String,
    pub rows: i64,
    pub hash: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub database: String,
    /// The server's `system_identifier` (pg_control_system): with the name, which database this
    /// is a backup of. Absent from manifests of earlier versions.
    #[serde(default)]
    pub system_identifier: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The schema version (`modernize.schema_migrations`) the backup holds; None before any
    /// migration and in manifests of earlier versions.
    #[serde(default)]
    pub schema_version: Option<i64>,
    /// How to bring the backup back, for the operator reading the manifest (absent from manifests
    /// of earlier versions).
    #[serde(default)]
    pub how_to_restore: Option<String>,
    pub files: Vec<ManifestFile>,
    pub tables: Vec<Fingerprint>,
}

pub async fn create(plan: &BackupPlan) -> Result<Manifest, BackupError> {
    let dir = &plan.dir;
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| BackupError::Io { path, source }
    };
    private_dir(dir)?;
    private_dir(&dir.join("tables"))?;
    if std::fs::read_dir(dir).map_err(io(dir))?.any(|e| e.is_ok_and(|e| e.file_name() != "tables")) {
        return Err(BackupError::DirectoryNotEmpty(dir.clone()));
    }
    let database = plan.tools.database();
    let mut conn = plan.tools.connect(&database).await?;
    // One snapshot for every dump and every fingerprint: the manifest describes exactly what the
    // dumps hold, and the dumps run side by side while this connection fingerprints the tables.
    sqlx::raw_sql("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut conn).await?;
    let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()").fetch_one(&mut conn).await?;
    let existing: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'migration' AND c.relkind = 'r' AND c.relname = ANY ($1)",
    )
    .bind(&TABLE_DUMPS[..])
    .fetch_all(&mut conn)
    .await?;
    let names = table_names(&mut conn).await?;
    let system_identifier = system_identifier(&mut conn).await?;
    let schema_version = schema_version(&mut conn).await?;
    let full = dir.join(FULL_DUMP);
    let mut dumps = vec![(full, None)];
    for table in TABLE_DUMPS.iter().filter(|t| existing.iter().any(|e| e == *t)) {
        dumps.push((dir.join("tables").join(format!("{table}.dump")), Some(format!("migration.{table}"))));
    }
    let running: Vec<_> = dumps
        .iter()
        .map(|(path, table)| {
            let mut args = vec![
                "--format=custom".to_owned(),
                // Fast compression: the dump is CPU-bound at the default level (about 20% larger).
                format!("--compress={DUMP_COMPRESSION}"),
                format!("--snapshot={snapshot}"),
                "--file".to_owned(),
                path_str(path),
            ];
            if let Some(table) = table {
                args.extend(["--table".to_owned(), table.clone()]);
            }
            plan.tools.spawn("pg_dump", &database, args)
        })
        .collect();
    let tables = fingerprint_tables(&mut conn, &names).await;
    let mut dumped = Ok(());
    for task in running {
        let result = task.await.unwrap_or_else(|e| Err(BackupError::Task(e.to_string())));
        dumped = dumped.and(result);
    }
    sqlx::raw_sql("COMMIT").execute(&mut conn).await?;
    conn.close().await?;
    dumped?;
    let mut tables = tables?;
    tables.sort_by(|x, y| x.table.cmp(&y.table));
    let paths: Vec<PathBuf> = dumps.into_iter().map(|(path, _)| path).collect();
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        private_file(&path)?;
        let (sha256, bytes) = sha256_file(&path).await?;
        let relative = path.strip_prefix(dir).unwrap_or(&path).display().to_string();
        files.push(ManifestFile { path: relative, sha256, bytes });
    }
    let how_to_restore = Some(how_to_restore(dir, &database));
    let manifest = Manifest {
        database,
        system_identifier: Some(system_identifier),
        created_at: Utc::now(),
        schema_version,
        how_to_restore,
        files,
        tables,
    };
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|source| BackupError::Manifest { path: dir.join(MANIFEST), source })?;
    write_private(&dir.join(MANIFEST), &json)?;
    Ok(manifest)
}

fn how_to_restore(dir: &Path, database: &str) -> String {
    format!(
        "`modernize restore {dir}` (or `modernize rollback` for a deployment's backup): checks every file's \
         sha256 against this manifest, then in ONE transaction drops the schemas migration, migration_legacy \
         and modernize of database {database}, restores {FULL_DUMP} and compares every table with `tables` \
         below (all or nothing; refused over newer data without --force). Without modernize: \
         `pg_restore --no-owner --single-transaction --dbname <empty database> {dir}/{FULL_DUMP}`.",
        dir = dir.display()
    )
}

/// Checks the files against the manifest, restores the full dump into a scratch database and
/// compares every table's fingerprint with the manifest's.
pub async fn verify(tools: &PgTools, dir: &Path) -> Result<Manifest, BackupError> {
    let manifest = read_manifest(dir).await?;
    // PostgreSQL cuts names at 63 bytes: a cut suffix would name the source database itself.
    let source = tools.database();
    let scratch = format!("{}_restore_check", source.get(..source.len().min(40)).unwrap_or("modernize"));
    let mut admin = tools.connect("postgres").await?;
    recreate_database(&mut admin, &scratch).await?;
    // The scratch database is thrown away: its restore need not be atomic, and runs two jobs.
    let restored = restore_into(tools, dir, &scratch).await;
    let compared = match restored {
        Ok(()) => fingerprints(tools, &scratch).await.and_then(|found| compare(&manifest.tables, &found)),
        Err(e) => Err(e),
    };
    let dropped = drop_database(&mut admin, &scratch).await;
    compared?;
    dropped?;
    Ok(manifest)
}

/// Brings the database back to the backed-up state (the seed's rollback), all or nothing.
///
/// Refused, with nothing changed, when the backup is of another database, or when the database
/// holds data newer than the backup (rows written since the consolidation, or, on a database that
/// was not consolidated, tables that differ from the backup), unless `force`. Then the schemas
/// `migration`, `migration_legacy` and `modernize` are dropped, `full.dump` restored and every
/// table's fingerprint compared with the manifest, in ONE transaction (psql `--single-transaction`
/// running pg_restore's script): a conflicting object, a difference or a kill leaves the database
/// exactly as it was.
pub async fn restore(tools: &PgTools, dir: &Path, force: bool) -> Result<Manifest, BackupError> {
    restore_guarded(tools, dir, !force, !force).await
}

/// [`restore`] for `rollback`, whose operator has confirmed losing every write since the backup:
/// still refused when the backup is of another database; data newer than the backup is replaced.
pub async fn restore_over_newer_data(tools: &PgTools, dir: &Path) -> Result<Manifest, BackupError> {
    restore_guarded(tools, dir, true, false).await
}

async fn restore_guarded(
    tools: &PgTools,
    dir: &Path,
    same_database: bool,
    no_newer_data: bool,
) -> Result<Manifest, BackupError> {
    let manifest = read_manifest(dir).await?;
    let database = tools.database();
    let mut conn = tools.connect(&database).await?;
    let here = system_identifier(&mut conn).await?;
    let same_server = manifest.system_identifier.as_ref().is_none_or(|id| *id == here);
    if same_database && (manifest.database != database || !same_server) {
        let backup_of = match &manifest.system_identifier {
            Some(id) if !same_server => format!("{} (server {id})", manifest.database),
            _ => manifest.database.clone(),
        };
        return Err(BackupError::OtherDatabase { dir: dir.to_owned(), backup_of, target: database });
    }
    if no_newer_data {
        let lost = newer_data(&mut conn, &manifest).await?;
        if !lost.is_empty() {
            return Err(BackupError::NewerData { target: database, lost });
        }
    }
    conn.close().await?;

    // pg_restore's script (the dump as SQL, data included) goes to a private scratch directory
    // first: a script cut short by a failing pg_restore must never reach psql, which would commit it.
    let scratch = tempfile::Builder::new()
        .prefix(".restore-")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir_in(dir)
        .map_err(|source| BackupError::Io { path: dir.to_owned(), source })?;
    let script = scratch.path().join("restore.sql");
    let full = path_str(&dir.join(FULL_DUMP));
    tools.run("pg_restore", &database, &["--no-owner", "--file", &path_str(&script), &full]).await?;
    private_file(&script)?;
    let prelude = scratch.path().join("prelude.sql");
    write_private(
        &prelude,
        b"SET client_min_messages = warning;
          DROP SCHEMA IF EXISTS migration CASCADE;
          DROP SCHEMA IF EXISTS migration_legacy CASCADE;
          DROP SCHEMA IF EXISTS modernize CASCADE;
          RESET client_min_messages;\n",
    )?;
    let check = scratch.path().join("check.sql");
    write_private(&check, fingerprint_check(&manifest).as_bytes())?;
    let args = [
        "--no-psqlrc",
        "--quiet",
        "--set=ON_ERROR_STOP=1",
        "--single-transaction",
        "--file",
        &path_str(&prelude),
        "--file",
        &path_str(&script),
        "--file",
        &path_str(&check),
    ];
    tools.run("psql", &database, &args).await?;
    Ok(manifest)
}

/// SQL that fails (and so rolls the restore back) unless every table has the manifest's row count
/// and content hash, in the session settings sqlx's fingerprints were taken with.
fn fingerprint_check(manifest: &Manifest) -> String {
    let expected: Vec<String> = manifest
        .tables
        .iter()
        .map(|t| format!("({}, {}, {})", sql_literal(&t.table), t.rows, sql_literal(&t.hash)))
        .collect();
    let values = if expected.is_empty() { "(NULL, NULL::bigint, NULL)".to_owned() } else { expected.join(", ") };
    format!(
        "SET LOCAL DateStyle = 'ISO, MDY'; SET LOCAL TimeZone = 'UTC'; SET LOCAL extra_float_digits = 2;
         SET LOCAL IntervalStyle = 'postgres'; SET LOCAL bytea_output = 'hex';
         DO $check$
         DECLARE
             e record; n bigint; h text; problems text[] := '{{}}';
         BEGIN
             FOR e IN SELECT * FROM (VALUES {values}) v (name, rows, hash) WHERE name IS NOT NULL LOOP
                 IF to_regclass(e.name) IS NULL THEN
                     problems := problems || format('%s is missing', e.name);
                     CONTINUE;
                 END IF;
                 EXECUTE format('SELECT count(*), coalesce(sum((''x'' || substr(md5(t::text), 1, 16))::bit(64)::bigint::numeric), 0)::text FROM %s t', e.name)
                     INTO n, h;
                 IF n <> e.rows OR h <> e.hash THEN
                     problems := problems || format('%s: %s rows (backup: %s), content %s', e.name, n, e.rows,
                                                    CASE WHEN h = e.hash THEN 'equal' ELSE 'differs' END);
                 END IF;
             END LOOP;
             IF cardinality(problems) > 0 THEN
                 RAISE EXCEPTION 'the restored database differs from the backup: %', array_to_string(problems, '; ');
             END IF;
         END
         $check$;\n"
    )
}

fn sql_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The newest migration applied (None when the history table is missing or empty).
async fn schema_version(conn: &mut PgConnection) -> Result<Option<i64>, sqlx::Error> {
    let history: bool = sqlx::query_scalar("SELECT to_regclass('modernize.schema_migrations') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?;
    if !history {
        return Ok(None);
    }
    sqlx::query_scalar("SELECT max(version) FROM modernize.schema_migrations").fetch_one(conn).await
}

async fn system_identifier(conn: &mut PgConnection) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT system_identifier::text FROM pg_control_system()").fetch_one(conn).await
}

/// What restoring would lose. On a consolidated database: the rows of schema `migration` written
/// since the consolidation's transaction (newer `xmin`) and the tables whose row count changed since
/// (both recorded with the report, in that transaction). Otherwise: the tables whose fingerprint
/// differs from the backup's.
async fn newer_data(conn: &mut PgConnection, manifest: &Manifest) -> Result<Vec<String>, BackupError> {
    let recorded: Option<serde_json::Value> =
        if sqlx::query_scalar::<_, bool>("SELECT to_regclass('modernize.consolidation_runs') IS NOT NULL")
            .fetch_one(&mut *conn)
            .await?
        {
            sqlx::query_scalar(
                "SELECT report -> 'committed' FROM modernize.consolidation_runs
             WHERE jsonb_typeof(report -> 'committed' -> 'xid') = 'string' ORDER BY id DESC LIMIT 1",
            )
            .fetch_optional(&mut *conn)
            .await?
        } else {
            None
        };
    let Some(committed) = recorded else {
        let names = table_names(conn).await?;
        let found = fingerprint_tables(conn, &names).await?;
        return Ok(match compare(&manifest.tables, &found) {
            Ok(()) => Vec::new(),
            Err(BackupError::Mismatch(problems)) => problems,
            Err(other) => return Err(other),
        });
    };
    let xid = committed.get("xid").and_then(serde_json::Value::as_str).unwrap_or("0").to_owned();
    let counts: Vec<(String, i64)> =
        committed.get("tables").and_then(|t| serde_json::from_value(t.clone()).ok()).unwrap_or_default();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'migration' AND c.relkind = 'r' ORDER BY 1",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut lost = Vec::new();
    for table in tables {
        let (rows, newer): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT count(*), count(*) FILTER (WHERE age(t.xmin) <= age((($1::bigint) % 4294967296)::text::xid))
             FROM migration.{} t",
            crate::db::quote_identifier(&table)
        )))
        .bind(xid.parse::<i64>().unwrap_or(0))
        .fetch_one(&mut *conn)
        .await?;
        let then = counts.iter().find(|(t, _)| *t == table).map_or(0, |(_, n)| *n);
        if newer > 0 {
            lost.push(format!("migration.{table}: {newer} rows written since the consolidation"));
        } else if rows != then {
            lost.push(format!("migration.{table}: {rows} rows, {then} at the consolidation"));
        }
    }
    Ok(lost)
}

/// Creates `dir` (and its missing parents) and makes it 0700 whatever the umask: backups hold every
/// tenant's data and the password hashes.
pub fn private_dir(dir: &Path) -> Result<(), BackupError> {
    let io = |source| BackupError::Io { path: dir.to_owned(), source };
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)
}

/// Makes a file 0600 whatever the umask it was created under.
fn private_file(path: &Path) -> Result<(), BackupError> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|source| BackupError::Io { path: path.to_owned(), source })
}

/// Writes a file created 0600 (never readable by others, not even for a moment).
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    use std::io::Write as _;
    let io = |source| BackupError::Io { path: path.to_owned(), source };
    let mut file =
        std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    private_file(path)
}

async fn read_manifest(dir: &Path) -> Result<Manifest, BackupError> {
    let path = dir.join(MANIFEST);
    let bytes = tokio::fs::read(&path).await.map_err(|source| BackupError::Io { path: path.clone(), source })?;
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|source| BackupError::Manifest { path, source })?;
    for file in &manifest.files {
        let (actual, _) = sha256_file(&dir.join(&file.path)).await?;
        if actual != file.sha256 {
            return Err(BackupError::Checksum { file: file.path.clone(), expected: file.sha256.clone(), actual });
        }
    }
    Ok(manifest)
}

/// Restores the dump into a scratch database (thrown away if anything fails: two jobs, not atomic).
async fn restore_into(tools: &PgTools, dir: &Path, database: &str) -> Result<(), BackupError> {
    let full = path_str(&dir.join(FULL_DUMP));
    let args = ["--no-owner", "--exit-on-error", "--jobs=2", "--dbname", database, &full];
    tools.run("pg_restore", database, &args).await
}

/// Every table outside the system schemas, largest first.
async fn table_names(conn: &mut PgConnection) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
         ORDER BY pg_total_relation_size(c.oid) DESC, 1",
    )
    .fetch_all(conn)
    .await
}

/// Row count and an order-independent hash (sum of 64-bit prefixes of each row's md5) of each table.
async fn fingerprint_tables(conn: &mut PgConnection, tables: &[String]) -> Result<Vec<Fingerprint>, sqlx::Error> {
    let mut found = Vec::with_capacity(tables.len());
    for table in tables {
        let (rows, hash): (i64, String) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 16))::bit(64)::bigint::numeric), 0)::text
             FROM {table} t"
        )))
        .fetch_one(&mut *conn)
        .await?;
        found.push(Fingerprint { table: table.clone(), rows, hash });
    }
    Ok(found)
}

/// The fingerprints of every table of `database` (a restored one: nothing writes to it), computed
/// over two connections at once, the tables dealt out largest first to the less loaded one.
async fn fingerprints(tools: &PgTools, database: &str) -> Result<Vec<Fingerprint>, BackupError> {
    let mut first = tools.connect(database).await?;
    let mut second = tools.connect(database).await?;
    let tables = table_names(&mut first).await?;
    let sizes: Vec<i64> = sqlx::query_scalar("SELECT pg_total_relation_size(to_regclass(t)) FROM unnest($1::text[]) t")
        .bind(&tables)
        .fetch_all(&mut first)
        .await?;
    let (mut shares, mut loads) = ([Vec::new(), Vec::new()], [0_i64; 2]);
    for (table, size) in tables.into_iter().zip(sizes) {
        let lighter = usize::from(loads[1] < loads[0]);
        loads[lighter] += size;
        shares[lighter].push(table);
    }
    let (a, b) = tokio::join!(fingerprint_tables(&mut first, &shares[0]), fingerprint_tables(&mut second, &shares[1]));
    first.close().await?;
    second.close().await?;
    let mut found = a?;
    found.extend(b?);
    found.sort_by(|x, y| x.table.cmp(&y.table));
    Ok(found)
}

fn compare(expected: &[Fingerprint], found: &[Fingerprint]) -> Result<(), BackupError> {
    let mut problems = Vec::new();
    for e in expected {
        match found.iter().find(|f| f.table == e.table) {
            None => problems.push(format!("{} is missing", e.table)),
            Some(f) if f.rows != e.rows => problems.push(format!("{}: {} rows instead of {}", e.table, f.rows, e.rows)),
            Some(f) if f.hash != e.hash => problems.push(format!("{}: content differs ({} rows)", e.table, f.rows)),
            Some(_) => {}
        }
    }
    for f in found.iter().filter(|f| !expected.iter().any(|e| e.table == f.table)) {
        problems.push(format!("{} is not in the backup", f.table));
    }
    if problems.is_empty() { Ok(()) } else { Err(BackupError::Mismatch(problems)) }
}

async fn recreate_database(admin: &mut PgConnection, name: &str) -> Result<(), sqlx::Error> {
    drop_database(admin, name).await?;
    let quoted = crate::db::quote_identifier(name);
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {quoted}"))).execute(admin).await?;
    Ok(())
}

async fn drop_database(admin: &mut PgConnection, name: &str) -> Result<(), sqlx::Error> {
    let quoted = crate::db::quote_identifier(name);
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))).execute(admin).await?;
    Ok(())
}

async fn sha256_file(path: &Path) -> Result<(String, u64), BackupError> {
    let bytes = tokio::fs::read(path).await.map_err(|source| BackupError::Io { path: path.to_owned(), source })?;
    Ok((hex::encode(Sha256::digest(&bytes)), bytes.len() as u64))
}

fn path_str(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_come_out_of_urls_decoded() {
        assert_eq!(url_password("postgres://alice:s%40cret@db:5432/x").as_deref(), Some("s@cret"));
        assert_eq!(url_password("postgres://alice@db/x"), None);
        assert_eq!(url_password("postgresql://@/x?host=/run"), None);
    }
}
