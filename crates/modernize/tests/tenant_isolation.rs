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
use modernize::repo::{
    Page, RepoError, assets, audit, dependencies, flows, hosts, imports, mappings, rvtools, sixr, table, tenancy,
};
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
    let a_ids = demo_tenant(conn, common::operator(), ACME).await.expect("tenant A");
    let b_ids = demo_tenant(conn, common::operator(), GLOBEX).await.expect("tenant B");
    let a = TenantCtx::for_operator(conn, common::operator(), a_ids.client_account_id, Some(a_ids.engagement_id))
        .await
        .expect("ctx A");
    let b = TenantCtx::for_operator(conn, common::operator(), b_ids.client_account_id, Some(b_ids.engagement_id))
        .await
        .expect("ctx B");
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
    let a_rows = as_tenant!(conn, &w.a, |tx| table::list::<T>(&mut tx, Page::ALL)).expect("list A");
    let b_rows = as_tenant!(conn, &w.b, |tx| table::list::<T>(&mut tx, Page::ALL)).expect("list B");
    assert!(!a_rows.is_empty() && !b_rows.is_empty(), "{name}: the fixtures fill every tenant table");
    let a_tenant = w.a.client_account_id().to_string();
    assert!(a_rows.iter().all(|r| tenant_of(r) == a_tenant), "{name}: list returns only A's rows");
    assert_eq!(
        as_tenant!(conn, &w.a, |tx| table::count::<T>(&mut tx)).expect("count"),
        a_rows.len() as i64,
        "{name}: count"
    );

    let b_row = &b_rows[0];
    let b_id = b_row.id();
    assert_not_found(as_tenant!(conn, &w.a, |tx| table::get::<T>(&mut tx, b_id)), &format!("{name}: get B's row as A"));
    // A patch carrying every field of B's own row: applied as A it must find nothing.
    let patch: T::Patch = serde_json::from_value(serde_json::to_value(b_row).expect("json")).expect("patch");
    assert_not_found(
        as_tenant!(conn, &w.a, |tx| table::update::<T>(&mut tx, b_id, &patch)),
        &format!("{name}: update B's row as A"),
    );
    assert_not_found(
        as_tenant!(conn, &w.a, |tx| table::delete::<T>(&mut tx, b_id)),
        &format!("{name}: delete B's row as A"),
    );
    let b_after = as_tenant!(conn, &w.b, |tx| table::list::<T>(&mut tx, Page::ALL)).expect("list B again");
    let json = |rows: &[T]| serde_json::to_value(rows).expect("json");
    assert_eq!(json(&b_rows), json(&b_after), "{name}: B's rows are untouched");

    // The same patch on A's own row goes through: the UPDATE itself is valid.
    let a_row = &a_rows[0];
    let own_patch: T::Patch = serde_json::from_value(serde_json::to_value(a_row).expect("json")).expect("patch");
    as_tenant!(conn, &w.a, |tx| table::update::<T>(&mut tx, a_row.id(), &own_patch))
        .unwrap_or_else(|e| panic!("{name}: own update: {e}"));
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

type PhaseRecords = (Vec<DataImport>, Vec<DiscoveryFlow>, MasterFlow, Vec<ImportFieldMapping>, Vec<RawImportRecord>);
type PhaseAssets = (Vec<Asset>, Vec<AssetDependency>, Vec<SixrAnalysis>, Vec<SixrRecommendation>);

/// B's rows the discovery phases write, to compare before and after A's calls.
async fn phase_rows(c: &mut PgConnection, w: &World) -> (PhaseRecords, PhaseAssets) {
    let b = &w.b;
    let records = (
        as_tenant!(c, b, |tx| table::list::<DataImport>(&mut tx, Page::ALL)).expect("imports"),
        as_tenant!(c, b, |tx| table::list::<DiscoveryFlow>(&mut tx, Page::ALL)).expect("flows"),
        as_tenant!(c, b, |tx| flows::get_master_flow(&mut tx, w.b_ids.master_flow_id)).expect("master flow"),
        as_tenant!(c, b, |tx| table::list::<ImportFieldMapping>(&mut tx, Page::ALL)).expect("mappings"),
        as_tenant!(c, b, |tx| table::list::<RawImportRecord>(&mut tx, Page::ALL)).expect("records"),
    );
    let assets = (
        as_tenant!(c, b, |tx| table::list::<Asset>(&mut tx, Page::ALL)).expect("assets"),
        as_tenant!(c, b, |tx| table::list::<AssetDependency>(&mut tx, Page::ALL)).expect("dependencies"),
        as_tenant!(c, b, |tx| table::list::<SixrAnalysis>(&mut tx, Page::ALL)).expect("analyses"),
        as_tenant!(c, b, |tx| table::list::<SixrRecommendation>(&mut tx, Page::ALL)).expect("recommendations"),
    );
    (records, assets)
}

/// Records given as COPY text rows, copied and stored as the import phase does.
async fn store_records(tx: &mut modernize::tenancy::TenantTx<'_>, rows: &str) -> Result<(), RepoError> {
    let mut copy = imports::copy_records(tx).await?;
    copy.send(rows.as_bytes()).await?;
    copy.finish().await?;
    imports::store_copied_records(tx).await
}

/// Public functions of the repository modules, read from their source.
fn repository_functions() -> BTreeSet<String> {
    let sources = [
        ("assets", include_str!("../src/repo/assets.rs")),
        ("audit", include_str!("../src/repo/audit.rs")),
        ("dependencies", include_str!("../src/repo/dependencies.rs")),
        ("flows", include_str!("../src/repo/flows.rs")),
        ("global", include_str!("../src/repo/global.rs")),
        ("hosts", include_str!("../src/repo/hosts.rs")),
        ("imports", include_str!("../src/repo/imports.rs")),
        ("mappings", include_str!("../src/repo/mappings.rs")),
        ("rvtools", include_str!("../src/repo/rvtools.rs")),
        ("sixr", include_str!("../src/repo/sixr.rs")),
        ("table", include_str!("../src/repo/table.rs")),
        ("tenancy", include_str!("../src/repo/tenancy.rs")),
        ("uploads", include_str!("../src/repo/uploads.rs")),
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
    let b_engagement =
        as_tenant!(c, &w.b, |tx| table::get::<Engagement>(&mut tx, w.b_ids.engagement_id)).expect("B's engagement");

    // tenancy
    let engagements = as_tenant!(c, &w.a, |tx| tenancy::list_engagements(&mut tx, Page::ALL)).expect("engagements");
    assert!(engagements.iter().all(|e| e.client_account_id == w.a.client_account_id()));
    done("tenancy::list_engagements");
    let created = as_tenant!(c, &w.a, |tx| tenancy::create_engagement(
        &mut tx,
        &serde_json::from_value(serde_json::json!({"name": "Second wave", "slug": "second"})).expect("new")
    ))
    .expect("create");
    assert_eq!(created.client_account_id, w.a.client_account_id());
    done("tenancy::create_engagement");
    let before = as_tenant!(c, &w.b, |tx| tenancy::list_account_members(&mut tx, Page::ALL)).expect("B members");
    as_tenant!(c, &w.a, |tx| tenancy::add_account_member(&mut tx, w.b_ids.viewer_user_id, MemberRole::Viewer))
        .expect("add member");
    assert_eq!(before, as_tenant!(c, &w.b, |tx| tenancy::list_account_members(&mut tx, Page::ALL)).expect("B members"));
    let a_members = as_tenant!(c, &w.a, |tx| tenancy::list_account_members(&mut tx, Page::ALL)).expect("A members");
    assert!(a_members.iter().all(|m| m.client_account_id == w.a.client_account_id()));
    done("tenancy::add_account_member");
    done("tenancy::list_account_members");
    let grant =
        as_tenant!(c, &w.a, |tx| tenancy::grant_engagement_access(&mut tx, w.b_ids.viewer_user_id, MemberRole::Viewer))
            .expect("grant");
    assert_eq!((grant.client_account_id, grant.engagement_id), (w.a.client_account_id(), w.a_ids.engagement_id));
    done("tenancy::grant_engagement_access");
    // B's grants (its analyst's, from the fixtures) are neither listed nor revoked as A.
    let b_grants = as_tenant!(c, &w.b, |tx| tenancy::list_engagement_access(&mut tx)).expect("B grants");
    assert!(b_grants.iter().any(|g| g.user.id == w.b_ids.analyst_user_id), "{b_grants:?}");
    let a_grants = as_tenant!(c, &w.a, |tx| tenancy::list_engagement_access(&mut tx)).expect("A grants");
    assert!(!a_grants.is_empty(), "A's grants are listed");
    assert!(
        a_grants
            .iter()
            .all(|g| (g.client_account_id, g.engagement_id) == (w.a.client_account_id(), w.a_ids.engagement_id))
    );
    done("tenancy::list_engagement_access");
    assert_not_found(
        as_tenant!(c, &w.a, |tx| tenancy::revoke_engagement_access(&mut tx, w.b_ids.analyst_user_id)),
        "revoke B's analyst's grant as A",
    );
    assert_eq!(b_grants, as_tenant!(c, &w.b, |tx| tenancy::list_engagement_access(&mut tx)).expect("B grants"));
    done("tenancy::revoke_engagement_access");
    // Members: B's admin is no member of A, whatever A asks.
    let b_admin = w.b_ids.admin_user_id;
    let b_members = as_tenant!(c, &w.b, |tx| tenancy::list_account_members(&mut tx, Page::ALL)).expect("B members");
    let members = as_tenant!(c, &w.a, |tx| tenancy::list_active_members(&mut tx)).expect("A members");
    assert!(members.iter().any(|m| m.user.id == w.a_ids.admin_user_id) && members.iter().all(|m| m.user.id != b_admin));
    done("tenancy::list_active_members");
    assert_eq!(as_tenant!(c, &w.a, |tx| tenancy::find_member(&mut tx, b_admin, true)).expect("find"), None);
    done("tenancy::find_member");
    let admins = as_tenant!(c, &w.a, |tx| tenancy::lock_active_admins(&mut tx)).expect("admins");
    assert_eq!(admins, vec![w.a_ids.admin_user_id]);
    done("tenancy::lock_active_admins");
    assert_not_found(
        as_tenant!(c, &w.a, |tx| tenancy::set_member_role(&mut tx, b_admin, MemberRole::Viewer)),
        "change B's admin's role as A",
    );
    done("tenancy::set_member_role");
    assert_not_found(as_tenant!(c, &w.a, |tx| tenancy::deactivate_member(&mut tx, b_admin)), "remove B's admin as A");
    done("tenancy::deactivate_member");
    assert_eq!(b_members, as_tenant!(c, &w.b, |tx| tenancy::list_account_members(&mut tx, Page::ALL)).expect("B"));

    // flows
    let b_flow =
        as_tenant!(c, &w.b, |tx| table::get::<DiscoveryFlow>(&mut tx, w.b_ids.discovery_flow_id)).expect("B flow");
    assert_not_found(
        as_tenant!(c, &w.a, |tx| flows::complete_phase(
            &mut tx,
            w.b_ids.discovery_flow_id,
            DiscoveryPhase::FieldMapping
        )),
        "complete B's phase as A",
    );
    assert_eq!(
        b_flow,
        as_tenant!(c, &w.b, |tx| table::get::<DiscoveryFlow>(&mut tx, w.b_ids.discovery_flow_id)).expect("B flow")
    );
    done("flows::complete_phase");
    assert!(
        as_tenant!(c, &w.a, |tx| flows::discovery_flows_of(&mut tx, w.b_ids.master_flow_id)).expect("flows").is_empty()
    );
    done("flows::discovery_flows_of");
    let listed = as_tenant!(c, &w.a, |tx| flows::list_discovery_flows(&mut tx, Page::ALL)).expect("flows");
    assert!(!listed.is_empty() && listed.iter().all(|f| f.client_account_id == w.a.client_account_id()));
    assert!(listed.iter().all(|f| f.id != w.b_ids.discovery_flow_id));
    done("flows::list_discovery_flows");
    let masters = as_tenant!(c, &w.a, |tx| flows::list_master_flows(&mut tx, Page::ALL)).expect("master flows");
    assert!(!masters.is_empty() && masters.iter().all(|m| m.client_account_id == w.a.client_account_id()));
    assert!(masters.iter().all(|m| m.flow_id != w.b_ids.master_flow_id));
    done("flows::list_master_flows");
    assert_not_found(
        as_tenant!(c, &w.a, |tx| flows::get_master_flow(&mut tx, w.b_ids.master_flow_id)),
        "get B's master flow as A",
    );
    let own = as_tenant!(c, &w.a, |tx| flows::get_master_flow(&mut tx, w.a_ids.master_flow_id)).expect("own");
    assert_eq!(own.client_account_id, w.a.client_account_id());
    done("flows::get_master_flow");
    let a_imports = as_tenant!(c, &w.a, |tx| imports::list_imports(&mut tx, Page::ALL)).expect("imports");
    let b_imports = as_tenant!(c, &w.b, |tx| imports::list_imports(&mut tx, Page::ALL)).expect("B imports");
    assert!(!a_imports.is_empty() && !b_imports.is_empty());
    assert!(a_imports.iter().all(|i| i.import.client_account_id == w.a.client_account_id()));
    done("imports::list_imports");
    assert_not_found(
        as_tenant!(c, &w.a, |tx| imports::get_import(&mut tx, b_imports[0].import.id)),
        "get B's import as A",
    );
    let own = as_tenant!(c, &w.a, |tx| imports::get_import(&mut tx, a_imports[0].import.id)).expect("own import");
    assert_eq!(own.import.client_account_id, w.a.client_account_id());
    done("imports::get_import");
    let b_import = b_imports[0].import.id;
    assert!(
        as_tenant!(c, &w.a, |tx| mappings::mappings_of_import(&mut tx, b_import)).expect("mappings").is_empty(),
        "B's mappings as A"
    );
    assert!(!as_tenant!(c, &w.b, |tx| mappings::mappings_of_import(&mut tx, b_import)).expect("own").is_empty());
    done("mappings::mappings_of_import");
    assert!(
        as_tenant!(c, &w.a, |tx| imports::import_issues(&mut tx, b_import, (0, 0), 100)).expect("issues").is_empty(),
        "B's issues as A"
    );
    as_tenant!(c, &w.a, |tx| imports::import_issues(&mut tx, a_imports[0].import.id, (0, 0), 100)).expect("own");
    done("imports::import_issues");
    let (master, discovery, _) =
        as_tenant!(c, &w.a, |tx| flows::start_discovery(&mut tx, &DiscoveryInput::default())).expect("start");
    assert_eq!(
        (master.client_account_id, discovery.client_account_id),
        (w.a.client_account_id(), w.a.client_account_id())
    );
    done("flows::start_discovery");
    // The two steps of a discovery whose file comes later: a master flow, then its child flow.
    let master =
        as_tenant!(c, &w.a, |tx| flows::create_master_flow(&mut tx, &DiscoveryInput::default())).expect("master");
    assert_eq!(master.client_account_id, w.a.client_account_id());
    done("flows::create_master_flow");
    as_tenant!(c, &w.a, |tx| flows::create_discovery_flow(&mut tx, w.b_ids.master_flow_id, &DiscoveryInput::default()))
        .expect_err("a child flow of B's master flow");
    let child =
        as_tenant!(c, &w.a, |tx| flows::create_discovery_flow(&mut tx, master.flow_id, &DiscoveryInput::default()))
            .expect("child flow");
    assert_eq!(child.client_account_id, w.a.client_account_id());
    done("flows::create_discovery_flow");
    let new_import = |master_flow_id: uuid::Uuid| -> NewDataImport {
        serde_json::from_value(serde_json::json!(
            {"import_name": "later", "filename": "later.csv", "master_flow_id": master_flow_id}
        ))
        .expect("new import")
    };
    as_tenant!(c, &w.a, |tx| imports::insert_import(&mut tx, new_import(w.b_ids.master_flow_id)))
        .expect_err("an import under B's master flow");
    let inserted =
        as_tenant!(c, &w.a, |tx| imports::insert_import(&mut tx, new_import(master.flow_id))).expect("own import");
    assert_eq!(inserted.client_account_id, w.a.client_account_id());
    done("imports::insert_import");
    assert_not_found(
        as_tenant!(c, &w.a, |tx| imports::lock_import(&mut tx, b_imports[0].import.id)),
        "lock B's import as A",
    );
    as_tenant!(c, &w.a, |tx| imports::lock_import(&mut tx, inserted.id)).expect("lock own import");
    done("imports::lock_import");
    assert_not_found(
        as_tenant!(c, &w.a, |tx| imports::cancel_pending_import(&mut tx, b_imports[0].import.id, "expired")),
        "cancel B's import as A",
    );
    let cancelled = as_tenant!(c, &w.a, |tx| imports::cancel_pending_import(&mut tx, inserted.id, "expired"))
        .expect("cancel own pending import");
    assert_eq!((cancelled.client_account_id, cancelled.status), (w.a.client_account_id(), ImportStatus::Cancelled));
    done("imports::cancel_pending_import");

    // imports: pointing at B's master flow is refused by the composite foreign key
    let input = DataImportInput {
        filename: Some("x.csv".into()),
        master_flow_id: Some(w.b_ids.master_flow_id),
        ..Default::default()
    };
    let error = as_tenant!(c, &w.a, |tx| imports::create_import(&mut tx, input)).expect_err("cross-tenant master flow");
    assert!(matches!(error, RepoError::Invalid { .. }), "{error}");
    done("imports::create_import");

    // mappings
    let b_mappings =
        as_tenant!(c, &w.b, |tx| table::list::<ImportFieldMapping>(&mut tx, Page::ALL)).expect("B mappings");
    assert_not_found(
        as_tenant!(c, &w.a, |tx| mappings::review_mapping(&mut tx, b_mappings[0].id, &Review::Reject)),
        "review B's mapping",
    );
    assert_eq!(
        b_mappings,
        as_tenant!(c, &w.b, |tx| table::list::<ImportFieldMapping>(&mut tx, Page::ALL)).expect("B mappings")
    );
    done("mappings::review_mapping");
    let b_learned = as_tenant!(c, &w.b, |tx| mappings::learned_mappings(&mut tx)).expect("B learned");
    let forgotten = as_tenant!(c, &w.a, |tx| mappings::forget_learned_mapping(&mut tx, "Name")).expect("forget");
    assert_eq!(forgotten, 1, "only A's own decision is forgotten");
    assert_eq!(b_learned, as_tenant!(c, &w.b, |tx| mappings::learned_mappings(&mut tx)).expect("B learned"));
    let a_learned = as_tenant!(c, &w.a, |tx| mappings::learned_mappings(&mut tx)).expect("A learned");
    assert!(a_learned.iter().all(|l| l.source_field != "Name") && b_learned.iter().any(|l| l.source_field == "Name"));
    done("mappings::learned_mappings");
    done("mappings::forget_learned_mapping");

    // assets
    assert!(
        as_tenant!(c, &w.a, |tx| assets::assets_of_master_flow(&mut tx, w.b_ids.master_flow_id))
            .expect("assets")
            .is_empty()
    );
    let own =
        as_tenant!(c, &w.a, |tx| assets::assets_of_master_flow(&mut tx, w.a_ids.master_flow_id)).expect("own assets");
    assert_eq!(own.len(), 3);
    done("assets::assets_of_master_flow");
    let b_assets = as_tenant!(c, &w.b, |tx| table::list::<Asset>(&mut tx, Page::ALL)).expect("B assets");
    let b_asset = b_assets.iter().find(|a| a.name == "db-01").expect("the tagged asset");
    let b_tag = &as_tenant!(c, &w.b, |tx| table::list::<Tag>(&mut tx, Page::ALL)).expect("B tags")[0];
    assert!(as_tenant!(c, &w.a, |tx| assets::tags_of_asset(&mut tx, b_asset.id)).expect("tags").is_empty());
    assert_eq!(as_tenant!(c, &w.b, |tx| assets::tags_of_asset(&mut tx, b_asset.id)).expect("tags").len(), 1);
    done("assets::tags_of_asset");
    assert!(
        as_tenant!(c, &w.a, |tx| assets::tag_asset(&mut tx, b_asset.id, b_tag.id, "user")).is_err(),
        "tagging B's asset as A"
    );
    done("assets::tag_asset");
    assert_not_found(
        as_tenant!(c, &w.a, |tx| assets::untag_asset(&mut tx, b_asset.id, b_tag.id)),
        "untag B's asset as A",
    );
    assert_eq!(as_tenant!(c, &w.b, |tx| assets::tags_of_asset(&mut tx, b_asset.id)).expect("tags").len(), 1);
    assert_eq!(as_tenant!(c, &w.b, |tx| table::count::<AssetTag>(&mut tx)).expect("count"), 1);
    done("assets::untag_asset");
    let filter = assets::AssetFilter { search: Some("db-01".into()), ..Default::default() };
    let (sort, order) = (assets::AssetSort::Name, assets::SortOrder::Asc);
    let found =
        as_tenant!(c, &w.a, |tx| assets::list_assets(&mut tx, &filter, sort, order, None, 100)).expect("assets");
    assert!(!found.is_empty() && found.iter().all(|a| a.asset.client_account_id == w.a.client_account_id()));
    assert_eq!(as_tenant!(c, &w.a, |tx| assets::count_assets(&mut tx, &filter)).expect("count"), found.len() as i64);
    done("assets::count_assets");
    // The executed plan of the same list counts only A's rows.
    let plan =
        as_tenant!(c, &w.a, |tx| assets::explain_list_assets(&mut tx, &filter, sort, order, None, 100)).expect("plan");
    assert_eq!(plan[0]["Plan"]["Actual Rows"].as_f64(), Some(found.len() as f64), "{plan:#}");
    done("assets::explain_list_assets");
    // B's asset as the keyset cursor gives A only A's rows after that key.
    let key = assets::AssetKey { value: Some(String::new()), id: b_asset.id };
    let after_b =
        as_tenant!(c, &w.a, |tx| assets::list_assets(&mut tx, &Default::default(), sort, order, Some(&key), 100))
            .expect("assets");
    assert!(after_b.iter().all(|a| a.asset.client_account_id == w.a.client_account_id()), "{after_b:?}");
    // The same page reading the view's columns only: the same (A's) assets.
    let views = as_tenant!(c, &w.a, |tx| assets::list_asset_rows::<modernize::service::assets::AssetView>(
        &mut tx,
        &Default::default(),
        sort,
        order,
        Some(&key),
        100
    ))
    .expect("asset views");
    let view_ids: Vec<uuid::Uuid> = views.iter().map(|v| v.asset.id).collect();
    let asset_ids: Vec<uuid::Uuid> = after_b.iter().map(|a| a.asset.id).collect();
    assert!(!view_ids.is_empty());
    assert_eq!(view_ids, asset_ids);
    done("assets::list_asset_rows");
    // A bulk edit of every asset as A changes none of B's.
    let b_before = as_tenant!(c, &w.b, |tx| table::list::<Asset>(&mut tx, Page::ALL)).expect("B assets");
    let patch = AssetPatch { location: Some(Some("edited by A".into())), ..Default::default() };
    let changed = as_tenant!(c, &w.a, |tx| assets::update_assets(&mut tx, &Default::default(), &patch)).expect("bulk");
    assert_eq!(changed as i64, as_tenant!(c, &w.a, |tx| table::count::<Asset>(&mut tx)).expect("count"));
    assert_eq!(b_before, as_tenant!(c, &w.b, |tx| table::list::<Asset>(&mut tx, Page::ALL)).expect("B assets"));
    done("assets::update_assets");
    let b_web = GLOBEX.id("asset/web-01").to_string();
    assert!(as_tenant!(c, &w.a, |tx| audit::audit_trail(&mut tx, "asset", &b_web, "read")).expect("trail").is_empty());
    assert_eq!(as_tenant!(c, &w.b, |tx| audit::audit_trail(&mut tx, "asset", &b_web, "read")).expect("trail").len(), 1);
    done("audit::audit_trail");
    let b_web_id = GLOBEX.id("asset/web-01");
    let b_marked = as_tenant!(c, &w.b, |tx| audit::resources_with_action(&mut tx, "asset", &[b_web_id], "read"));
    assert_eq!(b_marked.expect("B's own"), vec![b_web_id]);
    let a_marked = as_tenant!(c, &w.a, |tx| audit::resources_with_action(&mut tx, "asset", &[b_web_id], "read"));
    assert!(a_marked.expect("as A").is_empty(), "B's audit trail seen by A");
    done("audit::resources_with_action");
    // Dependencies and 6R: B's asset ids given to A find nothing; A's own are found.
    let b_ids = [GLOBEX.id("asset/web-01"), GLOBEX.id("asset/db-01")];
    let a_ids = [ACME.id("asset/web-01"), ACME.id("asset/db-01")];
    assert!(as_tenant!(c, &w.a, |tx| dependencies::edges_touching(&mut tx, &b_ids, false)).expect("edges").is_empty());
    let own = as_tenant!(c, &w.a, |tx| dependencies::edges_touching(&mut tx, &a_ids, true)).expect("edges");
    assert!(own.len() == 1 && own[0].client_account_id == w.a.client_account_id());
    done("dependencies::edges_touching");
    assert!(as_tenant!(c, &w.a, |tx| dependencies::node_assets(&mut tx, &b_ids)).expect("nodes").is_empty());
    assert_eq!(as_tenant!(c, &w.a, |tx| dependencies::node_assets(&mut tx, &a_ids)).expect("nodes").len(), 2);
    done("dependencies::node_assets");
    let listed = as_tenant!(c, &w.a, |tx| dependencies::list_dependencies(&mut tx, None, None, 100)).expect("list");
    assert_eq!(listed.len(), 1);
    assert!(
        as_tenant!(c, &w.a, |tx| dependencies::list_dependencies(&mut tx, Some(b_ids[0]), None, 100))
            .expect("list")
            .is_empty()
    );
    done("dependencies::list_dependencies");
    assert_eq!(as_tenant!(c, &w.a, |tx| dependencies::count_dependencies(&mut tx, None)).expect("count"), 1);
    assert_eq!(as_tenant!(c, &w.a, |tx| dependencies::count_dependencies(&mut tx, Some(b_ids[0]))).expect("count"), 0);
    done("dependencies::count_dependencies");
    assert!(
        as_tenant!(c, &w.a, |tx| sixr::latest_recommendation(&mut tx, b_ids[0])).expect("recommendation").is_none()
    );
    assert!(
        as_tenant!(c, &w.a, |tx| sixr::latest_recommendation(&mut tx, a_ids[0])).expect("recommendation").is_some()
    );
    done("sixr::latest_recommendation");
    let counts = as_tenant!(c, &w.a, |tx| sixr::strategy_counts(&mut tx)).expect("counts");
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<i64>(), 3, "A's three assets: {counts:?}");
    done("sixr::strategy_counts");
    done("assets::list_assets");
    assert_eq!(
        b_engagement,
        as_tenant!(c, &w.b, |tx| table::get::<Engagement>(&mut tx, w.b_ids.engagement_id)).expect("B's engagement")
    );

    // The phases' repository functions (issue 10 item 2): given B's flows and import, A reads
    // nothing of B's and changes none of B's rows.
    let (a_import, b_import) = (ACME.id("data_import/cmdb"), GLOBEX.id("data_import/cmdb"));
    let b_scope = flows::PhaseScope {
        master_flow_id: w.b_ids.master_flow_id,
        discovery_flow_id: w.b_ids.discovery_flow_id,
        data_import_id: b_import,
    };
    // The RVTools sheets: rows naming B's asset (its identity, its name) staged and applied as A
    // match none of B's assets; a host for B's flows is refused; B's rows are compared below.
    let b_asset = as_tenant!(c, &w.b, |tx| table::list::<Asset>(&mut tx, Page::ALL))
        .expect("B's assets")
        .into_iter()
        .find(|a| a.data_import_id == Some(b_import))
        .expect("an asset of B's import");
    // As B: the asset a VM of an RVTools import would be, found by its UUID identity or its name.
    let vm_patch = AssetPatch {
        dedup_key: Some(Some("uuid:vc.example/b-vm".into())),
        serial_number: Some(Some("SN-ONLY-B".into())),
        custom_attributes: Some(serde_json::json!({"vmware": {"vm_name": b_asset.name, "vcenter": "vc.example"}})),
        ..Default::default()
    };
    as_tenant!(c, &w.b, |tx| table::update::<Asset>(&mut tx, b_asset.id, &vm_patch)).expect("B's VM");
    let disk = modernize::discovery::rvtools::VmRow {
        file_row: 2,
        uuid_key: Some("uuid:vc.example/b-vm".into()),
        vm: b_asset.name.clone(),
        vm_column: "VM".into(),
        vcenter: "vc.example".into(),
        fact: serde_json::json!({"row": 2, "capacity_gb": 1.0}),
    };
    let applied = as_tenant!(c, &w.a, |tx| async {
        imports::create_issue_staging(&mut tx).await?;
        rvtools::create_staging(&mut tx).await?;
        rvtools::stage_vm_rows(&mut tx, "vDisk", std::slice::from_ref(&disk)).await?;
        rvtools::apply_vm_sheet(&mut tx, b_import, "vDisk", "disks").await
    })
    .expect("vDisk as A");
    assert_eq!((applied.rows, applied.vms, applied.unmatched), (1, 0, 1));
    let host = modernize::discovery::rvtools::HostRow {
        file_row: 2,
        host: "esx-isolation.example".into(),
        serial_number: None,
        os_version: None,
        cpu_cores: Some(8),
        memory_gb: None,
        manufacturer: None,
        model: None,
        datacenter: None,
        vmware: serde_json::json!({"esxi_host": true}),
    };
    let placed = as_tenant!(c, &w.a, |tx| async {
        imports::create_issue_staging(&mut tx).await?;
        hosts::create_staging(&mut tx).await?;
        hosts::stage_sheet_rows(&mut tx, "vHost", std::slice::from_ref(&host)).await?;
        hosts::place_hosts(&mut tx, &b_scope).await
    });
    placed.expect_err("a host under B's flows");
    // A host with the serial number of B's asset, under A's own flows, matches none of B's
    // assets; B's VMs are not A's to place, nor B's import A's to write the issues of (rolled
    // back: A's data stays).
    let named_as_b = modernize::discovery::rvtools::HostRow {
        host: "esx-only-b.example".into(),
        serial_number: Some("sn-only-b".into()),
        ..host.clone()
    };
    let a_scope = flows::PhaseScope {
        master_flow_id: w.a_ids.master_flow_id,
        discovery_flow_id: w.a_ids.discovery_flow_id,
        data_import_id: a_import,
    };
    {
        let mut tx = modernize::tenancy::TenantTx::begin(&mut *c, &w.a).await.expect("tenant transaction");
        imports::create_issue_staging(&mut tx).await.expect("issue staging");
        imports::stage_issues(
            &mut tx,
            &[modernize::discovery::rvtools::SheetIssue::sheet_not_read("vCPU", "x".into())],
        )
        .await
        .expect("an issue");
        hosts::create_staging(&mut tx).await.expect("staging");
        hosts::stage_sheet_rows(&mut tx, "vHost", std::slice::from_ref(&named_as_b)).await.expect("stage");
        hosts::stage_vm_hosts(&mut tx, b_import).await.expect("B's VMs");
        let placed = hosts::place_hosts(&mut tx, &a_scope).await.expect("A's host");
        assert_eq!((placed.sheet_created, placed.matched, placed.ambiguous, placed.vm_hosts_created), (1, 0, 0, 0));
        assert_eq!(hosts::link_vms_to_hosts(&mut tx, b_import).await.expect("placements"), 0);
        let (count, _) = imports::store_sheet_issues(&mut tx, b_import).await.expect("B's import");
        assert_eq!(count, 1, "A's staged issue, written to no import of B's");
    }
    done("rvtools::create_staging");
    done("rvtools::stage_vm_rows");
    done("rvtools::apply_vm_sheet");
    done("imports::create_issue_staging");
    done("imports::stage_issues");
    done("imports::store_sheet_issues");
    done("hosts::create_staging");
    done("hosts::stage_sheet_rows");
    done("hosts::stage_vm_hosts");
    done("hosts::place_hosts");
    done("hosts::link_vms_to_hosts");
    let b_before = phase_rows(c, &w).await;
    as_tenant!(c, &w.a, |tx| imports::set_upload_facts(&mut tx, b_import, Some(1), "text/plain")).expect("facts");
    done("imports::set_upload_facts");
    assert!(!as_tenant!(c, &w.a, |tx| imports::import_read_by_flow(&mut tx, b_import)).expect("read by flow"));
    done("imports::import_read_by_flow");
    assert_eq!(as_tenant!(c, &w.a, |tx| imports::last_imported_row(&mut tx, b_import)).expect("last row"), 0);
    assert_eq!(as_tenant!(c, &w.b, |tx| imports::last_imported_row(&mut tx, b_import)).expect("B's last row"), 3);
    done("imports::last_imported_row");
    as_tenant!(c, &w.a, |tx| imports::mark_import_processing(&mut tx, b_import)).expect("processing");
    done("imports::mark_import_processing");
    let headers = ["Name".to_owned()];
    as_tenant!(c, &w.a, |tx| imports::set_raw_headers(&mut tx, b_import, &headers)).expect("headers");
    let b_headers =
        as_tenant!(c, &w.b, |tx| table::get::<DataImport>(&mut tx, b_import)).expect("B's import").raw_headers;
    assert_eq!(b_headers, None, "A set no headers on B's import");
    done("imports::set_raw_headers");
    as_tenant!(c, &w.a, |tx| imports::add_import_progress(&mut tx, b_import, 5, 1, 50.0)).expect("progress");
    done("imports::add_import_progress");
    assert_not_found(as_tenant!(c, &w.a, |tx| imports::complete_import(&mut tx, b_import)), "complete B's import");
    done("imports::complete_import");
    assert!(as_tenant!(c, &w.a, |tx| imports::sample_records(&mut tx, b_import, 10)).expect("samples").is_empty());
    assert_eq!(as_tenant!(c, &w.b, |tx| imports::sample_records(&mut tx, b_import, 10)).expect("B's").len(), 3);
    done("imports::sample_records");
    let copy_row = |ids: &DemoIds, import: uuid::Uuid| {
        format!(
            "{}\t{}\t{import}\t{}\t99\t100\t{{}}\tt\t[]\t\\N\n",
            ids.client_account_id, ids.engagement_id, ids.master_flow_id
        )
    };
    let b_row = copy_row(&w.b_ids, b_import);
    as_tenant!(c, &w.a, |tx| store_records(&mut tx, &b_row)).expect_err("B's record as A");
    let a_row = copy_row(&w.a_ids, a_import);
    as_tenant!(c, &w.a, |tx| store_records(&mut tx, &a_row)).expect("own record");
    assert_eq!(as_tenant!(c, &w.a, |tx| imports::last_imported_row(&mut tx, a_import)).expect("last row"), 99);
    done("imports::copy_records");
    done("imports::store_copied_records");
    as_tenant!(c, &w.a, |tx| flows::set_flow_configuration(&mut tx, b_scope.master_flow_id, &serde_json::json!({})))
        .expect("configuration");
    done("flows::set_flow_configuration");
    assert_not_found(
        as_tenant!(c, &w.a, |tx| flows::flow_configuration(&mut tx, b_scope.master_flow_id)),
        "B's flow configuration",
    );
    as_tenant!(c, &w.a, |tx| flows::flow_configuration(&mut tx, w.a_ids.master_flow_id)).expect("own configuration");
    done("flows::flow_configuration");
    assert_not_found(
        as_tenant!(c, &w.a, |tx| flows::discovery_flow_status(&mut tx, b_scope.discovery_flow_id)),
        "B's flow status",
    );
    as_tenant!(c, &w.a, |tx| flows::discovery_flow_status(&mut tx, w.a_ids.discovery_flow_id)).expect("own status");
    done("flows::discovery_flow_status");
    as_tenant!(c, &w.a, |tx| flows::mark_phase_started(&mut tx, b_scope.discovery_flow_id, DiscoveryPhase::DataImport))
        .expect("started");
    done("flows::mark_phase_started");
    assert_not_found(
        as_tenant!(c, &w.a, |tx| flows::lock_flow_progress(&mut tx, b_scope.discovery_flow_id)),
        "lock B's flow",
    );
    as_tenant!(c, &w.a, |tx| flows::lock_flow_progress(&mut tx, w.a_ids.discovery_flow_id)).expect("own flow");
    done("flows::lock_flow_progress");
    let metrics = serde_json::json!({"duration_ms": 1});
    as_tenant!(c, &w.a, |tx| flows::record_phase_metrics(&mut tx, &b_scope, DiscoveryPhase::DataImport, &metrics))
        .expect("metrics");
    done("flows::record_phase_metrics");
    as_tenant!(c, &w.a, |tx| flows::record_flow_error(
        &mut tx,
        b_scope.discovery_flow_id,
        "failed by A",
        DiscoveryPhase::DataImport,
        (1, 1)
    ))
    .expect("error");
    done("flows::record_flow_error");
    let suggestion = modernize::discovery::MappingSuggestion {
        source_field: "Name".into(),
        target_field: Some("hostname".into()),
        confidence: 1.0,
        match_type: "exact".into(),
        explanation: String::new(),
        alternatives: serde_json::json!([]),
        transformation_rules: serde_json::json!({}),
    };
    as_tenant!(c, &w.a, |tx| mappings::insert_suggestion(&mut tx, &b_scope, &suggestion, &serde_json::json!([])))
        .expect_err("a suggestion for B's import");
    done("mappings::insert_suggestion");
    assert_eq!(as_tenant!(c, &w.a, |tx| mappings::decide_suggestions(&mut tx, b_import, 0.5)).expect("decide"), 0);
    done("mappings::decide_suggestions");
    assert_eq!(as_tenant!(c, &w.a, |tx| mappings::count_mappings(&mut tx, b_import, None)).expect("count"), 0);
    assert_eq!(as_tenant!(c, &w.b, |tx| mappings::count_mappings(&mut tx, b_import, None)).expect("B's"), 4);
    done("mappings::count_mappings");
    assert!(as_tenant!(c, &w.a, |tx| mappings::approved_mappings(&mut tx, b_import)).expect("approved").is_empty());
    assert_eq!(as_tenant!(c, &w.b, |tx| mappings::approved_mappings(&mut tx, b_import)).expect("B's").len(), 2);
    done("mappings::approved_mappings");
    as_tenant!(c, &w.a, |tx| assets::lock_engagement_assets(&mut tx)).expect("lock");
    done("assets::lock_engagement_assets");
    assert_eq!(
        as_tenant!(c, &w.a, |tx| dependencies::derive_applications(&mut tx, &b_scope, SixrStrategy::Rehost))
            .expect("apps"),
        0
    );
    done("dependencies::derive_applications");
    let linked = as_tenant!(c, &w.a, |tx| dependencies::link_applications_to_servers(&mut tx, b_import));
    assert_eq!(linked.expect("links"), 0);
    done("dependencies::link_applications_to_servers");
    // Cleansing into the inventory, and 6R.
    let b_records = as_tenant!(c, &w.b, |tx| table::list::<RawImportRecord>(&mut tx, Page::ALL)).expect("records");
    let b_assets = as_tenant!(c, &w.b, |tx| table::list::<Asset>(&mut tx, Page::ALL)).expect("B assets");
    let b_asset_ids: Vec<uuid::Uuid> = b_assets.iter().map(|a| a.id).collect();
    let keys = vec!["host:web-01".to_owned(), "host:db-01".to_owned()];
    let values = vec![serde_json::json!({"name": "web-01"}), serde_json::json!({"name": "db-01"})];
    // B's asset named as a match of A's import is neither read nor locked.
    let matched = vec![Some(b_asset_ids[0]), None];
    let facts = as_tenant!(c, &w.a, |tx| assets::merged_facts(&mut tx, &keys, &values, &matched)).expect("facts");
    assert_eq!(facts.len(), 2);
    assert!(facts.iter().all(|f| f.existing_id.is_none_or(|id| !b_asset_ids.contains(&id))), "{facts:?}");
    done("assets::merged_facts");
    let rows = assets::ImportedAssets {
        dedup_keys: vec!["host:web-01".into()],
        existing_ids: vec![Some(b_asset_ids[0])],
        record_ids: vec![b_records[0].id],
        assets: vec![serde_json::json!({"name": "edited by A"})],
        strategies: vec![Some(SixrStrategy::Retire)],
        assessed: vec![true],
    };
    let (written, created) =
        as_tenant!(c, &w.a, |tx| assets::write_imported_assets(&mut tx, &b_scope, rows)).expect("write");
    assert_eq!((written.len(), created), (0, 0), "B's asset is not A's to update");
    done("assets::write_imported_assets");
    assert!(as_tenant!(c, &w.a, |tx| imports::records_to_cleanse(&mut tx, b_import, 0, 10)).expect("page").is_empty());
    done("imports::records_to_cleanse");
    assert!(as_tenant!(c, &w.a, |tx| imports::record_identities(&mut tx, b_import, 0, 10)).expect("page").is_empty());
    done("imports::record_identities");
    let record_ids = vec![b_records[0].id];
    let documents = vec![serde_json::json!({"issues": []})];
    as_tenant!(c, &w.a, |tx| imports::write_cleansed_records(&mut tx, &record_ids, &documents, &[None]))
        .expect("cleansed");
    done("imports::write_cleansed_records");
    assert_eq!(as_tenant!(c, &w.a, |tx| imports::flag_merged_records(&mut tx, b_import)).expect("merged"), 0);
    done("imports::flag_merged_records");
    // The 6R phase's (issue 11 item 5): given B's flows, assets and analysis, A reads none of
    // B's assets and changes none of B's rows.
    let b_sixr = (
        as_tenant!(c, &w.b, |tx| table::list::<SixrAnalysis>(&mut tx, Page::ALL)).expect("B's analyses"),
        as_tenant!(c, &w.b, |tx| table::list::<SixrRecommendation>(&mut tx, Page::ALL)).expect("B's recommendations"),
    );
    let b_analysis = b_sixr.0.first().map(|a| a.id).expect("B's analysis");
    let b_flow = w.b_ids.discovery_flow_id;
    let seen = as_tenant!(c, &w.a, |tx| async {
        sixr::open_assessed_assets(&mut tx, b_flow).await?;
        sixr::fetch_assessed_assets(&mut tx, 100).await
    });
    assert!(seen.expect("B's flow as A").is_empty());
    let a_flow = w.a_ids.discovery_flow_id;
    let own = as_tenant!(c, &w.a, |tx| async {
        sixr::open_assessed_assets(&mut tx, a_flow).await?;
        let first = sixr::fetch_assessed_assets(&mut tx, 2).await?;
        Ok::<_, RepoError>((first, sixr::fetch_assessed_assets(&mut tx, 2).await?))
    })
    .expect("own flow");
    assert_eq!((own.0.len(), own.1.len()), (2, 1), "A's three assets, a page of two at a time");
    done("sixr::open_assessed_assets");
    done("sixr::fetch_assessed_assets");
    let excluded = as_tenant!(c, &w.a, |tx| sixr::count_templates_and_placeholders(&mut tx, b_flow));
    assert_eq!(excluded.expect("count"), 0);
    done("sixr::count_templates_and_placeholders");
    as_tenant!(c, &w.a, |tx| sixr::replace_flow_analysis(&mut tx, w.b_ids.master_flow_id))
        .expect_err("an analysis of B's master flow");
    let a_analysis =
        as_tenant!(c, &w.a, |tx| sixr::replace_flow_analysis(&mut tx, w.a_ids.master_flow_id)).expect("own analysis");
    done("sixr::replace_flow_analysis");
    let rehost = modernize::discovery::sixr::Recommendation {
        strategy: SixrStrategy::Rehost,
        confidence: 0.5,
        rationale: vec!["test".into()],
    };
    let recommendations = [rehost.clone(), rehost];
    as_tenant!(c, &w.a, |tx| sixr::insert_recommendations(&mut tx, a_analysis, &b_ids, &recommendations))
        .expect_err("recommendations for B's assets");
    as_tenant!(c, &w.a, |tx| sixr::insert_recommendations(&mut tx, a_analysis, &a_ids, &recommendations))
        .expect("own recommendations");
    done("sixr::insert_recommendations");
    let counts = serde_json::json!({});
    as_tenant!(c, &w.a, |tx| sixr::complete_analysis(&mut tx, b_analysis, None, None, &counts)).expect("B's");
    as_tenant!(c, &w.a, |tx| sixr::complete_analysis(&mut tx, a_analysis, None, None, &counts)).expect("own");
    let completed = as_tenant!(c, &w.a, |tx| table::get::<SixrAnalysis>(&mut tx, a_analysis)).expect("analysis");
    assert_eq!(completed.application_ids, [a_ids[1], a_ids[0]], "A's two assets, db-01 before web-01");
    done("sixr::complete_analysis");
    assert_eq!(
        b_sixr,
        (
            as_tenant!(c, &w.b, |tx| table::list::<SixrAnalysis>(&mut tx, Page::ALL)).expect("B's analyses"),
            as_tenant!(c, &w.b, |tx| table::list::<SixrRecommendation>(&mut tx, Page::ALL)).expect("B's"),
        ),
        "A's calls changed B's 6R analyses"
    );
    assert!(b_before == phase_rows(c, &w).await, "A's calls changed B's rows");

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
        "users::get_api_token",
        "users::revoke_api_token",
        "users::authenticate_token",
        "users::create_session",
        "users::authenticate_session",
        "users::revoke_session",
        "users::deactivate_user",
        "users::reactivate_user",
    ];
    // Operator housekeeping across client accounts, behind an OperatorToken: it answers only
    // whether the flows that recorded an upload directory are over (tests/uploads.rs), and which
    // imports wait for their file past expiry (tests/discovery.rs).
    let operator = ["uploads::finished_uploads", "imports::stale_pending_imports"];
    let accounted: BTreeSet<String> =
        exercised.iter().cloned().chain(global.map(str::to_owned)).chain(operator.map(str::to_owned)).collect();
    assert_eq!(repository_functions(), accounted, "every repository function is in the harness");
}
