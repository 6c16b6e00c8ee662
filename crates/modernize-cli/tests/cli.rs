//! The binary as a user runs it: every subcommand answers --help, and the database commands work
//! against a real server and against the private local cluster.

use std::process::{Command, Output};

use sqlx::PgPool;

/// A URL reaching the test's own database, for running the binary against it.
fn database_url(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL is set for the tests");
    let database = pool.connect_options().get_database().expect("test database name").to_owned();
    let (server, query) = base.split_once('?').map_or((base.as_str(), String::new()), |(s, q)| (s, format!("?{q}")));
    let server = server.rsplit_once('/').map_or(server, |(s, _)| s);
    format!("{server}/{database}{query}")
}

fn modernize(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_modernize")).args(args).output().expect("run modernize")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The binary against the test's database, with a data directory of its own.
struct Cli {
    url: String,
    data_dir: tempfile::TempDir,
}

impl Cli {
    /// A migrated database with the client account `initech` and its engagement `engagement`.
    fn initech(pool: &PgPool, engagement: &str) -> Self {
        let cli = Self { url: database_url(pool), data_dir: tempfile::tempdir().expect("data dir") };
        assert!(cli.run(&["db", "upgrade"]).status.success());
        assert!(cli.run(&["accounts", "create", "--name", "Initech", "--slug", "initech"]).status.success());
        let output = cli.run(&[
            "engagements",
            "create",
            "--client-account",
            "initech",
            "--name",
            engagement,
            "--slug",
            engagement,
        ]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        cli
    }

    /// `--database-url` and `--data-dir`, which every call passes first.
    fn base(&self) -> [&str; 4] {
        ["--database-url", &self.url, "--data-dir", self.data_dir.path().to_str().expect("utf-8 path")]
    }

    fn run(&self, args: &[&str]) -> Output {
        modernize(&[&self.base()[..], args].concat())
    }

    /// `import FILE` in the foreground into `initech`'s `engagement`, mappings accepted above 0.9,
    /// the summary as JSON.
    fn import_into_initech(&self, file: &str, engagement: &str) -> Output {
        self.run(&[
            "import",
            file,
            "--client-account",
            "initech",
            "--engagement",
            engagement,
            "--accept-above",
            "0.9",
            "--json",
        ])
    }
}

/// The subcommands a `--help` output lists under "Commands:" (without `help`).
fn listed_subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// Walks the command tree from the top-level help, so a new subcommand is covered without being
/// listed here.
#[test]
fn every_subcommand_has_help() {
    let mut pending: Vec<Vec<String>> = vec![Vec::new()];
    let mut visited = Vec::new();
    while let Some(command) = pending.pop() {
        let mut args: Vec<&str> = command.iter().map(String::as_str).collect();
        args.push("--help");
        let output = modernize(&args);
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        let help = stdout(&output);
        assert!(help.contains("Usage: modernize"), "{args:?}");
        for sub in listed_subcommands(&help) {
            pending.push(command.iter().cloned().chain([sub]).collect());
        }
        visited.push(command.join(" "));
    }
    for expected in ["status", "maintenance", "users token revoke", "flows review", "deploy", "rollback"] {
        assert!(visited.iter().any(|v| v == expected), "{expected} not reached: {visited:?}");
    }
    assert!(visited.len() >= 53, "{} commands: {visited:?}", visited.len());
}

#[sqlx::test(migrations = false)]
async fn validate_json_reports_43_tables_and_exits_0(pool: PgPool) {
    let url = database_url(&pool);
    let output = modernize(&["--database-url", &url, "db", "upgrade"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout(&output).contains("applied 0002 performance_indexes"));

    let output = modernize(&["--database-url", &url, "db", "validate", "--json"]);
    assert_eq!(output.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    assert_eq!(report["total_tables"], 43);
    assert_eq!(report["passed"], true);

    let output = modernize(&["--database-url", &url, "db", "status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON status");
    assert_eq!(status["current_version"], modernize::db::migrate::latest_version());
}

#[sqlx::test(migrations = false)]
async fn validate_exits_1_with_the_reason_on_a_broken_database(pool: PgPool) {
    let url = database_url(&pool);
    assert!(modernize(&["--database-url", &url, "db", "upgrade"]).status.success());
    sqlx::raw_sql("ALTER TABLE migration.users ADD COLUMN is_mock boolean").execute(&pool).await.expect("break");
    let output = modernize(&["--database-url", &url, "db", "validate"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("is_mock column still present: migration.users.is_mock"), "{text}");
    assert!(text.contains("schema INVALID"));
}

#[sqlx::test(migrations = false)]
async fn downgrade_then_upgrade_through_the_cli(pool: PgPool) {
    let url = database_url(&pool);
    for (args, expected) in [
        (&["db", "upgrade"][..], "applied 0001"),
        (&["db", "downgrade", "--to", "1", "--yes"][..], "reverted 0002"),
        (&["db", "status"][..], "migrations pending"),
        (&["db", "upgrade"][..], "applied 0002"),
        (&["db", "status"][..], "schema is current"),
    ] {
        let output = modernize(&[&["--database-url", &url][..], args].concat());
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        assert!(stdout(&output).contains(expected), "{args:?}: {}", stdout(&output));
    }
}

#[test]
fn a_bad_database_url_is_a_clear_error() {
    let output = modernize(&["--database-url", "mysql://nope", "db", "status"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("error: invalid database URL"), "{stderr}");
}

/// `deploy` then `rollback` as an operator runs them: the dry run changes nothing, the backup goes
/// under the data directory, the rollback is refused without confirmation off a terminal.
#[sqlx::test(migrations = false)]
async fn deploy_and_rollback_from_the_command_line(pool: PgPool) {
    let url = database_url(&pool);
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().to_str().expect("utf-8 path");
    let run = |args: &[&str]| modernize(&[&["--database-url", &url, "--data-dir", data_dir][..], args].concat());
    let json = |output: &Output| -> serde_json::Value {
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).expect("JSON")
    };

    let dry = json(&run(&["deploy", "--dry-run", "--json"]));
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["plan"]["schema_from"], 0);
    assert!(dry["outcome"].is_null());
    assert!(!dir.path().join("backups").exists(), "a dry run writes no backup");
    assert!(stdout(&run(&["db", "status"])).contains("migrations pending"));

    let deployed = json(&run(&["deploy", "--json"]));
    assert_eq!(deployed["outcome"]["succeeded"], true, "{deployed}");
    let backup = deployed["outcome"]["backup_dir"].as_str().expect("backup dir").to_owned();
    assert!(backup.starts_with(&format!("{data_dir}/backups/deploy-")), "{backup}");
    let status = stdout(&run(&["status"]));
    assert!(status.contains("last deployment: #1 deploy succeeded"), "{status}");

    let refused = run(&["rollback"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("restores its backup"));
    let text = stdout(&run(&["rollback", "--dry-run"]));
    assert!(text.contains("dry run: nothing was changed"), "{text}");
    let rolled = run(&["rollback", "--to", "1", "--yes"]);
    assert!(rolled.status.success(), "{}", String::from_utf8_lossy(&rolled.stderr));
    assert!(stdout(&rolled).contains("rollback (not recorded"), "{}", stdout(&rolled));
    assert!(stdout(&run(&["db", "status"])).contains("version:  0"));
}

/// The zero-setup path: no DATABASE_URL, a private cluster made under the data directory.
#[test]
fn the_private_cluster_starts_migrates_and_stops() {
    let dir = tempfile::Builder::new().prefix("mz").tempdir_in("/tmp").expect("temp dir");
    let data_dir = dir.path().join("data");
    let data_dir = data_dir.to_str().expect("utf-8 path");
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_modernize"))
            .args([&["--data-dir", data_dir][..], args].concat())
            .env_remove("DATABASE_URL")
            .output()
            .expect("run modernize");
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        stdout(&output)
    };

    let demo = run(&["demo"]);
    assert!(demo.contains("schema valid"));
    // The RVTools workbook's semantics show in its summary (modernize::examples).
    for shown in [
        "import RVTools_export_all.xlsx: 9 rows, 9 valid",
        "templates_and_placeholders_excluded=2",
        "retire: powered off in vCenter",
        "placements_created=9",
        r#""vHost":{"hosts_created":4,"hosts_updated":0,"refused":0,"rows":4}"#,
        r#""vDisk":{"rows":8,"unmatched":0,"vms":7}"#,
        "sheet_warnings_total=0",
    ] {
        assert!(demo.contains(shown), "{shown:?} not in the demo's output:\n{demo}");
    }
    let status: serde_json::Value = serde_json::from_str(&run(&["local", "status", "--json"])).expect("JSON");
    assert_eq!(status["running"], true);
    assert!(run(&["db", "status"]).contains("schema is current"), "state survives between commands");
    assert_eq!(run(&["local", "stop"]).trim(), "stopped");
    assert_eq!(run(&["local", "stop"]).trim(), "was not running");
    // Started again on demand, with its data.
    assert!(run(&["db", "status"]).contains("schema is current"));
    run(&["local", "stop"]);
}

#[sqlx::test(migrations = false)]
async fn tenancy_objects_are_created_and_listed_with_json(pool: PgPool) {
    let url = database_url(&pool);
    let run = |args: &[&str]| modernize(&[&["--database-url", &url][..], args].concat());
    assert!(run(&["db", "upgrade"]).status.success());

    let output = run(&["accounts", "create", "--name", "Initech", "--slug", "initech", "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let account: serde_json::Value = serde_json::from_slice(&output.stdout).expect("account JSON");
    let account_id = account["id"].as_str().expect("id").to_owned();

    let output =
        run(&["engagements", "create", "--client-account", "initech", "--name", "DC exit", "--slug", "dc-exit"]);
    assert!(stdout(&output).starts_with("created engagement "), "{}", stdout(&output));
    let output = run(&["engagements", "list", "--client-account", &account_id, "--json"]);
    let engagements: serde_json::Value = serde_json::from_slice(&output.stdout).expect("engagements JSON");
    assert_eq!(engagements[0]["slug"], "dc-exit");

    // The password comes from the environment (or a prompt), never from the command line.
    let output = Command::new(env!("CARGO_BIN_EXE_modernize"))
        .args(["--database-url", &url, "users", "create", "--email", "Peter@Initech.example"])
        .args(["--member", "initech:analyst", "--json"])
        .env("MODERNIZE_USER_PASSWORD", "TPS reports, again")
        .output()
        .expect("run modernize");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let refused = run(&["users", "create", "--email", "bob@initech.example", "--password", "TPS reports, again"]);
    assert_eq!(refused.status.code(), Some(2), "no --password on the command line");
    let refused = run(&["users", "create", "--email", "bob@initech.example", "--ask-password"]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("needs a terminal"), "no terminal, no prompt");
    let user: serde_json::Value = serde_json::from_slice(&output.stdout).expect("user JSON");
    assert_eq!(user["email"], "peter@initech.example");
    assert_eq!(user["memberships"][0]["role"], "analyst");
    assert!(user.get("password_hash").is_none(), "the hash is never printed");

    // A membership in an unknown account: an error, and no user either.
    let output = run(&["users", "create", "--email", "milton@initech.example", "--member", "nope:viewer"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("client account nope not found"));
    let output = run(&["users", "list", "--json"]);
    let users: serde_json::Value = serde_json::from_slice(&output.stdout).expect("users JSON");
    let emails: Vec<&str> = users.as_array().expect("array").iter().filter_map(|u| u["email"].as_str()).collect();
    assert_eq!(emails, ["peter@initech.example"]);

    // An API token: printed once, listed without its secret, revoked.
    let output = run(&["users", "token", "create", "--email", "peter@initech.example", "--name", "CI", "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let created: serde_json::Value = serde_json::from_slice(&output.stdout).expect("token JSON");
    let secret = created["token"].as_str().expect("token").to_owned();
    assert!(secret.starts_with("mdz_"));
    let token_id = created["api_token"]["id"].as_str().expect("id").to_owned();
    let output = run(&["users", "token", "list", "--email", "peter@initech.example"]);
    assert!(stdout(&output).contains("active") && !stdout(&output).contains(&secret), "{}", stdout(&output));
    let output = run(&["users", "token", "revoke", &token_id, "--email", "peter@initech.example", "--yes"]);
    assert!(stdout(&output).starts_with("revoked API token"), "{}", stdout(&output));
    let output = run(&["users", "token", "list", "--email", "peter@initech.example", "--json"]);
    let tokens: serde_json::Value = serde_json::from_slice(&output.stdout).expect("tokens JSON");
    assert!(tokens[0]["revoked_at"].is_string());
    assert!(tokens[0].get("secret_hash").is_none(), "the hash is never printed");

    // Engagement access: the analyst is granted (his account role by default), listed, refused a
    // role above it, revoked; an unknown address is named in the error.
    let on = ["--client-account", "initech", "--engagement", "dc-exit"];
    let with = |args: &[&str]| run(&[args, &on[..]].concat());
    let output = with(&["engagements", "grant", "--email", "Peter@Initech.example", "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let grant: serde_json::Value = serde_json::from_slice(&output.stdout).expect("grant JSON");
    assert_eq!(
        (grant["user"]["email"].as_str(), grant["role"].as_str()),
        (Some("peter@initech.example"), Some("analyst"))
    );
    let output = with(&["engagements", "grant", "--email", "peter@initech.example", "--role", "admin"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("invalid role"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = with(&["engagements", "grant", "--email", "nobody@initech.example"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("member nobody@initech.example not found"));
    let output = with(&["engagements", "access", "--json"]);
    let grants: serde_json::Value = serde_json::from_slice(&output.stdout).expect("access JSON");
    assert_eq!(grants.as_array().map(Vec::len), Some(1), "{grants}");
    assert_eq!(grants[0]["role"], "analyst");
    let output = with(&["engagements", "revoke", "--email", "peter@initech.example"]);
    assert!(stdout(&output).starts_with("revoked the access of peter@initech.example"), "{}", stdout(&output));
    let output = with(&["engagements", "access", "--json"]);
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&output.stdout).expect("JSON"), serde_json::json!([]));
    let output = with(&["engagements", "revoke", "--email", "peter@initech.example"]);
    assert_eq!(output.status.code(), Some(2), "nothing left to revoke");

    // Deactivated: the user stays, inactive; an unknown address is named.
    let output = run(&["users", "deactivate", "--email", "peter@initech.example", "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let user: serde_json::Value = serde_json::from_slice(&output.stdout).expect("user JSON");
    assert_eq!(user["is_active"], false);
    let output = run(&["users", "deactivate", "--email", "nobody@initech.example"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("user nobody@initech.example not found"));

    // Reactivated: active again, said in a line that names the user.
    let output = run(&["users", "reactivate", "--email", "peter@initech.example"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout(&output).starts_with("reactivated user "), "{}", stdout(&output));
    assert!(stdout(&output).contains("(peter@initech.example)"), "{}", stdout(&output));
    let output = run(&["users", "list", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("users JSON");
    let peter = listed.as_array().into_iter().flatten().find(|u| u["email"] == "peter@initech.example");
    assert_eq!(peter.map(|u| &u["is_active"]), Some(&serde_json::json!(true)), "{listed}");
    let output = run(&["users", "reactivate", "--email", "nobody@initech.example"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("user nobody@initech.example not found"));
}

/// The sample inventory of the demo, as a user would pass it.
fn sample_inventory() -> String {
    format!("{}/../../examples/inventory.csv", env!("CARGO_MANIFEST_DIR"))
}

#[sqlx::test(migrations = false)]
async fn import_runs_a_whole_discovery_flow_and_review_goes_on_after_a_pause(pool: PgPool) {
    let url = database_url(&pool);
    let data_dir = tempfile::tempdir().expect("data dir");
    let data_dir = data_dir.path().to_str().expect("utf-8 path").to_owned();
    let run = |args: &[&str]| modernize(&[&["--database-url", &url, "--data-dir", &data_dir][..], args].concat());
    assert!(run(&["db", "upgrade"]).status.success());
    assert!(run(&["accounts", "create", "--name", "Initech", "--slug", "initech"]).status.success());
    for slug in ["wave-1", "wave-2"] {
        let output = run(&["engagements", "create", "--client-account", "initech", "--name", slug, "--slug", slug]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let tenant = ["--client-account", "initech"];

    // With a threshold, the flow runs to the end and reports what it did.
    let file = sample_inventory();
    let output =
        run(&[&["import", &file, "--engagement", "wave-1", "--accept-above", "0.9", "--json"][..], &tenant].concat());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("summary JSON");
    assert_eq!(summary["status"], "completed");
    assert_eq!(summary["import"]["total_records"], 54);
    let warnings = summary["import"]["warning_rows"].to_string();
    assert!(warnings.contains("formula_injection"), "the formula-like cell is flagged: {warnings}");
    assert!(warnings.contains("10.300.1.7"), "the bad IP address is reported: {warnings}");
    assert!(summary["inventory"]["assets"].as_i64().expect("assets") > 0);
    for phase in summary["phases"].as_array().expect("phases") {
        assert_eq!(phase["status"], "completed", "{phase}");
        assert!(phase["duration_ms"].is_u64(), "every phase is timed: {phase}");
    }

    // Without one, it pauses for review; reviewed and resumed, it completes.
    let output = run(&[&["import", &file, "--engagement", "wave-2", "--json"][..], &tenant].concat());
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("summary JSON");
    assert_eq!(summary["status"], "paused");
    let flow = summary["discovery_flow_id"].as_str().expect("flow id").to_owned();
    let review = [
        &[
            "flows",
            "review",
            &flow,
            "--map",
            "RAM (MB)=memory_gb",
            "--map",
            "Class=asset_type",
            "--map",
            "Application=application_name",
            "--json",
        ][..],
        &tenant,
    ]
    .concat();
    let output = run(&review);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let output = run(&[&["flows", "resume", &flow, "--accept-above", "0.9", "--json"][..], &tenant].concat());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("summary JSON");
    assert_eq!(summary["status"], "completed");
    assert!(summary["inventory"]["by_type"]["application"].as_i64().unwrap_or(0) > 0, "Class fed asset_type");
    assert!(summary["inventory"]["dependencies"].as_i64().unwrap_or(0) > 0);

    // RAM (MB) arrived in GB, and the host listed twice is one asset with the later value
    // (65536 MB upgraded to 131072 MB).
    let memory: Vec<Option<f64>> = sqlx::query_scalar(
        "SELECT memory_gb FROM migration.assets WHERE discovery_flow_id = $1::uuid AND name = 'lon-intran-web02'",
    )
    .bind(&flow)
    .fetch_all(&pool)
    .await
    .expect("memory");
    assert_eq!(memory, vec![Some(128.0)]);

    // A completed flow cannot be resumed, and an unknown flow is not found.
    let output = run(&[&["flows", "resume", &flow][..], &tenant].concat());
    assert_eq!(output.status.code(), Some(2));
    let output = run(&[&["flows", "show", "00000000-0000-0000-0000-000000000000"][..], &tenant].concat());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not found"));
}

#[test]
fn map_suggest_explains_an_azure_migrate_import_offline() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("azure-migrate.csv");
    // The first columns of Azure Migrate's CSV import template, with two servers.
    std::fs::write(
        &file,
        "*Server name,IP addresses,*Cores,*Memory (In MB),*OS name,OS version,Disk 1 size (In GB),Disk 2 size (In GB)\n\
         web-01,10.1.0.4,4,16384,Windows Server 2019 Datacenter,10.0.17763,128,256\n\
         db-01,10.1.0.5,8,65536,Red Hat Enterprise Linux,8.6,256,1024\n",
    )
    .expect("write");
    let output = modernize(&["map", "suggest", file.to_str().expect("path"), "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let suggestions: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON array");
    let by_column = |column: &str| {
        suggestions
            .as_array()
            .expect("array")
            .iter()
            .find(|s| s["source_field"] == column)
            .cloned()
            .unwrap_or_else(|| panic!("no suggestion for {column}"))
    };
    for (column, field) in [
        ("*Server name", "hostname"),
        ("IP addresses", "ip_address"),
        ("*Cores", "cpu_cores"),
        ("*Memory (In MB)", "memory_gb"),
        ("*OS name", "operating_system"),
        ("OS version", "os_version"),
        ("Disk 1 size (In GB)", "storage_gb"),
        ("Disk 2 size (In GB)", "storage_gb"),
    ] {
        let s = by_column(column);
        assert_eq!(s["target_field"], field, "{s}");
        let confidence = s["confidence"].as_f64().expect("confidence");
        assert!((0.0..=1.0).contains(&confidence), "{s}");
        assert!(!s["explanation"].as_str().unwrap_or("").is_empty(), "{s}");
        assert!(s["match_type"].is_string(), "{s}");
    }
    assert_eq!(by_column("*Memory (In MB)")["transformation_rules"]["scale"], 1.0 / 1024.0);
    assert_eq!(by_column("Disk 2 size (In GB)")["transformation_rules"]["sum"], true);

    let missing = modernize(&["map", "suggest", "/nonexistent/file.csv"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read /nonexistent/file.csv"));
}

#[sqlx::test(migrations = false)]
async fn reviewed_mappings_are_learned_listed_and_forgotten_per_client_account(pool: PgPool) {
    let url = database_url(&pool);
    let data_dir = tempfile::tempdir().expect("data dir");
    let data_dir = data_dir.path().to_str().expect("utf-8 path").to_owned();
    let run = |args: &[&str]| modernize(&[&["--database-url", &url, "--data-dir", &data_dir][..], args].concat());
    assert!(run(&["db", "upgrade"]).status.success());
    for slug in ["initech", "globex"] {
        assert!(run(&["accounts", "create", "--name", slug, "--slug", slug]).status.success());
        assert!(
            run(&["engagements", "create", "--client-account", slug, "--name", "dc", "--slug", "dc"]).status.success()
        );
    }
    let file = sample_inventory();
    let output = run(&["import", &file, "--client-account", "initech", "--engagement", "dc", "--json"]);
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("summary JSON");
    let flow = summary["discovery_flow_id"].as_str().expect("flow id").to_owned();
    // The reviewer says the cost center is the business unit, not the department.
    let output = run(&["flows", "review", &flow, "--client-account", "initech", "--map", "Cost Center=business_unit"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let suggest = |account: &str| {
        let output = run(&["map", "suggest", &file, "--client-account", account, "--json"]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let suggestions: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        suggestions
            .as_array()
            .expect("array")
            .iter()
            .find(|s| s["source_field"] == "Cost Center")
            .cloned()
            .expect("column")
    };
    let learned = suggest("initech");
    assert_eq!(
        (learned["target_field"].as_str(), learned["match_type"].as_str()),
        (Some("business_unit"), Some("learned"))
    );
    assert_ne!(suggest("globex")["target_field"], "business_unit", "another client account learns nothing from it");

    let output = run(&["map", "learned", "--client-account", "initech", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("learned JSON");
    assert!(
        listed.as_array().expect("array").iter().any(|l| l["source_field"] == "Cost Center" && l["approved"] == true)
    );
    let output = run(&["map", "forget", "Cost Center", "--client-account", "initech", "--yes"]);
    assert!(stdout(&output).starts_with("forgot 1 decision"), "{}", stdout(&output));
    assert_ne!(suggest("initech")["match_type"], "learned");
}

#[sqlx::test(migrations = false)]
async fn a_worker_process_killed_mid_import_is_taken_over_and_every_row_lands_once(pool: PgPool) {
    const ROWS: i64 = 30_000;
    let cli = Cli::initech(&pool, "dc");
    let run = |args: &[&str]| cli.run(args);
    let file = cli.data_dir.path().join("big.csv");
    let mut body = String::from("hostname,ip_address,operating_system,memory_gb,environment\n");
    for i in 0..ROWS {
        body.push_str(&format!("srv-{i:06},10.{}.{}.{},Ubuntu 22.04,16,prod\n", i >> 16, (i >> 8) & 255, i & 255));
    }
    std::fs::write(&file, body).expect("write");
    let tenant = ["--client-account", "initech", "--engagement", "dc"];
    let output =
        run(&[&["import", file.to_str().expect("path"), "--detach", "--accept-above", "0.9"][..], &tenant].concat());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    // A worker process, killed with SIGKILL once the import has committed some rows.
    let mut worker = Command::new(env!("CARGO_BIN_EXE_modernize"))
        .args([&cli.base()[..], &["worker", "--lease", "2"]].concat())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start worker");
    let processed = loop {
        let processed: i32 = sqlx::query_scalar("SELECT processed_records FROM migration.data_imports")
            .fetch_one(&pool)
            .await
            .expect("progress");
        if processed > 0 {
            break processed;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    worker.kill().expect("kill -9");
    worker.wait().expect("reap");
    let at_kill: i64 =
        sqlx::query_scalar("SELECT count(*) FROM migration.raw_import_records").fetch_one(&pool).await.expect("count");
    assert!(at_kill < ROWS, "killed mid-import ({processed} processed, {at_kill} rows)");

    // Once the lease has run out, another worker takes the flow over and completes it.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let output = run(&["worker", "--once", "--lease", "2"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let (rows, distinct): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT row_number) FROM migration.raw_import_records")
            .fetch_one(&pool)
            .await
            .expect("rows");
    assert_eq!((rows, distinct), (ROWS, ROWS), "every row exactly once");
    let (status, assets): (String, i64) = sqlx::query_as(
        "SELECT f.status::text, (SELECT count(*) FROM migration.assets WHERE discovery_flow_id = f.id)
         FROM migration.discovery_flows f",
    )
    .fetch_one(&pool)
    .await
    .expect("flow");
    assert_eq!((status.as_str(), assets), ("completed", ROWS));
}

/// Issue 17: `command` (a worker, or `serve` with in-process workers) running a long import gets
/// SIGTERM, as systemd stops a unit: it exits 0 and hands its job back at once (queued, no lease
/// left: the 60 s lease has not run out), and the next worker completes the flow, every row once.
async fn stopped_with_sigterm_hands_its_job_back(pool: PgPool, command: &[&str]) {
    const ROWS: i64 = 30_000;
    let cli = Cli::initech(&pool, "dc");
    let file = cli.data_dir.path().join("big.csv");
    let mut body = String::from("hostname,ip_address,operating_system,memory_gb,environment\n");
    for i in 0..ROWS {
        body.push_str(&format!("srv-{i:06},10.{}.{}.{},Ubuntu 22.04,16,prod\n", i >> 16, (i >> 8) & 255, i & 255));
    }
    std::fs::write(&file, body).expect("write");
    let import = ["import", file.to_str().expect("path"), "--detach", "--accept-above", "0.9"];
    let output = cli.run(&[&import[..], &["--client-account", "initech", "--engagement", "dc"]].concat());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let mut child = Command::new(env!("CARGO_BIN_EXE_modernize"))
        .args([&cli.base()[..], command].concat())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start");
    loop {
        let processed: i32 = sqlx::query_scalar("SELECT processed_records FROM migration.data_imports")
            .fetch_one(&pool)
            .await
            .expect("progress");
        if processed > 0 {
            break;
        }
        assert!(child.try_wait().expect("status").is_none(), "{command:?} ended before its job");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    let output = child.wait_with_output().expect("reap");
    assert!(
        output.status.success(),
        "{command:?} after SIGTERM: {:?} {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );

    let (running, handed_back): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'running'),
                count(*) FILTER (WHERE status = 'queued' AND locked_by IS NULL AND locked_until IS NULL AND run_at <= now())
         FROM modernize.jobs",
    )
    .fetch_one(&pool)
    .await
    .expect("jobs");
    assert_eq!((running, handed_back), (0, 1), "the job cut short is queued again, free for any worker");

    let output = cli.run(&["worker", "--once"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let (status, rows, distinct): (String, i64, i64) = sqlx::query_as(
        "SELECT f.status::text, (SELECT count(*) FROM migration.raw_import_records),
                (SELECT count(DISTINCT row_number) FROM migration.raw_import_records)
         FROM migration.discovery_flows f",
    )
    .fetch_one(&pool)
    .await
    .expect("flow");
    assert_eq!((status.as_str(), rows, distinct), ("completed", ROWS, ROWS), "completed, every row exactly once");
}

#[sqlx::test(migrations = false)]
async fn a_worker_stopped_with_sigterm_exits_0_and_hands_its_job_back(pool: PgPool) {
    stopped_with_sigterm_hands_its_job_back(pool, &["worker"]).await;
}

#[sqlx::test(migrations = false)]
async fn serve_stopped_with_sigterm_exits_0_and_its_workers_hand_their_job_back(pool: PgPool) {
    stopped_with_sigterm_hands_its_job_back(pool, &["serve", "--listen", "127.0.0.1:0", "--workers", "1"]).await;
}

/// Issue 11: commands that destroy data refuse without --yes when no one can be asked, and say
/// what they would destroy; nothing is touched.
#[sqlx::test(migrations = false)]
async fn destructive_commands_need_yes(pool: PgPool) {
    let url = database_url(&pool);
    let run = |args: &[&str]| modernize(&[&["--database-url", &url][..], args].concat());
    assert!(run(&["db", "upgrade"]).status.success());
    assert!(run(&["accounts", "create", "--name", "Initech", "--slug", "initech"]).status.success());

    let output = run(&["db", "downgrade", "--to", "0"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("reverts 00") && stderr.contains("0009 audit_trail_index, "), "{stderr}");
    assert!(stderr.contains("0001 consolidated_schema"), "{stderr}");
    assert!(stderr.contains("pass --yes to confirm"), "{stderr}");
    let output = run(&["legacy", "seed", "--replace", "--rows", "10"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("pass --yes"));
    let accounts: i64 = sqlx::query_scalar("SELECT count(*) FROM migration.client_accounts")
        .fetch_one(&pool)
        .await
        .expect("the schema and its data are still there");
    assert_eq!(accounts, 1);

    // Nothing to reverse, nothing to confirm; with --yes it goes ahead.
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations")).expect("migrations");
    let latest = migrations
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".up.sql"))
        .count()
        .to_string();
    assert!(run(&["db", "downgrade", "--to", &latest]).status.success());
    let output = run(&["db", "downgrade", "--to", "0", "--yes"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout(&output).contains("reverted 0001"));
}

/// Issue 11: forgetting learned mappings, cancelling a flow and revoking a token cannot be undone;
/// without --yes and no terminal to ask on, each says what it would destroy, refuses (exit 2) and
/// changes nothing.
#[sqlx::test(migrations = false)]
async fn forgetting_cancelling_and_revoking_need_yes(pool: PgPool) {
    let cli = Cli::initech(&pool, "dc");
    let run = |args: &[&str]| cli.run(args);
    let output = Command::new(env!("CARGO_BIN_EXE_modernize"))
        .args(["--database-url", &cli.url, "users", "create", "--email", "peter@initech.example"])
        .args(["--member", "initech:analyst"])
        .env("MODERNIZE_USER_PASSWORD", "TPS reports, again")
        .output()
        .expect("run modernize");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let output = run(&["users", "token", "create", "--email", "peter@initech.example", "--name", "CI", "--json"]);
    let created: serde_json::Value = serde_json::from_slice(&output.stdout).expect("token JSON");
    let token_id = created["api_token"]["id"].as_str().expect("id").to_owned();
    // A flow paused for review, one of whose mappings a reviewer changed.
    let output = run(&["import", &sample_inventory(), "--client-account", "initech", "--engagement", "dc", "--json"]);
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("summary JSON");
    assert_eq!(summary["status"], "paused");
    let flow = summary["discovery_flow_id"].as_str().expect("flow id").to_owned();
    let output = run(&["flows", "review", &flow, "--client-account", "initech", "--map", "Cost Center=business_unit"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let refused = |args: &[&str], what: &[&str]| {
        let output = run(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("pass --yes to confirm"), "{stderr}");
        for what in what {
            assert!(stderr.contains(what), "{args:?} names {what:?}: {stderr}");
        }
    };
    refused(
        &["map", "forget", "cost center", "--client-account", "initech"],
        &["1 reviewer decision(s)", "\"cost center\""],
    );
    refused(&["flows", "cancel", &flow, "--client-account", "initech"], &[&flow, "paused", "cannot be resumed"]);
    refused(&["users", "token", "revoke", &token_id, "--email", "peter@initech.example"], &[&token_id, "\"CI\""]);
    let state: (i64, String, bool) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM migration.import_field_mappings WHERE decided_by = 'reviewer'),
                (SELECT status::text FROM migration.discovery_flows),
                (SELECT revoked_at IS NULL FROM modernize.api_tokens)",
    )
    .fetch_one(&pool)
    .await
    .expect("state");
    assert_eq!(state, (1, "paused".to_owned(), true), "nothing changed");

    // An unknown flow or token is reported as such, before any question.
    let output = run(&["flows", "cancel", "00000000-0000-0000-0000-000000000000", "--client-account", "initech"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("not found"));

    let output = run(&["map", "forget", "cost center", "--client-account", "initech", "--yes"]);
    assert!(stdout(&output).starts_with("forgot 1 decision"), "{}", stdout(&output));
    // Nothing left to forget: nothing to confirm.
    let output = run(&["map", "forget", "cost center", "--client-account", "initech"]);
    assert!(stdout(&output).starts_with("forgot 0 decision"), "{}", String::from_utf8_lossy(&output.stderr));
    let output = run(&["flows", "cancel", &flow, "--client-account", "initech", "--yes"]);
    assert_eq!(stdout(&output).trim(), "cancelled", "{}", String::from_utf8_lossy(&output.stderr));
    let output = run(&["users", "token", "revoke", &token_id, "--email", "peter@initech.example", "--yes"]);
    assert!(stdout(&output).starts_with("revoked API token"), "{}", stdout(&output));
    let state: (String, bool) = sqlx::query_as(
        "SELECT (SELECT status::text FROM migration.discovery_flows),
                (SELECT revoked_at IS NULL FROM modernize.api_tokens)",
    )
    .fetch_one(&pool)
    .await
    .expect("state");
    assert_eq!(state, ("cancelled".to_owned(), false));
}

/// Issue 11: a foreground `import` whose flow's job another worker holds (here one that died
/// holding the import phase, its 2-second lease running out) waits for the flow to end, taking
/// the job over when it is due, instead of returning at once with the flow still running.
#[sqlx::test(migrations = false)]
async fn a_foreground_import_waits_for_its_flow_when_another_worker_holds_a_job(pool: PgPool) {
    let cli = Cli::initech(&pool, "dc");
    // The import phase is claimed by another worker as it is enqueued.
    for statement in [
        "CREATE FUNCTION public.claimed_elsewhere() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             NEW.status := 'running'; NEW.attempts := 1; NEW.locked_by := 'worker-elsewhere';
             NEW.locked_until := now() + interval '2 seconds';
             RETURN NEW;
         END $$",
        "CREATE TRIGGER claimed_elsewhere BEFORE INSERT ON modernize.jobs FOR EACH ROW
         WHEN (NEW.payload ->> 'phase' = 'data_import') EXECUTE FUNCTION public.claimed_elsewhere()",
    ] {
        sqlx::query(statement).execute(&pool).await.expect("the other worker");
    }
    let output = cli.import_into_initech(&sample_inventory(), "dc");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("summary JSON");
    assert_eq!(summary["status"], "completed");
    assert_eq!(summary["import"]["total_records"], 54);
    let held_by: Option<String> =
        sqlx::query_scalar("SELECT locked_by FROM modernize.jobs WHERE payload ->> 'phase' = 'data_import'")
            .fetch_one(&pool)
            .await
            .expect("job");
    assert_ne!(held_by.as_deref(), Some("worker-elsewhere"), "taken over once its lease ran out");
}

/// Issue 11 (`terminal-escapes.csv`): escape sequences in a header and a value reach the
/// operator's terminal escaped in every human-readable output, while the data keeps them as they
/// were.
#[sqlx::test(migrations = false)]
async fn control_characters_from_files_are_shown_escaped(pool: PgPool) {
    let cli = Cli::initech(&pool, "w");
    let run = |args: &[&str]| cli.run(args);
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cases/robustness/terminal-escapes.csv");
    let tenant = ["--client-account", "initech"];

    let import = run(&[&["import", file, "--engagement", "w"][..], &tenant].concat());
    let flow = String::from_utf8_lossy(&import.stdout)
        .split_whitespace()
        .find(|word| uuid::Uuid::parse_str(word).is_ok())
        .expect("the import names its flow")
        .to_owned();
    let mut outputs = vec![import];
    for args in [&["flows", "show", &flow][..], &["flows", "review", &flow], &["flows", "list"]] {
        outputs.push(run(&[args, &tenant].concat()));
    }
    let mut shown = String::new();
    for output in &outputs {
        for stream in [&output.stdout, &output.stderr] {
            let text = String::from_utf8_lossy(stream);
            let raw = text.chars().find(|c| c.is_control() && *c != '\n' && *c != '\t');
            assert!(raw.is_none(), "a raw control character {raw:?} reached the terminal:\n{text}");
            shown.push_str(&text);
        }
    }
    assert!(shown.contains("\\u{1b}]52;c;ZWNobyBwd25lZA==\\u{7}Owner\\u{1b}[2J"), "the header, escaped:\n{shown}");

    // The data itself is stored as it came.
    let headers: Vec<String> = sqlx::query_scalar("SELECT source_field FROM migration.import_field_mappings")
        .fetch_all(&pool)
        .await
        .expect("mappings");
    assert!(headers.iter().any(|h| h.contains('\u{1b}')), "{headers:?}");
}

/// Issue 11: `import` deletes the uploads of flows that are over once past the retention time
/// (here 0), and keeps them by default.
#[sqlx::test(migrations = false)]
async fn import_deletes_finished_uploads_after_retention(pool: PgPool) {
    let cli = Cli::initech(&pool, "w");
    let uploads = cli.data_dir.path().join("uploads");
    let run = |args: &[&str]| cli.run(args);
    let file = sample_inventory();
    let import = ["import", &file, "--client-account", "initech", "--engagement", "w", "--accept-above", "0.7"];
    let count = || std::fs::read_dir(&uploads).map_or(0, |entries| entries.count());

    assert!(run(&import).status.success());
    assert_eq!(count(), 1, "kept for the default retention (7 days)");
    let output = run(&[&import[..], &["--upload-retention-hours", "0"]].concat());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(count(), 0, "both completed flows' uploads deleted");
}

/// Issue 11 item 2: a foreground import whose flow does not end (a phase failed, here the asset
/// inventory refused by a trigger as a broken database would) exits 1 with the flow's status
/// shown, never 0 with "running".
#[sqlx::test(migrations = false)]
async fn a_foreground_import_whose_phase_fails_exits_1(pool: PgPool) {
    let cli = Cli::initech(&pool, "dc");
    for statement in [
        "CREATE FUNCTION public.refuse_assets() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'assets refused by the test'; END $$",
        "CREATE TRIGGER refuse_assets BEFORE INSERT ON migration.assets FOR EACH ROW
         EXECUTE FUNCTION public.refuse_assets()",
    ] {
        sqlx::query(statement).execute(&pool).await.expect("the refusal");
    }
    let output = cli.import_into_initech(&sample_inventory(), "dc");
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("summary JSON");
    assert_ne!(summary["status"], "completed");
    assert_ne!(summary["status"], "paused");
    let assets: i64 =
        sqlx::query_scalar("SELECT count(*) FROM migration.assets").fetch_one(&pool).await.expect("count");
    assert_eq!(assets, 0);
}

/// Issue 11 item 1: a foreground import runs its own flow's jobs only; another tenant's queued
/// import stays queued, untouched, for a worker.
#[sqlx::test(migrations = false)]
async fn a_foreground_import_leaves_other_flows_jobs_queued(pool: PgPool) {
    let cli = Cli::initech(&pool, "dc");
    assert!(cli.run(&["accounts", "create", "--name", "Globex", "--slug", "globex"]).status.success());
    let output =
        cli.run(&["engagements", "create", "--client-account", "globex", "--name", "Globex DC", "--slug", "globex-dc"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let file = sample_inventory();
    let queued = cli.run(&["import", &file, "--client-account", "globex", "--engagement", "globex-dc", "--detach"]);
    assert!(queued.status.success(), "{}", String::from_utf8_lossy(&queued.stderr));

    let output = cli.import_into_initech(&file, "dc");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).expect("summary JSON");
    assert_eq!(summary["status"], "completed");

    let globex: Vec<(String, i32, Option<String>)> = sqlx::query_as(
        "SELECT j.status, j.attempts, j.locked_by FROM modernize.jobs j
         JOIN migration.client_accounts a ON a.id::text = j.payload ->> 'client_account_id'
         WHERE a.slug = 'globex'",
    )
    .fetch_all(&pool)
    .await
    .expect("Globex's jobs");
    assert_eq!(globex, [("queued".to_owned(), 0, None)], "only its import phase, never claimed");
    let globex_assets: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM migration.assets s JOIN migration.client_accounts a ON a.id = s.client_account_id
         WHERE a.slug = 'globex'",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(globex_assets, 0);
}
