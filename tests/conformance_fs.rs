//! Conformance: `brisk::fs` behaves the same on every backend (see
//! `conformance/mod.rs` for the matrix; the simulator serves a virtual disk).

mod conformance;

use brisk::fs;
use brisk::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use conformance::conformance;
use std::io::{ErrorKind, SeekFrom};

conformance! {
    /// Whole-file helpers: write, read, metadata, rename, remove.
    async fn whole_files() {
        let dir = conformance::scratch_dir("whole").await;
        let a = dir.join("a.txt");
        let b = dir.join("b.txt");
        fs::write(&a, b"hello disk").await.unwrap();
        assert_eq!(fs::read_to_string(&a).await.unwrap(), "hello disk");
        assert!(fs::try_exists(&a).await.unwrap());
        fs::rename(&a, &b).await.unwrap();
        assert_eq!(fs::read(&a).await.unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(fs::read(&b).await.unwrap(), b"hello disk");
        fs::remove_file(&b).await.unwrap();
        assert!(!fs::try_exists(&b).await.unwrap());
        fs::remove_dir_all(&dir).await.unwrap();
    }

    /// Directories list their entries.
    async fn directories() {
        let dir = conformance::scratch_dir("dirs").await;
        fs::create_dir(dir.join("sub")).await.unwrap();
        fs::write(dir.join("f1"), b"1").await.unwrap();
        fs::write(dir.join("f2"), b"22").await.unwrap();
        let mut names = Vec::new();
        let mut entries = fs::read_dir(&dir).await.unwrap();
        while let Some(e) = entries.next_entry().await.unwrap() {
            names.push(e.file_name().into_string().unwrap());
        }
        names.sort();
        assert_eq!(names, ["f1", "f2", "sub"]);
        fs::remove_dir_all(&dir).await.unwrap();
        assert!(!fs::try_exists(&dir).await.unwrap());
        assert_eq!(fs::read_dir(&dir).await.unwrap_err().kind(), ErrorKind::NotFound);
    }

    /// An open file writes, seeks, reads back and syncs.
    async fn open_file_seek_and_read() {
        let dir = conformance::scratch_dir("file").await;
        let path = dir.join("data.bin");
        let mut f = fs::File::create(&path).await.unwrap();
        f.write_all(b"0123456789").await.unwrap();
        f.sync_all().await.unwrap();
        drop(f);
        let mut f = fs::OpenOptions::new().read(true).write(true).open(&path).await.unwrap();
        f.seek(SeekFrom::Start(4)).await.unwrap();
        f.write_all(b"xy").await.unwrap();
        f.seek(SeekFrom::Start(0)).await.unwrap();
        let mut all = String::new();
        f.read_to_string(&mut all).await.unwrap();
        assert_eq!(all, "0123xy6789");
        drop(f);
        fs::remove_dir_all(&dir).await.unwrap();
    }
}
