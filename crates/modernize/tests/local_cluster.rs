//! The private cluster never deletes a cluster (issue 11, item 4): the marker file older versions
//! relied on may disappear with the server stopped or running, an interrupted initialisation is
//! redone only where no cluster ever lived, and a `pgdata` that is not a cluster is left alone.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use modernize::db::Database;
use modernize::db::local::{ClusterError, LocalCluster};
use nix::unistd::{Uid, User};
use sqlx::{Connection, PgConnection};

/// Older versions wrote this file last and re-ran initdb over `pgdata` when it was missing.
const OLD_MARKER: &str = "modernize-cluster-ready";

/// The socket path must stay under 108 bytes: a short directory under /tmp.
fn data_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("mz").tempdir_in("/tmp").expect("temp dir")
}

async fn connect(cluster: &LocalCluster) -> PgConnection {
    Database::resolve(None, cluster).await.expect("cluster running").connect().await.expect("connect")
}

/// The cluster's identity (initdb draws a new one each time) and the row written at the start.
async fn identity_and_row(cluster: &LocalCluster) -> (i64, String) {
    let mut conn = connect(cluster).await;
    let system_id: i64 =
        sqlx::query_scalar("SELECT system_identifier FROM pg_control_system()").fetch_one(&mut conn).await.expect("id");
    let row: String = sqlx::query_scalar("SELECT v FROM keep").fetch_one(&mut conn).await.expect("row survives");
    conn.close().await.expect("close");
    (system_id, row)
}

#[tokio::test]
async fn a_missing_marker_never_reinitialises_a_cluster_stopped_or_running() {
    let dir = data_dir();
    let cluster = LocalCluster::new(dir.path().join("data"));
    let mut conn = connect(&cluster).await;
    sqlx::raw_sql("CREATE TABLE keep (v text); INSERT INTO keep VALUES ('client data')")
        .execute(&mut conn)
        .await
        .expect("write");
    conn.close().await.expect("close");
    let (system_id, _) = identity_and_row(&cluster).await;
    let marker = cluster.data_dir().join(OLD_MARKER);

    // Stopped, marker gone.
    assert!(cluster.stop().await.expect("stop"));
    std::fs::write(&marker, b"").expect("old marker");
    std::fs::remove_file(&marker).expect("remove marker");
    assert_eq!(identity_and_row(&cluster).await, (system_id, "client data".to_owned()));

    // Running, marker gone: the server is found, not orphaned, and still stoppable.
    assert!(cluster.status().await.expect("status").running);
    let _ = std::fs::remove_file(&marker);
    assert_eq!(identity_and_row(&cluster).await, (system_id, "client data".to_owned()));
    assert!(cluster.stop().await.expect("stop"), "the running server is stopped");
    let status = cluster.status().await.expect("status");
    assert!(status.initialised && !status.running, "{status:?}");

    if Uid::effective().is_root() {
        let pgdata = cluster.data_dir().join("pgdata");
        let owner = |path: &Path| std::fs::metadata(path).expect("stat").uid();
        let modernize = User::from_name("modernize").expect("lookup").expect("system user modernize exists");
        assert_eq!(owner(&pgdata), modernize.uid.as_raw(), "as root the server runs as its own system user");

        // A cluster made by an older version as root belongs to `postgres`: handed over, intact.
        if let Some(postgres) = User::from_name("postgres").expect("lookup") {
            let status =
                std::process::Command::new("chown").args(["-R", "postgres:"]).arg(&pgdata).status().expect("chown");
            assert!(status.success());
            assert_eq!(owner(&pgdata), postgres.uid.as_raw());
            assert_eq!(identity_and_row(&cluster).await, (system_id, "client data".to_owned()));
            assert_eq!(owner(&pgdata), modernize.uid.as_raw());
            assert_eq!(owner(&pgdata.join("PG_VERSION")), modernize.uid.as_raw());
        }
    }
    cluster.stop().await.expect("stop");
}

#[tokio::test]
async fn an_interrupted_initialisation_is_redone_aside_and_a_foreign_pgdata_is_left_alone() {
    // An initdb killed half-way left its staging directory behind: made again, cluster works.
    let dir = data_dir();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("pgdata.initialising/base")).expect("leftover");
    std::fs::write(data.join("pgdata.initialising/PG_VERSION"), "15\n").expect("leftover");
    let cluster = LocalCluster::new(&data);
    let mut conn = connect(&cluster).await;
    let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(&mut conn).await.expect("query");
    assert_eq!(one, 1);
    conn.close().await.expect("close");
    assert!(!data.join("pgdata.initialising").exists());
    cluster.stop().await.expect("stop");

    // A pgdata holding something that is not a cluster: refused, nothing removed.
    let dir = data_dir();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("pgdata")).expect("pgdata");
    std::fs::write(data.join("pgdata/notes.txt"), "someone's files").expect("file");
    let cluster = LocalCluster::new(&data);
    let error = cluster.ensure_running().await.expect_err("refused");
    assert!(matches!(error, ClusterError::NotACluster(_)), "{error}");
    assert!(error.to_string().contains("left untouched"), "{error}");
    assert_eq!(std::fs::read_to_string(data.join("pgdata/notes.txt")).expect("still there"), "someone's files");
    assert!(!cluster.stop().await.expect("stop"));
}
