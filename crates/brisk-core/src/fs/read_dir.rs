//! [`read_dir`], [`ReadDir`] and [`DirEntry`].

use super::blocking::{asyncify, join_error};
use super::driver::FileStat;
use super::{FileType, Metadata};
use crate::task::{spawn_blocking, JoinHandle};
use futures_core::Stream;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// How many entries one blocking job reads.
const BATCH: usize = 32;

/// Lists the entries of the directory at `path`; the async form of
/// [`std::fs::read_dir`].
///
/// Entries come in no particular order, without `.` and `..`. They are read
/// from the OS in batches of 32 per blocking call.
///
/// # Errors
/// Those of `std::fs::read_dir`: for example kind `NotFound`, or an error
/// when `path` is not a directory. Errors of single entries come from
/// [`ReadDir::next_entry`].
///
/// # Cancel safety
/// Dropping the future after its first poll does not stop the call; the
/// opened directory is closed again.
///
/// # Panics
/// If polled outside a Brisk runtime.
///
/// # Examples
/// ```
/// # brisk::run(async {
/// let dir = std::env::temp_dir().join(format!("brisk-doc-read-dir-{}", std::process::id()));
/// brisk::fs::create_dir_all(&dir).await?;
/// brisk::fs::write(dir.join("a.txt"), b"a").await?;
/// brisk::fs::write(dir.join("b.txt"), b"b").await?;
///
/// let mut names = Vec::new();
/// let mut entries = brisk::fs::read_dir(&dir).await?;
/// while let Some(entry) = entries.next_entry().await? {
///     names.push(entry.file_name().into_string().unwrap());
/// }
/// names.sort();
/// assert_eq!(names, ["a.txt", "b.txt"]);
/// brisk::fs::remove_dir_all(&dir).await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref().to_owned();
    if let Some(list) = super::driver::with_driver(|d| d.read_dir(path.clone())) {
        let entries = super::driver::drive(list)
            .await?
            .into_iter()
            .map(|(name, stat)| DirEntry {
                repr: Entry::Driver {
                    path: path.join(&name),
                    name,
                    stat,
                },
            })
            .collect();
        return Ok(ReadDir {
            state: State::Driver(entries),
        });
    }
    let std = asyncify(move || std::fs::read_dir(path)).await?;
    Ok(ReadDir {
        state: State::Idle(Some(Batch {
            entries: VecDeque::with_capacity(BATCH),
            std,
            more: true,
        })),
    })
}

/// The entries of a directory, from [`read_dir`]: call
/// [`next_entry`](ReadDir::next_entry), or use it as a
/// [`Stream`] of `io::Result<DirEntry>`.
///
/// # Examples
/// ```
/// # brisk::run(async {
/// let dir = std::env::temp_dir().join(format!("brisk-doc-read-dir-type-{}", std::process::id()));
/// brisk::fs::create_dir_all(dir.join("sub")).await?;
/// let mut entries = brisk::fs::read_dir(&dir).await?;
/// let entry = entries.next_entry().await?.expect("one entry");
/// assert!(entry.file_type().await?.is_dir());
/// assert!(entries.next_entry().await?.is_none());
/// brisk::fs::remove_dir_all(&dir).await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub struct ReadDir {
    state: State,
}

/// Entries read ahead, and the std iterator they come from.
struct Batch {
    entries: VecDeque<io::Result<DirEntry>>,
    std: std::fs::ReadDir,
    /// False once the std iterator returned `None`.
    more: bool,
}

enum State {
    /// The entries an fs driver listed.
    Driver(VecDeque<DirEntry>),
    /// Here; `None` only after a blocking job was lost (its runtime is gone):
    /// the listing then ends.
    Idle(Option<Batch>),
    /// A blocking job is reading the next batch.
    Busy(JoinHandle<Batch>),
}

impl ReadDir {
    /// The next entry, or `None` at the end of the listing.
    ///
    /// # Errors
    /// An error reading one entry, or, if the runtime shut down while a
    /// batch was being read, an error of kind `Other` (the listing then
    /// ends).
    ///
    /// # Cancel safety
    /// Cancel-safe: if the future is dropped while a batch is being read,
    /// the batch is kept and the next call returns its entries; no entry is
    /// lost or repeated.
    ///
    /// # Panics
    /// If polled outside a Brisk runtime.
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let dir = std::env::temp_dir().join(format!("brisk-doc-next-entry-{}", std::process::id()));
    /// brisk::fs::create_dir_all(&dir).await?;
    /// let mut entries = brisk::fs::read_dir(&dir).await?;
    /// assert!(entries.next_entry().await?.is_none());
    /// brisk::fs::remove_dir_all(&dir).await?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// Polls for the next entry; the poll form of
    /// [`next_entry`](ReadDir::next_entry). Only the waker of the most
    /// recent call is woken.
    ///
    /// # Panics
    /// If polled outside a Brisk runtime.
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let dir = std::env::temp_dir().join(format!("brisk-doc-poll-next-{}", std::process::id()));
    /// brisk::fs::create_dir_all(&dir).await?;
    /// let mut entries = brisk::fs::read_dir(&dir).await?;
    /// let next = std::future::poll_fn(|cx| entries.poll_next_entry(cx)).await?;
    /// assert!(next.is_none());
    /// brisk::fs::remove_dir_all(&dir).await?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            match &mut self.state {
                State::Driver(entries) => return Poll::Ready(Ok(entries.pop_front())),
                State::Idle(None) => return Poll::Ready(Ok(None)),
                State::Idle(Some(batch)) => {
                    if let Some(entry) = batch.entries.pop_front() {
                        return Poll::Ready(entry.map(Some));
                    }
                    if !batch.more {
                        return Poll::Ready(Ok(None));
                    }
                    let State::Idle(Some(mut batch)) =
                        std::mem::replace(&mut self.state, State::Idle(None))
                    else {
                        unreachable!("matched above")
                    };
                    self.state = State::Busy(spawn_blocking(move || {
                        batch.fill();
                        batch
                    }));
                }
                State::Busy(handle) => {
                    let out = ready!(Pin::new(handle).poll(cx));
                    match out {
                        Ok(batch) => self.state = State::Idle(Some(batch)),
                        Err(e) => {
                            self.state = State::Idle(None);
                            return Poll::Ready(Err(join_error(e)));
                        }
                    }
                }
            }
        }
    }
}

impl Batch {
    /// On the blocking thread: reads up to [`BATCH`] entries, with their
    /// file types (free on most platforms: the OS returns them with the
    /// names).
    fn fill(&mut self) {
        for _ in 0..BATCH {
            match self.std.next() {
                Some(Ok(std)) => {
                    let file_type = std.file_type().ok().map(FileType::from);
                    self.entries.push_back(Ok(DirEntry {
                        repr: Entry::Std {
                            std: Arc::new(std),
                            file_type,
                        },
                    }));
                }
                Some(Err(e)) => self.entries.push_back(Err(e)),
                None => {
                    self.more = false;
                    return;
                }
            }
        }
    }
}

impl Stream for ReadDir {
    type Item = io::Result<DirEntry>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_entry(cx).map(Result::transpose)
    }
}

impl fmt::Debug for ReadDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ReadDir");
        match &self.state {
            State::Idle(Some(batch)) => d.field("std", &batch.std),
            State::Idle(None) => d.field("state", &"done"),
            State::Driver(entries) => d.field("remaining", &entries.len()),
            State::Busy(_) => d.field("state", &"busy"),
        };
        d.finish()
    }
}

/// One entry of a directory listing, from [`ReadDir`]; the async form of
/// [`std::fs::DirEntry`].
///
/// # Examples
/// ```
/// # brisk::run(async {
/// let dir = std::env::temp_dir().join(format!("brisk-doc-dir-entry-{}", std::process::id()));
/// brisk::fs::create_dir_all(&dir).await?;
/// brisk::fs::write(dir.join("note"), b"hi").await?;
/// let entry = brisk::fs::read_dir(&dir).await?.next_entry().await?.unwrap();
/// assert_eq!(entry.path(), dir.join("note"));
/// assert_eq!(entry.metadata().await?.len(), 2);
/// brisk::fs::remove_dir_all(&dir).await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub struct DirEntry {
    repr: Entry,
}

/// Where an entry comes from.
enum Entry {
    Std {
        std: Arc<std::fs::DirEntry>,
        /// Read with the entry when the OS gave it for free.
        file_type: Option<FileType>,
    },
    /// Listed by the current runtime's fs driver, with the stat it gave.
    Driver {
        path: PathBuf,
        name: OsString,
        stat: FileStat,
    },
}

impl DirEntry {
    /// The entry's full path: the path given to [`read_dir`] joined with
    /// the entry's name. Needs no I/O.
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let dir = std::env::temp_dir().join(format!("brisk-doc-entry-path-{}", std::process::id()));
    /// brisk::fs::create_dir_all(dir.join("child")).await?;
    /// let entry = brisk::fs::read_dir(&dir).await?.next_entry().await?.unwrap();
    /// assert_eq!(entry.path(), dir.join("child"));
    /// brisk::fs::remove_dir_all(&dir).await?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn path(&self) -> PathBuf {
        match &self.repr {
            Entry::Std { std, .. } => std.path(),
            Entry::Driver { path, .. } => path.clone(),
        }
    }

    /// The entry's name, without the directory. Needs no I/O.
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let dir = std::env::temp_dir().join(format!("brisk-doc-entry-name-{}", std::process::id()));
    /// brisk::fs::create_dir_all(dir.join("child")).await?;
    /// let entry = brisk::fs::read_dir(&dir).await?.next_entry().await?.unwrap();
    /// assert_eq!(entry.file_name(), "child");
    /// brisk::fs::remove_dir_all(&dir).await?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn file_name(&self) -> OsString {
        match &self.repr {
            Entry::Std { std, .. } => std.file_name(),
            Entry::Driver { name, .. } => name.clone(),
        }
    }

    /// The entry's metadata, not following a final symlink (like
    /// [`symlink_metadata`](super::symlink_metadata)); the async form of
    /// [`std::fs::DirEntry::metadata`]. Read when called (under an fs
    /// driver too), so it sees changes made after the listing.
    ///
    /// # Cancel safety
    /// Dropping the future after its first poll does not stop the call; its
    /// result is dropped.
    ///
    /// # Panics
    /// If polled outside a Brisk runtime.
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let dir = std::env::temp_dir().join(format!("brisk-doc-entry-meta-{}", std::process::id()));
    /// brisk::fs::create_dir_all(&dir).await?;
    /// brisk::fs::write(dir.join("f"), b"abc").await?;
    /// let entry = brisk::fs::read_dir(&dir).await?.next_entry().await?.unwrap();
    /// assert_eq!(entry.metadata().await?.len(), 3);
    /// brisk::fs::remove_dir_all(&dir).await?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn metadata(&self) -> io::Result<Metadata> {
        match &self.repr {
            Entry::Std { std, .. } => {
                let std = Arc::clone(std);
                asyncify(move || std.metadata().map(Metadata::from)).await
            }
            Entry::Driver { path, .. } => super::symlink_metadata(path).await,
        }
    }

    /// The entry's file type, not following a final symlink; the async form
    /// of [`std::fs::DirEntry::file_type`]. Usually known from the listing
    /// already (always under an fs driver); otherwise read on the blocking
    /// pool.
    ///
    /// # Cancel safety
    /// Dropping the future after its first poll does not stop a blocking
    /// call, if one was needed; its result is dropped.
    ///
    /// # Panics
    /// If polled outside a Brisk runtime and the type was not known already.
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let dir = std::env::temp_dir().join(format!("brisk-doc-entry-type-{}", std::process::id()));
    /// brisk::fs::create_dir_all(&dir).await?;
    /// brisk::fs::write(dir.join("f"), b"").await?;
    /// let entry = brisk::fs::read_dir(&dir).await?.next_entry().await?.unwrap();
    /// assert!(entry.file_type().await?.is_file());
    /// brisk::fs::remove_dir_all(&dir).await?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn file_type(&self) -> io::Result<FileType> {
        match &self.repr {
            Entry::Std {
                file_type: Some(file_type),
                ..
            } => Ok(*file_type),
            Entry::Std { std, .. } => {
                let std = Arc::clone(std);
                asyncify(move || std.file_type().map(FileType::from)).await
            }
            Entry::Driver { stat, .. } => Ok(FileType::from_stat(stat)),
        }
    }

    /// The entry's inode number, from the listing; Unix only.
    ///
    /// 0 for an entry listed by an fs driver (the simulator's disk has no
    /// inode numbers to show).
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let dir = std::env::temp_dir().join(format!("brisk-doc-entry-ino-{}", std::process::id()));
    /// brisk::fs::create_dir_all(dir.join("child")).await?;
    /// let entry = brisk::fs::read_dir(&dir).await?.next_entry().await?.unwrap();
    /// assert_ne!(entry.ino(), 0);
    /// brisk::fs::remove_dir_all(&dir).await?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    #[cfg(unix)]
    pub fn ino(&self) -> u64 {
        match &self.repr {
            Entry::Std { std, .. } => std::os::unix::fs::DirEntryExt::ino(&**std),
            Entry::Driver { .. } => 0,
        }
    }
}

impl fmt::Debug for DirEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DirEntry").field(&self.path()).finish()
    }
}
