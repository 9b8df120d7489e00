//! Every error and panic message of `brisk::io`, each naming the API, the
//! cause and the fix.
//!
//! They live here rather than in the crate's `error.rs` only because this
//! module was written alongside others editing that file; they can move there.

use std::io;

pub(crate) const READ_EXACT_EOF: &str =
    "`read_exact` reached the end of the stream before the buffer was full: \
the stream is shorter than expected; read what is there with `read` or `read_to_end`";

pub(crate) const INVALID_UTF8: &str = "the stream did not contain valid UTF-8: \
read bytes with `read_to_end` / `read_until` and decode them yourself \
(for example with `String::from_utf8_lossy`)";

pub(crate) const WRITE_ZERO: &str = "the writer accepted zero bytes of a non-empty buffer: \
it cannot take more data (a full fixed-size buffer, or a closed peer)";

pub(crate) const FILL_BUF_NOT_READY: &str =
    "`fill_buf`: the reader's `poll_fill_buf` returned data and then, asked again \
without a `consume` in between, did not return it: the reader breaks the `AsyncBufRead` \
contract; wrap the underlying reader in `brisk::io::BufReader` instead";

pub(crate) const FILL_BUF_POLLED_AFTER_COMPLETION: &str =
    "a `brisk::io::FillBuf` future was polled after it returned: \
call `fill_buf()` again for a new future";

pub(crate) const SEEK_OVERFLOW: &str =
    "`BufReader::poll_seek`: `SeekFrom::Current` offset overflows once the buffered bytes are \
accounted for: seek with `SeekFrom::Start` instead";

pub(crate) const BUF_READER_ZERO_CAPACITY: &str =
    "`BufReader::with_capacity` was given a capacity of 0: \
a buffered reader needs room for at least one byte; read the inner reader directly instead";

pub(crate) const UNSPLIT_UNRELATED: &str =
    "`ReadHalf::unsplit` was given the `WriteHalf` of another stream: \
pass the `WriteHalf` returned by the same `brisk::io::split` call (check with `ReadHalf::is_pair_of`)";

/// An `io::Error` of `kind` carrying one of the messages above.
pub(crate) fn error(kind: io::ErrorKind, message: &'static str) -> io::Error {
    io::Error::new(kind, message)
}
