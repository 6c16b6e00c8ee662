-- Row-level security: the second wall of tenant isolation (the first is the repository layer,
-- which cannot be called without a TenantCtx).
--
-- The application does not query as the owner of the tables (owners and superusers bypass RLS):
-- its connections `SET ROLE modernize_app`, a role without BYPASSRLS. Every tenant table gets a
-- policy admitting only the rows of the client account named by the transaction-local setting
-- `modernize.client_account_id`, which the repository layer sets with set_config(..., true). A
-- query without the setting sees no tenant row at all. Membership tables also show a user their
-- own rows (setting `modernize.user_id`), which is how the auth layer finds a user's tenants.
--
-- Migrations, validation, consolidation and backups keep using the owner role, unaffected.
-- modernize_app is a cluster-wide role shared by every database of the cluster, so the down
-- migration revokes its privileges here but does not drop it.

SET LOCAL lock_timeout = '5s';

-- Roles are shared by all databases of a cluster, so another database's migration may be creating
-- it at this very moment: losing that race is fine.
DO $$
BEGIN
    CREATE ROLE modernize_app NOLOGIN NOBYPASSRLS;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;
-- Whoever runs the migrations (the owner) may switch to the application role.
DO $$
BEGIN
    IF NOT pg_has_role(current_user, 'modernize_app', 'MEMBER') THEN
        GRANT modernize_app TO CURRENT_USER;
    END IF;
EXCEPTION WHEN unique_violation THEN
    NULL;
END
$$;

GRANT USAGE ON SCHEMA migration TO modernize_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA migration TO modernize_app;

CREATE FUNCTION migration.current_client_account_id() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('modernize.client_account_id', true), '')::uuid $$;
COMMENT ON FUNCTION migration.current_client_account_id() IS
    'The client account the current transaction acts for (setting modernize.client_account_id), or NULL.';

CREATE FUNCTION migration.current_user_id() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('modernize.user_id', true), '')::uuid $$;
COMMENT ON FUNCTION migration.current_user_id() IS
    'The user the current transaction acts for (setting modernize.user_id), or NULL.';

ALTER TABLE migration.engagements ENABLE ROW LEVEL SECURITY;
CREATE POLICY engagements_tenant_isolation ON migration.engagements
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.user_account_associations ENABLE ROW LEVEL SECURITY;
CREATE POLICY user_account_associations_tenant_isolation ON migration.user_account_associations
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.client_access ENABLE ROW LEVEL SECURITY;
CREATE POLICY client_access_tenant_isolation ON migration.client_access
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.engagement_access ENABLE ROW LEVEL SECURITY;
CREATE POLICY engagement_access_tenant_isolation ON migration.engagement_access
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.user_roles ENABLE ROW LEVEL SECURITY;
CREATE POLICY user_roles_tenant_isolation ON migration.user_roles
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.role_change_approvals ENABLE ROW LEVEL SECURITY;
CREATE POLICY role_change_approvals_tenant_isolation ON migration.role_change_approvals
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.crewai_flow_state_extensions ENABLE ROW LEVEL SECURITY;
CREATE POLICY crewai_flow_state_extensions_tenant_isolation ON migration.crewai_flow_state_extensions
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.data_imports ENABLE ROW LEVEL SECURITY;
CREATE POLICY data_imports_tenant_isolation ON migration.data_imports
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.discovery_flows ENABLE ROW LEVEL SECURITY;
CREATE POLICY discovery_flows_tenant_isolation ON migration.discovery_flows
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.raw_import_records ENABLE ROW LEVEL SECURITY;
CREATE POLICY raw_import_records_tenant_isolation ON migration.raw_import_records
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.import_field_mappings ENABLE ROW LEVEL SECURITY;
CREATE POLICY import_field_mappings_tenant_isolation ON migration.import_field_mappings
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.custom_target_fields ENABLE ROW LEVEL SECURITY;
CREATE POLICY custom_target_fields_tenant_isolation ON migration.custom_target_fields
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.migration_waves ENABLE ROW LEVEL SECURITY;
CREATE POLICY migration_waves_tenant_isolation ON migration.migration_waves
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.assets ENABLE ROW LEVEL SECURITY;
CREATE POLICY assets_tenant_isolation ON migration.assets
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.asset_dependencies ENABLE ROW LEVEL SECURITY;
CREATE POLICY asset_dependencies_tenant_isolation ON migration.asset_dependencies
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.asset_embeddings ENABLE ROW LEVEL SECURITY;
CREATE POLICY asset_embeddings_tenant_isolation ON migration.asset_embeddings
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.tags ENABLE ROW LEVEL SECURITY;
CREATE POLICY tags_tenant_isolation ON migration.tags
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.asset_tags ENABLE ROW LEVEL SECURITY;
CREATE POLICY asset_tags_tenant_isolation ON migration.asset_tags
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.wave_plans ENABLE ROW LEVEL SECURITY;
CREATE POLICY wave_plans_tenant_isolation ON migration.wave_plans
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.assessments ENABLE ROW LEVEL SECURITY;
CREATE POLICY assessments_tenant_isolation ON migration.assessments
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.sixr_parameters ENABLE ROW LEVEL SECURITY;
CREATE POLICY sixr_parameters_tenant_isolation ON migration.sixr_parameters
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.sixr_analyses ENABLE ROW LEVEL SECURITY;
CREATE POLICY sixr_analyses_tenant_isolation ON migration.sixr_analyses
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.sixr_iterations ENABLE ROW LEVEL SECURITY;
CREATE POLICY sixr_iterations_tenant_isolation ON migration.sixr_iterations
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.sixr_analysis_parameters ENABLE ROW LEVEL SECURITY;
CREATE POLICY sixr_analysis_parameters_tenant_isolation ON migration.sixr_analysis_parameters
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.sixr_question_responses ENABLE ROW LEVEL SECURITY;
CREATE POLICY sixr_question_responses_tenant_isolation ON migration.sixr_question_responses
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.sixr_recommendations ENABLE ROW LEVEL SECURITY;
CREATE POLICY sixr_recommendations_tenant_isolation ON migration.sixr_recommendations
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.cmdb_sixr_analyses ENABLE ROW LEVEL SECURITY;
CREATE POLICY cmdb_sixr_analyses_tenant_isolation ON migration.cmdb_sixr_analyses
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.migrations ENABLE ROW LEVEL SECURITY;
CREATE POLICY migrations_tenant_isolation ON migration.migrations
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.migration_logs ENABLE ROW LEVEL SECURITY;
CREATE POLICY migration_logs_tenant_isolation ON migration.migration_logs
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.feedback ENABLE ROW LEVEL SECURITY;
CREATE POLICY feedback_tenant_isolation ON migration.feedback
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.feedback_summaries ENABLE ROW LEVEL SECURITY;
CREATE POLICY feedback_summaries_tenant_isolation ON migration.feedback_summaries
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.llm_usage_logs ENABLE ROW LEVEL SECURITY;
CREATE POLICY llm_usage_logs_tenant_isolation ON migration.llm_usage_logs
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.llm_usage_summary ENABLE ROW LEVEL SECURITY;
CREATE POLICY llm_usage_summary_tenant_isolation ON migration.llm_usage_summary
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.access_audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY access_audit_log_tenant_isolation ON migration.access_audit_log
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.security_audit_logs ENABLE ROW LEVEL SECURITY;
CREATE POLICY security_audit_logs_tenant_isolation ON migration.security_audit_logs
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.flow_deletion_audit ENABLE ROW LEVEL SECURITY;
CREATE POLICY flow_deletion_audit_tenant_isolation ON migration.flow_deletion_audit
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

ALTER TABLE migration.soft_deleted_items ENABLE ROW LEVEL SECURITY;
CREATE POLICY soft_deleted_items_tenant_isolation ON migration.soft_deleted_items
    USING (client_account_id = migration.current_client_account_id())
    WITH CHECK (client_account_id = migration.current_client_account_id());

CREATE POLICY user_account_associations_own_membership ON migration.user_account_associations FOR SELECT
    USING (user_id = migration.current_user_id());

CREATE POLICY client_access_own_membership ON migration.client_access FOR SELECT
    USING (user_id = migration.current_user_id());

CREATE POLICY engagement_access_own_membership ON migration.engagement_access FOR SELECT
    USING (user_id = migration.current_user_id());

CREATE POLICY user_roles_own_membership ON migration.user_roles FOR SELECT
    USING (user_id = migration.current_user_id());
