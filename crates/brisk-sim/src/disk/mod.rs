//! Simulated disks: every node has its own in-memory file system, served to
//! `brisk::fs` on that node, which survives the node's crashes and restarts
//! — with what was not made durable lost or torn — and can be made to fail.
//!
//! ```
//! use brisk::io::AsyncWriteExt;
//! use brisk::sim::Sim;
//!
//! let mut sim = Sim::builder().seed(3).build();
//! sim.node("db").init(|| async {
//!     if brisk::fs::try_exists("/data/log").await.unwrap() {
//!         return; // after the restart: the synced log is still there
//!     }
//!     brisk::fs::create_dir_all("/data").await.unwrap();
//!     let mut log = brisk::fs::File::create("/data/log").await.unwrap();
//!     log.write_all(b"committed").await.unwrap();
//!     log.sync_all().await.unwrap(); // data and name are durable now
//!     log.write_all(b" + not synced").await.unwrap();
//!     log.flush().await.unwrap();
//!     std::future::pending::<()>().await
//! });
//! sim.run_for(std::time::Duration::from_secs(1)).unwrap();
//! sim.restart("db"); // a crash, then `init` again
//!
//! let text = sim.client("check", async {
//!     brisk::fs::read("/data/log").await
//! });
//! sim.run().unwrap();
//! // Another node's disk: the client has its own, empty one.
//! assert_eq!(text.output().unwrap_err().kind(), std::io::ErrorKind::NotFound);
//! ```
//!
//! # The model
//! - **Per node, in memory.** Paths are absolute (relative ones start at
//!   `/`); `/` always exists. Nothing touches the real file system.
//! - **Durability.** A file's writes and length changes become durable with
//!   `File::sync_all` or `File::sync_data`. Name changes — creating a file
//!   or directory, renaming, removing — become durable with `sync_all` of
//!   the file they touch (its current names and their parent directories
//!   become durable; names it lost disappear), or with `sync_all` /
//!   `sync_data` of the parent directory opened with `File::open` (its
//!   direct children become durable as they are). `brisk::fs::write`
//!   does not sync.
//! - **Crash** ([`Sim::crash`](crate::Sim::crash), `restart`, or a crash
//!   from [`SimHandle`](crate::SimHandle)): the namespace goes back to its
//!   durable state; each file goes back to its durable bytes, then every
//!   unsynced write or length change is — by a draw from a generator seeded
//!   from the simulation's seed and the node's name — **kept, dropped, or
//!   torn** (a write cut at a random byte, a length change dropped). So the
//!   same seed always gives the same disk after a crash.
//! - **Faults** ([`SimDisk`], from [`Sim::disk`](crate::Sim::disk)):
//!   `EIO` on any operation, `ENOSPC` on operations that allocate (writes,
//!   `set_len`, creating files and directories), short reads, and a latency
//!   every operation waits (in virtual time) before it takes effect. Errors
//!   are those the OS gives: raw OS error 5 (`EIO`) and 28 (`ENOSPC`, kind
//!   `StorageFull`) on Unix.
//!
//! - **Metadata.** `brisk::fs::metadata`, `symlink_metadata`,
//!   `File::metadata` and `DirEntry::metadata` / `file_type` return
//!   [`brisk::fs::Metadata`](brisk_core::fs::Metadata): kind, length, and
//!   for files the times — created, modified (write, `set_len`, truncation)
//!   and accessed (read) — on the **node's virtual clock, counted from
//!   `UNIX_EPOCH`** (a file written 3 s into the run, on a node without
//!   skew, was modified at `UNIX_EPOCH + 3 s`), so they are the same on every
//!   run of a seed. A sync makes the times durable with the data; after a
//!   crash a file has the times of its last sync, with `modified` moved to
//!   the latest unsynced change that survived.
//!
//! # Simplifications
//! - A file holds at most 1 GiB (it lives in memory): a write or `set_len`
//!   past that fails with kind `FileTooLarge` (`EFBIG`) instead of
//!   allocating.
//! - Operations apply atomically when they complete; crashes happen between
//!   operations (a write in flight when its node crashes is dropped with
//!   its task).
//! - No permissions (every entry is writable, `set_permissions` fails),
//!   symlinks or hard links; directories keep no times (their `modified`,
//!   `accessed` and `created` fail with kind `Unsupported`); a removed file
//!   that is still open reads as empty.
//! - `read_dir` lists entries in name order.
//! - `brisk::fs::copy`, `canonicalize` and the other functions that need
//!   OS permissions, links or handles fail with kind `Unsupported` on a
//!   simulated node (see [`brisk::fs`](brisk_core::fs)).

pub(crate) mod model;

use crate::world::World;
use brisk_core::fs::{FileIo, FileStat, FsDriver, OpenFlags};
use brisk_core::net::BoxFuture;
use model::{normalize, Entry};
use std::ffi::OsString;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// An I/O error a simulated disk can inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DiskFault {
    /// `EIO`, an I/O error: any operation may fail with it.
    Eio,
    /// `ENOSPC`, no space left on the device: operations that allocate fail
    /// with it (kind [`StorageFull`](io::ErrorKind::StorageFull)).
    Enospc,
}

/// The faults configured on one node's disk.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Faults {
    pub(crate) eio: f64,
    pub(crate) enospc: f64,
    pub(crate) short_reads: f64,
    pub(crate) latency: Duration,
}

/// The disk of one node, to inject faults into and inspect; from
/// [`Sim::disk`](crate::Sim::disk). Settings hold until changed, across
/// crashes and restarts.
///
/// ```
/// use std::time::Duration;
/// use brisk::sim::{DiskFault, Sim};
///
/// let mut sim = Sim::builder().seed(9).build();
/// let client = sim.client("c", async {
///     let err = brisk::fs::write("/f", b"x").await.unwrap_err();
///     (err.kind(), brisk::time::Instant::now().since_origin())
/// });
/// sim.disk("c")
///     .fail_with(DiskFault::Enospc, 1.0)
///     .latency(Duration::from_millis(2));
/// sim.run().unwrap();
/// let (kind, at) = client.output();
/// assert_eq!(kind, std::io::ErrorKind::StorageFull);
/// assert_eq!(at, Duration::from_millis(2));
/// ```
pub struct SimDisk<'a> {
    pub(crate) world: &'a World,
    pub(crate) node: u32,
}

fn check_probability(p: f64) {
    if !(0.0..=1.0).contains(&p) {
        panic!("{} (got {p})", crate::error::BAD_DISK_PROBABILITY);
    }
}

impl SimDisk<'_> {
    /// From now on, operations fail with `fault` with probability `p`
    /// (`EIO`: every operation; `ENOSPC`: operations that allocate). `p = 0`
    /// turns it off.
    ///
    /// # Panics
    /// If `p` is not in `0.0..=1.0`.
    #[track_caller]
    pub fn fail_with(&self, fault: DiskFault, p: f64) -> &Self {
        check_probability(p);
        let mut st = self.world.state.lock();
        let f = &mut st.nodes[self.node as usize].disk_faults;
        match fault {
            DiskFault::Eio => f.eio = p,
            DiskFault::Enospc => f.enospc = p,
        }
        self
    }

    /// From now on, a read of `File` returns fewer bytes than it could
    /// (at least one) with probability `p`. Whole-file reads
    /// (`brisk::fs::read`) are never short.
    ///
    /// # Panics
    /// If `p` is not in `0.0..=1.0`.
    #[track_caller]
    pub fn short_reads(&self, p: f64) -> &Self {
        check_probability(p);
        self.world.state.lock().nodes[self.node as usize]
            .disk_faults
            .short_reads = p;
        self
    }

    /// From now on, every operation waits `latency` of the node's virtual
    /// time before it takes effect.
    pub fn latency(&self, latency: Duration) -> &Self {
        self.world.state.lock().nodes[self.node as usize]
            .disk_faults
            .latency = latency;
        self
    }

    /// Turns every fault and the latency off.
    pub fn clear_faults(&self) -> &Self {
        self.world.state.lock().nodes[self.node as usize].disk_faults = Faults::default();
        self
    }

    /// What the node's last crash did to unsynced writes and length
    /// changes: `(kept, dropped, torn)`; zeros before the first crash.
    pub fn last_crash(&self) -> (u64, u64, u64) {
        let r = self.world.state.lock().nodes[self.node as usize]
            .disk
            .last_crash;
        (r.kept, r.dropped, r.torn)
    }
}

/// How an operation may fail.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Reads and metadata: `EIO` only.
    Read,
    /// Allocating operations: `EIO` and `ENOSPC`.
    Alloc,
    /// Name changes and syncs: `EIO` only.
    Other,
}

fn eio() -> io::Error {
    #[cfg(unix)]
    return io::Error::from_raw_os_error(5);
    #[cfg(not(unix))]
    return io::Error::other(crate::error::DISK_EIO);
}

fn enospc() -> io::Error {
    #[cfg(unix)]
    return io::Error::from_raw_os_error(28);
    #[cfg(not(unix))]
    return io::Error::new(io::ErrorKind::StorageFull, crate::error::DISK_ENOSPC);
}

fn draw(rng: &brisk_core::rand::Rng, p: f64) -> bool {
    p > 0.0 && ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
}

/// One node's `FsDriver`: every operation waits the disk's latency, then
/// takes effect on the node's disk, unless a fault is drawn.
pub(crate) struct SimFs {
    pub(crate) world: Arc<World>,
    pub(crate) node: u32,
    pub(crate) gen: u64,
}

/// What an operation does to the disk.
type DiskOp<T> = Box<dyn FnOnce(&mut model::Disk, &Faults) -> io::Result<T> + Send>;

async fn run<T: Send + 'static>(
    world: Arc<World>,
    node: u32,
    gen: u64,
    kind: Kind,
    op: DiskOp<T>,
) -> io::Result<T> {
    let latency = world.state.lock().nodes[node as usize].disk_faults.latency;
    if !latency.is_zero() {
        brisk_core::time::sleep(latency).await;
    }
    let mut st = world.state.lock();
    let global_now = st.now;
    let n = &mut st.nodes[node as usize];
    n.disk.now = n.clock.local(global_now);
    if n.gen != gen {
        return Err(io::Error::other(crate::error::DISK_STALE_HANDLE));
    }
    let faults = n.disk_faults;
    if draw(&n.disk.rng, faults.eio) {
        return Err(eio());
    }
    if kind == Kind::Alloc && draw(&n.disk.rng, faults.enospc) {
        return Err(enospc());
    }
    op(&mut n.disk, &faults)
}

impl SimFs {
    fn op<T: Send + 'static>(
        &self,
        kind: Kind,
        op: impl FnOnce(&mut model::Disk, &Faults) -> io::Result<T> + Send + 'static,
    ) -> BoxFuture<'static, io::Result<T>> {
        Box::pin(run(
            self.world.clone(),
            self.node,
            self.gen,
            kind,
            Box::new(op),
        ))
    }
}

/// What an open simulated file refers to.
#[derive(Clone)]
enum Target {
    File {
        ino: u64,
        append: bool,
    },
    /// A directory opened for reading, to sync its entries.
    Dir(PathBuf),
}

/// An open file of a simulated disk.
struct SimFile {
    world: Arc<World>,
    node: u32,
    gen: u64,
    target: Target,
    read: bool,
    write: bool,
}

fn bad_fd(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!("{what}: {}", crate::error::DISK_NOT_OPEN_FOR),
    )
}

impl SimFile {
    fn op<T: Send + 'static>(
        &self,
        kind: Kind,
        op: impl FnOnce(&mut model::Disk, &Faults) -> io::Result<T> + Send + 'static,
    ) -> BoxFuture<'static, io::Result<T>> {
        Box::pin(run(
            self.world.clone(),
            self.node,
            self.gen,
            kind,
            Box::new(op),
        ))
    }

    fn fail<T: Send + 'static>(e: io::Error) -> BoxFuture<'static, io::Result<T>> {
        Box::pin(std::future::ready(Err(e)))
    }

    fn sync(&self, all: bool) -> BoxFuture<'static, io::Result<()>> {
        let target = self.target.clone();
        self.op(Kind::Other, move |d, _| {
            match target {
                Target::File { ino, .. } => d.sync_file(ino, all),
                Target::Dir(path) => d.sync_dir(&path),
            }
            Ok(())
        })
    }
}

fn is_dir_error(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::IsADirectory,
        format!("{what}: brisk::sim disk: is a directory"),
    )
}

impl FileIo for SimFile {
    fn read_at(&self, offset: u64, len: usize) -> BoxFuture<'static, io::Result<Vec<u8>>> {
        let Target::File { ino, .. } = self.target else {
            return Self::fail(is_dir_error("read"));
        };
        if !self.read {
            return Self::fail(bad_fd("read"));
        }
        self.op(Kind::Read, move |d, f| {
            let mut bytes = d.read_at(ino, offset, len);
            if bytes.len() > 1 && draw(&d.rng, f.short_reads) {
                let n =
                    1 + brisk_core::rand::below_with(bytes.len() as u64 - 1, || d.rng.next_u64());
                bytes.truncate(n as usize);
            }
            Ok(bytes)
        })
    }

    fn write_at(&self, offset: u64, data: Vec<u8>) -> BoxFuture<'static, io::Result<u64>> {
        let Target::File { ino, append } = self.target else {
            return Self::fail(is_dir_error("write"));
        };
        if !self.write {
            return Self::fail(bad_fd("write"));
        }
        self.op(Kind::Alloc, move |d, _| {
            let offset = if append { d.len(ino) } else { offset };
            d.write_at(ino, offset, data)
        })
    }

    fn sync_all(&self) -> BoxFuture<'static, io::Result<()>> {
        self.sync(true)
    }

    fn sync_data(&self) -> BoxFuture<'static, io::Result<()>> {
        let all = matches!(self.target, Target::Dir(_));
        self.sync(all)
    }

    fn set_len(&self, len: u64) -> BoxFuture<'static, io::Result<()>> {
        let Target::File { ino, .. } = self.target else {
            return Self::fail(is_dir_error("set_len"));
        };
        if !self.write {
            return Self::fail(bad_fd("set_len"));
        }
        self.op(Kind::Alloc, move |d, _| d.set_len(ino, len))
    }

    fn stat(&self) -> BoxFuture<'static, io::Result<FileStat>> {
        let target = self.target.clone();
        self.op(Kind::Read, move |d, _| {
            Ok(match target {
                Target::File { ino, .. } => file_stat(d, ino),
                Target::Dir(_) => FileStat::new(0, true),
            })
        })
    }
}

/// A file's stat: its length, and its times as the node's clock counted
/// from `UNIX_EPOCH`.
fn file_stat(d: &model::Disk, ino: u64) -> FileStat {
    let at = |nanos: u64| Some(std::time::UNIX_EPOCH + Duration::from_nanos(nanos));
    let times = d.times(ino);
    let mut stat = FileStat::new(d.len(ino), false);
    stat.created = at(times.created);
    stat.modified = at(times.modified);
    stat.accessed = at(times.accessed);
    stat
}

fn invalid(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

impl FsDriver for SimFs {
    fn open(
        &self,
        path: PathBuf,
        flags: OpenFlags,
    ) -> BoxFuture<'static, io::Result<Box<dyn FileIo>>> {
        let path = normalize(&path);
        let write = flags.write || flags.append;
        let creates = flags.create || flags.create_new;
        if !flags.read && !write {
            return SimFile::fail(invalid(crate::error::DISK_OPEN_NO_ACCESS));
        }
        if (creates || flags.truncate) && !write || (flags.truncate && flags.append) {
            return SimFile::fail(invalid(crate::error::DISK_OPEN_BAD_FLAGS));
        }
        let (world, node, gen) = (self.world.clone(), self.node, self.gen);
        let kind = if creates { Kind::Alloc } else { Kind::Read };
        self.op(kind, move |d, _| {
            let target = match d.entry(&path) {
                Some(_) if flags.create_new => {
                    return Err(io::Error::new(
                        io::ErrorKind::AlreadyExists,
                        format!("brisk::sim disk: already exists: {}", path.display()),
                    ))
                }
                Some(Entry::Dir) if write => return Err(is_dir_error("open")),
                Some(Entry::Dir) => Target::Dir(path),
                Some(Entry::File(ino)) => {
                    if flags.truncate {
                        d.set_len(ino, 0)?;
                    }
                    Target::File {
                        ino,
                        append: flags.append,
                    }
                }
                None if creates => Target::File {
                    ino: d.create_file(&path)?,
                    append: flags.append,
                },
                None => d
                    .file(&path)
                    .map(|_| unreachable!("the entry is missing"))?,
            };
            Ok(Box::new(SimFile {
                world,
                node,
                gen,
                target,
                read: flags.read,
                write,
            }) as Box<dyn FileIo>)
        })
    }

    fn read(&self, path: PathBuf) -> BoxFuture<'static, io::Result<Vec<u8>>> {
        let path = normalize(&path);
        self.op(Kind::Read, move |d, _| d.read(&path))
    }

    fn write(&self, path: PathBuf, contents: Vec<u8>) -> BoxFuture<'static, io::Result<()>> {
        let path = normalize(&path);
        self.op(Kind::Alloc, move |d, _| {
            let ino = match d.entry(&path) {
                Some(Entry::File(ino)) => {
                    d.set_len(ino, 0)?;
                    ino
                }
                Some(Entry::Dir) => return Err(is_dir_error("brisk::fs::write")),
                None => d.create_file(&path)?,
            };
            d.write_at(ino, 0, contents).map(drop)
        })
    }

    fn stat(&self, path: PathBuf) -> BoxFuture<'static, io::Result<FileStat>> {
        let path = normalize(&path);
        self.op(Kind::Read, move |d, _| match d.entry(&path) {
            Some(Entry::Dir) => Ok(FileStat::new(0, true)),
            Some(Entry::File(ino)) => Ok(file_stat(d, ino)),
            None => d.file(&path).map(|_| unreachable!("the entry is missing")),
        })
    }

    fn create_dir(&self, path: PathBuf) -> BoxFuture<'static, io::Result<()>> {
        let path = normalize(&path);
        self.op(Kind::Alloc, move |d, _| d.create_dir(&path))
    }

    fn create_dir_all(&self, path: PathBuf) -> BoxFuture<'static, io::Result<()>> {
        let path = normalize(&path);
        self.op(Kind::Alloc, move |d, _| d.create_dir_all(&path))
    }

    fn remove_file(&self, path: PathBuf) -> BoxFuture<'static, io::Result<()>> {
        let path = normalize(&path);
        self.op(Kind::Other, move |d, _| d.remove_file(&path))
    }

    fn remove_dir(&self, path: PathBuf) -> BoxFuture<'static, io::Result<()>> {
        let path = normalize(&path);
        self.op(Kind::Other, move |d, _| d.remove_dir(&path))
    }

    fn remove_dir_all(&self, path: PathBuf) -> BoxFuture<'static, io::Result<()>> {
        let path = normalize(&path);
        self.op(Kind::Other, move |d, _| d.remove_dir_all(&path))
    }

    fn rename(&self, from: PathBuf, to: PathBuf) -> BoxFuture<'static, io::Result<()>> {
        let (from, to) = (normalize(&from), normalize(&to));
        self.op(Kind::Other, move |d, _| d.rename(&from, &to))
    }

    fn read_dir(&self, path: PathBuf) -> BoxFuture<'static, io::Result<Vec<(OsString, FileStat)>>> {
        let path = normalize(&path);
        self.op(Kind::Read, move |d, _| {
            Ok(d.list(&path)?
                .into_iter()
                .map(|(name, entry)| {
                    let stat = match entry {
                        Entry::Dir => FileStat::new(0, true),
                        Entry::File(ino) => file_stat(d, ino),
                    };
                    (name, stat)
                })
                .collect())
        })
    }
}
