-- Expand (release 2, pre-deploy): the new column is nullable, so the release that is live
-- keeps inserting accounts without it. ADD COLUMN without a default is catalog-only, but it
-- still needs ACCESS EXCLUSIVE for an instant: never queue behind a long reader.
SET lock_timeout = '2s';

ALTER TABLE accounts ADD COLUMN display_name TEXT;
