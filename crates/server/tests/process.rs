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

/// Reads the log until a line contains `needle`.
fn wait_for_log(lines: &mut LogLines, needle: &str) {
    for line in lines.by_ref() {
        if line.unwrap().contains(needle) {
            return;
        }
    }
    panic!("the server's log ended without {needle:?}");
}

/// A request on a connection of its own (a pooled one would still be served while stopping).
fn fresh(method: &str, url: &str, body: Option<&str>) -> Result<(u16, Value), ureq::Error> {
    let request = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json")
        .body(body.unwrap_or("").to_owned())
        .unwrap();
    let mut response = agent().run(request)?;
    let status = response.status().as_u16();
    Ok((
        status,
        response
            .body_mut()
            .read_json::<Value>()
            .unwrap_or(Value::Null),
    ))
}

/// A request that waits behind a lock `holder` takes on `accounts`, sent once the server is
/// listening; returns once the server's session is seen waiting.
fn blocked_request(
    db: &plumb_pg::TestDatabase<'_>,
    holder: &mut diesel::PgConnection,
    method: &'static str,
    url: String,
    body: Option<&'static str>,
) -> std::thread::JoinHandle<(u16, Value)> {
    holder
        .batch_execute("BEGIN; LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE;")
        .unwrap();
    let request = std::thread::spawn(move || fresh(method, &url, body).unwrap());
    let mut watcher: diesel::PgConnection = db.connect().unwrap();
    while !common::server_waits_for_accounts(&mut watcher) {
        assert!(
            !request.is_finished(),
            "the request did not wait for the lock"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    request
}

#[test]
fn sigterm_finishes_the_request_in_flight_answers_new_connections_503_then_exits_0() {
    let db = common::database();
    let (mut child, mut lines, address) = listening(
        db.url().expose(),
        &[
            ("PLUMB_LOCK_TIMEOUT_MS", "600000"),
            ("PLUMB_STATEMENT_TIMEOUT_MS", "600000"),
        ],
    );
    let base = format!("http://{address}");
    let mut holder: diesel::PgConnection = db.connect().unwrap();
    let in_flight = blocked_request(&db, &mut holder, "GET", format!("{base}/v1/accounts"), None);

    signal(&child, "TERM");
    wait_for_log(&mut lines, "stopping");
    std::thread::spawn(move || lines.for_each(drop));
    // Until the server stops accepting, a new connection is served; from then on it is
    // answered 503 (nothing done, retry), never reset.
    // (A connection the server accepted but had not handed to a worker as it stopped is
    // closed unanswered: that window is tried again.)
    let answered = (0..20_000)
        .filter_map(|_| fresh("GET", &format!("{base}/healthz"), None).ok())
        .find(|(status, _)| *status != 200);
    let (status, body) = answered.expect("a connection made while stopping gets an answer");
    assert_eq!(
        (status, &body["code"]),
        (503, &"unavailable".into()),
        "{body}"
    );
    assert!(
        child.try_wait().unwrap().is_none(),
        "still draining the request in flight"
    );

    holder.batch_execute("ROLLBACK").unwrap();
    let (status, body) = in_flight.join().unwrap();
    assert_eq!(status, 200, "{body}");
    let status = wait(&mut child, Duration::from_secs(30));
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_write_still_running_at_the_shutdown_timeout_is_rolled_back_answered_503_and_exits_3() {
    let db = common::database();
    let (mut child, mut lines, address) = listening(
        db.url().expose(),
        &[
            ("PLUMB_LOCK_TIMEOUT_MS", "600000"),
            ("PLUMB_STATEMENT_TIMEOUT_MS", "600000"),
            ("PLUMB_SHUTDOWN_TIMEOUT_S", "0"),
        ],
    );
    let base = format!("http://{address}");
    let mut holder: diesel::PgConnection = db.connect().unwrap();
    let write = blocked_request(
        &db,
        &mut holder,
        "POST",
        format!("{base}/v1/accounts"),
        Some(r#"{"email":"cut-off@example.com"}"#),
    );

    signal(&child, "TERM");
    wait_for_log(&mut lines, "the shutdown timeout passed");
    std::thread::spawn(move || lines.for_each(drop));
    // The insert runs once the lock is free, after the deadline: it must not commit.
    holder.batch_execute("ROLLBACK").unwrap();
    let (status, body) = write.join().unwrap();
    assert_eq!(
        (status, &body["code"]),
        (503, &"unavailable".into()),
        "{body}"
    );
    let status = wait(&mut child, Duration::from_secs(30));
    assert_eq!(status.code(), Some(3), "{status:?}");

    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let left: Count =
        diesel::sql_query("SELECT count(*) AS n FROM accounts WHERE email = 'cut-off@example.com'")
            .get_result(&mut holder)
            .unwrap();
    assert_eq!(left.n, 0, "the cut-off write was rolled back");
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

/// What the server answers to `request` sent as is: its status line.
fn raw_status(address: &str, request: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.write_all(request).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    answer.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn malformed_http_is_answered_without_an_error_line_per_request() {
    let db = common::database();
    let (mut child, lines, address) = listening(db.url().expose(), &[]);
    let bad_length = b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n".to_vec();
    let mut many_headers = b"GET /healthz HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..200 {
        many_headers.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
    }
    many_headers.extend_from_slice(b"\r\n");
    for _ in 0..3 {
        assert!(raw_status(&address, &bad_length).contains(" 400 "));
        assert!(raw_status(&address, &many_headers).contains(" 431 "));
    }
    signal(&child, "TERM");
    let log: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(wait(&mut child, Duration::from_secs(30)).success());
    let errors: Vec<&String> = log.iter().filter(|l| l.contains("ERROR")).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(
        log.iter().any(|l| l.contains("stopped")),
        "the log was read to its end: {log:#?}"
    );
}
