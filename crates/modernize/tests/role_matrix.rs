//! The role matrix over the services: for each use case, a viewer, an analyst and an admin of the
//! client account and a member of another account (a stranger) are allowed, Forbidden or
//! NotFound (404 before 403), and a refused call leaves the database exactly as it was.

mod common;

use modernize::discovery::ExactNameSuggester;
use modernize::discovery::pipeline::{self, ImportOptions, WorkerOptions};
use modernize::discovery::uploads;
use modernize::error::ErrorKind;
use modernize::fixtures::{ACME, DEMO_PASSWORD, DemoIds, GLOBEX, demo_tenant};
use modernize::models::{MemberRole, SixrStrategy};
use modernize::repo::imports::DataImportInput;
use modernize::repo::users::Password;
use modernize::repo::{Page, tenancy};
use modernize::service::UserRef;
use modernize::service::discovery::{self, MappingDecision};
use modernize::service::engagements::{self, NewEngagementInput};
use modernize::service::sixr::{self, OverrideInput};
use modernize::service::users::{self, MembershipInput, NewMember, NewUser};
use modernize::service::{Actor, ServiceError, accounts, assets, auth, dependencies, tokens};
use modernize::tenancy::{TenantCtx, TenantTx};
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Done, or refused for a reason other than access (e.g. a conflict with the flow's state).
    Allowed,
    Forbidden,
    NotFound,
}

use Outcome::{Allowed, Forbidden, NotFound};

fn outcome(result: Result<(), ServiceError>) -> Outcome {
    match result {
        Err(e) if e.kind() == ErrorKind::Forbidden => Forbidden,
        Err(e) if e.kind() == ErrorKind::NotFound => NotFound,
        Err(e) if matches!(e.kind(), ErrorKind::Internal | ErrorKind::Unavailable) => panic!("unexpected: {e}"),
        _ => Allowed,
    }
}

struct World {
    ids: DemoIds,
    /// A viewer of the account whom the admin's removal case removes.
    leaver_id: Uuid,
    flow_id: Uuid,
    asset_id: Uuid,
    data_import_id: Uuid,
    /// An import registered without its file (the legacy JSON request), waiting for it.
    pending_import_id: Uuid,
    master_flow_id: Uuid,
    /// An API token of the analyst's.
    token_id: Uuid,
    file: std::path::PathBuf,
    uploads: tempfile::TempDir,
}

/// Everything a refused call could have changed, as text.
async fn fingerprint(pool: &PgPool) -> String {
    sqlx::query_scalar(
        "SELECT concat_ws(' | ',
            (SELECT count(*) FROM migration.users),
            (SELECT string_agg(user_id || role::text || is_active, ',' ORDER BY client_account_id, user_id)
             FROM migration.user_account_associations),
            (SELECT string_agg(slug, ',' ORDER BY slug) FROM migration.engagements),
            (SELECT string_agg(user_id || role::text || is_active || updated_at::text, ',' ORDER BY engagement_id, user_id)
             FROM migration.engagement_access),
            (SELECT string_agg(status || coalesce(updated_at::text, ''), ',' ORDER BY id) FROM migration.import_field_mappings),
            (SELECT string_agg(status || updated_at::text, ',' ORDER BY id) FROM migration.discovery_flows),
            (SELECT string_agg(updated_at::text, ',' ORDER BY id) FROM migration.assets),
            (SELECT count(*) FROM migration.data_imports), (SELECT count(*) FROM modernize.jobs),
            (SELECT string_agg(id || coalesce(revoked_at::text, 'live'), ',' ORDER BY id) FROM modernize.api_tokens))",
    )
    .fetch_one(pool)
    .await
    .expect("fingerprint")
}

async fn run_case(name: &str, pool: &PgPool, actor: &Actor<'_>, w: &World) -> Result<(), ServiceError> {
    let account = ACME.slug;
    let engagement = w.ids.engagement_id.to_string();
    let fresh = Uuid::new_v4().simple().to_string();
    match name {
        "get_account" => accounts::get_account(pool, actor, account).await.map(drop),
        "list_engagements" => engagements::list_engagements(pool, actor, account).await.map(drop),
        "get_engagement" => engagements::get_engagement(pool, actor, account, &engagement).await.map(drop),
        "create_engagement" => {
            let input = NewEngagementInput { name: format!("wave {fresh}"), ..Default::default() };
            engagements::create_engagement(pool, actor, account, input).await.map(drop)
        }
        "list_access" => engagements::list_access(pool, actor, account, &engagement).await.map(drop),
        "grant_access" => {
            let leaver = UserRef::Id(w.leaver_id);
            engagements::grant_access(pool, actor, account, &engagement, &leaver, Some(MemberRole::Viewer))
                .await
                .map(drop)
        }
        "revoke_access" => {
            engagements::revoke_access(pool, actor, account, &engagement, &UserRef::Id(w.leaver_id)).await
        }
        "list_member_tokens" => tokens::list_member_tokens(pool, actor, account, w.ids.analyst_user_id).await.map(drop),
        "revoke_member_token" => {
            tokens::revoke_member_token(pool, actor, account, w.ids.analyst_user_id, w.token_id).await.map(drop)
        }
        "list_users" => users::list_users(pool, actor, Some(account)).await.map(drop),
        "create_user" => {
            let input = NewUser {
                email: format!("{fresh}@acme.example"),
                password: None,
                first_name: None,
                last_name: None,
                memberships: vec![MembershipInput { account: account.into(), role: MemberRole::Viewer }],
            };
            users::create_user(pool, actor, input).await.map(drop)
        }
        "list_members" => users::list_members(pool, actor, account).await.map(drop),
        "get_member" => users::get_member(pool, actor, account, w.ids.analyst_user_id).await.map(drop),
        "add_member" => {
            let input = NewMember {
                email: format!("{fresh}@acme.example"),
                role: MemberRole::Viewer,
                password: None,
                first_name: None,
                last_name: None,
            };
            users::add_member(pool, actor, account, input).await.map(drop)
        }
        "change_member_role" => {
            users::change_member_role(pool, actor, account, w.leaver_id, MemberRole::Analyst).await.map(drop)
        }
        "remove_member" => users::remove_member(pool, actor, account, w.leaver_id).await,
        "list_flows" => discovery::list_flows(pool, actor, account, Some(&engagement), Page::default()).await.map(drop),
        "flow_summary" => discovery::flow_summary(pool, actor, account, Some(&engagement), w.flow_id).await.map(drop),
        "flow_progress" => discovery::flow_progress(pool, actor, account, None, w.flow_id).await.map(drop),
        "start_import" => {
            let options = ImportOptions::default();
            discovery::start_import(pool, actor, account, &engagement, w.uploads.path(), &w.file, &options)
                .await
                .map(drop)
        }
        "review_mappings" => {
            let decisions = [MappingDecision::Approve { column: "hostname".into() }];
            discovery::review_mappings(pool, actor, &ExactNameSuggester, account, None, w.flow_id, &decisions)
                .await
                .map(drop)
        }
        "pause_flow" => discovery::pause_flow(pool, actor, account, Some(&engagement), w.flow_id).await,
        "retry_flow" => discovery::retry_flow(pool, actor, account, None, w.flow_id).await,
        "list_assets" => {
            assets::list_assets(pool, actor, account, &engagement, &Default::default(), None, 10).await.map(drop)
        }
        "authorize_import" => discovery::authorize_import(pool, actor, account, &engagement).await,
        "start_uploaded_import" => {
            let stored = uploads::store(&w.uploads.path().join("uploads"), &w.file, "cmdb.csv").expect("stored");
            let (options, metadata) = (ImportOptions::default(), Default::default());
            discovery::start_uploaded_import(pool, actor, account, &engagement, &stored, &options, metadata)
                .await
                .map(drop)
        }
        "list_imports" => discovery::list_imports(pool, actor, account, &engagement, Page::default()).await.map(drop),
        "get_import" => discovery::get_import(pool, actor, account, &engagement, w.data_import_id).await.map(drop),
        "list_master_flows" => {
            discovery::list_master_flows(pool, actor, account, &engagement, Page::default()).await.map(drop)
        }
        "get_master_flow" => {
            discovery::get_master_flow(pool, actor, account, &engagement, w.master_flow_id).await.map(drop)
        }
        "get_flow" => discovery::get_flow(pool, actor, account, Some(&engagement), w.flow_id).await.map(drop),
        "list_mappings" => discovery::list_mappings(pool, actor, account, None, w.flow_id).await.map(drop),
        "list_issues" => {
            discovery::list_issues(pool, actor, account, None, w.flow_id, Default::default(), 10).await.map(drop)
        }
        "resume_flow" => discovery::resume_flow(pool, actor, account, Some(&engagement), w.flow_id, None).await,
        "bulk_edit_assets" => {
            let filter = serde_json::json!({"asset_type": "server"}).as_object().cloned().unwrap_or_default();
            let changes = serde_json::json!({"description": format!("bulk {fresh}")});
            let changes = changes.as_object().cloned().unwrap_or_default();
            assets::bulk_edit_assets(pool, actor, account, &engagement, &filter, &changes).await.map(drop)
        }
        "export_assets" => {
            assets::export_assets(pool, actor, account, &engagement, Default::default(), 100).await.map(drop)
        }
        "export_assets_xlsx" => {
            assets::export_assets_xlsx(pool, actor, account, &engagement, Default::default(), 100).await.map(drop)
        }
        "get_asset" => assets::get_asset(pool, actor, account, &engagement, w.asset_id).await.map(drop),
        "edit_asset" => {
            let changes = serde_json::json!({"description": format!("edited {fresh}")});
            let changes = changes.as_object().cloned().unwrap_or_default();
            assets::edit_asset(pool, actor, account, &engagement, w.asset_id, &changes).await.map(drop)
        }
        "cancel_flow" => discovery::cancel_flow(pool, actor, account, Some(&engagement), w.flow_id).await,
        "create_pending_import" => {
            let metadata = DataImportInput { source_filename: Some(format!("{fresh}.csv")), ..Default::default() };
            discovery::create_pending_import(pool, actor, account, &engagement, metadata).await.map(drop)
        }
        "authorize_import_upload" => {
            discovery::authorize_import_upload(pool, actor, account, &engagement, w.pending_import_id).await.map(drop)
        }
        "start_pending_import" => {
            let stored = uploads::store(&w.uploads.path().join("uploads"), &w.file, "cmdb.csv").expect("stored");
            let options = ImportOptions::default();
            discovery::start_pending_import(pool, actor, account, &engagement, w.pending_import_id, &stored, &options)
                .await
                .map(drop)
        }
        "list_dependencies" => {
            dependencies::list_dependencies(pool, actor, account, &engagement, Some(w.asset_id), None, 10)
                .await
                .map(drop)
        }
        "dependency_graph" => {
            dependencies::dependency_graph(pool, actor, account, &engagement, w.asset_id, 2).await.map(drop)
        }
        "asset_sixr" => sixr::asset_sixr(pool, actor, account, &engagement, w.asset_id).await.map(drop),
        "sixr_summary" => sixr::sixr_summary(pool, actor, account, &engagement).await.map(drop),
        "override_strategy" => {
            let input = OverrideInput { strategy: SixrStrategy::Retain, reason: format!("contract {fresh}") };
            sixr::override_strategy(pool, actor, account, &engagement, w.asset_id, &input).await.map(drop)
        }
        other => panic!("no case {other}"),
    }
}

async fn sign_in(pool: &PgPool, email: &str) -> Actor<'static> {
    let password = Password::parse(DEMO_PASSWORD.into()).expect("password");
    Actor::User(auth::sign_in(pool, email, &password).await.expect("sign in").0)
}

async fn world(pool: &PgPool) -> World {
    let mut conn = common::migrated(pool).await;
    let ids = demo_tenant(&mut conn, common::operator(), ACME).await.expect("A");
    demo_tenant(&mut conn, common::operator(), GLOBEX).await.expect("B");
    // The viewer may read the engagement: a viewer grant there.
    let ctx = TenantCtx::for_operator(&mut conn, common::operator(), ids.client_account_id, Some(ids.engagement_id))
        .await
        .expect("ctx");
    let mut tx = TenantTx::begin(&mut conn, &ctx).await.expect("tx");
    tenancy::grant_engagement_access(&mut tx, ids.viewer_user_id, MemberRole::Viewer).await.expect("grant");
    let leaver = modernize::repo::users::NewUserInput {
        email: "leaver@acme-retail.example".into(),
        password: None,
        first_name: None,
        last_name: None,
        is_platform_admin: false,
    };
    let leaver_id = modernize::repo::users::create_user(tx.conn(), &leaver).await.expect("leaver").id;
    tenancy::add_account_member(&mut tx, leaver_id, MemberRole::Viewer).await.expect("member");
    let asset_id: Uuid = sqlx::query_scalar("SELECT id FROM migration.assets WHERE engagement_id = $1 LIMIT 1")
        .bind(ids.engagement_id)
        .fetch_one(tx.conn())
        .await
        .expect("an asset");
    tx.commit().await.expect("commit");
    let (token, _) =
        modernize::repo::users::create_api_token(&mut conn, ids.analyst_user_id, "ci", None).await.expect("token");
    // A flow paused for the review of its mappings.
    let uploads = tempfile::tempdir().expect("dir");
    let file = uploads.path().join("cmdb.csv");
    std::fs::write(&file, "hostname,operating_system\nsrv-1,Ubuntu 22.04\nsrv-2,AIX 7.2\n").expect("file");
    let started = pipeline::start(&mut conn, &ctx, &uploads.path().join("uploads"), &file, &ImportOptions::default())
        .await
        .expect("start");
    let options = WorkerOptions { only_flow: Some(started.discovery_flow_id), ..Default::default() };
    pipeline::run_worker(pool, common::operator(), &ExactNameSuggester, &options, true).await.expect("worker");
    let later = DataImportInput { filename: Some("later.csv".into()), ..Default::default() };
    let (pending, _) = pipeline::register_pending(&mut conn, &ctx, later).await.expect("pending import");
    World {
        ids,
        leaver_id,
        flow_id: started.discovery_flow_id,
        asset_id,
        data_import_id: started.data_import_id,
        pending_import_id: pending.id,
        master_flow_id: started.master_flow_id,
        token_id: token.id,
        file,
        uploads,
    }
}

#[sqlx::test(migrations = false)]
async fn each_use_case_is_allowed_forbidden_or_not_found_by_role(pool: PgPool) {
    let w = world(&pool).await;
    let viewer = sign_in(&pool, &ACME.email("viewer")).await;
    let analyst = sign_in(&pool, &ACME.email("analyst")).await;
    let admin = sign_in(&pool, &ACME.email("admin")).await;
    let stranger = sign_in(&pool, &GLOBEX.email("admin")).await;
    // (use case, viewer, analyst, admin); a stranger always gets NotFound. Cases that change the
    // flow's state come last, in an order where each still applies.
    let matrix = [
        ("get_account", Allowed, Allowed, Allowed),
        ("list_engagements", Allowed, Allowed, Allowed),
        ("get_engagement", Allowed, Allowed, Allowed),
        ("create_engagement", Forbidden, Forbidden, Allowed),
        ("list_access", Forbidden, Forbidden, Allowed),
        ("grant_access", Forbidden, Forbidden, Allowed),
        ("revoke_access", Forbidden, Forbidden, Allowed),
        ("list_users", Forbidden, Forbidden, Allowed),
        ("list_member_tokens", Forbidden, Forbidden, Allowed),
        ("revoke_member_token", Forbidden, Forbidden, Allowed),
        ("create_user", Forbidden, Forbidden, Allowed),
        ("list_members", Allowed, Allowed, Allowed),
        ("get_member", Allowed, Allowed, Allowed),
        ("add_member", Forbidden, Forbidden, Allowed),
        ("change_member_role", Forbidden, Forbidden, Allowed),
        ("remove_member", Forbidden, Forbidden, Allowed),
        ("list_flows", Allowed, Allowed, Allowed),
        ("flow_summary", Allowed, Allowed, Allowed),
        ("flow_progress", Allowed, Allowed, Allowed),
        ("list_imports", Allowed, Allowed, Allowed),
        ("get_import", Allowed, Allowed, Allowed),
        ("list_master_flows", Allowed, Allowed, Allowed),
        ("get_master_flow", Allowed, Allowed, Allowed),
        ("get_flow", Allowed, Allowed, Allowed),
        ("list_mappings", Allowed, Allowed, Allowed),
        ("list_issues", Allowed, Allowed, Allowed),
        ("export_assets", Allowed, Allowed, Allowed),
        ("export_assets_xlsx", Allowed, Allowed, Allowed),
        ("list_assets", Allowed, Allowed, Allowed),
        ("get_asset", Allowed, Allowed, Allowed),
        ("list_dependencies", Allowed, Allowed, Allowed),
        ("dependency_graph", Allowed, Allowed, Allowed),
        ("asset_sixr", Allowed, Allowed, Allowed),
        ("sixr_summary", Allowed, Allowed, Allowed),
        ("override_strategy", Forbidden, Allowed, Allowed),
        ("create_pending_import", Forbidden, Allowed, Allowed),
        ("authorize_import_upload", Forbidden, Allowed, Allowed),
        ("start_pending_import", Forbidden, Allowed, Allowed),
        ("edit_asset", Forbidden, Allowed, Allowed),
        ("bulk_edit_assets", Forbidden, Allowed, Allowed),
        ("authorize_import", Forbidden, Allowed, Allowed),
        ("start_import", Forbidden, Allowed, Allowed),
        ("start_uploaded_import", Forbidden, Allowed, Allowed),
        ("review_mappings", Forbidden, Allowed, Allowed),
        ("resume_flow", Forbidden, Allowed, Allowed),
        ("pause_flow", Forbidden, Allowed, Allowed),
        ("retry_flow", Forbidden, Allowed, Allowed),
        ("cancel_flow", Forbidden, Allowed, Allowed),
    ];
    // Every use case of the tenant-data and user services is in the matrix (or among the
    // platform's use cases, tested below): a new one fails this test until its row says who may
    // call it.
    let services = [
        include_str!("../src/service/discovery.rs"),
        include_str!("../src/service/assets.rs"),
        include_str!("../src/service/dependencies.rs"),
        include_str!("../src/service/sixr.rs"),
        include_str!("../src/service/users.rs"),
    ];
    let missing: Vec<&str> = services
        .iter()
        .flat_map(|source| source.lines())
        .filter_map(|line| line.strip_prefix("pub async fn "))
        .filter_map(|rest| rest.split(['(', '<']).next())
        .filter(|name| !matrix.iter().any(|(case, ..)| case == name) && !PLATFORM_CASES.contains(name))
        .collect();
    assert!(missing.is_empty(), "use cases missing from the role matrix: {missing:?}");
    let mut refused = 0;
    for (case, for_viewer, for_analyst, for_admin) in matrix {
        for (who, actor, expected) in [
            ("stranger", &stranger, NotFound),
            ("viewer", &viewer, for_viewer),
            ("analyst", &analyst, for_analyst),
            ("admin", &admin, for_admin),
        ] {
            let before = fingerprint(&pool).await;
            let got = outcome(run_case(case, &pool, actor, &w).await);
            assert_eq!(got, expected, "{case} as {who}");
            if got != Allowed {
                refused += 1;
                assert_eq!(fingerprint(&pool).await, before, "{case} as {who}: refused, yet the database changed");
            }
        }
    }
    assert!(refused > 20, "{refused}");
}

/// Use cases of the platform, not of one client account: for operators and platform
/// administrators only, whatever the caller's role in an account.
const PLATFORM_CASES: [&str; 2] = ["deactivate_user", "reactivate_user"];

async fn run_platform_case(name: &str, pool: &PgPool, actor: &Actor<'_>, user_id: Uuid) -> Result<(), ServiceError> {
    let who = UserRef::Id(user_id);
    match name {
        "deactivate_user" => users::deactivate_user(pool, actor, &who).await.map(drop),
        "reactivate_user" => users::reactivate_user(pool, actor, &who).await.map(drop),
        other => panic!("no platform case {other}"),
    }
}

#[sqlx::test(migrations = false)]
async fn platform_use_cases_are_forbidden_to_every_account_role(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let ids = demo_tenant(&mut conn, common::operator(), ACME).await.expect("A");
    let other = demo_tenant(&mut conn, common::operator(), GLOBEX).await.expect("B");
    let platform_admin = other.analyst_user_id;
    sqlx::query("UPDATE migration.users SET is_platform_admin = true WHERE id = $1")
        .bind(platform_admin)
        .execute(&mut *conn)
        .await
        .expect("platform admin");
    let state = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT string_agg(id::text || is_active::text || updated_at::text, ',' ORDER BY id) FROM migration.users",
        )
        .fetch_one(&pool)
        .await
        .expect("users")
    };
    let callers = [
        ("viewer", sign_in(&pool, &ACME.email("viewer")).await),
        ("analyst", sign_in(&pool, &ACME.email("analyst")).await),
        ("admin", sign_in(&pool, &ACME.email("admin")).await),
        ("stranger", sign_in(&pool, &GLOBEX.email("admin")).await),
    ];
    let allowed = sign_in(&pool, &GLOBEX.email("analyst")).await;
    for case in PLATFORM_CASES {
        for (who, actor) in &callers {
            let before = state().await;
            let got = outcome(run_platform_case(case, &pool, actor, ids.viewer_user_id).await);
            assert_eq!(got, Forbidden, "{case} as {who}");
            assert_eq!(state().await, before, "{case} as {who}: refused, yet the database changed");
        }
        let got = outcome(run_platform_case(case, &pool, &allowed, ids.viewer_user_id).await);
        assert_eq!(got, Allowed, "{case} as a platform administrator");
    }
}
