-- Expand (release 2, pre-deploy): the new column is nullable, so the release that is live
-- keeps inserting accounts without it. ADD COLUMN without a default is catalog-only, but it
-- still needs ACCESS EXCLUSIVE for an instant: plumb migrate applies it under the lock policy's
-- lock_timeout (plumb.toml [lock]), so it never queues clients behind a long reader.
ALTER TABLE accounts ADD COLUMN display_name TEXT;
