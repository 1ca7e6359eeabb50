//! API version 2: exposes `display_name`.
//!
//! The types that did not change are v1's own, re-exported: a change to one of them is a
//! change to both versions, and the snapshot review shows it twice.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::v1::{
    AccountStatus, ApiKey, ApiKeyPage, CreateApiKeyRequest, CreatedApiKey, ErrorDetail,
    ErrorResponse, ListQuery,
};

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
    /// The name shown for the account. When omitted, the part of the email before `@`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 100), pattern(crate::patterns::TEXT))]
    pub display_name: Option<String>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 100), pattern(crate::patterns::TEXT))]
    pub display_name: Option<String>,
}

/// An account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Account {
    pub id: i64,
    pub email: String,
    pub status: AccountStatus,
    /// The name shown for the account. Absent while the service does not yet read the column
    /// (its feature flag is off): clients must not rely on it being present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub display_name: Option<String>,
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

/// Version 2 as the service serves it.
#[derive(Debug, Clone, Copy)]
pub struct V2;

impl crate::ApiVersion for V2 {
    const NAME: &'static str = "v2";

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
        crate::v1::V1::key_label(request)
    }

    fn account_page(items: Vec<AccountData>, next_after: Option<i64>) -> AccountPage {
        AccountPage {
            items: items.into_iter().map(Account::from).collect(),
            next_after,
        }
    }

    fn created_key(key: ApiKeyData, token: String) -> CreatedApiKey {
        crate::v1::V1::created_key(key, token)
    }

    fn key_page(items: Vec<ApiKeyData>, next_after: Option<i64>) -> ApiKeyPage {
        crate::v1::V1::key_page(items, next_after)
    }
}

use crate::version::{AccountChangesData, AccountData, ApiKeyData, NewAccountData};

impl From<CreateAccountRequest> for NewAccountData {
    fn from(request: CreateAccountRequest) -> Self {
        NewAccountData {
            email: request.email,
            status: request.status,
            display_name: request.display_name,
        }
    }
}

impl From<UpdateAccountRequest> for AccountChangesData {
    fn from(request: UpdateAccountRequest) -> Self {
        AccountChangesData {
            email: request.email,
            status: request.status,
            display_name: request.display_name,
        }
    }
}

impl From<AccountData> for Account {
    fn from(account: AccountData) -> Self {
        Account {
            id: account.id,
            email: account.email,
            status: account.status,
            display_name: account.display_name,
            created_at: account.created_at,
            updated_at: account.updated_at,
        }
    }
}
