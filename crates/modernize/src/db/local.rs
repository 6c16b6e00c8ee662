//! The zero-setup database: a private PostgreSQL cluster that `modernize` initialises and starts
//! under its data directory, with the server binaries installed on the machine.
//!
//! The cluster listens on no TCP port, only on a Unix socket inside the data directory (mode
//! 0700), so trust authentication there reaches no one but its owner. PostgreSQL refuses to run
//! as root; run as root, the server runs as the `postgres` system user (or `nobody`) instead.

use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;

use nix::unistd::{Gid, Uid, User, chown};
use serde::Serialize;
use sqlx::postgres::PgConnectOptions;
use tokio::process::Command;

/// The superuser role and database of the private cluster.
const ROLE: &str = "modernize";
const DATABASE: &str = "modernize";
/// Only names the socket file (`.s.PGSQL.5432`); nothing listens on TCP.
const PORT: u16 = 5432;
/// Written once initdb and configuration have both succeeded; a data directory without it is a
/// half-made cluster (say, interrupted initdb) and is made again.
const READY_MARKER: &str = "modernize-cluster-ready";
/// The longest Unix socket path the kernel accepts (sun_path is 108 bytes, NUL included).
const MAX_SOCKET_PATH: usize = 107;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install them (Debian: \
         `apt-get install postgresql-15`) or point MODERNIZE_PG_BIN at their directory"
    )]
    BinariesNotFound,
    #[error(
        "the private cluster's server runs as user {user:?}, which cannot enter {dir}; choose a \
         --data-dir that user can reach (the default for root is /var/lib/modernize)"
    )]
    Unreachable { user: String, dir: PathBuf },
    #[error("the socket path {0} is longer than the {MAX_SOCKET_PATH} bytes Unix allows; choose a shorter --data-dir")]
    SocketPathTooLong(PathBuf),
    #[error("{command} failed ({status}): {stderr}")]
    Command { command: String, status: String, stderr: String },
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot look up system user {user:?}: {source}")]
    UserLookup {
        user: &'static str,
        #[source]
        source: nix::Error,
    },
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ClusterError {
    let path = path.to_owned();
    move |source| ClusterError::Io { action, path, source }
}

/// The private cluster living under one data directory.
#[derive(Debug, Clone)]
pub struct LocalCluster {
    data_dir: PathBuf,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClusterStatus {
    pub data_dir: PathBuf,
    pub initialised: bool,
    pub running: bool,
    pub socket_dir: PathBuf,
    pub log_file: PathBuf,
    pub database_url: String,
}

/// The OS account the server processes run as.
struct ServerUser {
    name: String,
    uid: Uid,
    gid: Gid,
    /// Set when we are root and must switch to this user for the server binaries.
    switch: bool,
}

impl LocalCluster {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self { data_dir: data_dir.into() }
    }

    /// `/var/lib/modernize` for root (reachable by the `postgres` user), otherwise
    /// `$XDG_DATA_HOME/modernize` or `~/.local/share/modernize`.
    pub fn default_data_dir() -> PathBuf {
        if Uid::effective().is_root() {
            return PathBuf::from("/var/lib/modernize");
        }
        let base = std::env::var_os("XDG_DATA_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share")))
            .unwrap_or_else(|| PathBuf::from("."));
        base.join("modernize")
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    fn pgdata(&self) -> PathBuf {
        self.data_dir.join("pgdata")
    }

    fn socket_dir(&self) -> PathBuf {
        self.data_dir.join("run")
    }

    fn log_file(&self) -> PathBuf {
        self.data_dir.join("postgres.log")
    }

    pub fn connect_options(&self) -> PgConnectOptions {
        PgConnectOptions::new().socket(self.socket_dir()).port(PORT).username(ROLE).database(DATABASE)
    }

    /// A libpq URL for psql, pg_dump and friends.
    pub fn database_url(&self) -> String {
        format!("postgresql://{ROLE}@/{DATABASE}?host={}&port={PORT}", self.socket_dir().display())
    }

    pub async fn status(&self) -> Result<ClusterStatus, ClusterError> {
        let initialised = self.data_dir.join(READY_MARKER).exists();
        let running = initialised && self.is_running().await?;
        Ok(ClusterStatus {
            data_dir: self.data_dir.clone(),
            initialised,
            running,
            socket_dir: self.socket_dir(),
            log_file: self.log_file(),
            database_url: self.database_url(),
        })
    }

    /// Initialises the cluster if needed, starts it if stopped, and returns how to reach it.
    pub async fn ensure_running(&self) -> Result<PgConnectOptions, ClusterError> {
        let socket = self.socket_dir().join(format!(".s.PGSQL.{PORT}"));
        if socket.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(ClusterError::SocketPathTooLong(socket));
        }
        if !self.data_dir.join(READY_MARKER).exists() {
            self.initialise().await?;
        }
        if !self.is_running().await? {
            self.start().await?;
        }
        Ok(self.connect_options())
    }

    /// Stops the server; returns whether it was running.
    pub async fn stop(&self) -> Result<bool, ClusterError> {
        if !self.data_dir.join(READY_MARKER).exists() || !self.is_running().await? {
            return Ok(false);
        }
        let pgdata = self.pgdata();
        self.pg_tool("pg_ctl").await?.args(["stop", "--wait", "--mode=fast", "-D"]).arg(&pgdata).run().await?;
        Ok(true)
    }

    async fn is_running(&self) -> Result<bool, ClusterError> {
        let pgdata = self.pgdata();
        // pg_ctl status: 0 running, 3 not running, 4 no usable data directory.
        let output = self.pg_tool("pg_ctl").await?.args(["status", "-D"]).arg(&pgdata).output().await?;
        Ok(output.status.success())
    }

    async fn initialise(&self) -> Result<(), ClusterError> {
        let user = server_user()?;
        let pgdata = self.pgdata();
        tracing::info!(data_dir = %self.data_dir.display(), "initialising the private PostgreSQL cluster");
        make_private_dir(&self.data_dir, &user)?;
        if user.switch {
            check_reachable(&self.data_dir, &user)?;
        }
        // Whatever a previous, interrupted initialisation left is not a usable cluster.
        match std::fs::remove_dir_all(&pgdata) {
            Err(e) if e.kind() != ErrorKind::NotFound => return Err(io_error("cannot remove", &pgdata)(e)),
            _ => {}
        }
        make_private_dir(&self.socket_dir(), &user)?;
        self.pg_tool("initdb")
            .await?
            .args(["--username", ROLE, "--auth=trust", "--encoding=UTF8", "--no-locale", "-D"])
            .arg(&pgdata)
            .run()
            .await?;
        let config = format!(
            "\n# modernize: a private cluster, reachable only through the socket in its data directory\n\
             listen_addresses = ''\n\
             port = {PORT}\n\
             unix_socket_directories = '{}'\n\
             unix_socket_permissions = 0700\n\
             shared_buffers = '256MB'\n\
             max_wal_size = '2GB'\n",
            self.socket_dir().display().to_string().replace('\'', "''")
        );
        let conf_path = pgdata.join("postgresql.conf");
        let mut conf = std::fs::read_to_string(&conf_path).map_err(io_error("cannot read", &conf_path))?;
        conf.push_str(&config);
        std::fs::write(&conf_path, conf).map_err(io_error("cannot write", &conf_path))?;
        self.start().await?;
        self.pg_tool("createdb")
            .await?
            .args(["--username", ROLE, "--host"])
            .arg(self.socket_dir())
            .args(["--port", &PORT.to_string(), DATABASE])
            .run()
            .await?;
        let marker = self.data_dir.join(READY_MARKER);
        std::fs::write(&marker, b"").map_err(io_error("cannot write", &marker))?;
        Ok(())
    }

    async fn start(&self) -> Result<(), ClusterError> {
        let (pgdata, log) = (self.pgdata(), self.log_file());
        let result = self
            .pg_tool("pg_ctl")
            .await?
            .args(["start", "--wait", "--timeout=60", "-D"])
            .arg(&pgdata)
            .arg("-l")
            .arg(&log)
            .run()
            .await;
        match result {
            // Another modernize process may have started it at the same moment.
            Err(_) if self.is_running().await? => Ok(()),
            Err(e) => Err(e),
            Ok(()) => {
                tracing::info!(socket_dir = %self.socket_dir().display(), "private PostgreSQL cluster started");
                Ok(())
            }
        }
    }

    async fn pg_tool(&self, program: &str) -> Result<PgTool, ClusterError> {
        let bin_dir = find_bin_dir().ok_or(ClusterError::BinariesNotFound)?;
        let user = server_user()?;
        let mut command = Command::new(bin_dir.join(program));
        // The server binaries need a working directory they can read once we switch user.
        command.current_dir(if self.data_dir.exists() { &self.data_dir } else { Path::new("/") });
        command.env_remove("PGDATA").env_remove("PGHOST").env_remove("PGPORT");
        if user.switch {
            command.uid(user.uid.as_raw()).gid(user.gid.as_raw());
            command.env("HOME", &self.data_dir).env("USER", &user.name);
        }
        Ok(PgTool { program: program.to_owned(), command })
    }
}

/// A server binary about to run, with errors that say which one failed and why.
struct PgTool {
    program: String,
    command: Command,
}

impl PgTool {
    fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Self {
        self.command.arg(arg);
        self
    }

    fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.command.args(args);
        self
    }

    async fn output(mut self) -> Result<Output, ClusterError> {
        let program = self.program.clone();
        self.command
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .map_err(io_error("cannot run", Path::new(&program)))
    }

    async fn run(self) -> Result<(), ClusterError> {
        let program = self.program.clone();
        let output = self.output().await?;
        if output.status.success() {
            return Ok(());
        }
        let mut stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        if stderr.is_empty() {
            stderr = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        }
        Err(ClusterError::Command { command: program, status: output.status.to_string(), stderr })
    }
}

/// The directory holding initdb and pg_ctl: `MODERNIZE_PG_BIN`, else the newest Debian-style
/// `/usr/lib/postgresql/<major>/bin`, else `PATH`.
fn find_bin_dir() -> Option<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("MODERNIZE_PG_BIN").map(PathBuf::from) {
        return has_tools(&dir).then_some(dir);
    }
    let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let major = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((major, entry.path().join("bin")))
        })
        .filter(|(_, dir)| has_tools(dir))
        .collect();
    versioned.sort();
    if let Some((_, dir)) = versioned.pop() {
        return Some(dir);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .chain([PathBuf::from("/usr/local/pgsql/bin")])
        .find(|dir| has_tools(dir))
}

fn server_user() -> Result<ServerUser, ClusterError> {
    if !Uid::effective().is_root() {
        let uid = Uid::effective();
        let name = User::from_uid(uid).ok().flatten().map_or_else(|| uid.to_string(), |u| u.name);
        return Ok(ServerUser { name, uid, gid: Gid::effective(), switch: false });
    }
    for name in ["postgres", "nobody"] {
        if let Some(user) = User::from_name(name).map_err(|source| ClusterError::UserLookup { user: name, source })? {
            return Ok(ServerUser { name: user.name, uid: user.uid, gid: user.gid, switch: true });
        }
    }
    Err(ClusterError::UserLookup { user: "postgres", source: nix::Error::ENOENT })
}

fn make_private_dir(dir: &Path, user: &ServerUser) -> Result<(), ClusterError> {
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io_error("cannot create", dir))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io_error("cannot chmod", dir))?;
    if user.switch {
        chown(dir, Some(user.uid), Some(user.gid))
            .map_err(|errno| io_error("cannot chown", dir)(std::io::Error::from(errno)))?;
    }
    Ok(())
}

/// The server user must be able to traverse every ancestor of the data directory.
fn check_reachable(dir: &Path, user: &ServerUser) -> Result<(), ClusterError> {
    for ancestor in dir.ancestors().skip(1) {
        let meta = std::fs::metadata(ancestor).map_err(io_error("cannot inspect", ancestor))?;
        let mode = meta.mode();
        let traversable = if meta.uid() == user.uid.as_raw() {
            mode & 0o100 != 0
        } else if meta.gid() == user.gid.as_raw() {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        };
        if !traversable {
            return Err(ClusterError::Unreachable { user: user.name.clone(), dir: ancestor.to_owned() });
        }
    }
    Ok(())
}
