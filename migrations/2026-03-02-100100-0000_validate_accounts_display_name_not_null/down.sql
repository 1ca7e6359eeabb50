-- A validated constraint cannot be marked NOT VALID again: recreate it unvalidated.
ALTER TABLE accounts DROP CONSTRAINT accounts_display_name_not_null;
ALTER TABLE accounts
    ADD CONSTRAINT accounts_display_name_not_null CHECK (display_name IS NOT NULL) NOT VALID;
