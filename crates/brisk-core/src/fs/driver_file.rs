//! The state machine behind a [`File`](super::File) served by an
//! [`FsDriver`](super::FsDriver): the same rules as the blocking one
//! ([`super::blocking`]) over the driver's futures.
//!
//! # Ground rules
//! - **One operation in flight**, in [`Pending`]; every method first settles
//!   it ([`DriverFile::poll_settle`]), so operations reach the driver in the
//!   order they were issued.
//! - **The position lives here.** [`FileIo`] is positional; reads and writes
//!   use `pos`. A write moves `pos` when it starts (and to the driver's end
//!   offset when it completes, which matters for appends).
//! - **Writes are handed off**, as on the blocking pool: `poll_write` starts
//!   the write and returns; its error is reported by the next write, flush,
//!   seek or `run`.
//! - **Orphaned outcomes** of dropped futures are absorbed by the next call:
//!   a read's bytes are dropped (the position did not move, nothing is
//!   lost), a write error is kept, anything else is dropped.

use super::blocking::MAX_BUF;
use super::driver::FileIo;
use crate::net::BoxFuture;
use crate::task::cancel;
use std::fmt;
use std::future::poll_fn;
use std::io::{self, SeekFrom};
use std::task::{ready, Context, Poll};

/// The largest file position, as with the OS (`off_t` is signed): seeks
/// and writes past it fail with kind `InvalidInput`.
const MAX_POS: u64 = i64::MAX as u64;

/// A seek to a negative position or past [`MAX_POS`], or a write that
/// would end past it.
fn bad_position() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, crate::error::FS_BAD_POSITION)
}

/// What an operation in flight is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Read,
    Write,
    /// A seek from the end, which needs the length; with the request.
    Seek(SeekFrom),
    Run,
}

/// What a finished operation returned.
enum Outcome {
    Bytes(Vec<u8>),
    End(u64),
    Len(u64),
    Unit,
}

struct Pending {
    op: Op,
    fut: BoxFuture<'static, io::Result<Outcome>>,
}

/// A driver file with its position and operation in flight.
pub(crate) struct DriverFile {
    io: Box<dyn FileIo>,
    pos: u64,
    pending: Option<Pending>,
    last_write_err: Option<io::Error>,
}

impl DriverFile {
    /// A file at position 0 (an appending file's writes still go to the
    /// end; its position moves there after each write).
    pub(crate) fn new(io: Box<dyn FileIo>) -> DriverFile {
        DriverFile {
            io,
            pos: 0,
            pending: None,
            last_write_err: None,
        }
    }

    /// The driver's file, for calls outside the ordered state machine
    /// (`metadata`).
    pub(crate) fn io(&self) -> &dyn FileIo {
        &*self.io
    }

    fn start(&mut self, op: Op, fut: BoxFuture<'static, io::Result<Outcome>>) {
        debug_assert!(self.pending.is_none());
        self.pending = Some(Pending { op, fut });
    }

    /// Waits for the operation in flight: `Ok(None)` if there was none.
    /// A cancellation point: in cancelled code the wait ends with an error
    /// and the operation stays in flight for a later call.
    #[allow(clippy::type_complexity)] // a one-off shape, named by the docs
    fn poll_settle(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<(Op, io::Result<Outcome>)>>> {
        let Some(p) = &mut self.pending else {
            return Poll::Ready(Ok(None));
        };
        let res = ready!(cancel::poll_io(|| p.fut.as_mut().poll(cx)))?;
        let op = p.op;
        self.pending = None;
        if let (Op::Write, Ok(Outcome::End(end))) = (op, &res) {
            self.pos = *end;
        }
        Poll::Ready(Ok(Some((op, res))))
    }

    fn absorb(&mut self, op: Op, res: io::Result<Outcome>) {
        if let (Op::Write, Err(e)) = (op, res) {
            if self.last_write_err.is_none() {
                self.last_write_err = Some(e);
            }
        }
    }

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
                Some((Op::Read, Ok(Outcome::Bytes(bytes)))) => {
                    let n = bytes.len().min(dst.len());
                    dst[..n].copy_from_slice(&bytes[..n]);
                    self.pos = self.pos.saturating_add(n as u64);
                    return Poll::Ready(Ok(n));
                }
                Some((Op::Read, Err(e))) => return Poll::Ready(Err(e)),
                Some((op, res)) => self.absorb(op, res),
                None => {
                    let want = dst.len().min(MAX_BUF);
                    let fut = self.io.read_at(self.pos, want);
                    self.start(
                        Op::Read,
                        Box::pin(async move { fut.await.map(Outcome::Bytes) }),
                    );
                }
            }
        }
    }

    pub(crate) fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        while let Some((op, res)) = ready!(self.poll_settle(cx))? {
            self.absorb(op, res);
        }
        if let Some(e) = self.last_write_err.take() {
            return Poll::Ready(Err(e));
        }
        if src.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let n = src.len().min(MAX_BUF);
        let Some(end) = self.pos.checked_add(n as u64).filter(|e| *e <= MAX_POS) else {
            return Poll::Ready(Err(bad_position()));
        };
        let fut = self.io.write_at(self.pos, src[..n].to_vec());
        self.pos = end;
        self.start(
            Op::Write,
            Box::pin(async move { fut.await.map(Outcome::End) }),
        );
        Poll::Ready(Ok(n))
    }

    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((op, res)) = ready!(self.poll_settle(cx))? {
            self.absorb(op, res);
        }
        Poll::Ready(self.last_write_err.take().map_or(Ok(()), Err))
    }

    pub(crate) fn poll_seek(
        &mut self,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        loop {
            match ready!(self.poll_settle(cx))? {
                Some((Op::Seek(asked), res)) if asked == pos => {
                    let SeekFrom::End(delta) = pos else {
                        unreachable!("only seeks from the end go to the driver")
                    };
                    let len = match res {
                        Ok(Outcome::Len(len)) => len,
                        Ok(_) => 0,
                        Err(e) => return Poll::Ready(Err(e)),
                    };
                    return Poll::Ready(self.seek_to(len, delta));
                }
                Some((op, res)) => self.absorb(op, res),
                None => {
                    if let Some(e) = self.last_write_err.take() {
                        return Poll::Ready(Err(e));
                    }
                    match pos {
                        SeekFrom::Start(n) if n > MAX_POS => {
                            return Poll::Ready(Err(bad_position()));
                        }
                        SeekFrom::Start(n) => {
                            self.pos = n;
                            return Poll::Ready(Ok(n));
                        }
                        SeekFrom::Current(delta) => {
                            return Poll::Ready(self.seek_to(self.pos, delta));
                        }
                        SeekFrom::End(_) => {
                            let fut = self.io.stat();
                            self.start(
                                Op::Seek(pos),
                                Box::pin(async move { fut.await.map(|s| Outcome::Len(s.len)) }),
                            );
                        }
                    }
                }
            }
        }
    }

    fn seek_to(&mut self, base: u64, delta: i64) -> io::Result<u64> {
        match base.checked_add_signed(delta).filter(|n| *n <= MAX_POS) {
            Some(n) => {
                self.pos = n;
                Ok(n)
            }
            None => Err(bad_position()),
        }
    }

    /// Runs the driver operation `f` makes, after the one in flight.
    pub(crate) async fn run(
        &mut self,
        f: impl FnOnce(&dyn FileIo) -> BoxFuture<'static, io::Result<()>>,
    ) -> io::Result<()> {
        poll_fn(|cx| self.poll_flush(cx)).await?;
        let fut = f(&*self.io);
        self.start(
            Op::Run,
            Box::pin(async move { fut.await.map(|()| Outcome::Unit) }),
        );
        poll_fn(|cx| match ready!(self.poll_settle(cx))? {
            Some((Op::Run, res)) => Poll::Ready(res.map(drop)),
            // Unreachable: `&mut self` is held from the start of the job.
            Some((op, res)) => {
                self.absorb(op, res);
                Poll::Ready(Ok(()))
            }
            None => Poll::Ready(Ok(())),
        })
        .await
    }
}

impl Drop for DriverFile {
    /// Never blocks: an operation in flight (a handed-off write) finishes as
    /// a task of the current runtime, as it would on the blocking pool; its
    /// result is dropped. Outside a runtime it is dropped unfinished.
    fn drop(&mut self) {
        if let Some(p) = self.pending.take() {
            if let Some(handle) = crate::runtime::Handle::try_current() {
                drop(handle.spawn(async move {
                    let _ = p.fut.await;
                }));
            }
        }
    }
}

impl fmt::Debug for DriverFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DriverFile")
            .field("pos", &self.pos)
            .field("in_flight", &self.pending.as_ref().map(|p| p.op))
            .field("last_write_err", &self.last_write_err)
            .finish()
    }
}
