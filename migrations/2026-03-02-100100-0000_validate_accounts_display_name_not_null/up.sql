-- Enforce, step 2: VALIDATE scans the table under SHARE UPDATE EXCLUSIVE, so reads and
-- writes go on. It runs in its own migration, a transaction apart from the NOT VALID one.
ALTER TABLE accounts VALIDATE CONSTRAINT accounts_display_name_not_null;
