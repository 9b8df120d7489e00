//! `brisk::fs`: files and directories through the blocking pool.

mod support;

use brisk::fs::{self, File, OpenOptions};
use brisk::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use futures::StreamExt;
use std::io::{ErrorKind, SeekFrom};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

/// A fresh, empty directory under the system temp dir, unique per test.
fn scratch(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "brisk-test-fs-{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[brisk::test]
async fn file_write_then_read_round_trips() {
    let dir = scratch("round-trip");
    let path = dir.join("f");
    let mut file = File::create(&path).await.unwrap();
    file.write_all(b"hello, file").await.unwrap();
    file.flush().await.unwrap();
    drop(file);

    let mut file = File::open(&path).await.unwrap();
    let mut back = Vec::new();
    file.read_to_end(&mut back).await.unwrap();
    assert_eq!(back, b"hello, file");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[brisk::test]
async fn free_functions_write_then_read_round_trip() {
    let dir = scratch("free-fns");
    fs::write(dir.join("f"), "text").await.unwrap();
    assert_eq!(fs::read(dir.join("f")).await.unwrap(), b"text");
    assert_eq!(fs::read_to_string(dir.join("f")).await.unwrap(), "text");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[brisk::test]
async fn writes_larger_than_one_chunk_stay_in_order() {
    let dir = scratch("large");
    let path = dir.join("f");
    // Over two 2 MiB chunks, with a pattern that shows misordering.
    let data: Vec<u8> = (0..5 * 1024 * 1024 + 17).map(|i| (i % 251) as u8).collect();
    let mut file = File::create(&path).await.unwrap();
    file.write_all(&data).await.unwrap();
    file.close().await.unwrap();

    let mut back = Vec::new();
    File::open(&path)
        .await
        .unwrap()
        .read_to_end(&mut back)
        .await
        .unwrap();
    assert!(back == data, "the file differs from what was written");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[brisk::test]
async fn append_writes_at_the_end() {
    let dir = scratch("append");
    let path = dir.join("log");
    fs::write(&path, "one\n").await.unwrap();
    let mut file = OpenOptions::new().append(true).open(&path).await.unwrap();
    file.write_all(b"two\n").await.unwrap();
    file.flush().await.unwrap();
    assert_eq!(fs::read_to_string(&path).await.unwrap(), "one\ntwo\n");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[brisk::test]
async fn set_len_truncates_after_the_write_in_flight() {
    let dir = scratch("set-len");
    let path = dir.join("f");
    let mut file = File::create(&path).await.unwrap();
    file.write_all(b"0123456789").await.unwrap();
    // No flush: `set_len` is ordered after the write.
    file.set_len(4).await.unwrap();
    assert_eq!(fs::read(&path).await.unwrap(), b"0123");
    assert_eq!(file.metadata().await.unwrap().len(), 4);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[brisk::test]
async fn seek_then_read() {
    let dir = scratch("seek-read");
    let path = dir.join("f");
    fs::write(&path, "hello world").await.unwrap();
    let mut file = File::open(&path).await.unwrap();
    assert_eq!(file.seek(SeekFrom::Start(6)).await.unwrap(), 6);
    let mut rest = String::new();
    file.read_to_string(&mut rest).await.unwrap();
    assert_eq!(rest, "world");
    assert_eq!(file.seek(SeekFrom::End(-5)).await.unwrap(), 6);
    assert_eq!(file.seek(SeekFrom::Current(-6)).await.unwrap(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[brisk::test]
async fn a_seek_waits_for_the_write_in_flight() {
    let dir = scratch("write-seek-read");
    let path = dir.join("f");
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .await
        .unwrap();
    file.write_all(b"hello world").await.unwrap();
    // No flush: the seek and the read are ordered after the write.
    assert_eq!(file.seek(SeekFrom::Start(6)).await.unwrap(), 6);
    let mut word = [0u8; 5];
    file.read_exact(&mut word).await.unwrap();
    assert_eq!(&word, b"world");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[brisk::test]
async fn metadata_len_counts_flushed_bytes() {
    let dir = scratch("metadata");
    let path = dir.join("f");
    let mut file = File::create(&path).await.unwrap();
    file.write_all(&[7u8; 1000]).await.unwrap();
    file.flush().await.unwrap();
    assert_eq!(file.metadata().await.unwrap().len(), 1000);
    let meta = fs::metadata(&path).await.unwrap();
    assert!(meta.is_file());
    assert_eq!(meta.len(), 1000);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[brisk::test]
async fn sync_all_and_sync_data_after_writes() {
    let dir = scratch("sync");
    let path = dir.join("f");
    let mut file = File::create(&path).await.unwrap();
    file.write_all(b"durable").await.unwrap();
    file.sync_all().await.unwrap();
    file.write_all(b"!").await.unwrap();
    file.sync_data().await.unwrap();
    assert_eq!(fs::read(&path).await.unwrap(), b"durable!");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[brisk::test]
async fn a_failed_write_is_reported_by_the_flush() {
    let dir = scratch("write-error");
    let path = dir.join("f");
    fs::write(&path, "read only").await.unwrap();
    // Opened for reading only: the handed-off write fails on the pool.
    let mut file = File::open(&path).await.unwrap();
    file.write_all(b"x").await.unwrap();
    assert!(file.flush().await.is_err());
    // Reported once.
    file.flush().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[brisk::test]
async fn read_dir_lists_entries() {
    let dir = scratch("read-dir");
    fs::write(dir.join("a"), "").await.unwrap();
    fs::write(dir.join("b"), "").await.unwrap();
    fs::create_dir(dir.join("c")).await.unwrap();

    let mut entries = fs::read_dir(&dir).await.unwrap();
    let mut seen = Vec::new();
    while let Some(entry) = entries.next_entry().await.unwrap() {
        assert_eq!(entry.path(), dir.join(entry.file_name()));
        let is_dir = entry.file_type().await.unwrap().is_dir();
        assert_eq!(entry.metadata().await.unwrap().is_dir(), is_dir);
        seen.push((entry.file_name().into_string().unwrap(), is_dir));
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            ("a".to_string(), false),
            ("b".to_string(), false),
            ("c".to_string(), true)
        ]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[brisk::test]
async fn read_dir_is_a_stream_across_batches() {
    let dir = scratch("read-dir-stream");
    // More than one batch of 32.
    for i in 0..100 {
        fs::write(dir.join(format!("{i:03}")), "").await.unwrap();
    }
    let entries: Vec<_> = fs::read_dir(&dir).await.unwrap().collect().await;
    let mut names: Vec<String> = entries
        .into_iter()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let want: Vec<String> = (0..100).map(|i| format!("{i:03}")).collect();
    assert_eq!(names, want);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[brisk::test]
async fn create_dir_all_then_remove_dir_all() {
    let dir = scratch("dir-all");
    let deep = dir.join("a/b/c");
    fs::create_dir_all(&deep).await.unwrap();
    fs::create_dir_all(&deep).await.unwrap(); // exists already: fine
    fs::write(deep.join("f"), "x").await.unwrap();
    assert!(fs::try_exists(&deep).await.unwrap());
    fs::remove_dir_all(dir.join("a")).await.unwrap();
    assert!(!fs::try_exists(dir.join("a")).await.unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[brisk::test]
async fn path_operations() {
    let dir = scratch("paths");
    fs::write(dir.join("a"), "abc").await.unwrap();
    assert_eq!(fs::copy(dir.join("a"), dir.join("b")).await.unwrap(), 3);
    fs::rename(dir.join("b"), dir.join("c")).await.unwrap();
    fs::hard_link(dir.join("c"), dir.join("d")).await.unwrap();
    assert_eq!(fs::read(dir.join("d")).await.unwrap(), b"abc");
    fs::remove_file(dir.join("d")).await.unwrap();
    fs::create_dir(dir.join("sub")).await.unwrap();
    fs::remove_dir(dir.join("sub")).await.unwrap();
    assert!(
        fs::canonicalize(dir.join("sub/../a")).await.is_err(),
        "`sub` is gone, so `sub/..` does not resolve"
    );
    let canonical = fs::canonicalize(dir.join("a")).await.unwrap();
    assert!(canonical.is_absolute());
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("a", dir.join("link")).unwrap();
        assert_eq!(
            fs::read_link(dir.join("link")).await.unwrap(),
            PathBuf::from("a")
        );
        assert!(fs::symlink_metadata(dir.join("link"))
            .await
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(fs::metadata(dir.join("link")).await.unwrap().is_file());
    }
    let mut perms = fs::metadata(dir.join("a")).await.unwrap().permissions();
    perms.set_readonly(true);
    fs::set_permissions(dir.join("a"), perms).await.unwrap();
    assert!(fs::metadata(dir.join("a"))
        .await
        .unwrap()
        .permissions()
        .readonly());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[brisk::test]
async fn missing_paths_give_not_found() {
    let dir = scratch("not-found");
    let missing = dir.join("missing");
    let kinds = [
        File::open(&missing).await.map(drop).unwrap_err().kind(),
        fs::read(&missing).await.map(drop).unwrap_err().kind(),
        fs::read_to_string(&missing)
            .await
            .map(drop)
            .unwrap_err()
            .kind(),
        fs::metadata(&missing).await.map(drop).unwrap_err().kind(),
        fs::remove_file(&missing).await.unwrap_err().kind(),
        fs::remove_dir(&missing).await.unwrap_err().kind(),
        fs::read_dir(&missing).await.map(drop).unwrap_err().kind(),
    ];
    assert!(kinds.iter().all(|k| *k == ErrorKind::NotFound), "{kinds:?}");
    assert!(!fs::try_exists(&missing).await.unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[brisk::test]
async fn opening_a_directory_for_writing_is_an_error() {
    let dir = scratch("open-dir");
    let res = OpenOptions::new().write(true).open(&dir).await;
    assert!(res.is_err(), "{res:?}");
    assert!(File::create(&dir).await.is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[brisk::test]
async fn create_new_refuses_an_existing_file() {
    let dir = scratch("create-new");
    File::create_new(dir.join("f")).await.unwrap();
    let err = File::create_new(dir.join("f")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[brisk::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_read_different_files_concurrently() {
    let dir = scratch("concurrent");
    for i in 0..32u8 {
        std::fs::write(dir.join(i.to_string()), vec![i; 10_000 + i as usize]).unwrap();
    }
    let tasks: Vec<_> = (0..32u8)
        .map(|i| {
            let path = dir.join(i.to_string());
            brisk::spawn(async move {
                let mut file = File::open(&path).await.unwrap();
                let mut data = Vec::new();
                file.read_to_end(&mut data).await.unwrap();
                (i, data)
            })
        })
        .collect();
    for task in tasks {
        let (i, data) = task.await.unwrap();
        assert_eq!(data.len(), 10_000 + i as usize);
        assert!(data.iter().all(|b| *b == i));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dropping_a_file_mid_write_does_not_hang_the_runtime() {
    let dir = scratch("drop-mid-write");
    let path = dir.join("f");
    support::within(support::LIMIT, move || {
        brisk::run(async move {
            let mut file = File::create(&path).await.unwrap();
            let big = vec![1u8; 8 * 1024 * 1024];
            {
                // The first 2 MiB are handed off; the next poll_write waits.
                let mut write = file.write_all(&big);
                let _ = futures::poll!(&mut write);
            }
            drop(file);
            // The runtime still works.
            fs::write(path.with_extension("after"), "ok").await.unwrap();
            assert_eq!(fs::read(path.with_extension("after")).await.unwrap(), b"ok");
        });
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[brisk::test]
async fn a_cancelled_read_loses_no_bytes() {
    let dir = scratch("cancel-read");
    let path = dir.join("f");
    fs::write(&path, "abcdef").await.unwrap();
    let mut file = File::open(&path).await.unwrap();
    let mut got = Vec::new();
    {
        let mut first = [0u8; 3];
        let mut read = file.read(&mut first);
        if let Poll::Ready(n) = futures::poll!(&mut read) {
            got.extend_from_slice(&first[..n.unwrap()]);
        }
        // Dropped here; the blocking read may still be running.
    }
    file.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, b"abcdef");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[brisk::test]
async fn a_write_after_a_cancelled_read_lands_at_the_logical_position() {
    let dir = scratch("cancel-read-write");
    let path = dir.join("f");
    fs::write(&path, "abcdef").await.unwrap();
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .await
        .unwrap();
    let mut consumed = 0;
    {
        let mut first = [0u8; 3];
        let mut read = file.read(&mut first);
        if let Poll::Ready(n) = futures::poll!(&mut read) {
            consumed = n.unwrap();
        }
    }
    // The read-ahead of the cancelled read is given back before the write.
    file.write_all(b"XY").await.unwrap();
    file.flush().await.unwrap();
    let mut want = b"abcdef".to_vec();
    want[consumed..consumed + 2].copy_from_slice(b"XY");
    assert_eq!(fs::read(&path).await.unwrap(), want);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[brisk::test]
async fn into_std_waits_for_the_write_in_flight() {
    let dir = scratch("into-std");
    let path = dir.join("f");
    let mut file = File::create(&path).await.unwrap();
    file.write_all(b"handed off").await.unwrap();
    let std_file = file.into_std().await;
    assert_eq!(std_file.metadata().unwrap().len(), 10);
    let file = File::from_std(std_file);
    assert!(file.try_into_std().is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_job_cancelled_by_shutdown_becomes_an_other_error() {
    let dir = scratch("runtime-gone");
    std::fs::write(dir.join("f"), "x").unwrap();
    let rt = brisk::Runtime::builder()
        .current_thread()
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let (release, blocked) = std::sync::mpsc::channel::<()>();
    let (started, blocker_started) = std::sync::mpsc::channel::<()>();
    let mut read = Box::pin(fs::read(dir.join("f")));
    rt.block_on(async {
        // Occupies the only blocking thread, so the read stays queued.
        drop(brisk::spawn_blocking(move || {
            started.send(()).unwrap();
            let _ = blocked.recv();
        }));
        blocker_started.recv().unwrap();
        assert!(futures::poll!(read.as_mut()).is_pending());
    });
    rt.shutdown_timeout(Duration::from_millis(10));
    let err = futures::executor::block_on(read).unwrap_err();
    release.send(()).unwrap();
    assert_eq!(err.kind(), ErrorKind::Other);
    assert!(err.to_string().contains("runtime is gone"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[brisk::test]
async fn portable_metadata_matches_std_on_the_native_runtime() {
    let dir = scratch("portable-metadata");
    fs::write(dir.join("f"), b"12345").await.unwrap();
    fs::create_dir(dir.join("sub")).await.unwrap();

    let meta = fs::metadata(dir.join("f")).await.unwrap();
    let std = std::fs::metadata(dir.join("f")).unwrap();
    assert!(meta.is_file() && !meta.is_dir() && !meta.is_symlink());
    assert_eq!(meta.len(), std.len());
    assert_eq!(meta.modified().unwrap(), std.modified().unwrap());
    assert_eq!(meta.accessed().unwrap(), std.accessed().unwrap());
    assert_eq!(meta.created().ok(), std.created().ok());
    assert_eq!(meta.as_std().unwrap().len(), 5);
    assert_eq!(meta.file_type().as_std(), Some(&std.file_type()));
    assert_eq!(
        meta.permissions().as_std(),
        Some(&std.permissions()),
        "the std permissions are kept"
    );
    let file = File::open(dir.join("f")).await.unwrap();
    assert_eq!(file.metadata().await.unwrap().len(), 5);

    // Directory entries: the type from the listing, the metadata on demand.
    let mut entries = fs::read_dir(&dir).await.unwrap();
    let mut seen = Vec::new();
    while let Some(entry) = entries.next_entry().await.unwrap() {
        let kind = entry.file_type().await.unwrap();
        let meta = entry.metadata().await.unwrap();
        assert_eq!(kind.is_dir(), meta.is_dir());
        seen.push((entry.file_name().into_string().unwrap(), kind.is_file()));
    }
    seen.sort();
    assert_eq!(seen, [("f".to_string(), true), ("sub".to_string(), false)]);

    // Both kinds of permissions are accepted.
    let mut std_perms = std.permissions();
    std_perms.set_readonly(true);
    fs::set_permissions(dir.join("f"), std_perms).await.unwrap();
    assert!(fs::metadata(dir.join("f"))
        .await
        .unwrap()
        .permissions()
        .readonly());
    let mut perms = fs::metadata(dir.join("f")).await.unwrap().permissions();
    perms.set_readonly(false);
    file.set_permissions(perms).await.unwrap();
    assert!(!file.metadata().await.unwrap().permissions().readonly());
    assert!(fs::metadata(dir.join("missing")).await.unwrap_err().kind() == ErrorKind::NotFound);
    std::fs::remove_dir_all(&dir).unwrap();
}
