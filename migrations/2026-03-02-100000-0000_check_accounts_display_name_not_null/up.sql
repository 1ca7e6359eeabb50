-- Enforce, step 1 (release 3, after the backfill has filled every old row):
-- NOT VALID makes PostgreSQL check new writes only, so this is catalog-only.
ALTER TABLE accounts
    ADD CONSTRAINT accounts_display_name_not_null CHECK (display_name IS NOT NULL) NOT VALID;
