//! The `plumb-server` binary: configuration errors, and a graceful stop on SIGTERM and SIGINT.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use serde_json::Value;

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_plumb-server"));
    for (name, _) in std::env::vars() {
        if name.starts_with("PLUMB_") || name == "DATABASE_URL" {
            command.env_remove(name);
        }
    }
    command
}

/// A started server, killed when the test ends, pass or fail: a failing assertion must not
/// leave it running.
struct Running(Child);

impl std::ops::Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

type LogLines = std::io::Lines<BufReader<std::process::ChildStderr>>;

/// Starts the binary and reads its log until it says where it listens: the server, the rest of
/// its log, and the address.
fn listening(database_url: &str, vars: &[(&str, &str)]) -> (Running, LogLines, String) {
    let mut command = binary();
    command
        .env("DATABASE_URL", database_url)
        .env("PLUMB_BIND", "127.0.0.1:0")
        .env("RUST_LOG", "info");
    command
        .envs(vars.iter().copied())
        .stderr(Stdio::piped())
        .stdout(Stdio::null());
    let mut child = Running(command.spawn().unwrap());
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("the server logged that it listens")
            .unwrap();
        if let Some(rest) = line.split("address=").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    (child, lines, address)
}

/// [`listening`], its log drained so the server never blocks on a full pipe; gives its base URL.
fn start(database_url: &str, vars: &[(&str, &str)]) -> (Running, String) {
    let (child, lines, address) = listening(database_url, vars);
    std::thread::spawn(move || lines.for_each(drop));
    (child, format!("http://{address}"))
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(30)))
        .build()
        .into()
}

#[test]
fn sigterm_finishes_the_request_in_flight_then_exits_0() {
    let db = common::database();
    let (mut child, base) = start(db.url().expose(), &[("PLUMB_LOCK_TIMEOUT_MS", "20000")]);
    let mut holder: diesel::PgConnection = db.connect().unwrap();
    holder
        .batch_execute("BEGIN; LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE;")
        .unwrap();

    let url = format!("{base}/v1/accounts");
    let in_flight = std::thread::spawn(move || {
        let mut response = agent().get(&url).call().unwrap();
        (
            response.status().as_u16(),
            response.body_mut().read_json::<Value>().unwrap(),
        )
    });
    std::thread::sleep(Duration::from_millis(500));
    signal(&child, "TERM");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "still draining the request in flight"
    );
    assert!(
        agent().get(&format!("{base}/healthz")).call().is_err(),
        "no new connections once stopping"
    );

    holder.batch_execute("ROLLBACK").unwrap();
    let (status, body) = in_flight.join().unwrap();
    assert_eq!(status, 200, "{body}");
    let status = wait(&mut child, Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
}

#[test]
fn sigint_stops_gracefully_too() {
    let db = common::database();
    let (mut child, base) = start(db.url().expose(), &[]);
    assert_eq!(
        agent()
            .get(&format!("{base}/healthz"))
            .call()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    signal(&child, "INT");
    let status = wait(&mut child, Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
}

#[test]
fn bad_configuration_exits_2_naming_every_problem() {
    let output = binary().env("PLUMB_POOL_SIZE", "0").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("DATABASE_URL is not set"), "{stderr}");
    assert!(
        stderr.contains("PLUMB_POOL_SIZE: expected a whole number from 1 to 1000, got \"0\""),
        "{stderr}"
    );
}

#[test]
fn an_unreachable_database_exits_2() {
    let output = binary()
        .env(
            "DATABASE_URL",
            "postgres://svc:pa55word@127.0.0.1:1/accounts",
        )
        .env("PLUMB_POOL_TIMEOUT_MS", "300")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("the database is not usable"), "{stderr}");
    assert!(!stderr.contains("pa55word"), "{stderr}");
}

#[test]
fn run_migrations_prepares_an_empty_database() {
    let server = plumb_pg::PgServer::shared().unwrap();
    let db = plumb_pg::TestDatabase::empty(server).unwrap();
    let (mut child, base) = start(db.url().expose(), &[("PLUMB_RUN_MIGRATIONS", "true")]);
    let mut response = agent()
        .post(&format!("{base}/v2/accounts"))
        .send_json(serde_json::json!({ "email": "m@example.com" }))
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        201,
        "{}",
        response.body_mut().read_to_string().unwrap()
    );
    signal(&child, "TERM");
    let status = wait(&mut child, Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
}

#[test]
fn help_lists_every_variable() {
    let output = binary().arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for (name, _, _) in plumb_server::config::VARIABLES {
        assert!(help.contains(name), "{name} missing from --help");
    }
    assert_eq!(
        binary().arg("--port").output().unwrap().status.code(),
        Some(2)
    );
}

#[test]
fn an_address_in_use_is_named_with_the_variable_that_set_it() {
    let db = common::database();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let output = binary()
        .env("DATABASE_URL", db.url().expose())
        .env("PLUMB_BIND", &address)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on {address} (PLUMB_BIND)")),
        "{stderr}"
    );
    drop(taken);
}

#[test]
fn sigterm_stops_it_after_whoever_read_its_log_has_gone() {
    let db = common::database();
    let (mut child, lines, address) = listening(db.url().expose(), &[]);
    // The reader goes away: every later log line meets a closed pipe.
    drop(lines);
    let response = agent()
        .get(format!("http://{address}/healthz"))
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    signal(&child, "TERM");
    let status = wait(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
}
