//! The state machine behind [`File`](super::File) and the stdio handles: a
//! blocking std I/O object driven on the current runtime's blocking pool, one
//! operation at a time.
//!
//! # Ground rules
//! - **One operation in flight.** [`State::Busy`] holds the `JoinHandle` of
//!   the only blocking job working on the object. Every method first waits
//!   for that job ([`Blocking::poll_settle`]) before it starts another one, so
//!   reads, writes, seeks and `run` jobs reach the OS in the order they were
//!   issued.
//! - **The object and the buffer travel with the job.** Starting a job moves
//!   the object `T` and the [`Buf`] into the closure; the job hands both back
//!   with its outcome ([`Done`]). Nothing is shared with the blocking thread,
//!   so no lock is needed.
//! - **Writes are handed off.** `poll_write` copies up to [`MAX_BUF`] bytes
//!   into the buffer, starts the job and returns `Ready(Ok(n))` at once: the
//!   write is *in flight*. Its error is kept in `last_write_err` and reported
//!   by the next write, flush, seek or `run`. Only `poll_flush` (and what
//!   builds on it) tells the caller the bytes reached the OS.
//! - **Read-ahead.** After a read job, `buf` may hold bytes the OS returned
//!   but no caller took (the reader's future was dropped while the job ran).
//!   The OS position is then ahead of the *logical* position by
//!   `buf.unread()`. The next read returns those bytes first; a write, seek or
//!   `run` first seeks back over them ([`rewind`]), so it acts at the logical
//!   position.
//! - **Orphaned outcomes.** An outcome nobody waited for (its future was
//!   dropped) is absorbed by the next call ([`Blocking::absorb`]): read data
//!   stays as read-ahead, a write error is kept for later, a read error or a
//!   seek or `run` result is dropped.
//! - **The runtime can go away.** If the job is cancelled (its runtime shut
//!   down) or panicked, the object went down with it: the state becomes
//!   [`State::Gone`] and every later call returns an error of kind `Other`.

use crate::task::{cancel, spawn_blocking, JoinError, JoinHandle};
use std::fmt;
use std::future::{poll_fn, Future};
use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// The most bytes one blocking job reads or writes.
pub(crate) const MAX_BUF: usize = 2 * 1024 * 1024;

/// The message of the error a cancelled blocking job becomes.
const RUNTIME_GONE: &str = "a blocking I/O operation of `brisk::fs` or brisk's stdio \
was cancelled because its Brisk runtime is gone (shut down): keep the runtime alive \
while files and stdio handles are in use";

/// The message of the error a panicked blocking job becomes.
const JOB_PANICKED: &str = "a blocking I/O operation of `brisk::fs` or brisk's stdio panicked";

/// The message of every call on a handle whose object was lost.
const HANDLE_LOST: &str = "this file or stdio handle is unusable: an earlier blocking \
operation was cancelled because its Brisk runtime is gone (shut down), and the \
underlying handle went with it; open it again on a running runtime";

/// Turns the `JoinError` of a blocking job into an `io::Error` of kind `Other`.
pub(crate) fn join_error(e: JoinError) -> io::Error {
    if e.is_panic() {
        io::Error::other(format!("{JOB_PANICKED}: {e}"))
    } else {
        io::Error::other(format!("{RUNTIME_GONE} ({e})"))
    }
}

/// Runs `f` on the current runtime's blocking pool and returns its result.
///
/// # Panics
/// If called outside a Brisk runtime (the message of `spawn_blocking`).
pub(crate) async fn asyncify<F, R>(f: F) -> io::Result<R>
where
    F: FnOnce() -> io::Result<R> + Send + 'static,
    R: Send + 'static,
{
    let mut job = spawn_blocking(f);
    // A cancellation point that returns an `io::Error` (the job itself runs
    // to the end on its thread; its result is dropped).
    poll_fn(|cx| cancel::poll_io(|| Pin::new(&mut job).poll(cx)))
        .await?
        .map_err(join_error)?
}

/// A blocking I/O object that [`Blocking`] drives. Stdio handles support
/// only some of the operations; the others are never called for them.
pub(crate) trait BlockingIo: Send + 'static {
    /// Reads into `dst`, like [`io::Read::read`].
    fn read(&mut self, dst: &mut [u8]) -> io::Result<usize>;

    /// Writes all of `src` and pushes it to the OS (flushing any user-space
    /// buffer), like [`io::Write::write_all`] followed by `flush`.
    fn write_all(&mut self, src: &[u8]) -> io::Result<()>;

    /// Moves the position, like [`io::Seek::seek`].
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64>;
}

/// The error of an operation a handle does not support.
pub(crate) fn unsupported(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::Unsupported, what)
}

/// The bytes of the current job: read-ahead after a read, pending bytes during
/// a write. The valid bytes are `bytes[pos..end]`; `bytes` keeps its length
/// (and so its zeroed capacity) across reads.
#[derive(Debug, Default)]
pub(crate) struct Buf {
    bytes: Vec<u8>,
    pos: usize,
    end: usize,
}

impl Buf {
    /// Bytes read from the OS that no caller has taken yet.
    fn unread(&self) -> usize {
        self.end - self.pos
    }

    fn clear(&mut self) {
        self.pos = 0;
        self.end = 0;
    }

    /// Moves as many unread bytes as fit into `dst`.
    fn copy_to(&mut self, dst: &mut [u8]) -> usize {
        let n = dst.len().min(self.unread());
        dst[..n].copy_from_slice(&self.bytes[self.pos..self.pos + n]);
        self.pos += n;
        if self.pos == self.end {
            self.clear();
        }
        n
    }

    /// Takes up to [`MAX_BUF`] bytes of `src` to write.
    fn copy_from(&mut self, src: &[u8]) -> usize {
        let n = src.len().min(MAX_BUF);
        self.bytes.clear();
        self.bytes.extend_from_slice(&src[..n]);
        self.pos = 0;
        self.end = n;
        n
    }

    /// On the blocking thread: reads up to `want` bytes, retrying interrupts.
    fn read_from<T: BlockingIo>(&mut self, io: &mut T, want: usize) -> io::Result<usize> {
        debug_assert_eq!(self.unread(), 0);
        if self.bytes.len() < want {
            self.bytes.resize(want, 0);
        }
        loop {
            match io.read(&mut self.bytes[..want]) {
                Ok(n) => {
                    self.pos = 0;
                    self.end = n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.clear();
                    return Err(e);
                }
            }
        }
    }

    /// On the blocking thread: writes the pending bytes; empties the buffer
    /// whatever happens.
    fn write_to<T: BlockingIo>(&mut self, io: &mut T) -> io::Result<()> {
        let res = io.write_all(&self.bytes[self.pos..self.end]);
        self.clear();
        res
    }
}

/// On the blocking thread: seeks back over `unread` bytes of read-ahead, so
/// the OS position is the logical one again.
fn rewind<T: BlockingIo>(io: &mut T, unread: usize) -> io::Result<()> {
    if unread == 0 {
        return Ok(());
    }
    // `unread <= MAX_BUF`, far below `i64::MAX`.
    io.seek(SeekFrom::Current(-(unread as i64))).map(drop)
}

/// What a finished job did.
#[derive(Debug)]
enum Done {
    /// A read; on success the bytes are in the buffer.
    Read(io::Result<usize>),
    /// A write of the whole buffer.
    Write(io::Result<()>),
    /// A seek, with the new position.
    Seek(io::Result<u64>),
    /// A [`Blocking::run`] job.
    Run(io::Result<()>),
}

/// Where the object is.
enum State<T> {
    /// Here, with its buffer; no job in flight.
    Idle(T, Buf),
    /// On the blocking pool; the job hands it back with its outcome.
    Busy(JoinHandle<(T, Buf, Done)>),
    /// Lost with a cancelled or panicked job (see the ground rules).
    Gone,
}

/// A blocking I/O object driven on the blocking pool, one operation at a
/// time. See the module docs for the ground rules.
pub(crate) struct Blocking<T> {
    state: State<T>,
    /// The error of a handed-off write, until the next write, flush, seek or
    /// `run` reports it. Only the first one is kept.
    last_write_err: Option<io::Error>,
    /// The position the seek in flight was asked for (as the caller gave it),
    /// so that a seek re-polled after `Pending` takes its own result and a
    /// new seek does not take the result of an abandoned one.
    seek_in_flight: Option<SeekFrom>,
}

impl<T: BlockingIo> Blocking<T> {
    /// Wraps `io`, idle, with an empty buffer.
    pub(crate) fn new(io: T) -> Blocking<T> {
        Blocking {
            state: State::Idle(io, Buf::default()),
            last_write_err: None,
            seek_in_flight: None,
        }
    }

    /// True when no job is in flight, no read-ahead is buffered and no write
    /// error waits to be reported: the object could be handed out as is.
    pub(crate) fn is_quiet(&self) -> bool {
        matches!(&self.state, State::Idle(_, buf) if buf.unread() == 0)
            && self.last_write_err.is_none()
    }

    /// Waits for the job in flight, if any. `Ok(None)`: idle, nothing new;
    /// `Ok(Some(done))`: a job just finished and the state is idle again.
    fn poll_settle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<Done>>> {
        match &mut self.state {
            State::Idle(..) => Poll::Ready(Ok(None)),
            State::Gone => Poll::Ready(Err(io::Error::other(HANDLE_LOST))),
            State::Busy(handle) => {
                // A cancellation point: in cancelled code the wait ends with
                // an error; the job's outcome is absorbed by a later call.
                let out = match ready!(cancel::poll_io(|| Pin::new(&mut *handle).poll(cx))) {
                    Ok(out) => out,
                    Err(e) => return Poll::Ready(Err(e)),
                };
                match out {
                    Ok((io, buf, done)) => {
                        self.state = State::Idle(io, buf);
                        Poll::Ready(Ok(Some(done)))
                    }
                    Err(e) => {
                        self.state = State::Gone;
                        Poll::Ready(Err(join_error(e)))
                    }
                }
            }
        }
    }

    /// Keeps what an orphaned outcome leaves for later (see the ground rules).
    fn absorb(&mut self, done: Done) {
        match done {
            Done::Write(Err(e)) => {
                if self.last_write_err.is_none() {
                    self.last_write_err = Some(e);
                }
            }
            Done::Seek(_) => self.seek_in_flight = None,
            Done::Read(_) | Done::Write(Ok(())) | Done::Run(_) => {}
        }
    }

    /// The buffer; only called when idle.
    fn idle_buf(&mut self) -> &mut Buf {
        match &mut self.state {
            State::Idle(_, buf) => buf,
            _ => unreachable!("the buffer is only touched while idle"),
        }
    }

    /// Starts `job` on the blocking pool; only called when idle.
    fn start(&mut self, job: impl FnOnce(&mut T, &mut Buf) -> Done + Send + 'static) {
        let State::Idle(mut io, mut buf) = std::mem::replace(&mut self.state, State::Gone) else {
            unreachable!("a job is only started while idle")
        };
        self.state = State::Busy(spawn_blocking(move || {
            let done = job(&mut io, &mut buf);
            (io, buf, done)
        }));
    }

    /// Reads into `dst`: buffered read-ahead first, else one blocking read of
    /// up to `min(dst.len(), MAX_BUF)` bytes.
    pub(crate) fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        dst: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if dst.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            match ready!(self.poll_settle(cx))? {
                Some(Done::Read(Ok(0))) => return Poll::Ready(Ok(0)),
                Some(Done::Read(Err(e))) => return Poll::Ready(Err(e)),
                Some(done) => self.absorb(done),
                None => {
                    let buf = self.idle_buf();
                    if buf.unread() > 0 {
                        return Poll::Ready(Ok(buf.copy_to(dst)));
                    }
                    let want = dst.len().min(MAX_BUF);
                    self.start(move |io, buf| Done::Read(buf.read_from(io, want)));
                }
            }
        }
    }

    /// Hands up to `MAX_BUF` bytes of `src` to a blocking write and returns
    /// how many; reports the error of an earlier write instead, if any.
    pub(crate) fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            match ready!(self.poll_settle(cx))? {
                Some(done) => self.absorb(done),
                None => {
                    if let Some(e) = self.last_write_err.take() {
                        return Poll::Ready(Err(e));
                    }
                    if src.is_empty() {
                        return Poll::Ready(Ok(0));
                    }
                    let buf = self.idle_buf();
                    let unread = buf.unread();
                    buf.clear();
                    let n = buf.copy_from(src);
                    self.start(move |io, buf| {
                        let res = rewind(io, unread).and_then(|()| buf.write_to(io));
                        buf.clear();
                        Done::Write(res)
                    });
                    return Poll::Ready(Ok(n));
                }
            }
        }
    }

    /// Waits for the job in flight and reports the error of the last write,
    /// if it failed.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            match ready!(self.poll_settle(cx))? {
                Some(done) => self.absorb(done),
                None => return Poll::Ready(self.last_write_err.take().map_or(Ok(()), Err)),
            }
        }
    }

    /// Seeks to `pos` (relative to the logical position for
    /// `SeekFrom::Current`), after the job in flight.
    pub(crate) fn poll_seek(
        &mut self,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        loop {
            match ready!(self.poll_settle(cx))? {
                Some(Done::Seek(res)) if self.seek_in_flight == Some(pos) => {
                    self.seek_in_flight = None;
                    return Poll::Ready(res);
                }
                Some(done) => self.absorb(done),
                None => {
                    if let Some(e) = self.last_write_err.take() {
                        return Poll::Ready(Err(e));
                    }
                    let buf = self.idle_buf();
                    let unread = buf.unread();
                    buf.clear();
                    self.seek_in_flight = Some(pos);
                    self.start(move |io, _| {
                        Done::Seek(rewind(io, unread).and_then(|()| io.seek(pos)))
                    });
                }
            }
        }
    }

    /// Runs `f` on the object, in order after the job in flight and at the
    /// logical position (read-ahead is given back first). Reports the error
    /// of an earlier write instead of running `f`, if there is one.
    ///
    /// Dropping the future after `f` started does not stop `f`; the next
    /// operation waits for it and drops its result.
    pub(crate) async fn run(
        &mut self,
        f: impl FnOnce(&mut T) -> io::Result<()> + Send + 'static,
    ) -> io::Result<()> {
        poll_fn(|cx| self.poll_flush(cx)).await?;
        let buf = self.idle_buf();
        let unread = buf.unread();
        buf.clear();
        self.start(move |io, _| Done::Run(rewind(io, unread).and_then(|()| f(io))));
        poll_fn(|cx| match ready!(self.poll_settle(cx))? {
            Some(Done::Run(res)) => Poll::Ready(res),
            // Unreachable: `&mut self` is held from the start of the job.
            Some(other) => {
                self.absorb(other);
                Poll::Ready(Ok(()))
            }
            None => Poll::Ready(Ok(())),
        })
        .await
    }

    /// Waits for the job in flight and gives back any read-ahead, so the OS
    /// position is the logical one. Reports a pending write error, if any.
    pub(crate) async fn quiesce(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_flush(cx)).await?;
        if self.idle_buf().unread() > 0 {
            self.run(|_| Ok(())).await?;
        }
        Ok(())
    }
}

impl<T> fmt::Debug for Blocking<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Idle(..) => "idle",
            State::Busy(_) => "busy",
            State::Gone => "gone",
        };
        f.debug_struct("Blocking")
            .field("state", &state)
            .field("last_write_err", &self.last_write_err)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buf_copy_to_drains_in_pieces() {
        let mut buf = Buf::default();
        assert_eq!(buf.copy_from(b"hello"), 5);
        let mut dst = [0u8; 3];
        assert_eq!(buf.copy_to(&mut dst), 3);
        assert_eq!(&dst, b"hel");
        assert_eq!(buf.unread(), 2);
        assert_eq!(buf.copy_to(&mut dst), 2);
        assert_eq!(&dst[..2], b"lo");
        assert_eq!(buf.unread(), 0);
    }

    #[test]
    fn buf_copy_from_caps_at_max_buf() {
        let mut buf = Buf::default();
        let big = vec![7u8; MAX_BUF + 10];
        assert_eq!(buf.copy_from(&big), MAX_BUF);
    }
}
