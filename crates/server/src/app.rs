//! The application: routes, how malformed input becomes JSON errors, and starting the server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, dev::Server, web};

use plumb_pg::error_texts::ErrorTexts;

use crate::config::Config;
use crate::error::ApiError;
use crate::flags::Flags;
use crate::state::AppState;

/// Builds the state: a pool (failing now if the database does not answer), flags read once.
pub fn state(config: &Config) -> anyhow::Result<AppState> {
    let pool = plumb_model::build_pool(&config.database_url, &config.pool)?;
    let flags = Arc::new(Flags::default());
    let mut conn = pool.get()?;
    flags.refresh(&mut conn)?;
    // A second session, for the lock the first times out on (the pool may hold only one).
    // With a bound on connecting, and the password kept out of any error.
    let mut other = plumb_pg::DatabaseUrl::parse(&config.database_url)?.connect()?;
    let error_texts = ErrorTexts::learn(&mut conn, &mut other)
        .map_err(|e| anyhow::anyhow!("learning how the database words a timeout: {e}"))?;
    let openapi = plumb_contract::openapi::document()?;
    Ok(AppState::new(
        pool,
        flags,
        config.admin_token.as_deref().map(Arc::from),
        error_texts,
        Arc::new(openapi),
    ))
}

/// Every route of the service.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(crate::health::routes)
        .configure(crate::accounts::routes)
        .configure(crate::admin::routes)
        .service(
            web::resource("/openapi.json")
                .route(get_or_head().to(openapi))
                .default_service(not_allowed("GET, HEAD")),
        );
}

async fn openapi(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(state.openapi.as_ref())
}

/// A route for GET that answers HEAD too (the same headers, no body), as HTTP asks.
pub fn get_or_head() -> actix_web::Route {
    use actix_web::guard;
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

/// The 405 of a resource, with the `Allow` header listing what it answers.
pub fn not_allowed(allow: &'static str) -> actix_web::Route {
    web::to(move |request: HttpRequest| async move {
        use actix_web::ResponseError;
        use actix_web::http::header::{ALLOW, HeaderValue};
        let mut response = ApiError::new(
            actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!(
                "{} is not allowed on {} (it answers {allow})",
                request.method(),
                request.path()
            ),
        )
        .error_response();
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static(allow));
        response
    })
}

async fn no_such_endpoint(request: HttpRequest) -> HttpResponse {
    use actix_web::ResponseError;
    ApiError::not_found(format!(
        "no endpoint {} {}",
        request.method(),
        request.path()
    ))
    .error_response()
}

fn json_error(error: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let api = match &error {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            ApiError::too_large(format!("the body is larger than {limit} bytes"))
        }
        JsonPayloadError::ContentType => {
            ApiError::malformed("the body must be JSON, sent as Content-Type: application/json")
        }
        JsonPayloadError::Deserialize(inner) => {
            ApiError::malformed(format!("the body does not match the request type: {inner}"))
        }
        other => ApiError::malformed(format!("the body could not be read: {other}")),
    };
    api.into()
}

fn path_error(error: PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::malformed(format!("the path is not valid: {error}")).into()
}

fn query_error(error: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError::malformed(format!("the query string is not valid: {error}")).into()
}

/// A started server.
#[allow(missing_debug_implementations)] // actix's Server is not Debug
pub struct Launched {
    /// To await or stop.
    pub server: Server,
    /// Where it listens.
    pub addresses: Vec<SocketAddr>,
    /// The listening socket, for the stop to answer what reaches it after the server stopped.
    pub backlog: crate::stopping::Backlog,
}

/// How many connections the kernel queues for the server.
const BACKLOG: i32 = 2048;

/// Binds and starts the server (without signal handling: the caller decides when it stops)
/// and the flag refresher.
pub fn launch(config: &Config, state: AppState) -> std::io::Result<Launched> {
    // Which address, and which variable to change: "Address already in use" alone says
    // neither.
    let (listener, backlog) = crate::stopping::bind(config.bind, BACKLOG).map_err(|error| {
        std::io::Error::new(
            error.kind(),
            format!("cannot listen on {} (PLUMB_BIND): {error}", config.bind),
        )
    })?;
    let refresh_every = config.flag_refresh;
    let body_limit = config.body_limit;
    let data = web::Data::new(state.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(body_limit)
                    .error_handler(json_error),
            )
            .app_data(web::PathConfig::default().error_handler(path_error))
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .configure(routes)
            .default_service(web::to(no_such_endpoint))
    })
    .workers(config.workers)
    .backlog(BACKLOG as u32)
    // The stop cuts off work at PLUMB_SHUTDOWN_TIMEOUT_S and answers it (state::Cutoff);
    // the server waits long enough for that answer: a statement's and a connection's timeout.
    .shutdown_timeout(config.shutdown_grace().as_secs())
    .disable_signals()
    .listen(listener)?;
    let addresses = server.addrs();
    actix_web::rt::spawn(refresh_flags(state, refresh_every));
    Ok(Launched {
        server: server.run(),
        addresses,
        backlog,
    })
}

/// Re-reads the flags every interval: a change made through another instance reaches this one
/// within that time.
async fn refresh_flags(state: AppState, every: Duration) {
    let mut ticks = actix_web::rt::time::interval(every);
    loop {
        ticks.tick().await;
        if let Err(error) = state
            .db_in_background(|conn, flags| Ok(flags.refresh(conn)?))
            .await
        {
            tracing::warn!(%error, "could not re-read the feature flags; keeping the last ones");
        }
    }
}

/// Starts the service on a thread of its own, for a test or a benchmark that runs it in its
/// process: the settings are `vars` as the environment would give them. Gives its base URL
/// (`http://127.0.0.1:<port>`). It serves until the process ends.
pub fn serve_in_background(vars: &[(&str, String)]) -> anyhow::Result<String> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let config =
        Config::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))?;
    let app = state(&config)?;
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            match launch(&config, app) {
                Ok(Launched {
                    server, addresses, ..
                }) => {
                    let _ = sender.send(Ok(addresses[0]));
                    let _ = server.await;
                }
                Err(error) => {
                    let _ = sender.send(Err(error));
                }
            }
        });
    });
    let address = receiver
        .recv()
        .map_err(|_| anyhow::anyhow!("the service's thread ended before it listened"))??;
    Ok(format!("http://{address}"))
}
