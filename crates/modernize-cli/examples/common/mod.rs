//! What the benchmarks driving the `modernize` binary share: the binary built with them, running
//! it, and for the HTTP ones (`api_benchmark`, `deploy_benchmark`) `oha`, an admin with an API
//! token, and a server started on a free loopback port that is stopped however the benchmark ends.
#![allow(dead_code)] // Each example uses its own part of this module.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub type Error = Box<dyn std::error::Error>;

/// The benchmark's admin of the first tenant (`bench-1`).
pub const EMAIL: &str = "bench-admin@bench.example";

/// The `modernize` binary built with this example (same profile directory).
pub fn modernize_binary() -> Result<PathBuf, Error> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().and_then(|examples| examples.parent()).ok_or("no target directory")?;
    let binary = dir.join("modernize");
    if !binary.exists() {
        return Err(format!("{} is missing: build it with the same profile (--bin modernize)", binary.display()).into());
    }
    Ok(binary)
}

/// `oha` from ~/.cargo/bin (`cargo install oha`), else from PATH.
pub fn oha_binary() -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let cargo_bin = home.join(".cargo/bin/oha");
    if cargo_bin.exists() { cargo_bin } else { PathBuf::from("oha") }
}

/// Fails unless `oha` runs, before anything long (seeding) has started.
pub fn require_oha() -> Result<(), Error> {
    match Command::new(oha_binary()).arg("--version").output() {
        Ok(output) if output.status.success() => Ok(()),
        _ => Err("oha is needed: cargo install oha --locked".into()),
    }
}

/// Runs the CLI with `args` against the database; its stdout, or its stderr as the error.
pub fn cli(binary: &Path, url: &str, args: &[&str]) -> Result<String, Error> {
    let output = Command::new(binary).env("DATABASE_URL", url).args(args).output()?;
    if !output.status.success() {
        return Err(format!("modernize {}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr)).into());
    }
    Ok(String::from_utf8(output.stdout)?)
}

/// Creates [`EMAIL`] as an admin of `bench-1` and returns a new API token of theirs.
pub fn admin_token(binary: &Path, url: &str) -> Result<String, Error> {
    cli(binary, url, &["users", "create", "--email", EMAIL, "--member", "bench-1:admin"])?;
    let issued: serde_json::Value = serde_json::from_str(&cli(
        binary,
        url,
        &["users", "token", "create", "--email", EMAIL, "--name", "benchmark", "--json"],
    )?)?;
    Ok(issued["token"].as_str().ok_or("no token in `users token create --json`")?.to_owned())
}

/// `modernize serve --workers 0` on a free loopback port, killed when dropped.
pub struct Server {
    /// The server's process (killed when dropped).
    pub child: Child,
    pub base: String,
}

impl Server {
    /// Starts the server against `url` and waits (up to 60 s) until `/health` answers 200.
    pub fn start(binary: &Path, url: &str) -> Result<Self, Error> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(binary)
            .env("DATABASE_URL", url)
            .args(["serve", "--workers", "0", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .spawn()?;
        let server = Self { child, base: format!("http://127.0.0.1:{port}") };
        wait_for_health(port)?;
        Ok(server)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for_health(port: u16) -> Result<(), Error> {
    use std::io::{Read, Write};
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream.write_all(b"GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n");
            let mut response = String::new();
            let _ = stream.read_to_string(&mut response);
            if response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200") {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err("modernize serve did not answer /health within 60 s".into())
}
