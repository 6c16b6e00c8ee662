//! The legacy databases of `tests/cases/` (copied from the cases users reported, README there):
//! each applies the legacy schema, `base.sql` and the case to a fresh database, and checks the
//! right result its header states, for the real run and the dry run (which must agree).

use modernize_consolidation::legacy::SCHEMA_SQL;
use modernize_consolidation::{ConsolidationError, Options, Progress, Report, State, consolidate, detect_state};
use sqlx::{ConnectOptions, PgConnection, PgPool};

const BASE: &str = include_str!("cases/base.sql");

async fn case(pool: &PgPool, sql: &'static str) -> PgConnection {
    let mut conn = pool.connect_options().connect().await.expect("connection");
    for part in [SCHEMA_SQL, BASE, sql] {
        sqlx::raw_sql(part).execute(&mut conn).await.expect("the case applies");
    }
    conn
}

async fn run(conn: &mut PgConnection, options: &Options) -> Result<Report, ConsolidationError> {
    consolidate(conn, options, &Progress::hidden()).await
}

/// The dry run, then the real run: both succeed or both fail with the same message.
async fn both(conn: &mut PgConnection, options: Options) -> Result<Report, ConsolidationError> {
    let dry = run(conn, &Options { dry_run: true, ..options.clone() }).await;
    assert_eq!(detect_state(conn).await.expect("state"), State::Legacy, "the dry run changed nothing");
    let real = run(conn, &options).await;
    match (&dry, &real) {
        (Ok(_), Ok(_)) => {}
        (Err(d), Err(r)) => assert_eq!(d.to_string(), r.to_string(), "the dry run fails as the real run"),
        _ => panic!("the dry run ({dry:?}) disagrees with the real run ({real:?})"),
    }
    real
}

async fn holds(conn: &mut PgConnection, checks: &[(&str, &str)]) {
    for (what, sql) in checks {
        let holds: Option<bool> = sqlx::query_scalar(sqlx::AssertSqlSafe(*sql))
            .fetch_optional(&mut *conn)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(holds, Some(true), "{what}");
    }
}

#[sqlx::test(migrations = false)]
async fn case_02_a_lossy_conversion_is_refused_while_planning(pool: PgPool) {
    let mut conn = case(&pool, include_str!("cases/02-wider-legacy-column.sql")).await;
    let error = both(&mut conn, Options::default()).await.expect_err("refused");
    let ConsolidationError::Refused(refusals) = &error else { panic!("{error}") };
    assert_eq!(refusals.len(), 1, "{error}");
    let refusal = &refusals[0];
    assert_eq!((refusal.legacy_table.as_str(), refusal.column.as_deref()), ("data_imports", Some("import_name")));
    assert_eq!(refusal.rows, 1);
    assert_eq!(refusal.examples[0].key["id"], "00000000-0000-4000-8000-0000000001b2");
    let message = error.to_string();
    for part in [
        "data_imports",
        "import_name",
        "00000000-0000-4000-8000-0000000001b2",
        "character varying(255)",
        "260 characters",
    ] {
        assert!(message.contains(part), "{part} in {message}");
    }
    assert!(!message.contains(" at line "), "{message}");
    assert_eq!(detect_state(&mut conn).await.expect("state"), State::Legacy);
}

#[sqlx::test(migrations = false)]
async fn exact_drifted_columns_convert_and_inexact_ones_are_refused_by_row(pool: PgPool) {
    // Columns drifted to wider types; each value either converts back unchanged or is refused.
    let drift = "ALTER TABLE migration.data_imports ALTER COLUMN progress_percentage TYPE numeric,
                                               ALTER COLUMN total_records TYPE bigint,
                                               ALTER COLUMN started_at TYPE timestamp without time zone,
                                               ALTER COLUMN file_size_bytes TYPE text;";
    let exact =
        "INSERT INTO migration.data_imports (id, client_account_id, engagement_id, import_name, source_filename,
                                                     progress_percentage, total_records, started_at, file_size_bytes)
                 VALUES ('00000000-0000-4000-8000-0000000001d1', '00000000-0000-4000-8000-00000000c001',
                         '00000000-0000-4000-8000-00000000e001', 'drift', 'd.csv', 12.5, 42,
                         '2025-03-30 02:30', '4096');";
    let mut conn = case(&pool, Box::leak(format!("{drift}{exact}").into_boxed_str())).await;
    // A timestamp without time zone is read as UTC, whatever the session's zone (02:30 does not
    // exist in Berlin on that day).
    sqlx::raw_sql("SET TimeZone = 'Europe/Berlin'").execute(&mut conn).await.expect("zone");
    let report = both(&mut conn, Options::default()).await.expect("exact conversions consolidate");
    assert!(report.verification.as_ref().is_some_and(|v| v.passed));
    holds(
        &mut conn,
        &[(
            "every value exact",
            "SELECT progress_percentage = 12.5 AND total_records = 42 AND started_at = '2025-03-30 02:30+00'
                    AND file_size = 4096
             FROM migration.data_imports WHERE id = '00000000-0000-4000-8000-0000000001d1'",
        )],
    )
    .await;
}

#[sqlx::test(migrations = false)]
async fn inexact_drifted_values_are_refused_by_row_key_and_column(pool: PgPool) {
    let mut conn = case(
        &pool,
        "ALTER TABLE migration.data_imports ALTER COLUMN progress_percentage TYPE numeric,
                                           ALTER COLUMN total_records TYPE bigint,
                                           ALTER COLUMN file_size_bytes TYPE text;
         INSERT INTO migration.data_imports (id, client_account_id, engagement_id, import_name, source_filename,
                                             progress_percentage, total_records, file_size_bytes)
         VALUES ('00000000-0000-4000-8000-0000000001d2', '00000000-0000-4000-8000-00000000c001',
                 '00000000-0000-4000-8000-00000000e001', 'drift', 'd.csv', 33.333333333333333333, 3000000000,
                 'twelve kB');",
    )
    .await;
    let error = both(&mut conn, Options::default()).await.expect_err("refused");
    let ConsolidationError::Refused(refusals) = &error else { panic!("{error}") };
    let mut columns: Vec<&str> = refusals.iter().filter_map(|r| r.column.as_deref()).collect();
    columns.sort_unstable();
    assert_eq!(columns, ["file_size", "progress_percentage", "total_records"], "{error}");
    for refusal in refusals {
        assert_eq!(refusal.legacy_table, "data_imports");
        assert_eq!(refusal.examples[0].key["id"], "00000000-0000-4000-8000-0000000001d2", "{error}");
    }
    let message = error.to_string();
    for part in ["33.333333333333333333", "3000000000", "out of range", "twelve kB", "invalid input syntax"] {
        assert!(message.contains(part), "{part} in {message}");
    }
    assert_eq!(detect_state(&mut conn).await.expect("state"), State::Legacy);
}

#[sqlx::test(migrations = false)]
async fn case_03_dependent_objects_are_listed_and_refused_unless_told_to_drop_them(pool: PgPool) {
    let mut conn = case(&pool, include_str!("cases/03-view-outside-the-schema.sql")).await;
    // More of the kind: a view on the view, a materialized view, a foreign key from another schema,
    // a function returning a legacy row type, a trigger elsewhere calling a legacy-schema function.
    sqlx::raw_sql(
        "CREATE VIEW public.failed_imports AS SELECT id FROM public.weekly_import_report WHERE status = 'failed';
         CREATE MATERIALIZED VIEW public.engagement_count AS SELECT count(*) AS n FROM migration.engagements;
         CREATE TABLE public.invoices (id int PRIMARY KEY,
                                       client_account_id uuid REFERENCES migration.client_accounts (id));
         CREATE FUNCTION public.recent_imports() RETURNS SETOF migration.data_imports LANGUAGE sql
             AS 'SELECT * FROM migration.data_imports';
         CREATE FUNCTION migration.stamp() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
         CREATE TRIGGER stamp BEFORE INSERT ON public.invoices FOR EACH ROW EXECUTE FUNCTION migration.stamp();",
    )
    .execute(&mut conn)
    .await
    .expect("more dependents");
    let error = both(&mut conn, Options::default()).await.expect_err("refused");
    let ConsolidationError::DependentObjects(objects) = &error else { panic!("{error}") };
    let mut names: Vec<&str> = objects.iter().map(|o| o.object.as_str()).collect();
    names.dedup();
    assert_eq!(
        names,
        [
            "constraint invoices_client_account_id_fkey on table invoices",
            "function recent_imports()",
            "materialized view engagement_count",
            "trigger stamp on table invoices",
            "view failed_imports",
            "view weekly_import_report",
        ],
        "{error}"
    );
    assert!(error.to_string().contains("--drop-dependent-objects"), "{error}");
    assert_eq!(detect_state(&mut conn).await.expect("state"), State::Legacy);

    let report =
        both(&mut conn, Options { drop_dependent_objects: true, ..Options::default() }).await.expect("told to");
    let text = report.to_string();
    for name in ["view weekly_import_report", "view failed_imports", "materialized view engagement_count"] {
        assert!(text.contains(&format!("also dropped, as told: {name}")), "{name} in {text}");
    }
    holds(
        &mut conn,
        &[
            ("the views are gone", "SELECT to_regclass('public.weekly_import_report') IS NULL"),
            ("the table keeps its rows, without the key", "SELECT to_regclass('public.invoices') IS NOT NULL"),
        ],
    )
    .await;
}

#[sqlx::test(migrations = false)]
async fn case_01_a_foreign_key_action_on_an_archived_row_is_archived_and_reported(pool: PgPool) {
    let mut conn = case(&pool, include_str!("cases/01-user-default-tenant-is-mock.sql")).await;
    let report = both(&mut conn, Options::default()).await.expect("consolidates");
    assert!(report.verification.as_ref().is_some_and(|v| v.passed), "{report}");
    let effects = &report.migration.as_ref().expect("migrated").side_effects;
    assert_eq!(effects.len(), 1, "{report}");
    assert_eq!(
        (effects[0].table.as_str(), effects[0].columns.as_slice(), effects[0].rows),
        ("users", &["default_client_account_id".to_owned()][..], 1)
    );
    assert!(report.to_string().contains("side effect: 1 rows of users had default_client_account_id"), "{report}");
    holds(
        &mut conn,
        &[
            ("the user is kept", "SELECT email = 'presales@nordwind.example' FROM migration.users
                                  WHERE id = '00000000-0000-4000-8000-0000000000a1'"),
            ("the cleared value is archived, naming the user's legacy table",
             "SELECT source_table = 'users' AND row_data = '{\"default_client_account_id\": \"00000000-0000-4000-8000-00000000c0de\"}'
              FROM modernize.consolidation_archive
              WHERE reason = 'side_effect' AND target_table = 'users'
                AND row_key = '{\"id\": \"00000000-0000-4000-8000-0000000000a1\"}'"),
            ("the mock tenant is archived, naming its legacy table",
             "SELECT source_table = 'client_accounts' FROM modernize.consolidation_archive
              WHERE reason = 'is_mock' AND row_key = '{\"id\": \"00000000-0000-4000-8000-00000000c0de\"}'"),
        ],
    )
    .await;
}

#[sqlx::test(migrations = false)]
async fn case_04_contradicting_mock_flags_keep_the_real_row_and_are_reported_by_key(pool: PgPool) {
    let mut conn = case(&pool, include_str!("cases/04-contradicting-mock-flags.sql")).await;
    let report = both(&mut conn, Options::default()).await.expect("consolidates");
    assert!(report.verification.as_ref().is_some_and(|v| v.passed), "{report}");
    let contradictions = &report.migration.as_ref().expect("migrated").contradictions;
    assert_eq!(contradictions.len(), 1, "{report}");
    let c = &contradictions[0];
    assert_eq!(
        (c.table.as_str(), c.key["id"].as_str(), c.flagged_in.as_str(), c.not_flagged_in.as_str()),
        ("data_imports", Some("00000000-0000-4000-8000-0000000001c4"), "data_import_sessions", "data_imports")
    );
    assert!(report.to_string().contains("is_mock contradiction: data_imports"), "{report}");
    holds(
        &mut conn,
        &[
            (
                "the real import stays",
                "SELECT count(*) = 1 FROM migration.data_imports
                                       WHERE id = '00000000-0000-4000-8000-0000000001c4'",
            ),
            (
                "its raw record stays",
                "SELECT count(*) = 1 FROM migration.raw_import_records
                                      WHERE id = '00000000-0000-4000-8000-0000000002c4'",
            ),
            (
                "nothing of it is archived as mock",
                "SELECT NOT EXISTS (SELECT 1 FROM modernize.consolidation_archive
                                                                   WHERE reason IN ('is_mock', 'mock_dependent'))",
            ),
        ],
    )
    .await;
}

#[sqlx::test(migrations = false)]
async fn archived_rows_tell_sql_null_from_json_null(pool: PgPool) {
    // Two deprecated rows: one whose JSON column holds SQL NULL, one whose holds a JSON null.
    let mut conn = case(
        &pool,
        "INSERT INTO migration.import_processing_steps (id, client_account_id, data_import_id, step_name, details)
         VALUES (901, '00000000-0000-4000-8000-00000000c001', '00000000-0000-4000-8000-0000000001e1', 'parse', NULL),
                (902, '00000000-0000-4000-8000-00000000c001', '00000000-0000-4000-8000-0000000001e1', 'parse', 'null');",
    )
    .await;
    both(&mut conn, Options::default()).await.expect("consolidates");
    holds(
        &mut conn,
        &[(
            "SQL NULL is listed, JSON null is not",
            "SELECT bool_and(row_data -> 'details' = 'null'
                             AND CASE row_key ->> 'id' WHEN '901' THEN sql_null_columns = '{details}'
                                                       ELSE sql_null_columns IS NULL END)
                    AND count(*) = 2
             FROM modernize.consolidation_archive WHERE reason = 'deprecated' AND source_table = 'import_processing_steps'",
        )],
    )
    .await;
}

#[sqlx::test(migrations = false)]
async fn case_05_a_refusal_names_the_cause_by_table_value_and_both_keys(pool: PgPool) {
    let mut conn = case(&pool, include_str!("cases/05-duplicate-tenant-slug.sql")).await;
    let error = both(&mut conn, Options::default()).await.expect_err("refused");
    let ConsolidationError::Refused(refusals) = &error else { panic!("{error}") };
    let cause = refusals.iter().find(|r| r.legacy_table == "client_accounts").expect("the cause is named");
    assert_eq!(cause.examples[0].key["id"], "00000000-0000-4000-8000-00000000c005", "{error}");
    let message = error.to_string();
    for part in [
        "legacy table client_accounts",
        "slug \"nordwind\"",
        "00000000-0000-4000-8000-00000000c005",
        "already held by client_accounts {\"id\":\"00000000-0000-4000-8000-00000000c001\"}",
        "00000000-0000-4000-8000-00000000e005",
    ] {
        assert!(message.contains(part), "{part} in {message}");
    }
    assert!(!message.contains(" at line "), "{message}");
    assert_eq!(detect_state(&mut conn).await.expect("state"), State::Legacy);
}

#[sqlx::test(migrations = false)]
async fn a_bulk_loaded_reference_to_nothing_is_refused_by_key(pool: PgPool) {
    let mut conn = case(&pool, "SELECT 1").await;
    // Enough raw records for the bulk path (keys set aside, re-created after), one of them dangling.
    sqlx::raw_sql(
        "INSERT INTO migration.data_imports (id, client_account_id, engagement_id, import_name, source_filename)
         VALUES ('00000000-0000-4000-8000-0000000001e1', '00000000-0000-4000-8000-00000000c001',
                 '00000000-0000-4000-8000-00000000e001', 'bulk', 'bulk.csv');
         INSERT INTO migration.raw_import_records (id, client_account_id, engagement_id, data_import_id, row_number, raw_data)
         SELECT md5('raw' || n)::uuid, '00000000-0000-4000-8000-00000000c001', '00000000-0000-4000-8000-00000000e001',
                CASE WHEN n = 77 THEN '00000000-0000-4000-8000-0000000001ff'::uuid
                     ELSE '00000000-0000-4000-8000-0000000001e1'::uuid END, n, '{}'
         FROM generate_series(1, 1200) n;",
    )
    .execute(&mut conn)
    .await
    .expect("records");
    let error = both(&mut conn, Options::default()).await.expect_err("refused");
    let ConsolidationError::Refused(refusals) = &error else { panic!("{error}") };
    let dangling = refusals.iter().find(|r| r.legacy_table == "raw_import_records").expect("named");
    assert_eq!(dangling.rows, 1, "{error}");
    let expected: String =
        sqlx::query_scalar("SELECT md5('raw77')::uuid::text").fetch_one(&mut conn).await.expect("id");
    assert_eq!(dangling.examples[0].key["id"], expected.as_str(), "{error}");
    assert!(error.to_string().contains("00000000-0000-4000-8000-0000000001ff"), "{error}");
}

#[sqlx::test(migrations = false)]
async fn case_05_with_quarantine_the_duplicate_tenant_and_what_it_owns_go_to_the_archive(pool: PgPool) {
    let mut conn = case(&pool, include_str!("cases/05-duplicate-tenant-slug.sql")).await;
    // More rules of the kind: an enum word, a range, a cross-tenant reference.
    sqlx::raw_sql(
        "INSERT INTO migration.engagements (id, client_account_id, name, slug, status)
         VALUES ('00000000-0000-4000-8000-00000000e006', '00000000-0000-4000-8000-00000000c001', 'Odd', 'odd', 'paused?');
         INSERT INTO migration.client_accounts (id, name, slug)
         VALUES ('00000000-0000-4000-8000-00000000c007', 'Other tenant', 'other');
         INSERT INTO migration.data_imports (id, client_account_id, engagement_id, import_name, source_filename)
         VALUES ('00000000-0000-4000-8000-0000000001f7', '00000000-0000-4000-8000-00000000c007',
                 '00000000-0000-4000-8000-00000000e001', 'cross-tenant', 'x.csv');",
    )
    .execute(&mut conn)
    .await
    .expect("more rule breakers");
    let report = both(&mut conn, Options { quarantine: true, ..Options::default() }).await.expect("consolidates");
    assert!(report.verification.as_ref().is_some_and(|v| v.passed), "{report}");
    let text = report.to_string();
    assert!(text.contains("quarantine: 1 rows of client_accounts"), "{text}");
    holds(
        &mut conn,
        &[
            ("the real tenant stays", "SELECT count(*) = 1 FROM migration.client_accounts WHERE slug = 'nordwind'"),
            ("the duplicate tenant is quarantined with the rule",
             "SELECT rule LIKE '%slug \"nordwind\" is already held by client_accounts%' FROM modernize.consolidation_archive
              WHERE reason = 'quarantine' AND source_table = 'client_accounts'
                AND row_key = '{\"id\": \"00000000-0000-4000-8000-00000000c005\"}'"),
            ("and what it owns",
             "SELECT count(*) = 1 FROM modernize.consolidation_archive
              WHERE reason = 'quarantine' AND source_table = 'engagements'
                AND row_key = '{\"id\": \"00000000-0000-4000-8000-00000000e005\"}'"),
            ("an unknown enum word is quarantined",
             "SELECT rule LIKE 'a migration.engagement_status must be one of:%' FROM modernize.consolidation_archive
              WHERE reason = 'quarantine' AND row_key = '{\"id\": \"00000000-0000-4000-8000-00000000e006\"}'"),
            ("a cross-tenant reference is quarantined",
             "SELECT count(*) = 1 FROM modernize.consolidation_archive
              WHERE reason = 'quarantine' AND source_table = 'data_imports'
                AND row_key = '{\"id\": \"00000000-0000-4000-8000-0000000001f7\"}'"),
            ("the rest consolidates", "SELECT count(*) = 1 FROM migration.engagements"),
        ],
    )
    .await;
}

#[sqlx::test(migrations = false)]
async fn a_range_rule_is_refused_by_key_and_quarantined_with_what_depends_on_it(pool: PgPool) {
    // A CHECK of the target (users_email_check, login_count >= 0) broken by legacy rows; a profile
    // depends on the bad user.
    let sql = "INSERT INTO migration.users (id, email) VALUES ('00000000-0000-4000-8000-0000000000b1', 'no-at-sign');
               INSERT INTO migration.user_profiles (user_id, display_name)
               VALUES ('00000000-0000-4000-8000-0000000000b1', 'Bad address');
               INSERT INTO migration.users (id, email) VALUES ('00000000-0000-4000-8000-0000000000b2', 'ok@nordwind.example');
               INSERT INTO migration.user_profiles (user_id, display_name, login_count)
               VALUES ('00000000-0000-4000-8000-0000000000b2', 'Negative', -1);";
    let mut conn = case(&pool, sql).await;
    let error = both(&mut conn, Options::default()).await.expect_err("refused");
    let message = error.to_string();
    for part in ["legacy table users", "users_email_check", "00000000-0000-4000-8000-0000000000b1"] {
        assert!(message.contains(part), "{part} in {message}");
    }
    let report = both(&mut conn, Options { quarantine: true, ..Options::default() }).await.expect("quarantined");
    assert!(report.verification.as_ref().is_some_and(|v| v.passed), "{report}");
    holds(
        &mut conn,
        &[
            (
                "the user breaking the check is quarantined with the rule",
                "SELECT rule LIKE '%users_email_check%' FROM modernize.consolidation_archive
              WHERE reason = 'quarantine' AND source_table = 'users'
                AND row_key = '{\"id\": \"00000000-0000-4000-8000-0000000000b1\"}'",
            ),
            (
                "its profile follows it",
                "SELECT count(*) = 1 FROM modernize.consolidation_archive
              WHERE reason = 'quarantine' AND source_table = 'user_profiles'
                AND row_data ->> 'user_id' = '00000000-0000-4000-8000-0000000000b1'",
            ),
            (
                "the negative counter is quarantined",
                "SELECT rule LIKE '%user_profiles_counters_check%' FROM modernize.consolidation_archive
              WHERE reason = 'quarantine' AND row_data ->> 'user_id' = '00000000-0000-4000-8000-0000000000b2'",
            ),
            ("the good user stays", "SELECT count(*) = 1 FROM migration.users WHERE email = 'ok@nordwind.example'"),
        ],
    )
    .await;
}
