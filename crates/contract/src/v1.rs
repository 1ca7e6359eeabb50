//! API version 1: the accounts API as first published, before `display_name` existed.
//!
//! Published: requests may only become more permissive and responses only less, forever.
//!
//! A response field that may be absent is an `Option` skipped when `None`, with
//! `#[schemars(with = "T")]`: the service never sends `null`, and the schema says so.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The lifecycle state of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Active,
    Suspended,
    Closed,
}

/// Creates an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccountRequest {
    /// Unique among accounts.
    #[schemars(email, length(min = 3, max = 254), pattern(crate::patterns::EMAIL))]
    pub email: String,
    /// `active` when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AccountStatus>,
}

/// Changes an account; an omitted field is left as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccountRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(email, length(min = 3, max = 254), pattern(crate::patterns::EMAIL))]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AccountStatus>,
}

/// The query of a list endpoint: keyset pagination in id order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Return the items after this id (the previous page's `next_after`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<i64>,
    /// At most this many items; 50 when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 500))]
    pub limit: Option<u32>,
}

/// Creates an API key for an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    /// What the key is for, to tell keys apart.
    #[schemars(length(min = 1, max = 100), pattern(crate::patterns::TEXT))]
    pub label: String,
}

/// An account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Account {
    pub id: i64,
    pub email: String,
    pub status: AccountStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One page of accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AccountPage {
    pub items: Vec<Account>,
    /// Pass as `after` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "i64")]
    pub next_after: Option<i64>,
}

/// An API key. Its token is shown once, when it is created, and never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ApiKey {
    pub id: i64,
    pub account_id: i64,
    pub label: String,
    pub created_at: DateTime<Utc>,
    /// When the key was revoked; absent while it is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "DateTime<Utc>")]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key just created, with the only copy of its token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CreatedApiKey {
    pub key: ApiKey,
    /// The secret to send as a bearer token. It cannot be retrieved again.
    pub token: String,
}

/// One page of an account's API keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ApiKeyPage {
    pub items: Vec<ApiKey>,
    /// Pass as `after` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "i64")]
    pub next_after: Option<i64>,
}

/// Every error the API returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorResponse {
    /// Stable, machine-readable: `malformed`, `not_found`, `conflict`, `invalid`,
    /// `too_large`, `unavailable`, ...
    pub code: String,
    /// For people; may change.
    pub message: String,
    /// What was wrong with which field, for `invalid` requests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorDetail>,
}

/// One problem with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorDetail {
    /// The field, as a JSON Pointer into the request body (`/email`) or a query parameter name.
    pub field: String,
    pub message: String,
}

/// Version 1 as the service serves it.
#[derive(Debug, Clone, Copy)]
pub struct V1;

impl crate::ApiVersion for V1 {
    const NAME: &'static str = "v1";

    type CreateAccountRequest = CreateAccountRequest;
    type UpdateAccountRequest = UpdateAccountRequest;
    type ListQuery = ListQuery;
    type CreateApiKeyRequest = CreateApiKeyRequest;
    type Account = Account;
    type AccountPage = AccountPage;
    type ApiKey = ApiKey;
    type CreatedApiKey = CreatedApiKey;
    type ApiKeyPage = ApiKeyPage;
    type ErrorResponse = ErrorResponse;

    fn key_label(request: &CreateApiKeyRequest) -> &str {
        &request.label
    }

    fn account_page(items: Vec<AccountData>, next_after: Option<i64>) -> AccountPage {
        AccountPage {
            items: items.into_iter().map(Account::from).collect(),
            next_after,
        }
    }

    fn created_key(key: ApiKeyData, token: String) -> CreatedApiKey {
        CreatedApiKey {
            key: key.into(),
            token,
        }
    }

    fn key_page(items: Vec<ApiKeyData>, next_after: Option<i64>) -> ApiKeyPage {
        ApiKeyPage {
            items: items.into_iter().map(ApiKey::from).collect(),
            next_after,
        }
    }
}

use crate::version::{AccountChangesData, AccountData, ApiKeyData, NewAccountData, PageData};

impl From<CreateAccountRequest> for NewAccountData {
    fn from(request: CreateAccountRequest) -> Self {
        NewAccountData {
            email: request.email,
            status: request.status,
            display_name: None,
        }
    }
}

impl From<UpdateAccountRequest> for AccountChangesData {
    fn from(request: UpdateAccountRequest) -> Self {
        AccountChangesData {
            email: request.email,
            status: request.status,
            display_name: None,
        }
    }
}

impl From<ListQuery> for PageData {
    fn from(query: ListQuery) -> Self {
        PageData {
            after: query.after,
            limit: query.limit,
        }
    }
}

impl From<AccountData> for Account {
    fn from(account: AccountData) -> Self {
        Account {
            id: account.id,
            email: account.email,
            status: account.status,
            created_at: account.created_at,
            updated_at: account.updated_at,
        }
    }
}

impl From<ApiKeyData> for ApiKey {
    fn from(key: ApiKeyData) -> Self {
        ApiKey {
            id: key.id,
            account_id: key.account_id,
            label: key.label,
            created_at: key.created_at,
            revoked_at: key.revoked_at,
        }
    }
}
