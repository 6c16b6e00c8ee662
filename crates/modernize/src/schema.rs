//! The consolidated schema as the code knows it: which tables exist and who owns their rows.
//!
//! The migrations in `migrations/` create these tables; `db validate` checks a database against
//! this list, and the repositories rely on the ownership recorded here.

/// The PostgreSQL schema holding the 43 domain tables.
pub const DOMAIN_SCHEMA: &str = "migration";

/// The schema holding the tool's own bookkeeping (migration history, later job queue and
/// consolidation archive), kept apart so `migration` holds exactly the domain tables.
pub const BOOKKEEPING_SCHEMA: &str = "modernize";

/// Who owns the rows of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ownership {
    /// Shared by every tenant (users, client accounts, price lists, question bank).
    Global,
    /// Every row belongs to one client account (`client_account_id NOT NULL`).
    Tenant,
}

#[derive(Debug, Clone, Copy)]
pub struct TableSpec {
    pub name: &'static str,
    pub ownership: Ownership,
}

const fn global(name: &'static str) -> TableSpec {
    TableSpec { name, ownership: Ownership::Global }
}

const fn tenant(name: &'static str) -> TableSpec {
    TableSpec { name, ownership: Ownership::Tenant }
}

/// The 43 tables of the consolidated schema.
pub const TABLES: [TableSpec; 43] = [
    tenant("access_audit_log"),
    tenant("assessments"),
    tenant("asset_dependencies"),
    tenant("asset_embeddings"),
    tenant("asset_tags"),
    tenant("assets"),
    tenant("client_access"),
    global("client_accounts"),
    tenant("cmdb_sixr_analyses"),
    tenant("crewai_flow_state_extensions"),
    tenant("custom_target_fields"),
    tenant("data_imports"),
    tenant("discovery_flows"),
    tenant("engagement_access"),
    tenant("engagements"),
    tenant("feedback"),
    tenant("feedback_summaries"),
    tenant("flow_deletion_audit"),
    tenant("import_field_mappings"),
    global("llm_model_pricing"),
    tenant("llm_usage_logs"),
    tenant("llm_usage_summary"),
    tenant("migration_logs"),
    tenant("migration_waves"),
    tenant("migrations"),
    tenant("raw_import_records"),
    tenant("role_change_approvals"),
    global("role_permissions"),
    tenant("security_audit_logs"),
    tenant("sixr_analyses"),
    tenant("sixr_analysis_parameters"),
    tenant("sixr_iterations"),
    tenant("sixr_parameters"),
    tenant("sixr_question_responses"),
    global("sixr_questions"),
    tenant("sixr_recommendations"),
    tenant("soft_deleted_items"),
    tenant("tags"),
    tenant("user_account_associations"),
    global("user_profiles"),
    tenant("user_roles"),
    global("users"),
    tenant("wave_plans"),
];

/// Tables seed task 2.3 requires by name.
pub const REQUIRED_TABLES: [&str; 8] = [
    "client_accounts",
    "users",
    "engagements",
    "crewai_flow_state_extensions",
    "discovery_flows",
    "assets",
    "data_imports",
    "import_field_mappings",
];

/// Tables the consolidation removes: the deprecated ones (seed task 1.4) and the three merged
/// into a twin (enhanced_access_audit_log, enhanced_user_profiles, data_import_sessions).
pub const REMOVED_TABLES: [&str; 9] = [
    "workflow_states",
    "discovery_assets",
    "mapping_learning_patterns",
    "data_quality_issues",
    "workflow_progress",
    "import_processing_steps",
    "enhanced_access_audit_log",
    "enhanced_user_profiles",
    "data_import_sessions",
];

/// Tables whose rows are owned by a master flow, through a `master_flow_id` column that references
/// `crewai_flow_state_extensions (client_account_id, flow_id)`.
pub const MASTER_FLOW_TABLES: [&str; 5] =
    ["discovery_flows", "assets", "data_imports", "raw_import_records", "import_field_mappings"];

pub fn table(name: &str) -> Option<&'static TableSpec> {
    TABLES.iter().find(|spec| spec.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lists_name_known_tables_only() {
        let mut names: Vec<_> = TABLES.iter().map(|t| t.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 43, "table names are unique");
        for name in REQUIRED_TABLES.iter().chain(&MASTER_FLOW_TABLES) {
            assert!(table(name).is_some(), "{name} is one of the 43");
        }
        for name in REMOVED_TABLES {
            assert!(table(name).is_none(), "{name} is removed");
        }
    }
}
