//! Every panic message of brisk-iter, each naming the API, the cause and the fix.

pub(crate) const ZERO_LIMIT: &str =
    "`buffered`, `buffer_unordered` or `for_each_concurrent` was given a limit of 0: \
nothing could ever be in flight, so the iterator would never make progress; pass a limit of at least 1";

pub(crate) const YIELD_OUTSIDE_GENERATOR: &str =
    "`brisk::iter::Yielder::yield_` was awaited outside its generator's future \
(the `Yielder` was moved into another task or future): \
await `yield_` only inside the future returned by the closure given to `brisk::iter::stream`";

pub(crate) const FOLD_POLLED_AFTER_COMPLETION: &str =
    "`brisk::iter::Fold` was polled after it completed: \
a future must not be polled again once it has returned `Ready`";
