//! Every panic message of brisk-core, each naming the API, the cause and the fix.

pub(crate) const SPAWN_OUTSIDE_RUNTIME: &str =
    "`brisk::spawn` was called outside a Brisk runtime: \
run your code inside `#[brisk::main]`, `brisk::run`, or `Runtime::block_on`, \
or spawn from another thread with `brisk::task::Builder::new().on(&handle).spawn(..)`";

pub(crate) const SPAWN_BLOCKING_OUTSIDE_RUNTIME: &str =
    "`brisk::spawn_blocking` was called outside a Brisk runtime: \
run your code inside `#[brisk::main]`, `brisk::run`, or `Runtime::block_on`, \
or use `handle.spawn_blocking(..)` with a `brisk::runtime::Handle`";

pub(crate) const SPAWN_LOCAL_OUTSIDE_RUNTIME: &str =
    "`brisk::spawn_local` was called outside a Brisk runtime: \
call it from inside a task or from the future given to `Runtime::block_on` / `brisk::run`";

pub(crate) const SPAWN_LOCAL_OTHER_RUNTIME: &str =
    "`brisk::task::Builder::spawn_local` was given a handle to another runtime: \
a `!Send` task can only run on the thread that spawns it; spawn it from inside the target runtime";

pub(crate) const SPAWN_LOCAL_NO_LOCAL_QUEUE: &str =
    "`brisk::spawn_local` was called on a thread that runs no scheduler \
(for example a `spawn_blocking` thread): `!Send` tasks stay on the thread that spawns them, \
so spawn them from a task or from the future given to `Runtime::block_on`";

pub(crate) const SLEEP_OUTSIDE_RUNTIME: &str =
    "`brisk::time::Sleep` was polled outside a Brisk runtime: \
timers need a runtime; run your code inside `#[brisk::main]`, `brisk::run`, or `Runtime::block_on`";

pub(crate) const TIME_DISABLED: &str =
    "`brisk::time::Sleep` was polled on a runtime without timers: \
call `enable_time()` (or `enable_all()`) on the runtime builder";

pub(crate) const TIMER_AFTER_SHUTDOWN: &str = "`brisk::time::Sleep` was polled after its runtime shut down: \
a timer belongs to the runtime it was first polled on; keep that runtime alive while its timers are in use, \
or create the timer inside the runtime that will drive it";

pub(crate) const HANDLE_OUTSIDE_RUNTIME: &str =
    "`brisk::runtime::Handle::current` was called outside a Brisk runtime: \
call it from inside a task or `Runtime::block_on`, or keep the `Handle` from `Runtime::handle()`";

pub(crate) const TASK_ID_OUTSIDE_TASK: &str = "`brisk::task::id` was called outside a task: \
use `brisk::task::try_id()` where there may be no current task";

pub(crate) const JOIN_HANDLE_POLLED_AFTER_COMPLETION: &str =
    "a `brisk::task::JoinHandle` was polled after it already returned its output: \
a JoinHandle yields its output once; keep the value you received";

pub(crate) const JOIN_ERROR_NOT_PANIC: &str =
    "`JoinError::into_panic` was called on a cancelled task's error: \
check `is_panic()` first, or use `try_into_panic()`";

pub(crate) const INTERVAL_ZERO_PERIOD: &str = "`brisk::time::interval` was called with a zero period: \
an interval needs a period greater than zero; use `yield_now` in a loop to run as often as possible";

pub(crate) const NET_OUTSIDE_RUNTIME: &str =
    "brisk::net: a socket was created (or adopted with `from_std`) outside a Brisk runtime: \
sockets belong to the runtime that creates or adopts them; do it inside `#[brisk::main]`, `brisk::run`, or a task";

pub(crate) const NET_UNSUPPORTED: &str = "brisk::net: the current runtime has no network: \
use the native runtime (`brisk::Runtime`) or a backend that provides one";

pub(crate) const FS_NOT_SERVED: &str = "this `brisk::fs` operation is not served by the current \
runtime's file system driver (the simulator's disk serves `read`, `write`, `read_to_string`, \
`try_exists`, `metadata`, `symlink_metadata`, directory creation, listing and removal, `rename`, \
and `File` open, read, write, seek, `metadata`, `set_len`, `sync_all` and `sync_data`; it has no \
permissions, links or OS handles): use one of those operations, or run this code on the native \
runtime";

pub(crate) const FS_BAD_POSITION: &str = "`brisk::fs::File`: invalid position: a seek \
went before the start of the file or past the largest position (`i64::MAX`, as on the OS), or a \
write would end past it: seek to a position within `0..=i64::MAX`";

pub(crate) const FS_NO_TIME: &str = "this time is not kept by the source of the metadata (the \
simulator's disk keeps the times of files, not of directories): use `modified`, `accessed` or \
`created` of a file, or treat the time as unknown";

pub(crate) const FS_STD_OPTIONS: &str =
    "`brisk::fs::OpenOptions::open`: these options were converted \
from a `std::fs::OpenOptions`, whose flags cannot be read back, so the current runtime's file \
system driver (the simulator's disk) cannot open with them: build them with \
`brisk::fs::OpenOptions::new()` instead";

pub(crate) const FS_NOT_STD: &str = "`brisk::fs::File`: this file lives on the current runtime's \
file system driver (the simulator's disk), not on the OS, so it has no std file or descriptor \
(`into_std`, `as_raw_fd`, `as_fd`): keep it a `brisk::fs::File`, or open it on the native runtime";

#[cfg(feature = "tokio-io")]
pub(crate) const FILE_SEEK_PENDING: &str = "`tokio::io::AsyncSeek::start_seek` on a \
`brisk::fs::File`: a seek started earlier has not completed yet; call `poll_complete` until it \
returns `Ready` before starting another (`tokio::io::AsyncSeekExt::seek` does this)";

pub(crate) const TCP_REUNITE_MISMATCH: &str =
    "`brisk::net::tcp::OwnedReadHalf::reunite` was given halves of two different `TcpStream`s: \
halves can only be put back together with the half `into_split` returned with them; \
the `ReuniteError` hands both halves back, so pass this read half its own write half";

#[cfg(any(feature = "hyper", feature = "tokio-io"))]
pub(crate) const NET_READ_UNINIT_OUT_OF_BUF: &str =
    "`TcpStreamIo::poll_read_uninit` returned bytes that are not the start of the buffer it was given: \
the network backend is broken; return the filled prefix of `buf` (the default method does)";

pub(crate) const RAND_EMPTY_RANGE: &str =
    "`brisk::rand::range` was given an empty range: there is no value to pick; \
make sure `lo < hi` for `lo..hi` (or `lo <= hi` for `lo..=hi`) before calling it";

pub(crate) const SCOPE_SPAWN_AFTER_END: &str =
    "`Scope::spawn` was called after its scope finished: a clone of the `Scope` handle \
escaped the `brisk::scope` body; spawn children only while the scope is running, \
or use a `brisk::task::TaskGroup` for work that outlives it";

pub(crate) const SCOPED_HANDLE_POLLED_AFTER_COMPLETION: &str =
    "a `ScopedJoinHandle` was polled after it returned its output: \
await each handle once (use `is_finished` to check without consuming it)";

pub(crate) const JOIN_POLLED_AFTER_COMPLETION: &str =
    "a `brisk::join!` / `brisk::try_join!` / `brisk::future::join_all` future was polled after it \
returned `Ready`: await it once, or wrap it in `futures::future::Fuse` if you poll it by hand";

pub(crate) const RACE_POLLED_AFTER_COMPLETION: &str =
    "a `brisk::future::race` / `race_all` future was polled after it returned `Ready`: \
await it once, or wrap it in `futures::future::Fuse` if you poll it by hand";

pub(crate) const RACE_ALL_EMPTY: &str =
    "`brisk::future::race_all` was given no futures, so no future can win: \
pass at least one (check the iterator's length first, or use `FutureSet` and handle `None`)";

/// Public because `select!` expands in the caller's crate.
pub const SELECT_ALL_DISABLED: &str =
    "`brisk::select!`: every branch is disabled (each future finished with a value that did not \
match its pattern) and there is no `else` branch: add `else => ...` to handle this case";
