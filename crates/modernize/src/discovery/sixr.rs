//! A 6R strategy per discovered asset from explainable rules: each recommendation says which
//! facts of the asset led to it.

use serde_json::{Map, Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::DiscoveryError;
use super::pipeline::{Advance, PhaseJob};
use crate::models::SixrStrategy;
use crate::repo::audit;
use crate::tenancy::{TenantCtx, TenantTx};

/// The facts of an asset the rules read.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AssetFacts {
    pub id: Uuid,
    pub name: String,
    pub asset_type: crate::models::AssetType,
    pub operating_system: Option<String>,
    pub os_version: Option<String>,
    pub environment: Option<String>,
    pub cpu_utilization_percent: Option<f64>,
    pub business_criticality: Option<crate::models::CriticalityLevel>,
    pub database_type: Option<String>,
    pub virtualization_platform: Option<String>,
    pub completeness_score: Option<f64>,
    /// The VM's power state as vCenter reported it (`custom_attributes.vmware.power_state`).
    pub power_state: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Recommendation {
    pub strategy: SixrStrategy,
    pub confidence: f64,
    pub rationale: Vec<String>,
}

/// Operating systems out of vendor support (lower-case fragments of "name version").
const END_OF_LIFE: [&str; 14] = [
    "windows server 2003",
    "windows server 2008",
    "windows server 2012",
    "centos 5",
    "centos 6",
    "centos 7",
    "centos linux 7",
    "red hat enterprise linux 5",
    "red hat enterprise linux 6",
    "rhel 6",
    "ubuntu 14",
    "ubuntu 16",
    "suse linux enterprise server 11",
    "debian 8",
];
/// Platforms with no x86 cloud target.
const NO_CLOUD_TARGET: [&str; 5] = ["aix", "solaris", "hp-ux", "z/os", "os/400"];

pub fn recommend_for(asset: &AssetFacts) -> Recommendation {
    use crate::models::{AssetType, CriticalityLevel};
    let os = format!(
        "{} {}",
        asset.operating_system.as_deref().unwrap_or_default(),
        asset.os_version.as_deref().unwrap_or_default()
    )
    .to_lowercase();
    let completeness = asset.completeness_score.unwrap_or(0.0) / 100.0;
    let confidence = |base: f64| ((base + 0.2 * completeness) * 100.0).round() / 100.0;
    let environment = asset.environment.as_deref().unwrap_or_default();
    let non_production = matches!(environment, "development" | "test" | "staging");
    let idle = asset.cpu_utilization_percent.is_some_and(|u| u < 5.0);
    let low = matches!(asset.business_criticality, Some(CriticalityLevel::Low) | None);

    if asset.power_state.as_deref().is_some_and(|p| p.eq_ignore_ascii_case("poweredoff")) {
        return Recommendation {
            strategy: SixrStrategy::Retire,
            confidence: confidence(0.6),
            rationale: vec![
                "powered off in vCenter (power state poweredOff)".into(),
                "confirm with its owner that nothing needs it before retiring".into(),
            ],
        };
    }
    if let Some(platform) = NO_CLOUD_TARGET.iter().find(|p| os.contains(*p)) {
        return Recommendation {
            strategy: SixrStrategy::Retain,
            confidence: confidence(0.7),
            rationale: vec![
                format!("runs on {platform}, which has no x86 cloud target"),
                "keep until re-architected".into(),
            ],
        };
    }
    if idle && (non_production || low) {
        let utilisation = asset.cpu_utilization_percent.unwrap_or_default();
        return Recommendation {
            strategy: SixrStrategy::Retire,
            confidence: confidence(0.6),
            rationale: vec![
                format!("CPU utilisation {utilisation:.1}% (< 5%)"),
                if non_production { format!("{environment} environment") } else { "low business criticality".into() },
            ],
        };
    }
    if asset.asset_type == AssetType::Database || asset.database_type.is_some() {
        return Recommendation {
            strategy: SixrStrategy::Replatform,
            confidence: confidence(0.65),
            rationale: vec!["database: move to a managed database service".into()],
        };
    }
    if let Some(eol) = END_OF_LIFE.iter().find(|e| os.contains(*e)) {
        return Recommendation {
            strategy: SixrStrategy::Replatform,
            confidence: confidence(0.7),
            rationale: vec![format!("operating system {eol} is out of vendor support: upgrade while moving")],
        };
    }
    if asset.asset_type == AssetType::Application {
        return Recommendation {
            strategy: SixrStrategy::Rehost,
            confidence: confidence(0.4),
            rationale: vec!["application: follows its servers until assessed".into()],
        };
    }
    let mut rationale = vec!["supported operating system".to_owned()];
    if asset.virtualization_platform.is_some() || asset.asset_type == AssetType::VirtualMachine {
        rationale.push("already virtualised: lift and shift".into());
    }
    Recommendation { strategy: SixrStrategy::Rehost, confidence: confidence(0.6), rationale }
}

/// The audit trail's action for a person's override of an asset's strategy (written by
/// `service::sixr::override_strategy`, read here: the 6R phase never replaces one).
pub const OVERRIDE_ACTION: &str = "six_r_override";

/// Recommends a strategy for every asset of the discovery flow and records the analysis. An
/// asset whose strategy a person overrode (an [`OVERRIDE_ACTION`] entry in the audit trail) keeps
/// it: the new recommendation is recorded beside it, and a retried phase or a later import of the
/// same assets does not undo the person's decision. VM
/// templates and SRM placeholders (`custom_attributes.vmware`) are no servers to move: kept in the
/// inventory, flagged there, and left out of the 6R analysis; so are the ESXi hosts derived from
/// the VMs' placement (infrastructure the VMs leave).
pub(crate) async fn recommend(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    job: &PhaseJob,
) -> Result<Advance, DiscoveryError> {
    // One transaction: the analysis replaces the previous one of this flow as a whole.
    let mut tx = TenantTx::begin(conn, ctx).await?;
    let assets: Vec<AssetFacts> = sqlx::query_as(
        "SELECT id, name, asset_type, operating_system, os_version, environment, cpu_utilization_percent,
                business_criticality, database_type, virtualization_platform, completeness_score,
                custom_attributes #>> '{vmware,power_state}' AS power_state
         FROM migration.assets WHERE client_account_id = $1 AND discovery_flow_id = $2
           AND NOT coalesce((custom_attributes #>> '{vmware,template}')::boolean, false)
           AND NOT coalesce((custom_attributes #>> '{vmware,srm_placeholder}')::boolean, false)
           AND NOT coalesce((custom_attributes #>> '{vmware,esxi_host}')::boolean, false)
         ORDER BY name, id
         FOR UPDATE",
    )
    .bind(tx.client_account_id())
    .bind(job.discovery_flow_id)
    .fetch_all(tx.conn())
    .await?;
    let excluded: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM migration.assets WHERE client_account_id = $1 AND discovery_flow_id = $2
           AND (coalesce((custom_attributes #>> '{vmware,template}')::boolean, false)
                OR coalesce((custom_attributes #>> '{vmware,srm_placeholder}')::boolean, false))",
    )
    .bind(tx.client_account_id())
    .bind(job.discovery_flow_id)
    .fetch_one(tx.conn())
    .await?;
    let recommendations: Vec<Recommendation> = assets.iter().map(recommend_for).collect();
    let mut counts = Map::new();
    for strategy in SixrStrategy::ALL {
        let n = recommendations.iter().filter(|r| r.strategy == strategy).count();
        counts.insert(strategy.as_str().to_owned(), json!(n));
    }
    let dominant = SixrStrategy::ALL
        .into_iter()
        .max_by_key(|s| recommendations.iter().filter(|r| r.strategy == *s).count())
        .filter(|_| !recommendations.is_empty());

    // Idempotent: a re-run replaces this flow's analysis.
    sqlx::query("DELETE FROM migration.sixr_analyses WHERE client_account_id = $1 AND master_flow_id = $2")
        .bind(tx.client_account_id())
        .bind(job.master_flow_id)
        .execute(tx.conn())
        .await?;
    let ids: Vec<Uuid> = assets.iter().map(|a| a.id).collect();
    let analysis_id: Uuid = sqlx::query_scalar(
        "INSERT INTO migration.sixr_analyses (client_account_id, engagement_id, master_flow_id, name, status,
                application_ids, final_recommendation, confidence_score, progress_percentage, completed_at,
                analysis_config)
         VALUES ($1, $2, $3, 'Discovery 6R (rules)', 'completed', $4, $5, $6, 100, now(), $7) RETURNING id",
    )
    .bind(tx.client_account_id())
    .bind(job.engagement_id)
    .bind(job.master_flow_id)
    .bind(&ids)
    .bind(dominant)
    .bind(mean(recommendations.iter().map(|r| r.confidence)))
    .bind(json!({"engine": "rules", "strategy_counts": counts}))
    .fetch_one(tx.conn())
    .await?;
    let strategies: Vec<SixrStrategy> = recommendations.iter().map(|r| r.strategy).collect();
    let confidences: Vec<f64> = recommendations.iter().map(|r| r.confidence).collect();
    let rationales: Vec<Value> = recommendations.iter().map(|r| json!(r.rationale)).collect();
    sqlx::query(
        "INSERT INTO migration.sixr_recommendations (client_account_id, analysis_id, asset_id,
                recommended_strategy, confidence_score, rationale, key_factors)
         SELECT $1, $2, r.asset_id, r.strategy, r.confidence, r.rationale, r.rationale
         FROM unnest($3::uuid[], $4::migration.sixr_strategy[], $5::float8[], $6::jsonb[])
              AS r(asset_id, strategy, confidence, rationale)",
    )
    .bind(tx.client_account_id())
    .bind(analysis_id)
    .bind(&ids)
    .bind(&strategies)
    .bind(&confidences)
    .bind(&rationales)
    .execute(tx.conn())
    .await?;
    // The assets are locked (FOR UPDATE above): an override committed before this reads it, one
    // after waits for this transaction and then wins.
    let overridden = audit::resources_with_action(&mut tx, "asset", &ids, OVERRIDE_ACTION).await?;
    sqlx::query(
        "UPDATE migration.assets a
            SET six_r_strategy = CASE WHEN a.id = ANY ($4) THEN a.six_r_strategy ELSE r.strategy END,
                status = 'assessed', updated_at = now()
         FROM unnest($2::uuid[], $3::migration.sixr_strategy[]) AS r(asset_id, strategy)
         WHERE a.client_account_id = $1 AND a.id = r.asset_id",
    )
    .bind(tx.client_account_id())
    .bind(&ids)
    .bind(&strategies)
    .bind(&overridden)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    let mut metrics = Map::new();
    metrics.insert("assets_assessed".into(), json!(assets.len()));
    metrics.insert("templates_and_placeholders_excluded".into(), json!(excluded));
    metrics.insert("overrides_kept".into(), json!(overridden.len()));
    metrics.insert("strategies".into(), Value::Object(counts));
    Ok(Advance::Next(metrics))
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / f64::from(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{AssetType, CriticalityLevel};

    fn server(os: &str) -> AssetFacts {
        AssetFacts {
            id: Uuid::nil(),
            name: "srv".into(),
            asset_type: AssetType::Server,
            operating_system: Some(os.into()),
            os_version: None,
            environment: None,
            cpu_utilization_percent: None,
            business_criticality: None,
            database_type: None,
            virtualization_platform: None,
            completeness_score: None,
            power_state: None,
        }
    }

    #[test]
    fn rules_explain_themselves() {
        let eol = recommend_for(&server("Windows Server 2012 R2"));
        assert_eq!(eol.strategy, SixrStrategy::Replatform);
        assert!(eol.rationale[0].contains("out of vendor support"));
        assert_eq!(recommend_for(&server("AIX 7.2")).strategy, SixrStrategy::Retain);
        let idle = AssetFacts {
            environment: Some("test".into()),
            cpu_utilization_percent: Some(1.5),
            business_criticality: Some(CriticalityLevel::High),
            ..server("Ubuntu 22.04")
        };
        assert_eq!(recommend_for(&idle).strategy, SixrStrategy::Retire);
        let db = AssetFacts { database_type: Some("Oracle".into()), ..server("Oracle Linux 8") };
        assert_eq!(recommend_for(&db).strategy, SixrStrategy::Replatform);
        let vm = AssetFacts {
            virtualization_platform: Some("VMware".into()),
            completeness_score: Some(100.0),
            ..server("Ubuntu 22.04")
        };
        let r = recommend_for(&vm);
        assert_eq!((r.strategy, r.confidence), (SixrStrategy::Rehost, 0.8));
        let off = AssetFacts { power_state: Some("poweredOff".into()), ..vm };
        let r = recommend_for(&off);
        assert_eq!(r.strategy, SixrStrategy::Retire);
        assert!(r.rationale[0].contains("powered off"), "{:?}", r.rationale);
    }
}
