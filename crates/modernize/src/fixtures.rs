//! Demo and test data, the replacement for `is_mock`: whole demo tenants (client accounts) with
//! stable ids and realistic rows in every tenant table, built through the repositories. Tests,
//! the isolation harness and the demo use them; real tenants never hold flagged fake rows.

use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::models::{
    AccessAuditLogEntry, Assessment, Asset, AssetDependency, AssetEmbedding, ClientAccess, ClientAccount,
    CmdbSixrAnalysis, CustomTargetField, DataImport, Engagement, Feedback, FeedbackSummary, FlowDeletionAuditEntry,
    GlobalTable, ImportFieldMapping, LlmModelPrice, LlmUsageLogEntry, LlmUsageSummary, MemberRole, Migration,
    MigrationLogEntry, MigrationWave, NewClientAccount, RawImportRecord, RoleChangeApproval, RolePermission,
    SecurityAuditLogEntry, SixrAnalysis, SixrAnalysisParameters, SixrIteration, SixrParameter, SixrQuestion,
    SixrQuestionResponse, SixrRecommendation, SoftDeletedItem, Tag, TenantTable, UserRole, WavePlan,
};
use crate::repo::users::{NewUserInput, Password, create_user, find_user_by_email};
use crate::repo::{RepoError, assets, flows, global, table, tenancy};
use crate::tenancy::{OperatorToken, TenantCtx, TenantTx};

/// A demo client account to build.
#[derive(Debug, Clone, Copy)]
pub struct DemoTenant {
    pub slug: &'static str,
    pub name: &'static str,
    pub industry: &'static str,
}

pub const ACME: DemoTenant = DemoTenant { slug: "acme-retail", name: "Acme Retail", industry: "Retail" };
pub const GLOBEX: DemoTenant =
    DemoTenant { slug: "globex-manufacturing", name: "Globex Manufacturing", industry: "Manufacturing" };

/// The password of every demo user (they exist to be logged in with).
pub const DEMO_PASSWORD: &str = "modernize-demo-password";

/// The ids of a built demo tenant.
#[derive(Debug, Clone)]
pub struct DemoIds {
    pub client_account_id: Uuid,
    pub engagement_id: Uuid,
    pub master_flow_id: Uuid,
    pub discovery_flow_id: Uuid,
    pub admin_user_id: Uuid,
    pub analyst_user_id: Uuid,
    pub viewer_user_id: Uuid,
}

impl DemoTenant {
    /// Stable ids: the same name always gives the same id for this tenant.
    pub fn id(&self, name: &str) -> Uuid {
        let tenant =
            Uuid::new_v5(&Uuid::NAMESPACE_URL, format!("https://modernize.invalid/demo/{}", self.slug).as_bytes());
        Uuid::new_v5(&tenant, name.as_bytes())
    }

    pub fn email(&self, who: &str) -> String {
        format!("{who}@{}.example", self.slug)
    }
}

/// Deserialises `value` into `T`'s insert type (so the fixture is checked against the model) and
/// inserts it in the tenant transaction.
async fn row<T: TenantTable>(tx: &mut TenantTx<'_>, value: Value) -> Result<T, RepoError> {
    let new: T::New = serde_json::from_value(value).map_err(|source| RepoError::Encode { table: T::TABLE, source })?;
    table::insert::<T>(tx, &new).await
}

async fn global_row<T: GlobalTable>(conn: &mut PgConnection, value: Value) -> Result<T, RepoError> {
    let new: T::New = serde_json::from_value(value).map_err(|source| RepoError::Encode { table: T::TABLE, source })?;
    global::insert_global::<T>(conn, &new).await
}

/// Builds `tenant` as an operator, all or nothing in one tenant transaction (once: a second call
/// finds it and returns the same ids). `conn` must not be in a transaction.
pub async fn demo_tenant(
    conn: &mut PgConnection,
    operator: &OperatorToken,
    tenant: DemoTenant,
) -> Result<DemoIds, RepoError> {
    let ctx = TenantCtx::operator_unchecked(operator, tenant.id("client_account"));
    let mut tx = TenantTx::begin(conn, &ctx).await?;
    let ids = build_demo_tenant(&mut tx, tenant).await?;
    tx.commit().await?;
    Ok(ids)
}

async fn build_demo_tenant(tx: &mut TenantTx<'_>, tenant: DemoTenant) -> Result<DemoIds, RepoError> {
    let t = tenant;
    let ids = DemoIds {
        client_account_id: t.id("client_account"),
        engagement_id: t.id("engagement/cloud-2027"),
        master_flow_id: Uuid::nil(),
        discovery_flow_id: Uuid::nil(),
        admin_user_id: Uuid::nil(),
        analyst_user_id: Uuid::nil(),
        viewer_user_id: Uuid::nil(),
    };
    let mut users = Vec::new();
    for who in ["admin", "analyst", "viewer"] {
        let user = match find_user_by_email(tx.conn(), &t.email(who)).await {
            Ok(user) => user,
            Err(RepoError::NotFound { .. }) => {
                let input = NewUserInput {
                    email: t.email(who),
                    password: Some(Password::parse(DEMO_PASSWORD.into())?),
                    first_name: Some(who[..1].to_uppercase() + &who[1..]),
                    last_name: Some(t.name.to_owned()),
                    is_platform_admin: false,
                };
                create_user(tx.conn(), &input).await?
            }
            Err(e) => return Err(e),
        };
        users.push(user.id);
    }
    let ids = DemoIds { admin_user_id: users[0], analyst_user_id: users[1], viewer_user_id: users[2], ..ids };
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM migration.client_accounts WHERE id = $1)")
        .bind(ids.client_account_id)
        .fetch_one(tx.conn())
        .await?;
    if exists {
        let (master_flow_id, discovery_flow_id): (Option<Uuid>, Uuid) = sqlx::query_as(
            "SELECT master_flow_id, id FROM migration.discovery_flows
             WHERE client_account_id = $1 AND flow_name = 'Initial discovery'",
        )
        .bind(ids.client_account_id)
        .fetch_one(tx.conn())
        .await?;
        let master_flow_id = master_flow_id.unwrap_or_default();
        return Ok(DemoIds { master_flow_id, discovery_flow_id, ..ids });
    }
    let shared = shared_catalogues(tx.conn()).await?;

    tenancy::create_client_account(
        tx.conn(),
        &serde_json::from_value::<NewClientAccount>(json!({
            "id": ids.client_account_id, "name": t.name, "slug": t.slug, "industry": t.industry,
            "description": format!("Demo client account ({}) built by modernize fixtures", t.industry),
            "company_size": "1000-5000", "headquarters_location": "Zürich, Schweiz",
            "primary_contact_name": "Zoë Müller", "primary_contact_email": t.email("it-director"),
            "settings": {"default_cloud": "aws", "currency": "EUR"}
        }))
        .map_err(|source| RepoError::Encode { table: ClientAccount::TABLE, source })?,
    )
    .await?;
    // Account-level rows first, then the engagement's (the tenant stays the same).
    tx.set_engagement(None);
    tenancy::add_account_member(tx, ids.admin_user_id, MemberRole::Admin).await?;
    tenancy::add_account_member(tx, ids.analyst_user_id, MemberRole::Analyst).await?;
    tenancy::add_account_member(tx, ids.viewer_user_id, MemberRole::Viewer).await?;
    row::<Engagement>(
        tx,
        json!({
            "id": ids.engagement_id, "name": "Cloud migration 2027", "slug": "cloud-2027", "status": "active",
            "engagement_type": "migration", "priority": "high", "start_date": "2027-01-11",
            "target_completion_date": "2027-12-17", "engagement_lead_id": ids.admin_user_id,
            "migration_scope": {"datacenters": ["FRA-1", "ZRH-2"], "target": "aws"}, "created_by": ids.admin_user_id
        }),
    )
    .await?;
    tx.set_engagement(Some(ids.engagement_id));
    tenancy::grant_engagement_access(tx, ids.analyst_user_id, MemberRole::Analyst).await?;
    row::<ClientAccess>(
        tx,
        json!({
            "user_id": ids.viewer_user_id, "access_level": "viewer", "granted_by": ids.admin_user_id,
            "permissions": {"export": false}
        }),
    )
    .await?;
    row::<UserRole>(tx, json!({
        "user_id": ids.analyst_user_id, "role": "analyst", "scope_type": "engagement", "assigned_by": ids.admin_user_id
    }))
        .await?;
    row::<RoleChangeApproval>(
        tx,
        json!({
            "target_user_id": ids.viewer_user_id, "requested_by": ids.viewer_user_id, "previous_role": "viewer",
            "requested_role": "analyst", "justification": "Needs to review field mappings"
        }),
    )
    .await?;

    // Discovery: master flow first, then the discovery flow linked to it (seed task 4.1).
    let (master, discovery, _) = flows::start_discovery(
        tx,
        &serde_json::from_value(json!({"flow_name": "Initial discovery"}))
            .map_err(|source| RepoError::Encode { table: "discovery_flows", source })?,
    )
    .await?;
    let ids = DemoIds { master_flow_id: master.flow_id, discovery_flow_id: discovery.id, ..ids };
    let import: DataImport = row(
        tx,
        json!({
            "id": t.id("data_import/cmdb"), "master_flow_id": master.flow_id, "import_name": "CMDB export",
            "filename": "cmdb_servers.csv", "file_size": 48213, "mime_type": "text/csv", "source_system": "ServiceNow",
            "status": "completed", "progress_percentage": 100, "total_records": 3, "processed_records": 3,
            "imported_by": ids.analyst_user_id
        }),
    )
    .await?;
    let servers = [
        ("web-01", "Ubuntu 22.04", 4, 16.0, 200.0, "production", "10.0.1.11"),
        ("db-01", "Red Hat Enterprise Linux 8", 16, 128.0, 2000.0, "production", "10.0.2.21"),
        ("build-01", "Windows Server 2012 R2", 8, 32.0, 500.0, "development", "10.0.9.31"),
    ];
    let mut asset_ids = Vec::new();
    for (n, (host, os, cpu, mem, disk, env, ip)) in servers.iter().enumerate() {
        let record: RawImportRecord = row(
            tx,
            json!({
                "data_import_id": import.id, "master_flow_id": master.flow_id, "row_number": n + 1,
                "raw_data": {"Name": host, "OS": os, "CPU Cores": cpu, "RAM (GB)": mem, "Disk (GB)": disk,
                             "Environment": env, "IP Address": ip},
                "is_valid": true, "is_processed": true
            }),
        )
        .await?;
        let asset: Asset = row(tx, json!({
            "id": t.id(&format!("asset/{host}")), "master_flow_id": master.flow_id, "discovery_flow_id": discovery.id,
            "data_import_id": import.id, "raw_import_record_id": record.id, "name": host,
            "hostname": host, "fqdn": format!("{host}.{}.example", t.slug), "asset_type": "server",
            "operating_system": os, "cpu_cores": cpu, "memory_gb": mem, "storage_gb": disk, "environment": env,
            "ip_address": ip, "datacenter": "FRA-1", "technology_stack": ["nginx", "postgresql"],
            "business_criticality": if *env == "production" { "high" } else { "low" },
            "six_r_strategy": if os.contains("2012") { "replatform" } else { "rehost" },
            "cpu_utilization_percent": 35.5, "memory_utilization_percent": 61.0, "completeness_score": 92.5,
            "custom_attributes": {"cost_center": "CC-4711", "patch_group": "Dienstag"}
        }))
        .await?;
        asset_ids.push(asset.id);
    }
    for (source, target, decided) in [
        ("Name", Some("hostname"), "approved"),
        ("OS", Some("operating_system"), "approved"),
        ("Environment", Some("department"), "rejected"),
        ("IP Address", Some("ip_address"), "suggested"),
    ] {
        row::<ImportFieldMapping>(
            tx,
            json!({
                "data_import_id": import.id, "master_flow_id": master.flow_id, "source_field": source,
                "target_field": target, "match_type": "synonym", "confidence_score": 0.92, "status": decided,
                "decided_by": (decided != "suggested").then_some("reviewer"),
                "suggested_by": "modernize-mapping", "sample_values": ["web-01", "db-01"]
            }),
        )
        .await?;
    }
    row::<CustomTargetField>(
        tx,
        json!({"field_name": "cost_center", "display_name": "Cost center", "field_type": "string"}),
    )
    .await?;
    let wave: MigrationWave = row(
        tx,
        json!({
            "wave_number": 1, "name": "Wave 1: stateless web tier", "planned_start_date": "2027-03-01",
            "planned_end_date": "2027-03-28", "total_assets": 1, "estimated_cost": "12500.00"
        }),
    )
    .await?;
    row::<AssetDependency>(
        tx,
        json!({
            "asset_id": asset_ids[0], "depends_on_asset_id": asset_ids[1], "dependency_type": "uses_database",
            "port": 5432, "protocol": "tcp", "confidence_score": 0.97, "discovered_by": "netflow"
        }),
    )
    .await?;
    row::<AssetEmbedding>(
        tx,
        json!({
            "asset_id": asset_ids[0], "embedding_model": "all-MiniLM-L6-v2", "embedding": [0.12, -0.03, 0.88],
            "source_text": "web-01 Ubuntu 22.04 nginx"
        }),
    )
    .await?;
    let tag: Tag = row(tx, json!({"name": "pci-scope", "category": "compliance", "color": "#D9480F"})).await?;
    assets::tag_asset(tx, asset_ids[1], tag.id, "user").await?;
    row::<WavePlan>(tx, json!({"migration_wave_id": wave.id, "asset_id": asset_ids[0], "sequence_number": 1})).await?;
    row::<Assessment>(
        tx,
        json!({
            "asset_id": asset_ids[2], "master_flow_id": master.flow_id, "assessment_name": "Tech debt: build-01",
            "status": "completed", "recommended_strategy": "replatform", "overall_score": 41.0, "risk_level": "high",
            "tech_debt_items": [{"item": "Windows Server 2012 R2 is out of support since 2023-10-10"}]
        }),
    )
    .await?;
    row::<SixrParameter>(
        tx,
        json!({"parameter_key": "business_value", "display_name": "Business value", "weight": 1.5}),
    )
    .await?;
    let analysis: SixrAnalysis = row(
        tx,
        json!({
            "master_flow_id": master.flow_id, "name": "Portfolio 6R", "status": "completed",
            "application_ids": asset_ids, "final_recommendation": "rehost", "confidence_score": 0.81,
            "progress_percentage": 100
        }),
    )
    .await?;
    row::<SixrIteration>(tx, json!({"analysis_id": analysis.id, "iteration_number": 1, "status": "completed"})).await?;
    row::<SixrAnalysisParameters>(
        tx,
        json!({"analysis_id": analysis.id, "business_value": 4, "technical_complexity": 2}),
    )
    .await?;
    row::<SixrQuestionResponse>(tx, json!({
        "analysis_id": analysis.id, "question_id": shared.question_id, "response_value": {"answer": "yes"}, "confidence": 0.9
    }))
    .await?;
    row::<SixrRecommendation>(tx, json!({
        "analysis_id": analysis.id, "asset_id": asset_ids[0], "recommended_strategy": "rehost", "confidence_score": 0.88,
        "rationale": ["Supported OS", "Virtualised", "Low utilisation"], "estimated_effort": "low"
    }))
    .await?;
    row::<CmdbSixrAnalysis>(
        tx,
        json!({
            "data_import_id": import.id, "analysis_name": "CMDB 6R summary", "status": "completed", "total_assets": 3,
            "rehost_count": 2, "replatform_count": 1
        }),
    )
    .await?;
    let migration: Migration = row(
        tx,
        json!({
            "asset_id": asset_ids[0], "migration_wave_id": wave.id, "name": "Move web-01", "strategy": "rehost",
            "status": "pending", "target_platform": "aws-ec2"
        }),
    )
    .await?;
    row::<MigrationLogEntry>(
        tx,
        json!({"migration_id": migration.id, "message": "Replication started", "step": "replicate"}),
    )
    .await?;
    row::<Feedback>(
        tx,
        json!({
            "user_id": ids.analyst_user_id, "feedback_type": "field_mapping", "page": "/imports", "rating": 4,
            "comment": "Die Vorschläge waren gut"
        }),
    )
    .await?;
    row::<FeedbackSummary>(tx, json!({
        "feedback_type": "field_mapping", "page": "/imports", "period_start": "2027-01-01", "period_end": "2027-01-31",
        "total_feedback": 1, "average_rating": 4.0
    }))
    .await?;
    row::<LlmUsageLogEntry>(
        tx,
        json!({
            "user_id": ids.analyst_user_id, "master_flow_id": master.flow_id, "pricing_id": shared.pricing_id,
            "provider": "openai", "model_name": "gpt-4o-mini", "feature_context": "field_mapping",
            "input_tokens": 1200, "output_tokens": 300, "cost": "0.00036", "response_time_ms": 840
        }),
    )
    .await?;
    row::<LlmUsageSummary>(
        tx,
        json!({
            "period_type": "day", "period_start": "2027-01-12T00:00:00Z", "period_end": "2027-01-13T00:00:00Z",
            "provider": "openai", "model_name": "gpt-4o-mini", "total_requests": 1, "successful_requests": 1,
            "total_input_tokens": 1200, "total_output_tokens": 300, "total_cost": "0.00036"
        }),
    )
    .await?;
    row::<AccessAuditLogEntry>(
        tx,
        json!({
            "user_id": ids.analyst_user_id, "action_type": "read", "resource_type": "asset",
            "resource_id": asset_ids[0].to_string(), "result": "success", "ip_address": "192.0.2.10/32"
        }),
    )
    .await?;
    row::<SecurityAuditLogEntry>(
        tx,
        json!({
            "user_id": ids.viewer_user_id, "event_type": "role_change_requested", "severity": "warning",
            "description": "Viewer asked for analyst rights"
        }),
    )
    .await?;
    row::<FlowDeletionAuditEntry>(
        tx,
        json!({
            "flow_id": t.id("deleted_flow"), "flow_type": "discovery", "deleted_by": ids.admin_user_id,
            "deletion_reason": "Duplicate test upload", "data_deleted": {"raw_import_records": 12}
        }),
    )
    .await?;
    row::<SoftDeletedItem>(
        tx,
        json!({
            "item_type": "tag", "item_id": t.id("deleted_tag"), "item_snapshot": {"name": "legacy"},
            "deleted_by": ids.admin_user_id
        }),
    )
    .await?;
    flows::complete_phase(tx, discovery.id, crate::models::DiscoveryPhase::DataImport).await?;
    Ok(ids)
}

/// The ids of the global catalogue rows the demo tenants refer to.
struct SharedCatalogues {
    question_id: Uuid,
    pricing_id: Uuid,
}

/// Global catalogues (6R question bank, LLM price list, role permissions), created once.
async fn shared_catalogues(conn: &mut PgConnection) -> Result<SharedCatalogues, RepoError> {
    let question_id: Option<Uuid> =
        sqlx::query_scalar("SELECT id FROM migration.sixr_questions WHERE question_key = $1")
            .bind("has_vendor_support")
            .fetch_optional(&mut *conn)
            .await?;
    if let Some(question_id) = question_id {
        let pricing_id =
            sqlx::query_scalar("SELECT id FROM migration.llm_model_pricing WHERE model_name = 'gpt-4o-mini'")
                .fetch_one(&mut *conn)
                .await?;
        return Ok(SharedCatalogues { question_id, pricing_id });
    }
    let question: SixrQuestion = global_row(
        conn,
        json!({
            "question_key": "has_vendor_support", "question_text": "Is the application still supported by its vendor?",
            "question_type": "boolean", "category": "technical", "is_required": true
        }),
    )
    .await?;
    let price: LlmModelPrice = global_row(
        conn,
        json!({
            "provider": "openai", "model_name": "gpt-4o-mini", "input_cost_per_1k_tokens": "0.00015",
            "output_cost_per_1k_tokens": "0.0006"
        }),
    )
    .await?;
    for (role, resource, action) in [
        ("admin", "*", "*"),
        ("analyst", "imports", "write"),
        ("analyst", "mappings", "approve"),
        ("analyst", "assets", "write"),
        ("viewer", "assets", "read"),
    ] {
        global_row::<RolePermission>(conn, json!({"role": role, "resource": resource, "action": action})).await?;
    }
    Ok(SharedCatalogues { question_id: question.id, pricing_id: price.id })
}
