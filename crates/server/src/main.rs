//! `plumb-server`: serves the accounts API until SIGTERM or SIGINT, then finishes the requests
//! in flight and exits 0. Exit 2: the configuration or the database is not usable. Exit 3:
//! requests still running at the shutdown timeout were cut off (rolled back, answered 503).

use std::process::ExitCode;

use plumb_server::Config;
use plumb_server::app::{launch, state};

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(log_filter())
        .with_writer(std::io::stderr)
        // A log line that cannot be written (whoever read stderr has gone) is dropped: the
        // default reports it with eprintln!, which panics on a closed pipe.
        .log_internal_errors(false)
        .with_ansi(
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none(),
        )
        .init();
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("-h" | "--help") => {
            print_help();
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!(
                "error: unexpected argument {other:?}: plumb-server is configured by environment variables (see --help)"
            );
            return ExitCode::from(2);
        }
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    if config.run_migrations
        && let Err(error) = migrate(&config)
    {
        eprintln!("error: {error:#}");
        return ExitCode::from(2);
    }
    // The System (its runtime and the tasks that hold the state) is dropped at the end of
    // this statement, before the wait below.
    let outcome = actix_web::rt::System::new().block_on(serve(config));
    match outcome {
        Ok(stopped) => close_and_exit(stopped),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// `RUST_LOG`, or `info`. The HTTP layer's own ERROR line for each malformed request (a
/// client's fault, already answered 400 or 431) is left out unless `RUST_LOG` names
/// `actix_http`: one client sending garbage must not flood the log with errors.
fn log_filter() -> tracing_subscriber::EnvFilter {
    use tracing_subscriber::EnvFilter;
    let asked = std::env::var("RUST_LOG").unwrap_or_default();
    let filter = EnvFilter::try_new(&asked)
        .ok()
        .filter(|_| !asked.trim().is_empty())
        .unwrap_or_else(|| EnvFilter::new("info"));
    if asked.contains("actix_http") {
        return filter;
    }
    match "actix_http::h1::dispatcher=off".parse() {
        Ok(quiet) => filter.add_directive(quiet),
        Err(_) => filter,
    }
}

fn print_help() {
    println!(
        "plumb-server: the accounts API (/v1, /v2), /healthz, /readyz, /openapi.json, /admin/flags"
    );
    println!(
        "Stops gracefully on SIGTERM or SIGINT. Exit code 2: configuration or database not usable;\n\
         3: requests still running at PLUMB_SHUTDOWN_TIMEOUT_S were cut off (rolled back, answered 503).\n"
    );
    println!("Environment:");
    for (name, default, meaning) in plumb_server::config::VARIABLES {
        println!("  {name:<28} {meaning} [default: {default}]");
    }
}

fn migrate(config: &Config) -> anyhow::Result<()> {
    use diesel::Connection;
    let mut conn = diesel::PgConnection::establish(&config.database_url)
        .map_err(|e| anyhow::anyhow!("cannot connect to apply migrations: {e}"))?;
    let applied =
        plumb_model::run_pending_migrations(&mut conn).map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(count = applied.len(), "applied pending migrations");
    Ok(())
}

/// Closes the pool's connections on this thread, then ends the process without the C
/// library's exit handlers. The pool opens connections on a background thread of its own, and
/// one still being opened or closed while OpenSSL's exit handler frees its state crashes the
/// process (SIGSEGV at exit, seen on a server with ssl = on). Every request has finished by
/// now; so wait, a bounded time, for the workers to drop their copies of the state, drop the
/// last handle of the pool here, and skip the exit handlers.
fn close_and_exit(stopped: Stopped) -> ! {
    use std::io::Write;
    let Stopped {
        lifetime,
        pool,
        cutoff,
    } = stopped;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while lifetime.strong_count() > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // Work still running now is ended with the process: its transaction, never committed,
    // is rolled back by the server when the connection drops.
    let still_running = lifetime.strong_count() > 0;
    drop(pool);
    let cut = cutoff.cut();
    let code = if cut > 0 || still_running {
        tracing::error!(
            requests = cut,
            still_running,
            "requests still running at the shutdown timeout were cut off: rolled back and answered 503, or ended unanswered"
        );
        3
    } else {
        0
    };
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: `_exit` ends the process at once without touching Rust state; nothing is left
    // to flush or commit.
    #[allow(unsafe_code)]
    unsafe {
        libc::_exit(code)
    }
}

/// What is left once the server has stopped.
struct Stopped {
    lifetime: std::sync::Weak<()>,
    pool: plumb_model::PgPool,
    cutoff: std::sync::Arc<plumb_server::state::Cutoff>,
}

async fn serve(config: Config) -> anyhow::Result<Stopped> {
    let state = state(&config).map_err(|e| e.context("the database is not usable"))?;
    let lifetime = state.lifetime();
    let pool = state.pool.clone();
    let cutoff = state.cutoff.clone();
    // Listen for signals before announcing the address: a SIGTERM that arrives once the
    // server answers must stop it gracefully, not kill it.
    let signals = listen_for_signals();
    let launched = launch(&config, state)?;
    for address in &launched.addresses {
        tracing::info!(%address, "listening");
    }
    let (server, backlog) = (launched.server, launched.backlog);
    let handle = server.handle();
    let (timeout, cut) = (config.shutdown_timeout, cutoff.clone());
    actix_web::rt::spawn(async move {
        let signal = wait_for_signal(signals).await;
        tracing::info!(
            signal,
            "stopping: no new connections, finishing requests in flight"
        );
        let stopping = handle.stop(true);
        backlog.answer_while_stopping();
        actix_web::rt::spawn(async move {
            actix_web::rt::time::sleep(timeout).await;
            cut.pass();
            tracing::warn!(
                seconds = timeout.as_secs(),
                "the shutdown timeout passed: requests still running are rolled back and answered 503"
            );
        });
        stopping.await;
    });
    server.await?;
    tracing::info!("stopped");
    Ok(Stopped {
        lifetime,
        pool,
        cutoff,
    })
}

type Signals = Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>;

fn listen_for_signals() -> Signals {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(term), Ok(int)) => Some((term, int)),
        _ => {
            tracing::error!("cannot listen for signals; stop the process with SIGKILL");
            None
        }
    }
}

async fn wait_for_signal(signals: Signals) -> &'static str {
    let Some((mut term, mut int)) = signals else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}
