//! Files and directories through the current runtime: the async forms of
//! `std::fs`, shaped like `tokio::fs`.
//!
//! ```
//! # brisk::run(async {
//! let dir = std::env::temp_dir().join(format!("brisk-doc-fs-{}", std::process::id()));
//! brisk::fs::create_dir_all(&dir).await?;
//! brisk::fs::write(dir.join("hello.txt"), "hello, brisk").await?;
//! let text = brisk::fs::read_to_string(dir.join("hello.txt")).await?;
//! assert_eq!(text, "hello, brisk");
//! brisk::fs::remove_dir_all(&dir).await?;
//! # Ok::<(), std::io::Error>(())
//! # }).unwrap();
//! ```
//!
//! # Design
//! - **The runtime's fs driver, if it has one.** A backend may serve files
//!   itself through [`FsDriver`] ([`Backend::fs`](crate::runtime::Backend::fs)):
//!   the simulator gives each node its own in-memory disk with crash and
//!   fault semantics. A driver serves [`read`](read()), [`write`](write()),
//!   [`read_to_string`], [`try_exists`], [`create_dir`], [`create_dir_all`],
//!   [`remove_file`], [`remove_dir`], [`remove_dir_all`], [`rename`],
//!   [`read_dir`] (entries' `path` and `file_name`), and
//!   [`File`] open/create (through [`OpenOptions`], whose `mode` and
//!   `custom_flags` it ignores), read, write, seek, [`File::set_len`],
//!   [`File::sync_all`] and [`File::sync_data`], and the metadata calls —
//!   [`metadata`], [`symlink_metadata`], [`File::metadata`],
//!   [`DirEntry::metadata`] and [`DirEntry::file_type`] — which return
//!   Brisk's portable [`Metadata`] and [`FileType`] (std's cannot be built
//!   outside std). What needs OS permissions, links or an OS handle —
//!   [`copy`], [`canonicalize`], [`hard_link`], [`read_link`],
//!   [`set_permissions`], and `File`'s `set_permissions` and `try_clone` —
//!   fails with kind `Unsupported` under a driver rather than reach the
//!   real file system; `File::into_std` and `as_raw_fd` panic.
//!   The driver's operations are futures over owned buffers, so an
//!   io_uring backend can serve the same contract later.
//! - **Otherwise the blocking pool does the work.** On the epoll backend, file system
//!   calls cannot be made non-blocking, so every operation here runs as a job
//!   on the runtime's blocking pool ([`spawn_blocking`](crate::spawn_blocking)),
//!   the way tokio and async-std do it. A [`File`] keeps one operation in
//!   flight at a time, with an internal buffer of up to 2 MiB per operation,
//!   so reads, writes and seeks reach the OS in order.
//! - **Owned at the boundary.** Every function takes what it needs by value
//!   before it starts: paths are copied into a `PathBuf`, and
//!   [`write`](write())`(path, impl AsRef<[u8]>)` copies the contents into an owned
//!   `Vec`; `File`'s writes copy into its own buffer. Nothing borrowed
//!   crosses into the job, so an io_uring backend, which hands owned buffers
//!   to the kernel, can later serve this same API without a change.
//! - **The current runtime.** Every call goes through the runtime that polls
//!   it (`spawn_blocking` on the current runtime), so it needs one: polled
//!   outside a Brisk runtime, it panics with `spawn_blocking`'s message,
//!   which says where to run the code instead. Creating a future or a
//!   `File` with [`File::from_std`] needs no runtime.
//! - **Errors are `io::Error`s.** Errors from the blocking thread come back
//!   unchanged. If a job is cancelled because its runtime shut down, the
//!   call fails with kind [`Other`](std::io::ErrorKind::Other) and a message
//!   that says the runtime is gone.
//!
//! # Metadata
//! [`Metadata`], [`FileType`] and [`Permissions`] have std's methods (`len`,
//! `is_file`, `is_dir`, `is_symlink`, `file_type`, `permissions`,
//! `modified`, `accessed`, `created`). On the native runtime they wrap the
//! std values, reachable with `as_std` for platform extensions; under the
//! simulator they come from the node's disk, whose file times are the
//! node's virtual clock counted from `UNIX_EPOCH` — deterministic, the same
//! on every run of a seed (see [`Metadata`]).
//!
//! # Cancel safety
//! A job that started cannot be stopped: dropping a future after its first
//! poll never undoes or interrupts the operation. It finishes on the blocking
//! pool and its result is dropped (a `write` may still write the file; a
//! `remove_dir_all` still removes the tree). Dropping a future before its
//! first poll does nothing. Each method documents what that means for it.

pub(crate) mod blocking;
mod driver;
mod driver_file;
mod file;
mod metadata;
mod open_options;
mod read_dir;

pub use driver::{FileIo, FileStat, FsDriver, OpenFlags};
pub use file::File;
pub use metadata::{FileType, Metadata, Permissions};
pub use open_options::OpenOptions;
pub use read_dir::{read_dir, DirEntry, ReadDir};

use blocking::asyncify;
use driver::{not_served, with_driver};
use std::io;
use std::path::{Path, PathBuf};

/// Reads the whole file at `path`; the async form of [`std::fs::read`].
///
/// # Errors
/// Those of `std::fs::read`: for example kind `NotFound`.
///
/// # Cancel safety
/// Dropping the future after its first poll does not stop the read; the
/// bytes are dropped.
///
/// # Panics
/// If polled outside a Brisk runtime.
///
/// # Examples
/// ```
/// # brisk::run(async {
/// let dir = std::env::temp_dir().join(format!("brisk-doc-read-{}", std::process::id()));
/// brisk::fs::create_dir_all(&dir).await?;
/// brisk::fs::write(dir.join("f"), [1, 2, 3]).await?;
/// assert_eq!(brisk::fs::read(dir.join("f")).await?, [1, 2, 3]);
/// brisk::fs::remove_dir_all(&dir).await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref().to_owned();
    if let Some(op) = with_driver(|d| d.read(path.clone())) {
        return driver::drive(op).await;
    }
    asyncify(move || std::fs::read(path)).await
}

/// Reads the whole file at `path` as UTF-8; the async form of
/// [`std::fs::read_to_string`].
///
/// # Errors
/// Those of `std::fs::read_to_string`: for example kind `NotFound`, or
/// `InvalidData` if the contents are not UTF-8.
///
/// # Cancel safety
/// Dropping the future after its first poll does not stop the read; the
/// text is dropped.
///
/// # Panics
/// If polled outside a Brisk runtime.
///
/// # Examples
/// ```
/// # brisk::run(async {
/// let dir = std::env::temp_dir().join(format!("brisk-doc-read-string-{}", std::process::id()));
/// brisk::fs::create_dir_all(&dir).await?;
/// brisk::fs::write(dir.join("f"), "héllo").await?;
/// assert_eq!(brisk::fs::read_to_string(dir.join("f")).await?, "héllo");
/// brisk::fs::remove_dir_all(&dir).await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let path = path.as_ref().to_owned();
    if let Some(op) = with_driver(|d| d.read(path.clone())) {
        return String::from_utf8(driver::drive(op).await?).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            )
        });
    }
    asyncify(move || std::fs::read_to_string(path)).await
}

/// Writes `contents` as the whole file at `path`, creating it or truncating
/// it; the async form of [`std::fs::write`].
///
/// `contents` is copied into an owned buffer before the job starts.
///
/// # Cancel safety
/// Dropping the future after its first poll does not stop the write: the
/// file is still written (or partly written, if the write fails).
///
/// # Panics
/// If polled outside a Brisk runtime.
///
/// # Examples
/// ```
/// # brisk::run(async {
/// let dir = std::env::temp_dir().join(format!("brisk-doc-write-{}", std::process::id()));
/// brisk::fs::create_dir_all(&dir).await?;
/// brisk::fs::write(dir.join("f"), b"bytes").await?;
/// brisk::fs::write(dir.join("f"), "replaced").await?;
/// assert_eq!(brisk::fs::read_to_string(dir.join("f")).await?, "replaced");
/// brisk::fs::remove_dir_all(&dir).await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    let contents = contents.as_ref().to_owned();
    if let Some(op) = with_driver(|d| d.write(path.clone(), contents.clone())) {
        return driver::drive(op).await;
    }
    asyncify(move || std::fs::write(path, contents)).await
}

/// Copies the contents and permissions of the file `from` to `to`,
/// replacing `to`; returns the number of bytes copied. The async form of
/// [`std::fs::copy`].
///
/// # Cancel safety
/// Dropping the future after its first poll does not stop the copy: `to`
/// is still written.
///
/// # Panics
/// If polled outside a Brisk runtime.
///
/// # Examples
/// ```
/// # brisk::run(async {
/// let dir = std::env::temp_dir().join(format!("brisk-doc-copy-{}", std::process::id()));
/// brisk::fs::create_dir_all(&dir).await?;
/// brisk::fs::write(dir.join("a"), b"abc").await?;
/// assert_eq!(brisk::fs::copy(dir.join("a"), dir.join("b")).await?, 3);
/// assert_eq!(brisk::fs::read(dir.join("b")).await?, b"abc");
/// brisk::fs::remove_dir_all(&dir).await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let from = from.as_ref().to_owned();
    let to = to.as_ref().to_owned();
    if driver::has_driver() {
        return Err(not_served("`brisk::fs::copy`"));
    }
    asyncify(move || std::fs::copy(from, to)).await
}

/// Renames `from` to `to`, replacing `to` if it is a file; the async form of
/// [`std::fs::rename`].
///
/// # Cancel safety
/// Dropping the future after its first poll does not stop the rename.
///
/// # Panics
/// If polled outside a Brisk runtime.
///
/// # Examples
/// ```
/// # brisk::run(async {
/// let dir = std::env::temp_dir().join(format!("brisk-doc-rename-{}", std::process::id()));
/// brisk::fs::create_dir_all(&dir).await?;
/// brisk::fs::write(dir.join("old"), b"x").await?;
/// brisk::fs::rename(dir.join("old"), dir.join("new")).await?;
/// assert!(!brisk::fs::try_exists(dir.join("old")).await?);
/// assert!(brisk::fs::try_exists(dir.join("new")).await?);
/// brisk::fs::remove_dir_all(&dir).await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let from = from.as_ref().to_owned();
    let to = to.as_ref().to_owned();
    if let Some(op) = with_driver(|d| d.rename(from.clone(), to.clone())) {
        return driver::drive(op).await;
    }
    asyncify(move || std::fs::rename(from, to)).await
}

/// Removes the file at `path`; the async form of [`std::fs::remove_file`].
///
/// # Errors
/// Those of `std::fs::remove_file`: for example kind `NotFound`.
///
/// # Cancel safety
/// Dropping the future after its first poll does not stop the removal.
///
/// # Panics
/// If polled outside a Brisk runtime.
///
/// # Examples
/// ```
/// # brisk::run(async {
/// let dir = std::env::temp_dir().join(format!("brisk-doc-remove-file-{}", std::process::id()));
/// brisk::fs::create_dir_all(&dir).await?;
/// brisk::fs::write(dir.join("f"), b"").await?;
/// brisk::fs::remove_file(dir.join("f")).await?;
/// let err = brisk::fs::remove_file(dir.join("f")).await.unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
/// brisk::fs::remove_dir_all(&dir).await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    if let Some(op) = with_driver(|d| d.remove_file(path.clone())) {
        return driver::drive(op).await;
    }
    asyncify(move || std::fs::remove_file(path)).await
}

/// Creates the directory `path`, whose parent must exist; the async form of
/// [`std::fs::create_dir`].
///
/// # Errors
/// Those of `std::fs::create_dir`: for example kind `AlreadyExists`, or
/// `NotFound` if the parent is missing.
///
/// # Cancel safety
/// Dropping the future after its first poll does not stop the creation.
///
/// # Panics
/// If polled outside a Brisk runtime.
///
/// # Examples
/// ```
/// # brisk::run(async {
/// let dir = std::env::temp_dir().join(format!("brisk-doc-create-dir-{}", std::process::id()));
/// brisk::fs::create_dir(&dir).await?;
/// assert!(brisk::fs::metadata(&dir).await?.is_dir());
/// brisk::fs::remove_dir(&dir).await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    if let Some(op) = with_driver(|d| d.create_dir(path.clone())) {
        return driver::drive(op).await;
    }
    asyncify(move || std::fs::create_dir(path)).await
}

/// Creates the directory `path` and any missing parents; succeeds if it
/// exists already. The async form of [`std::fs::create_dir_all`].
///
/// # Cancel safety
/// Dropping the future after its first poll does not stop the creation.
///
/// # Panics
/// If polled outside a Brisk runtime.
///
/// # Examples
/// ```
/// # brisk::run(async {
/// let dir = std::env::temp_dir().join(format!("brisk-doc-create-dir-all-{}", std::process::id()));
/// brisk::fs::create_dir_all(dir.join("a/b/c")).await?;
/// assert!(brisk::fs::metadata(dir.join("a/b/c")).await?.is_dir());
/// brisk::fs::remove_dir_all(&dir).await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    if let Some(op) = with_driver(|d| d.create_dir_all(path.clone())) {
        return driver::drive(op).await;
    }
    asyncify(move || std::fs::create_dir_all(path)).await
}

/// Removes the empty directory `path`; the async form of
/// [`std::fs::remove_dir`].
///
/// # Errors
/// Those of `std::fs::remove_dir`: for example kind `NotFound`, or an error
/// if the directory is not empty.
///
/// # Cancel safety
/// Dropping the future after its first poll does not stop the removal.
///
/// # Panics
/// If polled outside a Brisk runtime.
///
/// # Examples
/// ```
/// # brisk::run(async {
/// let dir = std::env::temp_dir().join(format!("brisk-doc-remove-dir-{}", std::process::id()));
/// brisk::fs::create_dir(&dir).await?;
/// brisk::fs::remove_dir(&dir).await?;
/// assert!(!brisk::fs::try_exists(&dir).await?);
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    if let Some(op) = with_driver(|d| d.remove_dir(path.clone())) {
        return driver::drive(op).await;
    }
    asyncify(move || std::fs::remove_dir(path)).await
}

/// Removes the directory `path` and everything in it, without following
/// symlinks; the async form of [`std::fs::remove_dir_all`].
///
/// # Cancel safety
/// Dropping the future after its first poll does not stop the removal: the
/// whole tree is still removed (or as much as can be, if it fails).
///
/// # Panics
/// If polled outside a Brisk runtime.
///
/// # Examples
/// ```
/// # brisk::run(async {
/// let dir = std::env::temp_dir().join(format!("brisk-doc-remove-dir-all-{}", std::process::id()));
/// brisk::fs::create_dir_all(dir.join("a/b")).await?;
/// brisk::fs::write(dir.join("a/b/f"), b"x").await?;
/// brisk::fs::remove_dir_all(&dir).await?;
/// assert!(!brisk::fs::try_exists(&dir).await?);
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    if let Some(op) = with_driver(|d| d.remove_dir_all(path.clone())) {
        return driver::drive(op).await;
    }
    asyncify(move || std::fs::remove_dir_all(path)).await
}

/// The metadata of `path`, following symlinks; the async form of
/// [`std::fs::metadata`].
///
/// On the native runtime the [`Metadata`] wraps the std value
/// ([`Metadata::as_std`]); under an fs driver (the simulator's disk) it is
/// built from the driver's stat.
///
/// # Errors
/// Those of `std::fs::metadata`: for example kind `NotFound`.
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
/// let dir = std::env::temp_dir().join(format!("brisk-doc-metadata-{}", std::process::id()));
/// brisk::fs::create_dir_all(&dir).await?;
/// brisk::fs::write(dir.join("f"), b"four").await?;
/// let meta = brisk::fs::metadata(dir.join("f")).await?;
/// assert!(meta.is_file());
/// assert_eq!(meta.len(), 4);
/// brisk::fs::remove_dir_all(&dir).await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref().to_owned();
    if let Some(op) = with_driver(|d| d.stat(path.clone())) {
        return driver::drive(op).await.map(Metadata::from_stat);
    }
    asyncify(move || std::fs::metadata(path).map(Metadata::from)).await
}

/// The metadata of `path` itself, not following a final symlink; the async
/// form of [`std::fs::symlink_metadata`].
///
/// An fs driver has no symlinks, so under one this is [`metadata`].
///
/// # Errors
/// Those of `std::fs::symlink_metadata`: for example kind `NotFound`.
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
/// let dir = std::env::temp_dir().join(format!("brisk-doc-symlink-meta-{}", std::process::id()));
/// brisk::fs::create_dir_all(&dir).await?;
/// let meta = brisk::fs::symlink_metadata(&dir).await?;
/// assert!(meta.is_dir());
/// assert!(!meta.file_type().is_symlink());
/// brisk::fs::remove_dir_all(&dir).await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref().to_owned();
    if let Some(op) = with_driver(|d| d.stat(path.clone())) {
        // A driver has no symlinks: the entry itself is what `stat` sees.
        return driver::drive(op).await.map(Metadata::from_stat);
    }
    asyncify(move || std::fs::symlink_metadata(path).map(Metadata::from)).await
}

/// The absolute path of `path`, with every symlink, `.` and `..` resolved;
/// the async form of [`std::fs::canonicalize`].
///
/// # Errors
/// Those of `std::fs::canonicalize`: for example kind `NotFound`.
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
/// let dir = std::env::temp_dir().join(format!("brisk-doc-canonicalize-{}", std::process::id()));
/// brisk::fs::create_dir_all(dir.join("sub")).await?;
/// let path = brisk::fs::canonicalize(dir.join("sub/..")).await?;
/// assert_eq!(path, brisk::fs::canonicalize(&dir).await?);
/// assert!(path.is_absolute());
/// brisk::fs::remove_dir_all(&dir).await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    if driver::has_driver() {
        return Err(not_served("`brisk::fs::canonicalize`"));
    }
    asyncify(move || std::fs::canonicalize(path)).await
}

/// Creates `link` as a new hard link to the file `original`; the async form
/// of [`std::fs::hard_link`].
///
/// # Cancel safety
/// Dropping the future after its first poll does not stop the call: the
/// link may still be created.
///
/// # Panics
/// If polled outside a Brisk runtime.
///
/// # Examples
/// ```
/// # brisk::run(async {
/// let dir = std::env::temp_dir().join(format!("brisk-doc-hard-link-{}", std::process::id()));
/// brisk::fs::create_dir_all(&dir).await?;
/// brisk::fs::write(dir.join("original"), b"shared").await?;
/// brisk::fs::hard_link(dir.join("original"), dir.join("link")).await?;
/// assert_eq!(brisk::fs::read(dir.join("link")).await?, b"shared");
/// brisk::fs::remove_dir_all(&dir).await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub async fn hard_link(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    let original = original.as_ref().to_owned();
    let link = link.as_ref().to_owned();
    if driver::has_driver() {
        return Err(not_served("`brisk::fs::hard_link`"));
    }
    asyncify(move || std::fs::hard_link(original, link)).await
}

/// The target of the symlink at `path`; the async form of
/// [`std::fs::read_link`].
///
/// # Errors
/// Those of `std::fs::read_link`: for example kind `NotFound`, or an error
/// if `path` is not a symlink.
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
/// let dir = std::env::temp_dir().join(format!("brisk-doc-read-link-{}", std::process::id()));
/// brisk::fs::create_dir_all(&dir).await?;
/// # #[cfg(unix)]
/// # {
/// std::os::unix::fs::symlink("target", dir.join("link"))?;
/// assert_eq!(brisk::fs::read_link(dir.join("link")).await?, std::path::Path::new("target"));
/// # }
/// brisk::fs::remove_dir_all(&dir).await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    if driver::has_driver() {
        return Err(not_served("`brisk::fs::read_link`"));
    }
    asyncify(move || std::fs::read_link(path)).await
}

/// Sets the permissions of `path`, following symlinks; the async form of
/// [`std::fs::set_permissions`].
///
/// `perm` is a [`Permissions`] (from [`Metadata::permissions`]) or a
/// `std::fs::Permissions`. Permissions without a std value (made by an fs
/// driver) set only the read-only flag.
///
/// # Errors
/// Those of `std::fs::set_permissions`; kind `Unsupported` under an fs
/// driver (the simulator's disk has no permissions).
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
/// let dir = std::env::temp_dir().join(format!("brisk-doc-set-perms-{}", std::process::id()));
/// brisk::fs::create_dir_all(&dir).await?;
/// brisk::fs::write(dir.join("f"), b"").await?;
/// let mut perms = brisk::fs::metadata(dir.join("f")).await?.permissions();
/// perms.set_readonly(true);
/// brisk::fs::set_permissions(dir.join("f"), perms).await?;
/// assert!(brisk::fs::metadata(dir.join("f")).await?.permissions().readonly());
/// brisk::fs::remove_dir_all(&dir).await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub async fn set_permissions(
    path: impl AsRef<Path>,
    perm: impl Into<Permissions>,
) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    let perm = perm.into();
    if driver::has_driver() {
        return Err(not_served("`brisk::fs::set_permissions`"));
    }
    asyncify(move || std::fs::set_permissions(&path, metadata::to_std(perm, &path)?)).await
}

/// Whether `path` exists, following symlinks: `Ok(false)` if it does not,
/// an error if that cannot be told (for example permission denied on a
/// parent). The async form of [`std::fs::exists`].
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
/// let dir = std::env::temp_dir().join(format!("brisk-doc-try-exists-{}", std::process::id()));
/// assert!(!brisk::fs::try_exists(&dir).await?);
/// brisk::fs::create_dir_all(&dir).await?;
/// assert!(brisk::fs::try_exists(&dir).await?);
/// brisk::fs::remove_dir_all(&dir).await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    let path = path.as_ref().to_owned();
    if let Some(op) = with_driver(|d| d.stat(path.clone())) {
        return match driver::drive(op).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        };
    }
    asyncify(move || path.try_exists()).await
}
