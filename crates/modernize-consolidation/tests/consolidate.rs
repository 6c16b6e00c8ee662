//! Consolidation against real PostgreSQL: each test gets a fresh database from `#[sqlx::test]`,
//! seeds a legacy database with `legacy::seed` and consolidates it with the real migration runner.

use std::time::Duration;

use modernize::db::{catalog::Catalog, migrate, quote_identifier, validate};
use modernize_consolidation::legacy::{self, SeedOptions};
use modernize_consolidation::{ConsolidationError, Options, Progress, State, consolidate, detect_state, verify};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

const SEED: u64 = 7;

async fn seeded(pool: &PgPool, rows: u64) -> PgConnection {
    let mut conn = pool.connect_options().connect().await.expect("connection");
    legacy::seed(&mut conn, SeedOptions { tenants: 3, v3_rows: rows, seed: SEED, replace: false }).await.expect("seed");
    conn
}

async fn run(conn: &mut PgConnection) -> Result<modernize_consolidation::Report, ConsolidationError> {
    consolidate(conn, &Options::default(), &Progress::hidden()).await
}

async fn scalar<T>(conn: &mut PgConnection, sql: &'static str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    sqlx::query_scalar(sql).fetch_one(conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The catalog of schema `migration` in a database migrated from scratch.
async fn fresh_catalog(pool: &PgPool) -> Catalog {
    // Test database names use all 63 bytes PostgreSQL allows: a suffix would be cut off.
    let test_database = pool.connect_options().get_database().expect("database name").to_owned();
    let name = format!("fresh_{}", &test_database[test_database.len().saturating_sub(20)..]);
    let mut admin = pool.acquire().await.expect("connection");
    let quoted = quote_identifier(&name);
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {quoted}")))
        .execute(&mut *admin)
        .await
        .expect("drop");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {quoted}"))).execute(&mut *admin).await.expect("create");
    let mut fresh = pool.connect_options().as_ref().clone().database(&name).connect().await.expect("fresh connection");
    migrate::upgrade(&mut fresh, None).await.expect("migrations apply");
    let catalog = Catalog::snapshot(&mut fresh, "migration").await.expect("snapshot");
    fresh.close().await.expect("close");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE {quoted}"))).execute(&mut *admin).await.expect("drop");
    catalog
}

#[sqlx::test(migrations = false)]
async fn a_legacy_database_consolidates_into_a_freshly_migrated_catalog(pool: PgPool) {
    let mut conn = seeded(&pool, 2_000).await;
    assert_eq!(detect_state(&mut conn).await.expect("state"), State::Legacy);
    let report = run(&mut conn).await.expect("consolidate");
    assert!(report.verification.as_ref().is_some_and(|v| v.passed), "{report}");
    assert_eq!(detect_state(&mut conn).await.expect("state"), State::Consolidated);
    assert!(migrate::status(&mut conn).await.expect("status").is_current());
    let validation = validate::validate(&mut conn).await.expect("validate");
    assert!(validation.passed, "{validation:?}");
    let consolidated = Catalog::snapshot(&mut conn, "migration").await.expect("snapshot");
    let diff = consolidated.diff(&fresh_catalog(&pool).await);
    assert!(diff.is_empty(), "catalog differs from a fresh database:\n{}", diff.join("\n"));
    let legacy_left: i64 =
        scalar(&mut conn, "SELECT count(*) FROM pg_namespace WHERE nspname = 'migration_legacy'").await;
    assert_eq!(legacy_left, 0);
}

#[sqlx::test(migrations = false)]
async fn a_second_run_on_a_consolidated_database_changes_nothing(pool: PgPool) {
    let mut conn = seeded(&pool, 500).await;
    run(&mut conn).await.expect("first run");
    let before = Catalog::snapshot(&mut conn, "migration").await.expect("snapshot");
    let rows: i64 = scalar(&mut conn, "SELECT count(*) FROM migration.raw_import_records").await;
    let archive: i64 = scalar(&mut conn, "SELECT count(*) FROM modernize.consolidation_archive").await;
    let report = run(&mut conn).await.expect("second run");
    assert_eq!(report.initial_state, State::Consolidated);
    assert!(report.migration.is_none() && report.verification.is_none() && report.upgraded.is_empty());
    assert_eq!(Catalog::snapshot(&mut conn, "migration").await.expect("snapshot"), before);
    assert_eq!(scalar::<i64>(&mut conn, "SELECT count(*) FROM migration.raw_import_records").await, rows);
    assert_eq!(scalar::<i64>(&mut conn, "SELECT count(*) FROM modernize.consolidation_archive").await, archive);
}

#[sqlx::test(migrations = false)]
async fn every_hard_case_lands_where_the_policy_says(pool: PgPool) {
    let mut conn = seeded(&pool, 500).await;
    let report = run(&mut conn).await.expect("consolidate");
    assert!(report.verification.as_ref().is_some_and(|v| v.passed), "{report}");
    let checks: [(&str, &str); 14] = [
        // A v3 row identical to the consolidated one: one row, no conflict.
        ("identical v3 duplicate kept once",
         "SELECT count(*) = 1 FROM migration.data_imports WHERE id = md5('7:imp:1')::uuid"),
        ("identical v3 duplicate is no conflict",
         "SELECT NOT EXISTS (SELECT 1 FROM modernize.consolidation_archive
                             WHERE reason = 'conflict' AND row_key = jsonb_build_object('id', md5('7:imp:1')::uuid))"),
        // Same id, other content: the consolidated row stays, the v3 row is archived verbatim.
        ("conflicting v3 row archived verbatim",
         "SELECT row_data ->> 'source_filename' = 'renamed_in_v3.csv' FROM modernize.consolidation_archive
          WHERE reason = 'conflict' AND source_table = 'v3_data_imports'
            AND row_key = jsonb_build_object('id', md5('7:imp:2')::uuid)"),
        ("conflicting v3 row does not overwrite",
         "SELECT filename <> 'renamed_in_v3.csv' FROM migration.data_imports WHERE id = md5('7:imp:2')::uuid"),
        ("a v3 mapping taking another mapping's unique key is archived",
         "SELECT count(*) = 1 FROM modernize.consolidation_archive
          WHERE reason = 'conflict' AND row_key = jsonb_build_object('id', md5('7:v3map:taken')::uuid)"),
        ("NULL in every nullable column survives",
         "SELECT num_nulls(master_flow_id, description, file_size, mime_type, source_system, error_message,
                           error_details, imported_by, started_at, completed_at) = 10
          FROM migration.data_imports WHERE id = md5('7:imp:nulls')::uuid"),
        ("non-ASCII text survives",
         "SELECT import_name = 'Inventaire serveurs – 東京 🚀' AND filename = 'données_été_2024.xlsx'
          FROM migration.data_imports WHERE id = md5('7:imp:unicode')::uuid"),
        ("large JSONB survives",
         "SELECT (SELECT count(*) FROM jsonb_object_keys(raw_data)) = 20000 FROM migration.raw_import_records
          WHERE id = md5('7:v3raw:nulls')::uuid"),
        ("approved and rejected at once goes back to review",
         "SELECT bool_and(m.status = 'suggested') AND count(*) > 0 FROM migration.import_field_mappings m
          JOIN modernize.consolidation_archive a ON a.reason = 'dropped_values' AND a.source_table = 'v3_field_mappings'
           AND a.row_key = jsonb_build_object('id', m.id)
           AND a.row_data = '{\"is_approved\": true, \"is_rejected\": true}'"),
        ("the mock tenant is archived, not deleted",
         "SELECT NOT EXISTS (SELECT 1 FROM migration.client_accounts WHERE slug = 'demo-mock')
             AND EXISTS (SELECT 1 FROM modernize.consolidation_archive
                         WHERE reason = 'is_mock' AND row_data ->> 'slug' = 'demo-mock')"),
        ("records of a real tenant's mock import follow it into the archive",
         "SELECT count(*) = 3 FROM modernize.consolidation_archive
          WHERE reason = 'mock_dependent' AND target_table = 'raw_import_records'
            AND row_data ->> 'data_import_id' = md5('7:imp:mock1')::uuid::text"),
        ("never-promoted discovery assets are archived",
         "SELECT count(*) > 0 FROM modernize.consolidation_archive
          WHERE reason = 'deprecated' AND source_table = 'discovery_assets' AND row_data -> 'promoted_asset_id' = 'null'"),
        ("memory in MB becomes GB",
         "SELECT memory_gb = (1000 * 1 + 1 % 7) / 1024.0 FROM migration.assets WHERE id = md5('7:asset:1:1')::uuid"),
        ("dropped columns are archived",
         "SELECT row_data ? 'file_hash' AND row_data ? 'import_config' FROM modernize.consolidation_archive
          WHERE reason = 'dropped_values' AND source_table = 'data_imports'
            AND row_key = jsonb_build_object('id', md5('7:imp:1')::uuid)"),
    ];
    for (case, sql) in checks {
        let holds: Option<bool> =
            sqlx::query_scalar(sql).fetch_optional(&mut conn).await.unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(holds, Some(true), "{case}");
    }
}

#[sqlx::test(migrations = false)]
async fn a_dry_run_reports_counts_and_changes_nothing(pool: PgPool) {
    let mut conn = seeded(&pool, 500).await;
    let before = Catalog::snapshot(&mut conn, "migration").await.expect("snapshot");
    let options = Options { dry_run: true, ..Options::default() };
    let report = consolidate(&mut conn, &options, &Progress::hidden()).await.expect("dry run");
    let moved: i64 = report.migration.as_ref().expect("counts").buckets.iter().map(|b| b.inserted).sum();
    assert!(moved > 400, "{report}");
    assert_eq!(detect_state(&mut conn).await.expect("state"), State::Legacy);
    assert_eq!(Catalog::snapshot(&mut conn, "migration").await.expect("snapshot"), before);
    let bookkeeping: bool =
        scalar(&mut conn, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'modernize')").await;
    assert!(!bookkeeping);
}

#[sqlx::test(migrations = false)]
async fn a_database_with_only_some_v3_tables_consolidates(pool: PgPool) {
    let mut conn = seeded(&pool, 500).await;
    sqlx::raw_sql(
        "DROP TABLE migration.v3_raw_import_records, migration.v3_discovery_flows, migration.workflow_states",
    )
    .execute(&mut conn)
    .await
    .expect("drop some legacy tables");
    let report = run(&mut conn).await.expect("consolidate");
    let verification = report.verification.as_ref().expect("verified");
    assert!(verification.passed, "{report}");
    assert!(!verification.buckets.iter().any(|b| b.source.starts_with("v3_raw") || b.source == "v3_discovery_flows"));
    assert!(validate::validate(&mut conn).await.expect("validate").passed);
}

#[sqlx::test(migrations = false)]
async fn a_lost_row_fails_verification_and_keeps_the_legacy_schema(pool: PgPool) {
    let mut conn = seeded(&pool, 500).await;
    modernize_consolidation::migrate::migrate(&mut conn, &Progress::hidden()).await.expect("migrate");
    assert_eq!(detect_state(&mut conn).await.expect("state"), State::Migrated);
    // Lose one moved v3 row, alter another and fill a third's NULL: verify must name the three keys.
    sqlx::raw_sql(
        "DELETE FROM migration.raw_import_records WHERE id = md5('7:v3raw:5')::uuid;
         UPDATE migration.raw_import_records SET raw_data = raw_data || '{\"os\": \"tampered\"}'
         WHERE id = md5('7:v3raw:6')::uuid;
         UPDATE migration.raw_import_records SET cleansed_data = '{}' WHERE id = md5('7:v3raw:7')::uuid;",
    )
    .execute(&mut conn)
    .await
    .expect("tamper");
    let verification = verify::verify(&mut conn, &Progress::hidden()).await.expect("verify runs");
    assert!(!verification.passed);
    let bucket = verification.buckets.iter().find(|b| b.source == "v3_raw_import_records").expect("bucket");
    assert_eq!(bucket.unaccounted, 3);
    let problems: Vec<String> = bucket.differences.iter().map(|d| format!("{} {}", d.problem, d.key["id"])).collect();
    let lost: String = scalar(&mut conn, "SELECT md5('7:v3raw:5')::uuid::text").await;
    let altered: String = scalar(&mut conn, "SELECT md5('7:v3raw:6')::uuid::text").await;
    assert!(problems.contains(&format!("absent \"{lost}\"")), "{problems:?}");
    assert!(problems.contains(&format!("differs \"{altered}\"")), "{problems:?}");
    let filled: String = scalar(&mut conn, "SELECT md5('7:v3raw:7')::uuid::text").await;
    assert!(problems.contains(&format!("differs \"{filled}\"")), "{problems:?}");
    // The orchestrator refuses to drop anything.
    let error = run(&mut conn).await.expect_err("verification fails");
    assert!(matches!(&error, ConsolidationError::VerificationFailed(v) if v.unaccounted() == 3), "{error}");
    assert_eq!(detect_state(&mut conn).await.expect("state"), State::Migrated);
}

#[sqlx::test(migrations = false)]
async fn a_migrate_killed_midway_leaves_the_legacy_database_and_a_rerun_completes(pool: PgPool) {
    let mut conn = seeded(&pool, 30_000).await;
    let pid: i32 = scalar(&mut conn, "SELECT pg_backend_pid()").await;
    let migrating = tokio::spawn(async move { run(&mut conn).await });
    // Kill the migrating backend while it moves rows (as a crash or kill -9 of the client would).
    let mut watcher = pool.acquire().await.expect("connection");
    let mut killed = false;
    for _ in 0..400 {
        let moving: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE 'INSERT INTO migration.%')",
        )
        .bind(pid)
        .fetch_one(&mut *watcher)
        .await
        .expect("activity");
        if moving {
            killed = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
                .bind(pid)
                .fetch_one(&mut *watcher)
                .await
                .expect("terminate");
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(killed, "caught the migration moving rows");
    assert!(migrating.await.expect("task").is_err(), "the killed run fails");
    let mut conn = pool.connect_options().connect().await.expect("connection");
    assert_eq!(detect_state(&mut conn).await.expect("state"), State::Legacy);
    let v3: i64 = scalar(&mut conn, "SELECT count(*) FROM migration.v3_raw_import_records").await;
    assert!(v3 > 25_000);
    let report = run(&mut conn).await.expect("re-run");
    assert!(report.verification.as_ref().is_some_and(|v| v.passed), "{report}");
    assert!(validate::validate(&mut conn).await.expect("validate").passed);
}

#[sqlx::test(migrations = false)]
async fn a_bulk_loaded_row_referencing_nothing_fails_the_migration_and_changes_nothing(pool: PgPool) {
    let mut conn = seeded(&pool, 2_000).await;
    // raw_import_records receives enough rows to be loaded with its foreign keys set aside: the key
    // this record breaks must be checked all the same when it is re-created.
    sqlx::raw_sql(
        "INSERT INTO migration.v3_raw_import_records (id, client_account_id, engagement_id, data_import_id, row_number,
                                                      raw_data)
         SELECT md5('dangling')::uuid, client_account_id, engagement_id, md5('no such import')::uuid, 1, '{}'
         FROM migration.v3_raw_import_records LIMIT 1",
    )
    .execute(&mut conn)
    .await
    .expect("a record of an import that does not exist");
    let error = run(&mut conn).await.expect_err("the dangling reference is refused");
    let ConsolidationError::Refused(refusals) = &error else { panic!("{error}") };
    let dangling: String = scalar(&mut conn, "SELECT md5('dangling')::uuid::text").await;
    assert!(
        refusals
            .iter()
            .any(|r| r.legacy_table == "v3_raw_import_records" && r.examples[0].key["id"] == dangling.as_str()),
        "{error}"
    );
    assert!(error.to_string().contains("raw_import_records_client_account_id_data_import_id_fkey"), "{error}");
    assert_eq!(detect_state(&mut conn).await.expect("state"), State::Legacy);
    let v3: i64 = scalar(&mut conn, "SELECT count(*) FROM migration.v3_raw_import_records").await;
    assert!(v3 > 1_900);
}

#[sqlx::test(migrations = false)]
async fn a_bulk_loaded_row_taking_another_rows_unique_key_is_archived_as_a_conflict(pool: PgPool) {
    let mut conn = seeded(&pool, 2_000).await;
    // raw_import_records is bulk-loaded without its unique indexes: the rows that would break
    // (client_account_id, data_import_id, row_number) must be refused and archived all the same.
    sqlx::raw_sql(
        "INSERT INTO migration.v3_raw_import_records (id, client_account_id, engagement_id, data_import_id, row_number,
                                                      raw_data)
         SELECT md5('takes a legacy row number')::uuid, client_account_id, engagement_id, data_import_id, row_number,
                '{\"taken\": true}'
         FROM migration.raw_import_records WHERE id = md5('7:raw:1:1')::uuid;
         INSERT INTO migration.v3_raw_import_records (id, client_account_id, engagement_id, data_import_id, row_number,
                                                      raw_data)
         SELECT md5(twin)::uuid, client_account_id, engagement_id, data_import_id, 900000, jsonb_build_object('twin', twin)
         FROM migration.v3_raw_import_records, (VALUES ('twin a'), ('twin b')) v (twin)
         WHERE id = md5('7:v3raw:1')::uuid;",
    )
    .execute(&mut conn)
    .await
    .expect("records taking unique keys");
    let report = run(&mut conn).await.expect("consolidate");
    assert!(report.verification.as_ref().is_some_and(|v| v.passed), "{report}");
    let checks: [(&str, &str); 4] = [
        ("the legacy record keeps its row number",
         "SELECT NOT EXISTS (SELECT 1 FROM migration.raw_import_records WHERE id = md5('takes a legacy row number')::uuid)
             AND EXISTS (SELECT 1 FROM migration.raw_import_records WHERE id = md5('7:raw:1:1')::uuid)"),
        ("the record taking it is archived as a conflict",
         "SELECT count(*) = 1 FROM modernize.consolidation_archive
          WHERE reason = 'conflict' AND source_table = 'v3_raw_import_records'
            AND row_key = jsonb_build_object('id', md5('takes a legacy row number')::uuid)"),
        ("of two records sharing a new row number, the smaller id goes in",
         "SELECT count(*) = 1 AND bool_and(id = least(md5('twin a')::uuid, md5('twin b')::uuid))
          FROM migration.raw_import_records WHERE row_number = 900000"),
        ("the other is archived as a conflict",
         "SELECT count(*) = 1 FROM modernize.consolidation_archive
          WHERE reason = 'conflict' AND source_table = 'v3_raw_import_records'
            AND row_key = jsonb_build_object('id', greatest(md5('twin a')::uuid, md5('twin b')::uuid))"),
    ];
    for (case, sql) in checks {
        let holds: Option<bool> =
            sqlx::query_scalar(sql).fetch_optional(&mut conn).await.unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(holds, Some(true), "{case}");
    }
}

/// Everything a consolidation could change: every relation, type and function outside the system
/// schemas, with the content of every table (ordered text of its rows).
async fn full_snapshot(conn: &mut PgConnection) -> Vec<(String, String)> {
    let objects: Vec<(String, String)> = sqlx::query_as(
        "SELECT n.nspname || '.' || c.relname || ' ' || c.relkind::text, coalesce(pg_get_viewdef(c.oid), '')
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg_temp%'
         UNION ALL
         SELECT 'function ' || p.oid::regprocedure::text, md5(p.prosrc) FROM pg_proc p
         JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
         UNION ALL
         SELECT 'type ' || t.oid::regtype::text, '' FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg_temp%'
         ORDER BY 1",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("catalog");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
           AND n.nspname NOT LIKE 'pg_temp%' ORDER BY 1",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("tables");
    let mut snapshot = objects;
    for table in tables {
        let sql = format!("SELECT coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '') FROM {table} t");
        let content: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&mut *conn).await.expect("rows");
        snapshot.push((format!("rows of {table}"), content));
    }
    snapshot
}

#[sqlx::test(migrations = false)]
async fn a_difference_found_by_verify_rolls_everything_back(pool: PgPool) {
    let mut conn = seeded(&pool, 500).await;
    // Something outside the tool changes a row while it moves (an event trigger puts a row trigger
    // on the new data_imports as migration 0001 creates it): verify sees it before COMMIT.
    sqlx::raw_sql(
        r#"CREATE FUNCTION public.tamper_row() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN NEW.import_name := NEW.import_name || ' (changed)'; RETURN NEW; END $$;
           CREATE FUNCTION public.tamper_on_create() RETURNS event_trigger LANGUAGE plpgsql AS $$
           BEGIN
               IF to_regclass('migration.data_imports') IS NOT NULL AND NOT EXISTS (
                   SELECT 1 FROM pg_trigger WHERE tgname = 'tamper' AND tgrelid = to_regclass('migration.data_imports'))
                  AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('migration.data_imports')
                                                          AND attname = 'filename') THEN
                   CREATE TRIGGER tamper BEFORE INSERT ON migration.data_imports
                       FOR EACH ROW EXECUTE FUNCTION public.tamper_row();
               END IF;
           END $$;
           CREATE EVENT TRIGGER tamper_on_create ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
               EXECUTE FUNCTION public.tamper_on_create();"#,
    )
    .execute(&mut conn)
    .await
    .expect("event trigger");
    let before = full_snapshot(&mut conn).await;
    for dry_run in [true, false] {
        let options = Options { dry_run, ..Options::default() };
        let error = consolidate(&mut conn, &options, &Progress::hidden()).await.expect_err("verification fails");
        let ConsolidationError::VerificationFailed(verification) = &error else { panic!("{error}") };
        let bucket = verification.buckets.iter().find(|b| b.source == "data_imports").expect("bucket");
        assert!(bucket.unaccounted > 0, "{error}");
        let difference = bucket.differences.first().expect("a key");
        assert_eq!(difference.problem, "differs");
        assert!(difference.columns.iter().any(|c| c.column == "import_name"), "{difference:?}");
        assert!(error.to_string().contains("legacy table data_imports: differs {\"id\""), "{error}");
        assert_eq!(detect_state(&mut conn).await.expect("state"), State::Legacy);
        assert_eq!(full_snapshot(&mut conn).await, before, "dry run: {dry_run}");
    }
}

/// The upgrade's 0007 backfills every asset's dedup key: on the assets the migrate phase just
/// loaded (pages full) each new row version lands on a new page, leaving the table twice its size
/// and half of every page dead. The consolidation compacts a table so rewritten: afterwards the
/// live rows fill (nearly) every page of it.
#[sqlx::test(migrations = false)]
async fn a_table_rewritten_by_the_upgrade_is_compacted(pool: PgPool) {
    let mut conn = seeded(&pool, 500).await;
    legacy::add_assets(&mut conn, 5_000).await.expect("assets");
    let report = run(&mut conn).await.expect("consolidate");
    assert!(report.verification.as_ref().is_some_and(|v| v.passed), "{report}");
    assert_eq!(report.compacted, ["assets"]);
    let filled: f64 = scalar(
        &mut conn,
        "SELECT count(DISTINCT (ctid::text::point)[0])::float8
             / (pg_relation_size('migration.assets') / current_setting('block_size')::int)
         FROM migration.assets",
    )
    .await;
    assert!(filled > 0.9, "live rows on {:.0} % of the pages", filled * 100.0);
}
