//! A textual snapshot of everything the catalog says about one schema, so that two databases (or
//! one database before and after a round trip of migrations) can be compared line by line.

use sqlx::PgConnection;

/// One sorted line per object: tables, columns (with position, type, nullability, default and
/// comment), constraints, indexes, enum types, sequences, functions, triggers and RLS policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    pub lines: Vec<String>,
}

const QUERIES: [&str; 9] = [
    // Tables, their comment and row-level-security flags.
    "SELECT format('table %s rls=%s force=%s comment=%L', c.relname, c.relrowsecurity,
                   c.relforcerowsecurity, obj_description(c.oid, 'pg_class'))
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm')",
    // Columns in their visible order (dropped columns do not count).
    "SELECT format('column %s.%s #%s %s notnull=%s default=%L generated=%L comment=%L', c.relname, a.attname,
                   row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum),
                   format_type(a.atttypid, a.atttypmod), a.attnotnull,
                   pg_get_expr(d.adbin, d.adrelid), a.attgenerated, col_description(c.oid, a.attnum))
     FROM pg_attribute a
     JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped",
    "SELECT format('constraint %s.%s %s', c.relname, k.conname, pg_get_constraintdef(k.oid))
     FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1",
    "SELECT format('index %s valid=%s', pg_get_indexdef(i.indexrelid), i.indisvalid)
     FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1",
    "SELECT format('enum %s (%s) comment=%L', t.typname,
                   string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder),
                   obj_description(t.oid, 'pg_type'))
     FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
     WHERE n.nspname = $1 GROUP BY t.oid, t.typname",
    "SELECT format('sequence %s', c.relname)
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind = 'S'",
    "SELECT format('function %s', pg_get_functiondef(p.oid))
     FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = $1 AND p.prokind IN ('f', 'p')",
    "SELECT format('trigger %s', pg_get_triggerdef(t.oid))
     FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND NOT t.tgisinternal",
    "SELECT format('policy %s.%s cmd=%s permissive=%s roles=%s using=%L check=%L', tablename, policyname,
                   cmd, permissive, roles, qual, with_check)
     FROM pg_policies WHERE schemaname = $1",
];

impl Catalog {
    pub async fn snapshot(conn: &mut PgConnection, schema: &str) -> Result<Self, sqlx::Error> {
        let mut lines = Vec::new();
        for query in QUERIES {
            let rows: Vec<String> = sqlx::query_scalar(query).bind(schema).fetch_all(&mut *conn).await?;
            lines.extend(rows);
        }
        lines.sort();
        Ok(Self { lines })
    }

    /// Lines present in only one of the two snapshots, prefixed with `-` (self) or `+` (other).
    pub fn diff(&self, other: &Self) -> Vec<String> {
        let only_here = self.lines.iter().filter(|l| !other.lines.contains(l)).map(|l| format!("- {l}"));
        let only_there = other.lines.iter().filter(|l| !self.lines.contains(l)).map(|l| format!("+ {l}"));
        only_here.chain(only_there).collect()
    }
}
