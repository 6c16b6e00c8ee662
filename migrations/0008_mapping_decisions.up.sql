-- Who decided a field mapping (issue 14 item 5): a reviewer, or the confidence threshold an import
-- was given (`--accept-above`). Only reviewers' decisions teach the mapping engine; a suggestion
-- the threshold left out is stored as the threshold's decision, never as a reviewer's rejection.
--
-- Decisions made before this migration are attributed by what they show: none by a named user and
-- none changed by hand, in a flow started with a threshold, were the threshold's; the others a
-- reviewer's. (A threshold given on resume left no trace and counts as a reviewer's.)

SET LOCAL lock_timeout = '5s';

-- The new column holds only NULLs, so its CHECK holds for every row (one scan, no rewrite).
ALTER TABLE migration.import_field_mappings ADD COLUMN decided_by varchar(20)
    CONSTRAINT import_field_mappings_decided_by_check CHECK (decided_by IN ('reviewer', 'threshold'));

COMMENT ON COLUMN migration.import_field_mappings.decided_by IS
    'Who decided an approved or rejected mapping: reviewer (learned from) or threshold (the import''s accept-above confidence, never learned from); NULL while suggested.';

UPDATE migration.import_field_mappings m
SET decided_by = CASE
        WHEN m.approved_by IS NULL AND m.match_type <> 'user' AND EXISTS (
                 SELECT 1 FROM migration.crewai_flow_state_extensions f
                 WHERE f.client_account_id = m.client_account_id AND f.flow_id = m.master_flow_id
                   AND f.flow_configuration -> 'options' ->> 'accept_above' IS NOT NULL)
            THEN 'threshold'
        ELSE 'reviewer' END
WHERE m.status <> 'suggested';
