//! `plumb-server`: serves the accounts API until SIGTERM or SIGINT, then finishes the requests
//! in flight and exits 0. Exit 2: the configuration or the database is not usable.

use std::process::ExitCode;

use diesel_migrations::MigrationHarness;
use plumb_server::Config;
use plumb_server::app::{launch, state};

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
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
    match actix_web::rt::System::new().block_on(serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn print_help() {
    println!(
        "plumb-server: the accounts API (/v1, /v2), /healthz, /readyz, /openapi.json, /admin/flags"
    );
    println!(
        "Stops gracefully on SIGTERM or SIGINT. Exit code 2: configuration or database not usable.\n"
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
    let applied = conn
        .run_pending_migrations(plumb_model::MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(count = applied.len(), "applied pending migrations");
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let state = state(&config).map_err(|e| e.context("the database is not usable"))?;
    // Listen for signals before announcing the address: a SIGTERM that arrives once the
    // server answers must stop it gracefully, not kill it.
    let signals = listen_for_signals();
    let (server, addresses) = launch(&config, state)?;
    for address in &addresses {
        tracing::info!(%address, "listening");
    }
    let handle = server.handle();
    actix_web::rt::spawn(async move {
        let signal = wait_for_signal(signals).await;
        tracing::info!(
            signal,
            "stopping: no new connections, finishing requests in flight"
        );
        handle.stop(true).await;
    });
    server.await?;
    tracing::info!("stopped");
    Ok(())
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
