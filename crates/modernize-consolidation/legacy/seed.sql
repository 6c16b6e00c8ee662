-- Deterministic legacy data for `modernize legacy seed`, run after schema.sql on the same connection.
--
-- pg_temp.seed_params (seed, tenants, v3_imports, legacy_imports, v3_raw_rows) is created first by
-- the caller. Every id is md5(seed:kind:number)::uuid, every value a function of its row number, so
-- the same parameters always give the same database. Tenant 0 is the mock tenant (is_mock rows);
-- tenants 1..N are real. Each section ends with its hard cases (docs/legacy-schema.md lists them).

-- Tenants, users, engagements, master flows ------------------------------------------------------

INSERT INTO migration.client_accounts (id, name, slug, industry, settings, is_mock, created_at, updated_at)
SELECT md5(p.seed || ':tenant:' || t)::uuid,
       CASE t WHEN 0 THEN 'Demo Corp (mock)' WHEN 1 THEN 'Müller Logistik GmbH' WHEN 2 THEN '東京データ株式会社'
              ELSE 'Client ' || t END,
       CASE t WHEN 0 THEN 'demo-mock' ELSE 'client-' || t END,
       (ARRAY['logistics', 'finance', 'retail', 'health'])[1 + t % 4],
       jsonb_build_object('region', (ARRAY['eu-west-1', 'us-east-1', 'ap-northeast-1'])[1 + t % 3]),
       t = 0,
       timestamptz '2023-01-01 00:00:00+00' + t * interval '1 day',
       timestamptz '2023-01-01 00:00:00+00' + t * interval '1 day'
FROM pg_temp.seed_params p, generate_series(0, p.tenants) t;

INSERT INTO migration.users (id, email, first_name, last_name, is_active, is_verified, default_client_account_id,
                             created_at, updated_at)
SELECT md5(p.seed || ':user:' || t || ':' || k)::uuid,
       format('user%s.%s@client-%s.example', k, t, t),
       (ARRAY['Zoë', 'José', 'Łukasz', 'Ana'])[1 + k],
       (ARRAY['Ødegaard', 'Núñez', 'Schröder', 'Smith'])[1 + (t + k) % 4],
       true, k < 3,
       CASE WHEN t > 0 THEN md5(p.seed || ':tenant:' || t)::uuid END,
       timestamptz '2023-01-02 00:00:00+00', timestamptz '2023-01-02 00:00:00+00'
FROM pg_temp.seed_params p, generate_series(0, p.tenants) t, generate_series(0, 3) k;

INSERT INTO migration.user_profiles (user_id, display_name, job_title, timezone, preferences, created_at, updated_at)
SELECT md5(p.seed || ':user:' || t || ':' || k)::uuid, 'User ' || t || '/' || k, 'Cloud architect',
       (ARRAY['Europe/Berlin', 'Asia/Tokyo', 'UTC'])[1 + t % 3], '{"theme": "dark"}',
       timestamptz '2023-01-02 00:00:00+00', timestamptz '2023-01-02 00:00:00+00'
FROM pg_temp.seed_params p, generate_series(1, p.tenants) t, generate_series(0, 2) k;

-- The enhanced twin: new profiles (k = 3) plus, for tenant 1, one that contradicts user 0's profile.
INSERT INTO migration.enhanced_user_profiles (user_id, display_name, job_title, organization, status, login_count,
                                              security_clearance, created_at, updated_at)
SELECT md5(p.seed || ':user:' || t || ':' || k)::uuid, 'Enhanced ' || t || '/' || k, 'Migration lead', 'Client ' || t,
       'active', 7 * k, CASE WHEN t % 2 = 0 THEN 'confidential' END,
       timestamptz '2023-01-03 00:00:00+00', timestamptz '2023-01-03 00:00:00+00'
FROM pg_temp.seed_params p, generate_series(1, p.tenants) t, generate_series(0, 3) k
WHERE k = 3 OR (t = 1 AND k = 0);

INSERT INTO migration.engagements (id, client_account_id, name, slug, status, start_date, is_mock, created_at, updated_at)
SELECT md5(p.seed || ':eng:' || t || ':' || e)::uuid, md5(p.seed || ':tenant:' || t)::uuid,
       CASE WHEN t = 2 THEN 'クラウド移行 ' || e ELSE 'Cloud migration wave ' || e END,
       'wave-' || e, (ARRAY['planning', 'active'])[1 + e], date '2024-01-01' + e * 90, t = 0,
       timestamptz '2024-01-01 00:00:00+00', timestamptz '2024-01-01 00:00:00+00'
FROM pg_temp.seed_params p, generate_series(0, p.tenants) t, generate_series(0, 1) e
WHERE t > 0 OR e = 0;

INSERT INTO migration.crewai_flow_state_extensions (id, client_account_id, engagement_id, flow_id, user_id, flow_type,
                                                    flow_name, flow_status, flow_configuration, is_mock,
                                                    created_at, updated_at)
SELECT md5(p.seed || ':flowrow:' || t || ':' || e)::uuid, md5(p.seed || ':tenant:' || t)::uuid,
       md5(p.seed || ':eng:' || t || ':' || e)::uuid, md5(p.seed || ':flow:' || t || ':' || e)::uuid,
       md5(p.seed || ':user:' || t || ':0')::uuid, 'discovery', 'Discovery ' || t || '/' || e, 'running',
       jsonb_build_object('agents', jsonb_build_array('mapper', 'cleanser')), t = 0,
       timestamptz '2024-01-02 00:00:00+00', timestamptz '2024-01-02 00:00:00+00'
FROM pg_temp.seed_params p, generate_series(0, p.tenants) t, generate_series(0, 1) e
WHERE t > 0 OR e = 0;

-- Legacy data imports (old column names) and what hangs off them --------------------------------
-- Import i belongs to tenant 1 + i % tenants, engagement (i / tenants) % 2.

INSERT INTO migration.data_imports (id, client_account_id, engagement_id, master_flow_id, import_name, import_type,
                                    description, source_filename, file_size_bytes, file_type, source_system, status,
                                    progress_percentage, total_records, processed_records, failed_records,
                                    imported_by, file_hash, import_config, created_at, updated_at, started_at,
                                    completed_at)
SELECT md5(p.seed || ':imp:' || i)::uuid, md5(p.seed || ':tenant:' || t)::uuid, md5(p.seed || ':eng:' || t || ':' || e)::uuid,
       md5(p.seed || ':flow:' || t || ':' || e)::uuid, 'CMDB export ' || i,
       (ARRAY['cmdb', 'asset_inventory', 'network_data'])[1 + i % 3], 'Quarterly export',
       'cmdb_export_' || i || '.csv', 1024 * i, 'text/csv', 'ServiceNow', 'completed', 100, 5, 5, 0,
       md5(p.seed || ':user:' || t || ':1')::uuid, md5('file' || i),
       jsonb_build_object('delimiter', ',', 'encoding', 'utf-8'),
       timestamptz '2024-02-01 00:00:00+00' + i * interval '1 minute',
       timestamptz '2024-02-01 00:00:00+00' + i * interval '1 minute',
       timestamptz '2024-02-01 00:00:00+00' + i * interval '1 minute',
       timestamptz '2024-02-01 00:05:00+00' + i * interval '1 minute'
FROM pg_temp.seed_params p, generate_series(1, p.legacy_imports) i,
     LATERAL (SELECT 1 + i % p.tenants AS t, (i / p.tenants) % 2 AS e) k;

-- Hard cases: every nullable column NULL; non-ASCII text with a large JSONB config; a mock import of
-- a real tenant (its records are not flagged: they follow it into the archive); the mock tenant's.
INSERT INTO migration.data_imports (id, client_account_id, engagement_id, import_name, source_filename, created_at,
                                    updated_at)
SELECT md5(p.seed || ':imp:nulls')::uuid, md5(p.seed || ':tenant:1')::uuid, md5(p.seed || ':eng:1:0')::uuid,
       'Import with NULLs', 'nulls.csv', timestamptz '2024-02-02 00:00:00+00', timestamptz '2024-02-02 00:00:00+00'
FROM pg_temp.seed_params p;
INSERT INTO migration.data_imports (id, client_account_id, engagement_id, import_name, source_filename, file_type,
                                    description, import_config, created_at, updated_at)
SELECT md5(p.seed || ':imp:unicode')::uuid, md5(p.seed || ':tenant:2')::uuid, md5(p.seed || ':eng:2:0')::uuid,
       'Inventaire serveurs – 東京 🚀', 'données_été_2024.xlsx', 'application/vnd.ms-excel',
       E'Zeilen mit Umlauten: äöüß, emoji 👩‍💻, RTL: שלום, NUL-free\ttabs',
       (SELECT jsonb_object_agg('column_' || n, jsonb_build_object('type', 'string', 'sample', repeat('x', 40) || n))
        FROM generate_series(1, 3000) n),
       timestamptz '2024-02-03 00:00:00+00', timestamptz '2024-02-03 00:00:00+00'
FROM pg_temp.seed_params p;
INSERT INTO migration.data_imports (id, client_account_id, engagement_id, master_flow_id, import_name, source_filename,
                                    is_mock, created_at, updated_at)
SELECT md5(p.seed || ':imp:mock' || t)::uuid, md5(p.seed || ':tenant:' || t)::uuid, md5(p.seed || ':eng:' || t || ':0')::uuid,
       md5(p.seed || ':flow:' || t || ':0')::uuid, 'Sample data (mock)', 'sample.csv', true,
       timestamptz '2024-02-04 00:00:00+00', timestamptz '2024-02-04 00:00:00+00'
FROM pg_temp.seed_params p, generate_series(0, 1) t;

INSERT INTO migration.raw_import_records (id, client_account_id, engagement_id, data_import_id, master_flow_id,
                                          row_number, raw_data, cleansed_data, is_processed, created_at, processed_at)
SELECT md5(p.seed || ':raw:' || i || ':' || r)::uuid, d.client_account_id, d.engagement_id, d.id, d.master_flow_id, r,
       jsonb_build_object('hostname', 'srv-' || i || '-' || r, 'ip', '10.0.' || i % 250 || '.' || r, 'os', 'RHEL 8'),
       jsonb_build_object('hostname', 'srv-' || i || '-' || r), true,
       d.created_at, d.completed_at
FROM pg_temp.seed_params p, generate_series(1, p.legacy_imports) i, generate_series(1, 5) r,
     migration.data_imports d
WHERE d.id = md5(p.seed || ':imp:' || i)::uuid;
INSERT INTO migration.raw_import_records (id, client_account_id, engagement_id, data_import_id, row_number, raw_data,
                                          is_mock, created_at)
SELECT md5(p.seed || ':raw:mock' || t || ':' || r)::uuid, d.client_account_id, d.engagement_id, d.id, r,
       jsonb_build_object('hostname', 'sample-' || r), t = 0, d.created_at
FROM pg_temp.seed_params p, generate_series(0, 1) t, generate_series(1, 2) r, migration.data_imports d
WHERE d.id = md5(p.seed || ':imp:mock' || t)::uuid;

INSERT INTO migration.import_field_mappings (id, client_account_id, engagement_id, data_import_id, master_flow_id,
                                             source_field, target_field, match_type, confidence_score, status,
                                             suggested_by, created_at, updated_at)
SELECT md5(p.seed || ':map:' || i || ':' || f)::uuid, d.client_account_id, d.engagement_id, d.id, d.master_flow_id,
       'field_' || f, (ARRAY['hostname', 'ip_address', 'operating_system', 'cpu_cores', 'memory_gb', 'environment'])[f],
       'exact', 0.9, CASE WHEN f % 2 = 0 THEN 'approved' ELSE 'suggested' END, 'gpt-4o',
       d.created_at, d.created_at
FROM pg_temp.seed_params p, generate_series(1, p.legacy_imports) i, generate_series(1, 6) f, migration.data_imports d
WHERE d.id = md5(p.seed || ':imp:' || i)::uuid;

INSERT INTO migration.discovery_flows (id, client_account_id, engagement_id, flow_id, master_flow_id, data_import_id,
                                       user_id, flow_name, status, progress_percentage, data_import_completed,
                                       attribute_mapping_completed, data_cleansing_completed, inventory_completed,
                                       dependencies_completed, tech_debt_completed, phases, assessment_package,
                                       created_at, updated_at)
SELECT md5(p.seed || ':dflow:' || i)::uuid, d.client_account_id, d.engagement_id, md5(p.seed || ':dflowid:' || i)::uuid,
       d.master_flow_id, d.id, d.imported_by, 'Discovery of ' || d.import_name,
       CASE WHEN i % 7 = 6 THEN 'completed' ELSE 'running' END, 100.0 * (i % 7) / 6,
       i % 7 >= 1, i % 7 >= 2, i % 7 >= 3, i % 7 >= 4, i % 7 >= 5, i % 7 >= 6,
       jsonb_build_object('data_import', jsonb_build_object('rows', 5)),
       CASE WHEN i % 3 = 0 THEN jsonb_build_object('summary', 'ready for assessment', 'score', i % 100) END,
       d.created_at, d.updated_at
FROM pg_temp.seed_params p, generate_series(1, p.legacy_imports) i, migration.data_imports d
WHERE d.id = md5(p.seed || ':imp:' || i)::uuid;
INSERT INTO migration.discovery_flows (id, client_account_id, engagement_id, flow_id, created_at, updated_at)
SELECT md5(p.seed || ':dflow:nulls')::uuid, md5(p.seed || ':tenant:1')::uuid, md5(p.seed || ':eng:1:0')::uuid,
       md5(p.seed || ':dflowid:nulls')::uuid,
       timestamptz '2024-02-02 00:00:00+00', timestamptz '2024-02-02 00:00:00+00'
FROM pg_temp.seed_params p;

-- Three assets per import, linked both ways with the import's first raw records (memory in MB).
INSERT INTO migration.assets (id, client_account_id, engagement_id, master_flow_id, discovery_flow_id, data_import_id,
                              raw_import_record_id, name, hostname, asset_type, ip_address, environment,
                              operating_system, cpu_cores, memory_mb, storage_mb, criticality, status,
                              technology_stack, custom_attributes, created_at, updated_at)
SELECT md5(p.seed || ':asset:' || i || ':' || r)::uuid, d.client_account_id, d.engagement_id, d.master_flow_id,
       md5(p.seed || ':dflow:' || i)::uuid, d.id, md5(p.seed || ':raw:' || i || ':' || r)::uuid,
       'srv-' || i || '-' || r, 'srv-' || i || '-' || r || '.corp.example',
       (ARRAY['server', 'database', 'application'])[r], '10.0.' || i % 250 || '.' || r,
       (ARRAY['production', 'staging', 'development'])[1 + i % 3], 'RHEL 8', 2 * r, 1000 * r + i % 7, 51200 * r,
       (ARRAY['low', 'medium', 'high'])[r], 'discovered', '["java", "postgres"]',
       jsonb_build_object('rack', 'R' || i % 40), d.created_at, d.updated_at
FROM pg_temp.seed_params p, generate_series(1, p.legacy_imports) i, generate_series(1, 3) r, migration.data_imports d
WHERE d.id = md5(p.seed || ':imp:' || i)::uuid;
UPDATE migration.raw_import_records r SET asset_id = a.id
FROM migration.assets a WHERE a.raw_import_record_id = r.id;
INSERT INTO migration.assets (id, client_account_id, engagement_id, name, created_at, updated_at)
SELECT md5(p.seed || ':asset:nulls')::uuid, md5(p.seed || ':tenant:1')::uuid, md5(p.seed || ':eng:1:0')::uuid,
       'asset-with-nulls', timestamptz '2024-02-02 00:00:00+00', timestamptz '2024-02-02 00:00:00+00'
FROM pg_temp.seed_params p;
INSERT INTO migration.assets (id, client_account_id, engagement_id, name, asset_type, memory_mb, is_mock, created_at,
                              updated_at)
SELECT md5(p.seed || ':asset:mock' || t)::uuid, md5(p.seed || ':tenant:' || t)::uuid, md5(p.seed || ':eng:' || t || ':0')::uuid,
       'demo-server-' || t, 'server', 2048, true, timestamptz '2024-02-04 00:00:00+00',
       timestamptz '2024-02-04 00:00:00+00'
FROM pg_temp.seed_params p, generate_series(0, 1) t;

-- The merged twins -------------------------------------------------------------------------------

-- Upload sessions of their own, plus one identical to legacy import 3 as the twin would render it.
INSERT INTO migration.data_import_sessions (id, client_account_id, engagement_id, master_flow_id, session_name,
                                            source_filename, file_size_bytes, status, total_records, created_by,
                                            session_metadata, created_at, updated_at)
SELECT md5(p.seed || ':session:' || s)::uuid, md5(p.seed || ':tenant:' || t)::uuid, md5(p.seed || ':eng:' || t || ':0')::uuid,
       md5(p.seed || ':flow:' || t || ':0')::uuid, 'Upload session ' || s, 'upload_' || s || '.json', 2048 * s,
       'uploaded', 0, md5(p.seed || ':user:' || t || ':2')::uuid,
       CASE WHEN s % 2 = 0 THEN jsonb_build_object('browser', 'Firefox', 'chunks', s) END,
       timestamptz '2024-03-01 00:00:00+00' + s * interval '1 hour',
       timestamptz '2024-03-01 00:00:00+00' + s * interval '1 hour'
FROM pg_temp.seed_params p, generate_series(1, greatest(2, p.legacy_imports / 2)) s,
     LATERAL (SELECT 1 + s % p.tenants AS t) k;
INSERT INTO migration.data_import_sessions (id, client_account_id, engagement_id, master_flow_id, session_name,
                                            session_type, description, source_filename, file_size_bytes, file_type,
                                            status, total_records, processed_records, failed_records, created_by,
                                            created_at, updated_at, completed_at)
SELECT id, client_account_id, engagement_id, master_flow_id, import_name, import_type, description, source_filename,
       file_size_bytes, file_type, status, total_records, processed_records, failed_records, imported_by,
       created_at, updated_at, completed_at
FROM migration.data_imports, pg_temp.seed_params p WHERE id = md5(p.seed || ':imp:3')::uuid;

INSERT INTO migration.access_audit_log (id, client_account_id, engagement_id, user_id, action_type, resource_type,
                                        result, ip_address, details, created_at)
SELECT md5(p.seed || ':audit:' || t || ':' || n)::uuid, md5(p.seed || ':tenant:' || t)::uuid,
       md5(p.seed || ':eng:' || t || ':0')::uuid, md5(p.seed || ':user:' || t || ':0')::uuid, 'read', 'assets',
       'success', ('192.0.2.' || n)::inet, '{}', timestamptz '2024-04-01 00:00:00+00' + n * interval '1 minute'
FROM pg_temp.seed_params p, generate_series(1, p.tenants) t, generate_series(1, 3) n;
INSERT INTO migration.enhanced_access_audit_log (id, client_account_id, user_id, action_type, resource_type, result,
                                                 reason, http_method, endpoint, risk_score, created_at)
SELECT md5(p.seed || ':eaudit:' || t || ':' || n)::uuid, md5(p.seed || ':tenant:' || t)::uuid,
       md5(p.seed || ':user:' || t || ':1')::uuid, 'export', 'data_imports',
       CASE WHEN n = 3 THEN 'denied' ELSE 'success' END, CASE WHEN n = 3 THEN 'role viewer may not export' END,
       'GET', '/api/v1/data-imports/' || n, 10 * n, timestamptz '2024-04-02 00:00:00+00' + n * interval '1 minute'
FROM pg_temp.seed_params p, generate_series(1, p.tenants) t, generate_series(1, 3) n;

-- v3 tables --------------------------------------------------------------------------------------
-- v3 import i belongs to tenant 1 + i % tenants, engagement (i / tenants) % 2. Imports 1 and 2 are the
-- hard cases: 1 is identical to legacy import 1 (same id, same content), 2 reuses legacy import 2's
-- id with another file name (a conflict).

INSERT INTO migration.v3_data_imports (id, client_account_id, engagement_id, master_flow_id, source_filename,
                                       file_size_bytes, file_type, source_system, status, import_name, import_type,
                                       description, error_message, error_details, progress_percentage, total_records,
                                       processed_records, failed_records, user_id, created_at, updated_at,
                                       started_at, completed_at)
SELECT md5(p.seed || ':v3imp:' || i)::uuid, md5(p.seed || ':tenant:' || t)::uuid,
       md5(p.seed || ':eng:' || t || ':' || e)::uuid, md5(p.seed || ':flow:' || t || ':' || e)::uuid,
       'inventory_v3_' || i || '.csv', 4096 * i, 'text/csv', 'Flexera',
       (ARRAY['completed', 'processing', 'failed'])[1 + i % 3], 'v3 inventory ' || i, 'asset_inventory',
       'Imported by the v3 pipeline', CASE WHEN i % 3 = 2 THEN 'parser crashed on line 17' END,
       CASE WHEN i % 3 = 2 THEN jsonb_build_object('line', 17, 'error', 'unexpected EOF') END,
       CASE WHEN i % 3 = 0 THEN 100 ELSE 50 END, p.v3_raw_rows / p.v3_imports, 0, 0,
       md5(p.seed || ':user:' || t || ':2')::uuid,
       timestamptz '2024-05-01 00:00:00+00' + i * interval '1 minute',
       timestamptz '2024-05-01 00:00:00+00' + i * interval '1 minute',
       timestamptz '2024-05-01 00:00:00+00' + i * interval '1 minute', NULL
FROM pg_temp.seed_params p, generate_series(3, p.v3_imports) i,
     LATERAL (SELECT 1 + i % p.tenants AS t, (i / p.tenants) % 2 AS e) k;
INSERT INTO migration.v3_data_imports (id, client_account_id, engagement_id, master_flow_id, source_filename,
                                       file_size_bytes, file_type, source_system, status, import_name, import_type,
                                       description, error_message, error_details, progress_percentage, total_records,
                                       processed_records, failed_records, user_id, created_at, updated_at,
                                       started_at, completed_at)
SELECT id, client_account_id, engagement_id, master_flow_id,
       CASE WHEN id = md5(p.seed || ':imp:2')::uuid THEN 'renamed_in_v3.csv' ELSE source_filename END,
       file_size_bytes, file_type, source_system, status, import_name, import_type, description, error_message,
       error_details, progress_percentage, total_records, processed_records, failed_records, imported_by,
       created_at, updated_at, started_at, completed_at
FROM migration.data_imports, pg_temp.seed_params p
WHERE id IN (md5(p.seed || ':imp:1')::uuid, md5(p.seed || ':imp:2')::uuid);
INSERT INTO migration.v3_data_imports (id, client_account_id, engagement_id, source_filename, import_name)
SELECT md5(p.seed || ':v3imp:nulls')::uuid, md5(p.seed || ':tenant:1')::uuid, md5(p.seed || ':eng:1:1')::uuid,
       'v3_nulls.csv', 'v3 import with NULLs'
FROM pg_temp.seed_params p;

INSERT INTO migration.v3_discovery_flows (id, flow_id, master_flow_id, client_account_id, engagement_id,
                                          data_import_id, user_id, status, progress_percentage, current_phase,
                                          phases_completed, flow_state, created_at, updated_at, started_at)
SELECT md5(p.seed || ':v3flow:' || i)::uuid, md5(p.seed || ':v3flowid:' || i)::uuid, d.master_flow_id,
       d.client_account_id, d.engagement_id, d.id, d.user_id, 'running', 33.3, 'data_cleansing',
       '["data_import", "field_mapping"]', jsonb_build_object('cleansing', jsonb_build_object('rows_done', i)),
       d.created_at, d.updated_at, d.started_at
FROM pg_temp.seed_params p, generate_series(3, p.v3_imports) i, migration.v3_data_imports d
WHERE d.id = md5(p.seed || ':v3imp:' || i)::uuid;
INSERT INTO migration.v3_discovery_flows (id, flow_id, client_account_id, engagement_id)
SELECT md5(p.seed || ':v3flow:nulls')::uuid, md5(p.seed || ':v3flowid:nulls')::uuid, md5(p.seed || ':tenant:1')::uuid,
       md5(p.seed || ':eng:1:1')::uuid
FROM pg_temp.seed_params p;

-- Eight mappings per v3 import; every 50th (and import 3's seventh) is both approved and rejected.
INSERT INTO migration.v3_field_mappings (id, data_import_id, client_account_id, master_flow_id, source_field,
                                         target_field, mapping_type, confidence_score, is_approved, is_rejected,
                                         ai_model_version, approved_by, approved_at, transformation_logic,
                                         is_validated, created_at, updated_at)
SELECT md5(p.seed || ':v3map:' || i || ':' || f)::uuid, d.id, d.client_account_id, d.master_flow_id, 'column_' || f,
       (ARRAY['hostname', 'ip_address', 'operating_system', 'cpu_cores', 'memory_gb', 'storage_gb', 'environment',
              'business_owner'])[f],
       (ARRAY['exact', 'fuzzy', 'ai_suggested'])[1 + f % 3], round((0.5 + f / 20.0)::numeric, 2)::float8,
       (i * 8 + f) % 50 = 0 OR (i, f) = (3, 7) OR f % 3 = 0,
       (i * 8 + f) % 50 = 0 OR (i, f) = (3, 7) OR f = 8, 'gpt-4o-2024-08-06',
       CASE WHEN f % 3 = 0 THEN d.user_id END, CASE WHEN f % 3 = 0 THEN d.updated_at END,
       CASE WHEN f = 5 THEN '{"unit": "MB->GB", "divide_by": 1024}'::jsonb ELSE '{}'::jsonb END, f % 2 = 0,
       d.created_at, d.updated_at
FROM pg_temp.seed_params p, generate_series(3, p.v3_imports) i, generate_series(1, 8) f, migration.v3_data_imports d
WHERE d.id = md5(p.seed || ':v3imp:' || i)::uuid;
-- Hard cases: identical to a legacy mapping; same id, other content; a new id whose
-- (import, source_field) is already taken; every nullable column NULL.
INSERT INTO migration.v3_field_mappings (id, data_import_id, client_account_id, master_flow_id, source_field,
                                         target_field, mapping_type, confidence_score, is_approved, ai_model_version,
                                         created_at, updated_at)
SELECT m.id, m.data_import_id, m.client_account_id, m.master_flow_id, m.source_field,
       CASE WHEN m.id = md5(p.seed || ':map:1:2')::uuid THEN 'fqdn' ELSE m.target_field END,
       m.match_type, m.confidence_score, m.status = 'approved', m.suggested_by, m.created_at, m.updated_at
FROM migration.import_field_mappings m, pg_temp.seed_params p
WHERE m.id IN (md5(p.seed || ':map:1:1')::uuid, md5(p.seed || ':map:1:2')::uuid);
INSERT INTO migration.v3_field_mappings (id, data_import_id, client_account_id, source_field, mapping_type)
SELECT md5(p.seed || ':v3map:taken')::uuid, md5(p.seed || ':imp:1')::uuid, md5(p.seed || ':tenant:' || (1 + 1 % p.tenants))::uuid,
       'field_3', 'exact'
FROM pg_temp.seed_params p;
INSERT INTO migration.v3_field_mappings (id, data_import_id, client_account_id, source_field)
SELECT md5(p.seed || ':v3map:nulls')::uuid, md5(p.seed || ':v3imp:nulls')::uuid, md5(p.seed || ':tenant:1')::uuid,
       'column_nulls'
FROM pg_temp.seed_params p;

-- The bulk: raw record j belongs to v3 import 3 + j % (v3_imports - 2), as its row 100 + j / (v3_imports - 2).
INSERT INTO migration.v3_raw_import_records (id, client_account_id, engagement_id, data_import_id, master_flow_id,
                                             row_number, raw_data, cleansed_data, is_valid, validation_errors,
                                             is_processed, created_at, processed_at)
SELECT md5(p.seed || ':v3raw:' || j)::uuid, md5(p.seed || ':tenant:' || t)::uuid,
       md5(p.seed || ':eng:' || t || ':' || e)::uuid, md5(p.seed || ':v3imp:' || i)::uuid,
       md5(p.seed || ':flow:' || t || ':' || e)::uuid, 100 + j / (p.v3_imports - 2),
       jsonb_build_object('hostname', 'host-' || j, 'ip', '10.' || j % 256 || '.' || j / 256 % 256 || '.' || j / 65536 % 256,
                          'os', (ARRAY['Windows Server 2019', 'Ubuntu 22.04', 'RHEL 8', 'AIX 7.2'])[1 + j % 4],
                          'cpu', 1 + j % 64, 'memory_mb', 1024 * (1 + j % 32),
                          'owner', (ARRAY['Zoë Ødegaard', 'José Núñez', '山田太郎', 'ops'])[1 + j % 4]),
       CASE WHEN j % 4 = 0 THEN jsonb_build_object('hostname', 'host-' || j) END, j % 97 <> 0,
       CASE WHEN j % 97 = 0 THEN '[{"field": "ip", "error": "invalid address"}]'::jsonb ELSE '[]'::jsonb END,
       j % 4 = 0, timestamptz '2024-05-01 00:00:00+00' + j * interval '1 second',
       CASE WHEN j % 4 = 0 THEN timestamptz '2024-05-02 00:00:00+00' + j * interval '1 second' END
FROM pg_temp.seed_params p, generate_series(0, p.v3_raw_rows - 1) j,
     LATERAL (SELECT 3 + j % (p.v3_imports - 2) AS i) n,
     LATERAL (SELECT 1 + n.i % p.tenants AS t, (n.i / p.tenants) % 2 AS e) k;
-- Hard cases: identical to legacy record 1 of import 1; legacy record 2's id with other data; every
-- nullable column NULL with a large raw_data; a record of the real tenant's mock import.
INSERT INTO migration.v3_raw_import_records (id, client_account_id, engagement_id, data_import_id, master_flow_id,
                                             row_number, raw_data, cleansed_data, is_valid, validation_errors,
                                             is_processed, asset_id, created_at, processed_at)
SELECT r.id, r.client_account_id, r.engagement_id, r.data_import_id, r.master_flow_id, r.row_number,
       CASE WHEN r.row_number = 2 THEN r.raw_data || '{"hostname": "renamed-in-v3"}' ELSE r.raw_data END,
       r.cleansed_data, r.is_valid, r.validation_errors, r.is_processed, r.asset_id, r.created_at, r.processed_at
FROM migration.raw_import_records r, pg_temp.seed_params p
WHERE r.id IN (md5(p.seed || ':raw:1:1')::uuid, md5(p.seed || ':raw:1:2')::uuid);
INSERT INTO migration.v3_raw_import_records (id, client_account_id, engagement_id, data_import_id, row_number, raw_data)
SELECT md5(p.seed || ':v3raw:nulls')::uuid, md5(p.seed || ':tenant:1')::uuid, md5(p.seed || ':eng:1:1')::uuid,
       md5(p.seed || ':v3imp:nulls')::uuid, 1,
       (SELECT jsonb_object_agg('attribute_' || n, jsonb_build_array(n, 'välue ' || n, n % 2 = 0, NULL))
        FROM generate_series(1, 20000) n)
FROM pg_temp.seed_params p;
INSERT INTO migration.v3_raw_import_records (id, client_account_id, engagement_id, data_import_id, row_number, raw_data)
SELECT md5(p.seed || ':v3raw:mock')::uuid, md5(p.seed || ':tenant:1')::uuid, md5(p.seed || ':eng:1:0')::uuid,
       md5(p.seed || ':imp:mock1')::uuid, 3, '{"hostname": "sample-3"}'
FROM pg_temp.seed_params p;

-- Deprecated tables ------------------------------------------------------------------------------

INSERT INTO migration.workflow_states (client_account_id, flow_id, phase, state, created_at)
SELECT client_account_id, flow_id, 'field_mapping', jsonb_build_object('step', 2), created_at
FROM migration.crewai_flow_state_extensions ORDER BY id;
INSERT INTO migration.workflow_progress (client_account_id, flow_id, step, percent_complete, updated_at)
SELECT client_account_id, flow_id, 'asset_inventory', 40, created_at
FROM migration.crewai_flow_state_extensions ORDER BY id;
-- One promoted and one never-promoted discovery asset per legacy import.
INSERT INTO migration.discovery_assets (client_account_id, engagement_id, discovery_flow_id, asset_name, asset_type,
                                        raw_data, promoted_asset_id, created_at)
SELECT d.client_account_id, d.engagement_id, md5(p.seed || ':dflow:' || i)::uuid, 'found-' || i || '-' || n, 'server',
       jsonb_build_object('seen_by', 'nmap', 'n', n),
       CASE WHEN n = 1 THEN md5(p.seed || ':asset:' || i || ':1')::uuid END, d.created_at
FROM pg_temp.seed_params p, generate_series(1, p.legacy_imports) i, generate_series(1, 2) n, migration.data_imports d
WHERE d.id = md5(p.seed || ':imp:' || i)::uuid ORDER BY i, n;
INSERT INTO migration.mapping_learning_patterns (client_account_id, source_field_pattern, target_field, confidence,
                                                 times_seen)
SELECT md5(p.seed || ':tenant:' || t)::uuid, pattern, target, 0.8, t
FROM pg_temp.seed_params p, generate_series(1, p.tenants) t,
     (VALUES ('host%', 'hostname'), ('ip%', 'ip_address'), ('mem%', 'memory_gb')) v (pattern, target)
ORDER BY t, pattern;
INSERT INTO migration.data_quality_issues (client_account_id, data_import_id, row_number, field_name, issue_type,
                                           description)
SELECT d.client_account_id, d.id, 2, 'ip', 'invalid_format', 'IP address ''10.0.x'' is not valid'
FROM pg_temp.seed_params p, generate_series(1, p.legacy_imports) i, migration.data_imports d
WHERE d.id = md5(p.seed || ':imp:' || i)::uuid ORDER BY i;
INSERT INTO migration.import_processing_steps (client_account_id, data_import_id, step_name, status, details)
SELECT d.client_account_id, d.id, step, 'completed', NULL
FROM pg_temp.seed_params p, generate_series(1, p.legacy_imports) i, migration.data_imports d,
     (VALUES ('parse'), ('validate')) s (step)
WHERE d.id = md5(p.seed || ':imp:' || i)::uuid ORDER BY i, step;

ANALYZE;
