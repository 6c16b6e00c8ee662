//! The `report` phase: what happened, per table and per phase, in text or JSON; also stored in
//! `modernize.consolidation_runs`.

use std::fmt::{self, Write as _};
use std::time::Instant;

use serde::Serialize;
use sqlx::PgConnection;

use crate::State;
use crate::analyze::Analysis;
use crate::backup::BackupSummary;
use crate::migrate::MigrationSummary;
use crate::verify::Verification;

#[derive(Debug, Clone, Serialize)]
pub struct PhaseTiming {
    pub phase: &'static str,
    pub ms: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The state the run found the database in.
    pub initial_state: State,
    pub dry_run: bool,
    pub analysis: Option<Analysis>,
    pub backup: Option<BackupSummary>,
    pub migration: Option<MigrationSummary>,
    /// Legacy rows `--quarantine` moved to the archive, by table and rule.
    pub quarantined: Vec<crate::quarantine::Quarantined>,
    pub verification: Option<Verification>,
    /// Tables and sequences the drop phase removed.
    pub dropped: Vec<String>,
    /// Migrations applied after the consolidation (indexes, row-level security).
    pub upgraded: Vec<i64>,
    /// Tables the upgrade rewrote (a backfill of every row) and that were then compacted.
    pub compacted: Vec<String>,
    pub size_before_bytes: i64,
    pub size_after_bytes: i64,
    pub phases: Vec<PhaseTiming>,
    pub total_ms: i64,
    /// Its row in `modernize.consolidation_runs` (saved in the transaction of the drop).
    pub run_id: Option<i64>,
    /// The state the consolidation committed: what `restore` compares with to find newer data.
    pub committed: Option<Committed>,
}

/// The consolidation's transaction id and the row count of every table of schema `migration` as
/// it committed them.
#[derive(Debug, Clone, Serialize)]
pub struct Committed {
    /// The first transaction id not completed right after its COMMIT (`pg_snapshot_xmax`): rows
    /// with this `xmin` or a newer one were written after the consolidation. Recorded just after
    /// the COMMIT (None if the run was killed in between: `restore` then compares every table).
    pub xid: Option<String>,
    pub tables: Vec<(String, i64)>,
}

pub(crate) fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

impl Report {
    pub(crate) fn new(initial_state: State, dry_run: bool) -> Self {
        Self {
            initial_state,
            dry_run,
            analysis: None,
            backup: None,
            migration: None,
            quarantined: Vec::new(),
            verification: None,
            dropped: Vec::new(),
            upgraded: Vec::new(),
            compacted: Vec::new(),
            size_before_bytes: 0,
            size_after_bytes: 0,
            phases: Vec::new(),
            total_ms: 0,
            run_id: None,
            committed: None,
        }
    }

    pub(crate) fn timing(&mut self, phase: &'static str, started: Instant) {
        self.phases.push(PhaseTiming { phase, ms: elapsed_ms(started) });
    }

    /// Stores the report; returns its id in `modernize.consolidation_runs`.
    pub(crate) async fn save(&self, conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
        let json = serde_json::to_value(self).unwrap_or_default();
        sqlx::query_scalar("INSERT INTO modernize.consolidation_runs (report) VALUES ($1) RETURNING id")
            .bind(json)
            .fetch_one(conn)
            .await
    }

    /// Replaces the stored report `id` with this one (after the phases that follow the drop).
    pub(crate) async fn update(&self, conn: &mut PgConnection, id: i64) -> Result<(), sqlx::Error> {
        let json = serde_json::to_value(self).unwrap_or_default();
        sqlx::query("UPDATE modernize.consolidation_runs SET report = $2, finished_at = now() WHERE id = $1")
            .bind(id)
            .bind(json)
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Milliseconds of one phase, if it ran.
    pub fn phase_ms(&self, phase: &str) -> Option<i64> {
        self.phases.iter().find(|p| p.phase == phase).map(|p| p.ms)
    }
}

fn mib(bytes: i64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        let _ =
            writeln!(out, "== consolidation ({:?}{})", self.initial_state, if self.dry_run { ", dry run" } else { "" });
        if let Some(analysis) = &self.analysis {
            let _ = writeln!(
                out,
                "analyze: {} legacy tables, {}, {} v3 rows",
                analysis.tables.len(),
                mib(analysis.total_size_bytes),
                analysis.v3_rows
            );
            let _ = writeln!(out, "  {:<32} {:>8} {:>7} {:>11} {:>10}", "table", "kind", "columns", "size", "rows");
            for t in analysis.tables.iter().filter(|t| t.rows > 0 || t.kind != "original") {
                let _ = writeln!(
                    out,
                    "  {:<32} {:>8} {:>7} {:>11} {:>10}",
                    t.table,
                    t.kind,
                    t.columns,
                    mib(t.size_bytes),
                    t.rows
                );
            }
        }
        if let Some(backup) = &self.backup {
            let _ = writeln!(
                out,
                "backup: {} files in {}, restore verified ({} tables, {} rows)",
                backup.files.len(),
                backup.dir.display(),
                backup.tables_verified,
                backup.rows_verified
            );
        }
        if let Some(migration) = &self.migration {
            let _ = writeln!(out, "migrate:");
            let _ = writeln!(
                out,
                "  {:<28} {:<30} {:>9} {:>9} {:>8} {:>9} {:>8}",
                "legacy table", "into", "rows", "moved", "present", "conflicts", "dropped"
            );
            for b in migration.buckets.iter().filter(|b| b.source_rows > 0) {
                let into = b.target.as_deref().unwrap_or("archive (deprecated)");
                let _ = writeln!(
                    out,
                    "  {:<28} {:<30} {:>9} {:>9} {:>8} {:>9} {:>8}",
                    b.source,
                    into,
                    b.source_rows,
                    b.inserted,
                    b.already_present,
                    b.conflicts,
                    b.dropped_values_archived
                );
            }
            for m in &migration.mock {
                let _ = writeln!(
                    out,
                    "  is_mock: {} rows of {} flagged, {} depending on them: moved to the archive",
                    m.flagged, m.table, m.dependents
                );
            }
            for c in &migration.contradictions {
                let _ = writeln!(
                    out,
                    "  is_mock contradiction: {} {} is flagged in {} but not in {}: kept (a row leaves as mock only \
                     if no legacy row says otherwise)",
                    c.table, c.key, c.flagged_in, c.not_flagged_in
                );
            }
            for e in &migration.side_effects {
                let _ = writeln!(
                    out,
                    "  side effect: {} rows of {} had {} set by ON DELETE when the {} row they referenced left for \
                     the archive; the old values are archived (reason side_effect)",
                    e.rows,
                    e.table,
                    e.columns.join(", "),
                    e.referenced_table
                );
            }
            let _ = writeln!(
                out,
                "  archive: {} rows in modernize.consolidation_archive (conflicts, is_mock, dropped values, deprecated)",
                migration.archived_rows
            );
        }
        for q in &self.quarantined {
            let keys: Vec<String> = q.keys.iter().map(ToString::to_string).collect();
            let _ = writeln!(
                out,
                "quarantine: {} rows of {}{} moved to the archive: {} ({}{})",
                q.rows,
                q.legacy_table,
                q.column.as_ref().map(|c| format!(" (column {c})")).unwrap_or_default(),
                q.rule,
                keys.join(", "),
                if q.rows > q.keys.len() as i64 { ", …" } else { "" }
            );
        }
        if let Some(v) = &self.verification {
            let _ = writeln!(out, "verify: {}", if v.passed { "every legacy row accounted for" } else { "FAILED" });
            for b in &v.buckets {
                let bad = b.unaccounted + b.dropped_values_missing > 0;
                if b.source_rows == 0 && !bad {
                    continue;
                }
                let _ = writeln!(
                    out,
                    "  [{}] {:<28} {:>9} rows = {} in target + {} mock + {} conflict + {} deprecated archived{}",
                    if bad { "FAIL" } else { "ok" },
                    b.source,
                    b.source_rows,
                    b.in_target,
                    b.archived_mock,
                    b.archived_conflict,
                    b.archived_deprecated,
                    if bad {
                        format!(", {} unaccounted", b.unaccounted + b.dropped_values_missing)
                    } else {
                        String::new()
                    }
                );
                for d in &b.differences {
                    let _ = writeln!(out, "         {} {}", d.problem, d.key);
                }
            }
            for t in v.targets.iter().filter(|t| t.without_source > 0) {
                let _ = writeln!(out, "  [FAIL] {}: {} rows without a legacy source", t.table, t.without_source);
            }
        }
        if !self.dropped.is_empty() {
            let _ = writeln!(out, "drop: {} legacy tables and sequences removed", self.dropped.len());
            for d in self.migration.iter().flat_map(|m| &m.dependent_objects) {
                let _ = writeln!(out, "  also dropped, as told: {} (depended on {})", d.object, d.depends_on);
            }
        }
        if !self.upgraded.is_empty() {
            let _ = writeln!(out, "upgrade: applied migrations {:?}", self.upgraded);
        }
        if !self.compacted.is_empty() {
            let _ = writeln!(out, "  rewritten by a backfill, then compacted: {}", self.compacted.join(", "));
        }
        if self.initial_state == crate::State::Consolidated {
            let _ = writeln!(out, "already consolidated: nothing to do");
        }
        let _ = writeln!(out, "size: {} before, {} after", mib(self.size_before_bytes), mib(self.size_after_bytes));
        let phases: Vec<String> = self.phases.iter().map(|p| format!("{} {} ms", p.phase, p.ms)).collect();
        let _ = writeln!(out, "phases: {} (total {} ms)", phases.join(", "), self.total_ms);
        f.write_str(&out)
    }
}
