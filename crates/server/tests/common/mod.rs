//! A service on a random port over a database of the test's own, and a client for it.
#![allow(clippy::unwrap_used)] // a test that cannot set up should fail loudly
#![allow(dead_code)] // each test binary uses its own part of these helpers

use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;

use actix_web::dev::ServerHandle;
use diesel::PgConnection;
use diesel::connection::SimpleConnection;
use plumb_pg::TestDatabase;
use plumb_server::Config;
use plumb_server::app::{launch, state};
use serde_json::Value;

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

pub fn migrations_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../migrations")
}

pub fn database() -> TestDatabase<'static> {
    TestDatabase::shared_migrated(&migrations_dir()).unwrap()
}

pub fn sql(db: &TestDatabase<'_>, statements: &str) {
    let mut conn: PgConnection = db.connect().unwrap();
    conn.batch_execute(statements).unwrap();
}

/// Whether a session of a service's pool (application_name `plumb-server`) waits for a lock
/// on `accounts`: the event a test waits for before it lets the lock go.
pub fn server_waits_for_accounts(conn: &mut PgConnection) -> bool {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        found: bool,
    }
    diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE NOT l.granted AND l.relation = 'accounts'::regclass \
         AND a.application_name = 'plumb-server') AS found",
    )
    .get_result::<Found>(conn)
    .unwrap()
    .found
}

/// The settings tests start from; `vars` override them.
pub fn config(db: &TestDatabase<'_>, vars: &[(&str, &str)]) -> Config {
    let mut all: Vec<(String, String)> = vec![
        ("DATABASE_URL".into(), db.url().expose().to_owned()),
        ("PLUMB_BIND".into(), "127.0.0.1:0".into()),
        ("PLUMB_WORKERS".into(), "2".into()),
        ("PLUMB_POOL_SIZE".into(), "4".into()),
        ("PLUMB_ADMIN_TOKEN".into(), ADMIN_TOKEN.into()),
        ("PLUMB_FLAG_REFRESH_MS".into(), "100".into()),
        ("PLUMB_SHUTDOWN_TIMEOUT_S".into(), "5".into()),
    ];
    for (key, value) in vars {
        all.retain(|(k, _)| k != key);
        all.push((key.to_string(), value.to_string()));
    }
    Config::from_lookup(|name| all.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())).unwrap()
}

pub struct TestServer {
    pub base: String,
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
    agent: ureq::Agent,
}

impl TestServer {
    pub fn start(config: Config) -> Self {
        let state = state(&config).unwrap();
        let (sender, receiver) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let plumb_server::app::Launched {
                    server, addresses, ..
                } = launch(&config, state).unwrap();
                sender.send((server.handle(), addresses)).unwrap();
                server.await.unwrap();
            });
        });
        let (handle, addresses) = receiver.recv().unwrap();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(30)))
            .build()
            .into();
        Self {
            base: format!("http://{}", addresses[0]),
            handle,
            thread: Some(thread),
            agent,
        }
    }

    /// Sends a request; returns the status and the body as JSON (`Null` when empty).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        let own_type = headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
        if body.is_some() && !own_type {
            request = request.header("content-type", "application/json");
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(body.unwrap_or("").to_owned()).unwrap();
        let mut response = self.agent.run(request).unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, json)
    }

    /// A request without a body: the status, the `Allow` header and the body as text.
    pub fn bare(&self, method: &str, path: &str) -> (u16, Option<String>, String) {
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .body(String::new())
            .unwrap();
        let mut response = self.agent.run(request).unwrap();
        let allow = response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.body_mut().read_to_string().unwrap_or_default();
        (response.status().as_u16(), allow, text)
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, None, &[])
    }

    pub fn send(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        self.call(method, path, Some(&body.to_string()), &[])
    }

    pub fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let auth = format!("Bearer {ADMIN_TOKEN}");
        self.call(
            method,
            path,
            body.map(|b| b.to_string()).as_deref(),
            &[("authorization", &auth)],
        )
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        actix_web::rt::System::new().block_on(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
