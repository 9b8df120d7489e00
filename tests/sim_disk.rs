//! The simulator's per-node disk: durability across crashes, the rename
//! rule, injected faults, latency and determinism.

use brisk::fs::{self, File, OpenOptions};
use brisk::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, SeekFrom};
use brisk::sim::{DiskFault, Sim};
use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::rc::Rc;
use std::time::Duration;

const COMMITTED: &[u8] = b"committed;";
const EXTRA: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Runs `write` on node "db" once, crashes and restarts the node, then runs
/// `read` on the restarted node and returns what it returned.
fn across_crash<W, WF, R, RF, T>(seed: u64, write: W, read: R) -> T
where
    W: Fn() -> WF + 'static,
    WF: Future<Output = ()> + 'static,
    R: Fn() -> RF + 'static,
    RF: Future<Output = T> + 'static,
    T: 'static,
{
    let mut sim = Sim::builder().seed(seed).build();
    let boots = Rc::new(RefCell::new(0));
    let out: Rc<RefCell<Option<T>>> = Rc::new(RefCell::new(None));
    let (b, o) = (boots.clone(), out.clone());
    sim.node("db").init(move || {
        *b.borrow_mut() += 1;
        let first = *b.borrow() == 1;
        let (w, r, o) = (first.then(&write), (!first).then(&read), o.clone());
        async move {
            if let Some(w) = w {
                w.await;
                std::future::pending::<()>().await;
            }
            if let Some(r) = r {
                let v = r.await;
                *o.borrow_mut() = Some(v);
            }
        }
    });
    sim.run_for(Duration::from_secs(1)).unwrap();
    sim.restart("db");
    sim.run_for(Duration::from_secs(1)).unwrap();
    let v = out
        .borrow_mut()
        .take()
        .expect("the restarted node read its disk");
    v
}

async fn read_f() -> io::Result<Vec<u8>> {
    fs::read("/data/f").await
}

/// Writes and syncs `COMMITTED`, then appends `EXTRA` without a sync.
async fn commit_then_scribble() {
    fs::create_dir_all("/data").await.unwrap();
    let mut f = File::create("/data/f").await.unwrap();
    f.write_all(COMMITTED).await.unwrap();
    f.sync_all().await.unwrap();
    f.write_all(EXTRA).await.unwrap();
    f.flush().await.unwrap();
}

#[test]
fn write_and_sync_survives_a_crash() {
    for seed in 0..20 {
        let got = across_crash(
            seed,
            || async {
                let mut f = File::create("/f").await.unwrap();
                f.write_all(b"durable").await.unwrap();
                f.sync_all().await.unwrap();
            },
            || fs::read("/f"),
        );
        assert_eq!(got.unwrap(), b"durable", "seed {seed}");
    }
}

#[test]
fn unsynced_write_is_lost_or_torn_across_seeds() {
    let (mut lost, mut torn, mut kept) = (0, 0, 0);
    for seed in 0..60 {
        let got = across_crash(seed, commit_then_scribble, read_f).unwrap();
        assert!(got.starts_with(COMMITTED), "seed {seed}: synced bytes lost");
        let tail = &got[COMMITTED.len()..];
        assert!(
            EXTRA.starts_with(tail),
            "seed {seed}: not a prefix: {tail:?}"
        );
        match tail.len() {
            0 => lost += 1,
            n if n == EXTRA.len() => kept += 1,
            _ => torn += 1,
        }
    }
    assert!(
        lost > 0 && torn > 0 && kept > 0,
        "lost {lost} torn {torn} kept {kept}"
    );
}

#[test]
fn unsynced_new_file_is_gone_after_a_crash() {
    let got = across_crash(
        1,
        || async { fs::write("/f", b"not synced").await.unwrap() },
        || fs::read("/f"),
    );
    assert_eq!(got.unwrap_err().kind(), io::ErrorKind::NotFound);
}

#[test]
fn sync_data_keeps_data_but_not_a_new_name() {
    let got = across_crash(
        2,
        || async {
            let mut f = File::create("/f").await.unwrap();
            f.write_all(b"x").await.unwrap();
            f.sync_data().await.unwrap();
        },
        || fs::read("/f"),
    );
    assert_eq!(got.unwrap_err().kind(), io::ErrorKind::NotFound);
}

/// Writes and syncs `/tmp`, renames it to `/f`, then runs `after`.
async fn replace_via_rename(after: u8) {
    let mut t = File::create("/tmp").await.unwrap();
    t.write_all(b"new").await.unwrap();
    t.sync_all().await.unwrap();
    fs::rename("/tmp", "/f").await.unwrap();
    match after {
        0 => {}
        1 => File::open("/").await.unwrap().sync_all().await.unwrap(),
        _ => File::open("/f").await.unwrap().sync_all().await.unwrap(),
    }
}

async fn both() -> (io::Result<Vec<u8>>, io::Result<Vec<u8>>) {
    (fs::read("/tmp").await, fs::read("/f").await)
}

#[test]
fn rename_is_durable_only_after_a_sync_of_the_file_or_its_directory() {
    // No sync after the rename: the old name is back, the new one is gone.
    let (tmp, f) = across_crash(3, || replace_via_rename(0), both);
    assert_eq!(tmp.unwrap(), b"new");
    assert_eq!(f.unwrap_err().kind(), io::ErrorKind::NotFound);
    // A sync of the parent directory, or of the file, makes it durable.
    for after in [1, 2] {
        let (tmp, f) = across_crash(3, move || replace_via_rename(after), both);
        assert_eq!(tmp.unwrap_err().kind(), io::ErrorKind::NotFound);
        assert_eq!(f.unwrap(), b"new");
    }
}

#[test]
fn eio_and_enospc_are_errors_of_the_right_kind() {
    let mut sim = Sim::builder().seed(4).build();
    let client = sim.client("c", async {
        fs::write("/f", b"abc").await.unwrap();
        brisk::time::sleep(Duration::from_millis(10)).await;
        // ENOSPC from here on (see below): allocation fails, reads work.
        let full = fs::write("/g", b"x").await.unwrap_err();
        let read = fs::read("/f").await.unwrap();
        brisk::time::sleep(Duration::from_millis(10)).await;
        // EIO from here on: everything fails.
        let eio_read = fs::read("/f").await.unwrap_err();
        let eio_open = File::open("/f").await.unwrap_err();
        (full, read, eio_read, eio_open)
    });
    sim.run_for(Duration::from_millis(5)).unwrap();
    sim.disk("c").fail_with(DiskFault::Enospc, 1.0);
    sim.run_for(Duration::from_millis(10)).unwrap();
    sim.disk("c")
        .fail_with(DiskFault::Enospc, 0.0)
        .fail_with(DiskFault::Eio, 1.0);
    sim.run().unwrap();
    let (full, read, eio_read, eio_open) = client.output();
    assert_eq!(full.kind(), io::ErrorKind::StorageFull);
    assert_eq!(read, b"abc");
    #[cfg(unix)]
    {
        assert_eq!(full.raw_os_error(), Some(28));
        assert_eq!(eio_read.raw_os_error(), Some(5));
        assert_eq!(eio_open.raw_os_error(), Some(5));
    }
    let _ = (eio_read, eio_open);
}

#[test]
fn probabilistic_eio_fails_some_operations_and_never_panics() {
    let mut sim = Sim::builder().seed(5).build();
    let client = sim.client("c", async {
        let mut failed = 0;
        for i in 0..100u32 {
            if fs::write(format!("/f{i}"), i.to_le_bytes()).await.is_err() {
                failed += 1;
            }
        }
        failed
    });
    sim.disk("c").fail_with(DiskFault::Eio, 0.3);
    sim.run().unwrap();
    let failed = client.output();
    assert!((10..60).contains(&failed), "{failed} of 100 failed");
}

#[test]
fn short_reads_return_fewer_bytes_but_read_to_end_gets_all() {
    let mut sim = Sim::builder().seed(6).build();
    let client = sim.client("c", async {
        fs::write("/f", vec![7u8; 100]).await.unwrap();
        let mut f = File::open("/f").await.unwrap();
        let mut buf = [0u8; 100];
        let first = f.read(&mut buf).await.unwrap();
        f.seek(SeekFrom::Start(0)).await.unwrap();
        let mut all = Vec::new();
        f.read_to_end(&mut all).await.unwrap();
        (first, all.len())
    });
    sim.disk("c").short_reads(1.0);
    sim.run().unwrap();
    let (first, all) = client.output();
    assert!((1..100).contains(&first), "first read returned {first}");
    assert_eq!(all, 100);
}

#[test]
fn latency_advances_virtual_time() {
    let mut sim = Sim::builder().seed(7).build();
    let client = sim.client("c", async {
        let start = brisk::time::Instant::now();
        fs::write("/f", b"x").await.unwrap();
        let one = start.elapsed();
        let mut f = File::open("/f").await.unwrap();
        let mut s = String::new();
        f.read_to_string(&mut s).await.unwrap();
        (one, start.elapsed())
    });
    sim.disk("c").latency(Duration::from_millis(3));
    sim.run().unwrap();
    let (one, total) = client.output();
    assert_eq!(one, Duration::from_millis(3));
    // open, a read of the byte, a read of the end: three more operations.
    assert_eq!(total, Duration::from_millis(12));
}

#[test]
fn same_seed_same_disk_after_a_crash() {
    for seed in [11, 12, 13] {
        let a = across_crash(seed, commit_then_scribble, read_f).unwrap();
        let b = across_crash(seed, commit_then_scribble, read_f).unwrap();
        assert_eq!(a, b, "seed {seed}");
    }
}

#[test]
fn file_seek_set_len_and_append_on_the_simulated_disk() {
    let mut sim = Sim::builder().seed(8).build();
    let client = sim.client("c", async {
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open("/f")
            .await
            .unwrap();
        f.write_all(b"hello world").await.unwrap();
        let end = f.seek(SeekFrom::End(-5)).await.unwrap();
        let mut tail = String::new();
        f.read_to_string(&mut tail).await.unwrap();
        f.set_len(5).await.unwrap();
        drop(f);
        let mut log = OpenOptions::new().append(true).open("/f").await.unwrap();
        log.write_all(b"!").await.unwrap();
        log.flush().await.unwrap();
        let again = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open("/f")
            .await;
        (
            end,
            tail,
            fs::read_to_string("/f").await.unwrap(),
            again.unwrap_err().kind(),
        )
    });
    sim.run().unwrap();
    let (end, tail, text, again) = client.output();
    assert_eq!((end, tail.as_str(), text.as_str()), (6, "world", "hello!"));
    assert_eq!(again, io::ErrorKind::AlreadyExists);
}

#[test]
fn each_node_has_its_own_disk_and_std_only_calls_fail_cleanly() {
    let mut sim = Sim::builder().seed(9).build();
    sim.node("a").init(|| async {
        fs::create_dir_all("/only/on/a").await.unwrap();
    });
    let client = sim.client("b", async {
        brisk::time::sleep(Duration::from_millis(1)).await;
        let exists = fs::try_exists("/only/on/a").await.unwrap();
        // `canonicalize` needs the OS: it fails instead of reaching the
        // real file system.
        let canon = fs::canonicalize("/").await.map(drop).unwrap_err().kind();
        (exists, canon)
    });
    sim.run().unwrap();
    assert_eq!(client.output(), (false, io::ErrorKind::Unsupported));
}

async fn names(dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut entries = fs::read_dir(dir).await.unwrap();
    while let Some(e) = entries.next_entry().await.unwrap() {
        assert_eq!(e.path(), std::path::Path::new(dir).join(e.file_name()));
        out.push(e.file_name().into_string().unwrap());
    }
    out
}

#[test]
fn read_dir_lists_in_name_order_and_only_durable_names_survive() {
    let got = across_crash(
        10,
        || async {
            fs::create_dir("/wal").await.unwrap();
            for seg in ["003", "001", "002"] {
                let mut f = File::create(format!("/wal/{seg}")).await.unwrap();
                f.write_all(seg.as_bytes()).await.unwrap();
                if seg != "002" {
                    f.sync_all().await.unwrap();
                }
            }
            assert_eq!(names("/wal").await, ["001", "002", "003"]);
        },
        || names("/wal"),
    );
    assert_eq!(got, ["001", "003"]);
}

#[test]
fn faults_can_be_injected_from_inside_the_simulation() {
    let mut sim = Sim::builder().seed(12).build();
    let client = sim.client("c", async {
        fs::write("/f", b"ok").await.unwrap();
        brisk::sim::handle()
            .disk("c")
            .fail_with(DiskFault::Eio, 1.0);
        let failed = fs::read("/f").await.is_err();
        brisk::sim::handle().disk("c").clear_faults();
        (failed, fs::read("/f").await.unwrap())
    });
    sim.run().unwrap();
    assert_eq!(client.output(), (true, b"ok".to_vec()));
}

#[test]
fn a_write_handed_off_before_the_file_is_dropped_still_lands() {
    let mut sim = Sim::builder().seed(13).build();
    let client = sim.client("c", async {
        let mut f = File::create("/f").await.unwrap();
        f.write_all(b"handed off").await.unwrap();
        drop(f); // no flush: the write is still in flight
        brisk::time::sleep(Duration::from_millis(10)).await;
        fs::read("/f").await.unwrap()
    });
    sim.disk("c").latency(Duration::from_millis(2));
    sim.run().unwrap();
    assert_eq!(client.output(), b"handed off");
}

#[test]
fn a_crash_during_a_slow_write_drops_it_without_panicking() {
    let got = across_crash(
        14,
        || async {
            let mut f = File::create("/f").await.unwrap();
            f.sync_all().await.unwrap();
            brisk::sim::handle()
                .disk("db")
                .latency(Duration::from_secs(5));
            f.write_all(b"in flight").await.unwrap();
            f.flush().await.unwrap(); // the crash comes first
        },
        || async {
            brisk::sim::handle().disk("db").clear_faults();
            fs::read("/f").await
        },
    );
    assert_eq!(got.unwrap(), b"");
}

#[test]
fn a_write_far_past_the_end_fails_with_file_too_large() {
    let mut sim = Sim::builder().seed(12).build();
    let client = sim.client("c", async {
        let mut f = File::create("/big").await.unwrap();
        f.seek(SeekFrom::Start(1 << 40)).await.unwrap();
        f.write_all(b"x").await.unwrap(); // handed off: the flush reports it
        let write = f.flush().await.unwrap_err().kind();
        let set_len = f.set_len(u64::MAX).await.unwrap_err().kind();
        let len = fs::metadata("/big").await.unwrap().len();
        (write, set_len, len)
    });
    sim.run().unwrap();
    let k = io::ErrorKind::FileTooLarge;
    assert_eq!(client.output(), (k, k, 0));
}

#[test]
fn seeks_and_writes_past_the_largest_position_are_errors_not_overflows() {
    let mut sim = Sim::builder().seed(13).build();
    let client = sim.client("c", async {
        let mut f = File::create("/f").await.unwrap();
        let kind = |r: io::Result<u64>| r.map_err(|e| e.kind());
        (
            kind(f.seek(SeekFrom::Current(i64::MAX)).await),
            kind(f.seek(SeekFrom::Current(1)).await),
            f.write(b"x").await.map_err(|e| e.kind()),
            kind(f.seek(SeekFrom::Start(u64::MAX)).await),
            kind(f.seek(SeekFrom::End(-1)).await),
            kind(f.seek(SeekFrom::Current(0)).await),
        )
    });
    sim.run().unwrap();
    let max = i64::MAX as u64;
    let bad = io::ErrorKind::InvalidInput;
    assert_eq!(
        client.output(),
        (Ok(max), Err(bad), Err(bad), Err(bad), Err(bad), Ok(max))
    );
}
