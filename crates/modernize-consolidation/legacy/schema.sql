-- The legacy (pre-consolidation) database of the platform, as `modernize legacy seed` builds it and
-- `modernize consolidate` expects it: every table in schema `migration`, in its OLD shape.
--
-- docs/legacy-schema.md describes what this artifact covers. In short:
--  * data_imports, discovery_flows and assets have the old column names of seed tasks 1.3/2.1
--    (source_filename, file_size_bytes, file_type, attribute_mapping_completed..., memory_mb,
--    storage_mb) and the columns the consolidation removes (file_hash, import_config,
--    assessment_package);
--  * the three tables merged into a twin: data_import_sessions, enhanced_user_profiles,
--    enhanced_access_audit_log;
--  * the four v3_* tables with every column seed task 1.3 reads, and v3_raw_import_records;
--  * the six deprecated tables of seed task 1.4;
--  * every other original table with the consolidated columns, PostgreSQL enums as varchar, a
--    single-column `id` primary key and, on tenant-owned tables and client_accounts, `is_mock`.
-- Primary keys are single columns and there are no cross-table foreign keys: the legacy platform
-- relied on its ORM, which is why the consolidation must check every reference as rows land.

CREATE SCHEMA migration;

-- Old-shape originals -----------------------------------------------------------------------------

CREATE TABLE migration.data_imports (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    master_flow_id uuid,
    import_name varchar(255) NOT NULL,
    import_type varchar(50) NOT NULL DEFAULT 'asset_inventory',
    description text,
    source_filename varchar(512) NOT NULL,
    file_size_bytes bigint,
    file_type varchar(255),
    source_system varchar(255),
    status varchar(50) NOT NULL DEFAULT 'pending',
    progress_percentage double precision NOT NULL DEFAULT 0,
    total_records integer NOT NULL DEFAULT 0,
    processed_records integer NOT NULL DEFAULT 0,
    failed_records integer NOT NULL DEFAULT 0,
    error_message text,
    error_details jsonb,
    imported_by uuid,
    file_hash varchar(64),
    import_config jsonb,
    is_mock boolean NOT NULL DEFAULT false,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    PRIMARY KEY (id)
);

CREATE TABLE migration.discovery_flows (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    flow_id uuid NOT NULL DEFAULT gen_random_uuid(),
    master_flow_id uuid,
    data_import_id uuid,
    user_id uuid,
    flow_name varchar(255),
    flow_type varchar(50) NOT NULL DEFAULT 'discovery',
    status varchar(50) NOT NULL DEFAULT 'initialized',
    progress_percentage double precision NOT NULL DEFAULT 0,
    data_import_completed boolean NOT NULL DEFAULT false,
    attribute_mapping_completed boolean NOT NULL DEFAULT false,
    data_cleansing_completed boolean NOT NULL DEFAULT false,
    inventory_completed boolean NOT NULL DEFAULT false,
    dependencies_completed boolean NOT NULL DEFAULT false,
    tech_debt_completed boolean NOT NULL DEFAULT false,
    phases jsonb NOT NULL DEFAULT '{}'::jsonb,
    crew_outputs jsonb NOT NULL DEFAULT '{}'::jsonb,
    assessment_package jsonb,
    error_message text,
    error_phase varchar(50),
    error_details jsonb,
    is_mock boolean NOT NULL DEFAULT false,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    PRIMARY KEY (id)
);

CREATE TABLE migration.assets (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    master_flow_id uuid,
    discovery_flow_id uuid,
    data_import_id uuid,
    raw_import_record_id uuid,
    migration_wave_id uuid,
    name character varying(255) NOT NULL,
    asset_name character varying(255),
    hostname character varying(255),
    fqdn character varying(512),
    asset_type varchar(50) NOT NULL DEFAULT 'server',
    description text,
    ip_address character varying(64),
    mac_address character varying(32),
    environment character varying(50),
    location character varying(255),
    datacenter character varying(255),
    rack_location character varying(100),
    availability_zone character varying(100),
    operating_system character varying(255),
    os_version character varying(100),
    cpu_cores integer,
    memory_mb integer,
    storage_mb integer,
    serial_number character varying(255),
    manufacturer character varying(255),
    model character varying(255),
    virtualization_platform character varying(100),
    database_type character varying(100),
    business_owner character varying(255),
    technical_owner character varying(255),
    department character varying(255),
    business_unit character varying(255),
    application_name character varying(255),
    technology_stack jsonb NOT NULL DEFAULT '[]'::jsonb,
    criticality varchar(50),
    business_criticality varchar(50),
    status varchar(50) NOT NULL DEFAULT 'discovered',
    six_r_strategy varchar(50),
    migration_priority integer,
    migration_complexity character varying(20),
    migration_wave integer,
    sixr_ready character varying(50),
    cpu_utilization_percent double precision,
    memory_utilization_percent double precision,
    disk_iops double precision,
    network_throughput_mbps double precision,
    completeness_score double precision,
    quality_score double precision,
    current_monthly_cost numeric(14,2),
    estimated_cloud_cost numeric(14,2),
    discovery_method character varying(50),
    discovery_source character varying(255),
    discovery_timestamp timestamp with time zone,
    custom_attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_by uuid,
    updated_by uuid,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now()
,
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

-- Tables merged into a twin ---------------------------------------------------------------------

-- An upload session: the master flow now plays its role; its rows become data_imports.
CREATE TABLE migration.data_import_sessions (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    master_flow_id uuid,
    session_name varchar(255) NOT NULL,
    session_type varchar(50) NOT NULL DEFAULT 'asset_inventory',
    description text,
    source_filename varchar(512) NOT NULL,
    file_size_bytes bigint,
    file_type varchar(255),
    status varchar(50) NOT NULL DEFAULT 'pending',
    total_records integer NOT NULL DEFAULT 0,
    processed_records integer NOT NULL DEFAULT 0,
    failed_records integer NOT NULL DEFAULT 0,
    created_by uuid,
    session_metadata jsonb,
    is_mock boolean NOT NULL DEFAULT false,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    completed_at timestamp with time zone,
    PRIMARY KEY (id)
);

CREATE TABLE migration.enhanced_user_profiles (
    user_id uuid NOT NULL,
    display_name varchar(255),
    job_title varchar(255),
    organization varchar(255),
    phone varchar(50),
    timezone varchar(64) NOT NULL DEFAULT 'UTC',
    locale varchar(16) NOT NULL DEFAULT 'en',
    status varchar(32) NOT NULL DEFAULT 'active',
    approval_requested_at timestamp with time zone,
    approved_at timestamp with time zone,
    approved_by uuid,
    login_count integer NOT NULL DEFAULT 0,
    failed_login_attempts integer NOT NULL DEFAULT 0,
    preferences jsonb NOT NULL DEFAULT '{}'::jsonb,
    notification_settings jsonb NOT NULL DEFAULT '{}'::jsonb,
    security_clearance varchar(50),
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id)
);

CREATE TABLE migration.enhanced_access_audit_log (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid,
    user_id uuid,
    action_type varchar(100) NOT NULL,
    resource_type varchar(100),
    resource_id varchar(255),
    result varchar(20) NOT NULL,
    reason text,
    ip_address inet,
    user_agent text,
    http_method varchar(10),
    endpoint varchar(512),
    details jsonb NOT NULL DEFAULT '{}'::jsonb,
    risk_score integer,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

-- v3 tables: rows written by the v3 code path and never merged (seed task 1.3) ---------------------

CREATE TABLE migration.v3_data_imports (
    id uuid NOT NULL,
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    master_flow_id uuid,
    source_filename varchar(512) NOT NULL,
    file_size_bytes bigint,
    file_type varchar(255),
    source_system varchar(255),
    status varchar(50) NOT NULL DEFAULT 'pending',
    import_name varchar(255) NOT NULL,
    import_type varchar(50) NOT NULL DEFAULT 'asset_inventory',
    description text,
    error_message text,
    error_details jsonb,
    progress_percentage double precision NOT NULL DEFAULT 0,
    total_records integer NOT NULL DEFAULT 0,
    processed_records integer NOT NULL DEFAULT 0,
    failed_records integer NOT NULL DEFAULT 0,
    user_id uuid,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    PRIMARY KEY (id)
);

CREATE TABLE migration.v3_discovery_flows (
    id uuid NOT NULL,
    flow_id uuid NOT NULL,
    master_flow_id uuid,
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    data_import_id uuid,
    user_id uuid,
    status varchar(50) NOT NULL DEFAULT 'initialized',
    progress_percentage double precision NOT NULL DEFAULT 0,
    flow_type varchar(50) NOT NULL DEFAULT 'discovery',
    current_phase varchar(50),
    phases_completed jsonb NOT NULL DEFAULT '[]'::jsonb,
    flow_state jsonb NOT NULL DEFAULT '{}'::jsonb,
    error_message text,
    error_phase varchar(50),
    error_details jsonb,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    PRIMARY KEY (id)
);

CREATE TABLE migration.v3_field_mappings (
    id uuid NOT NULL,
    data_import_id uuid NOT NULL,
    client_account_id uuid NOT NULL,
    master_flow_id uuid,
    source_field varchar(255) NOT NULL,
    target_field varchar(255),
    mapping_type varchar(50) NOT NULL DEFAULT 'unmapped',
    confidence_score double precision,
    is_approved boolean NOT NULL DEFAULT false,
    is_rejected boolean NOT NULL DEFAULT false,
    ai_model_version varchar(255),
    approved_by uuid,
    approved_at timestamp with time zone,
    transformation_logic jsonb NOT NULL DEFAULT '{}'::jsonb,
    is_validated boolean NOT NULL DEFAULT false,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

-- Task 1.3 forgot it; it holds the raw rows of v3 imports and is migrated like the others.
CREATE TABLE migration.v3_raw_import_records (
    id uuid NOT NULL,
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    data_import_id uuid NOT NULL,
    master_flow_id uuid,
    row_number integer NOT NULL,
    raw_data jsonb NOT NULL,
    cleansed_data jsonb,
    is_valid boolean NOT NULL DEFAULT true,
    validation_errors jsonb NOT NULL DEFAULT '[]'::jsonb,
    is_processed boolean NOT NULL DEFAULT false,
    asset_id uuid,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    processed_at timestamp with time zone,
    PRIMARY KEY (id)
);

-- Deprecated tables (seed task 1.4): their rows are archived, never migrated ----------------------

CREATE TABLE migration.workflow_states (
    id serial PRIMARY KEY,
    client_account_id uuid NOT NULL,
    flow_id uuid NOT NULL,
    phase varchar(50) NOT NULL,
    state jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamp with time zone NOT NULL DEFAULT now()
);

-- Assets found by the old discovery crew; promoted_asset_id is NULL for rows never promoted.
CREATE TABLE migration.discovery_assets (
    id serial PRIMARY KEY,
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    discovery_flow_id uuid,
    asset_name varchar(255) NOT NULL,
    asset_type varchar(50),
    raw_data jsonb NOT NULL DEFAULT '{}'::jsonb,
    promoted_asset_id uuid,
    created_at timestamp with time zone NOT NULL DEFAULT now()
);

CREATE TABLE migration.mapping_learning_patterns (
    id serial PRIMARY KEY,
    client_account_id uuid NOT NULL,
    source_field_pattern varchar(255) NOT NULL,
    target_field varchar(255) NOT NULL,
    confidence double precision,
    times_seen integer NOT NULL DEFAULT 1,
    created_at timestamp with time zone NOT NULL DEFAULT now()
);

CREATE TABLE migration.data_quality_issues (
    id serial PRIMARY KEY,
    client_account_id uuid NOT NULL,
    data_import_id uuid,
    row_number integer,
    field_name varchar(255),
    issue_type varchar(50) NOT NULL,
    description text,
    created_at timestamp with time zone NOT NULL DEFAULT now()
);

CREATE TABLE migration.workflow_progress (
    id serial PRIMARY KEY,
    client_account_id uuid NOT NULL,
    flow_id uuid NOT NULL,
    step varchar(100) NOT NULL,
    percent_complete double precision NOT NULL DEFAULT 0,
    updated_at timestamp with time zone NOT NULL DEFAULT now()
);

CREATE TABLE migration.import_processing_steps (
    id serial PRIMARY KEY,
    client_account_id uuid NOT NULL,
    data_import_id uuid NOT NULL,
    step_name varchar(100) NOT NULL,
    status varchar(50) NOT NULL DEFAULT 'pending',
    details jsonb,
    started_at timestamp with time zone,
    completed_at timestamp with time zone
);

-- Every other original table: consolidated columns, enums as varchar, single-column key ----------

CREATE TABLE migration.access_audit_log (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid,
    user_id uuid,
    action_type varchar(100) NOT NULL,
    resource_type varchar(100),
    resource_id varchar(255),
    result varchar(20) NOT NULL,
    reason text,
    ip_address inet,
    user_agent text,
    http_method varchar(10),
    endpoint varchar(512),
    details jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.assessments (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    asset_id uuid,
    migration_wave_id uuid,
    master_flow_id uuid,
    assessment_name varchar(255) NOT NULL,
    assessment_type varchar(50) NOT NULL DEFAULT 'technical'::varchar,
    status varchar(50) NOT NULL DEFAULT 'pending',
    recommended_strategy varchar(50),
    overall_score double precision,
    risk_level varchar(50),
    technical_findings jsonb NOT NULL DEFAULT '{}'::jsonb,
    tech_debt_items jsonb NOT NULL DEFAULT '[]'::jsonb,
    estimated_effort_hours numeric(10,2),
    estimated_cost numeric(14,2),
    assessed_by uuid,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    completed_at timestamp with time zone,
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.asset_dependencies (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    asset_id uuid NOT NULL,
    depends_on_asset_id uuid NOT NULL,
    dependency_type varchar(50) NOT NULL DEFAULT 'depends_on',
    description text,
    port integer,
    protocol varchar(20),
    criticality varchar(50),
    confidence_score double precision,
    discovered_by varchar(100),
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.asset_embeddings (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    asset_id uuid NOT NULL,
    embedding_model varchar(255) NOT NULL,
    embedding real[] NOT NULL,
    source_text text,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.asset_tags (
    client_account_id uuid NOT NULL,
    asset_id uuid NOT NULL,
    tag_id uuid NOT NULL,
    confidence_score double precision,
    assigned_by varchar(100),
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (asset_id, tag_id)
);

CREATE TABLE migration.client_access (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    user_id uuid NOT NULL,
    access_level varchar(50) NOT NULL DEFAULT 'viewer',
    permissions jsonb NOT NULL DEFAULT '{}'::jsonb,
    granted_by uuid,
    granted_at timestamp with time zone NOT NULL DEFAULT now(),
    expires_at timestamp with time zone,
    is_active boolean NOT NULL DEFAULT true,
    last_accessed_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.client_accounts (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    name varchar(255) NOT NULL,
    slug varchar(100) NOT NULL,
    description text,
    industry varchar(100),
    company_size varchar(50),
    headquarters_location varchar(255),
    primary_contact_name varchar(255),
    primary_contact_email varchar(255),
    primary_contact_phone varchar(50),
    subscription_tier varchar(50) NOT NULL DEFAULT 'standard'::varchar,
    max_users integer,
    max_engagements integer,
    storage_quota_gb integer,
    api_quota_monthly integer,
    settings jsonb NOT NULL DEFAULT '{}'::jsonb,
    branding jsonb NOT NULL DEFAULT '{}'::jsonb,
    agent_preferences jsonb NOT NULL DEFAULT '{}'::jsonb,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.cmdb_sixr_analyses (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    data_import_id uuid,
    analysis_name varchar(255) NOT NULL,
    status varchar(50) NOT NULL DEFAULT 'pending',
    total_assets integer NOT NULL DEFAULT 0,
    rehost_count integer NOT NULL DEFAULT 0,
    replatform_count integer NOT NULL DEFAULT 0,
    refactor_count integer NOT NULL DEFAULT 0,
    rearchitect_count integer NOT NULL DEFAULT 0,
    repurchase_count integer NOT NULL DEFAULT 0,
    retire_count integer NOT NULL DEFAULT 0,
    retain_count integer NOT NULL DEFAULT 0,
    total_current_cost numeric(14,2),
    total_estimated_cost numeric(14,2),
    potential_savings numeric(14,2),
    analysis_results jsonb NOT NULL DEFAULT '{}'::jsonb,
    recommendations jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_by uuid,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    completed_at timestamp with time zone,
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.crewai_flow_state_extensions (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    flow_id uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id uuid,
    flow_type varchar(50) NOT NULL,
    flow_name varchar(255),
    flow_status varchar(50) NOT NULL DEFAULT 'initialized',
    flow_configuration jsonb NOT NULL DEFAULT '{}'::jsonb,
    flow_persistence_data jsonb NOT NULL DEFAULT '{}'::jsonb,
    agent_collaboration_log jsonb NOT NULL DEFAULT '[]'::jsonb,
    memory_usage_metrics jsonb NOT NULL DEFAULT '{}'::jsonb,
    phase_execution_times jsonb NOT NULL DEFAULT '{}'::jsonb,
    learning_patterns jsonb NOT NULL DEFAULT '[]'::jsonb,
    user_feedback_history jsonb NOT NULL DEFAULT '[]'::jsonb,
    error_message text,
    error_details jsonb,
    parent_flow_id uuid,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.custom_target_fields (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid,
    field_name varchar(255) NOT NULL,
    field_type varchar(32) NOT NULL DEFAULT 'string'::varchar,
    display_name varchar(255),
    description text,
    is_required boolean NOT NULL DEFAULT false,
    validation_rules jsonb NOT NULL DEFAULT '{}'::jsonb,
    default_value text,
    created_by uuid,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.engagement_access (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    user_id uuid NOT NULL,
    role varchar(50) NOT NULL DEFAULT 'viewer',
    permissions jsonb NOT NULL DEFAULT '{}'::jsonb,
    granted_by uuid,
    granted_at timestamp with time zone NOT NULL DEFAULT now(),
    expires_at timestamp with time zone,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.engagements (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    name varchar(255) NOT NULL,
    slug varchar(100) NOT NULL,
    description text,
    engagement_type varchar(50) NOT NULL DEFAULT 'migration'::varchar,
    status varchar(50) NOT NULL DEFAULT 'planning',
    priority varchar(20) NOT NULL DEFAULT 'medium'::varchar,
    start_date date,
    target_completion_date date,
    actual_completion_date date,
    engagement_lead_id uuid,
    client_contact_name varchar(255),
    client_contact_email varchar(255),
    settings jsonb NOT NULL DEFAULT '{}'::jsonb,
    migration_scope jsonb NOT NULL DEFAULT '{}'::jsonb,
    team_preferences jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_by uuid,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.feedback (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid,
    user_id uuid,
    feedback_type varchar(50) NOT NULL,
    page varchar(255),
    rating integer,
    comment text,
    category varchar(100),
    status varchar(20) NOT NULL DEFAULT 'new'::varchar,
    context jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.feedback_summaries (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid,
    feedback_type varchar(50) NOT NULL,
    page varchar(255) NOT NULL DEFAULT ''::varchar,
    period_start date NOT NULL,
    period_end date NOT NULL,
    total_feedback integer NOT NULL DEFAULT 0,
    average_rating double precision,
    status_counts jsonb NOT NULL DEFAULT '{}'::jsonb,
    category_counts jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.flow_deletion_audit (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    flow_id uuid NOT NULL,
    flow_type varchar(50) NOT NULL,
    deletion_type varchar(20) NOT NULL DEFAULT 'user_requested'::varchar,
    deletion_reason text,
    deleted_by uuid,
    data_deleted jsonb NOT NULL DEFAULT '{}'::jsonb,
    deletion_impact jsonb NOT NULL DEFAULT '{}'::jsonb,
    cleanup_summary jsonb NOT NULL DEFAULT '{}'::jsonb,
    deletion_duration_ms integer,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.import_field_mappings (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid,
    data_import_id uuid NOT NULL,
    master_flow_id uuid,
    source_field varchar(255) NOT NULL,
    target_field varchar(255),
    match_type varchar(50) NOT NULL DEFAULT 'unmapped'::varchar,
    confidence_score double precision,
    status varchar(50) NOT NULL DEFAULT 'suggested',
    suggested_by varchar(255),
    approved_by uuid,
    approved_at timestamp with time zone,
    transformation_rules jsonb NOT NULL DEFAULT '{}'::jsonb,
    is_validated boolean NOT NULL DEFAULT false,
    validation_errors jsonb NOT NULL DEFAULT '[]'::jsonb,
    sample_values jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.llm_model_pricing (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    provider varchar(100) NOT NULL,
    model_name varchar(255) NOT NULL,
    input_cost_per_1k_tokens numeric(12,6) NOT NULL,
    output_cost_per_1k_tokens numeric(12,6) NOT NULL,
    currency varchar(3) NOT NULL DEFAULT 'USD'::varchar,
    effective_from timestamp with time zone NOT NULL DEFAULT now(),
    effective_to timestamp with time zone,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE TABLE migration.llm_usage_logs (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid,
    user_id uuid,
    master_flow_id uuid,
    pricing_id uuid,
    provider varchar(100) NOT NULL,
    model_name varchar(255) NOT NULL,
    feature_context varchar(100),
    request_type varchar(50) NOT NULL DEFAULT 'completion'::varchar,
    input_tokens integer NOT NULL DEFAULT 0,
    output_tokens integer NOT NULL DEFAULT 0,
    cost numeric(14,6),
    response_time_ms integer,
    success boolean NOT NULL DEFAULT true,
    error_message text,
    request_metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.llm_usage_summary (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid,
    period_type varchar(10) NOT NULL,
    period_start timestamp with time zone NOT NULL,
    period_end timestamp with time zone NOT NULL,
    provider varchar(100) NOT NULL,
    model_name varchar(255) NOT NULL,
    total_requests integer NOT NULL DEFAULT 0,
    successful_requests integer NOT NULL DEFAULT 0,
    failed_requests integer NOT NULL DEFAULT 0,
    total_input_tokens bigint NOT NULL DEFAULT 0,
    total_output_tokens bigint NOT NULL DEFAULT 0,
    total_cost numeric(14,6) NOT NULL DEFAULT 0,
    avg_response_time_ms double precision,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.migration_logs (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    migration_id uuid NOT NULL,
    level varchar(10) NOT NULL DEFAULT 'info'::varchar,
    message text NOT NULL,
    details jsonb NOT NULL DEFAULT '{}'::jsonb,
    step varchar(100),
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.migration_waves (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    wave_number integer NOT NULL,
    name varchar(255) NOT NULL,
    description text,
    status varchar(50) NOT NULL DEFAULT 'planned',
    planned_start_date date,
    planned_end_date date,
    actual_start_date date,
    actual_end_date date,
    total_assets integer NOT NULL DEFAULT 0,
    completed_assets integer NOT NULL DEFAULT 0,
    failed_assets integer NOT NULL DEFAULT 0,
    estimated_cost numeric(14,2),
    actual_cost numeric(14,2),
    estimated_effort_hours numeric(10,2),
    created_by uuid,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.migrations (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    asset_id uuid,
    migration_wave_id uuid,
    name varchar(255) NOT NULL,
    strategy varchar(50),
    status varchar(50) NOT NULL DEFAULT 'pending',
    source_environment varchar(100),
    target_environment varchar(100),
    target_platform varchar(100),
    progress_percentage double precision NOT NULL DEFAULT 0,
    planned_start_at timestamp with time zone,
    planned_end_at timestamp with time zone,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    settings jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_by uuid,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.raw_import_records (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    data_import_id uuid NOT NULL,
    master_flow_id uuid,
    row_number integer NOT NULL,
    raw_data jsonb NOT NULL,
    cleansed_data jsonb,
    is_valid boolean NOT NULL DEFAULT true,
    validation_errors jsonb NOT NULL DEFAULT '[]'::jsonb,
    is_processed boolean NOT NULL DEFAULT false,
    asset_id uuid,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    processed_at timestamp with time zone,
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.role_change_approvals (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    target_user_id uuid NOT NULL,
    requested_by uuid,
    previous_role varchar(50),
    requested_role varchar(50) NOT NULL,
    justification text,
    status varchar(50) NOT NULL DEFAULT 'pending',
    reviewed_by uuid,
    reviewed_at timestamp with time zone,
    review_notes text,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.role_permissions (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    role varchar(50) NOT NULL,
    resource varchar(100) NOT NULL,
    action varchar(50) NOT NULL,
    description text,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE TABLE migration.security_audit_logs (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    user_id uuid,
    event_type varchar(100) NOT NULL,
    severity varchar(10) NOT NULL DEFAULT 'info'::varchar,
    description text NOT NULL,
    ip_address inet,
    user_agent text,
    details jsonb NOT NULL DEFAULT '{}'::jsonb,
    is_resolved boolean NOT NULL DEFAULT false,
    resolved_by uuid,
    resolved_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.sixr_analyses (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    master_flow_id uuid,
    name varchar(255) NOT NULL,
    description text,
    status varchar(50) NOT NULL DEFAULT 'pending',
    application_ids uuid[] NOT NULL DEFAULT '{}'::uuid[],
    current_iteration integer NOT NULL DEFAULT 1,
    progress_percentage double precision NOT NULL DEFAULT 0,
    final_recommendation varchar(50),
    confidence_score double precision,
    analysis_config jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_by uuid,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    completed_at timestamp with time zone,
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.sixr_analysis_parameters (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    analysis_id uuid NOT NULL,
    iteration_number integer NOT NULL DEFAULT 1,
    business_value double precision NOT NULL DEFAULT 3,
    technical_complexity double precision NOT NULL DEFAULT 3,
    migration_urgency double precision NOT NULL DEFAULT 3,
    compliance_requirements double precision NOT NULL DEFAULT 3,
    cost_sensitivity double precision NOT NULL DEFAULT 3,
    risk_tolerance double precision NOT NULL DEFAULT 3,
    innovation_priority double precision NOT NULL DEFAULT 3,
    application_type varchar(20) NOT NULL DEFAULT 'custom'::varchar,
    parameter_source varchar(50) NOT NULL DEFAULT 'default'::varchar,
    extra_parameters jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.sixr_iterations (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    analysis_id uuid NOT NULL,
    iteration_number integer NOT NULL,
    status varchar(50) NOT NULL DEFAULT 'pending',
    change_reason text,
    parameter_changes jsonb NOT NULL DEFAULT '{}'::jsonb,
    recommendation_snapshot jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_by uuid,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    completed_at timestamp with time zone,
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.sixr_parameters (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    parameter_key varchar(100) NOT NULL,
    display_name varchar(255) NOT NULL,
    description text,
    default_value double precision NOT NULL DEFAULT 3,
    weight double precision NOT NULL DEFAULT 1,
    min_value double precision NOT NULL DEFAULT 1,
    max_value double precision NOT NULL DEFAULT 5,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.sixr_question_responses (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    analysis_id uuid NOT NULL,
    question_id uuid NOT NULL,
    iteration_number integer NOT NULL DEFAULT 1,
    response_value jsonb NOT NULL,
    confidence double precision,
    source varchar(50) NOT NULL DEFAULT 'user'::varchar,
    responded_by uuid,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.sixr_questions (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    question_key varchar(100) NOT NULL,
    question_text text NOT NULL,
    question_type varchar(32) NOT NULL DEFAULT 'text'::varchar,
    category varchar(100) NOT NULL,
    options jsonb NOT NULL DEFAULT '[]'::jsonb,
    help_text text,
    display_order integer NOT NULL DEFAULT 0,
    is_required boolean NOT NULL DEFAULT false,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE TABLE migration.sixr_recommendations (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    analysis_id uuid NOT NULL,
    asset_id uuid,
    iteration_number integer NOT NULL DEFAULT 1,
    recommended_strategy varchar(50) NOT NULL,
    confidence_score double precision NOT NULL,
    strategy_scores jsonb NOT NULL DEFAULT '{}'::jsonb,
    rationale jsonb NOT NULL DEFAULT '[]'::jsonb,
    key_factors jsonb NOT NULL DEFAULT '[]'::jsonb,
    assumptions jsonb NOT NULL DEFAULT '[]'::jsonb,
    risks jsonb NOT NULL DEFAULT '[]'::jsonb,
    next_steps jsonb NOT NULL DEFAULT '[]'::jsonb,
    estimated_effort varchar(20),
    estimated_timeline varchar(100),
    estimated_cost_impact varchar(20),
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.soft_deleted_items (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid,
    item_type varchar(100) NOT NULL,
    item_id uuid NOT NULL,
    item_snapshot jsonb NOT NULL,
    deleted_by uuid,
    deletion_reason text,
    deleted_at timestamp with time zone NOT NULL DEFAULT now(),
    purge_after timestamp with time zone,
    restored_at timestamp with time zone,
    restored_by uuid,
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.tags (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    name varchar(100) NOT NULL,
    category varchar(100),
    description text,
    color varchar(7),
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.user_account_associations (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    user_id uuid NOT NULL,
    role varchar(50) NOT NULL DEFAULT 'viewer',
    is_active boolean NOT NULL DEFAULT true,
    invited_by uuid,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.user_profiles (
    user_id uuid NOT NULL,
    display_name varchar(255),
    job_title varchar(255),
    organization varchar(255),
    phone varchar(50),
    timezone varchar(64) NOT NULL DEFAULT 'UTC'::varchar,
    locale varchar(16) NOT NULL DEFAULT 'en'::varchar,
    status varchar(32) NOT NULL DEFAULT 'active'::varchar,
    approval_requested_at timestamp with time zone,
    approved_at timestamp with time zone,
    approved_by uuid,
    login_count integer NOT NULL DEFAULT 0,
    failed_login_attempts integer NOT NULL DEFAULT 0,
    preferences jsonb NOT NULL DEFAULT '{}'::jsonb,
    notification_settings jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id)
);

CREATE TABLE migration.user_roles (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    user_id uuid NOT NULL,
    role varchar(50) NOT NULL,
    scope_type varchar(32) NOT NULL DEFAULT 'client_account'::varchar,
    engagement_id uuid,
    assigned_by uuid,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

CREATE TABLE migration.users (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    email varchar(255) NOT NULL,
    password_hash text,
    first_name varchar(100),
    last_name varchar(100),
    is_active boolean NOT NULL DEFAULT true,
    is_verified boolean NOT NULL DEFAULT false,
    is_platform_admin boolean NOT NULL DEFAULT false,
    default_client_account_id uuid,
    default_engagement_id uuid,
    last_login_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    PRIMARY KEY (id)
);

CREATE TABLE migration.wave_plans (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    migration_wave_id uuid NOT NULL,
    asset_id uuid NOT NULL,
    sequence_number integer NOT NULL DEFAULT 0,
    planned_start_at timestamp with time zone,
    planned_end_at timestamp with time zone,
    status varchar(50) NOT NULL DEFAULT 'planned',
    notes text,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone NOT NULL DEFAULT now(),
    is_mock boolean NOT NULL DEFAULT false,
    PRIMARY KEY (id)
);

