//! [`File`]: an open file whose operations run on the blocking pool.

use super::blocking::{asyncify, Blocking, BlockingIo};
use super::driver::{has_driver, not_served, FileIo};
use super::driver_file::DriverFile;
use super::{Metadata, OpenOptions, Permissions};
use crate::error::FS_NOT_STD;
use crate::io::{AsyncRead, AsyncSeek, AsyncWrite};
use std::fmt;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// An open file, read and written through the current runtime's blocking
/// pool; the async form of [`std::fs::File`].
///
/// `File` implements [`AsyncRead`], [`AsyncWrite`] and [`AsyncSeek`]. One
/// operation is in flight at a time and they reach the OS in the order they
/// were issued: a read after a write sees the written bytes, and a seek
/// waits for the write in flight.
///
/// # Writes are handed off
/// `poll_write` copies up to 2 MiB of the caller's bytes into the file's
/// buffer, starts the blocking write and returns at once. The bytes are
/// written *after* `write` returns; an error in that write is reported by
/// the next write, flush, seek, [`sync_all`](File::sync_all),
/// [`sync_data`](File::sync_data) or [`set_len`](File::set_len). **Flush
/// (or close) before you rely on the data**, and before you drop the file if
/// you want to see the error.
///
/// # Cancel safety
/// A blocking call that started cannot be stopped, so dropping a future of
/// the I/O traits' extension methods (`read`, `write_all`, `seek`, ...)
/// means:
/// - **read**: dropped while its blocking read runs, it loses nothing: the
///   bytes are kept and returned by the next read (a write or seek first
///   gives them back to the OS position).
/// - **write**: the bytes already handed to the blocking thread are still
///   written; the rest are not. For `write_all`, a prefix of the buffer may
///   have been written.
/// - **flush / close**: the write in flight still finishes; its error, if
///   any, is reported by the next write, flush or seek.
/// - **seek**: once started, the seek still happens; the position moves.
///
/// # Dropping a `File`
/// Never blocks: a write in flight finishes on the blocking pool (its error,
/// if any, is lost), then the file is closed. Bytes that were read ahead of a
/// dropped read future are discarded.
///
/// # Examples
/// ```
/// use brisk::fs::File;
/// use brisk::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, SeekFrom};
///
/// # brisk::run(async {
/// let dir = std::env::temp_dir().join(format!("brisk-doc-file-{}", std::process::id()));
/// brisk::fs::create_dir_all(&dir).await?;
/// let path = dir.join("greeting.txt");
///
/// let mut file = File::options()
///     .read(true)
///     .write(true)
///     .create(true)
///     .truncate(true)
///     .open(&path)
///     .await?;
/// file.write_all(b"hello, world").await?;
/// file.flush().await?; // the write reached the OS
///
/// file.seek(SeekFrom::Start(7)).await?;
/// let mut rest = String::new();
/// file.read_to_string(&mut rest).await?;
/// assert_eq!(rest, "world");
///
/// brisk::fs::remove_dir_all(&dir).await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub struct File {
    repr: Repr,
    /// A seek started with tokio's `AsyncSeek::start_seek`, until
    /// `poll_complete` finishes it.
    #[cfg(feature = "tokio-io")]
    tokio_seek: Option<SeekFrom>,
}

/// Where the file lives.
enum Repr {
    /// On the OS, driven on the blocking pool.
    Std {
        /// The file, shared with blocking jobs that do not need the state
        /// machine (`metadata`, `set_permissions`, `try_clone`).
        std: Arc<std::fs::File>,
        /// Reads, writes, seeks and the ordered operations.
        inner: Blocking<Arc<std::fs::File>>,
    },
    /// On the current runtime's fs driver (the simulator's disk).
    Driver(DriverFile),
}

impl BlockingIo for Arc<std::fs::File> {
    fn read(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        (&**self).read(dst)
    }

    fn write_all(&mut self, src: &[u8]) -> io::Result<()> {
        (&**self).write_all(src)
    }

    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        (&**self).seek(pos)
    }
}

impl File {
    /// Opens the file at `path` for reading; the async form of
    /// [`std::fs::File::open`].
    ///
    /// # Errors
    /// Those of `std::fs::File::open`: for example kind `NotFound` if there
    /// is no such file.
    ///
    /// # Cancel safety
    /// Dropping the future after its first poll does not stop the open: it
    /// finishes on the blocking pool and the opened file is closed again.
    ///
    /// # Panics
    /// If polled outside a Brisk runtime.
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let missing = std::env::temp_dir().join(format!("brisk-doc-open-{}", std::process::id()));
    /// let err = brisk::fs::File::open(&missing).await.unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// # });
    /// ```
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        if has_driver() {
            return OpenOptions::new().read(true).open(path).await;
        }
        let path = path.as_ref().to_owned();
        let std = asyncify(move || std::fs::File::open(path)).await?;
        Ok(File::from_std(std))
    }

    /// Opens the file at `path` for writing, creating it if needed and
    /// truncating it if it exists; the async form of
    /// [`std::fs::File::create`].
    ///
    /// # Cancel safety
    /// Dropping the future after its first poll does not stop the open: the
    /// file may still be created (and truncated), then it is closed again.
    ///
    /// # Panics
    /// If polled outside a Brisk runtime.
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let dir = std::env::temp_dir().join(format!("brisk-doc-create-{}", std::process::id()));
    /// brisk::fs::create_dir_all(&dir).await?;
    /// let file = brisk::fs::File::create(dir.join("empty")).await?;
    /// assert_eq!(file.metadata().await?.len(), 0);
    /// brisk::fs::remove_dir_all(&dir).await?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        if has_driver() {
            return OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(path)
                .await;
        }
        let path = path.as_ref().to_owned();
        let std = asyncify(move || std::fs::File::create(path)).await?;
        Ok(File::from_std(std))
    }

    /// Creates a new file at `path` for reading and writing, failing with
    /// kind `AlreadyExists` if there is one already; the async form of
    /// [`std::fs::File::create_new`].
    ///
    /// # Cancel safety
    /// Dropping the future after its first poll does not stop the open: the
    /// file may still be created, then it is closed again.
    ///
    /// # Panics
    /// If polled outside a Brisk runtime.
    ///
    /// # Examples
    /// ```
    /// use brisk::fs::File;
    ///
    /// # brisk::run(async {
    /// let dir = std::env::temp_dir().join(format!("brisk-doc-create-new-{}", std::process::id()));
    /// brisk::fs::create_dir_all(&dir).await?;
    /// let path = dir.join("once");
    /// File::create_new(&path).await?;
    /// let err = File::create_new(&path).await.unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
    /// brisk::fs::remove_dir_all(&dir).await?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn create_new(path: impl AsRef<Path>) -> io::Result<File> {
        if has_driver() {
            return OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(path)
                .await;
        }
        let path = path.as_ref().to_owned();
        let std = asyncify(move || std::fs::File::create_new(path)).await?;
        Ok(File::from_std(std))
    }

    /// Options to open a file with: read, write, append, truncate, create.
    /// The same as [`OpenOptions::new`].
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let dir = std::env::temp_dir().join(format!("brisk-doc-options-{}", std::process::id()));
    /// brisk::fs::create_dir_all(&dir).await?;
    /// let file = brisk::fs::File::options()
    ///     .append(true)
    ///     .create(true)
    ///     .open(dir.join("log"))
    ///     .await?;
    /// drop(file);
    /// brisk::fs::remove_dir_all(&dir).await?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps an open std file. Needs no runtime; the file's operations will
    /// run on the runtime current when they are polled.
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let dir = std::env::temp_dir().join(format!("brisk-doc-from-std-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let std_file = std::fs::File::create(dir.join("f"))?;
    /// let file = brisk::fs::File::from_std(std_file);
    /// assert!(file.metadata().await?.is_file());
    /// brisk::fs::remove_dir_all(&dir).await?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn from_std(std: std::fs::File) -> File {
        let std = Arc::new(std);
        File::with_repr(Repr::Std {
            inner: Blocking::new(Arc::clone(&std)),
            std,
        })
    }

    /// Wraps a file of the current runtime's fs driver.
    pub(crate) fn from_driver(io: Box<dyn FileIo>) -> File {
        File::with_repr(Repr::Driver(DriverFile::new(io)))
    }

    /// The std file, or the error of an API a driver file does not serve.
    fn std(&self, what: &str) -> io::Result<Arc<std::fs::File>> {
        match &self.repr {
            Repr::Std { std, .. } => Ok(Arc::clone(std)),
            Repr::Driver(_) => Err(not_served(what)),
        }
    }

    /// The file's metadata; the async form of
    /// [`std::fs::File::metadata`].
    ///
    /// It does **not** wait for a write in flight: flush first if the length
    /// must include the bytes you just wrote. For a file of an fs driver
    /// (the simulator's disk) it is built from the driver's stat.
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
    /// let dir = std::env::temp_dir().join(format!("brisk-doc-file-meta-{}", std::process::id()));
    /// brisk::fs::create_dir_all(&dir).await?;
    /// brisk::fs::write(dir.join("f"), b"12345").await?;
    /// let file = brisk::fs::File::open(dir.join("f")).await?;
    /// assert_eq!(file.metadata().await?.len(), 5);
    /// brisk::fs::remove_dir_all(&dir).await?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn metadata(&self) -> io::Result<Metadata> {
        match &self.repr {
            Repr::Std { std, .. } => {
                let std = Arc::clone(std);
                asyncify(move || std.metadata().map(Metadata::from)).await
            }
            Repr::Driver(d) => super::driver::drive(d.io().stat())
                .await
                .map(Metadata::from_stat),
        }
    }

    /// Flushes the data and metadata to the storage device, after the write
    /// in flight; the async form of [`std::fs::File::sync_all`].
    ///
    /// Reports the error of an earlier handed-off write instead, if one
    /// failed. Takes `&mut self` because it is ordered with the file's reads
    /// and writes.
    ///
    /// # Cancel safety
    /// Dropping the future after the sync started does not stop it; the next
    /// operation on the file waits for it, and its result is dropped.
    ///
    /// # Panics
    /// If polled outside a Brisk runtime.
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let dir = std::env::temp_dir().join(format!("brisk-doc-sync-all-{}", std::process::id()));
    /// brisk::fs::create_dir_all(&dir).await?;
    /// let mut file = brisk::fs::File::create(dir.join("durable")).await?;
    /// file.sync_all().await?;
    /// brisk::fs::remove_dir_all(&dir).await?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn sync_all(&mut self) -> io::Result<()> {
        match &mut self.repr {
            Repr::Std { inner, .. } => inner.run(|f| f.sync_all()).await,
            Repr::Driver(d) => d.run(|f| f.sync_all()).await,
        }
    }

    /// Flushes the data (not necessarily the metadata) to the storage
    /// device, after the write in flight; the async form of
    /// [`std::fs::File::sync_data`].
    ///
    /// Reports the error of an earlier handed-off write instead, if one
    /// failed.
    ///
    /// # Cancel safety
    /// As [`sync_all`](File::sync_all): the sync still happens.
    ///
    /// # Panics
    /// If polled outside a Brisk runtime.
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let dir = std::env::temp_dir().join(format!("brisk-doc-sync-data-{}", std::process::id()));
    /// brisk::fs::create_dir_all(&dir).await?;
    /// let mut file = brisk::fs::File::create(dir.join("data")).await?;
    /// file.sync_data().await?;
    /// brisk::fs::remove_dir_all(&dir).await?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn sync_data(&mut self) -> io::Result<()> {
        match &mut self.repr {
            Repr::Std { inner, .. } => inner.run(|f| f.sync_data()).await,
            Repr::Driver(d) => d.run(|f| f.sync_data()).await,
        }
    }

    /// Truncates or extends the file to `size` bytes, after the write in
    /// flight; the async form of [`std::fs::File::set_len`]. The position
    /// does not move.
    ///
    /// Reports the error of an earlier handed-off write instead, if one
    /// failed.
    ///
    /// # Cancel safety
    /// Dropping the future after the call started does not stop it: the file
    /// still gets the new length, and the next operation waits for it.
    ///
    /// # Panics
    /// If polled outside a Brisk runtime.
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let dir = std::env::temp_dir().join(format!("brisk-doc-set-len-{}", std::process::id()));
    /// brisk::fs::create_dir_all(&dir).await?;
    /// brisk::fs::write(dir.join("f"), b"0123456789").await?;
    /// let mut file = brisk::fs::OpenOptions::new().write(true).open(dir.join("f")).await?;
    /// file.set_len(4).await?;
    /// assert_eq!(brisk::fs::read(dir.join("f")).await?, b"0123");
    /// brisk::fs::remove_dir_all(&dir).await?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn set_len(&mut self, size: u64) -> io::Result<()> {
        match &mut self.repr {
            Repr::Std { inner, .. } => inner.run(move |f| f.set_len(size)).await,
            Repr::Driver(d) => d.run(move |f| f.set_len(size)).await,
        }
    }

    /// Changes the file's permissions; the async form of
    /// [`std::fs::File::set_permissions`].
    ///
    /// `perm` is a [`Permissions`] or a `std::fs::Permissions`; permissions
    /// without a std value (made by an fs driver) set only the read-only
    /// flag. Fails with kind `Unsupported` for a file of an fs driver.
    ///
    /// # Cancel safety
    /// Dropping the future after its first poll does not stop the change.
    ///
    /// # Panics
    /// If polled outside a Brisk runtime.
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let dir = std::env::temp_dir().join(format!("brisk-doc-file-perm-{}", std::process::id()));
    /// brisk::fs::create_dir_all(&dir).await?;
    /// let file = brisk::fs::File::create(dir.join("f")).await?;
    /// let mut perms = file.metadata().await?.permissions();
    /// perms.set_readonly(true);
    /// file.set_permissions(perms).await?;
    /// assert!(file.metadata().await?.permissions().readonly());
    /// brisk::fs::remove_dir_all(&dir).await?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn set_permissions(&self, perm: impl Into<Permissions>) -> io::Result<()> {
        let perm = perm.into();
        let std = self.std("`brisk::fs::File::set_permissions`")?;
        asyncify(move || {
            let perm = match perm.as_std() {
                Some(p) => p.clone(),
                None => {
                    let mut p = std.metadata()?.permissions();
                    p.set_readonly(perm.readonly());
                    p
                }
            };
            std.set_permissions(perm)
        })
        .await
    }

    /// A new `File` for the same open file (it shares the OS position); the
    /// async form of [`std::fs::File::try_clone`].
    ///
    /// The clone has its own buffer: it does not see this file's write in
    /// flight or its read-ahead. Flush first when both are used.
    ///
    /// # Cancel safety
    /// Dropping the future after its first poll does not stop the call; the
    /// new handle is closed again.
    ///
    /// # Panics
    /// If polled outside a Brisk runtime.
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let dir = std::env::temp_dir().join(format!("brisk-doc-try-clone-{}", std::process::id()));
    /// brisk::fs::create_dir_all(&dir).await?;
    /// let file = brisk::fs::File::create(dir.join("f")).await?;
    /// let clone = file.try_clone().await?;
    /// assert!(clone.metadata().await?.is_file());
    /// brisk::fs::remove_dir_all(&dir).await?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn try_clone(&self) -> io::Result<File> {
        let std = self.std("`brisk::fs::File::try_clone`")?;
        let clone = asyncify(move || std.try_clone()).await?;
        Ok(File::from_std(clone))
    }

    /// Waits for the operation in flight, gives back read-ahead (so the OS
    /// position is the logical one) and returns the std file.
    ///
    /// The error of a handed-off write that failed is lost: flush first to
    /// see it. If a blocking call of a dropped `metadata`, `set_permissions`
    /// or `try_clone` future still uses the file, this waits until it is done.
    ///
    /// # Cancel safety
    /// Dropping the future drops the file (see [`File`]).
    ///
    /// # Panics
    /// If polled outside a Brisk runtime, or if the file lives on an fs
    /// driver such as the simulator's disk (it has no std file).
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let dir = std::env::temp_dir().join(format!("brisk-doc-into-std-{}", std::process::id()));
    /// brisk::fs::create_dir_all(&dir).await?;
    /// let file = brisk::fs::File::create(dir.join("f")).await?;
    /// let std_file: std::fs::File = file.into_std().await;
    /// assert!(std_file.metadata()?.is_file());
    /// brisk::fs::remove_dir_all(&dir).await?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn into_std(self) -> std::fs::File {
        let (mut std, mut inner) = match self.finish_tokio_seek().await.repr {
            Repr::Std { std, inner } => (std, inner),
            Repr::Driver(_) => panic!("{FS_NOT_STD}"),
        };
        let _ = inner.quiesce().await;
        // Drops the state machine's reference (a lost one was dropped with
        // its job before the job's handle completed).
        drop(inner);
        loop {
            match Arc::try_unwrap(std) {
                Ok(file) => return file,
                // A job of a dropped `metadata`-like future still holds the
                // file; such a job is one short syscall.
                Err(shared) => {
                    std = shared;
                    crate::task::yield_now().await;
                }
            }
        }
    }

    /// The std file, without waiting, if nothing is in flight or buffered and
    /// no blocking call uses the file; otherwise the `File` back (always for
    /// a file of an fs driver such as the simulator's disk).
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let dir = std::env::temp_dir().join(format!("brisk-doc-try-into-std-{}", std::process::id()));
    /// brisk::fs::create_dir_all(&dir).await?;
    /// let file = brisk::fs::File::create(dir.join("f")).await?;
    /// let std_file = file.try_into_std().expect("nothing is in flight");
    /// drop(std_file);
    /// brisk::fs::remove_dir_all(&dir).await?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    #[allow(clippy::result_large_err)] // the `File` comes back unchanged, as in tokio
    pub fn try_into_std(self) -> Result<std::fs::File, File> {
        // A seek started through tokio's `AsyncSeek` is still to be done.
        #[cfg(feature = "tokio-io")]
        if self.tokio_seek.is_some() {
            return Err(self);
        }
        let (std, inner) = match self.repr {
            Repr::Std { std, inner } if inner.is_quiet() => (std, inner),
            repr => return Err(File::with_repr(repr)),
        };
        drop(inner);
        Arc::try_unwrap(std).map_err(|shared| {
            File::with_repr(Repr::Std {
                inner: Blocking::new(Arc::clone(&shared)),
                std: shared,
            })
        })
    }

    /// Does a seek started through tokio's `AsyncSeek` and not completed
    /// yet, as its `start_seek` promised (its error goes with it, as with a
    /// write in flight).
    async fn finish_tokio_seek(self) -> File {
        #[cfg(feature = "tokio-io")]
        if self.tokio_seek.is_some() {
            let mut file = self;
            let _ = std::future::poll_fn(|cx| {
                tokio::io::AsyncSeek::poll_complete(Pin::new(&mut file), cx)
            })
            .await;
            return file;
        }
        self
    }

    fn with_repr(repr: Repr) -> File {
        File {
            repr,
            #[cfg(feature = "tokio-io")]
            tokio_seek: None,
        }
    }
}

impl From<std::fs::File> for File {
    fn from(std: std::fs::File) -> File {
        File::from_std(std)
    }
}

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().repr {
            Repr::Std { inner, .. } => inner.poll_read(cx, buf),
            Repr::Driver(d) => d.poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().repr {
            Repr::Std { inner, .. } => inner.poll_write(cx, buf),
            Repr::Driver(d) => d.poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().repr {
            Repr::Std { inner, .. } => inner.poll_flush(cx),
            Repr::Driver(d) => d.poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().repr {
            Repr::Std { inner, .. } => inner.poll_flush(cx),
            Repr::Driver(d) => d.poll_flush(cx),
        }
    }
}

impl AsyncSeek for File {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        match &mut self.get_mut().repr {
            Repr::Std { inner, .. } => inner.poll_seek(cx, pos),
            Repr::Driver(d) => d.poll_seek(cx, pos),
        }
    }
}

/// tokio's I/O traits (feature `tokio-io`), through the futures-io impls
/// above: the same ordering of reads, writes and seeks, the same
/// cancellation behaviour.
#[cfg(feature = "tokio-io")]
mod tokio_io {
    use super::File;
    use crate::io::tokio_io::poll_read_buf;
    use std::io::{self, SeekFrom};
    use std::pin::Pin;
    use std::task::{ready, Context, Poll};
    use tokio::io::ReadBuf;

    impl tokio::io::AsyncRead for File {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            poll_read_buf(self, cx, buf)
        }
    }

    crate::__impl_tokio_write_via_futures!(File; vectored = false);

    impl tokio::io::AsyncSeek for File {
        fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
            let this = self.get_mut();
            if this.tokio_seek.is_some() {
                return Err(io::Error::other(crate::error::FILE_SEEK_PENDING));
            }
            this.tokio_seek = Some(position);
            Ok(())
        }

        fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
            let this = self.get_mut();
            // No seek started: the position, after the operations in flight.
            let pos = this.tokio_seek.unwrap_or(SeekFrom::Current(0));
            // Polling the same seek again resumes it (see `poll_seek`).
            let res = ready!(futures_io::AsyncSeek::poll_seek(
                Pin::new(&mut *this),
                cx,
                pos
            ));
            this.tokio_seek = None;
            Poll::Ready(res)
        }
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Std { std, inner } => f
                .debug_struct("File")
                .field("std", std)
                .field("inner", inner)
                .finish(),
            Repr::Driver(d) => f.debug_struct("File").field("driver", d).finish(),
        }
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for File {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        match &self.repr {
            Repr::Std { std, .. } => std.as_raw_fd(),
            Repr::Driver(_) => panic!("{FS_NOT_STD}"),
        }
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for File {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        match &self.repr {
            Repr::Std { std, .. } => std.as_fd(),
            Repr::Driver(_) => panic!("{FS_NOT_STD}"),
        }
    }
}
