//! One node's disk: an in-memory tree of directories and files, with what
//! the code sees (the *live* state) kept apart from what survives a crash
//! (the *durable* state).
//!
//! # Ground rules
//! - **Data.** Each file (inode) holds its live bytes, its durable bytes and
//!   the log of changes (writes, length changes) made since its last
//!   `sync_all` / `sync_data`. A sync makes the live bytes durable and
//!   empties the log.
//! - **Names.** The live and the durable namespace are two `BTreeMap`s from
//!   normalised absolute paths to entries. Creating, renaming or removing a
//!   name changes only the live map; `sync_all` of a file makes every name
//!   change that touches that file durable (its names, with their parent
//!   directories; its removed or renamed-away names disappear), and
//!   `sync_all` / `sync_data` of a directory opened for reading makes its
//!   direct children durable as they are now.
//! - **Crash.** The live namespace becomes the durable one (minus entries
//!   whose parent did not survive); each file restarts from its durable
//!   bytes, and each logged change is, by a draw from the disk's seeded
//!   generator, kept, dropped or torn (a write cut at a random byte). Files
//!   no surviving name points to are gone.
//! - **Times.** A file keeps when it was created, last modified (write,
//!   length change) and last read, in nanoseconds of the node's clock
//!   ([`Disk::now`], set before every operation). A sync makes them durable
//!   with the bytes; after a crash a file has its durable times, with
//!   `modified` moved to the latest unsynced change that survived (kept or
//!   a torn write). Directories keep no times.
//! - **Determinism.** Only `BTreeMap`s are iterated, and every draw comes
//!   from the disk's generator in the order operations complete.

use brisk_core::rand::{below_with, Rng};
use std::collections::BTreeMap;
use std::io::{self, ErrorKind};
use std::path::{Component, Path, PathBuf};

/// A name in a directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Entry {
    Dir,
    File(u64),
}

/// A change to a file's bytes not yet made durable.
#[derive(Debug)]
enum Change {
    Write { offset: u64, bytes: Vec<u8> },
    SetLen(u64),
}

/// A file's times, in nanoseconds of its node's clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Times {
    pub(crate) created: u64,
    pub(crate) modified: u64,
    pub(crate) accessed: u64,
}

#[derive(Debug, Default)]
struct Inode {
    data: Vec<u8>,
    durable: Vec<u8>,
    /// Each change with the time it was made.
    log: Vec<(Change, u64)>,
    times: Times,
    durable_times: Times,
}

/// What a crash did to the unsynced changes (for tests and traces).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct CrashReport {
    pub(crate) kept: u64,
    pub(crate) dropped: u64,
    pub(crate) torn: u64,
}

/// One node's disk.
pub(crate) struct Disk {
    names: BTreeMap<PathBuf, Entry>,
    durable_names: BTreeMap<PathBuf, Entry>,
    inodes: BTreeMap<u64, Inode>,
    next_ino: u64,
    /// The node's clock (nanoseconds) for the operation being applied.
    pub(crate) now: u64,
    pub(crate) rng: Rng,
    pub(crate) last_crash: CrashReport,
}

/// The largest simulated file: files live in memory, and a write far past
/// the end (or a `set_len`) must fail, not exhaust the process's memory.
pub(crate) const MAX_FILE_LEN: u64 = 1 << 30;

/// `EFBIG`: a write or `set_len` beyond [`MAX_FILE_LEN`].
fn too_large() -> io::Error {
    io::Error::new(ErrorKind::FileTooLarge, crate::error::DISK_FILE_TOO_LARGE)
}

fn err(kind: ErrorKind, msg: &str, path: &Path) -> io::Error {
    io::Error::new(kind, format!("{msg}: {}", path.display()))
}

fn not_found(path: &Path) -> io::Error {
    err(
        ErrorKind::NotFound,
        "brisk::sim disk: no such file or directory",
        path,
    )
}

/// `path` as an absolute path without `.` and `..` (relative paths are
/// taken from `/`, the only working directory of a simulated node).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::Prefix(_) | Component::RootDir => out = PathBuf::from("/"),
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(name) => out.push(name),
        }
    }
    out
}

/// True if `path` is directly inside `dir`.
fn is_child(path: &Path, dir: &Path) -> bool {
    path.parent() == Some(dir)
}

impl Disk {
    pub(crate) fn new(rng: Rng) -> Disk {
        let mut names = BTreeMap::new();
        names.insert(PathBuf::from("/"), Entry::Dir);
        Disk {
            durable_names: names.clone(),
            names,
            inodes: BTreeMap::new(),
            next_ino: 0,
            now: 0,
            rng,
            last_crash: CrashReport::default(),
        }
    }

    pub(crate) fn entry(&self, path: &Path) -> Option<Entry> {
        self.names.get(path).copied()
    }

    /// The parent of `path` must be a directory.
    fn check_parent(&self, path: &Path) -> io::Result<()> {
        let Some(parent) = path.parent() else {
            return Err(err(
                ErrorKind::AlreadyExists,
                "brisk::sim disk: the root exists",
                path,
            ));
        };
        match self.entry(parent) {
            Some(Entry::Dir) => Ok(()),
            Some(Entry::File(_)) => Err(err(
                ErrorKind::NotADirectory,
                "brisk::sim disk: a parent is not a directory",
                path,
            )),
            None => Err(not_found(path)),
        }
    }

    pub(crate) fn file(&self, path: &Path) -> io::Result<u64> {
        match self.entry(path) {
            Some(Entry::File(ino)) => Ok(ino),
            Some(Entry::Dir) => Err(err(
                ErrorKind::IsADirectory,
                "brisk::sim disk: is a directory",
                path,
            )),
            None => Err(not_found(path)),
        }
    }

    /// Creates an empty file at `path` (the parent must exist).
    pub(crate) fn create_file(&mut self, path: &Path) -> io::Result<u64> {
        self.check_parent(path)?;
        self.next_ino += 1;
        let ino = self.next_ino;
        let times = Times {
            created: self.now,
            modified: self.now,
            accessed: self.now,
        };
        self.inodes.insert(
            ino,
            Inode {
                times,
                durable_times: times,
                ..Inode::default()
            },
        );
        self.names.insert(path.to_owned(), Entry::File(ino));
        Ok(ino)
    }

    pub(crate) fn len(&self, ino: u64) -> u64 {
        self.inodes.get(&ino).map_or(0, |i| i.data.len() as u64)
    }

    /// The times of file `ino` (zeros for a file no longer there).
    pub(crate) fn times(&self, ino: u64) -> Times {
        self.inodes.get(&ino).map_or(Times::default(), |i| i.times)
    }

    pub(crate) fn read_at(&mut self, ino: u64, offset: u64, len: usize) -> Vec<u8> {
        let now = self.now;
        let data = self.inodes.get_mut(&ino).map_or(&[][..], |i| {
            i.times.accessed = now;
            &i.data[..]
        });
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let end = start.saturating_add(len).min(data.len());
        data[start..end].to_vec()
    }

    pub(crate) fn write_at(&mut self, ino: u64, offset: u64, bytes: Vec<u8>) -> io::Result<u64> {
        let Some(inode) = self.inodes.get_mut(&ino) else {
            return Ok(offset);
        };
        let end = offset
            .checked_add(bytes.len() as u64)
            .filter(|e| *e <= MAX_FILE_LEN)
            .ok_or_else(too_large)? as usize;
        apply_write(&mut inode.data, offset as usize, &bytes);
        inode.times.modified = self.now;
        inode.log.push((Change::Write { offset, bytes }, self.now));
        Ok(end as u64)
    }

    pub(crate) fn set_len(&mut self, ino: u64, len: u64) -> io::Result<()> {
        if len > MAX_FILE_LEN {
            return Err(too_large());
        }
        let len_usize = len as usize;
        if let Some(inode) = self.inodes.get_mut(&ino) {
            inode.data.resize(len_usize, 0);
            inode.times.modified = self.now;
            inode.log.push((Change::SetLen(len), self.now));
        }
        Ok(())
    }

    /// Makes the file's bytes durable, and with `names` its name changes.
    pub(crate) fn sync_file(&mut self, ino: u64, names: bool) {
        if let Some(inode) = self.inodes.get_mut(&ino) {
            inode.durable = inode.data.clone();
            inode.durable_times = inode.times;
            inode.log.clear();
        }
        if !names {
            return;
        }
        self.durable_names
            .retain(|p, e| *e != Entry::File(ino) || self.names.get(p) == Some(e));
        let live: Vec<PathBuf> = self
            .names
            .iter()
            .filter(|(_, e)| **e == Entry::File(ino))
            .map(|(p, _)| p.clone())
            .collect();
        for path in live {
            for dir in path.ancestors().skip(1) {
                self.durable_names.insert(dir.to_owned(), Entry::Dir);
            }
            // A file this name replaced is gone from the durable view too.
            self.durable_names.insert(path, Entry::File(ino));
        }
    }

    /// Makes the direct children of directory `dir` durable as they are.
    pub(crate) fn sync_dir(&mut self, dir: &Path) {
        self.durable_names.retain(|p, _| !is_child(p, dir));
        for (p, e) in self.names.range(dir.to_owned()..) {
            if !p.starts_with(dir) {
                break;
            }
            if is_child(p, dir) {
                self.durable_names.insert(p.clone(), *e);
            }
        }
    }

    pub(crate) fn read(&mut self, path: &Path) -> io::Result<Vec<u8>> {
        let ino = self.file(path)?;
        let now = self.now;
        Ok(self
            .inodes
            .get_mut(&ino)
            .map(|i| {
                i.times.accessed = now;
                i.data.clone()
            })
            .unwrap_or_default())
    }

    /// The direct children of directory `dir`, in name order, with their
    /// entries.
    pub(crate) fn list(&self, dir: &Path) -> io::Result<Vec<(std::ffi::OsString, Entry)>> {
        self.expect_dir(dir)?;
        Ok(self
            .names
            .range(dir.to_owned()..)
            .skip(1)
            .take_while(|(p, _)| p.starts_with(dir))
            .filter(|(p, _)| is_child(p, dir))
            .map(|(p, e)| (p.file_name().unwrap_or_default().to_owned(), *e))
            .collect())
    }

    pub(crate) fn create_dir(&mut self, path: &Path) -> io::Result<()> {
        if self.entry(path).is_some() {
            return Err(err(
                ErrorKind::AlreadyExists,
                "brisk::sim disk: already exists",
                path,
            ));
        }
        self.check_parent(path)?;
        self.names.insert(path.to_owned(), Entry::Dir);
        Ok(())
    }

    pub(crate) fn create_dir_all(&mut self, path: &Path) -> io::Result<()> {
        let mut missing: Vec<&Path> = Vec::new();
        for dir in path.ancestors() {
            match self.entry(dir) {
                Some(Entry::Dir) => break,
                Some(Entry::File(_)) => {
                    return Err(err(
                        ErrorKind::NotADirectory,
                        "brisk::sim disk: a path component is a file",
                        dir,
                    ))
                }
                None => missing.push(dir),
            }
        }
        for dir in missing.into_iter().rev() {
            self.names.insert(dir.to_owned(), Entry::Dir);
        }
        Ok(())
    }

    pub(crate) fn remove_file(&mut self, path: &Path) -> io::Result<()> {
        let ino = self.file(path)?;
        self.names.remove(path);
        self.collect(ino);
        Ok(())
    }

    fn has_children(&self, dir: &Path) -> bool {
        self.names
            .range(dir.to_owned()..)
            .nth(1)
            .is_some_and(|(p, _)| p.starts_with(dir))
    }

    fn expect_dir(&self, path: &Path) -> io::Result<()> {
        match self.entry(path) {
            Some(Entry::Dir) => Ok(()),
            Some(Entry::File(_)) => Err(err(
                ErrorKind::NotADirectory,
                "brisk::sim disk: not a directory",
                path,
            )),
            None => Err(not_found(path)),
        }
    }

    pub(crate) fn remove_dir(&mut self, path: &Path) -> io::Result<()> {
        self.expect_dir(path)?;
        if self.has_children(path) {
            return Err(err(
                ErrorKind::DirectoryNotEmpty,
                "brisk::sim disk: directory not empty",
                path,
            ));
        }
        if path == Path::new("/") {
            return Err(err(
                ErrorKind::PermissionDenied,
                "brisk::sim disk: cannot remove the root",
                path,
            ));
        }
        self.names.remove(path);
        Ok(())
    }

    /// The paths at and under `dir`, in order.
    fn subtree(&self, dir: &Path) -> Vec<(PathBuf, Entry)> {
        self.names
            .range(dir.to_owned()..)
            .take_while(|(p, _)| p.starts_with(dir))
            .map(|(p, e)| (p.clone(), *e))
            .collect()
    }

    pub(crate) fn remove_dir_all(&mut self, path: &Path) -> io::Result<()> {
        self.expect_dir(path)?;
        if path == Path::new("/") {
            return Err(err(
                ErrorKind::PermissionDenied,
                "brisk::sim disk: cannot remove the root",
                path,
            ));
        }
        for (p, e) in self.subtree(path) {
            self.names.remove(&p);
            if let Entry::File(ino) = e {
                self.collect(ino);
            }
        }
        Ok(())
    }

    pub(crate) fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()> {
        let Some(src) = self.entry(from) else {
            return Err(not_found(from));
        };
        if from == to {
            return Ok(());
        }
        self.check_parent(to)?;
        match (src, self.entry(to)) {
            (Entry::File(_), Some(Entry::Dir)) => {
                return Err(err(
                    ErrorKind::IsADirectory,
                    "brisk::sim disk: rename onto a directory",
                    to,
                ))
            }
            (Entry::Dir, Some(Entry::File(_))) => {
                return Err(err(
                    ErrorKind::NotADirectory,
                    "brisk::sim disk: rename of a directory onto a file",
                    to,
                ))
            }
            (Entry::Dir, Some(Entry::Dir)) if self.has_children(to) => {
                return Err(err(
                    ErrorKind::DirectoryNotEmpty,
                    "brisk::sim disk: rename onto a non-empty directory",
                    to,
                ))
            }
            (Entry::Dir, _) if to.starts_with(from) => {
                return Err(err(
                    ErrorKind::InvalidInput,
                    "brisk::sim disk: rename of a directory into itself",
                    to,
                ))
            }
            _ => {}
        }
        let replaced = self.names.remove(to);
        for (p, e) in self.subtree(from) {
            self.names.remove(&p);
            let rest = p.strip_prefix(from).unwrap_or(Path::new(""));
            let dest = if rest.as_os_str().is_empty() {
                to.to_owned()
            } else {
                to.join(rest)
            };
            self.names.insert(dest, e);
        }
        if let Some(Entry::File(ino)) = replaced {
            self.collect(ino);
        }
        Ok(())
    }

    /// Drops inode `ino` if no live or durable name points to it.
    fn collect(&mut self, ino: u64) {
        let e = Entry::File(ino);
        if !self.names.values().any(|x| *x == e) && !self.durable_names.values().any(|x| *x == e) {
            self.inodes.remove(&ino);
        }
    }

    /// The node crashed: see the ground rules.
    pub(crate) fn crash(&mut self) {
        let mut names: BTreeMap<PathBuf, Entry> = BTreeMap::new();
        for (p, e) in &self.durable_names {
            // Parents sort before their children.
            let keep = match p.parent() {
                None => true,
                Some(parent) => names.get(parent) == Some(&Entry::Dir),
            };
            if keep {
                names.insert(p.clone(), *e);
            }
        }
        let mut report = CrashReport::default();
        let rng = &self.rng;
        for inode in self.inodes.values_mut() {
            let mut data = std::mem::take(&mut inode.durable);
            let mut times = inode.durable_times;
            for (change, at) in inode.log.drain(..) {
                match below_with(3, || rng.next_u64()) {
                    0 => {
                        report.kept += 1;
                        times.modified = at;
                        apply(&mut data, &change, None);
                    }
                    1 => report.dropped += 1,
                    _ => {
                        report.torn += 1;
                        if matches!(change, Change::Write { .. }) {
                            // A torn length change is dropped.
                            times.modified = at;
                        }
                        let cut = match &change {
                            Change::Write { bytes, .. } => {
                                below_with(bytes.len() as u64 + 1, || rng.next_u64()) as usize
                            }
                            Change::SetLen(_) => 0,
                        };
                        apply(&mut data, &change, Some(cut));
                    }
                }
            }
            inode.durable = data.clone();
            inode.data = data;
            inode.times = times;
            inode.durable_times = times;
        }
        self.inodes
            .retain(|ino, _| names.values().any(|e| *e == Entry::File(*ino)));
        self.durable_names = names.clone();
        self.names = names;
        self.last_crash = report;
    }
}

fn apply_write(data: &mut Vec<u8>, offset: usize, bytes: &[u8]) {
    let end = offset + bytes.len();
    if data.len() < end {
        data.resize(end, 0);
    }
    data[offset..end].copy_from_slice(bytes);
}

/// Applies a logged change; `cut` keeps only that many bytes of a write (a
/// torn length change is dropped).
fn apply(data: &mut Vec<u8>, change: &Change, cut: Option<usize>) {
    match change {
        Change::Write { offset, bytes } => {
            let n = cut.unwrap_or(bytes.len()).min(bytes.len());
            apply_write(data, *offset as usize, &bytes[..n]);
        }
        Change::SetLen(len) => {
            if cut.is_none() {
                data.resize(*len as usize, 0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disk() -> Disk {
        Disk::new(Rng::from_seed(7))
    }

    #[test]
    fn normalize_resolves_dots_and_relative_paths() {
        assert_eq!(normalize(Path::new("a/./b/../c")), Path::new("/a/c"));
        assert_eq!(normalize(Path::new("/../x")), Path::new("/x"));
    }

    #[test]
    fn synced_file_survives_a_crash_and_unsynced_one_does_not() {
        let mut d = disk();
        let a = d.create_file(Path::new("/a")).unwrap();
        d.write_at(a, 0, b"durable".to_vec()).unwrap();
        d.sync_file(a, true);
        let b = d.create_file(Path::new("/b")).unwrap();
        d.write_at(b, 0, b"lost".to_vec()).unwrap();
        d.crash();
        assert_eq!(d.read(Path::new("/a")).unwrap(), b"durable");
        assert_eq!(d.entry(Path::new("/b")), None);
    }

    #[test]
    fn rename_moves_a_subtree_and_replaces_a_file() {
        let mut d = disk();
        d.create_dir_all(Path::new("/x/y")).unwrap();
        let f = d.create_file(Path::new("/x/y/f")).unwrap();
        d.write_at(f, 0, b"1".to_vec()).unwrap();
        d.rename(Path::new("/x"), Path::new("/z")).unwrap();
        assert_eq!(d.read(Path::new("/z/y/f")).unwrap(), b"1");
        assert!(d.entry(Path::new("/x/y")).is_none());
        let g = d.create_file(Path::new("/g")).unwrap();
        d.write_at(g, 0, b"2".to_vec()).unwrap();
        d.rename(Path::new("/g"), Path::new("/z/y/f")).unwrap();
        assert_eq!(d.read(Path::new("/z/y/f")).unwrap(), b"2");
    }

    #[test]
    fn writes_and_lengths_past_the_largest_file_fail_without_allocating() {
        let mut d = disk();
        let f = d.create_file(Path::new("/f")).unwrap();
        for offset in [MAX_FILE_LEN, u64::MAX - 1, 1 << 40] {
            let e = d.write_at(f, offset, b"xy".to_vec()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::FileTooLarge, "offset {offset}");
        }
        let e = d.set_len(f, MAX_FILE_LEN + 1).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::FileTooLarge);
        assert_eq!(d.len(f), 0, "nothing was applied");
    }

    #[test]
    fn sync_dir_makes_children_durable() {
        let mut d = disk();
        d.create_dir(Path::new("/d")).unwrap();
        d.sync_dir(Path::new("/"));
        let f = d.create_file(Path::new("/d/f")).unwrap();
        d.sync_file(f, false);
        d.sync_dir(Path::new("/d"));
        d.crash();
        assert_eq!(d.read(Path::new("/d/f")).unwrap(), b"");
    }
}
