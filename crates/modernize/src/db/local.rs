//! The zero-setup database: a private PostgreSQL cluster that `modernize` initialises and starts
//! under its data directory, with the server binaries installed on the machine.
//!
//! The cluster listens on no TCP port, only on a Unix socket inside the data directory (mode
//! 0700), so trust authentication there reaches no one but its owner. PostgreSQL refuses to run
//! as root; run as root, the server runs as a system user of its own, `modernize` (created when
//! missing), so that no other identity on the machine — the system PostgreSQL's `postgres`
//! superusers included — can read its files or reach its socket.
//!
//! Nothing here ever deletes a cluster: `pgdata` only comes into being by renaming a completed
//! initdb (run in `pgdata.initialising`, the one place that is ever removed, and which never held
//! a cluster), and a `pgdata` that exists is used as it is, or refused when it is not a cluster.

use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;

use nix::fcntl::{Flock, FlockArg};
use nix::unistd::{Gid, Uid, User, chown};
use serde::Serialize;
use sqlx::postgres::PgConnectOptions;
use tokio::process::Command;

/// The superuser role and database of the private cluster.
const ROLE: &str = "modernize";
const DATABASE: &str = "modernize";
/// The system user the server runs as when `modernize` runs as root.
const SYSTEM_USER: &str = "modernize";
/// Only names the socket file (`.s.PGSQL.5432`); nothing listens on TCP.
const PORT: u16 = 5432;
/// Where initdb runs before its result is renamed to `pgdata`: it never holds a live cluster, so
/// whatever an interrupted initialisation left there may be removed.
const INITIALISING: &str = "pgdata.initialising";
/// Held (flock) while the cluster is initialised or started, so that concurrent commands do not
/// race each other.
const LOCK_FILE: &str = "cluster.lock";
/// Serialises the creation of the system user between concurrent commands run as root.
const USERADD_LOCK: &str = "/run/modernize-useradd.lock";
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
    #[error(
        "{0} is not empty but holds no complete PostgreSQL cluster (no PG_VERSION or \
         global/pg_control); it is left untouched: inspect it, then move it away to have a new \
         cluster made"
    )]
    NotACluster(PathBuf),
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

/// What `<data-dir>/pgdata` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pgdata {
    /// Missing or an empty directory: a cluster may be made there.
    Absent,
    /// A cluster made by initdb (PG_VERSION and global/pg_control present).
    Cluster,
    /// Something else: never touched.
    Foreign,
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

    /// `/var/lib/modernize` for root, otherwise `$XDG_DATA_HOME/modernize` or
    /// `~/.local/share/modernize`.
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
        let initialised = self.pgdata_state()? == Pgdata::Cluster;
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

    /// Initialises the cluster if there is none, starts it if stopped, and returns how to reach
    /// it. A running server is detected before anything is touched; an existing cluster is never
    /// removed or re-initialised. The database itself is created by
    /// [`Database::resolve`](super::Database::resolve).
    pub async fn ensure_running(&self) -> Result<PgConnectOptions, ClusterError> {
        let socket = self.socket_dir().join(format!(".s.PGSQL.{PORT}"));
        if socket.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(ClusterError::SocketPathTooLong(socket));
        }
        if self.pgdata_state()? == Pgdata::Cluster && self.is_running().await? {
            return Ok(self.connect_options());
        }
        let user = server_user()?;
        make_private_dir(&self.data_dir, &user)?;
        if user.switch {
            check_reachable(&self.data_dir, &user)?;
        }
        let _lock = self.lock().await?;
        // Another process may have done the work while we waited for the lock.
        match self.pgdata_state()? {
            Pgdata::Foreign => return Err(ClusterError::NotACluster(self.pgdata())),
            Pgdata::Absent => self.initialise(&user).await?,
            Pgdata::Cluster => {}
        }
        if !self.is_running().await? {
            if user.switch {
                self.hand_over(&user)?;
            }
            self.start().await?;
        }
        Ok(self.connect_options())
    }

    /// Stops the server; returns whether it was running.
    pub async fn stop(&self) -> Result<bool, ClusterError> {
        if self.pgdata_state()? != Pgdata::Cluster || !self.is_running().await? {
            return Ok(false);
        }
        let pgdata = self.pgdata();
        self.pg_tool("pg_ctl").await?.args(["stop", "--wait", "--mode=fast", "-D"]).arg(&pgdata).run().await?;
        Ok(true)
    }

    fn pgdata_state(&self) -> Result<Pgdata, ClusterError> {
        let pgdata = self.pgdata();
        let mut entries = match std::fs::read_dir(&pgdata) {
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Pgdata::Absent),
            result => result.map_err(io_error("cannot read", &pgdata))?,
        };
        if entries.next().is_none() {
            return Ok(Pgdata::Absent);
        }
        Ok(if pgdata.join("PG_VERSION").is_file() && pgdata.join("global/pg_control").is_file() {
            Pgdata::Cluster
        } else {
            Pgdata::Foreign
        })
    }

    async fn is_running(&self) -> Result<bool, ClusterError> {
        let pgdata = self.pgdata();
        // pg_ctl status: 0 running, 3 not running, 4 no usable data directory.
        let output = self.pg_tool("pg_ctl").await?.args(["status", "-D"]).arg(&pgdata).output().await?;
        Ok(output.status.success())
    }

    /// An exclusive lock on `<data-dir>/cluster.lock`, released when dropped (or when the
    /// process dies).
    async fn lock(&self) -> Result<Flock<std::fs::File>, ClusterError> {
        let path = self.data_dir.join(LOCK_FILE);
        let waiting = path.clone();
        tokio::task::spawn_blocking(move || lock_file(&path))
            .await
            .map_err(|e| io_error("cannot lock", &waiting)(std::io::Error::other(e)))?
    }

    /// Makes a new cluster: initdb and configuration in `pgdata.initialising`, then a rename to
    /// `pgdata`, so that `pgdata` only ever exists complete. Called under the lock, with `pgdata`
    /// absent or empty.
    async fn initialise(&self, user: &ServerUser) -> Result<(), ClusterError> {
        let pgdata = self.pgdata();
        let staging = self.data_dir.join(INITIALISING);
        tracing::info!(data_dir = %self.data_dir.display(), "initialising the private PostgreSQL cluster");
        // What an interrupted initialisation left never served as a cluster.
        match std::fs::remove_dir_all(&staging) {
            Err(e) if e.kind() != ErrorKind::NotFound => return Err(io_error("cannot remove", &staging)(e)),
            _ => {}
        }
        make_private_dir(&self.socket_dir(), user)?;
        self.pg_tool("initdb")
            .await?
            .args(["--username", ROLE, "--auth=trust", "--encoding=UTF8", "--no-locale", "-D"])
            .arg(&staging)
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
        let conf_path = staging.join("postgresql.conf");
        let mut conf = std::fs::read_to_string(&conf_path).map_err(io_error("cannot read", &conf_path))?;
        conf.push_str(&config);
        std::fs::write(&conf_path, conf).map_err(io_error("cannot write", &conf_path))?;
        // rename(2) replaces an empty directory and refuses a non-empty one: never a cluster.
        std::fs::rename(&staging, &pgdata).map_err(io_error("cannot rename to pgdata", &staging))?;
        Ok(())
    }

    /// Gives a cluster made by another server user (before `modernize` had a system user of its
    /// own, root's clusters ran as `postgres`) to the current one. Called with the server stopped.
    fn hand_over(&self, user: &ServerUser) -> Result<(), ClusterError> {
        let pgdata = self.pgdata();
        let meta = std::fs::metadata(&pgdata).map_err(io_error("cannot inspect", &pgdata))?;
        if meta.uid() == user.uid.as_raw() {
            return Ok(());
        }
        tracing::info!(pgdata = %pgdata.display(), user = %user.name, "handing the private cluster over to its system user");
        chown_tree(&pgdata, user)?;
        for path in [self.socket_dir(), self.log_file()] {
            if path.exists() {
                std::os::unix::fs::lchown(&path, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
                    .map_err(io_error("cannot chown", &path))?;
            }
        }
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
    let lookup =
        || User::from_name(SYSTEM_USER).map_err(|source| ClusterError::UserLookup { user: SYSTEM_USER, source });
    let user = match lookup()? {
        Some(user) => user,
        None => {
            // useradd's own locking does not stop two of them from each writing the user with its
            // own uid (seen in containers): one creation at a time, looked up again under the lock.
            let _lock = lock_file(Path::new(USERADD_LOCK))?;
            if lookup()?.is_none() {
                create_system_user()?;
            }
            lookup()?.ok_or(ClusterError::UserLookup { user: SYSTEM_USER, source: nix::Error::ENOENT })?
        }
    };
    Ok(ServerUser { name: user.name, uid: user.uid, gid: user.gid, switch: true })
}

/// A blocking exclusive flock on `path` (created if missing), released when dropped or when the
/// process dies.
fn lock_file(path: &Path) -> Result<Flock<std::fs::File>, ClusterError> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)
        .map_err(io_error("cannot open", path))?;
    Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, errno)| io_error("cannot lock", path)(std::io::Error::from(errno)))
}

/// `useradd --system`: a locked account with no home and no login shell, in a group of its own.
fn create_system_user() -> Result<(), ClusterError> {
    tracing::info!(user = SYSTEM_USER, "creating the system user the private cluster runs as");
    let output = std::process::Command::new("useradd")
        .args(["--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent"])
        .args(["--shell", "/usr/sbin/nologin", "--comment", "modernize private PostgreSQL cluster", SYSTEM_USER])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(io_error("cannot run", Path::new("useradd")))?;
    if output.status.success() {
        return Ok(());
    }
    Err(ClusterError::Command {
        command: "useradd".into(),
        status: output.status.to_string(),
        stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
    })
}

/// lchown over a directory tree, symbolic links themselves and not their targets.
fn chown_tree(path: &Path, user: &ServerUser) -> Result<(), ClusterError> {
    std::os::unix::fs::lchown(path, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
        .map_err(io_error("cannot chown", path))?;
    let meta = std::fs::symlink_metadata(path).map_err(io_error("cannot inspect", path))?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).map_err(io_error("cannot read", path))? {
            let entry = entry.map_err(io_error("cannot read", path))?;
            chown_tree(&entry.path(), user)?;
        }
    }
    Ok(())
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
