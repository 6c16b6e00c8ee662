-- Reverses 0001: drops the 43 tables (dependents first), the enum types and the schema.
-- The schema is dropped without CASCADE so that anything this migration did not create stops the
-- downgrade instead of being destroyed silently.

SET LOCAL lock_timeout = '5s';

ALTER TABLE migration.raw_import_records DROP CONSTRAINT raw_import_records_client_account_id_asset_id_fkey;

DROP TABLE migration.soft_deleted_items;
DROP TABLE migration.flow_deletion_audit;
DROP TABLE migration.security_audit_logs;
DROP TABLE migration.access_audit_log;
DROP TABLE migration.llm_usage_summary;
DROP TABLE migration.llm_usage_logs;
DROP TABLE migration.feedback_summaries;
DROP TABLE migration.feedback;
DROP TABLE migration.migration_logs;
DROP TABLE migration.migrations;
DROP TABLE migration.cmdb_sixr_analyses;
DROP TABLE migration.sixr_recommendations;
DROP TABLE migration.sixr_question_responses;
DROP TABLE migration.sixr_analysis_parameters;
DROP TABLE migration.sixr_iterations;
DROP TABLE migration.sixr_analyses;
DROP TABLE migration.sixr_parameters;
DROP TABLE migration.assessments;
DROP TABLE migration.wave_plans;
DROP TABLE migration.asset_tags;
DROP TABLE migration.tags;
DROP TABLE migration.asset_embeddings;
DROP TABLE migration.asset_dependencies;
DROP TABLE migration.assets;
DROP TABLE migration.migration_waves;
DROP TABLE migration.custom_target_fields;
DROP TABLE migration.import_field_mappings;
DROP TABLE migration.raw_import_records;
DROP TABLE migration.discovery_flows;
DROP TABLE migration.data_imports;
DROP TABLE migration.crewai_flow_state_extensions;
DROP TABLE migration.role_change_approvals;
DROP TABLE migration.user_roles;
DROP TABLE migration.engagement_access;
DROP TABLE migration.client_access;
DROP TABLE migration.user_account_associations;
DROP TABLE migration.engagements;
DROP TABLE migration.sixr_questions;
DROP TABLE migration.llm_model_pricing;
DROP TABLE migration.role_permissions;
DROP TABLE migration.user_profiles;
DROP TABLE migration.users;
DROP TABLE migration.client_accounts;

DROP TYPE migration.dependency_type;
DROP TYPE migration.approval_status;
DROP TYPE migration.wave_status;
DROP TYPE migration.analysis_status;
DROP TYPE migration.criticality_level;
DROP TYPE migration.member_role;
DROP TYPE migration.engagement_status;
DROP TYPE migration.discovery_phase;
DROP TYPE migration.mapping_status;
DROP TYPE migration.sixr_strategy;
DROP TYPE migration.import_type;
DROP TYPE migration.import_status;
DROP TYPE migration.flow_status;
DROP TYPE migration.asset_status;
DROP TYPE migration.asset_type;

DROP SCHEMA migration;
