//! The consolidation benchmark of docs/benchmarks.md (a benchmark, not a timed test):
//!
//! ```sh
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/consolidation_bench \
//!     cargo run --release -p modernize-consolidation --example benchmark -- 1000000
//! ```
//!
//! Seeds a legacy database with N v3 rows (replacing the database's schemas), then runs
//! `consolidate` once with a backup, as the CLI does, and prints the duration of each phase from
//! its report. The floor is task 1.3's own bare `INSERT … SELECT … WHERE NOT EXISTS` of the same v3
//! rows into the same tables, measured in the same run on the identical database re-seeded and
//! migrated (the v3 rows are deleted, inserted bare, and the transaction rolled back).

use std::time::Instant;

use modernize::db::Database;
use modernize_consolidation::backup::{self, BackupPlan};
use modernize_consolidation::legacy::{self, SeedOptions};
use modernize_consolidation::{Options, PgTools, Progress, consolidate, migrate};
use sqlx::Connection;

/// Task 1.3's statements (and the same for v3_raw_import_records, which it forgot).
const FLOOR: [&str; 4] = [
    "INSERT INTO migration.data_imports (id, client_account_id, engagement_id, master_flow_id, filename, file_size,
         mime_type, source_system, status, import_name, import_type, description, error_message, error_details,
         progress_percentage, total_records, processed_records, failed_records, imported_by, created_at, updated_at,
         started_at, completed_at)
     SELECT id, client_account_id, engagement_id, master_flow_id, source_filename, file_size_bytes, file_type,
         source_system, status::migration.import_status, import_name, import_type::migration.import_type, description,
         error_message, error_details, progress_percentage, total_records, processed_records, failed_records, user_id,
         created_at, updated_at, started_at, completed_at
     FROM migration_legacy.v3_data_imports v
     WHERE NOT EXISTS (SELECT 1 FROM migration.data_imports d WHERE d.client_account_id = v.client_account_id AND d.id = v.id)",
    "INSERT INTO migration.discovery_flows (id, flow_id, master_flow_id, client_account_id, engagement_id, data_import_id,
         user_id, status, progress_percentage, flow_type, current_phase, phases_completed, flow_state, error_message,
         error_phase, error_details, created_at, updated_at, started_at, completed_at)
     SELECT id, flow_id, master_flow_id, client_account_id, engagement_id, data_import_id, user_id,
         status::migration.flow_status, progress_percentage, flow_type, current_phase::migration.discovery_phase,
         ARRAY(SELECT jsonb_array_elements_text(phases_completed))::migration.discovery_phase[], flow_state,
         error_message, error_phase::migration.discovery_phase, error_details, created_at, updated_at, started_at,
         completed_at
     FROM migration_legacy.v3_discovery_flows v
     WHERE NOT EXISTS (SELECT 1 FROM migration.discovery_flows d WHERE d.client_account_id = v.client_account_id AND d.id = v.id)",
    "INSERT INTO migration.raw_import_records (id, client_account_id, engagement_id, data_import_id, master_flow_id,
         row_number, raw_data, cleansed_data, is_valid, validation_errors, is_processed, asset_id, created_at, processed_at)
     SELECT id, client_account_id, engagement_id, data_import_id, master_flow_id, row_number, raw_data, cleansed_data,
         is_valid, validation_errors, is_processed, asset_id, created_at, processed_at
     FROM migration_legacy.v3_raw_import_records v
     WHERE NOT EXISTS (SELECT 1 FROM migration.raw_import_records r WHERE r.client_account_id = v.client_account_id AND r.id = v.id)",
    "INSERT INTO migration.import_field_mappings (id, data_import_id, client_account_id, master_flow_id, source_field,
         target_field, match_type, confidence_score, status, suggested_by, approved_by, approved_at,
         transformation_rules, is_validated, created_at, updated_at)
     SELECT id, data_import_id, client_account_id, master_flow_id, source_field, target_field, mapping_type,
         confidence_score, (CASE WHEN is_approved THEN 'approved' WHEN is_rejected THEN 'rejected' ELSE 'suggested' END)
             ::migration.mapping_status,
         ai_model_version, approved_by, approved_at, transformation_logic, is_validated, created_at, updated_at
     FROM migration_legacy.v3_field_mappings v
     WHERE NOT EXISTS (SELECT 1 FROM migration.import_field_mappings m WHERE m.client_account_id = v.client_account_id AND m.id = v.id)
       AND NOT EXISTS (SELECT 1 FROM migration.import_field_mappings m WHERE m.client_account_id = v.client_account_id
                       AND m.data_import_id = v.data_import_id AND m.source_field = v.source_field)",
];

/// Removes the rows that came from v3 tables only (not those a legacy original also holds), and the
/// v3 rows the is_mock policy archived (bare inserts would trip on their missing parents).
const UNDO_V3: &str = "
    DELETE FROM migration_legacy.v3_raw_import_records v WHERE NOT EXISTS (
        SELECT 1 FROM migration.data_imports d WHERE d.client_account_id = v.client_account_id AND d.id = v.data_import_id);
    DELETE FROM migration.import_field_mappings t USING migration_legacy.v3_field_mappings v
     WHERE t.client_account_id = v.client_account_id AND t.id = v.id
       AND NOT EXISTS (SELECT 1 FROM migration_legacy.import_field_mappings l WHERE l.id = v.id);
    DELETE FROM migration.raw_import_records t USING migration_legacy.v3_raw_import_records v
     WHERE t.client_account_id = v.client_account_id AND t.id = v.id
       AND NOT EXISTS (SELECT 1 FROM migration_legacy.raw_import_records l WHERE l.id = v.id);
    DELETE FROM migration.discovery_flows t USING migration_legacy.v3_discovery_flows v
     WHERE t.client_account_id = v.client_account_id AND t.id = v.id;
    DELETE FROM migration.data_imports t USING migration_legacy.v3_data_imports v
     WHERE t.client_account_id = v.client_account_id AND t.id = v.id
       AND NOT EXISTS (SELECT 1 FROM migration_legacy.data_imports l WHERE l.id = v.id);";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows: u64 = std::env::args().nth(1).map(|a| a.parse()).transpose()?.unwrap_or(1_000_000);
    let url = std::env::var("DATABASE_URL")?;
    let database = Database::from_url(&url)?;
    database.create_if_missing().await?;
    let mut conn = database.connect().await?;
    let progress = Progress::hidden();
    let timed = |name: &str, ms: u128| println!("{name:<44} {ms:>8} ms");
    println!("load average at start: {}", load_average());

    let started = Instant::now();
    let seeded = legacy::seed(&mut conn, SeedOptions { tenants: 10, v3_rows: rows, seed: 1, replace: true }).await?;
    timed(&format!("seed ({} rows)", seeded.total_rows), started.elapsed().as_millis());

    // The whole run exactly as `modernize consolidate --backup-dir DIR` does it: one call, each
    // phase once, the per-phase timings taken from the report.
    let dir = std::env::temp_dir().join(format!("modernize-bench-backup-{}", std::process::id()));
    let tools = PgTools::new(database.options().clone(), backup::url_password(&url));
    let options = Options { backup: Some(BackupPlan { tools, dir: dir.clone() }), ..Options::default() };
    let started = Instant::now();
    let report = consolidate(&mut conn, &options, &progress).await?;
    let whole = started.elapsed().as_millis();
    tokio::fs::remove_dir_all(&dir).await?;
    assert!(report.verification.as_ref().is_some_and(|v| v.passed), "verification failed");
    for phase in &report.phases {
        timed(phase.phase, u128::try_from(phase.ms).unwrap_or(0));
        if let Some(backup) = report.backup.as_ref().filter(|_| phase.phase == "backup") {
            timed("  of which dumps + manifest", u128::try_from(backup.dump_ms).unwrap_or(0));
            timed("  of which restore + compare", u128::try_from(backup.restore_check_ms).unwrap_or(0));
        }
    }
    timed("whole run (analyze .. upgrade)", whole);
    let migrate_ms = report.phase_ms("migrate").unwrap_or(0);
    let verify_ms = report.phase_ms("verify").unwrap_or(0);
    println!("load average after the run: {}", load_average());

    // The floor: the same legacy database re-seeded and migrated, its v3 rows taken out again, then
    // inserted bare and rolled back.
    legacy::seed(&mut conn, SeedOptions { tenants: 10, v3_rows: rows, seed: 1, replace: true }).await?;
    migrate::migrate(&mut conn, &progress).await?;
    let mut tx = conn.begin().await?;
    sqlx::raw_sql(UNDO_V3).execute(&mut *tx).await?;
    sqlx::raw_sql("ANALYZE migration.raw_import_records").execute(&mut *tx).await?;
    let started = Instant::now();
    for statement in FLOOR {
        sqlx::raw_sql(statement).execute(&mut *tx).await?;
    }
    let floor_ms = started.elapsed().as_millis();
    timed("floor: bare INSERT … SELECT of the v3 rows", floor_ms);
    tx.rollback().await?;

    println!();
    println!("migrate / floor = {:.2}", migrate_ms as f64 / floor_ms.max(1) as f64);
    println!("verify / migrate = {:.2}", verify_ms as f64 / migrate_ms.max(1) as f64);
    println!("whole run = {:.1} s", whole as f64 / 1000.0);
    println!("load average at the end: {}", load_average());
    Ok(())
}

/// The 1, 5 and 15 minute load averages (the machine is shared: figures depend on them).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}
