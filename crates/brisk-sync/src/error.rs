//! Every panic message and error text of brisk-sync, each naming the API,
//! the cause and the fix.

pub(crate) const TOO_MANY_PERMITS: &str =
    "`brisk::sync::Semaphore`: the number of permits would exceed `Semaphore::MAX_PERMITS`: \
create the semaphore with fewer permits or add fewer with `add_permits`";

pub(crate) const BLOCKING_IN_TASK: &str =
    "a `brisk::sync` blocking call (`blocking_lock`, `send_blocking`, `recv_blocking`, ...) \
was made inside an async task, where it would block the worker thread: \
use the async method with `.await`, or move the call into `brisk::spawn_blocking`";

pub(crate) const ZERO_CAPACITY: &str =
    "`brisk::sync::mpsc::channel` was given a capacity of zero: \
a bounded channel needs room for at least one message; use `channel(1)` or more";

pub(crate) const ZERO_BROADCAST_CAPACITY: &str =
    "`brisk::sync::broadcast::channel` was given a capacity of zero: \
receivers need at least one slot to read from; use `channel(1)` or more";

pub(crate) const ZERO_BARRIER: &str =
    "`brisk::sync::Barrier::new` was given zero tasks: a barrier needs at least one participant; \
use `Barrier::new(1)` or more";

pub(crate) const RWLOCK_TOO_MANY_READERS: &str =
    "`brisk::sync::RwLock::with_max_readers` was given more readers than the lock can count: \
use at most `RwLock::MAX_READS` readers";
