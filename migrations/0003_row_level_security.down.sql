-- Reverses 0003: removes the policies, the helper functions and modernize_app's privileges
-- (the cluster-wide role itself stays; other databases may use it).

SET LOCAL lock_timeout = '5s';

DROP POLICY user_roles_own_membership ON migration.user_roles;
DROP POLICY engagement_access_own_membership ON migration.engagement_access;
DROP POLICY client_access_own_membership ON migration.client_access;
DROP POLICY user_account_associations_own_membership ON migration.user_account_associations;

DROP POLICY soft_deleted_items_tenant_isolation ON migration.soft_deleted_items;
ALTER TABLE migration.soft_deleted_items DISABLE ROW LEVEL SECURITY;

DROP POLICY flow_deletion_audit_tenant_isolation ON migration.flow_deletion_audit;
ALTER TABLE migration.flow_deletion_audit DISABLE ROW LEVEL SECURITY;

DROP POLICY security_audit_logs_tenant_isolation ON migration.security_audit_logs;
ALTER TABLE migration.security_audit_logs DISABLE ROW LEVEL SECURITY;

DROP POLICY access_audit_log_tenant_isolation ON migration.access_audit_log;
ALTER TABLE migration.access_audit_log DISABLE ROW LEVEL SECURITY;

DROP POLICY llm_usage_summary_tenant_isolation ON migration.llm_usage_summary;
ALTER TABLE migration.llm_usage_summary DISABLE ROW LEVEL SECURITY;

DROP POLICY llm_usage_logs_tenant_isolation ON migration.llm_usage_logs;
ALTER TABLE migration.llm_usage_logs DISABLE ROW LEVEL SECURITY;

DROP POLICY feedback_summaries_tenant_isolation ON migration.feedback_summaries;
ALTER TABLE migration.feedback_summaries DISABLE ROW LEVEL SECURITY;

DROP POLICY feedback_tenant_isolation ON migration.feedback;
ALTER TABLE migration.feedback DISABLE ROW LEVEL SECURITY;

DROP POLICY migration_logs_tenant_isolation ON migration.migration_logs;
ALTER TABLE migration.migration_logs DISABLE ROW LEVEL SECURITY;

DROP POLICY migrations_tenant_isolation ON migration.migrations;
ALTER TABLE migration.migrations DISABLE ROW LEVEL SECURITY;

DROP POLICY cmdb_sixr_analyses_tenant_isolation ON migration.cmdb_sixr_analyses;
ALTER TABLE migration.cmdb_sixr_analyses DISABLE ROW LEVEL SECURITY;

DROP POLICY sixr_recommendations_tenant_isolation ON migration.sixr_recommendations;
ALTER TABLE migration.sixr_recommendations DISABLE ROW LEVEL SECURITY;

DROP POLICY sixr_question_responses_tenant_isolation ON migration.sixr_question_responses;
ALTER TABLE migration.sixr_question_responses DISABLE ROW LEVEL SECURITY;

DROP POLICY sixr_analysis_parameters_tenant_isolation ON migration.sixr_analysis_parameters;
ALTER TABLE migration.sixr_analysis_parameters DISABLE ROW LEVEL SECURITY;

DROP POLICY sixr_iterations_tenant_isolation ON migration.sixr_iterations;
ALTER TABLE migration.sixr_iterations DISABLE ROW LEVEL SECURITY;

DROP POLICY sixr_analyses_tenant_isolation ON migration.sixr_analyses;
ALTER TABLE migration.sixr_analyses DISABLE ROW LEVEL SECURITY;

DROP POLICY sixr_parameters_tenant_isolation ON migration.sixr_parameters;
ALTER TABLE migration.sixr_parameters DISABLE ROW LEVEL SECURITY;

DROP POLICY assessments_tenant_isolation ON migration.assessments;
ALTER TABLE migration.assessments DISABLE ROW LEVEL SECURITY;

DROP POLICY wave_plans_tenant_isolation ON migration.wave_plans;
ALTER TABLE migration.wave_plans DISABLE ROW LEVEL SECURITY;

DROP POLICY asset_tags_tenant_isolation ON migration.asset_tags;
ALTER TABLE migration.asset_tags DISABLE ROW LEVEL SECURITY;

DROP POLICY tags_tenant_isolation ON migration.tags;
ALTER TABLE migration.tags DISABLE ROW LEVEL SECURITY;

DROP POLICY asset_embeddings_tenant_isolation ON migration.asset_embeddings;
ALTER TABLE migration.asset_embeddings DISABLE ROW LEVEL SECURITY;

DROP POLICY asset_dependencies_tenant_isolation ON migration.asset_dependencies;
ALTER TABLE migration.asset_dependencies DISABLE ROW LEVEL SECURITY;

DROP POLICY assets_tenant_isolation ON migration.assets;
ALTER TABLE migration.assets DISABLE ROW LEVEL SECURITY;

DROP POLICY migration_waves_tenant_isolation ON migration.migration_waves;
ALTER TABLE migration.migration_waves DISABLE ROW LEVEL SECURITY;

DROP POLICY custom_target_fields_tenant_isolation ON migration.custom_target_fields;
ALTER TABLE migration.custom_target_fields DISABLE ROW LEVEL SECURITY;

DROP POLICY import_field_mappings_tenant_isolation ON migration.import_field_mappings;
ALTER TABLE migration.import_field_mappings DISABLE ROW LEVEL SECURITY;

DROP POLICY raw_import_records_tenant_isolation ON migration.raw_import_records;
ALTER TABLE migration.raw_import_records DISABLE ROW LEVEL SECURITY;

DROP POLICY discovery_flows_tenant_isolation ON migration.discovery_flows;
ALTER TABLE migration.discovery_flows DISABLE ROW LEVEL SECURITY;

DROP POLICY data_imports_tenant_isolation ON migration.data_imports;
ALTER TABLE migration.data_imports DISABLE ROW LEVEL SECURITY;

DROP POLICY crewai_flow_state_extensions_tenant_isolation ON migration.crewai_flow_state_extensions;
ALTER TABLE migration.crewai_flow_state_extensions DISABLE ROW LEVEL SECURITY;

DROP POLICY role_change_approvals_tenant_isolation ON migration.role_change_approvals;
ALTER TABLE migration.role_change_approvals DISABLE ROW LEVEL SECURITY;

DROP POLICY user_roles_tenant_isolation ON migration.user_roles;
ALTER TABLE migration.user_roles DISABLE ROW LEVEL SECURITY;

DROP POLICY engagement_access_tenant_isolation ON migration.engagement_access;
ALTER TABLE migration.engagement_access DISABLE ROW LEVEL SECURITY;

DROP POLICY client_access_tenant_isolation ON migration.client_access;
ALTER TABLE migration.client_access DISABLE ROW LEVEL SECURITY;

DROP POLICY user_account_associations_tenant_isolation ON migration.user_account_associations;
ALTER TABLE migration.user_account_associations DISABLE ROW LEVEL SECURITY;

DROP POLICY engagements_tenant_isolation ON migration.engagements;
ALTER TABLE migration.engagements DISABLE ROW LEVEL SECURITY;

DROP FUNCTION migration.current_user_id();
DROP FUNCTION migration.current_client_account_id();

REVOKE SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA migration FROM modernize_app;
REVOKE USAGE ON SCHEMA migration FROM modernize_app;
