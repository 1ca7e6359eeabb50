//! Accounts and their API keys, served under every published version of the contract
//! (`/v1`, `/v2`, ...). The handlers are generic over the version: they turn its request types
//! into the contract's version-neutral data and the model's results back into its response
//! types, so a version is served by being listed in `plumb_contract::each_version`.

use actix_web::{HttpResponse, web};
use diesel::PgConnection;
use plumb_contract::version::{AccountData, ApiKeyData, PageData};
use plumb_contract::{ApiVersion, EachVersion, v1};
use plumb_model::{Account, AccountChanges, AccountStatus, ApiKey, NewAccount, NewApiKey};
use sha2::{Digest, Sha256};

use crate::app::{get_or_head, not_allowed};
use crate::body::Body;
use crate::error::ApiError;
use crate::state::AppState;
use crate::validate::Problems;

const DEFAULT_PAGE: u32 = 50;

/// Every endpoint of every version.
pub fn routes(cfg: &mut web::ServiceConfig) {
    struct Serve<'a>(&'a mut web::ServiceConfig);
    impl EachVersion for Serve<'_> {
        fn version<V: ApiVersion>(&mut self) {
            self.0.service(
                web::scope(&format!("/{}", V::NAME))
                    .service(
                        web::resource("/accounts")
                            .route(web::post().to(create::<V>))
                            .route(get_or_head().to(list::<V>))
                            .default_service(not_allowed("GET, HEAD, POST")),
                    )
                    .service(
                        web::resource("/accounts/{id}")
                            .route(get_or_head().to(get::<V>))
                            .route(web::patch().to(update::<V>))
                            .default_service(not_allowed("GET, HEAD, PATCH")),
                    )
                    .service(
                        web::resource("/accounts/{id}/api-keys")
                            .route(web::post().to(create_api_key::<V>))
                            .route(get_or_head().to(list_api_keys::<V>))
                            .default_service(not_allowed("GET, HEAD, POST")),
                    )
                    .service(
                        web::resource("/accounts/{id}/api-keys/{key_id}")
                            .route(web::delete().to(revoke_api_key::<V>))
                            .default_service(not_allowed("DELETE")),
                    ),
            );
        }
    }
    plumb_contract::each_version(&mut Serve(cfg));
}

// --- conversions between the contract's neutral data and the model's types ---

fn status_in(status: v1::AccountStatus) -> AccountStatus {
    match status {
        v1::AccountStatus::Active => AccountStatus::Active,
        v1::AccountStatus::Suspended => AccountStatus::Suspended,
        v1::AccountStatus::Closed => AccountStatus::Closed,
    }
}

fn status_out(status: AccountStatus) -> v1::AccountStatus {
    match status {
        AccountStatus::Active => v1::AccountStatus::Active,
        AccountStatus::Suspended => v1::AccountStatus::Suspended,
        AccountStatus::Closed => v1::AccountStatus::Closed,
    }
}

fn account_out(account: Account) -> AccountData {
    AccountData {
        id: account.id,
        email: account.email,
        status: status_out(account.status),
        display_name: account.display_name,
        created_at: account.created_at,
        updated_at: account.updated_at,
    }
}

fn api_key_out(key: ApiKey) -> ApiKeyData {
    ApiKeyData {
        id: key.id,
        account_id: key.account_id,
        label: key.label,
        created_at: key.created_at,
        revoked_at: key.revoked_at,
    }
}

/// Ids are positive; the path says which one was not.
fn positive(field: &str, id: i64) -> Result<i64, ApiError> {
    if id > 0 {
        Ok(id)
    } else {
        Err(ApiError::malformed(format!(
            "{field} must be a positive integer"
        )))
    }
}

/// The page size asked for, checked.
fn page_limit(page: &PageData) -> Result<i64, ApiError> {
    let mut problems = Problems::default();
    problems.limit("limit", page.limit);
    problems.finish()?;
    Ok(i64::from(page.limit.unwrap_or(DEFAULT_PAGE)))
}

fn paginate<T>(page: &mut Vec<T>, limit: i64, id: impl Fn(&T) -> i64) -> (Vec<T>, Option<i64>) {
    let more = i64::try_from(page.len()).unwrap_or(i64::MAX) > limit;
    page.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = if more { page.last().map(id) } else { None };
    (std::mem::take(page), next)
}

// --- accounts ---

async fn create<V: ApiVersion>(
    state: web::Data<AppState>,
    body: Body<V::CreateAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    let input: plumb_contract::version::NewAccountData = body.into_inner().into();
    let mut problems = Problems::default();
    problems.email("/email", &input.email);
    if let Some(name) = &input.display_name {
        problems.text(
            "/display_name",
            name,
            plumb_model::account::DISPLAY_NAME_MAX,
        );
    }
    problems.finish()?;
    let account = state
        .db(move |conn, flags| {
            // The model writes the default display name (the email's local part) when none
            // is given, while the gate has the service write the column.
            let new = NewAccount {
                email: &input.email,
                status: input.status.map(status_in).unwrap_or(AccountStatus::Active),
                display_name: input.display_name.as_deref(),
            };
            Ok(Account::create(conn, &new, &flags.gates())?)
        })
        .await?;
    Ok(HttpResponse::Created().json(V::Account::from(account_out(account))))
}

async fn get<V: ApiVersion>(
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = positive("id", id.into_inner())?;
    let account = state
        .db(move |conn, flags| {
            Account::find(conn, id, &flags.gates())?
                .ok_or_else(|| ApiError::not_found("no account has this id"))
        })
        .await?;
    Ok(HttpResponse::Ok().json(V::Account::from(account_out(account))))
}

async fn list<V: ApiVersion>(
    state: web::Data<AppState>,
    query: web::Query<V::ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let page: PageData = query.into_inner().into();
    let limit = page_limit(&page)?;
    let (items, next_after) = state
        .db(move |conn, flags| {
            let mut found = Account::list(conn, page.after, limit + 1, &flags.gates())?;
            Ok(paginate(&mut found, limit, |a| a.id))
        })
        .await?;
    let items = items.into_iter().map(account_out).collect();
    Ok(HttpResponse::Ok().json(V::account_page(items, next_after)))
}

async fn update<V: ApiVersion>(
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Body<V::UpdateAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = positive("id", id.into_inner())?;
    let input: plumb_contract::version::AccountChangesData = body.into_inner().into();
    let mut problems = Problems::default();
    if let Some(email) = &input.email {
        problems.email("/email", email);
    }
    if let Some(name) = &input.display_name {
        problems.text(
            "/display_name",
            name,
            plumb_model::account::DISPLAY_NAME_MAX,
        );
    }
    problems.finish()?;
    let account = state
        .db(move |conn, flags| {
            let changes = AccountChanges {
                email: input.email.as_deref(),
                status: input.status.map(status_in),
                display_name: input.display_name.as_deref(),
            };
            Account::update(conn, id, &changes, &flags.gates())?
                .ok_or_else(|| ApiError::not_found("no account has this id"))
        })
        .await?;
    Ok(HttpResponse::Ok().json(V::Account::from(account_out(account))))
}

// --- API keys ---

fn ensure_account(conn: &mut PgConnection, id: i64) -> Result<(), ApiError> {
    match Account::find(conn, id, &plumb_model::Gates::closed())? {
        Some(_) => Ok(()),
        None => Err(ApiError::not_found("no account has this id")),
    }
}

/// A fresh secret and the hash that is stored in its place.
fn new_token() -> Result<(String, String), ApiError> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|error| {
        tracing::error!(%error, "no randomness for an API key");
        ApiError::internal()
    })?;
    let token = format!("plumb_{}", hex::encode(secret));
    Ok((hash_token(&token), token))
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

async fn create_api_key<V: ApiVersion>(
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Body<V::CreateApiKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let account_id = positive("id", id.into_inner())?;
    let label = V::key_label(&body).to_owned();
    let mut problems = Problems::default();
    problems.text("/label", &label, 100);
    problems.finish()?;
    let (hash, token) = new_token()?;
    let key = state
        .db(move |conn, _| {
            ensure_account(conn, account_id)?;
            Ok(ApiKey::create(
                conn,
                &NewApiKey {
                    account_id,
                    label: &label,
                    token_hash: &hash,
                },
            )?)
        })
        .await?;
    Ok(HttpResponse::Created().json(V::created_key(api_key_out(key), token)))
}

async fn list_api_keys<V: ApiVersion>(
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<V::ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let account_id = positive("id", id.into_inner())?;
    let query: PageData = query.into_inner().into();
    let limit = page_limit(&query)?;
    let (items, next_after) = state
        .db(move |conn, _| {
            ensure_account(conn, account_id)?;
            let mut page = ApiKey::list_for_account(conn, account_id, query.after, limit + 1)?;
            Ok(paginate(&mut page, limit, |k| k.id))
        })
        .await?;
    let items = items.into_iter().map(api_key_out).collect();
    Ok(HttpResponse::Ok().json(V::key_page(items, next_after)))
}

async fn revoke_api_key<V: ApiVersion>(
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (account_id, key_id) = path.into_inner();
    let (account_id, key_id) = (positive("id", account_id)?, positive("key_id", key_id)?);
    let key = state
        .db(move |conn, _| {
            ApiKey::revoke(conn, account_id, key_id)?
                .ok_or_else(|| ApiError::not_found("this account has no key with this id"))
        })
        .await?;
    Ok(HttpResponse::Ok().json(V::ApiKey::from(api_key_out(key))))
}
