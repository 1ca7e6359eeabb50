-- Search by display name. CONCURRENTLY builds the index without blocking writes. It cannot
-- run in a transaction block, hence metadata.toml, and this file holds that one statement:
-- diesel sends a file as one query string, and several statements in one string run as an
-- implicit transaction. The lock timeout therefore comes from the connection (the runner
-- and the pool set it). A failed build leaves an INVALID index under this name: drop it
-- before running this again.
CREATE INDEX CONCURRENTLY accounts_display_name_idx ON accounts (display_name);
