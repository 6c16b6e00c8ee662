//! Row-level security as the second wall, memberships and roles, discovery phase updates and the
//! legacy field names, against real PostgreSQL.

mod common;

use modernize::fixtures::{ACME, DEMO_PASSWORD, GLOBEX, demo_tenant};
use modernize::models::{DataImport, DiscoveryFlow, DiscoveryPhase, MemberRole, PhaseStatus};
use modernize::repo::imports::{DataImportInput, create_import};
use modernize::repo::users::{self, Password, authenticate};
use modernize::repo::{RepoError, flows, table};
use modernize::schema::{Ownership, TABLES};
use modernize::tenancy::TenantCtx;
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};
use uuid::Uuid;

/// Counts the rows of `table` visible to the application role, with `tenant` as the setting.
async fn visible(conn: &mut PgConnection, table: &str, tenant: Option<Uuid>) -> (i64, i64) {
    let mut tx = conn.begin().await.expect("tx");
    sqlx::query("SET LOCAL ROLE modernize_app").execute(&mut *tx).await.expect("set role");
    if let Some(tenant) = tenant {
        sqlx::query("SELECT set_config('modernize.client_account_id', $1, true)")
            .bind(tenant.to_string())
            .execute(&mut *tx)
            .await
            .expect("setting");
    }
    // Deliberately no WHERE: the policy alone decides.
    let counts = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT count(*), count(*) FILTER (WHERE client_account_id = migration.current_client_account_id())
         FROM migration.{table}"
    )))
    .fetch_one(&mut *tx)
    .await
    .expect("count");
    tx.rollback().await.expect("rollback");
    counts
}

#[sqlx::test(migrations = false)]
async fn row_level_security_hides_other_tenants_rows(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let a = demo_tenant(&mut conn, common::operator(), ACME).await.expect("A");
    let b = demo_tenant(&mut conn, common::operator(), GLOBEX).await.expect("B");
    for spec in TABLES.iter().filter(|t| t.ownership == Ownership::Tenant) {
        let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) FROM migration.{}", spec.name)))
            .fetch_one(&mut *conn)
            .await
            .expect("owner count");
        assert!(total >= 2, "{}: the owner sees both tenants' rows", spec.name);
        assert_eq!(visible(&mut conn, spec.name, None).await.0, 0, "{}: no setting, no rows", spec.name);
        let (seen_by_b, b_rows) = visible(&mut conn, spec.name, Some(b.client_account_id)).await;
        assert!(seen_by_b > 0 && seen_by_b == b_rows, "{}: B sees only B's rows", spec.name);
        let (seen_by_a, _) = visible(&mut conn, spec.name, Some(a.client_account_id)).await;
        assert_eq!(seen_by_a + seen_by_b, total, "{}: A and B each see their own", spec.name);
    }
}

#[sqlx::test(migrations = false)]
async fn row_level_security_refuses_writing_another_tenants_row(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let a = demo_tenant(&mut conn, common::operator(), ACME).await.expect("A");
    let b = demo_tenant(&mut conn, common::operator(), GLOBEX).await.expect("B");
    let mut tx = conn.begin().await.expect("tx");
    sqlx::raw_sql(AssertSqlSafe(format!(
        "SET LOCAL ROLE modernize_app; SELECT set_config('modernize.client_account_id', '{}', true)",
        a.client_account_id
    )))
    .execute(&mut *tx)
    .await
    .expect("act as A");
    let error = sqlx::query("INSERT INTO migration.tags (client_account_id, name) VALUES ($1, 'sneaky')")
        .bind(b.client_account_id)
        .execute(&mut *tx)
        .await
        .expect_err("WITH CHECK refuses B's tenant key");
    assert!(error.to_string().contains("row-level security"), "{error}");
    tx.rollback().await.expect("rollback");

    // And an UPDATE without WHERE, as A, changes none of B's rows.
    let mut tx = conn.begin().await.expect("tx");
    sqlx::raw_sql(AssertSqlSafe(format!(
        "SET LOCAL ROLE modernize_app; SELECT set_config('modernize.client_account_id', '{}', true)",
        a.client_account_id
    )))
    .execute(&mut *tx)
    .await
    .expect("act as A");
    let updated = sqlx::query("UPDATE migration.assets SET description = 'touched'")
        .execute(&mut *tx)
        .await
        .expect("update")
        .rows_affected();
    tx.commit().await.expect("commit");
    assert_eq!(updated, 3, "A's three assets only");
    let touched_b: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM migration.assets WHERE client_account_id = $1 AND description = 'touched'",
    )
    .bind(b.client_account_id)
    .fetch_one(&mut *conn)
    .await
    .expect("count");
    assert_eq!(touched_b, 0);
}

#[sqlx::test(migrations = false)]
async fn members_get_their_role_and_strangers_get_not_found(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let a = demo_tenant(&mut conn, common::operator(), ACME).await.expect("A");
    let b = demo_tenant(&mut conn, common::operator(), GLOBEX).await.expect("B");

    let ctx = TenantCtx::for_member(&mut conn, a.viewer_user_id, a.client_account_id, None).await.expect("viewer");
    assert_eq!(ctx.role(), MemberRole::Viewer);
    let analyst = TenantCtx::for_member(&mut conn, a.analyst_user_id, a.client_account_id, Some(a.engagement_id))
        .await
        .expect("analyst with an engagement grant");
    assert_eq!(analyst.role(), MemberRole::Analyst);
    let admin = TenantCtx::for_member(&mut conn, a.admin_user_id, a.client_account_id, Some(a.engagement_id))
        .await
        .expect("account admin reaches every engagement");
    assert_eq!(admin.role(), MemberRole::Admin);

    // Not a member, another tenant's engagement, no engagement grant, unknown account: all 404.
    let cases = [
        (b.admin_user_id, a.client_account_id, None),
        (a.admin_user_id, a.client_account_id, Some(b.engagement_id)),
        (a.viewer_user_id, a.client_account_id, Some(a.engagement_id)),
        (a.admin_user_id, Uuid::new_v4(), None),
    ];
    for (user, account, engagement) in cases {
        let result = TenantCtx::for_member(&mut conn, user, account, engagement).await;
        assert!(matches!(result, Err(RepoError::NotFound { .. })), "{user} {account} {engagement:?}: {result:?}");
    }
    let result =
        TenantCtx::for_operator(&mut conn, common::operator(), a.client_account_id, Some(b.engagement_id)).await;
    assert!(matches!(result, Err(RepoError::NotFound { .. })), "{result:?}");
}

#[sqlx::test(migrations = false)]
async fn users_authenticate_with_their_argon2_password(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    demo_tenant(&mut conn, common::operator(), ACME).await.expect("A");
    let password = Password::parse(DEMO_PASSWORD.into()).expect("password");
    let user = authenticate(&mut conn, &ACME.email("analyst"), &password).await.expect("login");
    assert!(user.password_hash.as_deref().is_some_and(|h| h.starts_with("$argon2id$")));
    assert!(user.last_login_at.is_none(), "the returned row predates this login");
    let wrong = Password::parse("not the demo password".into()).expect("password");
    for (email, password) in [(ACME.email("analyst"), &wrong), ("nobody@acme-retail.example".into(), &password)] {
        let result = authenticate(&mut conn, &email, password).await;
        assert!(matches!(result, Err(RepoError::NotFound { .. })), "{email}: {result:?}");
    }
}

/// Issue 11: a slug that reads as a UUID would name another account (or engagement) wherever an
/// id or a slug is accepted: refused, in every form a UUID parses from.
#[sqlx::test(migrations = false)]
async fn slugs_that_read_as_uuids_are_refused(pool: PgPool) {
    use modernize::models::{NewClientAccount, NewEngagement};
    use modernize::repo::tenancy::{create_client_account, create_engagement};
    use modernize::tenancy::TenantTx;
    let mut conn = common::migrated(&pool).await;
    let a = demo_tenant(&mut conn, common::operator(), ACME).await.expect("A");
    let other = a.client_account_id;
    for slug in [other.to_string(), other.simple().to_string(), Uuid::new_v4().to_string()] {
        let new: NewClientAccount =
            serde_json::from_value(serde_json::json!({"name": "Shadow", "slug": slug})).expect("account");
        let result = create_client_account(&mut conn, &new).await;
        assert!(
            matches!(&result, Err(RepoError::Invalid { field, message }) if field == "slug" && message.contains("UUID")),
            "{slug}: {result:?}"
        );
        let ctx = TenantCtx::for_operator(&mut conn, common::operator(), a.client_account_id, None).await.expect("ctx");
        let new: NewEngagement =
            serde_json::from_value(serde_json::json!({"name": "Shadow", "slug": slug})).expect("engagement");
        let mut tx = TenantTx::begin(&mut conn, &ctx).await.expect("tx");
        let result = create_engagement(&mut tx, &new).await;
        drop(tx);
        assert!(matches!(&result, Err(RepoError::Invalid { field, .. }) if field == "slug"), "{slug}: {result:?}");
    }
    let accounts: i64 = sqlx::query_scalar("SELECT count(*) FROM migration.client_accounts WHERE name = 'Shadow'")
        .fetch_one(&mut *conn)
        .await
        .expect("count");
    assert_eq!(accounts, 0);
    // A slug of hex and hyphens that is not a UUID is fine.
    let new: NewClientAccount =
        serde_json::from_value(serde_json::json!({"name": "Cafe", "slug": "cafe-0123"})).expect("account");
    create_client_account(&mut conn, &new).await.expect("an ordinary slug");
}

#[sqlx::test(migrations = false)]
async fn api_tokens_are_shown_once_hashed_and_refused_once_revoked_or_expired(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    demo_tenant(&mut conn, common::operator(), ACME).await.expect("A");
    let analyst = users::find_user_by_email(&mut conn, &ACME.email("analyst")).await.expect("analyst");
    let viewer = users::find_user_by_email(&mut conn, &ACME.email("viewer")).await.expect("viewer");
    let (token, secret) = users::create_api_token(&mut conn, analyst.id, "ci pipeline", None).await.expect("token");
    assert!(secret.expose().starts_with(&format!("mdz_{}_", token.prefix)));
    assert!(!format!("{secret:?}").contains(secret.expose()), "the secret stays out of debug output");
    let stored: String = sqlx::query_scalar("SELECT secret_hash FROM modernize.api_tokens WHERE id = $1")
        .bind(token.id)
        .fetch_one(&mut *conn)
        .await
        .expect("hash");
    assert!(stored.starts_with("sha256$") && !secret.expose().contains(&stored), "only a digest is kept");

    let user = users::authenticate_token(&mut conn, &secret).await.expect("authenticates");
    assert_eq!(user.id, analyst.id);
    let listed = users::list_api_tokens(&mut conn, analyst.id).await.expect("list");
    assert!(listed[0].last_used_at.is_some(), "use is recorded");

    // A wrong secret with the right prefix, garbage, and another user's revocation: refused, not found.
    let forged = users::TokenSecret::new(format!("mdz_{}_{}", token.prefix, "0".repeat(48)));
    for candidate in [forged, users::TokenSecret::new("bearer nonsense".into())] {
        let result = users::authenticate_token(&mut conn, &candidate).await;
        assert!(matches!(result, Err(RepoError::NotFound { .. })), "{result:?}");
    }
    let result = users::revoke_api_token(&mut conn, viewer.id, token.id).await;
    assert!(matches!(result, Err(RepoError::NotFound { .. })), "another user's token: {result:?}");
    users::revoke_api_token(&mut conn, analyst.id, token.id).await.expect("revoke");
    let result = users::authenticate_token(&mut conn, &secret).await;
    assert!(matches!(result, Err(RepoError::NotFound { .. })), "revoked: {result:?}");

    // An expired token is refused too; one cannot be issued already expired.
    let soon = chrono::Utc::now() + chrono::Duration::minutes(5);
    let (expiring, expiring_secret) =
        users::create_api_token(&mut conn, analyst.id, "short", Some(soon)).await.expect("expiring");
    sqlx::query("UPDATE modernize.api_tokens SET created_at = now() - interval '2 days', expires_at = now() - interval '1 day' WHERE id = $1")
        .bind(expiring.id)
        .execute(&mut *conn)
        .await
        .expect("age it");
    let result = users::authenticate_token(&mut conn, &expiring_secret).await;
    assert!(matches!(result, Err(RepoError::NotFound { .. })), "expired: {result:?}");
    let past = chrono::Utc::now() - chrono::Duration::hours(1);
    let result = users::create_api_token(&mut conn, analyst.id, "late", Some(past)).await;
    assert!(matches!(result, Err(RepoError::Invalid { .. })), "{result:?}");
}

#[sqlx::test(migrations = false)]
async fn a_token_issued_with_an_argon2_hash_still_works_and_gets_its_digest(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    demo_tenant(&mut conn, common::operator(), ACME).await.expect("A");
    let analyst = users::find_user_by_email(&mut conn, &ACME.email("analyst")).await.expect("analyst");
    let (token, secret) = users::create_api_token(&mut conn, analyst.id, "old", None).await.expect("token");
    // As a token issued before digests was stored: the argon2id hash of its secret part.
    let secret_part = secret.expose().rsplit('_').next().expect("secret part").to_owned();
    sqlx::query("UPDATE modernize.api_tokens SET secret_hash = $2 WHERE id = $1")
        .bind(token.id)
        .bind(users::hash_secret(&secret_part).expect("argon2"))
        .execute(&mut *conn)
        .await
        .expect("store as before");
    let forged = users::TokenSecret::new(format!("mdz_{}_{}", token.prefix, "0".repeat(48)));
    let result = users::authenticate_token(&mut conn, &forged).await;
    assert!(matches!(result, Err(RepoError::NotFound { .. })), "wrong secret: {result:?}");
    let user = users::authenticate_token(&mut conn, &secret).await.expect("the old hash verifies");
    assert_eq!(user.id, analyst.id);
    let stored: String = sqlx::query_scalar("SELECT secret_hash FROM modernize.api_tokens WHERE id = $1")
        .bind(token.id)
        .fetch_one(&mut *conn)
        .await
        .expect("hash");
    assert!(stored.starts_with("sha256$"), "rewritten as a digest: {stored}");
    users::authenticate_token(&mut conn, &secret).await.expect("and the digest verifies");
}

#[sqlx::test(migrations = false)]
async fn completing_a_phase_updates_flags_and_json_state_once(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let a = demo_tenant(&mut conn, common::operator(), ACME).await.expect("A");
    let ctx = TenantCtx::for_operator(&mut conn, common::operator(), a.client_account_id, Some(a.engagement_id))
        .await
        .expect("ctx");
    let (master, flow, _) =
        as_tenant!(conn, &ctx, |tx| flows::start_discovery(&mut tx, &Default::default())).expect("start");
    assert_eq!(flow.master_flow_id, Some(master.flow_id), "linked to its master flow");

    as_tenant!(conn, &ctx, |tx| flows::complete_phase(&mut tx, flow.id, DiscoveryPhase::DataImport))
        .expect("data import");
    let once = as_tenant!(conn, &ctx, |tx| flows::complete_phase(&mut tx, flow.id, DiscoveryPhase::FieldMapping))
        .expect("mapping");
    let twice = as_tenant!(conn, &ctx, |tx| flows::complete_phase(&mut tx, flow.id, DiscoveryPhase::FieldMapping))
        .expect("again");

    for f in [&once, &twice] {
        assert!(f.data_import_completed && f.field_mapping_completed && !f.data_cleansing_completed);
        assert_eq!(f.current_phase, Some(DiscoveryPhase::FieldMapping));
        assert_eq!(f.phases_completed, [DiscoveryPhase::DataImport, DiscoveryPhase::FieldMapping], "appended once");
        assert_eq!(f.flow_state.phases_completed, f.phases_completed, "JSON state agrees with the columns");
        assert_eq!(f.flow_state.current_phase, Some(DiscoveryPhase::FieldMapping));
        assert_eq!(f.phases.get(&DiscoveryPhase::FieldMapping).map(|p| p.status), Some(PhaseStatus::Completed));
        assert!((f.progress_percentage - 33.33).abs() < 0.01, "{}", f.progress_percentage);
    }
    let stored = as_tenant!(conn, &ctx, |tx| table::get::<DiscoveryFlow>(&mut tx, flow.id)).expect("stored");
    assert_eq!(stored.phases_completed, twice.phases_completed);
}

#[sqlx::test(migrations = false)]
async fn legacy_field_names_are_stored_under_the_new_names(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let a = demo_tenant(&mut conn, common::operator(), ACME).await.expect("A");
    let ctx = TenantCtx::for_operator(&mut conn, common::operator(), a.client_account_id, Some(a.engagement_id))
        .await
        .expect("ctx");
    let input: DataImportInput = serde_json::from_value(serde_json::json!({
        "source_filename": "rvtools.xlsx", "file_size_bytes": 2048, "file_type": "application/vnd.ms-excel",
        "is_mock": false, "master_flow_id": a.master_flow_id
    }))
    .expect("legacy input");
    let (import, deprecations) = as_tenant!(conn, &ctx, |tx| create_import(&mut tx, input)).expect("create");
    assert_eq!((import.filename.as_str(), import.file_size), ("rvtools.xlsx", Some(2048)));
    assert_eq!(import.mime_type.as_deref(), Some("application/vnd.ms-excel"));
    assert_eq!(import.master_flow_id, Some(a.master_flow_id));
    let fields: Vec<_> = deprecations.iter().map(|d| d.field).collect();
    assert_eq!(fields, ["source_filename", "file_size_bytes", "file_type", "is_mock"]);

    let before = as_tenant!(conn, &ctx, |tx| table::count::<DataImport>(&mut tx)).expect("count");
    let conflicting: DataImportInput =
        serde_json::from_value(serde_json::json!({"filename": "a.csv", "source_filename": "b.csv"})).expect("input");
    let error = as_tenant!(conn, &ctx, |tx| create_import(&mut tx, conflicting)).expect_err("conflict");
    assert!(error.to_string().contains("disagree"), "{error}");
    assert_eq!(
        as_tenant!(conn, &ctx, |tx| table::count::<DataImport>(&mut tx)).expect("count"),
        before,
        "nothing written"
    );
}

#[sqlx::test(migrations = false)]
async fn engagement_scoped_tables_need_an_engagement(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let a = demo_tenant(&mut conn, common::operator(), ACME).await.expect("A");
    let account_only =
        TenantCtx::for_operator(&mut conn, common::operator(), a.client_account_id, None).await.expect("ctx");
    let input = DataImportInput { filename: Some("x.csv".into()), ..Default::default() };
    let error = as_tenant!(conn, &account_only, |tx| create_import(&mut tx, input)).expect_err("no engagement");
    assert!(matches!(error, RepoError::EngagementRequired { table: "data_imports" }), "{error}");
    // Without an engagement, reads span the account's engagements.
    let imports = as_tenant!(conn, &account_only, |tx| table::count::<DataImport>(&mut tx)).expect("count");
    assert_eq!(imports, 1);
}

#[sqlx::test(migrations = false)]
async fn demo_tenants_are_built_once(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let first = demo_tenant(&mut conn, common::operator(), ACME).await.expect("first");
    let second = demo_tenant(&mut conn, common::operator(), ACME).await.expect("second");
    assert_eq!(first.client_account_id, second.client_account_id);
    assert_eq!((first.master_flow_id, first.discovery_flow_id), (second.master_flow_id, second.discovery_flow_id));
    assert_eq!(first.engagement_id, ACME.id("engagement/cloud-2027"), "stable ids");
    let accounts: i64 = sqlx::query_scalar("SELECT count(*) FROM migration.client_accounts")
        .fetch_one(&mut *conn)
        .await
        .expect("count");
    assert_eq!(accounts, 1);
}
