-- The consolidated multi-tenant schema: the 43 domain tables of the platform in schema `migration`.
--
-- Conventions (docs/architecture.md explains them):
--  * A tenant-owned table carries `client_account_id NOT NULL` and its primary key is
--    `(client_account_id, id)`. Foreign keys between tenant tables include `client_account_id`,
--    so PostgreSQL itself refuses a row that points at another tenant's row (and Citus can
--    distribute every tenant table on `client_account_id`).
--  * Global tables (client_accounts, users, user_profiles, role_permissions, llm_model_pricing,
--    sixr_questions) have a plain `id` primary key.
--  * Every foreign key is backed by an index whose leading columns are the key's columns.
--  * Constraint names: <table>_pkey, <table>_<cols>_key, <table>_<cols>_fkey, <table>_<col>_check;
--    index names: ix_<table>_<cols>. Names that would pass PostgreSQL's 63-byte limit leave out
--    the implied client_account_id (or name the key's meaning: asset_dependencies_edge_key).

-- Runs in one transaction; no lock on a new object is contended, but never wait forever.
SET LOCAL lock_timeout = '5s';

CREATE SCHEMA IF NOT EXISTS migration;
COMMENT ON SCHEMA migration IS 'Consolidated domain schema of the Modernize platform (43 tables).';

-- Closed vocabularies ---------------------------------------------------------------------------

CREATE TYPE migration.asset_type AS ENUM (
    'server', 'database', 'application', 'network', 'load_balancer', 'storage',
    'security_group', 'virtual_machine', 'container', 'other'
);
CREATE TYPE migration.asset_status AS ENUM (
    'discovered', 'assessed', 'planned', 'migrating', 'migrated', 'failed', 'excluded'
);
CREATE TYPE migration.flow_status AS ENUM (
    'initialized', 'running', 'paused', 'completed', 'failed', 'cancelled', 'pending'
);
CREATE TYPE migration.import_status AS ENUM (
    'pending', 'uploading', 'uploaded', 'processing', 'validating', 'processed', 'completed',
    'failed', 'cancelled', 'archived'
);
CREATE TYPE migration.import_type AS ENUM (
    'cmdb', 'asset_inventory', 'network_data', 'business_apps', 'user_data', 'other'
);
CREATE TYPE migration.sixr_strategy AS ENUM (
    'rehost', 'replatform', 'refactor', 'rearchitect', 'repurchase', 'retire', 'retain'
);
CREATE TYPE migration.mapping_status AS ENUM ('suggested', 'approved', 'rejected');
CREATE TYPE migration.discovery_phase AS ENUM (
    'data_import', 'field_mapping', 'data_cleansing', 'asset_inventory', 'dependency_analysis',
    'tech_debt_assessment'
);
CREATE TYPE migration.engagement_status AS ENUM (
    'planning', 'active', 'on_hold', 'completed', 'cancelled'
);
CREATE TYPE migration.member_role AS ENUM ('admin', 'analyst', 'viewer');
CREATE TYPE migration.criticality_level AS ENUM ('low', 'medium', 'high', 'critical');
CREATE TYPE migration.analysis_status AS ENUM (
    'pending', 'in_progress', 'requires_input', 'completed', 'failed'
);
CREATE TYPE migration.wave_status AS ENUM (
    'planned', 'scheduled', 'in_progress', 'completed', 'cancelled'
);
CREATE TYPE migration.approval_status AS ENUM ('pending', 'approved', 'rejected', 'cancelled');
CREATE TYPE migration.dependency_type AS ENUM (
    'hosts', 'runs_on', 'depends_on', 'connects_to', 'uses_database', 'load_balances',
    'replicates_to', 'other'
);

-- Global tables ---------------------------------------------------------------------------------

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
    subscription_tier varchar(50) NOT NULL DEFAULT 'standard',
    max_users integer,
    max_engagements integer,
    storage_quota_gb integer,
    api_quota_monthly integer,
    settings jsonb NOT NULL DEFAULT '{}'::jsonb,
    branding jsonb NOT NULL DEFAULT '{}'::jsonb,
    agent_preferences jsonb NOT NULL DEFAULT '{}'::jsonb,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT client_accounts_pkey PRIMARY KEY (id),
    CONSTRAINT client_accounts_slug_key UNIQUE (slug),
    CONSTRAINT client_accounts_slug_check CHECK (slug ~ '^[a-z0-9][a-z0-9-]*$'),
    CONSTRAINT client_accounts_quotas_check CHECK (
        coalesce(max_users, 0) >= 0 AND coalesce(max_engagements, 0) >= 0
        AND coalesce(storage_quota_gb, 0) >= 0 AND coalesce(api_quota_monthly, 0) >= 0
    )
);
COMMENT ON TABLE migration.client_accounts IS
    'Tenants: the consultancy''s clients. Every tenant-owned row carries one client_account_id.';

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
    last_login_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_email_check CHECK (position('@' IN email) > 1),
    CONSTRAINT users_default_client_account_id_fkey FOREIGN KEY (default_client_account_id)
        REFERENCES migration.client_accounts (id) ON DELETE SET NULL
);
COMMENT ON TABLE migration.users IS
    'Platform users (global). Access to tenants goes through the membership tables; passwords are argon2 hashes.';
CREATE INDEX ix_users_default_client_account_id ON migration.users (default_client_account_id);

CREATE TABLE migration.user_profiles (
    user_id uuid NOT NULL,
    display_name varchar(255),
    job_title varchar(255),
    organization varchar(255),
    phone varchar(50),
    timezone varchar(64) NOT NULL DEFAULT 'UTC',
    locale varchar(16) NOT NULL DEFAULT 'en',
    status varchar(32) NOT NULL DEFAULT 'active',
    approval_requested_at timestamptz,
    approved_at timestamptz,
    approved_by uuid,
    login_count integer NOT NULL DEFAULT 0,
    failed_login_attempts integer NOT NULL DEFAULT 0,
    preferences jsonb NOT NULL DEFAULT '{}'::jsonb,
    notification_settings jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_profiles_pkey PRIMARY KEY (user_id),
    CONSTRAINT user_profiles_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES migration.users (id) ON DELETE CASCADE,
    CONSTRAINT user_profiles_approved_by_fkey FOREIGN KEY (approved_by)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT user_profiles_status_check CHECK (
        status IN ('pending_approval', 'active', 'suspended', 'deactivated')
    ),
    CONSTRAINT user_profiles_counters_check CHECK (login_count >= 0 AND failed_login_attempts >= 0)
);
COMMENT ON TABLE migration.user_profiles IS
    'Profile and approval state of a user (global; merges the former enhanced_user_profiles).';
CREATE INDEX ix_user_profiles_approved_by ON migration.user_profiles (approved_by);

CREATE TABLE migration.role_permissions (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    role migration.member_role NOT NULL,
    resource varchar(100) NOT NULL,
    action varchar(50) NOT NULL,
    description text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT role_permissions_pkey PRIMARY KEY (id),
    CONSTRAINT role_permissions_role_resource_action_key UNIQUE (role, resource, action)
);
COMMENT ON TABLE migration.role_permissions IS
    'Global catalogue of what each membership role may do on each resource (read, write, approve...).';

CREATE TABLE migration.llm_model_pricing (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    provider varchar(100) NOT NULL,
    model_name varchar(255) NOT NULL,
    input_cost_per_1k_tokens numeric(12, 6) NOT NULL,
    output_cost_per_1k_tokens numeric(12, 6) NOT NULL,
    currency varchar(3) NOT NULL DEFAULT 'USD',
    effective_from timestamptz NOT NULL DEFAULT now(),
    effective_to timestamptz,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT llm_model_pricing_pkey PRIMARY KEY (id),
    CONSTRAINT llm_model_pricing_provider_model_name_effective_from_key
        UNIQUE (provider, model_name, effective_from),
    CONSTRAINT llm_model_pricing_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT llm_model_pricing_costs_check CHECK (
        input_cost_per_1k_tokens >= 0 AND output_cost_per_1k_tokens >= 0
    ),
    CONSTRAINT llm_model_pricing_period_check CHECK (effective_to IS NULL OR effective_to > effective_from)
);
COMMENT ON TABLE migration.llm_model_pricing IS
    'Global price list of LLM models, used to cost llm_usage_logs.';

CREATE TABLE migration.sixr_questions (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    question_key varchar(100) NOT NULL,
    question_text text NOT NULL,
    question_type varchar(32) NOT NULL DEFAULT 'text',
    category varchar(100) NOT NULL,
    options jsonb NOT NULL DEFAULT '[]'::jsonb,
    help_text text,
    display_order integer NOT NULL DEFAULT 0,
    is_required boolean NOT NULL DEFAULT false,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sixr_questions_pkey PRIMARY KEY (id),
    CONSTRAINT sixr_questions_question_key_key UNIQUE (question_key),
    CONSTRAINT sixr_questions_question_type_check CHECK (
        question_type IN ('text', 'single_choice', 'multiple_choice', 'number', 'boolean', 'scale')
    )
);
COMMENT ON TABLE migration.sixr_questions IS
    'Global bank of qualifying questions asked during a 6R analysis.';

-- Tenancy, membership and access ---------------------------------------------------------------

CREATE TABLE migration.engagements (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    name varchar(255) NOT NULL,
    slug varchar(100) NOT NULL,
    description text,
    engagement_type varchar(50) NOT NULL DEFAULT 'migration',
    status migration.engagement_status NOT NULL DEFAULT 'planning',
    priority varchar(20) NOT NULL DEFAULT 'medium',
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
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT engagements_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT engagements_client_account_id_slug_key UNIQUE (client_account_id, slug),
    CONSTRAINT engagements_client_account_id_fkey FOREIGN KEY (client_account_id)
        REFERENCES migration.client_accounts (id) ON DELETE CASCADE,
    CONSTRAINT engagements_engagement_lead_id_fkey FOREIGN KEY (engagement_lead_id)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT engagements_created_by_fkey FOREIGN KEY (created_by)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT engagements_priority_check CHECK (priority IN ('low', 'medium', 'high', 'critical')),
    CONSTRAINT engagements_dates_check CHECK (
        target_completion_date IS NULL OR start_date IS NULL OR target_completion_date >= start_date
    )
);
COMMENT ON TABLE migration.engagements IS
    'A migration project for one client account; most tenant data is scoped to an engagement.';
CREATE INDEX ix_engagements_engagement_lead_id ON migration.engagements (engagement_lead_id);
CREATE INDEX ix_engagements_created_by ON migration.engagements (created_by);

-- users.default_engagement_id is a convenience pointer into a tenant; it is validated by the
-- application against the user's memberships, so it is not a foreign key.

CREATE TABLE migration.user_account_associations (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    user_id uuid NOT NULL,
    role migration.member_role NOT NULL DEFAULT 'viewer',
    is_active boolean NOT NULL DEFAULT true,
    invited_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_account_associations_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT user_account_associations_client_account_id_user_id_key UNIQUE (client_account_id, user_id),
    CONSTRAINT user_account_associations_client_account_id_fkey FOREIGN KEY (client_account_id)
        REFERENCES migration.client_accounts (id) ON DELETE CASCADE,
    CONSTRAINT user_account_associations_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES migration.users (id) ON DELETE CASCADE,
    CONSTRAINT user_account_associations_invited_by_fkey FOREIGN KEY (invited_by)
        REFERENCES migration.users (id) ON DELETE SET NULL
);
COMMENT ON TABLE migration.user_account_associations IS
    'Membership of a user in a client account, with the role the user holds there.';
CREATE INDEX ix_user_account_associations_user_id ON migration.user_account_associations (user_id);
CREATE INDEX ix_user_account_associations_invited_by ON migration.user_account_associations (invited_by);

CREATE TABLE migration.client_access (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    user_id uuid NOT NULL,
    access_level migration.member_role NOT NULL DEFAULT 'viewer',
    permissions jsonb NOT NULL DEFAULT '{}'::jsonb,
    granted_by uuid,
    granted_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    is_active boolean NOT NULL DEFAULT true,
    last_accessed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT client_access_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT client_access_client_account_id_user_id_key UNIQUE (client_account_id, user_id),
    CONSTRAINT client_access_client_account_id_fkey FOREIGN KEY (client_account_id)
        REFERENCES migration.client_accounts (id) ON DELETE CASCADE,
    CONSTRAINT client_access_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES migration.users (id) ON DELETE CASCADE,
    CONSTRAINT client_access_granted_by_fkey FOREIGN KEY (granted_by)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT client_access_expiry_check CHECK (expires_at IS NULL OR expires_at > granted_at)
);
COMMENT ON TABLE migration.client_access IS
    'Explicit, possibly time-limited grants of a user''s access to a client account and its permissions.';
CREATE INDEX ix_client_access_user_id ON migration.client_access (user_id);
CREATE INDEX ix_client_access_granted_by ON migration.client_access (granted_by);

CREATE TABLE migration.engagement_access (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    user_id uuid NOT NULL,
    role migration.member_role NOT NULL DEFAULT 'viewer',
    permissions jsonb NOT NULL DEFAULT '{}'::jsonb,
    granted_by uuid,
    granted_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT engagement_access_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT engagement_access_client_account_id_engagement_id_user_id_key
        UNIQUE (client_account_id, engagement_id, user_id),
    CONSTRAINT engagement_access_client_account_id_engagement_id_fkey
        FOREIGN KEY (client_account_id, engagement_id)
        REFERENCES migration.engagements (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT engagement_access_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES migration.users (id) ON DELETE CASCADE,
    CONSTRAINT engagement_access_granted_by_fkey FOREIGN KEY (granted_by)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT engagement_access_expiry_check CHECK (expires_at IS NULL OR expires_at > granted_at)
);
COMMENT ON TABLE migration.engagement_access IS
    'Membership of a user in an engagement, with the role the user holds there.';
CREATE INDEX ix_engagement_access_user_id ON migration.engagement_access (user_id);
CREATE INDEX ix_engagement_access_granted_by ON migration.engagement_access (granted_by);

CREATE TABLE migration.user_roles (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    user_id uuid NOT NULL,
    role migration.member_role NOT NULL,
    scope_type varchar(32) NOT NULL DEFAULT 'client_account',
    engagement_id uuid,
    assigned_by uuid,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_roles_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT user_roles_client_account_id_fkey FOREIGN KEY (client_account_id)
        REFERENCES migration.client_accounts (id) ON DELETE CASCADE,
    CONSTRAINT user_roles_client_account_id_engagement_id_fkey
        FOREIGN KEY (client_account_id, engagement_id)
        REFERENCES migration.engagements (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT user_roles_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES migration.users (id) ON DELETE CASCADE,
    CONSTRAINT user_roles_assigned_by_fkey FOREIGN KEY (assigned_by)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT user_roles_scope_check CHECK (
        (scope_type = 'client_account' AND engagement_id IS NULL)
        OR (scope_type = 'engagement' AND engagement_id IS NOT NULL)
    )
);
COMMENT ON TABLE migration.user_roles IS
    'History-keeping role assignments of users within a client account or one of its engagements.';
CREATE INDEX ix_user_roles_client_account_id_engagement_id ON migration.user_roles (client_account_id, engagement_id);
CREATE INDEX ix_user_roles_user_id ON migration.user_roles (user_id);
CREATE INDEX ix_user_roles_assigned_by ON migration.user_roles (assigned_by);

CREATE TABLE migration.role_change_approvals (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    target_user_id uuid NOT NULL,
    requested_by uuid,
    previous_role migration.member_role,
    requested_role migration.member_role NOT NULL,
    justification text,
    status migration.approval_status NOT NULL DEFAULT 'pending',
    reviewed_by uuid,
    reviewed_at timestamptz,
    review_notes text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT role_change_approvals_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT role_change_approvals_client_account_id_fkey FOREIGN KEY (client_account_id)
        REFERENCES migration.client_accounts (id) ON DELETE CASCADE,
    CONSTRAINT role_change_approvals_target_user_id_fkey FOREIGN KEY (target_user_id)
        REFERENCES migration.users (id) ON DELETE CASCADE,
    CONSTRAINT role_change_approvals_requested_by_fkey FOREIGN KEY (requested_by)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT role_change_approvals_reviewed_by_fkey FOREIGN KEY (reviewed_by)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT role_change_approvals_review_check CHECK (
        status = 'pending' OR status = 'cancelled' OR reviewed_at IS NOT NULL
    )
);
COMMENT ON TABLE migration.role_change_approvals IS
    'Requests to change a user''s role in a client account and their review.';
CREATE INDEX ix_role_change_approvals_target_user_id ON migration.role_change_approvals (target_user_id);
CREATE INDEX ix_role_change_approvals_requested_by ON migration.role_change_approvals (requested_by);
CREATE INDEX ix_role_change_approvals_reviewed_by ON migration.role_change_approvals (reviewed_by);

-- Flows -----------------------------------------------------------------------------------------

CREATE TABLE migration.crewai_flow_state_extensions (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    flow_id uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id uuid,
    flow_type varchar(50) NOT NULL,
    flow_name varchar(255),
    flow_status migration.flow_status NOT NULL DEFAULT 'initialized',
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
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    completed_at timestamptz,
    CONSTRAINT crewai_flow_state_extensions_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT crewai_flow_state_extensions_client_account_id_flow_id_key UNIQUE (client_account_id, flow_id),
    CONSTRAINT crewai_flow_state_extensions_engagement_id_fkey
        FOREIGN KEY (client_account_id, engagement_id)
        REFERENCES migration.engagements (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT crewai_flow_state_extensions_parent_flow_id_fkey
        FOREIGN KEY (client_account_id, parent_flow_id)
        REFERENCES migration.crewai_flow_state_extensions (client_account_id, flow_id)
        ON DELETE SET NULL (parent_flow_id),
    CONSTRAINT crewai_flow_state_extensions_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT crewai_flow_state_extensions_flow_type_check CHECK (
        flow_type IN ('discovery', 'assessment', 'planning', 'execution', 'modernize', 'finops',
                      'observability', 'decommission')
    ),
    CONSTRAINT crewai_flow_state_extensions_completed_check CHECK (
        completed_at IS NULL OR started_at IS NULL OR completed_at >= started_at
    )
);
COMMENT ON TABLE migration.crewai_flow_state_extensions IS
    'Master flows: every flow of an engagement (discovery first) is owned and orchestrated by one row here, keyed by flow_id.';
CREATE INDEX ix_crewai_flow_state_extensions_client_account_id_engagement_id
    ON migration.crewai_flow_state_extensions (client_account_id, engagement_id);
CREATE INDEX ix_crewai_flow_state_extensions_parent_flow_id
    ON migration.crewai_flow_state_extensions (client_account_id, parent_flow_id);
CREATE INDEX ix_crewai_flow_state_extensions_user_id ON migration.crewai_flow_state_extensions (user_id);

CREATE TABLE migration.data_imports (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    master_flow_id uuid,
    import_name varchar(255) NOT NULL,
    import_type migration.import_type NOT NULL DEFAULT 'asset_inventory',
    description text,
    filename varchar(512) NOT NULL,
    file_size bigint,
    mime_type varchar(255),
    source_system varchar(255),
    status migration.import_status NOT NULL DEFAULT 'pending',
    progress_percentage double precision NOT NULL DEFAULT 0,
    total_records integer NOT NULL DEFAULT 0,
    processed_records integer NOT NULL DEFAULT 0,
    failed_records integer NOT NULL DEFAULT 0,
    error_message text,
    error_details jsonb,
    imported_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    completed_at timestamptz,
    CONSTRAINT data_imports_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT data_imports_client_account_id_engagement_id_fkey
        FOREIGN KEY (client_account_id, engagement_id)
        REFERENCES migration.engagements (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT data_imports_client_account_id_master_flow_id_fkey
        FOREIGN KEY (client_account_id, master_flow_id)
        REFERENCES migration.crewai_flow_state_extensions (client_account_id, flow_id)
        ON DELETE SET NULL (master_flow_id),
    CONSTRAINT data_imports_imported_by_fkey FOREIGN KEY (imported_by)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT data_imports_progress_percentage_check CHECK (progress_percentage BETWEEN 0 AND 100),
    CONSTRAINT data_imports_file_size_check CHECK (file_size IS NULL OR file_size >= 0),
    CONSTRAINT data_imports_records_check CHECK (
        total_records >= 0 AND processed_records >= 0 AND failed_records >= 0
    )
);
COMMENT ON TABLE migration.data_imports IS
    'Uploaded inventory files (CMDB and inventory exports) and their import progress; merges v3_data_imports and data_import_sessions.';
CREATE INDEX ix_data_imports_client_account_id_engagement_id
    ON migration.data_imports (client_account_id, engagement_id);
CREATE INDEX ix_data_imports_client_account_id_master_flow_id
    ON migration.data_imports (client_account_id, master_flow_id);
CREATE INDEX ix_data_imports_imported_by ON migration.data_imports (imported_by);

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
    status migration.flow_status NOT NULL DEFAULT 'initialized',
    progress_percentage double precision NOT NULL DEFAULT 0,
    data_import_completed boolean NOT NULL DEFAULT false,
    field_mapping_completed boolean NOT NULL DEFAULT false,
    data_cleansing_completed boolean NOT NULL DEFAULT false,
    asset_inventory_completed boolean NOT NULL DEFAULT false,
    dependency_analysis_completed boolean NOT NULL DEFAULT false,
    tech_debt_assessment_completed boolean NOT NULL DEFAULT false,
    current_phase migration.discovery_phase,
    phases_completed migration.discovery_phase[] NOT NULL DEFAULT '{}',
    flow_state jsonb NOT NULL DEFAULT '{}'::jsonb,
    phases jsonb NOT NULL DEFAULT '{}'::jsonb,
    crew_outputs jsonb NOT NULL DEFAULT '{}'::jsonb,
    error_message text,
    error_phase migration.discovery_phase,
    error_details jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    completed_at timestamptz,
    CONSTRAINT discovery_flows_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT discovery_flows_client_account_id_flow_id_key UNIQUE (client_account_id, flow_id),
    CONSTRAINT discovery_flows_client_account_id_engagement_id_fkey
        FOREIGN KEY (client_account_id, engagement_id)
        REFERENCES migration.engagements (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT discovery_flows_client_account_id_master_flow_id_fkey
        FOREIGN KEY (client_account_id, master_flow_id)
        REFERENCES migration.crewai_flow_state_extensions (client_account_id, flow_id)
        ON DELETE SET NULL (master_flow_id),
    CONSTRAINT discovery_flows_client_account_id_data_import_id_fkey
        FOREIGN KEY (client_account_id, data_import_id)
        REFERENCES migration.data_imports (client_account_id, id) ON DELETE SET NULL (data_import_id),
    CONSTRAINT discovery_flows_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT discovery_flows_progress_percentage_check CHECK (progress_percentage BETWEEN 0 AND 100),
    CONSTRAINT discovery_flows_error_check CHECK (error_phase IS NULL OR error_message IS NOT NULL)
);
COMMENT ON TABLE migration.discovery_flows IS
    'Discovery flows (child of a master flow): per-phase completion flags kept for compatibility, plus the JSON phase state.';
CREATE INDEX ix_discovery_flows_client_account_id_engagement_id
    ON migration.discovery_flows (client_account_id, engagement_id);
CREATE INDEX ix_discovery_flows_client_account_id_master_flow_id
    ON migration.discovery_flows (client_account_id, master_flow_id);
CREATE INDEX ix_discovery_flows_client_account_id_data_import_id
    ON migration.discovery_flows (client_account_id, data_import_id);
CREATE INDEX ix_discovery_flows_user_id ON migration.discovery_flows (user_id);

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
    created_at timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz,
    CONSTRAINT raw_import_records_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT raw_import_records_data_import_id_row_number_key
        UNIQUE (client_account_id, data_import_id, row_number),
    CONSTRAINT raw_import_records_client_account_id_engagement_id_fkey
        FOREIGN KEY (client_account_id, engagement_id)
        REFERENCES migration.engagements (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT raw_import_records_client_account_id_data_import_id_fkey
        FOREIGN KEY (client_account_id, data_import_id)
        REFERENCES migration.data_imports (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT raw_import_records_client_account_id_master_flow_id_fkey
        FOREIGN KEY (client_account_id, master_flow_id)
        REFERENCES migration.crewai_flow_state_extensions (client_account_id, flow_id)
        ON DELETE SET NULL (master_flow_id),
    CONSTRAINT raw_import_records_row_number_check CHECK (row_number >= 1)
);
COMMENT ON TABLE migration.raw_import_records IS
    'One row per record of an imported file, as uploaded (raw_data) and after cleansing; merges v3_raw_import_records.';
CREATE INDEX ix_raw_import_records_client_account_id_engagement_id
    ON migration.raw_import_records (client_account_id, engagement_id);
CREATE INDEX ix_raw_import_records_client_account_id_master_flow_id
    ON migration.raw_import_records (client_account_id, master_flow_id);

CREATE TABLE migration.import_field_mappings (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid,
    data_import_id uuid NOT NULL,
    master_flow_id uuid,
    source_field varchar(255) NOT NULL,
    target_field varchar(255),
    match_type varchar(50) NOT NULL DEFAULT 'unmapped',
    confidence_score double precision,
    status migration.mapping_status NOT NULL DEFAULT 'suggested',
    suggested_by varchar(255),
    approved_by uuid,
    approved_at timestamptz,
    transformation_rules jsonb NOT NULL DEFAULT '{}'::jsonb,
    is_validated boolean NOT NULL DEFAULT false,
    validation_errors jsonb NOT NULL DEFAULT '[]'::jsonb,
    sample_values jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT import_field_mappings_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT import_field_mappings_data_import_id_source_field_key
        UNIQUE (client_account_id, data_import_id, source_field),
    CONSTRAINT import_field_mappings_client_account_id_engagement_id_fkey
        FOREIGN KEY (client_account_id, engagement_id)
        REFERENCES migration.engagements (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT import_field_mappings_client_account_id_data_import_id_fkey
        FOREIGN KEY (client_account_id, data_import_id)
        REFERENCES migration.data_imports (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT import_field_mappings_client_account_id_master_flow_id_fkey
        FOREIGN KEY (client_account_id, master_flow_id)
        REFERENCES migration.crewai_flow_state_extensions (client_account_id, flow_id)
        ON DELETE SET NULL (master_flow_id),
    CONSTRAINT import_field_mappings_approved_by_fkey FOREIGN KEY (approved_by)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT import_field_mappings_confidence_score_check
        CHECK (confidence_score IS NULL OR confidence_score BETWEEN 0 AND 1)
);
COMMENT ON TABLE migration.import_field_mappings IS
    'Source column -> asset field mappings of an import: suggested with a confidence, then approved or rejected; merges v3_field_mappings.';
CREATE INDEX ix_import_field_mappings_client_account_id_engagement_id
    ON migration.import_field_mappings (client_account_id, engagement_id);
CREATE INDEX ix_import_field_mappings_client_account_id_master_flow_id
    ON migration.import_field_mappings (client_account_id, master_flow_id);
CREATE INDEX ix_import_field_mappings_approved_by ON migration.import_field_mappings (approved_by);

CREATE TABLE migration.custom_target_fields (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid,
    field_name varchar(255) NOT NULL,
    field_type varchar(32) NOT NULL DEFAULT 'string',
    display_name varchar(255),
    description text,
    is_required boolean NOT NULL DEFAULT false,
    validation_rules jsonb NOT NULL DEFAULT '{}'::jsonb,
    default_value text,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT custom_target_fields_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT custom_target_fields_client_account_id_field_name_key UNIQUE (client_account_id, field_name),
    CONSTRAINT custom_target_fields_client_account_id_fkey FOREIGN KEY (client_account_id)
        REFERENCES migration.client_accounts (id) ON DELETE CASCADE,
    CONSTRAINT custom_target_fields_client_account_id_engagement_id_fkey
        FOREIGN KEY (client_account_id, engagement_id)
        REFERENCES migration.engagements (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT custom_target_fields_created_by_fkey FOREIGN KEY (created_by)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT custom_target_fields_field_type_check CHECK (
        field_type IN ('string', 'integer', 'number', 'boolean', 'date', 'json')
    ),
    CONSTRAINT custom_target_fields_field_name_check CHECK (field_name ~ '^[a-z][a-z0-9_]*$')
);
COMMENT ON TABLE migration.custom_target_fields IS
    'Tenant-defined extra asset fields that imported columns can be mapped to (stored in assets.custom_attributes).';
CREATE INDEX ix_custom_target_fields_client_account_id_engagement_id
    ON migration.custom_target_fields (client_account_id, engagement_id);
CREATE INDEX ix_custom_target_fields_created_by ON migration.custom_target_fields (created_by);

-- Assets and their relations --------------------------------------------------------------------

CREATE TABLE migration.migration_waves (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    wave_number integer NOT NULL,
    name varchar(255) NOT NULL,
    description text,
    status migration.wave_status NOT NULL DEFAULT 'planned',
    planned_start_date date,
    planned_end_date date,
    actual_start_date date,
    actual_end_date date,
    total_assets integer NOT NULL DEFAULT 0,
    completed_assets integer NOT NULL DEFAULT 0,
    failed_assets integer NOT NULL DEFAULT 0,
    estimated_cost numeric(14, 2),
    actual_cost numeric(14, 2),
    estimated_effort_hours numeric(10, 2),
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT migration_waves_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT migration_waves_client_account_id_engagement_id_wave_number_key
        UNIQUE (client_account_id, engagement_id, wave_number),
    CONSTRAINT migration_waves_client_account_id_engagement_id_fkey
        FOREIGN KEY (client_account_id, engagement_id)
        REFERENCES migration.engagements (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT migration_waves_created_by_fkey FOREIGN KEY (created_by)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT migration_waves_wave_number_check CHECK (wave_number >= 0),
    CONSTRAINT migration_waves_counts_check CHECK (
        total_assets >= 0 AND completed_assets >= 0 AND failed_assets >= 0
        AND completed_assets + failed_assets <= total_assets
    ),
    CONSTRAINT migration_waves_dates_check CHECK (
        planned_end_date IS NULL OR planned_start_date IS NULL OR planned_end_date >= planned_start_date
    )
);
COMMENT ON TABLE migration.migration_waves IS
    'Migration waves of an engagement: groups of assets moved together, with dates, counts and cost.';
CREATE INDEX ix_migration_waves_created_by ON migration.migration_waves (created_by);

CREATE TABLE migration.assets (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    master_flow_id uuid,
    discovery_flow_id uuid,
    data_import_id uuid,
    raw_import_record_id uuid,
    migration_wave_id uuid,
    name varchar(255) NOT NULL,
    asset_name varchar(255),
    hostname varchar(255),
    fqdn varchar(512),
    asset_type migration.asset_type NOT NULL DEFAULT 'server',
    description text,
    ip_address varchar(64),
    mac_address varchar(32),
    environment varchar(50),
    location varchar(255),
    datacenter varchar(255),
    rack_location varchar(100),
    availability_zone varchar(100),
    operating_system varchar(255),
    os_version varchar(100),
    cpu_cores integer,
    memory_gb double precision,
    storage_gb double precision,
    serial_number varchar(255),
    manufacturer varchar(255),
    model varchar(255),
    virtualization_platform varchar(100),
    database_type varchar(100),
    business_owner varchar(255),
    technical_owner varchar(255),
    department varchar(255),
    business_unit varchar(255),
    application_name varchar(255),
    technology_stack jsonb NOT NULL DEFAULT '[]'::jsonb,
    criticality migration.criticality_level,
    business_criticality migration.criticality_level,
    status migration.asset_status NOT NULL DEFAULT 'discovered',
    six_r_strategy migration.sixr_strategy,
    migration_priority integer,
    migration_complexity varchar(20),
    migration_wave integer,
    sixr_ready varchar(50),
    cpu_utilization_percent double precision,
    memory_utilization_percent double precision,
    disk_iops double precision,
    network_throughput_mbps double precision,
    completeness_score double precision,
    quality_score double precision,
    current_monthly_cost numeric(14, 2),
    estimated_cloud_cost numeric(14, 2),
    discovery_method varchar(50),
    discovery_source varchar(255),
    discovery_timestamp timestamptz,
    custom_attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_by uuid,
    updated_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT assets_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT assets_client_account_id_engagement_id_fkey
        FOREIGN KEY (client_account_id, engagement_id)
        REFERENCES migration.engagements (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT assets_client_account_id_master_flow_id_fkey
        FOREIGN KEY (client_account_id, master_flow_id)
        REFERENCES migration.crewai_flow_state_extensions (client_account_id, flow_id)
        ON DELETE SET NULL (master_flow_id),
    CONSTRAINT assets_client_account_id_discovery_flow_id_fkey
        FOREIGN KEY (client_account_id, discovery_flow_id)
        REFERENCES migration.discovery_flows (client_account_id, id)
        ON DELETE SET NULL (discovery_flow_id),
    CONSTRAINT assets_client_account_id_data_import_id_fkey
        FOREIGN KEY (client_account_id, data_import_id)
        REFERENCES migration.data_imports (client_account_id, id)
        ON DELETE SET NULL (data_import_id),
    CONSTRAINT assets_client_account_id_raw_import_record_id_fkey
        FOREIGN KEY (client_account_id, raw_import_record_id)
        REFERENCES migration.raw_import_records (client_account_id, id)
        ON DELETE SET NULL (raw_import_record_id),
    CONSTRAINT assets_client_account_id_migration_wave_id_fkey
        FOREIGN KEY (client_account_id, migration_wave_id)
        REFERENCES migration.migration_waves (client_account_id, id)
        ON DELETE SET NULL (migration_wave_id),
    CONSTRAINT assets_created_by_fkey FOREIGN KEY (created_by)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT assets_updated_by_fkey FOREIGN KEY (updated_by)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT assets_sizes_check CHECK (
        coalesce(cpu_cores, 0) >= 0 AND coalesce(memory_gb, 0) >= 0 AND coalesce(storage_gb, 0) >= 0
    ),
    CONSTRAINT assets_cpu_utilization_percent_check
        CHECK (cpu_utilization_percent IS NULL OR cpu_utilization_percent BETWEEN 0 AND 100),
    CONSTRAINT assets_memory_utilization_percent_check
        CHECK (memory_utilization_percent IS NULL OR memory_utilization_percent BETWEEN 0 AND 100),
    CONSTRAINT assets_completeness_score_check
        CHECK (completeness_score IS NULL OR completeness_score BETWEEN 0 AND 100),
    CONSTRAINT assets_quality_score_check
        CHECK (quality_score IS NULL OR quality_score BETWEEN 0 AND 100),
    CONSTRAINT assets_migration_priority_check
        CHECK (migration_priority IS NULL OR migration_priority BETWEEN 1 AND 10),
    CONSTRAINT assets_migration_complexity_check
        CHECK (migration_complexity IS NULL OR migration_complexity IN ('low', 'medium', 'high'))
);
COMMENT ON TABLE migration.assets IS
    'The asset inventory: servers, databases, applications... of an engagement, linked to the master flow that discovered them.';
CREATE INDEX ix_assets_client_account_id_engagement_id ON migration.assets (client_account_id, engagement_id);
CREATE INDEX ix_assets_client_account_id_master_flow_id ON migration.assets (client_account_id, master_flow_id);
CREATE INDEX ix_assets_client_account_id_discovery_flow_id ON migration.assets (client_account_id, discovery_flow_id);
CREATE INDEX ix_assets_client_account_id_data_import_id ON migration.assets (client_account_id, data_import_id);
CREATE INDEX ix_assets_client_account_id_raw_import_record_id
    ON migration.assets (client_account_id, raw_import_record_id);
CREATE INDEX ix_assets_client_account_id_migration_wave_id ON migration.assets (client_account_id, migration_wave_id);
CREATE INDEX ix_assets_created_by ON migration.assets (created_by);
CREATE INDEX ix_assets_updated_by ON migration.assets (updated_by);

ALTER TABLE migration.raw_import_records
    ADD CONSTRAINT raw_import_records_client_account_id_asset_id_fkey
    FOREIGN KEY (client_account_id, asset_id)
    REFERENCES migration.assets (client_account_id, id) ON DELETE SET NULL (asset_id);
CREATE INDEX ix_raw_import_records_client_account_id_asset_id
    ON migration.raw_import_records (client_account_id, asset_id);

CREATE TABLE migration.asset_dependencies (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    asset_id uuid NOT NULL,
    depends_on_asset_id uuid NOT NULL,
    dependency_type migration.dependency_type NOT NULL DEFAULT 'depends_on',
    description text,
    port integer,
    protocol varchar(20),
    criticality migration.criticality_level,
    confidence_score double precision,
    discovered_by varchar(100),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT asset_dependencies_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT asset_dependencies_edge_key
        UNIQUE (client_account_id, asset_id, depends_on_asset_id, dependency_type),
    CONSTRAINT asset_dependencies_client_account_id_engagement_id_fkey
        FOREIGN KEY (client_account_id, engagement_id)
        REFERENCES migration.engagements (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT asset_dependencies_client_account_id_asset_id_fkey
        FOREIGN KEY (client_account_id, asset_id)
        REFERENCES migration.assets (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT asset_dependencies_client_account_id_depends_on_asset_id_fkey
        FOREIGN KEY (client_account_id, depends_on_asset_id)
        REFERENCES migration.assets (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT asset_dependencies_not_self_check CHECK (asset_id <> depends_on_asset_id),
    CONSTRAINT asset_dependencies_port_check CHECK (port IS NULL OR port BETWEEN 0 AND 65535),
    CONSTRAINT asset_dependencies_confidence_score_check
        CHECK (confidence_score IS NULL OR confidence_score BETWEEN 0 AND 1)
);
COMMENT ON TABLE migration.asset_dependencies IS
    'Directed dependencies between two assets of the same tenant (asset_id depends on depends_on_asset_id).';
CREATE INDEX ix_asset_dependencies_client_account_id_engagement_id
    ON migration.asset_dependencies (client_account_id, engagement_id);
CREATE INDEX ix_asset_dependencies_client_account_id_depends_on_asset_id
    ON migration.asset_dependencies (client_account_id, depends_on_asset_id);

CREATE TABLE migration.asset_embeddings (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    asset_id uuid NOT NULL,
    embedding_model varchar(255) NOT NULL,
    embedding real[] NOT NULL,
    source_text text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT asset_embeddings_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT asset_embeddings_client_account_id_asset_id_embedding_model_key
        UNIQUE (client_account_id, asset_id, embedding_model),
    CONSTRAINT asset_embeddings_client_account_id_engagement_id_fkey
        FOREIGN KEY (client_account_id, engagement_id)
        REFERENCES migration.engagements (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT asset_embeddings_client_account_id_asset_id_fkey
        FOREIGN KEY (client_account_id, asset_id)
        REFERENCES migration.assets (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT asset_embeddings_dimensions_check CHECK (cardinality(embedding) > 0)
);
COMMENT ON TABLE migration.asset_embeddings IS
    'Vector embeddings of assets for similarity search, one per asset and model.';
CREATE INDEX ix_asset_embeddings_client_account_id_engagement_id
    ON migration.asset_embeddings (client_account_id, engagement_id);

CREATE TABLE migration.tags (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    name varchar(100) NOT NULL,
    category varchar(100),
    description text,
    color varchar(7),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tags_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT tags_client_account_id_name_key UNIQUE (client_account_id, name),
    CONSTRAINT tags_client_account_id_fkey FOREIGN KEY (client_account_id)
        REFERENCES migration.client_accounts (id) ON DELETE CASCADE,
    CONSTRAINT tags_color_check CHECK (color IS NULL OR color ~ '^#[0-9A-Fa-f]{6}$')
);
COMMENT ON TABLE migration.tags IS 'Labels a client account defines to classify its assets.';

CREATE TABLE migration.asset_tags (
    client_account_id uuid NOT NULL,
    asset_id uuid NOT NULL,
    tag_id uuid NOT NULL,
    confidence_score double precision,
    assigned_by varchar(100),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT asset_tags_pkey PRIMARY KEY (client_account_id, asset_id, tag_id),
    CONSTRAINT asset_tags_client_account_id_asset_id_fkey
        FOREIGN KEY (client_account_id, asset_id)
        REFERENCES migration.assets (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT asset_tags_client_account_id_tag_id_fkey
        FOREIGN KEY (client_account_id, tag_id)
        REFERENCES migration.tags (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT asset_tags_confidence_score_check
        CHECK (confidence_score IS NULL OR confidence_score BETWEEN 0 AND 1)
);
COMMENT ON TABLE migration.asset_tags IS 'Which tags are attached to which assets (manually or by an agent, with a confidence).';
CREATE INDEX ix_asset_tags_client_account_id_tag_id ON migration.asset_tags (client_account_id, tag_id);

-- Planning and 6R ---------------------------------------------------------------------------------

CREATE TABLE migration.wave_plans (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    migration_wave_id uuid NOT NULL,
    asset_id uuid NOT NULL,
    sequence_number integer NOT NULL DEFAULT 0,
    planned_start_at timestamptz,
    planned_end_at timestamptz,
    status migration.wave_status NOT NULL DEFAULT 'planned',
    notes text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT wave_plans_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT wave_plans_client_account_id_migration_wave_id_asset_id_key
        UNIQUE (client_account_id, migration_wave_id, asset_id),
    CONSTRAINT wave_plans_client_account_id_engagement_id_fkey
        FOREIGN KEY (client_account_id, engagement_id)
        REFERENCES migration.engagements (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT wave_plans_client_account_id_migration_wave_id_fkey
        FOREIGN KEY (client_account_id, migration_wave_id)
        REFERENCES migration.migration_waves (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT wave_plans_client_account_id_asset_id_fkey
        FOREIGN KEY (client_account_id, asset_id)
        REFERENCES migration.assets (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT wave_plans_period_check CHECK (
        planned_end_at IS NULL OR planned_start_at IS NULL OR planned_end_at >= planned_start_at
    )
);
COMMENT ON TABLE migration.wave_plans IS 'The place of each asset in a migration wave, in order, with its planned window.';
CREATE INDEX ix_wave_plans_client_account_id_engagement_id ON migration.wave_plans (client_account_id, engagement_id);
CREATE INDEX ix_wave_plans_client_account_id_asset_id ON migration.wave_plans (client_account_id, asset_id);

CREATE TABLE migration.assessments (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    asset_id uuid,
    migration_wave_id uuid,
    master_flow_id uuid,
    assessment_name varchar(255) NOT NULL,
    assessment_type varchar(50) NOT NULL DEFAULT 'technical',
    status migration.analysis_status NOT NULL DEFAULT 'pending',
    recommended_strategy migration.sixr_strategy,
    overall_score double precision,
    risk_level migration.criticality_level,
    technical_findings jsonb NOT NULL DEFAULT '{}'::jsonb,
    tech_debt_items jsonb NOT NULL DEFAULT '[]'::jsonb,
    estimated_effort_hours numeric(10, 2),
    estimated_cost numeric(14, 2),
    assessed_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    CONSTRAINT assessments_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT assessments_client_account_id_engagement_id_fkey
        FOREIGN KEY (client_account_id, engagement_id)
        REFERENCES migration.engagements (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT assessments_client_account_id_asset_id_fkey
        FOREIGN KEY (client_account_id, asset_id)
        REFERENCES migration.assets (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT assessments_client_account_id_migration_wave_id_fkey
        FOREIGN KEY (client_account_id, migration_wave_id)
        REFERENCES migration.migration_waves (client_account_id, id)
        ON DELETE SET NULL (migration_wave_id),
    CONSTRAINT assessments_client_account_id_master_flow_id_fkey
        FOREIGN KEY (client_account_id, master_flow_id)
        REFERENCES migration.crewai_flow_state_extensions (client_account_id, flow_id)
        ON DELETE SET NULL (master_flow_id),
    CONSTRAINT assessments_assessed_by_fkey FOREIGN KEY (assessed_by)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT assessments_overall_score_check CHECK (overall_score IS NULL OR overall_score BETWEEN 0 AND 100)
);
COMMENT ON TABLE migration.assessments IS
    'Technical and tech-debt assessments of an asset or a wave, with findings, risk and recommended strategy.';
CREATE INDEX ix_assessments_client_account_id_engagement_id ON migration.assessments (client_account_id, engagement_id);
CREATE INDEX ix_assessments_client_account_id_asset_id ON migration.assessments (client_account_id, asset_id);
CREATE INDEX ix_assessments_client_account_id_migration_wave_id
    ON migration.assessments (client_account_id, migration_wave_id);
CREATE INDEX ix_assessments_client_account_id_master_flow_id ON migration.assessments (client_account_id, master_flow_id);
CREATE INDEX ix_assessments_assessed_by ON migration.assessments (assessed_by);

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
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sixr_parameters_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT sixr_parameters_client_account_id_parameter_key_key UNIQUE (client_account_id, parameter_key),
    CONSTRAINT sixr_parameters_client_account_id_fkey FOREIGN KEY (client_account_id)
        REFERENCES migration.client_accounts (id) ON DELETE CASCADE,
    CONSTRAINT sixr_parameters_range_check CHECK (
        min_value <= max_value AND default_value BETWEEN min_value AND max_value AND weight >= 0
    )
);
COMMENT ON TABLE migration.sixr_parameters IS
    'The scoring parameters (business value, technical complexity...) a client account uses in 6R analyses, with weights.';

CREATE TABLE migration.sixr_analyses (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    master_flow_id uuid,
    name varchar(255) NOT NULL,
    description text,
    status migration.analysis_status NOT NULL DEFAULT 'pending',
    application_ids uuid[] NOT NULL DEFAULT '{}',
    current_iteration integer NOT NULL DEFAULT 1,
    progress_percentage double precision NOT NULL DEFAULT 0,
    final_recommendation migration.sixr_strategy,
    confidence_score double precision,
    analysis_config jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    CONSTRAINT sixr_analyses_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT sixr_analyses_client_account_id_engagement_id_fkey
        FOREIGN KEY (client_account_id, engagement_id)
        REFERENCES migration.engagements (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT sixr_analyses_client_account_id_master_flow_id_fkey
        FOREIGN KEY (client_account_id, master_flow_id)
        REFERENCES migration.crewai_flow_state_extensions (client_account_id, flow_id)
        ON DELETE SET NULL (master_flow_id),
    CONSTRAINT sixr_analyses_created_by_fkey FOREIGN KEY (created_by)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT sixr_analyses_current_iteration_check CHECK (current_iteration >= 1),
    CONSTRAINT sixr_analyses_progress_percentage_check CHECK (progress_percentage BETWEEN 0 AND 100),
    CONSTRAINT sixr_analyses_confidence_score_check
        CHECK (confidence_score IS NULL OR confidence_score BETWEEN 0 AND 1)
);
COMMENT ON TABLE migration.sixr_analyses IS
    'A 6R (rehost, replatform, refactor, rearchitect, repurchase, retire, retain) analysis of a set of applications or assets.';
CREATE INDEX ix_sixr_analyses_client_account_id_engagement_id ON migration.sixr_analyses (client_account_id, engagement_id);
CREATE INDEX ix_sixr_analyses_client_account_id_master_flow_id ON migration.sixr_analyses (client_account_id, master_flow_id);
CREATE INDEX ix_sixr_analyses_created_by ON migration.sixr_analyses (created_by);

CREATE TABLE migration.sixr_iterations (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    analysis_id uuid NOT NULL,
    iteration_number integer NOT NULL,
    status migration.analysis_status NOT NULL DEFAULT 'pending',
    change_reason text,
    parameter_changes jsonb NOT NULL DEFAULT '{}'::jsonb,
    recommendation_snapshot jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    CONSTRAINT sixr_iterations_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT sixr_iterations_analysis_id_iteration_number_key
        UNIQUE (client_account_id, analysis_id, iteration_number),
    CONSTRAINT sixr_iterations_client_account_id_analysis_id_fkey
        FOREIGN KEY (client_account_id, analysis_id)
        REFERENCES migration.sixr_analyses (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT sixr_iterations_created_by_fkey FOREIGN KEY (created_by)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT sixr_iterations_iteration_number_check CHECK (iteration_number >= 1)
);
COMMENT ON TABLE migration.sixr_iterations IS
    'Successive refinements of a 6R analysis: what changed and the recommendation at that point.';
CREATE INDEX ix_sixr_iterations_created_by ON migration.sixr_iterations (created_by);

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
    application_type varchar(20) NOT NULL DEFAULT 'custom',
    parameter_source varchar(50) NOT NULL DEFAULT 'default',
    extra_parameters jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sixr_analysis_parameters_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT sixr_analysis_parameters_analysis_id_iteration_number_key
        UNIQUE (client_account_id, analysis_id, iteration_number),
    CONSTRAINT sixr_analysis_parameters_client_account_id_analysis_id_fkey
        FOREIGN KEY (client_account_id, analysis_id)
        REFERENCES migration.sixr_analyses (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT sixr_analysis_parameters_scores_check CHECK (
        business_value BETWEEN 1 AND 5 AND technical_complexity BETWEEN 1 AND 5
        AND migration_urgency BETWEEN 1 AND 5 AND compliance_requirements BETWEEN 1 AND 5
        AND cost_sensitivity BETWEEN 1 AND 5 AND risk_tolerance BETWEEN 1 AND 5
        AND innovation_priority BETWEEN 1 AND 5
    ),
    CONSTRAINT sixr_analysis_parameters_application_type_check
        CHECK (application_type IN ('custom', 'cots', 'hybrid'))
);
COMMENT ON TABLE migration.sixr_analysis_parameters IS
    'The parameter values (1-5 scales) used by one iteration of a 6R analysis.';

CREATE TABLE migration.sixr_question_responses (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    analysis_id uuid NOT NULL,
    question_id uuid NOT NULL,
    iteration_number integer NOT NULL DEFAULT 1,
    response_value jsonb NOT NULL,
    confidence double precision,
    source varchar(50) NOT NULL DEFAULT 'user',
    responded_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sixr_question_responses_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT sixr_question_responses_answer_key
        UNIQUE (client_account_id, analysis_id, question_id, iteration_number),
    CONSTRAINT sixr_question_responses_client_account_id_analysis_id_fkey
        FOREIGN KEY (client_account_id, analysis_id)
        REFERENCES migration.sixr_analyses (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT sixr_question_responses_question_id_fkey FOREIGN KEY (question_id)
        REFERENCES migration.sixr_questions (id) ON DELETE RESTRICT,
    CONSTRAINT sixr_question_responses_responded_by_fkey FOREIGN KEY (responded_by)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT sixr_question_responses_confidence_check CHECK (confidence IS NULL OR confidence BETWEEN 0 AND 1)
);
COMMENT ON TABLE migration.sixr_question_responses IS
    'Answers to the qualifying questions of a 6R analysis, per iteration.';
CREATE INDEX ix_sixr_question_responses_question_id ON migration.sixr_question_responses (question_id);
CREATE INDEX ix_sixr_question_responses_responded_by ON migration.sixr_question_responses (responded_by);

CREATE TABLE migration.sixr_recommendations (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    analysis_id uuid NOT NULL,
    asset_id uuid,
    iteration_number integer NOT NULL DEFAULT 1,
    recommended_strategy migration.sixr_strategy NOT NULL,
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
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sixr_recommendations_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT sixr_recommendations_client_account_id_analysis_id_fkey
        FOREIGN KEY (client_account_id, analysis_id)
        REFERENCES migration.sixr_analyses (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT sixr_recommendations_client_account_id_asset_id_fkey
        FOREIGN KEY (client_account_id, asset_id)
        REFERENCES migration.assets (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT sixr_recommendations_confidence_score_check CHECK (confidence_score BETWEEN 0 AND 1),
    CONSTRAINT sixr_recommendations_estimated_effort_check
        CHECK (estimated_effort IS NULL OR estimated_effort IN ('low', 'medium', 'high', 'very_high'))
);
COMMENT ON TABLE migration.sixr_recommendations IS
    'The strategy recommended by a 6R analysis (per asset where given), its scores and rationale.';
CREATE INDEX ix_sixr_recommendations_client_account_id_analysis_id
    ON migration.sixr_recommendations (client_account_id, analysis_id);
CREATE INDEX ix_sixr_recommendations_client_account_id_asset_id
    ON migration.sixr_recommendations (client_account_id, asset_id);

CREATE TABLE migration.cmdb_sixr_analyses (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    data_import_id uuid,
    analysis_name varchar(255) NOT NULL,
    status migration.analysis_status NOT NULL DEFAULT 'pending',
    total_assets integer NOT NULL DEFAULT 0,
    rehost_count integer NOT NULL DEFAULT 0,
    replatform_count integer NOT NULL DEFAULT 0,
    refactor_count integer NOT NULL DEFAULT 0,
    rearchitect_count integer NOT NULL DEFAULT 0,
    repurchase_count integer NOT NULL DEFAULT 0,
    retire_count integer NOT NULL DEFAULT 0,
    retain_count integer NOT NULL DEFAULT 0,
    total_current_cost numeric(14, 2),
    total_estimated_cost numeric(14, 2),
    potential_savings numeric(14, 2),
    analysis_results jsonb NOT NULL DEFAULT '{}'::jsonb,
    recommendations jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    CONSTRAINT cmdb_sixr_analyses_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT cmdb_sixr_analyses_client_account_id_engagement_id_fkey
        FOREIGN KEY (client_account_id, engagement_id)
        REFERENCES migration.engagements (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT cmdb_sixr_analyses_client_account_id_data_import_id_fkey
        FOREIGN KEY (client_account_id, data_import_id)
        REFERENCES migration.data_imports (client_account_id, id) ON DELETE SET NULL (data_import_id),
    CONSTRAINT cmdb_sixr_analyses_created_by_fkey FOREIGN KEY (created_by)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT cmdb_sixr_analyses_counts_check CHECK (
        total_assets >= 0 AND rehost_count >= 0 AND replatform_count >= 0 AND refactor_count >= 0
        AND rearchitect_count >= 0 AND repurchase_count >= 0 AND retire_count >= 0 AND retain_count >= 0
    )
);
COMMENT ON TABLE migration.cmdb_sixr_analyses IS
    'Portfolio-level 6R analysis of a CMDB import: strategy counts, costs and savings across its assets.';
CREATE INDEX ix_cmdb_sixr_analyses_client_account_id_engagement_id
    ON migration.cmdb_sixr_analyses (client_account_id, engagement_id);
CREATE INDEX ix_cmdb_sixr_analyses_client_account_id_data_import_id
    ON migration.cmdb_sixr_analyses (client_account_id, data_import_id);
CREATE INDEX ix_cmdb_sixr_analyses_created_by ON migration.cmdb_sixr_analyses (created_by);

-- Execution tracking ----------------------------------------------------------------------------

CREATE TABLE migration.migrations (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    asset_id uuid,
    migration_wave_id uuid,
    name varchar(255) NOT NULL,
    strategy migration.sixr_strategy,
    status migration.flow_status NOT NULL DEFAULT 'pending',
    source_environment varchar(100),
    target_environment varchar(100),
    target_platform varchar(100),
    progress_percentage double precision NOT NULL DEFAULT 0,
    planned_start_at timestamptz,
    planned_end_at timestamptz,
    started_at timestamptz,
    completed_at timestamptz,
    settings jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT migrations_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT migrations_client_account_id_engagement_id_fkey
        FOREIGN KEY (client_account_id, engagement_id)
        REFERENCES migration.engagements (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT migrations_client_account_id_asset_id_fkey
        FOREIGN KEY (client_account_id, asset_id)
        REFERENCES migration.assets (client_account_id, id) ON DELETE SET NULL (asset_id),
    CONSTRAINT migrations_client_account_id_migration_wave_id_fkey
        FOREIGN KEY (client_account_id, migration_wave_id)
        REFERENCES migration.migration_waves (client_account_id, id) ON DELETE SET NULL (migration_wave_id),
    CONSTRAINT migrations_created_by_fkey FOREIGN KEY (created_by)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT migrations_progress_percentage_check CHECK (progress_percentage BETWEEN 0 AND 100)
);
COMMENT ON TABLE migration.migrations IS
    'Execution of the move of an asset (or a wave) to its target platform with a chosen strategy.';
CREATE INDEX ix_migrations_client_account_id_engagement_id ON migration.migrations (client_account_id, engagement_id);
CREATE INDEX ix_migrations_client_account_id_asset_id ON migration.migrations (client_account_id, asset_id);
CREATE INDEX ix_migrations_client_account_id_migration_wave_id
    ON migration.migrations (client_account_id, migration_wave_id);
CREATE INDEX ix_migrations_created_by ON migration.migrations (created_by);

CREATE TABLE migration.migration_logs (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    migration_id uuid NOT NULL,
    level varchar(10) NOT NULL DEFAULT 'info',
    message text NOT NULL,
    details jsonb NOT NULL DEFAULT '{}'::jsonb,
    step varchar(100),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT migration_logs_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT migration_logs_client_account_id_migration_id_fkey
        FOREIGN KEY (client_account_id, migration_id)
        REFERENCES migration.migrations (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT migration_logs_level_check CHECK (level IN ('debug', 'info', 'warning', 'error', 'critical'))
);
COMMENT ON TABLE migration.migration_logs IS 'Log lines of the execution of a migration.';
CREATE INDEX ix_migration_logs_client_account_id_migration_id
    ON migration.migration_logs (client_account_id, migration_id);

-- Feedback, LLM usage ---------------------------------------------------------------------------

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
    status varchar(20) NOT NULL DEFAULT 'new',
    context jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT feedback_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT feedback_client_account_id_fkey FOREIGN KEY (client_account_id)
        REFERENCES migration.client_accounts (id) ON DELETE CASCADE,
    CONSTRAINT feedback_client_account_id_engagement_id_fkey
        FOREIGN KEY (client_account_id, engagement_id)
        REFERENCES migration.engagements (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT feedback_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT feedback_rating_check CHECK (rating IS NULL OR rating BETWEEN 1 AND 5),
    CONSTRAINT feedback_status_check CHECK (status IN ('new', 'reviewed', 'resolved', 'dismissed'))
);
COMMENT ON TABLE migration.feedback IS
    'User feedback on pages and on agent output (field mappings, recommendations), used to improve suggestions.';
CREATE INDEX ix_feedback_client_account_id_engagement_id ON migration.feedback (client_account_id, engagement_id);
CREATE INDEX ix_feedback_user_id ON migration.feedback (user_id);

CREATE TABLE migration.feedback_summaries (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid,
    feedback_type varchar(50) NOT NULL,
    page varchar(255) NOT NULL DEFAULT '',
    period_start date NOT NULL,
    period_end date NOT NULL,
    total_feedback integer NOT NULL DEFAULT 0,
    average_rating double precision,
    status_counts jsonb NOT NULL DEFAULT '{}'::jsonb,
    category_counts jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT feedback_summaries_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT feedback_summaries_feedback_type_page_period_start_key
        UNIQUE (client_account_id, feedback_type, page, period_start),
    CONSTRAINT feedback_summaries_client_account_id_fkey FOREIGN KEY (client_account_id)
        REFERENCES migration.client_accounts (id) ON DELETE CASCADE,
    CONSTRAINT feedback_summaries_client_account_id_engagement_id_fkey
        FOREIGN KEY (client_account_id, engagement_id)
        REFERENCES migration.engagements (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT feedback_summaries_period_check CHECK (period_end >= period_start),
    CONSTRAINT feedback_summaries_average_rating_check
        CHECK (average_rating IS NULL OR average_rating BETWEEN 1 AND 5)
);
COMMENT ON TABLE migration.feedback_summaries IS 'Feedback aggregated per type, page and period.';
CREATE INDEX ix_feedback_summaries_client_account_id_engagement_id
    ON migration.feedback_summaries (client_account_id, engagement_id);

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
    request_type varchar(50) NOT NULL DEFAULT 'completion',
    input_tokens integer NOT NULL DEFAULT 0,
    output_tokens integer NOT NULL DEFAULT 0,
    total_tokens integer GENERATED ALWAYS AS (input_tokens + output_tokens) STORED,
    cost numeric(14, 6),
    response_time_ms integer,
    success boolean NOT NULL DEFAULT true,
    error_message text,
    request_metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT llm_usage_logs_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT llm_usage_logs_client_account_id_fkey FOREIGN KEY (client_account_id)
        REFERENCES migration.client_accounts (id) ON DELETE CASCADE,
    CONSTRAINT llm_usage_logs_client_account_id_engagement_id_fkey
        FOREIGN KEY (client_account_id, engagement_id)
        REFERENCES migration.engagements (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT llm_usage_logs_client_account_id_master_flow_id_fkey
        FOREIGN KEY (client_account_id, master_flow_id)
        REFERENCES migration.crewai_flow_state_extensions (client_account_id, flow_id)
        ON DELETE SET NULL (master_flow_id),
    CONSTRAINT llm_usage_logs_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT llm_usage_logs_pricing_id_fkey FOREIGN KEY (pricing_id)
        REFERENCES migration.llm_model_pricing (id) ON DELETE SET NULL,
    CONSTRAINT llm_usage_logs_tokens_check CHECK (input_tokens >= 0 AND output_tokens >= 0),
    CONSTRAINT llm_usage_logs_cost_check CHECK (cost IS NULL OR cost >= 0)
);
COMMENT ON TABLE migration.llm_usage_logs IS 'One row per LLM call made on behalf of a tenant: model, tokens, cost, latency.';
CREATE INDEX ix_llm_usage_logs_client_account_id_engagement_id ON migration.llm_usage_logs (client_account_id, engagement_id);
CREATE INDEX ix_llm_usage_logs_client_account_id_master_flow_id
    ON migration.llm_usage_logs (client_account_id, master_flow_id);
CREATE INDEX ix_llm_usage_logs_user_id ON migration.llm_usage_logs (user_id);
CREATE INDEX ix_llm_usage_logs_pricing_id ON migration.llm_usage_logs (pricing_id);

CREATE TABLE migration.llm_usage_summary (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid,
    period_type varchar(10) NOT NULL,
    period_start timestamptz NOT NULL,
    period_end timestamptz NOT NULL,
    provider varchar(100) NOT NULL,
    model_name varchar(255) NOT NULL,
    total_requests integer NOT NULL DEFAULT 0,
    successful_requests integer NOT NULL DEFAULT 0,
    failed_requests integer NOT NULL DEFAULT 0,
    total_input_tokens bigint NOT NULL DEFAULT 0,
    total_output_tokens bigint NOT NULL DEFAULT 0,
    total_cost numeric(14, 6) NOT NULL DEFAULT 0,
    avg_response_time_ms double precision,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT llm_usage_summary_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT llm_usage_summary_period_model_key
        UNIQUE (client_account_id, period_type, period_start, provider, model_name),
    CONSTRAINT llm_usage_summary_client_account_id_fkey FOREIGN KEY (client_account_id)
        REFERENCES migration.client_accounts (id) ON DELETE CASCADE,
    CONSTRAINT llm_usage_summary_client_account_id_engagement_id_fkey
        FOREIGN KEY (client_account_id, engagement_id)
        REFERENCES migration.engagements (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT llm_usage_summary_period_type_check CHECK (period_type IN ('hour', 'day', 'week', 'month')),
    CONSTRAINT llm_usage_summary_period_check CHECK (period_end > period_start),
    CONSTRAINT llm_usage_summary_counts_check CHECK (
        total_requests >= 0 AND successful_requests >= 0 AND failed_requests >= 0
        AND total_input_tokens >= 0 AND total_output_tokens >= 0 AND total_cost >= 0
    )
);
COMMENT ON TABLE migration.llm_usage_summary IS 'LLM usage aggregated per tenant, period, provider and model.';
CREATE INDEX ix_llm_usage_summary_client_account_id_engagement_id
    ON migration.llm_usage_summary (client_account_id, engagement_id);

-- Audit -------------------------------------------------------------------------------------------

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
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT access_audit_log_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT access_audit_log_client_account_id_fkey FOREIGN KEY (client_account_id)
        REFERENCES migration.client_accounts (id) ON DELETE CASCADE,
    CONSTRAINT access_audit_log_client_account_id_engagement_id_fkey
        FOREIGN KEY (client_account_id, engagement_id)
        REFERENCES migration.engagements (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT access_audit_log_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT access_audit_log_result_check CHECK (result IN ('success', 'denied', 'error'))
);
COMMENT ON TABLE migration.access_audit_log IS
    'Who accessed or tried to access which tenant resource, and the outcome (merges enhanced_access_audit_log).';
CREATE INDEX ix_access_audit_log_client_account_id_engagement_id
    ON migration.access_audit_log (client_account_id, engagement_id);
CREATE INDEX ix_access_audit_log_user_id ON migration.access_audit_log (user_id);

CREATE TABLE migration.security_audit_logs (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    user_id uuid,
    event_type varchar(100) NOT NULL,
    severity varchar(10) NOT NULL DEFAULT 'info',
    description text NOT NULL,
    ip_address inet,
    user_agent text,
    details jsonb NOT NULL DEFAULT '{}'::jsonb,
    is_resolved boolean NOT NULL DEFAULT false,
    resolved_by uuid,
    resolved_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT security_audit_logs_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT security_audit_logs_client_account_id_fkey FOREIGN KEY (client_account_id)
        REFERENCES migration.client_accounts (id) ON DELETE CASCADE,
    CONSTRAINT security_audit_logs_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT security_audit_logs_resolved_by_fkey FOREIGN KEY (resolved_by)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT security_audit_logs_severity_check CHECK (severity IN ('info', 'warning', 'high', 'critical'))
);
COMMENT ON TABLE migration.security_audit_logs IS
    'Security events of a tenant (role escalations, failed logins, policy violations) and their resolution.';
CREATE INDEX ix_security_audit_logs_user_id ON migration.security_audit_logs (user_id);
CREATE INDEX ix_security_audit_logs_resolved_by ON migration.security_audit_logs (resolved_by);

CREATE TABLE migration.flow_deletion_audit (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid NOT NULL,
    flow_id uuid NOT NULL,
    flow_type varchar(50) NOT NULL,
    deletion_type varchar(20) NOT NULL DEFAULT 'user_requested',
    deletion_reason text,
    deleted_by uuid,
    data_deleted jsonb NOT NULL DEFAULT '{}'::jsonb,
    deletion_impact jsonb NOT NULL DEFAULT '{}'::jsonb,
    cleanup_summary jsonb NOT NULL DEFAULT '{}'::jsonb,
    deletion_duration_ms integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT flow_deletion_audit_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT flow_deletion_audit_client_account_id_engagement_id_fkey
        FOREIGN KEY (client_account_id, engagement_id)
        REFERENCES migration.engagements (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT flow_deletion_audit_deleted_by_fkey FOREIGN KEY (deleted_by)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT flow_deletion_audit_deletion_type_check
        CHECK (deletion_type IN ('user_requested', 'auto_cleanup', 'admin_action', 'batch_cleanup'))
);
COMMENT ON TABLE migration.flow_deletion_audit IS
    'Record of each deleted flow (the flow itself is gone, so flow_id is not a foreign key): who, why, what was removed.';
CREATE INDEX ix_flow_deletion_audit_client_account_id_engagement_id
    ON migration.flow_deletion_audit (client_account_id, engagement_id);
CREATE INDEX ix_flow_deletion_audit_deleted_by ON migration.flow_deletion_audit (deleted_by);

CREATE TABLE migration.soft_deleted_items (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    client_account_id uuid NOT NULL,
    engagement_id uuid,
    item_type varchar(100) NOT NULL,
    item_id uuid NOT NULL,
    item_snapshot jsonb NOT NULL,
    deleted_by uuid,
    deletion_reason text,
    deleted_at timestamptz NOT NULL DEFAULT now(),
    purge_after timestamptz,
    restored_at timestamptz,
    restored_by uuid,
    CONSTRAINT soft_deleted_items_pkey PRIMARY KEY (client_account_id, id),
    CONSTRAINT soft_deleted_items_client_account_id_item_type_item_id_key
        UNIQUE (client_account_id, item_type, item_id),
    CONSTRAINT soft_deleted_items_client_account_id_fkey FOREIGN KEY (client_account_id)
        REFERENCES migration.client_accounts (id) ON DELETE CASCADE,
    CONSTRAINT soft_deleted_items_client_account_id_engagement_id_fkey
        FOREIGN KEY (client_account_id, engagement_id)
        REFERENCES migration.engagements (client_account_id, id) ON DELETE CASCADE,
    CONSTRAINT soft_deleted_items_deleted_by_fkey FOREIGN KEY (deleted_by)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT soft_deleted_items_restored_by_fkey FOREIGN KEY (restored_by)
        REFERENCES migration.users (id) ON DELETE SET NULL,
    CONSTRAINT soft_deleted_items_purge_check CHECK (purge_after IS NULL OR purge_after >= deleted_at)
);
COMMENT ON TABLE migration.soft_deleted_items IS
    'Snapshots of deleted tenant items, kept until purge_after so a deletion can be undone.';
CREATE INDEX ix_soft_deleted_items_client_account_id_engagement_id
    ON migration.soft_deleted_items (client_account_id, engagement_id);
CREATE INDEX ix_soft_deleted_items_deleted_by ON migration.soft_deleted_items (deleted_by);
CREATE INDEX ix_soft_deleted_items_restored_by ON migration.soft_deleted_items (restored_by);
