//! The listening socket, shared with the stop: connections that reach the kernel after the
//! server stopped accepting get an answer instead of a reset.
//!
//! The server stops accepting the moment a shutdown begins, yet clients keep connecting until
//! their load balancer notices; the kernel completes those connections and queues them. Closing
//! the socket then resets every queued connection, and its client cannot tell whether its
//! request ran. A second handle keeps the socket open, and after the stop each connection in
//! the queue is read and answered 503 (nothing was done; retry), until the process exits.
//! (Connections the server itself accepted but had not yet handed to a worker when it stopped
//! are closed by it unanswered: a window of microseconds this cannot reach.)

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use plumb_contract::v1::ErrorResponse;

/// How long a queued connection may take to send its request before it is answered anyway.
const READ_WITHIN: Duration = Duration::from_secs(1);

/// The most of a request that is read (its head), to leave the client's send buffer empty.
const READ_AT_MOST: usize = 64 * 1024;

/// Binds `address` as the server does, with a queue of `backlog` connections; returns the
/// socket for the server and a second handle to it for the stop.
pub fn bind(address: SocketAddr, backlog: i32) -> std::io::Result<(TcpListener, Backlog)> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    socket.bind(&address.into())?;
    socket.listen(backlog)?;
    let listener: TcpListener = socket.into();
    let kept = listener.try_clone()?;
    Ok((listener, Backlog(kept)))
}

/// The second handle to the listening socket.
#[derive(Debug)]
pub struct Backlog(TcpListener);

impl Backlog {
    /// Answers every connection the socket queues, from now until the process exits, on a
    /// thread of its own. Call it once the server has stopped accepting.
    pub fn answer_while_stopping(self) {
        let spawned = std::thread::Builder::new()
            .name("plumb-stopping".to_owned())
            .spawn(move || self.answer_until_exit());
        if let Err(error) = spawned {
            tracing::warn!(%error, "cannot answer connections queued while stopping");
        }
    }

    fn answer_until_exit(self) {
        // The socket is non-blocking (the server made it so, for the descriptor both handles
        // share): wait until a connection is queued rather than spin on `accept`.
        while readable(&self.0) {
            match self.0.accept() {
                Ok((stream, _)) => {
                    // Each on its own thread, so that a client slow to send its request holds
                    // up no other; past a bound, on this one.
                    if ANSWERING.fetch_add(1, Ordering::SeqCst) < MAX_THREADS {
                        let spawned = std::thread::Builder::new()
                            .name("plumb-stopping-answer".to_owned())
                            .spawn(move || {
                                answer(stream);
                                ANSWERING.fetch_sub(1, Ordering::SeqCst);
                            });
                        if spawned.is_err() {
                            ANSWERING.fetch_sub(1, Ordering::SeqCst);
                        }
                    } else {
                        ANSWERING.fetch_sub(1, Ordering::SeqCst);
                        answer(stream);
                    }
                }
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                // Out of descriptors, say: let some answers finish first.
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }
}

/// How many connections are answered on threads of their own at once.
const MAX_THREADS: usize = 64;
static ANSWERING: AtomicUsize = AtomicUsize::new(0);

/// Waits until `listener` has a connection queued; false if it cannot be waited on.
fn readable(listener: &TcpListener) -> bool {
    use std::os::fd::AsRawFd;
    let mut wanted = libc::pollfd {
        fd: listener.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    loop {
        // SAFETY: one valid pollfd, borrowed for the duration of the call.
        #[allow(unsafe_code)]
        let ready = unsafe { libc::poll(&mut wanted, 1, -1) };
        if ready > 0 {
            return true;
        }
        if ready < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return false;
        }
    }
}

fn answer(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(READ_WITHIN));
    let _ = stream.set_write_timeout(Some(READ_WITHIN));
    // Read the request's head so the client is not reset for unread bytes.
    let mut seen = Vec::new();
    let mut buffer = [0_u8; 4096];
    while seen.len() < READ_AT_MOST && !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.extend_from_slice(&buffer[..n]),
        }
    }
    let body = serde_json::to_string(&ErrorResponse {
        code: "unavailable".to_owned(),
        message: "the service is stopping; nothing was done; retry".to_owned(),
        details: Vec::new(),
    })
    .unwrap_or_default();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.shutdown(std::net::Shutdown::Write);
    // What the client still sends (a body) is read to its end before the socket closes: a
    // socket closed with unread data is reset, and the reset can overtake the answer.
    let mut read = 0;
    while read < READ_AT_MOST {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
    }
}
