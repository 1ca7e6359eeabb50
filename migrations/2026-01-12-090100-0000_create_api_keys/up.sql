-- API keys belong to an account; only a hash of the token is stored. The foreign key takes
-- SHARE ROW EXCLUSIVE on accounts, so this too runs under the runner's lock_timeout.
CREATE TABLE api_keys (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    label      TEXT        NOT NULL,
    token_hash TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at TIMESTAMPTZ,
    CONSTRAINT api_keys_token_hash_key UNIQUE (token_hash)
);

-- The table is new and empty here, so a plain CREATE INDEX locks nothing anyone waits on.
CREATE INDEX api_keys_account_id_idx ON api_keys (account_id);
