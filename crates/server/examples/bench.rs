//! Load benchmark of the accounts service:
//!
//!     cargo run --release -p plumb-server --example bench
//!
//! Seeds 10,000 accounts in a database of its own (on `DATABASE_URL`, or a throwaway cluster),
//! runs the service in this process, then drives fixed request counts from 16 keep-alive
//! connections: `GET /v2/accounts/{id}` on pseudo-random seeded ids, then
//! `POST /v2/accounts`. Prints requests/s and p50/p99/max latency per phase. Client and server
//! share the machine's cores, so the figures are a floor, comparable run to run on one machine.
#![allow(clippy::unwrap_used)] // a benchmark that cannot set up should fail loudly

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use plumb_pg::{PgServer, TestDatabase};

const SEEDED: i64 = 10_000;
const CONNECTIONS: usize = 16;
const GETS: usize = 40_000;
const POSTS: usize = 10_000;

fn main() {
    let server = PgServer::from_env().unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    let db = TestDatabase::migrated(&server, &dir).unwrap();
    db.connect()
        .unwrap()
        .batch_execute(&format!(
            "INSERT INTO accounts (email, display_name) \
             SELECT 'seed' || n || '@example.com', 'Seed ' || n FROM generate_series(1, {SEEDED}) AS n; ANALYZE accounts;"
        ))
        .unwrap();

    let base = plumb_server::app::serve_in_background(&[
        ("DATABASE_URL", db.url().expose().to_owned()),
        ("PLUMB_BIND", "127.0.0.1:0".to_owned()),
        ("PLUMB_POOL_SIZE", "16".to_owned()),
        ("PLUMB_WORKERS", "2".to_owned()),
    ])
    .unwrap();

    println!(
        "plumb-server load benchmark: {SEEDED} seeded accounts, {CONNECTIONS} connections, server and client on one machine ({} cores), {}",
        cores(),
        server.describe()
    );
    println!(
        "{:<28} {:>9} {:>11} {:>9} {:>9} {:>9}",
        "phase", "requests", "requests/s", "p50 ms", "p99 ms", "max ms"
    );
    let get_base = base.clone();
    report(
        "GET /v2/accounts/{id}",
        run(
            GETS,
            move |agent, n| {
                let id = 1 + (n as i64).wrapping_mul(7919) % SEEDED;
                agent
                    .get(&format!("{get_base}/v2/accounts/{id}"))
                    .call()
                    .map(|r| r.status().as_u16())
            },
            200,
        ),
    );
    let post_base = base.clone();
    report(
        "POST /v2/accounts",
        run(
            POSTS,
            move |agent, n| {
                agent
            .post(&format!("{post_base}/v2/accounts"))
            .send_json(serde_json::json!({ "email": format!("bench{n}@example.com"), "display_name": "Bench" }))
            .map(|r| r.status().as_u16())
            },
            201,
        ),
    );
}

fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

struct Phase {
    latencies: Vec<Duration>,
    wall: Duration,
}

/// Sends `total` requests from `CONNECTIONS` threads; request `n` is `request(agent, n)`.
fn run<F>(total: usize, request: F, expected: u16) -> Phase
where
    F: Fn(&ureq::Agent, usize) -> Result<u16, ureq::Error> + Send + Sync + 'static + Clone,
{
    let started = Instant::now();
    let threads: Vec<_> = (0..CONNECTIONS)
        .map(|thread| {
            let request = request.clone();
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .into();
                let mut latencies = Vec::new();
                for n in (thread..total).step_by(CONNECTIONS) {
                    let sent = Instant::now();
                    let status = request(&agent, n).unwrap();
                    latencies.push(sent.elapsed());
                    assert_eq!(status, expected, "request {n}");
                }
                latencies
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    latencies.sort();
    Phase {
        latencies,
        wall: started.elapsed(),
    }
}

fn report(name: &str, phase: Phase) {
    let count = phase.latencies.len();
    let at = |q: f64| {
        phase.latencies[((count as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0
    };
    println!(
        "{:<28} {:>9} {:>11.0} {:>9.2} {:>9.2} {:>9.2}",
        name,
        count,
        count as f64 / phase.wall.as_secs_f64(),
        at(0.50),
        at(0.99),
        at(1.0)
    );
}
