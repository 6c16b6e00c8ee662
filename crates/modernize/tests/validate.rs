//! `db validate` against deliberately broken databases: each must fail for its own reason only.

mod common;

use modernize::db::validate::{self, ValidationReport};
use pretty_assertions::assert_eq;
use sqlx::PgPool;

/// The failing checks and their messages.
fn failing(report: &ValidationReport) -> Vec<(&'static str, Vec<String>)> {
    report.checks.iter().filter(|c| !c.passed).map(|c| (c.name, c.failures.clone())).collect()
}

async fn validate_after(pool: &PgPool, breakage: &str) -> ValidationReport {
    let mut conn = common::migrated(pool).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(breakage.to_owned())).execute(&mut *conn).await.expect("break the schema");
    let report = validate::validate(&mut conn).await.expect("validate");
    assert!(!report.passed);
    report
}

#[sqlx::test(migrations = false)]
async fn the_report_counts_indexes_and_foreign_keys_per_table(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let report = validate::validate(&mut conn).await.expect("validate");
    assert!(report.passed);
    assert_eq!(report.tables.len(), 43);
    let assets = report.tables.iter().find(|t| t.table == "assets").expect("assets in the report");
    assert_eq!(assets.foreign_keys, 8);
    assert!(assets.indexes >= 16, "assets has {} indexes", assets.indexes);
}

#[sqlx::test(migrations = false)]
async fn a_stray_v3_table_fails(pool: PgPool) {
    let report = validate_after(&pool, "CREATE TABLE migration.v3_data_imports (id uuid PRIMARY KEY)").await;
    assert_eq!(
        failing(&report),
        [
            ("no_v3_tables", vec!["v3 table still present: migration.v3_data_imports".to_owned()]),
            (
                "exact_table_set",
                vec![
                    "expected exactly 43 tables in schema migration, found 44".to_owned(),
                    "unexpected table: migration.v3_data_imports".to_owned()
                ]
            ),
        ]
    );
}

#[sqlx::test(migrations = false)]
async fn a_v3_table_in_another_schema_fails(pool: PgPool) {
    let report = validate_after(&pool, "CREATE TABLE public.v3_field_mappings (id uuid)").await;
    assert_eq!(
        failing(&report),
        [("no_v3_tables", vec!["v3 table still present: public.v3_field_mappings".to_owned()])]
    );
}

#[sqlx::test(migrations = false)]
async fn an_is_mock_column_fails(pool: PgPool) {
    let report = validate_after(&pool, "ALTER TABLE migration.assets ADD COLUMN is_mock boolean DEFAULT false").await;
    assert_eq!(
        failing(&report),
        [("no_is_mock_columns", vec!["is_mock column still present: migration.assets.is_mock".to_owned()])]
    );
}

#[sqlx::test(migrations = false)]
async fn a_missing_master_flow_id_fails(pool: PgPool) {
    let report = validate_after(&pool, "ALTER TABLE migration.data_imports DROP COLUMN master_flow_id CASCADE").await;
    assert_eq!(
        failing(&report),
        [("master_flow_id_columns", vec!["master_flow_id column missing from migration.data_imports".to_owned()])]
    );
}

#[sqlx::test(migrations = false)]
async fn a_master_flow_id_without_its_foreign_key_fails(pool: PgPool) {
    let report = validate_after(
        &pool,
        "ALTER TABLE migration.assets DROP CONSTRAINT assets_client_account_id_master_flow_id_fkey",
    )
    .await;
    assert_eq!(
        failing(&report),
        [(
            "master_flow_id_columns",
            vec!["migration.assets.master_flow_id does not reference crewai_flow_state_extensions".to_owned()]
        )]
    );
}

#[sqlx::test(migrations = false)]
async fn a_foreign_key_without_an_index_fails(pool: PgPool) {
    let report = validate_after(&pool, "DROP INDEX migration.ix_assets_created_by").await;
    assert_eq!(
        failing(&report),
        [(
            "foreign_keys_indexed",
            vec![
                "foreign key assets_created_by_fkey on migration.assets (created_by) is not backed by an index"
                    .to_owned()
            ]
        )]
    );
}

#[sqlx::test(migrations = false)]
async fn a_tenant_table_without_a_tenant_index_fails(pool: PgPool) {
    // Rebuild tags' primary key without the tenant column (and drop what depended on it).
    let report = validate_after(
        &pool,
        "ALTER TABLE migration.asset_tags DROP CONSTRAINT asset_tags_client_account_id_tag_id_fkey;
         ALTER TABLE migration.tags DROP CONSTRAINT tags_client_account_id_name_key;
         ALTER TABLE migration.tags DROP CONSTRAINT tags_pkey;
         ALTER TABLE migration.tags ADD CONSTRAINT tags_pkey PRIMARY KEY (id);",
    )
    .await;
    assert_eq!(
        failing(&report),
        [
            ("tenant_key_indexed", vec!["migration.tags has no index leading with client_account_id".to_owned()]),
            (
                "foreign_keys_indexed",
                vec![
            "foreign key tags_client_account_id_fkey on migration.tags (client_account_id) is not backed by an index"
                .to_owned()
        ]
            ),
        ]
    );
}

#[sqlx::test(migrations = false)]
async fn a_deprecated_table_fails(pool: PgPool) {
    let report = validate_after(&pool, "CREATE TABLE migration.workflow_states (id serial PRIMARY KEY)").await;
    assert_eq!(
        failing(&report),
        [
            ("removed_tables_absent", vec!["deprecated table still present: migration.workflow_states".to_owned()]),
            (
                "exact_table_set",
                vec![
                    "expected exactly 43 tables in schema migration, found 44".to_owned(),
                    "unexpected table: migration.workflow_states".to_owned()
                ]
            ),
        ]
    );
}

#[sqlx::test(migrations = false)]
async fn a_missing_table_fails(pool: PgPool) {
    let report = validate_after(&pool, "DROP TABLE migration.wave_plans").await;
    assert_eq!(
        failing(&report),
        [(
            "exact_table_set",
            vec![
                "expected exactly 43 tables in schema migration, found 42".to_owned(),
                "missing table: migration.wave_plans".to_owned()
            ]
        )]
    );
}

#[sqlx::test(migrations = false)]
async fn a_missing_required_table_is_named(pool: PgPool) {
    let report = validate_after(&pool, "DROP TABLE migration.import_field_mappings").await;
    let failures = failing(&report);
    assert_eq!(
        failures[0],
        ("required_tables_present", vec!["required table missing: migration.import_field_mappings".to_owned()])
    );
}

#[sqlx::test(migrations = false)]
async fn an_empty_database_fails_every_structural_check(pool: PgPool) {
    let mut conn = pool.acquire().await.expect("connection");
    let report = validate::validate(&mut conn).await.expect("validate");
    assert_eq!(report.total_tables, 0);
    let names: Vec<_> = failing(&report).into_iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["required_tables_present", "exact_table_set"]);
}
