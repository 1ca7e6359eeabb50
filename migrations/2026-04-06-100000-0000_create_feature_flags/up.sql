-- Feature flags live in the database, so every instance of the service sees one switch.
-- A flag gates the code path that reads and writes a new column (see the service's README).
CREATE TABLE feature_flags (
    name       TEXT        PRIMARY KEY,
    enabled    BOOLEAN     NOT NULL DEFAULT false,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- By this point of the history accounts.display_name exists and is NOT NULL, so the code that
-- writes it must be on: code that omitted it could no longer insert an account.
INSERT INTO feature_flags (name, enabled) VALUES ('accounts.display_name', true);
