//! `/v1` and `/v2`: accounts and their API keys. Each version's handlers are thin: they turn
//! that version's types into the model's and back; the work is shared.

use actix_web::{HttpResponse, web};
use diesel::PgConnection;
use plumb_contract::{v1, v2};
use plumb_model::{Account, AccountChanges, AccountStatus, ApiKey, NewAccount, NewApiKey};
use sha2::{Digest, Sha256};

use crate::app::{get_or_head, not_allowed};
use crate::body::Body;
use crate::error::ApiError;
use crate::state::AppState;
use crate::validate::Problems;

const DEFAULT_PAGE: u32 = 50;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/v1")
            .service(
                web::resource("/accounts")
                    .route(web::post().to(v1_create))
                    .route(get_or_head().to(v1_list))
                    .default_service(not_allowed("GET, HEAD, POST")),
            )
            .service(
                web::resource("/accounts/{id}")
                    .route(get_or_head().to(v1_get))
                    .route(web::patch().to(v1_update))
                    .default_service(not_allowed("GET, HEAD, PATCH")),
            )
            .configure(api_key_routes),
    )
    .service(
        web::scope("/v2")
            .service(
                web::resource("/accounts")
                    .route(web::post().to(v2_create))
                    .route(get_or_head().to(v2_list))
                    .default_service(not_allowed("GET, HEAD, POST")),
            )
            .service(
                web::resource("/accounts/{id}")
                    .route(get_or_head().to(v2_get))
                    .route(web::patch().to(v2_update))
                    .default_service(not_allowed("GET, HEAD, PATCH")),
            )
            .configure(api_key_routes),
    );
}

/// API keys did not change between versions: one set of handlers serves both.
fn api_key_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/accounts/{id}/api-keys")
            .route(web::post().to(create_api_key))
            .route(get_or_head().to(list_api_keys))
            .default_service(not_allowed("GET, HEAD, POST")),
    )
    .service(
        web::resource("/accounts/{id}/api-keys/{key_id}")
            .route(web::delete().to(revoke_api_key))
            .default_service(not_allowed("DELETE")),
    );
}

// --- conversions between the contract's types and the model's ---

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

fn v1_account(account: Account) -> v1::Account {
    v1::Account {
        id: account.id,
        email: account.email,
        status: status_out(account.status),
        created_at: account.created_at,
        updated_at: account.updated_at,
    }
}

fn v2_account(account: Account) -> v2::Account {
    v2::Account {
        id: account.id,
        email: account.email,
        status: status_out(account.status),
        display_name: account.display_name,
        created_at: account.created_at,
        updated_at: account.updated_at,
    }
}

fn api_key_out(key: ApiKey) -> v1::ApiKey {
    v1::ApiKey {
        id: key.id,
        account_id: key.account_id,
        label: key.label,
        created_at: key.created_at,
        revoked_at: key.revoked_at,
    }
}

// --- shared work ---

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

struct NewAccountInput {
    email: String,
    status: Option<v1::AccountStatus>,
    display_name: Option<String>,
}

async fn create(state: &AppState, input: NewAccountInput) -> Result<Account, ApiError> {
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
    state
        .db(move |conn, flags| {
            // The model writes the default display name (the email's local part) when none
            // is given, while the flag has the service write the column.
            let new = NewAccount {
                email: &input.email,
                status: input.status.map(status_in).unwrap_or(AccountStatus::Active),
                display_name: input.display_name.as_deref(),
            };
            Ok(Account::create(conn, &new, &flags.gates())?)
        })
        .await
}

async fn get(state: &AppState, id: i64) -> Result<Account, ApiError> {
    let id = positive("id", id)?;
    state
        .db(move |conn, flags| {
            Account::find(conn, id, &flags.gates())?
                .ok_or_else(|| ApiError::not_found("no account has this id"))
        })
        .await
}

/// One page, and the id to continue after when there is more.
async fn list(
    state: &AppState,
    query: v1::ListQuery,
) -> Result<(Vec<Account>, Option<i64>), ApiError> {
    let mut problems = Problems::default();
    problems.limit("limit", query.limit);
    problems.finish()?;
    let limit = i64::from(query.limit.unwrap_or(DEFAULT_PAGE));
    state
        .db(move |conn, flags| {
            let mut page = Account::list(conn, query.after, limit + 1, &flags.gates())?;
            Ok(paginate(&mut page, limit, |a| a.id))
        })
        .await
}

fn paginate<T>(page: &mut Vec<T>, limit: i64, id: impl Fn(&T) -> i64) -> (Vec<T>, Option<i64>) {
    let more = i64::try_from(page.len()).unwrap_or(i64::MAX) > limit;
    page.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = if more { page.last().map(id) } else { None };
    (std::mem::take(page), next)
}

struct ChangesInput {
    email: Option<String>,
    status: Option<v1::AccountStatus>,
    display_name: Option<String>,
}

async fn update(state: &AppState, id: i64, input: ChangesInput) -> Result<Account, ApiError> {
    let id = positive("id", id)?;
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
    state
        .db(move |conn, flags| {
            let changes = AccountChanges {
                email: input.email.as_deref(),
                status: input.status.map(status_in),
                display_name: input.display_name.as_deref(),
            };
            Account::update(conn, id, &changes, &flags.gates())?
                .ok_or_else(|| ApiError::not_found("no account has this id"))
        })
        .await
}

// --- v1 ---

async fn v1_create(
    state: web::Data<AppState>,
    body: Body<v1::CreateAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let input = NewAccountInput {
        email: body.email,
        status: body.status,
        display_name: None,
    };
    Ok(HttpResponse::Created().json(v1_account(create(&state, input).await?)))
}

async fn v1_get(state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(v1_account(get(&state, id.into_inner()).await?)))
}

async fn v1_list(
    state: web::Data<AppState>,
    query: web::Query<v1::ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let (items, next_after) = list(&state, query.into_inner()).await?;
    Ok(HttpResponse::Ok().json(v1::AccountPage {
        items: items.into_iter().map(v1_account).collect(),
        next_after,
    }))
}

async fn v1_update(
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Body<v1::UpdateAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let input = ChangesInput {
        email: body.email,
        status: body.status,
        display_name: None,
    };
    Ok(HttpResponse::Ok().json(v1_account(update(&state, id.into_inner(), input).await?)))
}

// --- v2 ---

async fn v2_create(
    state: web::Data<AppState>,
    body: Body<v2::CreateAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let input = NewAccountInput {
        email: body.email,
        status: body.status,
        display_name: body.display_name,
    };
    Ok(HttpResponse::Created().json(v2_account(create(&state, input).await?)))
}

async fn v2_get(state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(v2_account(get(&state, id.into_inner()).await?)))
}

async fn v2_list(
    state: web::Data<AppState>,
    query: web::Query<v2::ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let (items, next_after) = list(&state, query.into_inner()).await?;
    Ok(HttpResponse::Ok().json(v2::AccountPage {
        items: items.into_iter().map(v2_account).collect(),
        next_after,
    }))
}

async fn v2_update(
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Body<v2::UpdateAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let input = ChangesInput {
        email: body.email,
        status: body.status,
        display_name: body.display_name,
    };
    Ok(HttpResponse::Ok().json(v2_account(update(&state, id.into_inner(), input).await?)))
}

// --- API keys (both versions) ---

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

async fn create_api_key(
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: Body<v1::CreateApiKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let account_id = positive("id", id.into_inner())?;
    let label = body.into_inner().label;
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
    Ok(HttpResponse::Created().json(v1::CreatedApiKey {
        key: api_key_out(key),
        token,
    }))
}

async fn list_api_keys(
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<v1::ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let account_id = positive("id", id.into_inner())?;
    let query = query.into_inner();
    let mut problems = Problems::default();
    problems.limit("limit", query.limit);
    problems.finish()?;
    let limit = i64::from(query.limit.unwrap_or(DEFAULT_PAGE));
    let (items, next_after) = state
        .db(move |conn, _| {
            ensure_account(conn, account_id)?;
            let mut page = ApiKey::list_for_account(conn, account_id, query.after, limit + 1)?;
            Ok(paginate(&mut page, limit, |k| k.id))
        })
        .await?;
    Ok(HttpResponse::Ok().json(v1::ApiKeyPage {
        items: items.into_iter().map(api_key_out).collect(),
        next_after,
    }))
}

async fn revoke_api_key(
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
    Ok(HttpResponse::Ok().json(api_key_out(key)))
}
