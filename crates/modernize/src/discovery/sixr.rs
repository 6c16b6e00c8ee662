//! A 6R strategy per discovered asset from explainable rules: each recommendation says which
//! facts of the asset led to it.

use serde_json::{Map, Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::DiscoveryError;
use super::pipeline::{Advance, PhaseJob};
use crate::models::SixrStrategy;
use crate::repo::{self, audit};
use crate::tenancy::{TenantCtx, TenantTx};

/// The facts of an asset the rules read.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AssetFacts {
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

/// What the rules make of an application derived from the servers that name it (no facts
/// but its type): the strategy it is created with.
pub fn application_strategy() -> SixrStrategy {
    let application = AssetFacts {
        asset_type: crate::models::AssetType::Application,
        operating_system: None,
        os_version: None,
        environment: None,
        cpu_utilization_percent: None,
        business_criticality: None,
        database_type: None,
        virtualization_platform: None,
        completeness_score: None,
        power_state: None,
    };
    recommend_for(&application).strategy
}

/// Records the 6R analysis of the discovery flow's assets: each asset's recommendation with the
/// facts that led to it, and the counts per strategy. The assets already hold their strategy:
/// the inventory decided it when it wrote them (the same rules on the same facts) and kept a
/// person's override ([`OVERRIDE_ACTION`] in the audit trail), so this phase writes no asset; the
/// new recommendation is recorded beside an override. VM templates and SRM placeholders
/// (`custom_attributes.vmware`) are no servers to move: kept in the inventory, flagged there,
/// and left out of the 6R analysis; so are the ESXi hosts derived from the VMs' placement
/// (infrastructure the VMs leave).
///
/// The assets are read `page_rows` at a time (a cursor of the phase's transaction), so the
/// process holds one page whatever the size of the flow; the result does not depend on the page
/// size.
pub(crate) async fn recommend(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    job: &PhaseJob,
    page_rows: usize,
) -> Result<Advance, DiscoveryError> {
    // One transaction: the analysis replaces the previous one of this flow as a whole, and a
    // phase killed half-way leaves nothing to undo or resume.
    let mut tx = TenantTx::begin(conn, ctx).await?;
    let excluded = repo::sixr::count_templates_and_placeholders(&mut tx, job.discovery_flow_id).await?;
    let analysis_id = repo::sixr::replace_flow_analysis(&mut tx, job.master_flow_id).await?;
    repo::sixr::open_assessed_assets(&mut tx, job.discovery_flow_id).await?;
    let mut counts = [0usize; SixrStrategy::ALL.len()];
    let (mut assessed, mut overrides_kept, mut confidence_sum) = (0usize, 0usize, 0.0);
    loop {
        let assets = repo::sixr::fetch_assessed_assets(&mut tx, page_rows).await?;
        if assets.is_empty() {
            break;
        }
        let recommendations: Vec<Recommendation> = assets.iter().map(|a| recommend_for(&a.facts)).collect();
        let ids: Vec<Uuid> = assets.iter().map(|a| a.id).collect();
        repo::sixr::insert_recommendations(&mut tx, analysis_id, &ids, &recommendations).await?;
        let overridden = audit::resources_with_action(&mut tx, "asset", &ids, OVERRIDE_ACTION).await?;
        for r in &recommendations {
            if let Some(i) = SixrStrategy::ALL.iter().position(|s| *s == r.strategy) {
                counts[i] += 1;
            }
            confidence_sum += r.confidence;
        }
        assessed += assets.len();
        overrides_kept += overridden.len();
    }
    let mut strategies = Map::new();
    for (strategy, n) in SixrStrategy::ALL.iter().zip(counts) {
        strategies.insert(strategy.as_str().to_owned(), json!(n));
    }
    let dominant =
        SixrStrategy::ALL.into_iter().zip(counts).max_by_key(|(_, n)| *n).map(|(s, _)| s).filter(|_| assessed > 0);
    let mean = u32::try_from(assessed).ok().filter(|n| *n > 0).map(|n| confidence_sum / f64::from(n));
    let strategies = Value::Object(strategies);
    repo::sixr::complete_analysis(&mut tx, analysis_id, dominant, mean, &strategies).await?;
    tx.commit().await?;
    let mut metrics = Map::new();
    metrics.insert("assets_assessed".into(), json!(assessed));
    metrics.insert("templates_and_placeholders_excluded".into(), json!(excluded));
    metrics.insert("overrides_kept".into(), json!(overrides_kept));
    metrics.insert("strategies".into(), strategies);
    Ok(Advance::Next(metrics))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{AssetType, CriticalityLevel};

    fn server(os: &str) -> AssetFacts {
        AssetFacts {
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
