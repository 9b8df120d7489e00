//! [`OpenOptions`]: how to open a [`File`].

use super::blocking::asyncify;
use super::driver::{with_driver, OpenFlags};
use super::File;
use crate::error::FS_STD_OPTIONS;
use std::io;
use std::path::Path;

/// Options to open a file with; the async form of
/// [`std::fs::OpenOptions`]. Build it with [`OpenOptions::new`] or
/// [`File::options`], then call [`open`](OpenOptions::open).
///
/// # Examples
/// ```
/// use brisk::fs::OpenOptions;
///
/// # brisk::run(async {
/// let dir = std::env::temp_dir().join(format!("brisk-doc-open-options-{}", std::process::id()));
/// brisk::fs::create_dir_all(&dir).await?;
/// let file = OpenOptions::new()
///     .read(true)
///     .write(true)
///     .create(true)
///     .open(dir.join("data"))
///     .await?;
/// assert!(file.metadata().await?.is_file());
/// brisk::fs::remove_dir_all(&dir).await?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct OpenOptions {
    std: std::fs::OpenOptions,
    /// The same flags for an fs driver; `None` if converted from a std
    /// `OpenOptions`, whose flags cannot be read back.
    flags: Option<OpenFlags>,
}

impl OpenOptions {
    /// Options with every flag off; set at least one of `read`, `write` or
    /// `append` before opening.
    ///
    /// # Examples
    /// ```
    /// let mut options = brisk::fs::OpenOptions::new();
    /// options.read(true);
    /// ```
    pub fn new() -> OpenOptions {
        OpenOptions {
            std: std::fs::OpenOptions::new(),
            flags: Some(OpenFlags::default()),
        }
    }

    /// Opens for reading.
    ///
    /// # Examples
    /// ```
    /// let _ = brisk::fs::OpenOptions::new().read(true);
    /// ```
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.std.read(read);
        if let Some(flags) = &mut self.flags {
            flags.read = read;
        }
        self
    }

    /// Opens for writing; writes start at the beginning unless `append` is
    /// set.
    ///
    /// # Examples
    /// ```
    /// let _ = brisk::fs::OpenOptions::new().write(true);
    /// ```
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.std.write(write);
        if let Some(flags) = &mut self.flags {
            flags.write = write;
        }
        self
    }

    /// Opens for appending: every write goes to the end of the file (this
    /// implies `write`).
    ///
    /// # Examples
    /// ```
    /// let _ = brisk::fs::OpenOptions::new().append(true);
    /// ```
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.std.append(append);
        if let Some(flags) = &mut self.flags {
            flags.append = append;
        }
        self
    }

    /// Truncates an existing file to length 0 (needs `write`).
    ///
    /// # Examples
    /// ```
    /// let _ = brisk::fs::OpenOptions::new().write(true).truncate(true);
    /// ```
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.std.truncate(truncate);
        if let Some(flags) = &mut self.flags {
            flags.truncate = truncate;
        }
        self
    }

    /// Creates the file if it does not exist (needs `write` or `append`).
    ///
    /// # Examples
    /// ```
    /// let _ = brisk::fs::OpenOptions::new().write(true).create(true);
    /// ```
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.std.create(create);
        if let Some(flags) = &mut self.flags {
            flags.create = create;
        }
        self
    }

    /// Creates the file, failing with kind `AlreadyExists` if it exists
    /// (needs `write` or `append`; `create` and `truncate` are then ignored).
    ///
    /// # Examples
    /// ```
    /// let _ = brisk::fs::OpenOptions::new().write(true).create_new(true);
    /// ```
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.std.create_new(create_new);
        if let Some(flags) = &mut self.flags {
            flags.create_new = create_new;
        }
        self
    }

    /// The permission bits a newly created file gets (before the umask);
    /// Unix only.
    ///
    /// # Examples
    /// ```
    /// let _ = brisk::fs::OpenOptions::new().write(true).create(true).mode(0o600);
    /// ```
    #[cfg(unix)]
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        std::os::unix::fs::OpenOptionsExt::mode(&mut self.std, mode);
        self
    }

    /// Extra flags for `open(2)` (for example `O_NOFOLLOW`); Unix only.
    ///
    /// # Examples
    /// ```
    /// let _ = brisk::fs::OpenOptions::new().read(true).custom_flags(0);
    /// ```
    #[cfg(unix)]
    pub fn custom_flags(&mut self, flags: i32) -> &mut OpenOptions {
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut self.std, flags);
        self
    }

    /// Opens the file at `path` with these options; the async form of
    /// [`std::fs::OpenOptions::open`].
    ///
    /// # Errors
    /// Those of `std::fs::OpenOptions::open`: for example kind `NotFound`,
    /// `AlreadyExists` (with `create_new`), `PermissionDenied`, or an error
    /// when `path` is a directory and writing was asked for.
    ///
    /// # Cancel safety
    /// Dropping the future after its first poll does not stop the open: the
    /// file may still be created or truncated, then it is closed again.
    ///
    /// # Panics
    /// If polled outside a Brisk runtime.
    ///
    /// # Examples
    /// ```
    /// # brisk::run(async {
    /// let dir = std::env::temp_dir().join(format!("brisk-doc-options-open-{}", std::process::id()));
    /// brisk::fs::create_dir_all(&dir).await?;
    /// brisk::fs::write(dir.join("log"), b"one\n").await?;
    /// let file = brisk::fs::OpenOptions::new().append(true).open(dir.join("log")).await?;
    /// drop(file);
    /// // A directory cannot be opened for writing.
    /// assert!(brisk::fs::OpenOptions::new().write(true).open(&dir).await.is_err());
    /// brisk::fs::remove_dir_all(&dir).await?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        if let Some(open) = with_driver(|d| {
            self.flags
                .map(|flags| d.open(path.clone(), flags))
                .ok_or_else(|| io::Error::new(io::ErrorKind::Unsupported, FS_STD_OPTIONS))
        }) {
            return Ok(File::from_driver(super::driver::drive(open?).await?));
        }
        let options = self.std.clone();
        let std = asyncify(move || options.open(path)).await?;
        Ok(File::from_std(std))
    }
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

impl From<std::fs::OpenOptions> for OpenOptions {
    fn from(options: std::fs::OpenOptions) -> OpenOptions {
        OpenOptions {
            std: options,
            flags: None,
        }
    }
}
