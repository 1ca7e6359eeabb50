//! One release of the service as its own process on its own port.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Error, Result};

/// The admin token the rehearsal's services accept: they listen on 127.0.0.1 only.
const ADMIN_TOKEN: &str = "rehearsal-admin-token-not-a-secret";

#[derive(Debug)]
pub struct Service {
    name: &'static str,
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
}

impl Service {
    /// Starts `binary` on a free port against `database_url`, its log in `log`, and waits
    /// until it answers `/healthz`.
    pub fn start(
        name: &'static str,
        binary: &Path,
        database_url: &str,
        log: &Path,
    ) -> Result<Service> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(Error::io("finding a free port"))?
            .port();
        let log_file =
            std::fs::File::create(log).map_err(Error::io(format!("creating {}", log.display())))?;
        let child = Command::new(binary)
            .env("DATABASE_URL", database_url)
            .env("PLUMB_BIND", format!("127.0.0.1:{port}"))
            .env("PLUMB_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .map_err(Error::io(format!("starting {}", binary.display())))?;
        let mut service = Service {
            name,
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let agent = agent(Duration::from_secs(2));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if agent
                .get(&format!("{}/healthz", service.base))
                .call()
                .is_ok()
            {
                return Ok(service);
            }
            if let Ok(Some(status)) = service.child.try_wait() {
                return Err(Error::Setup(format!(
                    "release {name} exited at start ({status}); its log: {}",
                    log.display()
                )));
            }
            if Instant::now() > deadline {
                let _ = service.child.kill();
                return Err(Error::Setup(format!(
                    "release {name} did not answer /healthz within 60 s; its log: {}",
                    log.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Turns a feature flag on or off through this instance's admin endpoint.
    pub fn set_flag(&self, flag: &str, enabled: bool) -> Result<()> {
        agent(Duration::from_secs(30))
            .put(&format!("{}/admin/flags/{flag}", self.base))
            .header("Authorization", &format!("Bearer {ADMIN_TOKEN}"))
            .send_json(serde_json::json!({ "enabled": enabled }))
            .map(drop)
            .map_err(|e| {
                Error::Walk(format!(
                    "turning {flag} on through release {}: {e}",
                    self.name
                ))
            })
    }

    /// SIGTERM, and the wait for the process to drain and exit.
    pub fn stop(mut self) -> Result<()> {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap_or(i32::MAX));
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let status = self
            .child
            .wait()
            .map_err(Error::io(format!("waiting for release {}", self.name)))?;
        if status.success() {
            Ok(())
        } else {
            Err(Error::Walk(format!(
                "release {} stopped with {status}",
                self.name
            )))
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        // Stopped already, or a walk that failed: nothing it started is left running.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .build()
        .new_agent()
}
