-- Enforce, step 3: the validated check proves the column has no NULL, so SET NOT NULL skips
-- its full scan (PostgreSQL 12+). The helper check is dropped in a statement of its own:
-- dropped in the same ALTER, it would go first and bring the scan back.
ALTER TABLE accounts ALTER COLUMN display_name SET NOT NULL;
ALTER TABLE accounts DROP CONSTRAINT accounts_display_name_not_null;
