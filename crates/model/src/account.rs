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
use crate::gate::{GatedColumn, GatedRead, Gates};
use crate::schema::accounts;

/// The lifecycle state of an account, stored as text and guarded by
/// `accounts_status_check` in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum AccountStatus {
    /// Can sign in and use its API keys.
    Active,
    /// Kept, but may not sign in or use its keys.
    Suspended,
    /// Closed for good; kept for the record.
    Closed,
}

impl AccountStatus {
    /// Every status, in the order the API lists them.
    pub const ALL: [AccountStatus; 3] = [Self::Active, Self::Suspended, Self::Closed];

    /// The text stored in `accounts.status`.
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

/// `accounts.display_name`, named by queries only while its flag is on (see [`crate::gate`]).
pub const DISPLAY_NAME: GatedColumn = GatedColumn::new("accounts", "display_name");

/// The columns of `accounts` that every release has had.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = accounts, check_for_backend(Pg))]
pub struct AccountBase {
    /// The key, assigned by the database.
    pub id: i64,
    /// Unique among accounts.
    pub email: String,
    /// Where it is in its lifecycle.
    pub status: AccountStatus,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// One row of `accounts`. `display_name` is `None` while its gate is closed or it is still NULL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The key, assigned by the database.
    pub id: i64,
    /// Unique among accounts.
    pub email: String,
    /// Where it is in its lifecycle.
    pub status: AccountStatus,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// The name shown for it: `None` while its gate is closed or it is still NULL.
    pub display_name: Option<String>,
}

impl From<(AccountBase, Option<String>)> for Account {
    fn from((base, display_name): (AccountBase, Option<String>)) -> Self {
        Account {
            id: base.id,
            email: base.email,
            status: base.status,
            created_at: base.created_at,
            updated_at: base.updated_at,
            display_name,
        }
    }
}

/// What a new account needs; the id and timestamps come from the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount<'a> {
    /// Unique among accounts.
    pub email: &'a str,
    /// Its first status (the API's default is `Active`).
    pub status: AccountStatus,
    /// Written only while [`DISPLAY_NAME`]'s gate is open; `None` then writes
    /// [`default_display_name`] of the email, so an insert never leaves the column NULL once
    /// it is NOT NULL.
    pub display_name: Option<&'a str>,
}

/// The longest display name, in characters.
pub const DISPLAY_NAME_MAX: usize = 100;

/// The display name of an account created without one: the part of its email before `@`.
pub fn default_display_name(email: &str) -> String {
    let local = email.split('@').next().unwrap_or(email);
    local.chars().take(DISPLAY_NAME_MAX).collect()
}

// plumb: allow insert-missing-required-column accounts.display_name used only while the display_name flag is off, which the service refuses once the column is NOT NULL without a default
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = accounts, check_for_backend(Pg))]
struct NewAccountBase<'a> {
    email: &'a str,
    status: AccountStatus,
}

/// A partial update: `None` leaves a column as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountChanges<'a> {
    /// A new email, unique among accounts.
    pub email: Option<&'a str>,
    /// A new status.
    pub status: Option<AccountStatus>,
    /// Written only while [`DISPLAY_NAME`]'s gate is open.
    pub display_name: Option<&'a str>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, AsChangeset)]
#[diesel(table_name = accounts, check_for_backend(Pg))]
struct AccountBaseChanges<'a> {
    email: Option<&'a str>,
    status: Option<AccountStatus>,
}

fn display_name(gates: &Gates) -> GatedRead<accounts::table, Text> {
    gates.read(DISPLAY_NAME, accounts::display_name.nullable())
}

type Row = (AccountBase, Option<String>);

/// Runs a query on `accounts`, selecting the columns `gates` allow.
fn load(
    conn: &mut PgConnection,
    query: accounts::BoxedQuery<'_, Pg>,
    gates: &Gates,
) -> QueryResult<Vec<Account>> {
    let rows: Vec<Row> = query
        .select((AccountBase::as_select(), display_name(gates)))
        .load(conn)?;
    Ok(rows.into_iter().map(Account::from).collect())
}

impl Account {
    /// Inserts an account; names `display_name` only while its gate is open.
    pub fn create(
        conn: &mut PgConnection,
        new: &NewAccount<'_>,
        gates: &Gates,
    ) -> QueryResult<Account> {
        let base = NewAccountBase {
            email: new.email,
            status: new.status,
        };
        let insert = diesel::insert_into(accounts::table);
        let returning = (AccountBase::as_returning(), display_name(gates));
        // An insert cannot leave a column out by a value (diesel writes `DEFAULT`, which names
        // it), so each gate doubles the insert's shapes.
        let row: Row = if gates.uses(DISPLAY_NAME) {
            let name = new
                .display_name
                .map_or_else(|| default_display_name(new.email), str::to_owned);
            insert
                .values((&base, accounts::display_name.eq(name)))
                .returning(returning)
                .get_result(conn)?
        } else {
            insert.values(&base).returning(returning).get_result(conn)?
        };
        Ok(row.into())
    }

    /// The account with this id, if any.
    pub fn find(conn: &mut PgConnection, id: i64, gates: &Gates) -> QueryResult<Option<Account>> {
        Ok(load(conn, accounts::table.find(id).into_boxed(), gates)?
            .into_iter()
            .next())
    }

    /// The account with this email, if any.
    pub fn find_by_email(
        conn: &mut PgConnection,
        email: &str,
        gates: &Gates,
    ) -> QueryResult<Option<Account>> {
        let query = accounts::table
            .filter(accounts::email.eq(email))
            .into_boxed();
        Ok(load(conn, query, gates)?.into_iter().next())
    }

    /// One keyset page in id order: the accounts after `after` (from the start when `None`),
    /// at most `limit` of them (clamped to `1..=MAX_PAGE_SIZE`).
    pub fn list(
        conn: &mut PgConnection,
        after: Option<i64>,
        limit: i64,
        gates: &Gates,
    ) -> QueryResult<Vec<Account>> {
        let query = accounts::table
            .filter(accounts::id.gt(after.unwrap_or(i64::MIN)))
            .order(accounts::id.asc())
            .limit(clamp_page_size(limit))
            .into_boxed();
        load(conn, query, gates)
    }

    /// Applies `changes` and stamps `updated_at`; `None` when no account has that id.
    pub fn update(
        conn: &mut PgConnection,
        id: i64,
        changes: &AccountChanges<'_>,
        gates: &Gates,
    ) -> QueryResult<Option<Account>> {
        let base = AccountBaseChanges {
            email: changes.email,
            status: changes.status,
        };
        let name = gates.write(
            DISPLAY_NAME,
            changes
                .display_name
                .map(|name| accounts::display_name.eq(name)),
        );
        // `updated_at` always changes, so the changeset is never empty.
        let row: Option<Row> = diesel::update(accounts::table.find(id))
            .set((&base, accounts::updated_at.eq(diesel::dsl::now), name))
            .returning((AccountBase::as_returning(), display_name(gates)))
            .get_result(conn)
            .optional()?;
        Ok(row.map(Account::from))
    }
}
