//! A 6R strategy per discovered asset from explainable rules: each recommendation says which
//! facts of the asset led to it.

use serde_json::{Map, Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::DiscoveryError;
use super::pipeline::{Advance, PhaseJob};
use crate::models::SixrStrategy;
use crate::repo::{audit, sixr as sixr_repo};
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
/// the inventory decided it when it wrote them (the same rules on the same facts), and kept a
/// person's override ([`OVERRIDE_ACTION`] in the audit trail), so this phase writes no asset; the
/// new recommendation is recorded beside an override. VM templates and SRM placeholders
/// (`custom_attributes.vmware`) are no servers to move: kept in the inventory, flagged there,
/// and left out; so are the ESXi hosts derived from the VMs' placement. The assets are read in
/// keyset pages of `chunk_rows`: memory stays flat in the number of assets.
pub(crate) async fn recommend(
    conn: &mut PgConnection,
    ctx: &TenantCtx,
    job: &PhaseJob,
    chunk_rows: usize,
) -> Result<Advance, DiscoveryError> {
    // One transaction: the analysis replaces the previous one of this flow as a whole.
    let mut tx = TenantTx::begin(conn, ctx).await?;
    let excluded = sixr_repo::count_templates_and_placeholders(&mut tx, job.discovery_flow_id).await?;
    let analysis_id = sixr_repo::start_analysis(&mut tx, job.master_flow_id).await?;
    let limit = i64::try_from(chunk_rows).unwrap_or(i64::MAX);
    let (mut counts, mut confidence_sum) = ([0usize; SixrStrategy::ALL.len()], 0.0);
    let (mut assessed, mut overrides) = (0usize, 0usize);
    let mut after = None;
    loop {
        let page = sixr_repo::assessable_assets(&mut tx, job.discovery_flow_id, after, limit).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        let ids: Vec<Uuid> = page.iter().map(|a| a.id).collect();
        let recommendations: Vec<Recommendation> = page.iter().map(|a| recommend_for(&a.facts)).collect();
        for r in &recommendations {
            counts[strategy_index(r.strategy)] += 1;
            confidence_sum += r.confidence;
        }
        assessed += ids.len();
        let strategies: Vec<SixrStrategy> = recommendations.iter().map(|r| r.strategy).collect();
        let confidences: Vec<f64> = recommendations.iter().map(|r| r.confidence).collect();
        let rationales: Vec<Value> = recommendations.iter().map(|r| json!(r.rationale)).collect();
        sixr_repo::add_recommendations(&mut tx, analysis_id, &ids, &strategies, &confidences, &rationales).await?;
        overrides += audit::resources_with_action(&mut tx, "asset", &ids, OVERRIDE_ACTION).await?.len();
    }
    let mut strategy_counts = Map::new();
    for strategy in SixrStrategy::ALL {
        strategy_counts.insert(strategy.as_str().to_owned(), json!(counts[strategy_index(strategy)]));
    }
    // The last of the most frequent, as `Iterator::max_by_key` picks it.
    let dominant = SixrStrategy::ALL.into_iter().max_by_key(|s| counts[strategy_index(*s)]).filter(|_| assessed > 0);
    let mean = (assessed > 0).then(|| confidence_sum / assessed as f64);
    let strategy_counts = Value::Object(strategy_counts);
    sixr_repo::finish_analysis(&mut tx, analysis_id, dominant, mean, &strategy_counts).await?;
    tx.commit().await?;
    let mut metrics = Map::new();
    metrics.insert("assets_assessed".into(), json!(assessed));
    metrics.insert("templates_and_placeholders_excluded".into(), json!(excluded));
    metrics.insert("overrides_kept".into(), json!(overrides));
    metrics.insert("strategies".into(), strategy_counts);
    Ok(Advance::Next(metrics))
}

/// Where `strategy` is in [`SixrStrategy::ALL`].
fn strategy_index(strategy: SixrStrategy) -> usize {
    SixrStrategy::ALL.iter().position(|s| *s == strategy).unwrap_or_default()
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
