//! `brisk::fs` metadata on the simulator's disk: kinds, lengths and times
//! after writes, `set_len`, syncs and crashes, directory entries' types,
//! and determinism of the times.

use brisk::fs::{self, File, OpenOptions};
use brisk::io::{AsyncReadExt, AsyncWriteExt};
use brisk::sim::Sim;
use std::cell::RefCell;
use std::io;
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn at(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

async fn sleep_ms(ms: u64) {
    brisk::time::sleep(Duration::from_millis(ms)).await
}

#[test]
fn metadata_after_write_set_len_and_read() {
    let mut sim = Sim::builder().seed(1).build();
    let client = sim.client("c", async {
        sleep_ms(1000).await;
        fs::write("/f", b"hello").await.unwrap();
        let created = fs::metadata("/f").await.unwrap();

        sleep_ms(500).await;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open("/f")
            .await
            .unwrap();
        file.set_len(2).await.unwrap();
        let after_set_len = file.metadata().await.unwrap();

        sleep_ms(250).await;
        let mut buf = Vec::new();
        file.read_to_end(&mut buf).await.unwrap();
        let after_read = fs::symlink_metadata("/f").await.unwrap();
        (created, after_set_len, after_read, buf)
    });
    sim.run().unwrap();
    let (created, after_set_len, after_read, buf) = client.output();

    assert!(created.is_file() && !created.is_dir() && !created.is_symlink());
    assert_eq!(created.len(), 5);
    assert_eq!(created.created().unwrap(), at(1000));
    assert_eq!(created.modified().unwrap(), at(1000));
    assert_eq!(created.accessed().unwrap(), at(1000));
    assert!(!created.permissions().readonly());
    assert!(created.as_std().is_none());

    assert_eq!(after_set_len.len(), 2);
    assert_eq!(after_set_len.created().unwrap(), at(1000));
    assert_eq!(after_set_len.modified().unwrap(), at(1500));

    assert_eq!(buf, b"he");
    assert_eq!(after_read.modified().unwrap(), at(1500));
    assert_eq!(after_read.accessed().unwrap(), at(1750));
}

#[test]
fn directories_have_a_kind_and_no_times() {
    let mut sim = Sim::builder().seed(2).build();
    let client = sim.client("c", async {
        fs::create_dir_all("/a/b").await.unwrap();
        let dir = fs::metadata("/a/b").await.unwrap();
        let root = File::open("/").await.unwrap().metadata().await.unwrap();
        let missing = fs::metadata("/nope").await.unwrap_err().kind();
        (dir, root, missing)
    });
    sim.run().unwrap();
    let (dir, root, missing) = client.output();
    assert!(dir.is_dir() && !dir.is_file());
    assert_eq!(dir.len(), 0);
    assert_eq!(
        dir.modified().unwrap_err().kind(),
        io::ErrorKind::Unsupported
    );
    assert!(root.file_type().is_dir());
    assert_eq!(missing, io::ErrorKind::NotFound);
}

#[test]
fn dir_entries_report_their_types_and_fresh_metadata() {
    let mut sim = Sim::builder().seed(3).build();
    let client = sim.client("c", async {
        fs::create_dir_all("/d/sub").await.unwrap();
        fs::write("/d/file", b"12345").await.unwrap();
        let mut entries = fs::read_dir("/d").await.unwrap();
        let mut out = Vec::new();
        while let Some(entry) = entries.next_entry().await.unwrap() {
            let kind = entry.file_type().await.unwrap();
            // Read when asked: a change after the listing shows.
            if kind.is_file() {
                fs::write(entry.path(), b"1234567").await.unwrap();
            }
            let meta = entry.metadata().await.unwrap();
            out.push((
                entry.file_name().into_string().unwrap(),
                kind.is_dir(),
                kind.is_file(),
                meta.len(),
            ));
        }
        out
    });
    sim.run().unwrap();
    assert_eq!(
        client.output(),
        [
            ("file".to_string(), false, true, 7),
            ("sub".to_string(), true, false, 0)
        ]
    );
}

/// What `/f` looks like after node "db" wrote it, and maybe synced it,
/// then crashed and restarted at 10 s.
fn metadata_across_crash(seed: u64, sync: bool) -> Option<(u64, SystemTime, SystemTime)> {
    let mut sim = Sim::builder().seed(seed).build();
    let boots = Rc::new(RefCell::new(0u32));
    let out = Rc::new(RefCell::new(None));
    let (b, o) = (boots.clone(), out.clone());
    sim.node("db").init(move || {
        *b.borrow_mut() += 1;
        let first = *b.borrow() == 1;
        let o = o.clone();
        async move {
            if first {
                sleep_ms(1000).await;
                let mut f = File::create("/f").await.unwrap();
                f.write_all(b"synced").await.unwrap();
                f.sync_all().await.unwrap();
                sleep_ms(1000).await;
                f.write_all(b" and more").await.unwrap();
                if sync {
                    f.sync_all().await.unwrap();
                } else {
                    f.flush().await.unwrap();
                }
                std::future::pending::<()>().await
            } else {
                let meta = fs::metadata("/f").await.ok();
                *o.borrow_mut() =
                    meta.map(|m| (m.len(), m.created().unwrap(), m.modified().unwrap()));
            }
        }
    });
    sim.run_for(Duration::from_secs(10)).unwrap();
    sim.restart("db");
    sim.run_for(Duration::from_secs(1)).unwrap();
    let got = out.borrow_mut().take();
    got
}

#[test]
fn synced_metadata_survives_a_crash() {
    let (len, created, modified) = metadata_across_crash(4, true).unwrap();
    assert_eq!(len, "synced and more".len() as u64);
    assert_eq!(created, at(1000));
    assert_eq!(modified, at(2000));
}

#[test]
fn unsynced_change_moves_modified_only_if_it_survived() {
    let mut seen = [false; 2];
    for seed in 0..40 {
        let (len, created, modified) = metadata_across_crash(seed, false).unwrap();
        assert_eq!(created, at(1000));
        if len > "synced".len() as u64 {
            // Some bytes of the change survived, so did its time.
            assert_eq!(modified, at(2000), "seed {seed}");
        }
        // Dropped: the synced time is back; kept or torn (even at byte 0):
        // the change's time.
        assert!(modified == at(1000) || modified == at(2000), "seed {seed}");
        seen[usize::from(modified == at(2000))] = true;
    }
    assert_eq!(seen, [true, true], "both outcomes across 40 seeds");
}

#[test]
fn file_times_follow_the_nodes_skewed_clock_and_repeat_per_seed() {
    let run = || {
        let mut sim = Sim::builder().seed(5).build();
        let client = sim
            .node("w")
            .clock_skew(Duration::from_secs(60))
            .client(async {
                sleep_ms(2).await;
                fs::write("/t", b"x").await.unwrap();
                fs::metadata("/t").await.unwrap().modified().unwrap()
            });
        sim.run().unwrap();
        client.output()
    };
    let first = run();
    assert_eq!(first, at(60_002));
    assert_eq!(run(), first);
}

#[test]
fn std_only_permission_calls_fail_cleanly() {
    let mut sim = Sim::builder().seed(6).build();
    let client = sim.client("c", async {
        fs::write("/f", b"").await.unwrap();
        let mut perms = fs::metadata("/f").await.unwrap().permissions();
        perms.set_readonly(true);
        let path = fs::set_permissions("/f", perms.clone()).await.unwrap_err();
        let file = File::open("/f").await.unwrap();
        let handle = file.set_permissions(perms).await.unwrap_err();
        (path.kind(), handle.kind())
    });
    sim.run().unwrap();
    assert_eq!(
        client.output(),
        (io::ErrorKind::Unsupported, io::ErrorKind::Unsupported)
    );
}
