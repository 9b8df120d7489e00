//! Every panic message and error text of brisk-sync, each naming the API,
//! the cause and the fix.

pub(crate) const TOO_MANY_PERMITS: &str =
    "`brisk::sync::Semaphore`: the number of permits would exceed `Semaphore::MAX_PERMITS`: \
create the semaphore with fewer permits or add fewer with `add_permits`";

pub(crate) const POLLED_AFTER_COMPLETION: &str =
    "a `brisk::sync` acquire future (`lock`, `read`, `write`, `acquire`, ...) was polled again \
after it completed: the guard it returned owns the lock; await each future once, or fuse it";

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

pub(crate) const BARRIER_WAIT_REPOLLED: &str =
    "`brisk::sync::BarrierWait` was polled after it completed: a wait future reports its \
generation once; call `Barrier::wait` again to wait for the next generation";

pub(crate) const ONESHOT_POLLED_AFTER_COMPLETION: &str =
    "`brisk::sync::oneshot::Receiver` was polled after it completed: it yields its value (or \
`RecvError`) once; stop polling it after `Ready`, or use `try_recv`, which keeps returning \
`TryRecvError::Closed` afterwards";

pub(crate) const MPSC_SEND_POLLED_AFTER_COMPLETION: &str =
    "`brisk::sync::mpsc::Send` (the future of `Sender::send`) was polled after it completed: \
its message was already sent or handed back in the error; call `send` again for the next message";

pub(crate) const MPSC_RESERVE_POLLED_AFTER_COMPLETION: &str =
    "`brisk::sync::mpsc::Reserve` or `ReserveOwned` (the future of `Sender::reserve` or \
`Sender::reserve_owned`) was polled after it completed: the slot it reserved already belongs to \
the permit it returned; call `reserve` (or `reserve_owned` on a clone of the sender) again for \
another slot";
