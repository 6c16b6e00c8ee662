//! The mapping: which legacy table goes where, with which renames and conversions.
//!
//! A bucket moves one legacy table into one consolidated table. Columns of the same name are
//! copied; `renames` give the documented exceptions (seed task 1.3, original-tables.md); a source
//! column neither copied nor consumed by a rename is a *dropped value* and is archived whenever it
//! is not NULL. The columns come from the catalog at run time, so a legacy table may lack some.
//! `migrate` and `verify` both derive their SQL from the resolved bucket, which is what makes the
//! check "equal content under the documented mapping".

use sqlx::PgConnection;

use crate::{ConsolidationError, LEGACY_SCHEMA};

#[derive(Clone, Copy)]
pub(crate) struct Rename {
    target: &'static str,
    /// SQL over the legacy row `s`, already of the target column's type (or text for an enum).
    expr: &'static str,
    consumes: &'static [&'static str],
}

const fn rename(target: &'static str, expr: &'static str, consumes: &'static [&'static str]) -> Rename {
    Rename { target, expr, consumes }
}

pub(crate) struct Bucket {
    pub source: &'static str,
    /// None: a deprecated table, archived whole.
    pub target: Option<&'static str>,
    renames: &'static [Rename],
    /// Columns written after every bucket has landed: assets.raw_import_record_id and
    /// raw_import_records.asset_id reference each other.
    deferred: &'static [&'static str],
    /// SQL giving a JSON object of what a lossy rename loses for this row, NULL when nothing.
    preserved: Option<&'static str>,
}

const fn same(table: &'static str) -> Bucket {
    Bucket { source: table, target: Some(table), renames: &[], deferred: &[], preserved: None }
}

const fn into(source: &'static str, target: &'static str, renames: &'static [Rename]) -> Bucket {
    Bucket { source, target: Some(target), renames, deferred: &[], preserved: None }
}

const fn deprecated(table: &'static str) -> Bucket {
    Bucket { source: table, target: None, renames: &[], deferred: &[], preserved: None }
}

const IMPORT_FILE: [Rename; 3] = [
    rename("filename", "s.source_filename", &["source_filename"]),
    rename("file_size", "s.file_size_bytes", &["file_size_bytes"]),
    rename("mime_type", "s.file_type", &["file_type"]),
];

/// In insertion order: a table comes after every table its foreign keys reference.
pub(crate) const BUCKETS: &[Bucket] = &[
    same("client_accounts"),
    same("users"),
    same("user_profiles"),
    into("enhanced_user_profiles", "user_profiles", &[]),
    same("role_permissions"),
    same("llm_model_pricing"),
    same("sixr_questions"),
    same("engagements"),
    same("user_account_associations"),
    same("client_access"),
    same("engagement_access"),
    same("user_roles"),
    same("role_change_approvals"),
    same("crewai_flow_state_extensions"),
    into("data_imports", "data_imports", &IMPORT_FILE),
    into(
        "data_import_sessions",
        "data_imports",
        &[
            IMPORT_FILE[0],
            IMPORT_FILE[1],
            IMPORT_FILE[2],
            rename("import_name", "s.session_name", &["session_name"]),
            rename("import_type", "s.session_type", &["session_type"]),
            rename("imported_by", "s.created_by", &["created_by"]),
        ],
    ),
    into(
        "v3_data_imports",
        "data_imports",
        &[IMPORT_FILE[0], IMPORT_FILE[1], IMPORT_FILE[2], rename("imported_by", "s.user_id", &["user_id"])],
    ),
    into(
        "discovery_flows",
        "discovery_flows",
        &[
            rename("field_mapping_completed", "s.attribute_mapping_completed", &["attribute_mapping_completed"]),
            rename("asset_inventory_completed", "s.inventory_completed", &["inventory_completed"]),
            rename("dependency_analysis_completed", "s.dependencies_completed", &["dependencies_completed"]),
            rename("tech_debt_assessment_completed", "s.tech_debt_completed", &["tech_debt_completed"]),
            // The JSON state the old flags imply: what is done, and the first phase that is not.
            rename(
                "phases_completed",
                "array_remove(ARRAY[
                    CASE WHEN s.data_import_completed THEN 'data_import' END,
                    CASE WHEN s.attribute_mapping_completed THEN 'field_mapping' END,
                    CASE WHEN s.data_cleansing_completed THEN 'data_cleansing' END,
                    CASE WHEN s.inventory_completed THEN 'asset_inventory' END,
                    CASE WHEN s.dependencies_completed THEN 'dependency_analysis' END,
                    CASE WHEN s.tech_debt_completed THEN 'tech_debt_assessment' END
                 ], NULL)::migration.discovery_phase[]",
                &[],
            ),
            rename(
                "current_phase",
                "CASE WHEN NOT s.data_import_completed THEN 'data_import'
                      WHEN NOT s.attribute_mapping_completed THEN 'field_mapping'
                      WHEN NOT s.data_cleansing_completed THEN 'data_cleansing'
                      WHEN NOT s.inventory_completed THEN 'asset_inventory'
                      WHEN NOT s.dependencies_completed THEN 'dependency_analysis'
                      WHEN NOT s.tech_debt_completed THEN 'tech_debt_assessment'
                 END::migration.discovery_phase",
                &[],
            ),
        ],
    ),
    into(
        "v3_discovery_flows",
        "discovery_flows",
        &[
            rename(
                "phases_completed",
                "ARRAY(SELECT jsonb_array_elements_text(s.phases_completed))::migration.discovery_phase[]",
                &["phases_completed"],
            ),
            // The per-phase flags kept for compatibility, from the JSON state.
            rename("data_import_completed", "s.phases_completed ? 'data_import'", &[]),
            rename("field_mapping_completed", "s.phases_completed ? 'field_mapping'", &[]),
            rename("data_cleansing_completed", "s.phases_completed ? 'data_cleansing'", &[]),
            rename("asset_inventory_completed", "s.phases_completed ? 'asset_inventory'", &[]),
            rename("dependency_analysis_completed", "s.phases_completed ? 'dependency_analysis'", &[]),
            rename("tech_debt_assessment_completed", "s.phases_completed ? 'tech_debt_assessment'", &[]),
        ],
    ),
    same("custom_target_fields"),
    same("migration_waves"),
    Bucket {
        source: "assets",
        target: Some("assets"),
        // MB to GB: a division by a power of two is exact in double precision.
        renames: &[
            rename("memory_gb", "s.memory_mb::double precision / 1024", &["memory_mb"]),
            rename("storage_gb", "s.storage_mb::double precision / 1024", &["storage_mb"]),
        ],
        deferred: &["raw_import_record_id"],
        preserved: None,
    },
    same("raw_import_records"),
    same("v3_raw_import_records").with_target("raw_import_records"),
    same("import_field_mappings"),
    Bucket {
        source: "v3_field_mappings",
        target: Some("import_field_mappings"),
        renames: &[
            rename("match_type", "s.mapping_type", &["mapping_type"]),
            // Approved and rejected at once is no decision: back to review, flags archived.
            rename(
                "status",
                "CASE WHEN s.is_approved AND s.is_rejected THEN 'suggested'
                      WHEN s.is_approved THEN 'approved' WHEN s.is_rejected THEN 'rejected'
                      ELSE 'suggested' END",
                &["is_approved", "is_rejected"],
            ),
            rename("suggested_by", "s.ai_model_version", &["ai_model_version"]),
            rename("transformation_rules", "s.transformation_logic", &["transformation_logic"]),
        ],
        deferred: &[],
        preserved: Some(
            "CASE WHEN s.is_approved AND s.is_rejected THEN '{\"is_approved\": true, \"is_rejected\": true}'::jsonb END",
        ),
    },
    same("asset_dependencies"),
    same("asset_embeddings"),
    same("tags"),
    same("asset_tags"),
    same("wave_plans"),
    same("assessments"),
    same("sixr_parameters"),
    same("sixr_analyses"),
    same("sixr_iterations"),
    same("sixr_analysis_parameters"),
    same("sixr_question_responses"),
    same("sixr_recommendations"),
    same("cmdb_sixr_analyses"),
    same("migrations"),
    same("migration_logs"),
    same("feedback"),
    same("feedback_summaries"),
    same("llm_usage_logs"),
    same("llm_usage_summary"),
    same("access_audit_log"),
    into("enhanced_access_audit_log", "access_audit_log", &[]),
    same("security_audit_logs"),
    same("flow_deletion_audit"),
    same("soft_deleted_items"),
    deprecated("workflow_states"),
    deprecated("discovery_assets"),
    deprecated("mapping_learning_patterns"),
    deprecated("data_quality_issues"),
    deprecated("workflow_progress"),
    deprecated("import_processing_steps"),
];

impl Bucket {
    const fn with_target(self, target: &'static str) -> Self {
        Self { target: Some(target), ..self }
    }
}

/// One mapped column: the target column and the legacy expression that fills it.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub name: String,
    /// The value as verify compares it (JSON of the source expression).
    pub source: String,
    /// The value as migrate inserts it (cast to the target's enum type where needed).
    pub insert: String,
    pub deferred: bool,
    /// The target column's type, as `format_type` spells it.
    pub type_name: String,
    /// The target column's type has an equality operator (every type of the consolidated schema
    /// does); other values are compared by their text.
    pub comparable: bool,
    /// The legacy column's type when it is a plain column of another type than the target's (and
    /// the target is no enum): the conversion must give back the exact value, and verify compares
    /// the target value cast back to this type, as text.
    pub source_type: Option<String>,
    /// An `ON DELETE SET NULL` / `SET DEFAULT` may write it when the is_mock policy archives the
    /// row it references; the old value is then archived as a `side_effect`.
    pub set_by_key: bool,
}

/// A bucket resolved against the catalog of the database at hand.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub source: &'static str,
    pub target: Option<&'static str>,
    pub columns: Vec<Column>,
    /// The target's primary key columns, with their legacy expressions.
    pub target_key: Vec<(String, String)>,
    pub source_key: Vec<String>,
    pub dropped: Vec<String>,
    pub preserved: Option<&'static str>,
    pub has_mock_flag: bool,
}

/// The buckets whose legacy table exists, resolved.
pub(crate) async fn resolve_all(conn: &mut PgConnection) -> Result<Vec<Resolved>, ConsolidationError> {
    let mut resolved = Vec::new();
    for bucket in BUCKETS {
        if let Some(r) = resolve(conn, bucket).await? {
            resolved.push(r);
        }
    }
    Ok(resolved)
}

async fn resolve(conn: &mut PgConnection, bucket: &Bucket) -> Result<Option<Resolved>, ConsolidationError> {
    let source_types: Vec<(String, String)> = sqlx::query_as(
        "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
         WHERE a.attrelid = to_regclass(format('%I.%I', $1::text, $2::text)) AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY a.attnum",
    )
    .bind(LEGACY_SCHEMA)
    .bind(bucket.source)
    .fetch_all(&mut *conn)
    .await?;
    if source_types.is_empty() {
        return Ok(None);
    }
    let source_columns: Vec<String> = source_types.iter().map(|(name, _)| name.clone()).collect();
    let source_key = primary_key(conn, LEGACY_SCHEMA, bucket.source).await?;
    if source_key.is_empty() {
        return Err(unsupported(bucket.source, "it has no primary key".into()));
    }
    let has_mock_flag = source_columns.iter().any(|c| c == "is_mock");
    let Some(target) = bucket.target else {
        return Ok(Some(Resolved {
            source: bucket.source,
            target: None,
            columns: Vec::new(),
            target_key: Vec::new(),
            source_key,
            dropped: Vec::new(),
            preserved: None,
            has_mock_flag,
        }));
    };
    let target_columns: Vec<(String, String, bool, bool, bool)> = sqlx::query_as(
        "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod),
                t.typtype = 'e' OR coalesce(e.typtype = 'e', false),
                t.typtype = 'e' OR coalesce(e.typtype = 'e', false) OR EXISTS (
                    SELECT 1 FROM pg_opclass o JOIN pg_am m ON m.oid = o.opcmethod
                    WHERE m.amname = 'btree' AND o.opcdefault
                      AND (o.opcintype = a.atttypid OR (t.typcategory = 'A' AND o.opcintype = t.typelem)
                           OR EXISTS (SELECT 1 FROM pg_cast c WHERE c.castmethod = 'b' AND c.casttarget = o.opcintype
                                        AND c.castsource = CASE WHEN t.typcategory = 'A' THEN t.typelem
                                                                ELSE a.atttypid END))),
                EXISTS (SELECT 1 FROM pg_constraint k
                        WHERE k.conrelid = a.attrelid AND k.contype = 'f' AND k.confdeltype IN ('n', 'd')
                          AND a.attnum = ANY (coalesce(k.confdelsetcols, k.conkey)))
         FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_type e ON e.oid = t.typelem
         WHERE a.attrelid = to_regclass(format('migration.%I', $1::text)) AND a.attnum > 0 AND NOT a.attisdropped
           AND a.attgenerated = ''
         ORDER BY a.attnum",
    )
    .bind(target)
    .fetch_all(&mut *conn)
    .await?;
    let mut consumed: Vec<&str> = Vec::new();
    let mut columns = Vec::new();
    for (name, type_name, is_enum, comparable, set_by_key) in target_columns {
        let source = if let Some(r) = bucket.renames.iter().find(|r| r.target == name) {
            consumed.extend(r.consumes);
            r.expr.to_owned()
        } else if let Some(c) = source_columns.iter().find(|c| **c == name) {
            consumed.push(c);
            format!("s.{}", quote(c))
        } else {
            continue; // the target's default
        };
        let deferred = bucket.deferred.contains(&name.as_str());
        // A legacy column of another type than its target's (schema drift): converted by an
        // explicit cast, which must then be exact (checked while planning, compared as text).
        let source_type = source
            .strip_prefix("s.")
            .and_then(|column| source_types.iter().find(|(c, _)| quote(c) == column || c == column))
            .map(|(_, t)| t.clone())
            .filter(|t| !is_enum && *t != type_name);
        let insert = if is_enum || source_type.is_some() { format!("({source})::{type_name}") } else { source.clone() };
        columns.push(Column { name, source, insert, deferred, comparable, type_name, source_type, set_by_key });
    }
    let mut target_key = Vec::new();
    for key in primary_key(conn, "migration", target).await? {
        let Some(column) = columns.iter().find(|c| c.name == key) else {
            return Err(unsupported(bucket.source, format!("nothing fills {target}.{key}, part of its key")));
        };
        target_key.push((key, column.source.clone()));
    }
    let dropped =
        source_columns.iter().filter(|c| *c != "is_mock" && !consumed.contains(&c.as_str())).cloned().collect();
    Ok(Some(Resolved {
        source: bucket.source,
        target: Some(target),
        columns,
        target_key,
        source_key,
        dropped,
        preserved: bucket.preserved,
        has_mock_flag,
    }))
}

pub(crate) async fn primary_key(
    conn: &mut PgConnection,
    schema: &str,
    table: &str,
) -> Result<Vec<String>, sqlx::Error> {
    Ok(primary_key_types(conn, schema, table).await?.into_iter().map(|(column, _)| column).collect())
}

/// The primary key columns of a table with their types, in key order.
pub(crate) async fn primary_key_types(
    conn: &mut PgConnection,
    schema: &str,
    table: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_index i
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
         WHERE i.indrelid = to_regclass(format('%I.%I', $1::text, $2::text)) AND i.indisprimary
         ORDER BY array_position(i.indkey::int2[], a.attnum)",
    )
    .bind(schema)
    .bind(table)
    .fetch_all(conn)
    .await
}

fn unsupported(table: &str, reason: String) -> ConsolidationError {
    ConsolidationError::UnsupportedLegacyTable { table: table.to_owned(), reason }
}

pub(crate) fn quote(identifier: &str) -> String {
    modernize::db::quote_identifier(identifier)
}

/// md5 of a JSON object of `(name, value)` pairs: how a legacy row is compared with a row the
/// archive holds as JSON.
/// jsonb_build_object takes at most 100 arguments, so wide rows are built in chunks.
pub(crate) fn row_hash<'a>(pairs: impl Iterator<Item = (&'a str, String)>) -> String {
    let pairs: Vec<String> = pairs.map(|(name, value)| format!("'{name}', {value}")).collect();
    let objects: Vec<String> =
        pairs.chunks(40).map(|chunk| format!("jsonb_build_object({})", chunk.join(", "))).collect();
    format!("md5(({})::text)", objects.join(" || "))
}

impl Resolved {
    pub fn source_table(&self) -> String {
        format!("{LEGACY_SCHEMA}.{}", quote(self.source))
    }

    pub fn target_table(&self) -> Option<String> {
        self.target.map(|t| format!("migration.{}", quote(t)))
    }

    /// The legacy row's own key, as stored in the archive.
    pub fn source_key_json(&self) -> String {
        let pairs: Vec<String> = self.source_key.iter().map(|k| format!("'{k}', s.{}", quote(k))).collect();
        format!("jsonb_build_object({})", pairs.join(", "))
    }

    /// The key the row has (or would have) in the target, as stored in the archive.
    pub fn target_key_json(&self) -> String {
        let pairs: Vec<String> = self.target_key.iter().map(|(k, e)| format!("'{k}', {e}")).collect();
        format!("jsonb_build_object({})", pairs.join(", "))
    }

    /// `t` is the target row of the legacy row `s`.
    pub fn key_join(&self, alias: &str) -> String {
        let conditions: Vec<String> =
            self.target_key.iter().map(|(k, e)| format!("{alias}.{} = ({e})", quote(k))).collect();
        conditions.join(" AND ")
    }

    pub fn source_hash(&self) -> String {
        row_hash(self.columns.iter().map(|c| (c.name.as_str(), c.source.clone())))
    }

    /// The target row `alias` holds what the legacy row `s` maps to: every mapped column equal,
    /// NULL matching NULL, compared in the target column's type (exact, unlike a hash, and no
    /// serialisation of the rows).
    /// A column a foreign-key action changed also matches when its legacy value is archived as that
    /// change (`side_effect`).
    pub fn matches(&self, alias: &str) -> String {
        let conditions: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                let equal = Self::all_equal(std::iter::once(c), alias);
                if !c.set_by_key {
                    return equal;
                }
                format!(
                    "({equal} OR EXISTS (SELECT 1 FROM modernize.consolidation_archive a
                                         WHERE a.reason = 'side_effect' AND a.target_table = '{target}'
                                           AND a.row_key = {key} AND a.row_data -> '{name}' = to_jsonb({value})))",
                    target = self.target.unwrap_or_default(),
                    key = self.target_key_json(),
                    name = c.name,
                    value = c.insert,
                )
            })
            .collect();
        if conditions.is_empty() { "true".to_owned() } else { conditions.join(" AND ") }
    }

    /// Like `matches`, without the deferred columns (not written yet while rows move).
    pub fn live_matches(&self, alias: &str) -> String {
        Self::all_equal(self.columns.iter().filter(|c| !c.deferred), alias)
    }

    fn all_equal<'a>(columns: impl Iterator<Item = &'a Column>, alias: &str) -> String {
        let conditions: Vec<String> = columns
            .map(|c| {
                let target = format!("{alias}.{}", quote(&c.name));
                if let Some(source_type) = &c.source_type {
                    // In the legacy type, as text: a lossy conversion cannot hide by comparing lossily too.
                    format!("({target})::{source_type}::text IS NOT DISTINCT FROM ({})::text", c.source)
                } else if c.comparable {
                    format!("{target} IS NOT DISTINCT FROM ({})", c.insert)
                } else {
                    format!("{target}::text IS NOT DISTINCT FROM ({})::text", c.insert)
                }
            })
            .collect();
        if conditions.is_empty() { "true".to_owned() } else { conditions.join(" AND ") }
    }

    /// A JSON array of the columns on which the target row `alias` differs from the legacy row `s`:
    /// `[{"column", "legacy", "target"}]`, values as the text of their exact values.
    pub fn differing_columns(&self, alias: &str) -> String {
        let items: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                let target = format!("{alias}.{}", quote(&c.name));
                format!(
                    "CASE WHEN NOT ({equal}) THEN jsonb_build_object('column', '{name}', 'legacy', ({source})::text,
                                                                   'target', {target}::text) END",
                    equal = Self::all_equal(std::iter::once(c), alias),
                    name = c.name,
                    source = c.source,
                )
            })
            .collect();
        format!("to_jsonb(array_remove(ARRAY[{}]::jsonb[], NULL))", items.join(", "))
    }

    /// The hash of a target row archived as JSON (`to_jsonb(t)`).
    pub fn archived_hash(&self, json: &str) -> String {
        row_hash(self.columns.iter().map(|c| (c.name.as_str(), format!("{json} -> '{}'", c.name))))
    }

    /// What this row loses in the mapping (dropped columns, lossy renames), NULL when nothing.
    pub fn dropped_values(&self) -> Option<String> {
        let dropped = (!self.dropped.is_empty()).then(|| {
            let columns: Vec<String> = self.dropped.iter().map(|c| format!("s.{}", quote(c))).collect();
            let pairs: Vec<String> = self.dropped.iter().map(|c| format!("'{c}', s.{}", quote(c))).collect();
            format!(
                "CASE WHEN num_nonnulls({}) > 0 THEN jsonb_build_object({}) END",
                columns.join(", "),
                pairs.join(", ")
            )
        });
        match (dropped, self.preserved) {
            (None, None) => None,
            (Some(d), None) => Some(d),
            (None, Some(p)) => Some(p.to_owned()),
            (Some(d), Some(p)) => Some(format!("nullif(coalesce({d}, '{{}}') || coalesce({p}, '{{}}'), '{{}}')")),
        }
    }

    pub fn insert_columns(&self) -> (String, String) {
        let live: Vec<&Column> = self.columns.iter().filter(|c| !c.deferred).collect();
        let names: Vec<String> = live.iter().map(|c| quote(&c.name)).collect();
        let values: Vec<&str> = live.iter().map(|c| c.insert.as_str()).collect();
        (names.join(", "), values.join(", "))
    }
}
