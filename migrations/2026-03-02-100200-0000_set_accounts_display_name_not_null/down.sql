ALTER TABLE accounts
    ADD CONSTRAINT accounts_display_name_not_null CHECK (display_name IS NOT NULL);
ALTER TABLE accounts ALTER COLUMN display_name DROP NOT NULL;
