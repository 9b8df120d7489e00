//! Every panic message of brisk-compat, each naming the API, the cause and the fix.

#[cfg(feature = "tokio")]
pub(crate) const NOT_IN_TOKIO: &str =
    "`brisk::compat::tokio::enter` (or `Runtime::new`) was called outside a tokio runtime: \
call it from inside `#[tokio::main]`, a tokio task or `tokio::runtime::Runtime::block_on`, \
or pass a handle with `brisk::compat::tokio::Runtime::from_tokio(handle)`";

#[cfg(feature = "tokio")]
pub(crate) const ENTER_MOVED_THREADS: &str =
    "a `brisk::compat::tokio::enter` future with `!Send` tasks (`brisk::spawn_local`) was polled on \
another thread than before: those tasks can only run on the thread that spawned them; \
await the `enter` future directly in `#[tokio::main]` or `block_on` (which stay on one thread) \
instead of moving it into `tokio::spawn`, or use `brisk::spawn` for `Send` tasks";
