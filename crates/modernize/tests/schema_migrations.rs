//! The migrations against real PostgreSQL: they build the 43-table schema, reverse exactly, refuse
//! edited history and recover from an interrupted concurrent index build.

mod common;

use modernize::db::catalog::Catalog;
use modernize::db::migrate::{self, Direction, MigrateError};
use modernize::db::validate;
use pretty_assertions::assert_eq;
use sqlx::{Connection, PgConnection, PgPool};

async fn catalog(conn: &mut PgConnection) -> Catalog {
    Catalog::snapshot(conn, "migration").await.expect("catalog snapshot")
}

#[sqlx::test(migrations = false)]
async fn a_fresh_database_upgrades_to_a_valid_43_table_schema(pool: PgPool) {
    let mut conn = pool.acquire().await.expect("connection");
    let steps = migrate::upgrade(&mut conn, None).await.expect("upgrade");
    assert_eq!(
        steps.iter().map(|s| (s.version, s.direction)).collect::<Vec<_>>(),
        (1..=migrate::latest_version()).map(|v| (v, Direction::Up)).collect::<Vec<_>>()
    );

    let report = validate::validate(&mut conn).await.expect("validate");
    assert_eq!(report.failures().collect::<Vec<_>>(), Vec::<&String>::new());
    assert!(report.passed);
    assert_eq!(report.total_tables, 43);

    let status = migrate::status(&mut conn).await.expect("status");
    assert!(status.is_current());
    assert_eq!(status.current_version, migrate::latest_version());
}

#[sqlx::test(migrations = false)]
async fn down_to_zero_then_up_leaves_an_identical_catalog(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let before = catalog(&mut conn).await;
    assert!(before.lines.len() > 43 * 5, "the snapshot sees the schema");

    let steps = migrate::downgrade(&mut conn, 0).await.expect("downgrade");
    assert_eq!(
        steps.iter().map(|s| s.version).collect::<Vec<_>>(),
        (1..=migrate::latest_version()).rev().collect::<Vec<_>>()
    );
    let schemas: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'migration'")
        .fetch_one(&mut *conn)
        .await
        .expect("query");
    assert_eq!(schemas, 0, "downgrade to 0 removes the schema");
    let types: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_type WHERE typname = 'asset_type'")
        .fetch_one(&mut *conn)
        .await
        .expect("query");
    assert_eq!(types, 0, "and its enum types");
    assert_eq!(migrate::status(&mut conn).await.expect("status").current_version, 0);

    migrate::upgrade(&mut conn, None).await.expect("upgrade again");
    let after = catalog(&mut conn).await;
    assert_eq!(before.diff(&after), Vec::<String>::new());
}

#[sqlx::test(migrations = false)]
async fn each_migration_reverses_exactly(pool: PgPool) {
    let mut conn = pool.acquire().await.expect("connection");
    migrate::upgrade(&mut conn, Some(1)).await.expect("upgrade to 1");
    let at_one = catalog(&mut conn).await;
    let status = migrate::status(&mut conn).await.expect("status");
    assert_eq!(status.current_version, 1);
    assert!(!status.is_current());

    migrate::upgrade(&mut conn, Some(2)).await.expect("upgrade to 2");
    let at_two = catalog(&mut conn).await;
    assert!(at_two.lines.len() > at_one.lines.len(), "0002 adds indexes");
    migrate::upgrade(&mut conn, None).await.expect("upgrade to 3");
    let at_three = catalog(&mut conn).await;
    assert!(at_three.lines.len() > at_two.lines.len(), "0003 adds policies");

    migrate::downgrade(&mut conn, 2).await.expect("downgrade to 2");
    assert_eq!(at_two.diff(&catalog(&mut conn).await), Vec::<String>::new());
    migrate::downgrade(&mut conn, 1).await.expect("downgrade to 1");
    assert_eq!(at_one.diff(&catalog(&mut conn).await), Vec::<String>::new());
    migrate::upgrade(&mut conn, None).await.expect("upgrade to 3 again");
    assert_eq!(at_three.diff(&catalog(&mut conn).await), Vec::<String>::new());

    // 0004 (job queue), 0005 (API tokens) and 0006 (sessions) live in the bookkeeping schema; 0007
    // adds assets.dedup_key's unique key and the jobs' one-pending-phase index, 0008 who decided a
    // field mapping, 0009 the audit trail's index by resource.
    let bookkeeping = async |conn: &mut PgConnection| {
        Catalog::snapshot(conn, "modernize").await.expect("bookkeeping catalog snapshot")
    };
    let latest = bookkeeping(&mut conn).await;
    let latest_domain = catalog(&mut conn).await;
    assert!(latest_domain.lines.iter().any(|l| l.contains("ix_access_audit_log_resource")), "0009 applied");
    migrate::downgrade(&mut conn, 8).await.expect("downgrade to 8");
    assert!(
        catalog(&mut conn).await.lines.iter().all(|l| !l.contains("ix_access_audit_log_resource")),
        "0009 reversed"
    );
    migrate::downgrade(&mut conn, 7).await.expect("downgrade to 7");
    assert!(catalog(&mut conn).await.lines.iter().all(|l| !l.contains("decided_by")), "0008 reversed");
    migrate::downgrade(&mut conn, 6).await.expect("downgrade to 6");
    assert!(bookkeeping(&mut conn).await.lines.iter().all(|l| !l.contains("jobs_pending_phase_key")), "0007 reversed");
    assert!(catalog(&mut conn).await.lines.iter().all(|l| !l.contains("dedup_key")), "0007 reversed");
    migrate::upgrade(&mut conn, None).await.expect("upgrade to 9 again");
    assert_eq!(latest_domain.diff(&catalog(&mut conn).await), Vec::<String>::new());
    migrate::downgrade(&mut conn, 5).await.expect("downgrade to 5");
    let at_five = bookkeeping(&mut conn).await;
    assert!(at_five.lines.iter().all(|l| !l.contains("sessions")), "0006 reversed");
    assert!(at_five.lines.iter().any(|l| l.contains("api_tokens")));
    migrate::downgrade(&mut conn, 4).await.expect("downgrade to 4");
    let at_four = bookkeeping(&mut conn).await;
    assert!(at_four.lines.iter().all(|l| !l.contains("api_tokens")), "0005 reversed");
    assert!(at_four.lines.iter().any(|l| l.contains("jobs")));
    migrate::downgrade(&mut conn, 3).await.expect("downgrade to 3");
    assert!(bookkeeping(&mut conn).await.lines.iter().all(|l| !l.contains("jobs")), "0004 reversed");
    migrate::upgrade(&mut conn, None).await.expect("upgrade to the latest again");
    assert_eq!(latest.diff(&bookkeeping(&mut conn).await), Vec::<String>::new());
}

#[sqlx::test(migrations = false)]
async fn a_second_upgrade_is_a_no_op(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let steps = migrate::upgrade(&mut conn, None).await.expect("second upgrade");
    assert!(steps.is_empty());
}

#[sqlx::test(migrations = false)]
async fn an_edited_migration_is_refused(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    sqlx::query("UPDATE modernize.schema_migrations SET checksum = 'edited' WHERE version = 1")
        .execute(&mut *conn)
        .await
        .expect("tamper");
    let error = migrate::upgrade(&mut conn, None).await.expect_err("checksum mismatch");
    assert!(matches!(error, MigrateError::ChecksumMismatch { version: 1, .. }), "{error}");
    assert!(error.to_string().contains("must never be edited"));
    assert!(matches!(migrate::status(&mut conn).await, Err(MigrateError::ChecksumMismatch { .. })));
}

#[sqlx::test(migrations = false)]
async fn a_database_from_a_newer_binary_is_refused(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    sqlx::query(
        "INSERT INTO modernize.schema_migrations (version, name, checksum, execution_ms) VALUES (99, 'future', 'x', 0)",
    )
    .execute(&mut *conn)
    .await
    .expect("insert");
    let error = migrate::downgrade(&mut conn, 0).await.expect_err("unknown version");
    assert!(matches!(error, MigrateError::UnknownVersion { version: 99, .. }), "{error}");
}

#[sqlx::test(migrations = false)]
async fn an_unknown_target_version_is_refused(pool: PgPool) {
    let mut conn = pool.acquire().await.expect("connection");
    let error = migrate::upgrade(&mut conn, Some(99)).await.expect_err("unknown target");
    assert!(matches!(error, MigrateError::UnknownTarget(99, v) if v == migrate::latest_version()), "{error}");
    let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'migration'")
        .fetch_one(&mut *conn)
        .await
        .expect("query");
    assert_eq!(tables, 0, "nothing was applied");
}

#[sqlx::test(migrations = false)]
async fn an_interrupted_concurrent_index_build_is_finished_by_a_rerun(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let healthy = catalog(&mut conn).await;
    // What a killed CREATE INDEX CONCURRENTLY leaves: an INVALID index, and no history row.
    sqlx::raw_sql(
        "UPDATE pg_index SET indisvalid = false
          WHERE indexrelid = 'migration.ix_assets_search_keys'::regclass;
         DELETE FROM modernize.schema_migrations WHERE version = 18;",
    )
    .execute(&mut *conn)
    .await
    .expect("simulate the interruption");

    let steps = migrate::upgrade(&mut conn, None).await.expect("re-run");
    assert_eq!(steps.iter().map(|s| s.version).collect::<Vec<_>>(), [18]);
    assert_eq!(healthy.diff(&catalog(&mut conn).await), Vec::<String>::new(), "the index is valid again");
}

#[sqlx::test(migrations = false)]
async fn a_row_cannot_reference_another_tenants_row(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    sqlx::raw_sql(
        "INSERT INTO migration.client_accounts (id, name, slug) VALUES
             ('00000000-0000-0000-0000-00000000000a', 'Acme', 'acme'),
             ('00000000-0000-0000-0000-00000000000b', 'Globex', 'globex');
         INSERT INTO migration.engagements (id, client_account_id, name, slug) VALUES
             ('00000000-0000-0000-0000-0000000000ea', '00000000-0000-0000-0000-00000000000a', 'Cloud move', 'cloud-move');
         INSERT INTO migration.crewai_flow_state_extensions (client_account_id, engagement_id, flow_id, flow_type) VALUES
             ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000ea',
              '00000000-0000-0000-0000-0000000000fa', 'discovery');",
    )
    .execute(&mut *conn)
    .await
    .expect("tenant A's rows");

    // Tenant B's asset naming tenant A's engagement.
    let error = sqlx::query(
        "INSERT INTO migration.assets (client_account_id, engagement_id, name)
         VALUES ('00000000-0000-0000-0000-00000000000b', '00000000-0000-0000-0000-0000000000ea', 'web-01')",
    )
    .execute(&mut *conn)
    .await
    .expect_err("cross-tenant engagement");
    assert_eq!(constraint_of(&error), Some("assets_client_account_id_engagement_id_fkey".into()));

    // Tenant A's own import pointing at tenant A's master flow is fine...
    sqlx::query(
        "INSERT INTO migration.data_imports (client_account_id, engagement_id, master_flow_id, import_name, filename)
         VALUES ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000ea',
                 '00000000-0000-0000-0000-0000000000fa', 'CMDB', 'cmdb.csv')",
    )
    .execute(&mut *conn)
    .await
    .expect("same-tenant master flow");
    // ...but no other tenant's row can claim that master flow.
    sqlx::raw_sql(
        "INSERT INTO migration.engagements (id, client_account_id, name, slug) VALUES
             ('00000000-0000-0000-0000-0000000000eb', '00000000-0000-0000-0000-00000000000b', 'Other', 'other')",
    )
    .execute(&mut *conn)
    .await
    .expect("tenant B's engagement");
    let error = sqlx::query(
        "INSERT INTO migration.discovery_flows (client_account_id, engagement_id, master_flow_id)
         VALUES ('00000000-0000-0000-0000-00000000000b', '00000000-0000-0000-0000-0000000000eb',
                 '00000000-0000-0000-0000-0000000000fa')",
    )
    .execute(&mut *conn)
    .await
    .expect_err("cross-tenant master flow");
    assert_eq!(constraint_of(&error), Some("discovery_flows_client_account_id_master_flow_id_fkey".into()));
}

#[sqlx::test(migrations = false)]
async fn ranges_are_checked_by_the_database(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    sqlx::raw_sql(
        "INSERT INTO migration.client_accounts (id, name, slug) VALUES ('00000000-0000-0000-0000-00000000000a', 'Acme', 'acme');
         INSERT INTO migration.engagements (id, client_account_id, name, slug) VALUES
             ('00000000-0000-0000-0000-0000000000ea', '00000000-0000-0000-0000-00000000000a', 'Move', 'move');
         INSERT INTO migration.data_imports (id, client_account_id, engagement_id, import_name, filename) VALUES
             ('00000000-0000-0000-0000-0000000000da', '00000000-0000-0000-0000-00000000000a',
              '00000000-0000-0000-0000-0000000000ea', 'CMDB', 'cmdb.csv');",
    )
    .execute(&mut *conn)
    .await
    .expect("rows");
    let cases = [
        (
            "UPDATE migration.data_imports SET progress_percentage = 101",
            "data_imports_progress_percentage_check",
        ),
        (
            "INSERT INTO migration.import_field_mappings (client_account_id, data_import_id, source_field, confidence_score)
             VALUES ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000da', 'Host', 1.5)",
            "import_field_mappings_confidence_score_check",
        ),
        (
            "INSERT INTO migration.assets (client_account_id, engagement_id, name, cpu_utilization_percent)
             VALUES ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000ea', 'db-01', -3)",
            "assets_cpu_utilization_percent_check",
        ),
    ];
    for (statement, constraint) in cases {
        let error = sqlx::raw_sql(statement).execute(&mut *conn).await.expect_err(statement);
        assert_eq!(constraint_of(&error).as_deref(), Some(constraint), "{statement}");
    }
}

fn constraint_of(error: &sqlx::Error) -> Option<String> {
    error.as_database_error().and_then(|e| e.constraint()).map(str::to_owned)
}

/// The asset field table (`modernize::models::asset_fields`) names columns of `migration.assets`
/// of the type its kinds store, and every other column is one an import leaves alone, listed
/// here: a migration that adds, drops, renames or retypes an asset column fails this test until
/// the table (or this list) says what the column is.
#[sqlx::test(migrations = false)]
async fn the_asset_field_table_matches_the_assets_columns(pool: PgPool) {
    use modernize::models::asset_fields::{ASSET_FIELDS, FieldKind};
    const NOT_IMPORTED: [&str; 26] = [
        "id",
        "client_account_id",
        "engagement_id",
        "master_flow_id",
        "discovery_flow_id",
        "data_import_id",
        "raw_import_record_id",
        "migration_wave_id",
        "availability_zone",
        "status",
        "six_r_strategy",
        "migration_complexity",
        "sixr_ready",
        "disk_iops",
        "network_throughput_mbps",
        "current_monthly_cost",
        "estimated_cloud_cost",
        "discovery_method",
        "discovery_source",
        "discovery_timestamp",
        "dedup_key",
        "identity_keys",
        "created_by",
        "updated_by",
        "created_at",
        "updated_at",
    ];
    let mut conn = common::migrated(&pool).await;
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, CASE WHEN data_type = 'USER-DEFINED' THEN udt_name::text ELSE data_type::text END
         FROM information_schema.columns WHERE table_schema = 'migration' AND table_name = 'assets'
         ORDER BY ordinal_position",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("columns");
    let mut unlisted = Vec::new();
    for (column, sql_type) in &columns {
        match ASSET_FIELDS.iter().find(|f| f.name == column) {
            Some(field) => {
                let stores: &[&str] = match field.kind {
                    FieldKind::Text | FieldKind::Environment | FieldKind::IpAddress | FieldKind::MacAddress => {
                        &["character varying", "text"]
                    }
                    FieldKind::AssetType => &["asset_type"],
                    FieldKind::Criticality => &["criticality_level"],
                    FieldKind::TextList | FieldKind::Attributes => &["jsonb"],
                    FieldKind::Integer { .. } => &["integer"],
                    FieldKind::Gigabytes { .. } | FieldKind::Percent | FieldKind::Score => &["double precision"],
                };
                assert!(stores.contains(&sql_type.as_str()), "{column} is {sql_type}, the table says {:?}", field.kind);
            }
            None if NOT_IMPORTED.contains(&column.as_str()) => {}
            None => unlisted.push(column.as_str()),
        }
    }
    assert_eq!(unlisted, Vec::<&str>::new(), "columns neither in the asset field table nor left alone by imports");
    let missing: Vec<&str> =
        ASSET_FIELDS.iter().map(|f| f.name).filter(|name| !columns.iter().any(|(c, _)| c == name)).collect();
    assert_eq!(missing, Vec::<&str>::new(), "asset fields without a column");
    let gone: Vec<&str> = NOT_IMPORTED.into_iter().filter(|name| !columns.iter().any(|(c, _)| c == name)).collect();
    assert_eq!(gone, Vec::<&str>::new(), "listed columns that no longer exist");
}

/// An asset written outside an import (by hand, a consolidation, a COPY) is known by the keys of
/// its serial number, FQDN and hostname and by its VM UUID identity, besides the keys it keeps
/// (migration 0015's `asset_identity_keys`): what a later import matches it on.
#[sqlx::test(migrations = false)]
async fn every_asset_is_known_by_the_keys_of_its_columns(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    sqlx::raw_sql(
        "INSERT INTO migration.client_accounts (id, name, slug) VALUES ('00000000-0000-0000-0000-00000000000a', 'Acme', 'acme');
         INSERT INTO migration.engagements (id, client_account_id, name, slug) VALUES
             ('00000000-0000-0000-0000-0000000000ea', '00000000-0000-0000-0000-00000000000a', 'Move', 'move');
         INSERT INTO migration.assets (client_account_id, engagement_id, name, hostname, fqdn, serial_number, dedup_key)
         VALUES ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000ea', 'Web', ' WEB-01 ',
                 'Web-01.Example', 'SN-1', 'uuid:vc/1'),
                ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-0000000000ea', 'Db', NULL, NULL, '',
                 'name:db');
         UPDATE migration.assets SET identity_keys = '{host:web-00}' WHERE name = 'Web';",
    )
    .execute(&mut *conn)
    .await
    .expect("rows");
    let keys: Vec<(String, Vec<String>)> = sqlx::query_as(
        "SELECT name::text, migration.asset_identity_keys(identity_keys, dedup_key, serial_number, fqdn, hostname)::text[]
         FROM migration.assets ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("keys");
    assert_eq!(
        keys,
        [
            ("Db".to_owned(), vec![]),
            (
                "Web".to_owned(),
                ["fqdn:web-01.example", "host:web-00", "host:web-01", "serial:sn-1", "uuid:vc/1"]
                    .map(String::from)
                    .to_vec()
            ),
        ]
    );
}

/// 0007's backfill anti-joins the assets with themselves on `dedup_key` before that column has an
/// index or statistics. Planned as a nested loop (or, nested loops off, as a merge join on the
/// tenant alone) it walks the engagement's assets once for every asset: quadratic, the stall of a
/// consolidation's upgrade at 100,000 assets. With the settings the runner applies to it
/// (`Migration::up_settings`) every join is a hash join. Plans, not times, asserted on 20,000
/// analysed assets of 5 tenants: the size at which PostgreSQL 15 plans both quadratic shapes.
#[sqlx::test(migrations = false)]
async fn the_asset_identity_backfill_does_not_walk_the_engagement_per_asset(pool: PgPool) {
    let mut conn = pool.acquire().await.expect("connection");
    migrate::upgrade(&mut conn, Some(6)).await.expect("upgrade to 6");
    sqlx::raw_sql(
        "INSERT INTO migration.client_accounts (id, name, slug)
         SELECT md5('tenant' || t)::uuid, 'Tenant ' || t, 'tenant-' || t FROM generate_series(0, 4) t;
         INSERT INTO migration.engagements (id, client_account_id, name, slug)
         SELECT md5('engagement' || t)::uuid, md5('tenant' || t)::uuid, 'Move', 'move' FROM generate_series(0, 4) t;
         INSERT INTO migration.assets (client_account_id, engagement_id, name, hostname)
         SELECT md5('tenant' || n % 5)::uuid, md5('engagement' || n % 5)::uuid, 'vm-' || n, 'vm-' || n
         FROM generate_series(1, 20000) n;
         ANALYZE migration.assets;",
    )
    .execute(&mut *conn)
    .await
    .expect("assets");
    let identity = migrate::MIGRATIONS.iter().find(|m| m.version == 7).expect("0007");
    let statements = migrate::split_statements(identity.up_sql());
    let backfill = statements.iter().position(|s| s.starts_with("UPDATE migration.assets")).expect("the backfill");
    for statement in &statements[..backfill] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement.clone()))
            .execute(&mut *conn)
            .await
            .expect("0007 up to its backfill");
    }
    let explain = format!("EXPLAIN {}", statements[backfill].trim_end_matches(';'));
    let mut plans = Vec::new();
    for settings in [&[][..], identity.up_settings()] {
        let mut tx = conn.begin().await.expect("transaction");
        for (name, value) in settings {
            sqlx::query("SELECT set_config($1, $2, true)").bind(name).bind(value).execute(&mut *tx).await.expect("set");
        }
        let lines: Vec<String> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(explain.clone())).fetch_all(&mut *tx).await.expect("explain");
        plans.push(lines.join("\n"));
    }
    // The cause, as PostgreSQL 15 plans it without the settings (should a later planner get it
    // right by itself, the settings can go).
    assert!(plans[0].contains("Nested Loop Anti Join"), "{}", plans[0]);
    assert!(plans[1].contains("Hash Anti Join"), "{}", plans[1]);
    assert!(!plans[1].contains("Nested Loop") && !plans[1].contains("Merge"), "{}", plans[1]);
}
