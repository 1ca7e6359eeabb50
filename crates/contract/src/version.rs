//! What every version of the API is to the code that serves it: its types, and how each turns
//! into (or is made from) the version-neutral data the service works with. The service, the
//! catalog and the OpenAPI document all walk [`each_version`], so a version is served,
//! published and documented by being listed there.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use crate::v1::AccountStatus;

/// An account as the service knows it, whatever the version that shows it. A version shows
/// the fields it has; a field a version lacks is dropped on the way out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountData {
    pub id: i64,
    pub email: String,
    pub status: AccountStatus,
    /// `None` while the service does not read the column (its flag is off).
    pub display_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a request to create an account says, whatever its version: a field the version lacks
/// is `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccountData {
    pub email: String,
    pub status: Option<AccountStatus>,
    pub display_name: Option<String>,
}

/// What a request to change an account says; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountChangesData {
    pub email: Option<String>,
    pub status: Option<AccountStatus>,
    pub display_name: Option<String>,
}

/// A page request: after which id, and how many.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageData {
    pub after: Option<i64>,
    pub limit: Option<u32>,
}

/// An API key as the service knows it (never its token, which only [`ApiVersion::created_key`]
/// carries, once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyData {
    pub id: i64,
    pub account_id: i64,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// One published version: its name (the path prefix, the folder under `schemas/`) and its
/// types. Request types become the neutral data, and response types are made from it, by
/// `From` conversions written beside the types in the version's module.
pub trait ApiVersion: 'static {
    /// `v1`, `v2`, ...
    const NAME: &'static str;

    type CreateAccountRequest: DeserializeOwned + JsonSchema + Into<NewAccountData> + 'static;
    type UpdateAccountRequest: DeserializeOwned + JsonSchema + Into<AccountChangesData> + 'static;
    type ListQuery: DeserializeOwned + JsonSchema + Into<PageData> + 'static;
    type CreateApiKeyRequest: DeserializeOwned + JsonSchema + 'static;
    type Account: Serialize + JsonSchema + From<AccountData> + 'static;
    type AccountPage: Serialize + JsonSchema + 'static;
    type ApiKey: Serialize + JsonSchema + From<ApiKeyData> + 'static;
    type CreatedApiKey: Serialize + JsonSchema + 'static;
    type ApiKeyPage: Serialize + JsonSchema + 'static;
    type ErrorResponse: Serialize + JsonSchema + 'static;

    /// The label a create-key request gives.
    fn key_label(request: &Self::CreateApiKeyRequest) -> &str;
    /// One page of accounts, and the id to continue after when there is more.
    fn account_page(items: Vec<AccountData>, next_after: Option<i64>) -> Self::AccountPage;
    /// A key just made, with its token.
    fn created_key(key: ApiKeyData, token: String) -> Self::CreatedApiKey;
    /// One page of keys.
    fn key_page(items: Vec<ApiKeyData>, next_after: Option<i64>) -> Self::ApiKeyPage;
}

/// Something done once per published version, with its types.
pub trait EachVersion {
    fn version<V: ApiVersion>(&mut self);
}

/// Calls `each` for every published version, oldest first. Adding a version is its module and
/// one line here.
pub fn each_version(each: &mut impl EachVersion) {
    each.version::<crate::v1::V1>();
    each.version::<crate::v2::V2>();
}

/// The names of every published version, oldest first.
pub fn versions() -> Vec<&'static str> {
    struct Names(Vec<&'static str>);
    impl EachVersion for Names {
        fn version<V: ApiVersion>(&mut self) {
            self.0.push(V::NAME);
        }
    }
    let mut names = Names(Vec::new());
    each_version(&mut names);
    names.0
}
