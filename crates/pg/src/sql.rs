//! Quoting for the SQL plumb builds from names (tables, columns, databases) it did not write.

/// `name` as a PostgreSQL identifier: `"my ""table"""`.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `text` as a PostgreSQL string literal (standard_conforming_strings, on by default).
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Drops database `name` if it exists, ending its sessions first: `WITH (FORCE)` from
/// PostgreSQL 13 on; before, new sessions are refused, its sessions terminated, and `DROP
/// DATABASE` waits a few seconds for them to go.
pub fn drop_database(conn: &mut diesel::PgConnection, name: &str) -> diesel::QueryResult<()> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Version {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        version: i32,
    }
    let version = diesel::sql_query("SELECT current_setting('server_version_num')::int AS version")
        .get_result::<Version>(conn)?
        .version;
    let drop_sql = format!("DROP DATABASE IF EXISTS {}", quote_ident(name));
    if version >= 130_000 {
        return diesel::sql_query(format!("{drop_sql} WITH (FORCE)"))
            .execute(conn)
            .map(drop);
    }
    // As FORCE does: no new session first (a client that reconnects would make the drop
    // fail), then the others ended. A role that may do neither still tries the drop.
    let _ = diesel::sql_query(format!(
        "ALTER DATABASE {} ALLOW_CONNECTIONS false",
        quote_ident(name)
    ))
    .execute(conn);
    let _ = diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind::<diesel::sql_types::Text, _>(name)
    .execute(conn);
    diesel::sql_query(drop_sql).execute(conn).map(drop)
}
