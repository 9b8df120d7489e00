//! [`Metadata`], [`FileType`] and [`Permissions`]: Brisk's portable forms
//! of the std types, which code outside std cannot construct.
//!
//! # Two sources
//! - **The OS** (native runtime): built from a [`std::fs::Metadata`], which
//!   stays reachable through [`Metadata::as_std`] (and the std file type
//!   and permissions through [`FileType::as_std`] and
//!   [`Permissions::as_std`]) for platform extensions such as
//!   `std::os::unix::fs::MetadataExt`.
//! - **A runtime's fs driver** (the simulator's disk): built from the
//!   driver's [`FileStat`]; `as_std` returns `None`.
//!
//! # Times
//! The times are [`SystemTime`]s, as in std. A driver says what its clock
//! is; the simulator stamps a file with the *node's virtual clock* (with the
//! node's skew and drift), counted from [`UNIX_EPOCH`](std::time::UNIX_EPOCH):
//! a file written 3 s into a simulation has `modified() ==
//! UNIX_EPOCH + 3 s`, the same on every run of the seed. A time the
//! source does not keep is an error of kind `Unsupported`, as std reports a
//! time the platform does not have.

use super::driver::FileStat;
use crate::error::FS_NO_TIME;
use std::fmt;
use std::io;
use std::time::SystemTime;

/// The kind of a file system entry: file, directory or symlink; the
/// portable form of [`std::fs::FileType`], from [`Metadata::file_type`] or
/// [`DirEntry::file_type`](super::DirEntry::file_type).
///
/// # Examples
/// ```
/// # brisk::run(async {
/// let dir = std::env::temp_dir().join(format!("brisk-doc-file-type-{}", std::process::id()));
/// brisk::fs::create_dir_all(&dir).await?;
/// let kind = brisk::fs::metadata(&dir).await?.file_type();
/// assert!(kind.is_dir() && !kind.is_file() && !kind.is_symlink());
/// brisk::fs::remove_dir_all(&dir).await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileType {
    kind: Kind,
    std: Option<std::fs::FileType>,
}

/// What a [`FileType`] says without the std value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    File,
    Dir,
    Symlink,
    /// A socket, fifo, device, ...: only the std value tells which.
    Other,
}

impl FileType {
    /// True for a directory.
    pub fn is_dir(&self) -> bool {
        self.kind == Kind::Dir
    }

    /// True for a regular file.
    pub fn is_file(&self) -> bool {
        self.kind == Kind::File
    }

    /// True for a symbolic link (only from
    /// [`symlink_metadata`](super::symlink_metadata) or a directory entry:
    /// [`metadata`](super::metadata) follows links).
    pub fn is_symlink(&self) -> bool {
        self.kind == Kind::Symlink
    }

    /// The std file type, if this one came from the OS (for
    /// `std::os::unix::fs::FileTypeExt`); `None` under an fs driver.
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let meta = brisk::fs::metadata(std::env::temp_dir()).await?;
    /// // On the native runtime the std value is there.
    /// assert!(meta.file_type().as_std().unwrap().is_dir());
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn as_std(&self) -> Option<&std::fs::FileType> {
        self.std.as_ref()
    }

    pub(crate) fn from_stat(stat: &FileStat) -> FileType {
        FileType {
            kind: if stat.is_dir { Kind::Dir } else { Kind::File },
            std: None,
        }
    }
}

impl From<std::fs::FileType> for FileType {
    fn from(std: std::fs::FileType) -> FileType {
        let kind = if std.is_dir() {
            Kind::Dir
        } else if std.is_file() {
            Kind::File
        } else if std.is_symlink() {
            Kind::Symlink
        } else {
            Kind::Other
        };
        FileType {
            kind,
            std: Some(std),
        }
    }
}

impl fmt::Debug for FileType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.std {
            Some(std) => fmt::Debug::fmt(std, f),
            None => f.debug_tuple("FileType").field(&self.kind).finish(),
        }
    }
}

/// A file's permissions; the portable form of [`std::fs::Permissions`],
/// from [`Metadata::permissions`], given back to
/// [`set_permissions`](super::set_permissions).
///
/// Portable code sees the read-only bit; the std value (for
/// `std::os::unix::fs::PermissionsExt`) is there when the permissions came
/// from the OS, and a `std::fs::Permissions` converts into this type.
///
/// # Examples
/// ```
/// # brisk::run(async {
/// let dir = std::env::temp_dir().join(format!("brisk-doc-permissions-{}", std::process::id()));
/// brisk::fs::create_dir_all(&dir).await?;
/// brisk::fs::write(dir.join("f"), b"").await?;
/// let mut perms = brisk::fs::metadata(dir.join("f")).await?.permissions();
/// assert!(!perms.readonly());
/// perms.set_readonly(true);
/// brisk::fs::set_permissions(dir.join("f"), perms).await?;
/// assert!(brisk::fs::metadata(dir.join("f")).await?.permissions().readonly());
/// brisk::fs::remove_dir_all(&dir).await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Permissions {
    readonly: bool,
    std: Option<std::fs::Permissions>,
}

impl Permissions {
    /// True if the file cannot be written.
    pub fn readonly(&self) -> bool {
        self.readonly
    }

    /// Sets or clears the read-only flag; nothing changes on disk until the
    /// permissions are given to [`set_permissions`](super::set_permissions).
    pub fn set_readonly(&mut self, readonly: bool) {
        self.readonly = readonly;
        if let Some(std) = &mut self.std {
            std.set_readonly(readonly);
        }
    }

    /// The std permissions, if these came from the OS or from a
    /// `std::fs::Permissions`; `None` under an fs driver.
    pub fn as_std(&self) -> Option<&std::fs::Permissions> {
        self.std.as_ref()
    }

    /// The read-only flag alone, when there is no std value.
    pub(crate) fn into_parts(self) -> (bool, Option<std::fs::Permissions>) {
        (self.readonly, self.std)
    }
}

impl From<std::fs::Permissions> for Permissions {
    fn from(std: std::fs::Permissions) -> Permissions {
        Permissions {
            readonly: std.readonly(),
            std: Some(std),
        }
    }
}

impl fmt::Debug for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.std {
            Some(std) => fmt::Debug::fmt(std, f),
            None => f
                .debug_struct("Permissions")
                .field("readonly", &self.readonly)
                .finish(),
        }
    }
}

/// What is known about a file or directory: kind, length, permissions and
/// times; the portable form of [`std::fs::Metadata`], from
/// [`metadata`](super::metadata), [`symlink_metadata`](super::symlink_metadata),
/// [`File::metadata`](super::File::metadata) and
/// [`DirEntry::metadata`](super::DirEntry::metadata).
///
/// It works the same on the native runtime and in the simulator. On the
/// native runtime it wraps the std value, and [`as_std`](Metadata::as_std)
/// gives it back for platform extensions; under an fs driver (the
/// simulator's disk) it is built from the driver's stat.
///
/// # Times
/// [`modified`](Metadata::modified), [`accessed`](Metadata::accessed) and
/// [`created`](Metadata::created) are [`SystemTime`]s, as in std. The
/// simulator stamps a file with the *node's virtual clock* (with the
/// node's skew and drift), counted from [`UNIX_EPOCH`](std::time::UNIX_EPOCH):
/// a file written 3 s into a simulation has `modified() == UNIX_EPOCH +
/// 3 s`, the same on every run of the seed. A time the source does not keep
/// (the simulator keeps none for directories) is an error of kind
/// `Unsupported`, as std reports a time the platform does not have.
///
/// # Examples
/// ```
/// # brisk::run(async {
/// let dir = std::env::temp_dir().join(format!("brisk-doc-metadata-type-{}", std::process::id()));
/// brisk::fs::create_dir_all(&dir).await?;
/// brisk::fs::write(dir.join("f"), b"four").await?;
/// let meta = brisk::fs::metadata(dir.join("f")).await?;
/// assert!(meta.is_file());
/// assert_eq!(meta.len(), 4);
/// assert!(meta.modified()? <= std::time::SystemTime::now());
/// brisk::fs::remove_dir_all(&dir).await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct Metadata {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    Std(std::fs::Metadata),
    Stat(FileStat),
}

impl Metadata {
    /// The kind of the entry.
    pub fn file_type(&self) -> FileType {
        match &self.repr {
            Repr::Std(std) => std.file_type().into(),
            Repr::Stat(stat) => FileType::from_stat(stat),
        }
    }

    /// True for a directory.
    pub fn is_dir(&self) -> bool {
        self.file_type().is_dir()
    }

    /// True for a regular file.
    pub fn is_file(&self) -> bool {
        self.file_type().is_file()
    }

    /// True for a symbolic link (only from
    /// [`symlink_metadata`](super::symlink_metadata)).
    pub fn is_symlink(&self) -> bool {
        self.file_type().is_symlink()
    }

    /// The length in bytes (for a directory: what the source says, 0 in the
    /// simulator).
    #[allow(clippy::len_without_is_empty)] // std's shape
    pub fn len(&self) -> u64 {
        match &self.repr {
            Repr::Std(std) => std.len(),
            Repr::Stat(stat) => stat.len,
        }
    }

    /// The permissions.
    pub fn permissions(&self) -> Permissions {
        match &self.repr {
            Repr::Std(std) => std.permissions().into(),
            Repr::Stat(stat) => Permissions {
                readonly: stat.readonly,
                std: None,
            },
        }
    }

    /// When the contents last changed.
    ///
    /// # Errors
    /// Kind `Unsupported` if the source keeps no such time (see the
    /// [`Metadata`] docs).
    pub fn modified(&self) -> io::Result<SystemTime> {
        match &self.repr {
            Repr::Std(std) => std.modified(),
            Repr::Stat(stat) => time(stat.modified, "`brisk::fs::Metadata::modified`"),
        }
    }

    /// When the contents were last read.
    ///
    /// # Errors
    /// Kind `Unsupported` if the source keeps no such time.
    pub fn accessed(&self) -> io::Result<SystemTime> {
        match &self.repr {
            Repr::Std(std) => std.accessed(),
            Repr::Stat(stat) => time(stat.accessed, "`brisk::fs::Metadata::accessed`"),
        }
    }

    /// When the entry was created.
    ///
    /// # Errors
    /// Kind `Unsupported` if the source keeps no such time (as std on some
    /// Linux file systems).
    pub fn created(&self) -> io::Result<SystemTime> {
        match &self.repr {
            Repr::Std(std) => std.created(),
            Repr::Stat(stat) => time(stat.created, "`brisk::fs::Metadata::created`"),
        }
    }

    /// The std metadata, if this came from the OS (native runtime);
    /// `None` under an fs driver such as the simulator's disk.
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let meta = brisk::fs::metadata(std::env::temp_dir()).await?;
    /// # #[cfg(unix)]
    /// # {
    /// use std::os::unix::fs::MetadataExt;
    /// assert_ne!(meta.as_std().expect("native runtime").ino(), 0);
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn as_std(&self) -> Option<&std::fs::Metadata> {
        match &self.repr {
            Repr::Std(std) => Some(std),
            Repr::Stat(_) => None,
        }
    }

    /// The std metadata by value, if this came from the OS.
    pub fn into_std(self) -> Option<std::fs::Metadata> {
        match self.repr {
            Repr::Std(std) => Some(std),
            Repr::Stat(_) => None,
        }
    }

    /// Metadata from an fs driver's stat.
    pub(crate) fn from_stat(stat: FileStat) -> Metadata {
        Metadata {
            repr: Repr::Stat(stat),
        }
    }
}

/// The std permissions to set on the OS file `path`: those `perm` carries,
/// or (for permissions an fs driver made) the file's current ones with
/// `perm`'s read-only flag. Runs on the blocking pool.
pub(crate) fn to_std(
    perm: Permissions,
    path: &std::path::Path,
) -> io::Result<std::fs::Permissions> {
    match perm.into_parts() {
        (_, Some(std)) => Ok(std),
        (readonly, None) => {
            let mut std = std::fs::metadata(path)?.permissions();
            std.set_readonly(readonly);
            Ok(std)
        }
    }
}

fn time(t: Option<SystemTime>, what: &str) -> io::Result<SystemTime> {
    t.ok_or_else(|| io::Error::new(io::ErrorKind::Unsupported, format!("{what}: {FS_NO_TIME}")))
}

impl From<std::fs::Metadata> for Metadata {
    fn from(std: std::fs::Metadata) -> Metadata {
        Metadata {
            repr: Repr::Std(std),
        }
    }
}

impl fmt::Debug for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Std(std) => fmt::Debug::fmt(std, f),
            Repr::Stat(stat) => f
                .debug_struct("Metadata")
                .field("file_type", &self.file_type())
                .field("len", &stat.len)
                .field("permissions", &self.permissions())
                .field("modified", &stat.modified)
                .field("accessed", &stat.accessed)
                .field("created", &stat.created)
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn stat_metadata_reports_what_the_driver_said() {
        let mut stat = FileStat::new(7, false);
        stat.modified = Some(UNIX_EPOCH + Duration::from_secs(3));
        let meta = Metadata::from_stat(stat);
        assert!(meta.is_file() && !meta.is_dir() && !meta.is_symlink());
        assert_eq!(meta.len(), 7);
        assert_eq!(
            meta.modified().unwrap(),
            UNIX_EPOCH + Duration::from_secs(3)
        );
        assert_eq!(
            meta.created().unwrap_err().kind(),
            io::ErrorKind::Unsupported
        );
        assert!(!meta.permissions().readonly());
        assert!(meta.as_std().is_none());
        assert!(meta.file_type().as_std().is_none());
    }

    #[test]
    fn std_metadata_is_kept() {
        let std = std::fs::metadata(std::env::temp_dir()).unwrap();
        let meta = Metadata::from(std.clone());
        assert!(meta.is_dir());
        assert_eq!(meta.len(), std.len());
        assert_eq!(meta.modified().unwrap(), std.modified().unwrap());
        assert_eq!(meta.permissions().readonly(), std.permissions().readonly());
        assert!(meta.as_std().is_some());
        assert!(meta.file_type().as_std().is_some());
    }

    #[test]
    fn set_readonly_updates_the_std_value() {
        let std = std::fs::metadata(std::env::temp_dir())
            .unwrap()
            .permissions();
        let mut perms = Permissions::from(std);
        perms.set_readonly(!perms.readonly());
        assert_eq!(perms.readonly(), perms.as_std().unwrap().readonly());
    }
}
