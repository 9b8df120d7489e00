//! Every panic message of brisk-rt, each naming the API, the cause and the fix.

pub(crate) const BLOCK_ON_INSIDE_RUNTIME: &str = "`Runtime::block_on` (or `brisk::run`) was called from inside a Brisk runtime: \
blocking this thread would stall every task queued on it. Use `.await` on the future instead, \
or, from synchronous code inside a task, move the work into `brisk::spawn_blocking(..)` and call `block_on` there";

pub(crate) const BLOCK_ON_AFTER_SHUTDOWN: &str =
    "`Runtime::block_on` was called on a runtime that was shut down: \
build a new runtime with `brisk::Runtime::builder()`";

pub(crate) const WORKER_THREADS_ZERO: &str =
    "`Builder::worker_threads(0)`: a multi-thread runtime needs at least one worker; \
pass 1 or more, or use `current_thread()` to run everything on the calling thread";

pub(crate) const WORKER_THREADS_ON_CURRENT_THREAD: &str =
    "`Builder::worker_threads` was set on a current-thread runtime: \
a current-thread runtime runs every task on the thread calling `block_on`; \
call `multi_thread()` to get worker threads, or drop the `worker_threads` call";

pub(crate) const MAX_BLOCKING_ZERO: &str = "`Builder::max_blocking_threads(0)`: the blocking pool needs at least one thread; pass 1 or more";

pub(crate) const PANIC_POLICY_STOP: &str = "the Brisk runtime stopped because a task panicked and the runtime was built with \
`on_task_panic(PanicPolicy::ShutdownRuntime)`; use `PanicPolicy::KeepRunning` (the default) to keep serving after task panics. The panic";

pub(crate) const IO_DRIVER_GONE: &str =
    "brisk I/O: the runtime this socket belongs to has shut down: \
create sockets inside the runtime that uses them and keep that runtime alive while they are in use";

pub(crate) const SIGNAL_FORBIDDEN: &str =
    "`brisk::signal::signal`: this signal cannot be handled (SIGKILL, SIGSTOP, SIGSEGV, SIGILL and SIGFPE are reserved): \
listen for another signal, such as SIGTERM or SIGINT";

pub(crate) const SIGNAL_NO_RUNTIME: &str =
    "`brisk::signal`: there is no native Brisk runtime here: \
signals are delivered through the native runtime's reactor; call this inside `#[brisk::main]`, `brisk::run`, or a task of a `brisk::Runtime`";

pub(crate) const CTRL_C_RUNTIME_GONE: &str =
    "`brisk::signal::ctrl_c`: the runtime this ctrl-c listener was created on has shut down, so no ctrl-c can be delivered to it: \
await `ctrl_c()` inside the runtime that runs the program, and keep that runtime alive while waiting";

pub(crate) const UNIX_NO_RUNTIME: &str =
    "`brisk::net::Unix*`: there is no native Brisk runtime here: \
Unix-domain sockets are served by the native runtime's reactor; create them inside `#[brisk::main]`, `brisk::run`, or a task of a `brisk::Runtime`";

pub(crate) const UNIX_REUNITE_MISMATCH: &str =
    "`brisk::net::unix::OwnedReadHalf::reunite` (or `OwnedWriteHalf::reunite`) was given halves of two different `UnixStream`s: \
halves can only be put back together with the half `into_split` returned with them; \
the `ReuniteError` hands both halves back, so pass each half its own partner";
