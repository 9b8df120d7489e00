//! Every panic message of brisk-sim, each naming the API, the cause and the
//! fix, and [`SimError`], what a failed run reports.

use std::fmt;

pub(crate) const RUN_INSIDE_RUNTIME: &str =
    "`brisk::sim::Sim::run` was called inside a Brisk runtime's scheduler (from a task or `block_on`): \
the simulator drives its own nodes on the calling thread and cannot run inside another scheduler; \
call `Sim::run` / `Sim::run_until` from plain synchronous code (a `#[test]` fn, or use \
`#[brisk::test(sim)]`, or `spawn_blocking`), and control the simulation from inside it with `brisk::sim::handle()`";

pub(crate) const RUN_REENTERED: &str =
    "`brisk::sim::Sim::run` was called while this thread already runs a simulation: \
a simulation cannot drive another one from inside its own tasks; build and run the second \
simulation after the first returns, or on another thread";

pub(crate) const NODE_NAME_REUSED: &str = "`brisk::sim::Sim::node` / `Sim::client`: a node with this name already exists: \
node names identify nodes in `crash`, `restart`, traces and seeds; give every node and client its own name";

pub(crate) const UNKNOWN_NODE: &str =
    "brisk::sim: no node has this name (in `crash`, `restart`, `pause`, `resume`, or a network \
fault such as `partition`, `heal`, `clog` or `set_link`): \
use the exact name given to `Sim::node(..)` or `Sim::client(..)`; `Sim::node_names()` lists them";

pub(crate) const CRASH_CLIENT: &str =
    "brisk::sim: `crash` / `restart` was called on a client: a client is the test's own code and \
has no `init` to restart it with; crash the server nodes (`Sim::node(..).init(..)`) instead, \
and let the client observe the crash";

pub(crate) const HANDLE_OUTSIDE_SIM: &str =
    "`brisk::sim::handle()` was called outside a simulation: it controls the simulation that runs \
the calling task; call it from code running on a simulated node or client, or use the `Sim` \
methods (`crash`, `restart`, `pause`, `resume`) between `run_until` steps";

pub(crate) const BAD_TICK: &str =
    "`brisk::sim::Builder::tick` was given a tick of zero or above 1 µs: \
virtual time advances in whole ticks, so it must be at least 1 ns and at most 1 µs (the default)";

pub(crate) const BAD_DRIFT: &str = "`brisk::sim::NodeBuilder::clock_drift_ppm` was given a drift of 1,000,000 ppm or more \
in magnitude: such a clock would stop or run backwards; use a value strictly between -1,000,000 and 1,000,000 \
(real crystals drift by tens of ppm)";

pub(crate) const BAD_PCT_DEPTH: &str =
    "`brisk::sim::Scheduler::Pct` was given `depth: 0`: PCT needs a depth of at least 1 \
(1 means no priority change points); depths of 2 to 5 find most ordering bugs";

pub(crate) const CLIENT_OUTPUT_MISSING: &str =
    "`brisk::sim::Client::output` was called before the client finished (or after its output was taken): \
call it after `Sim::run` returned `Ok(())`, once; use `Client::try_output` to check without panicking";

pub(crate) const BAD_SEED_VAR: &str =
    "BRISK_SEED is not a seed: write it as printed by the failing test, \
in hex with a `0x` prefix (`BRISK_SEED=0x2a`) or in decimal (`BRISK_SEED=42`)";

pub(crate) const BAD_STEP_LIMIT_VAR: &str =
    "BRISK_SIM_STEP_LIMIT is not a number: write the step limit of `#[brisk::test(sim)]` \
in task polls per seed, in decimal or in hex with a `0x` prefix (`BRISK_SIM_STEP_LIMIT=100000000`), \
or `0` for no limit";

pub(crate) const BAD_LATENCY: &str = "`brisk::sim::Latency::uniform(lo, hi)` was given `lo > hi`: \
pass the smaller latency first (`Latency::fixed(d)` for a constant one)";

pub(crate) const BAD_PROBABILITY: &str =
    "`brisk::sim::Link::loss` / `duplicate` / `reorder` was given a probability outside 0.0..=1.0 \
(loss: 0.0..1.0, since TCP retransmits until a segment gets through): pass a fraction, e.g. 0.05 for 5 %";

pub(crate) const BAD_TCP_BUFFER: &str = "`brisk::sim::NetConfig::tcp_buffer` was given 0 bytes: \
no byte could ever be written; use at least 1 (the default is 64 KiB)";

pub(crate) const IP_REUSED: &str = "`brisk::sim::NodeBuilder::ip`: another node already has this IP address: \
addresses identify nodes on the simulated network; give every node its own, or leave `ip` out for a fresh `10.0.x.y`";

pub(crate) const NET_ADDR_NOT_LOCAL: &str =
    "brisk::sim: cannot bind to an address of another node: a simulated node owns only its own IP \
(`NodeBuilder::ip`, see `Sim::ip`), the loopback addresses and the unspecified address; bind to \
`0.0.0.0:port` or the node's IP";

pub(crate) const NET_ADDR_IN_USE: &str = "brisk::sim: address in use: a socket of this node is already bound \
to this port (or a crash has not freed it yet because the node still runs); bind another port, or port 0 for a free one";

pub(crate) const NET_PORTS_EXHAUSTED: &str =
    "brisk::sim: no free ephemeral port on this node: every port from 49152 up is bound; \
drop sockets you no longer use (a leak check: `brisk::net` registrations)";

pub(crate) const NET_NO_SUCH_HOST: &str = "brisk::sim: no simulated node has this IP address: \
connect to a node's IP (`Sim::ip`) or its name (`\"db-1:5432\"`), or give the node this address with `NodeBuilder::ip`";

pub(crate) const NET_UNKNOWN_HOST: &str = "brisk::sim: host name not found: in the simulator, names resolve \
to nodes (the name given to `Sim::node` / `Sim::client`) and `localhost`; check the spelling, or add that node";

pub(crate) const NET_RESOLVE_FORMAT: &str = "brisk::net::lookup_host: expected `host:port`: \
write the port after a colon, e.g. `\"db-1:5432\"`";

pub(crate) const NET_REFUSED: &str = "brisk::sim: connection refused: nothing listens on this port of the \
target node (not bound yet, closed, or the node crashed); bind the listener first, or retry the connect";

pub(crate) const NET_RESET: &str =
    "brisk::sim: connection reset by the peer: its node crashed, it dropped \
the stream with unread data, or it timed out; reconnect, and treat this like a lost connection";

pub(crate) const NET_TIMED_OUT: &str = "brisk::sim: connection timed out: segments were held by a partition \
or clog for longer than `NetConfig::tcp_timeout`; heal the link sooner, raise the timeout, or handle the error by reconnecting";

pub(crate) const NET_SOCKET_CLOSED: &str =
    "brisk::sim: socket is closed: the connection is gone from the \
simulated network (its node crashed); open a new socket";

pub(crate) const NET_WRITE_AFTER_SHUTDOWN: &str = "brisk::net: write after `shutdown(Write)`: \
the stream's sending side is closed; write before shutting it down";

pub(crate) const NET_UDP_NOT_CONNECTED: &str =
    "brisk::net::UdpSocket: `send` / `recv` / `peer_addr` on a socket \
that is not connected: call `connect(addr)` first, or use `send_to` / `recv_from`";

pub(crate) const NET_DATAGRAM_TOO_LARGE: &str =
    "brisk::net::UdpSocket: datagram too large: a UDP payload is \
at most 65,507 bytes; split the message, or use TCP";

/// Why a simulation run failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SimError {
    /// A client's future panicked.
    ClientPanicked {
        /// The client's name.
        client: String,
        /// The task's error: name, spawn location and panic message.
        message: String,
    },
    /// Clients are unfinished but no task can run and no timer is pending.
    Deadlock {
        /// What every task of every node waits on.
        report: String,
    },
    /// Virtual time passed the builder's `time_limit` before the clients
    /// finished.
    TimeLimit {
        /// The limit.
        limit: std::time::Duration,
        /// What every task of every node waits on.
        report: String,
    },
    /// The builder's `step_limit` of task polls ran out before the clients
    /// finished (a livelock, if virtual time stood still).
    StepLimit {
        /// The limit.
        limit: u64,
        /// What every task of every node waits on.
        report: String,
    },
    /// Two runs of the same seed made different scheduling decisions.
    Divergence(Box<crate::trace::Divergence>),
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::ClientPanicked { client, message } => {
                write!(f, "brisk::sim: client \"{client}\" failed: {message}")
            }
            SimError::Deadlock { report } => write!(
                f,
                "brisk::sim: deadlock: clients have not finished, but no task can run and no timer \
                 is pending (a task waits for something no other task will do; a paused node is \
                 never resumed?). What each task waits on:\n{report}"
            ),
            SimError::TimeLimit { limit, report } => write!(
                f,
                "brisk::sim: the clients did not finish within the time limit of {limit:?} of virtual \
                 time: raise `Builder::time_limit`, or look for a task that never completes. What \
                 each task waits on:\n{report}"
            ),
            SimError::StepLimit { limit, report } => write!(
                f,
                "brisk::sim: the clients did not finish within the step limit of {limit} task polls: \
                 look for tasks that keep each other busy without letting virtual time pass (a loop \
                 of `yield_now`, a retry without a sleep), or raise `Builder::step_limit`. What \
                 each task waits on:\n{report}"
            ),
            SimError::Divergence(d) => write!(f, "{d}"),
        }
    }
}

impl std::error::Error for SimError {}

pub(crate) const BAD_DISK_PROBABILITY: &str =
    "`brisk::sim::SimDisk::fail_with` / `short_reads` was given a probability outside 0.0..=1.0: \
pass a fraction, e.g. 0.01 for 1 % of operations (0.0 turns the fault off)";

pub(crate) const DISK_STALE_HANDLE: &str =
    "brisk::sim disk: this file was opened before its node crashed, and a crash closes every file \
of the node: open it again from the restarted node's code";

pub(crate) const DISK_NOT_OPEN_FOR: &str =
    "brisk::sim disk: the file was not opened for this access (EBADF): open it with \
`OpenOptions::read(true)` to read, `write(true)` or `append(true)` to write or `set_len`";

pub(crate) const DISK_OPEN_NO_ACCESS: &str =
    "`brisk::fs::OpenOptions::open` on a simulated disk: none of `read`, `write` or `append` is set: \
set at least one of them";

pub(crate) const DISK_OPEN_BAD_FLAGS: &str =
    "`brisk::fs::OpenOptions::open` on a simulated disk: `create`, `create_new` or `truncate` needs \
`write` or `append`, and `truncate` cannot be combined with `append` (as with std): fix the options";

pub(crate) const DISK_FILE_TOO_LARGE: &str =
    "brisk::sim disk: file too large (EFBIG): a simulated file lives in memory and holds at most \
1 GiB, and this write or `set_len` would go past that; keep simulated files smaller, or test \
large files on the native runtime";

#[cfg(not(unix))]
pub(crate) const DISK_EIO: &str =
    "brisk::sim disk: injected I/O error (EIO) from `SimDisk::fail_with`";

#[cfg(not(unix))]
pub(crate) const DISK_ENOSPC: &str =
    "brisk::sim disk: injected no space left on device (ENOSPC) from `SimDisk::fail_with`";
