//! The isolation harness: two tenants with identical data (the demo fixtures); every repository
//! function, called for tenant A, never returns, counts, updates or deletes tenant B's rows.
//! Every tenant table goes through the generic checks, and every public repository function must
//! be exercised here or the test fails: new functions cannot slip past the harness.

mod common;

use std::collections::BTreeSet;

use modernize::fixtures::{ACME, DemoIds, GLOBEX, demo_tenant};
use modernize::models::*;
use modernize::repo::flows::DiscoveryInput;
use modernize::repo::imports::DataImportInput;
use modernize::repo::mappings::Review;
use modernize::repo::{Page, RepoError, assets, flows, imports, mappings, table, tenancy};
use modernize::schema::{Ownership, TABLES};
use modernize::tenancy::TenantCtx;
use sqlx::{PgConnection, PgPool};

struct World {
    a: TenantCtx,
    b: TenantCtx,
    a_ids: DemoIds,
    b_ids: DemoIds,
}

async fn world(conn: &mut PgConnection) -> World {
    let a_ids = demo_tenant(conn, ACME).await.expect("tenant A");
    let b_ids = demo_tenant(conn, GLOBEX).await.expect("tenant B");
    let a = TenantCtx::for_operator(conn, a_ids.client_account_id, Some(a_ids.engagement_id)).await.expect("ctx A");
    let b = TenantCtx::for_operator(conn, b_ids.client_account_id, Some(b_ids.engagement_id)).await.expect("ctx B");
    World { a, b, a_ids, b_ids }
}

fn tenant_of(row: &impl serde::Serialize) -> String {
    let value = serde_json::to_value(row).expect("row serialises");
    value["client_account_id"].as_str().expect("tenant key").to_owned()
}

fn assert_not_found<T: std::fmt::Debug>(result: Result<T, RepoError>, what: &str) {
    assert!(matches!(result, Err(RepoError::NotFound { .. })), "{what}: {result:?}");
}

/// get / list / count / update / delete of `T` for tenant A never touch tenant B's rows.
async fn check_table<T>(conn: &mut PgConnection, w: &World) -> &'static str
where
    T: TenantTable + IdentifiedRow + std::fmt::Debug,
{
    let name = T::TABLE;
    let a_rows = table::list::<T>(conn, &w.a, Page::ALL).await.expect("list A");
    let b_rows = table::list::<T>(conn, &w.b, Page::ALL).await.expect("list B");
    assert!(!a_rows.is_empty() && !b_rows.is_empty(), "{name}: the fixtures fill every tenant table");
    let a_tenant = w.a.client_account_id().to_string();
    assert!(a_rows.iter().all(|r| tenant_of(r) == a_tenant), "{name}: list returns only A's rows");
    assert_eq!(table::count::<T>(conn, &w.a).await.expect("count"), a_rows.len() as i64, "{name}: count");

    let b_row = &b_rows[0];
    let b_id = b_row.id();
    assert_not_found(table::get::<T>(conn, &w.a, b_id).await, &format!("{name}: get B's row as A"));
    // A patch carrying every field of B's own row: applied as A it must find nothing.
    let patch: T::Patch = serde_json::from_value(serde_json::to_value(b_row).expect("json")).expect("patch");
    assert_not_found(table::update::<T>(conn, &w.a, b_id, &patch).await, &format!("{name}: update B's row as A"));
    assert_not_found(table::delete::<T>(conn, &w.a, b_id).await, &format!("{name}: delete B's row as A"));
    let b_after = table::list::<T>(conn, &w.b, Page::ALL).await.expect("list B again");
    let json = |rows: &[T]| serde_json::to_value(rows).expect("json");
    assert_eq!(json(&b_rows), json(&b_after), "{name}: B's rows are untouched");

    // The same patch on A's own row goes through: the UPDATE itself is valid.
    let a_row = &a_rows[0];
    let own_patch: T::Patch = serde_json::from_value(serde_json::to_value(a_row).expect("json")).expect("patch");
    table::update::<T>(conn, &w.a, a_row.id(), &own_patch).await.unwrap_or_else(|e| panic!("{name}: own update: {e}"));
    name
}

#[sqlx::test(migrations = false)]
async fn every_tenant_table_is_isolated(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let w = world(&mut conn).await;
    let c = &mut *conn;
    let checked = [
        check_table::<AccessAuditLogEntry>(c, &w).await,
        check_table::<Assessment>(c, &w).await,
        check_table::<AssetDependency>(c, &w).await,
        check_table::<AssetEmbedding>(c, &w).await,
        check_table::<Asset>(c, &w).await,
        check_table::<ClientAccess>(c, &w).await,
        check_table::<CmdbSixrAnalysis>(c, &w).await,
        check_table::<MasterFlow>(c, &w).await,
        check_table::<CustomTargetField>(c, &w).await,
        check_table::<DataImport>(c, &w).await,
        check_table::<DiscoveryFlow>(c, &w).await,
        check_table::<EngagementAccess>(c, &w).await,
        check_table::<Engagement>(c, &w).await,
        check_table::<Feedback>(c, &w).await,
        check_table::<FeedbackSummary>(c, &w).await,
        check_table::<FlowDeletionAuditEntry>(c, &w).await,
        check_table::<ImportFieldMapping>(c, &w).await,
        check_table::<LlmUsageLogEntry>(c, &w).await,
        check_table::<LlmUsageSummary>(c, &w).await,
        check_table::<MigrationLogEntry>(c, &w).await,
        check_table::<MigrationWave>(c, &w).await,
        check_table::<Migration>(c, &w).await,
        check_table::<RawImportRecord>(c, &w).await,
        check_table::<RoleChangeApproval>(c, &w).await,
        check_table::<SecurityAuditLogEntry>(c, &w).await,
        check_table::<SixrAnalysis>(c, &w).await,
        check_table::<SixrAnalysisParameters>(c, &w).await,
        check_table::<SixrIteration>(c, &w).await,
        check_table::<SixrParameter>(c, &w).await,
        check_table::<SixrQuestionResponse>(c, &w).await,
        check_table::<SixrRecommendation>(c, &w).await,
        check_table::<SoftDeletedItem>(c, &w).await,
        check_table::<Tag>(c, &w).await,
        check_table::<UserAccountAssociation>(c, &w).await,
        check_table::<UserRole>(c, &w).await,
        check_table::<WavePlan>(c, &w).await,
    ];
    // asset_tags has no single id; its functions are checked in the domain harness below.
    let mut checked: BTreeSet<&str> = checked.into_iter().collect();
    checked.insert(AssetTag::TABLE);
    let tenant_tables: BTreeSet<&str> =
        TABLES.iter().filter(|t| t.ownership == Ownership::Tenant).map(|t| t.name).collect();
    assert_eq!(checked, tenant_tables, "every tenant table goes through the harness");
}

/// Public functions of the repository modules, read from their source.
fn repository_functions() -> BTreeSet<String> {
    let sources = [
        ("assets", include_str!("../src/repo/assets.rs")),
        ("flows", include_str!("../src/repo/flows.rs")),
        ("global", include_str!("../src/repo/global.rs")),
        ("imports", include_str!("../src/repo/imports.rs")),
        ("mappings", include_str!("../src/repo/mappings.rs")),
        ("table", include_str!("../src/repo/table.rs")),
        ("tenancy", include_str!("../src/repo/tenancy.rs")),
        ("users", include_str!("../src/repo/users.rs")),
    ];
    let listed = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src/repo"))
        .expect("repo dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|f| f != "mod.rs")
        .count();
    assert_eq!(listed, sources.len(), "a new repository module must be added to this harness");
    sources
        .iter()
        .flat_map(|(module, source)| {
            source.lines().filter_map(move |line| {
                let rest = line.strip_prefix("pub async fn ")?;
                Some(format!("{module}::{}", rest.split(['(', '<']).next()?))
            })
        })
        .collect()
}

#[sqlx::test(migrations = false)]
async fn every_repository_function_is_isolated(pool: PgPool) {
    let mut conn = common::migrated(&pool).await;
    let w = world(&mut conn).await;
    let c = &mut *conn;
    let mut exercised = BTreeSet::new();
    let mut done = |name: &str| exercised.insert(name.to_owned());

    // The generic functions: every_tenant_table_is_isolated.
    for name in ["insert", "get", "list", "count", "update", "delete"] {
        done(&format!("table::{name}"));
    }
    let b_engagement = table::get::<Engagement>(c, &w.b, w.b_ids.engagement_id).await.expect("B's engagement");

    // tenancy
    let engagements = tenancy::list_engagements(c, &w.a, Page::ALL).await.expect("engagements");
    assert!(engagements.iter().all(|e| e.client_account_id == w.a.client_account_id()));
    done("tenancy::list_engagements");
    let created = tenancy::create_engagement(
        c,
        &w.a,
        &serde_json::from_value(serde_json::json!({"name": "Second wave", "slug": "second"})).expect("new"),
    )
    .await
    .expect("create");
    assert_eq!(created.client_account_id, w.a.client_account_id());
    done("tenancy::create_engagement");
    let before = tenancy::list_account_members(c, &w.b, Page::ALL).await.expect("B members");
    tenancy::add_account_member(c, &w.a, w.b_ids.viewer_user_id, MemberRole::Viewer).await.expect("add member");
    assert_eq!(before, tenancy::list_account_members(c, &w.b, Page::ALL).await.expect("B members"));
    let a_members = tenancy::list_account_members(c, &w.a, Page::ALL).await.expect("A members");
    assert!(a_members.iter().all(|m| m.client_account_id == w.a.client_account_id()));
    done("tenancy::add_account_member");
    done("tenancy::list_account_members");
    let grant =
        tenancy::grant_engagement_access(c, &w.a, w.b_ids.viewer_user_id, MemberRole::Viewer).await.expect("grant");
    assert_eq!((grant.client_account_id, grant.engagement_id), (w.a.client_account_id(), w.a_ids.engagement_id));
    done("tenancy::grant_engagement_access");

    // flows
    let b_flow = table::get::<DiscoveryFlow>(c, &w.b, w.b_ids.discovery_flow_id).await.expect("B flow");
    assert_not_found(
        flows::complete_phase(c, &w.a, w.b_ids.discovery_flow_id, DiscoveryPhase::FieldMapping).await,
        "complete B's phase as A",
    );
    assert_eq!(b_flow, table::get::<DiscoveryFlow>(c, &w.b, w.b_ids.discovery_flow_id).await.expect("B flow"));
    done("flows::complete_phase");
    assert!(flows::discovery_flows_of(c, &w.a, w.b_ids.master_flow_id).await.expect("flows").is_empty());
    done("flows::discovery_flows_of");
    let (master, discovery, _) = flows::start_discovery(c, &w.a, &DiscoveryInput::default()).await.expect("start");
    assert_eq!(
        (master.client_account_id, discovery.client_account_id),
        (w.a.client_account_id(), w.a.client_account_id())
    );
    done("flows::start_discovery");

    // imports: pointing at B's master flow is refused by the composite foreign key
    let input = DataImportInput {
        filename: Some("x.csv".into()),
        master_flow_id: Some(w.b_ids.master_flow_id),
        ..Default::default()
    };
    let error = imports::create_import(c, &w.a, input).await.expect_err("cross-tenant master flow");
    assert!(matches!(error, RepoError::Invalid { .. }), "{error}");
    done("imports::create_import");

    // mappings
    let b_mappings = table::list::<ImportFieldMapping>(c, &w.b, Page::ALL).await.expect("B mappings");
    assert_not_found(mappings::review_mapping(c, &w.a, b_mappings[0].id, &Review::Reject).await, "review B's mapping");
    assert_eq!(b_mappings, table::list::<ImportFieldMapping>(c, &w.b, Page::ALL).await.expect("B mappings"));
    done("mappings::review_mapping");
    let b_learned = mappings::learned_mappings(c, &w.b).await.expect("B learned");
    let forgotten = mappings::forget_learned_mapping(c, &w.a, "Name").await.expect("forget");
    assert_eq!(forgotten, 1, "only A's own decision is forgotten");
    assert_eq!(b_learned, mappings::learned_mappings(c, &w.b).await.expect("B learned"));
    let a_learned = mappings::learned_mappings(c, &w.a).await.expect("A learned");
    assert!(a_learned.iter().all(|l| l.source_field != "Name") && b_learned.iter().any(|l| l.source_field == "Name"));
    done("mappings::learned_mappings");
    done("mappings::forget_learned_mapping");

    // assets
    assert!(assets::assets_of_master_flow(c, &w.a, w.b_ids.master_flow_id).await.expect("assets").is_empty());
    let own = assets::assets_of_master_flow(c, &w.a, w.a_ids.master_flow_id).await.expect("own assets");
    assert_eq!(own.len(), 3);
    done("assets::assets_of_master_flow");
    let b_assets = table::list::<Asset>(c, &w.b, Page::ALL).await.expect("B assets");
    let b_asset = b_assets.iter().find(|a| a.name == "db-01").expect("the tagged asset");
    let b_tag = &table::list::<Tag>(c, &w.b, Page::ALL).await.expect("B tags")[0];
    assert!(assets::tags_of_asset(c, &w.a, b_asset.id).await.expect("tags").is_empty());
    assert_eq!(assets::tags_of_asset(c, &w.b, b_asset.id).await.expect("tags").len(), 1);
    done("assets::tags_of_asset");
    assert!(assets::tag_asset(c, &w.a, b_asset.id, b_tag.id, "user").await.is_err(), "tagging B's asset as A");
    done("assets::tag_asset");
    assert_not_found(assets::untag_asset(c, &w.a, b_asset.id, b_tag.id).await, "untag B's asset as A");
    assert_eq!(assets::tags_of_asset(c, &w.b, b_asset.id).await.expect("tags").len(), 1);
    assert_eq!(table::count::<AssetTag>(c, &w.b).await.expect("count"), 1);
    done("assets::untag_asset");
    assert_eq!(b_engagement, table::get::<Engagement>(c, &w.b, w.b_ids.engagement_id).await.expect("B's engagement"));

    // Global tables: no tenant to leak; listed so that a new function must be placed in one list.
    let global = [
        "global::insert_global",
        "global::get_global",
        "global::list_global",
        "global::update_global",
        "global::delete_global",
        "tenancy::create_client_account",
        "tenancy::list_client_accounts",
        "tenancy::find_client_account_by_slug",
        "users::create_user",
        "users::find_user_by_email",
        "users::authenticate",
        "users::list_users",
        "users::memberships_of_users",
        "users::create_api_token",
        "users::list_api_tokens",
        "users::revoke_api_token",
        "users::authenticate_token",
    ];
    let accounted: BTreeSet<String> = exercised.iter().cloned().chain(global.map(str::to_owned)).collect();
    assert_eq!(repository_functions(), accounted, "every repository function is in the harness");
}
