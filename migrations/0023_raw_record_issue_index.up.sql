-- modernize:no-transaction
-- The records of an import that carry an issue, indexed in file order (issue 16: every list the
-- API and the UI page through uses an index).
--
-- Why: an import's issues page (`GET …/flows/{id}/issues`, repo::imports::import_issues) and the
-- flow summary's rows with warnings (discovery::summary) walked every record of the import in
-- row order to find the few that have an error or a warning: at 100,000 records with 200 of them
-- warned, a page took 90–120 ms and read 50,000 records; a page past the last issue read all the
-- rest. A record has an issue when its validation_errors (ingest) or its cleansed_data's issues
-- (the cleansing pass) is a non-empty array, which is this index's predicate; both queries repeat
-- it word for word so that the planner can prove they only need these entries (under row-level
-- security too: a partial index's predicate is proved, not evaluated before the policy).
--
-- What it costs: only records with an issue are written to it. The import's COPY evaluates the
-- predicate (validation_errors is '[]' on a valid record); the cleansing pass's update of each
-- record already writes new entries to the table's indexes (it sets asset_id, which one of them
-- holds), and adds one here only for a warned record.
--
-- Built concurrently (writes go on meanwhile); IF NOT EXISTS lets a re-run finish after an
-- interruption (the runner drops an INVALID index left by an interrupted build).

SET lock_timeout = '5s';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_raw_import_records_with_issues
    ON migration.raw_import_records (client_account_id, data_import_id, row_number)
    WHERE validation_errors <> '[]'::jsonb OR (cleansed_data -> 'issues') <> '[]'::jsonb;

RESET lock_timeout;
