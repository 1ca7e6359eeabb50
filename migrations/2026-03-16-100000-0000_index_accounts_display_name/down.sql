-- One statement, for the same reason as up.sql.
DROP INDEX CONCURRENTLY accounts_display_name_idx;
