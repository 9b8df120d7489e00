//! The live console's server: snapshots of a runtime, streamed over TCP as
//! newline-delimited JSON to `brisk-console` (or `nc`, or a script).
//!
//! # Protocol (version 1)
//! The server writes one JSON object per line to every connected client: one
//! as soon as the client is accepted, then one per interval (250 ms by
//! default). It reads nothing from clients. Each line is:
//!
//! ```text
//! {"v":1,"seq":17,"unix_ms":1767225600000,"dump":{...},"hazards":[...],"metrics":{...}}
//! ```
//!
//! - `v`: the protocol version, [`PROTOCOL_VERSION`]. A version only
//!   changes when a field changes meaning; new fields may appear in any
//!   version, so clients ignore fields they do not know.
//! - `seq`: the snapshot's number, counting from 0 per server.
//! - `unix_ms`: when it was taken, in milliseconds since the Unix epoch.
//! - `dump`: a [`Dump`] as serde serialises it (`runtime`, `tasks`).
//! - `hazards`: the runtime's hazard log, oldest first (up to its
//!   capacity, `DiagConfig::log_capacity`), each
//!   `{"kind":..,"task":id or null,"message":..,"report":text or null}`
//!   (a deadlock's dump and cycles, a wait-for cycle's DOT graph).
//! - `metrics`: the runtime's counters by name (`workers`, `polls`,
//!   `steals`, `inject_queue_depth`, `blocking_threads`, ...), or `null`
//!   for a runtime that keeps none.

use crate::dump::Dump;
use brisk_core::runtime::Handle;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The message when a non-loopback address is bound without
/// [`Builder::allow_remote`].
pub const REMOTE_REFUSED: &str =
    "`brisk::diag::console::Builder::spawn` refused to bind the console \
to a non-loopback address: the console shows every task's name, location and what it waits on to \
anyone who can connect; bind to 127.0.0.1 or [::1] (and reach it through an SSH tunnel), or call \
`.allow_remote(true)` on the builder if the network is trusted";

/// The message when `BRISK_CONSOLE` holds an address other than loopback.
pub const ENV_REMOTE_REFUSED: &str = "the environment variable `BRISK_CONSOLE` names an \
address other than loopback, which it cannot open: the console shows every task's name, \
location and what it waits on to anyone who can connect; use 127.0.0.1 or [::1] (and reach it \
through an SSH tunnel), or, on a trusted network, start the console in code with \
`brisk::diag::console::Builder::new().bind(addr).allow_remote(true).spawn(&handle)`";

/// The message when `BRISK_CONSOLE` holds no socket address.
pub const ENV_NOT_AN_ADDRESS: &str = "the environment variable `BRISK_CONSOLE` is not a socket \
address: set it to an address such as `127.0.0.1:6669` (or `1` for that default), or unset it \
to turn the console off";

/// The message of [`serve`] outside a runtime.
pub const SERVE_OUTSIDE_RUNTIME: &str = "`brisk::diag::console::serve` was called outside a Brisk \
runtime: call it from inside a task or `block_on`, or use \
`Console::builder().spawn(&handle)` with a `brisk::runtime::Handle`";

/// The protocol version the server speaks (the `v` of every line).
pub const PROTOCOL_VERSION: u32 = 1;

/// The address the console listens on unless told otherwise, and the one
/// `brisk-console` connects to by default.
pub const DEFAULT_ADDR: &str = "127.0.0.1:6669";

/// The environment variable read by [`Builder::from_env`]: an address to
/// serve the console on (`127.0.0.1:6669`), `1`, `on` or `true` for
/// [`DEFAULT_ADDR`], or empty, `0`, `off` or `false` for no console.
pub const ENV_VAR: &str = "BRISK_CONSOLE";

/// At most this many clients are served at once; more are closed on accept.
const MAX_CLIENTS: usize = 32;

/// How long a write to one client may block before that client is dropped,
/// so one stalled client cannot stop the others' updates.
const WRITE_TIMEOUT: Duration = Duration::from_millis(500);

/// How often the server thread looks for new clients between snapshots.
const ACCEPT_STEP: Duration = Duration::from_millis(20);

/// Configures a console server; see [`Console::builder`].
#[derive(Clone)]
pub struct Builder {
    addrs: Result<Vec<SocketAddr>, String>,
    interval: Duration,
    allow_remote: bool,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("addrs", &self.addrs)
            .field("interval", &self.interval)
            .field("allow_remote", &self.allow_remote)
            .finish()
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            addrs: Ok(vec![SocketAddr::from(([127, 0, 0, 1], 6669))]),
            interval: Duration::from_millis(250),
            allow_remote: false,
        }
    }
}

impl Builder {
    /// A builder for [`DEFAULT_ADDR`], a 250 ms interval, loopback only.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// A builder for the address in `BRISK_CONSOLE` ([`ENV_VAR`]):
    /// `None` when the variable is unset, empty, `0` or `off`; the default
    /// address for `1` or `on`; an error naming the variable when its value
    /// is not a socket address, or is one other than loopback (the variable
    /// cannot allow remote access; [`allow_remote`](Builder::allow_remote)
    /// in code can).
    ///
    /// Native runtimes built by the facade (`brisk::Runtime::builder()`,
    /// `#[brisk::main]`, `brisk::run`) call this themselves; use it when
    /// starting a console for another runtime.
    ///
    /// # Errors
    /// If the variable holds something other than a loopback socket address.
    pub fn from_env() -> Option<io::Result<Builder>> {
        let value = std::env::var(ENV_VAR).ok()?;
        Builder::from_env_value(&value)
    }

    fn from_env_value(value: &str) -> Option<io::Result<Builder>> {
        let value = value.trim();
        match value.to_ascii_lowercase().as_str() {
            "" | "0" | "off" | "false" => None,
            "1" | "on" | "true" => Some(Ok(Builder::new())),
            _ => Some(match value.parse::<SocketAddr>() {
                Ok(addr) if !addr.ip().is_loopback() => Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{ENV_REMOTE_REFUSED} (it is `{value}`)"),
                )),
                Ok(addr) => Ok(Builder::new().bind(addr)),
                Err(_) => Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{ENV_NOT_AN_ADDRESS} (it is `{value}`)"),
                )),
            }),
        }
    }

    /// The address to listen on (default [`DEFAULT_ADDR`]). Port 0 picks a
    /// free port; [`Console::local_addr`] tells which. A host name is
    /// resolved now; every address it resolves to must be a loopback
    /// address unless [`allow_remote`](Builder::allow_remote) is set.
    pub fn bind(mut self, addr: impl ToSocketAddrs) -> Builder {
        self.addrs = addr
            .to_socket_addrs()
            .map(|a| a.collect())
            .map_err(|e| e.to_string());
        self
    }

    /// How often a snapshot is sent to every client (default 250 ms; at
    /// least 10 ms).
    pub fn interval(mut self, interval: Duration) -> Builder {
        self.interval = interval.max(Duration::from_millis(10));
        self
    }

    /// Allows binding to an address other than loopback (default `false`):
    /// anyone who can reach it sees every task's name, location and wait.
    pub fn allow_remote(mut self, allow: bool) -> Builder {
        self.allow_remote = allow;
        self
    }

    /// Binds the listener and starts the server thread for `handle`'s
    /// runtime. The thread is a plain OS thread, not a task: the console
    /// keeps updating while every worker is stuck.
    ///
    /// # Errors
    /// - [`io::ErrorKind::InvalidInput`] with [`REMOTE_REFUSED`] when the
    ///   address is not loopback and remote access was not allowed;
    /// - the error of resolving, binding or starting the thread.
    pub fn spawn(self, handle: &Handle) -> io::Result<Console> {
        let addrs = self
            .addrs
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        if !self.allow_remote {
            if let Some(remote) = addrs.iter().find(|a| !a.ip().is_loopback()) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{REMOTE_REFUSED} (the address is {remote})"),
                ));
            }
        }
        let listener = TcpListener::bind(&addrs[..])?;
        listener.set_nonblocking(true)?;
        let local_addr = listener.local_addr()?;
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let server = Server {
            handle: handle.clone(),
            listener,
            clients: Vec::new(),
            interval: self.interval,
            seq: 0,
        };
        let thread = std::thread::Builder::new()
            .name("brisk-console".into())
            .spawn(move || server.run(stop_rx))?;
        let server = Arc::new(Running {
            local_addr,
            runtime: runtime_key(handle),
            stop: Mutex::new(Some(stop_tx)),
            thread: Mutex::new(Some(thread)),
        });
        let mut serving = SERVING.lock().unwrap_or_else(|e| e.into_inner());
        serving.retain(|s| s.strong_count() > 0);
        serving.push(Arc::downgrade(&server));
        Ok(Console { server })
    }
}

/// A running console server. Dropping it stops the server thread and closes
/// its socket and every client connection (for a server shared through
/// [`serve`], dropping the last handle does); the server also stops by
/// itself when its runtime shuts down.
///
/// ```
/// use std::io::BufRead;
/// # brisk::run(async {
/// let console = brisk::diag::console::Console::builder()
///     .bind("127.0.0.1:0") // any free port; the default is 127.0.0.1:6669
///     .spawn(&brisk::runtime::Handle::current())
///     .unwrap();
/// // Any client gets one JSON snapshot per line.
/// let stream = std::net::TcpStream::connect(console.local_addr()).unwrap();
/// let mut line = String::new();
/// std::io::BufReader::new(stream).read_line(&mut line).unwrap();
/// assert!(line.starts_with(r#"{"v":1,"#));
/// # });
/// ```
#[must_use = "the console server stops when this is dropped"]
pub struct Console {
    server: Arc<Running>,
}

/// A server thread, shared by the [`Console`]s that [`serve`] hands out
/// for the same runtime; stopped when the last one is dropped.
struct Running {
    local_addr: SocketAddr,
    runtime: usize,
    stop: Mutex<Option<mpsc::Sender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// The running servers, so that [`serve`] finds the one a runtime already
/// has (started from `BRISK_CONSOLE`, say) instead of binding a second
/// one. Only weak references: the list keeps nothing alive.
static SERVING: Mutex<Vec<Weak<Running>>> = Mutex::new(Vec::new());

/// Identifies a runtime while it is alive: the address of its backend.
fn runtime_key(handle: &Handle) -> usize {
    handle.backend() as *const dyn brisk_core::runtime::Backend as *const () as usize
}

impl Running {
    fn is_running(&self) -> bool {
        self.thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_some_and(|t| !t.is_finished())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Dropping the sender wakes the server thread at once.
        drop(
            self.stop
                .get_mut()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        let thread = self
            .thread
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(t) = thread {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

impl Console {
    /// A builder: [`DEFAULT_ADDR`], a 250 ms interval, loopback only.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// The address the server listens on (with the actual port when it was
    /// bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr
    }

    /// True while the server thread runs (it ends when the runtime shuts
    /// down, or if the listener fails).
    pub fn is_running(&self) -> bool {
        self.server.is_running()
    }
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console")
            .field("local_addr", &self.server.local_addr)
            .field("running", &self.is_running())
            .finish()
    }
}

/// Serves the current runtime on [`DEFAULT_ADDR`] (or on the address in
/// `BRISK_CONSOLE`, when set) until the returned [`Console`] is dropped:
/// the one line that turns the console on. Then run `brisk-console`.
///
/// If the runtime already serves a console — because it was started with
/// `BRISK_CONSOLE` set, say — this returns a handle to that one instead of
/// binding a second ([`Console::local_addr`] tells where it listens); the
/// server stops when the runtime shuts down or when every handle to it is
/// dropped.
///
/// ```no_run
/// #[brisk::main]
/// async fn main() -> std::io::Result<()> {
///     let _console = brisk::diag::console::serve()?;
///     // ... the application; `brisk-console` shows its tasks live.
///     Ok(())
/// }
/// ```
///
/// # Errors
/// If the address cannot be bound (in use, say), or `BRISK_CONSOLE` holds a
/// non-loopback or malformed address.
///
/// # Panics
/// Outside a Brisk runtime; use [`Console::builder`] with a handle there.
#[track_caller]
pub fn serve() -> io::Result<Console> {
    let Some(handle) = Handle::try_current() else {
        panic!("{SERVE_OUTSIDE_RUNTIME}");
    };
    let key = runtime_key(&handle);
    let existing = SERVING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter_map(Weak::upgrade)
        .find(|s| s.runtime == key && s.is_running());
    if let Some(server) = existing {
        return Ok(Console { server });
    }
    let builder = match Builder::from_env() {
        Some(b) => b?,
        None => Builder::new(),
    };
    builder.spawn(&handle)
}

/// Starts the console a runtime was asked for through `BRISK_CONSOLE`, if
/// any, printing to stderr (and carrying on without a console) when the
/// variable is malformed or the address cannot be bound: a diagnostic port
/// must not stop the application.
#[doc(hidden)]
pub fn spawn_from_env(handle: &Handle) -> Option<Console> {
    let result = Builder::from_env()?.and_then(|b| b.spawn(handle));
    match result {
        Ok(console) => Some(console),
        Err(e) => {
            eprintln!("brisk: no live console for this runtime: {e}");
            None
        }
    }
}

/// One line of the protocol.
#[derive(Serialize)]
struct Snapshot<'a> {
    v: u32,
    seq: u64,
    unix_ms: u64,
    dump: &'a Dump,
    hazards: Vec<WireHazard>,
    metrics: Option<BTreeMap<&'static str, u64>>,
}

/// A hazard as the protocol sends it.
#[derive(Serialize)]
struct WireHazard {
    kind: String,
    task: Option<u64>,
    message: String,
    report: Option<String>,
}

/// The hazards to send with a snapshot of `handle`'s runtime: its hazard
/// log (see [`crate::hazards_of`]), each in its wire form.
fn hazards(handle: &Handle, _dump: &Dump) -> Vec<WireHazard> {
    crate::hazards_of(handle)
        .into_iter()
        .map(|h| WireHazard {
            kind: h.kind.to_owned(),
            task: h.task,
            message: h.message,
            report: h.report,
        })
        .collect()
}

struct Server {
    handle: Handle,
    listener: TcpListener,
    clients: Vec<TcpStream>,
    interval: Duration,
    seq: u64,
}

impl Server {
    fn run(mut self, stop: mpsc::Receiver<()>) {
        let mut next = Instant::now() + self.interval;
        loop {
            match stop.recv_timeout(ACCEPT_STEP.min(self.interval)) {
                Err(RecvTimeoutError::Timeout) => {}
                // Dropped (or, never, sent): stop.
                _ => return,
            }
            if self.handle.backend().registry().is_closed() {
                // The runtime shut down; nothing more to show.
                return;
            }
            let mut fresh = Vec::new();
            loop {
                match self.listener.accept() {
                    Ok((stream, _)) => {
                        if self.clients.len() + fresh.len() >= MAX_CLIENTS {
                            continue; // dropped: closed at once
                        }
                        if stream.set_nonblocking(false).is_ok()
                            && stream.set_write_timeout(Some(WRITE_TIMEOUT)).is_ok()
                        {
                            let _ = stream.set_nodelay(true);
                            fresh.push(stream);
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    // ECONNABORTED and friends: that client is gone; look again.
                    Err(e) if is_per_connection(&e) => {}
                    // Out of file descriptors, say: try again next round.
                    Err(_) => break,
                }
            }
            let now = Instant::now();
            let tick = now >= next;
            if tick {
                next = now + self.interval;
            }
            let broadcast = tick && !self.clients.is_empty();
            if fresh.is_empty() && !broadcast {
                continue; // nobody to send to: no snapshot taken
            }
            let line = self.snapshot_line();
            if broadcast {
                self.clients.retain_mut(|c| c.write_all(&line).is_ok());
            }
            fresh.retain_mut(|c| c.write_all(&line).is_ok());
            self.clients.append(&mut fresh);
        }
    }

    fn snapshot_line(&mut self) -> Vec<u8> {
        let dump = Dump::of(&self.handle);
        let snapshot = Snapshot {
            v: PROTOCOL_VERSION,
            seq: self.seq,
            unix_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            hazards: hazards(&self.handle, &dump),
            dump: &dump,
            metrics: {
                let m = self.handle.backend().metrics();
                (!m.is_empty()).then(|| m.into_iter().collect())
            },
        };
        self.seq += 1;
        // Only a `Serialize` impl that fails could fail here; the dump's
        // cannot, so an empty line is never sent in practice.
        let mut line = crate::json::to_string(&snapshot).unwrap_or_default();
        line.push('\n');
        line.into_bytes()
    }
}

fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::PermissionDenied
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_values() {
        assert!(Builder::from_env_value("").is_none());
        assert!(Builder::from_env_value("off").is_none());
        assert!(Builder::from_env_value("0").is_none());
        let b = Builder::from_env_value("1").unwrap().unwrap();
        assert_eq!(b.addrs.unwrap(), vec!["127.0.0.1:6669".parse().unwrap()]);
        let b = Builder::from_env_value(" [::1]:7000 ").unwrap().unwrap();
        assert_eq!(b.addrs.unwrap(), vec!["[::1]:7000".parse().unwrap()]);
        let e = Builder::from_env_value("localhost").unwrap().unwrap_err();
        assert!(e.to_string().contains("BRISK_CONSOLE"), "{e}");
        assert!(e.to_string().contains("`localhost`"), "{e}");
    }
}
