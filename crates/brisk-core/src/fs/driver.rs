//! The file system contract a backend implements.
//!
//! [`Backend::fs`](crate::runtime::Backend::fs) returns `None` on the native
//! runtime: `brisk::fs` then runs `std::fs` on the blocking pool, exactly as
//! before. A backend that owns its storage (the simulator's per-node disk,
//! later an io_uring driver) returns an [`FsDriver`], and `brisk::fs` sends
//! its operations there instead.
//!
//! # Why futures with owned buffers
//! Every operation returns a [`BoxFuture`] that owns what it needs: paths
//! are `PathBuf`s, writes take a `Vec<u8>`, reads return one. That is the
//! shape a completion-based driver such as io_uring needs (the kernel holds
//! the buffer until the operation completes), and it lets a simulator delay
//! an operation in virtual time before it takes effect.

use crate::net::BoxFuture;
use std::ffi::OsString;
use std::io;
use std::path::PathBuf;
use std::time::SystemTime;

/// How a file is opened: the flags of [`OpenOptions`](super::OpenOptions),
/// with the meaning of [`std::fs::OpenOptions`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenFlags {
    /// Open for reading.
    pub read: bool,
    /// Open for writing.
    pub write: bool,
    /// Every write goes to the end of the file (implies `write`).
    pub append: bool,
    /// Truncate an existing file to length 0.
    pub truncate: bool,
    /// Create the file if it does not exist.
    pub create: bool,
    /// Create the file; fail with `AlreadyExists` if it exists.
    pub create_new: bool,
}

/// What a driver tells about a file or directory; `brisk::fs` turns it
/// into a [`Metadata`](super::Metadata).
///
/// Build it with [`FileStat::new`] and set the other fields (the struct is
/// `#[non_exhaustive]`, so fields can be added without breaking drivers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileStat {
    /// Length in bytes (0 for a directory).
    pub len: u64,
    /// True for a directory, false for a regular file.
    pub is_dir: bool,
    /// True if the file cannot be written.
    pub readonly: bool,
    /// When the contents last changed, on the driver's clock; `None` if the
    /// driver keeps no such time.
    pub modified: Option<SystemTime>,
    /// When the contents were last read; `None` if not kept.
    pub accessed: Option<SystemTime>,
    /// When the entry was created; `None` if not kept.
    pub created: Option<SystemTime>,
}

impl FileStat {
    /// A writable entry of the given length and kind, without times.
    pub fn new(len: u64, is_dir: bool) -> FileStat {
        FileStat {
            len,
            is_dir,
            readonly: false,
            modified: None,
            accessed: None,
            created: None,
        }
    }
}

/// A backend's file system.
///
/// Implementations MUST:
/// - complete every returned future with an `io::Error` (never panic, never
///   hang forever) when an operation fails, with the kind std would give
///   (`NotFound`, `AlreadyExists`, `StorageFull`, ...);
/// - apply an operation when its future completes, not before it is first
///   polled (a dropped, never-polled future does nothing);
/// - keep the operations of one task in the order it awaited them.
pub trait FsDriver: Send + Sync {
    /// Opens the file at `path` with `flags`.
    fn open(
        &self,
        path: PathBuf,
        flags: OpenFlags,
    ) -> BoxFuture<'static, io::Result<Box<dyn FileIo>>>;
    /// Reads the whole file.
    fn read(&self, path: PathBuf) -> BoxFuture<'static, io::Result<Vec<u8>>>;
    /// Writes `contents` as the whole file, creating or truncating it.
    fn write(&self, path: PathBuf, contents: Vec<u8>) -> BoxFuture<'static, io::Result<()>>;
    /// The stat of `path` (the contract has no symlinks, so this also
    /// serves `symlink_metadata`).
    fn stat(&self, path: PathBuf) -> BoxFuture<'static, io::Result<FileStat>>;
    /// Creates a directory whose parent exists.
    fn create_dir(&self, path: PathBuf) -> BoxFuture<'static, io::Result<()>>;
    /// Creates a directory and its missing parents.
    fn create_dir_all(&self, path: PathBuf) -> BoxFuture<'static, io::Result<()>>;
    /// Removes a file.
    fn remove_file(&self, path: PathBuf) -> BoxFuture<'static, io::Result<()>>;
    /// Removes an empty directory.
    fn remove_dir(&self, path: PathBuf) -> BoxFuture<'static, io::Result<()>>;
    /// Removes a directory and everything in it.
    fn remove_dir_all(&self, path: PathBuf) -> BoxFuture<'static, io::Result<()>>;
    /// Renames `from` to `to`, replacing a file at `to`.
    fn rename(&self, from: PathBuf, to: PathBuf) -> BoxFuture<'static, io::Result<()>>;
    /// The names in directory `path` (without `.` and `..`), each with its
    /// stat, in an order that depends only on the directory's contents.
    fn read_dir(&self, path: PathBuf) -> BoxFuture<'static, io::Result<Vec<(OsString, FileStat)>>>;
}

/// An open file of an [`FsDriver`]. Positional: the position lives in
/// [`File`](super::File), so one object can serve several readers.
///
/// Implementations MUST make `read_at` return fewer bytes than asked only
/// at the end of the file or as a short read (never zero before the end),
/// and `write_at` write all of `data` or fail.
pub trait FileIo: Send + Sync {
    /// Reads up to `len` bytes at `offset`; an empty vector at the end.
    fn read_at(&self, offset: u64, len: usize) -> BoxFuture<'static, io::Result<Vec<u8>>>;
    /// Writes all of `data` at `offset` (at the end, if the file was opened
    /// for appending) and returns the offset just past the written bytes.
    fn write_at(&self, offset: u64, data: Vec<u8>) -> BoxFuture<'static, io::Result<u64>>;
    /// Makes the data and the file's directory entry durable.
    fn sync_all(&self) -> BoxFuture<'static, io::Result<()>>;
    /// Makes the data durable.
    fn sync_data(&self) -> BoxFuture<'static, io::Result<()>>;
    /// Truncates or extends the file to `len` bytes.
    fn set_len(&self, len: u64) -> BoxFuture<'static, io::Result<()>>;
    /// The file's stat.
    fn stat(&self) -> BoxFuture<'static, io::Result<FileStat>>;
}

/// Runs `f` with the current runtime's fs driver; `None` if the runtime
/// has none (or there is no runtime): the caller then uses `std::fs` on the
/// blocking pool, which reports a missing runtime itself.
pub(crate) fn with_driver<R>(f: impl FnOnce(&dyn FsDriver) -> R) -> Option<R> {
    crate::context::with_current(|h| h.backend().fs().map(f)).flatten()
}

/// The error of a `brisk::fs` operation the current runtime's fs driver does
/// not serve (`what` names the API).
pub(crate) fn not_served(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("{what}: {}", crate::error::FS_NOT_SERVED),
    )
}

/// Awaits a driver operation as an I/O cancellation point: in cancelled
/// code the wait ends with the `Cancelled` `io::Error` (the operation's
/// future is dropped; a driver applies nothing it has not completed).
pub(crate) async fn drive<T>(mut op: BoxFuture<'static, io::Result<T>>) -> io::Result<T> {
    std::future::poll_fn(|cx| crate::task::cancel::poll_io(|| op.as_mut().poll(cx))).await?
}

/// True if the current runtime has an fs driver.
pub(crate) fn has_driver() -> bool {
    with_driver(|_| ()).is_some()
}
