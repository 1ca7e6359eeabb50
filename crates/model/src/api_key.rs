//! API keys: the table related to `accounts` by a foreign key. Only a hash of each token is
//! stored; `token_hash` is the kind of column that must never reach a response.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;

use crate::account::Account;
use crate::clamp_page_size;
use crate::schema::api_keys;

/// One row of `api_keys`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable, Associations)]
#[diesel(table_name = api_keys, belongs_to(Account), check_for_backend(Pg))]
pub struct ApiKey {
    /// The key's id, assigned by the database.
    pub id: i64,
    /// The account it signs in as.
    pub account_id: i64,
    /// What it is for, to tell keys apart.
    pub label: String,
    /// The SHA-256 of its token, hex: the token itself is never stored.
    pub token_hash: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was revoked; `None` while it is active.
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = api_keys, check_for_backend(Pg))]
/// What a new key needs; the id and timestamps come from the database.
pub struct NewApiKey<'a> {
    /// The account it signs in as.
    pub account_id: i64,
    /// What it is for.
    pub label: &'a str,
    /// The SHA-256 of its token, hex.
    pub token_hash: &'a str,
}

impl ApiKey {
    /// Inserts a key.
    pub fn create(conn: &mut PgConnection, new: &NewApiKey<'_>) -> QueryResult<ApiKey> {
        diesel::insert_into(api_keys::table)
            .values(new)
            .returning(ApiKey::as_returning())
            .get_result(conn)
    }

    /// One keyset page of an account's keys, revoked ones included, in id order.
    pub fn list_for_account(
        conn: &mut PgConnection,
        account_id: i64,
        after: Option<i64>,
        limit: i64,
    ) -> QueryResult<Vec<ApiKey>> {
        api_keys::table
            .filter(api_keys::account_id.eq(account_id))
            .filter(api_keys::id.gt(after.unwrap_or(i64::MIN)))
            .order(api_keys::id.asc())
            .limit(clamp_page_size(limit))
            .select(ApiKey::as_select())
            .load(conn)
    }

    /// The key a token authenticates, unless it was revoked.
    pub fn find_active_by_token_hash(
        conn: &mut PgConnection,
        token_hash: &str,
    ) -> QueryResult<Option<ApiKey>> {
        api_keys::table
            .filter(api_keys::token_hash.eq(token_hash))
            .filter(api_keys::revoked_at.is_null())
            .select(ApiKey::as_select())
            .first(conn)
            .optional()
    }

    /// Revokes one of an account's keys. Revoking twice keeps the first time; `None` when the
    /// account has no key with that id.
    pub fn revoke(
        conn: &mut PgConnection,
        account_id: i64,
        key_id: i64,
    ) -> QueryResult<Option<ApiKey>> {
        let key = api_keys::table
            .filter(api_keys::id.eq(key_id))
            .filter(api_keys::account_id.eq(account_id));
        let revoked = diesel::update(key.filter(api_keys::revoked_at.is_null()))
            .set(api_keys::revoked_at.eq(diesel::dsl::now))
            .returning(ApiKey::as_returning())
            .get_result(conn)
            .optional()?;
        match revoked {
            Some(key) => Ok(Some(key)),
            None => key.select(ApiKey::as_select()).first(conn).optional(),
        }
    }
}
