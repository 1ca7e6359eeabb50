//! Another service using this crate: it brings its database up to date with the crate's
//! migrations, builds the pool, takes a snapshot of the flags and works with accounts.
//!
//!     DATABASE_URL=postgres://localhost/accounts cargo run -p plumb-model --example service

use plumb_model::{
    Account, AccountStatus, DISPLAY_NAME, FeatureFlag, Gates, NewAccount, PoolSettings, build_pool,
    run_pending_migrations,
};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// What one run did, so that a test can check it.
#[derive(Debug)]
pub struct Run {
    /// The migrations this run applied (none when the database was up to date).
    pub applied: Vec<String>,
    /// The account it created, read back.
    pub account: Account,
}

/// Migrates the database at `url`, then creates and reads back an account with `email`.
pub fn run(url: &str, email: &str) -> Result<Run, Error> {
    // Migrations first, on a connection of their own: the pool's connections carry a short
    // statement_timeout meant for requests.
    let mut conn = <diesel::PgConnection as diesel::Connection>::establish(url)?;
    let applied = run_pending_migrations(&mut conn)?;

    let pool = build_pool(url, &PoolSettings::default())?;
    let mut conn = pool.get()?;
    // One snapshot of the flags per unit of work, so that its statements agree.
    let gates = Gates::load(&mut conn)?;
    let new = NewAccount {
        email,
        status: AccountStatus::Active,
        // Left to the model: with the gate open it writes the default name.
        display_name: None,
    };
    let created = Account::create(&mut conn, &new, &gates)?;
    let account = Account::find(&mut conn, created.id, &gates)?.ok_or("the account vanished")?;

    // The guard holds here too: the flag of a NOT NULL column without a default stays on.
    if let Err(refused) = FeatureFlag::set(&mut conn, &DISPLAY_NAME.flag(), false) {
        println!("flag not changed: {refused}");
    }
    Ok(Run { applied, account })
}

#[allow(dead_code)] // the test includes this file for `run`
fn main() -> Result<(), Error> {
    let url = std::env::var("DATABASE_URL").map_err(|_| "set DATABASE_URL")?;
    let run = run(&url, &format!("example-{}@example.com", std::process::id()))?;
    println!("applied {} migration(s)", run.applied.len());
    println!(
        "account {}: {} ({})",
        run.account.id,
        run.account
            .display_name
            .as_deref()
            .unwrap_or("no display name"),
        run.account.status
    );
    Ok(())
}
