//! Accounts: the table whose `display_name` column the migration history adds, backfills,
//! enforces and indexes.

use std::fmt;
use std::io::Write;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::prelude::*;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;

use crate::clamp_page_size;
use crate::schema::accounts;

/// The lifecycle state of an account, stored as text and guarded by
/// `accounts_status_check` in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum AccountStatus {
    Active,
    Suspended,
    Closed,
}

impl AccountStatus {
    pub const ALL: [AccountStatus; 3] = [Self::Active, Self::Suspended, Self::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Closed => "closed",
        }
    }
}

impl fmt::Display for AccountStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not one of the statuses the database allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown account status {0:?} (expected active, suspended or closed)")]
pub struct UnknownStatus(pub String);

impl FromStr for AccountStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

impl ToSql<Text, Pg> for AccountStatus {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        out.write_all(self.as_str().as_bytes())?;
        Ok(IsNull::No)
    }
}

impl FromSql<Text, Pg> for AccountStatus {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
        Ok(text.parse()?)
    }
}

/// One row of `accounts`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = accounts, check_for_backend(Pg))]
pub struct Account {
    pub id: i64,
    pub email: String,
    pub status: AccountStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub display_name: String,
}

/// What a new account needs; the id and timestamps come from the database.
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = accounts, check_for_backend(Pg))]
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub status: AccountStatus,
    pub display_name: &'a str,
}

/// A partial update: `None` leaves a column as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, AsChangeset)]
#[diesel(table_name = accounts, check_for_backend(Pg))]
pub struct AccountChanges<'a> {
    pub email: Option<&'a str>,
    pub status: Option<AccountStatus>,
    pub display_name: Option<&'a str>,
}

impl Account {
    pub fn create(conn: &mut PgConnection, new: &NewAccount<'_>) -> QueryResult<Account> {
        diesel::insert_into(accounts::table)
            .values(new)
            .returning(Account::as_returning())
            .get_result(conn)
    }

    pub fn find(conn: &mut PgConnection, id: i64) -> QueryResult<Option<Account>> {
        accounts::table
            .find(id)
            .select(Account::as_select())
            .first(conn)
            .optional()
    }

    pub fn find_by_email(conn: &mut PgConnection, email: &str) -> QueryResult<Option<Account>> {
        accounts::table
            .filter(accounts::email.eq(email))
            .select(Account::as_select())
            .first(conn)
            .optional()
    }

    /// One keyset page in id order: the accounts after `after` (from the start when `None`),
    /// at most `limit` of them (clamped to `1..=MAX_PAGE_SIZE`).
    pub fn list(
        conn: &mut PgConnection,
        after: Option<i64>,
        limit: i64,
    ) -> QueryResult<Vec<Account>> {
        accounts::table
            .filter(accounts::id.gt(after.unwrap_or(i64::MIN)))
            .order(accounts::id.asc())
            .limit(clamp_page_size(limit))
            .select(Account::as_select())
            .load(conn)
    }

    /// Applies `changes` and stamps `updated_at`; `None` when no account has that id.
    pub fn update(
        conn: &mut PgConnection,
        id: i64,
        changes: &AccountChanges<'_>,
    ) -> QueryResult<Option<Account>> {
        // `updated_at` always changes, so the changeset is never empty.
        diesel::update(accounts::table.find(id))
            .set((changes, accounts::updated_at.eq(diesel::dsl::now)))
            .returning(Account::as_returning())
            .get_result(conn)
            .optional()
    }
}
