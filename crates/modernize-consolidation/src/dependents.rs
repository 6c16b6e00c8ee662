//! Objects outside the legacy tables that depend on them (views and materialized views reading
//! them, and views on those; foreign keys, columns and defaults of other tables; triggers and
//! functions using their types or sequences): dropping the legacy schema would take them away too.
//! The plan lists them; `consolidate` refuses unless told to drop them, and then reports each.

use serde::Serialize;
use sqlx::PgConnection;

/// One object the drop would take away with the legacy tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct DependentObject {
    /// As PostgreSQL describes it: `view public.weekly_import_report`.
    pub object: String,
    /// The legacy object it depends on: `table migration.data_imports`.
    pub depends_on: String,
}

/// The dependents of the tables, sequences, types and functions of `schema` (the legacy schema,
/// before its rename), except what belongs to the legacy tables themselves (their indexes,
/// constraints, defaults, triggers, row types). Views depending on a listed view are listed too.
pub async fn list(conn: &mut PgConnection, schema: &str) -> Result<Vec<DependentObject>, sqlx::Error> {
    sqlx::query_as(
        "WITH RECURSIVE legacy AS (
             SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'S')
         ), hit (classid, objid, objsubid, refclassid, refobjid) AS (
             SELECT d.classid, d.objid, d.objsubid, d.refclassid, d.refobjid FROM pg_depend d
             WHERE d.deptype = 'n'
               AND ((d.refclassid = 'pg_class'::regclass AND d.refobjid IN (SELECT oid FROM legacy))
                    OR (d.refclassid = 'pg_type'::regclass AND d.refobjid IN (
                            SELECT t.oid FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                            WHERE n.nspname = $1))
                    OR (d.refclassid = 'pg_proc'::regclass AND d.refobjid IN (
                            SELECT p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                            WHERE n.nspname = $1)))
             UNION
             SELECT d.classid, d.objid, d.objsubid, d.refclassid, d.refobjid
             FROM hit h JOIN pg_rewrite r ON h.classid = 'pg_rewrite'::regclass AND r.oid = h.objid
             JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = r.ev_class
             WHERE d.deptype = 'n' AND NOT (d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid)
         )
         SELECT DISTINCT
                CASE WHEN h.classid = 'pg_rewrite'::regclass THEN pg_describe_object('pg_class'::regclass, r.ev_class, 0)
                     ELSE pg_describe_object(h.classid, h.objid, h.objsubid) END AS object,
                pg_describe_object(h.refclassid, h.refobjid, 0) AS depends_on
         FROM hit h LEFT JOIN pg_rewrite r ON h.classid = 'pg_rewrite'::regclass AND r.oid = h.objid
         WHERE NOT coalesce(
             (h.classid = 'pg_rewrite'::regclass AND r.ev_class IN (SELECT oid FROM legacy))
             OR (h.classid = 'pg_constraint'::regclass
                 AND (SELECT conrelid FROM pg_constraint WHERE oid = h.objid) IN (SELECT oid FROM legacy))
             OR (h.classid = 'pg_attrdef'::regclass
                 AND (SELECT adrelid FROM pg_attrdef WHERE oid = h.objid) IN (SELECT oid FROM legacy))
             OR (h.classid = 'pg_trigger'::regclass
                 AND (SELECT tgrelid FROM pg_trigger WHERE oid = h.objid) IN (SELECT oid FROM legacy))
             OR (h.classid = 'pg_class'::regclass AND h.objid IN (
                     SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = $1 AND c.relkind NOT IN ('v', 'm')))
             OR (h.classid = 'pg_type'::regclass AND h.objid IN (
                     SELECT t.oid FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = $1)),
             false)
         ORDER BY 1, 2",
    )
    .bind(schema)
    .fetch_all(conn)
    .await
}
