//! Stdin, stdout and stderr through the blocking pool.

mod support;

use brisk::io::{stderr, stdin, stdout, AsyncReadExt, AsyncWriteExt};
use std::io::Write;
use std::process::{Command, Stdio};

/// Set in the environment of the child process that `stdin_reads_piped_input`
/// starts; only then does `stdin_echo_child` run.
const CHILD_ENV: &str = "BRISK_TEST_STDIN_CHILD";

#[brisk::test]
async fn stdout_write_all_then_flush() {
    let mut out = stdout();
    out.write_all(b"brisk stdout test line\n").await.unwrap();
    out.flush().await.unwrap();
    out.close().await.unwrap();
}

#[brisk::test]
async fn stderr_write_all_then_flush() {
    let mut err = stderr();
    err.write_all(b"brisk stderr test line\n").await.unwrap();
    err.flush().await.unwrap();
}

#[brisk::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_write_to_stdout() {
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            brisk::spawn(async move {
                let mut out = stdout();
                out.write_all(format!("brisk stdout task {i}\n").as_bytes())
                    .await
                    .unwrap();
                out.flush().await.unwrap();
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

/// Runs only in the child process: echoes stdin's length and sum to stdout.
#[test]
fn stdin_echo_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    brisk::run(async {
        let mut input = Vec::new();
        stdin().read_to_end(&mut input).await.unwrap();
        let sum: u64 = input.iter().map(|b| u64::from(*b)).sum();
        let mut out = stdout();
        out.write_all(format!("<<len={} sum={sum}>>\n", input.len()).as_bytes())
            .await
            .unwrap();
        out.flush().await.unwrap();
    });
}

#[test]
fn stdin_reads_piped_input() {
    let input: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let sum: u64 = input.iter().map(|b| u64::from(*b)).sum();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "stdin_echo_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        pipe.write_all(&input).unwrap();
        // Dropping the pipe closes it: the child sees end-of-file.
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let want = format!("<<len=300000 sum={sum}>>");
    assert!(stdout.contains(&want), "want {want} in: {stdout}");
}

/// Set in the environment of the child process that
/// `stdout_and_stderr_carry_every_line` starts.
const WRITERS_ENV: &str = "BRISK_TEST_STDIO_WRITERS_CHILD";

/// Runs only in the child process: eight tasks on two workers each write
/// 200 lines to stdout and to stderr, one `write_all` per line.
#[test]
fn stdio_writers_child() {
    if std::env::var_os(WRITERS_ENV).is_none() {
        return;
    }
    support::multi_thread(2).block_on(async {
        let tasks: Vec<_> = (0..8)
            .map(|t| {
                brisk::spawn(async move {
                    let (mut out, mut err) = (stdout(), stderr());
                    for i in 0..200 {
                        out.write_all(format!("out {t} {i}\n").as_bytes())
                            .await
                            .unwrap();
                        err.write_all(format!("err {t} {i}\n").as_bytes())
                            .await
                            .unwrap();
                    }
                    out.flush().await.unwrap();
                    err.flush().await.unwrap();
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
}

/// What Brisk writes to stdout and stderr arrives, each line whole and
/// exactly once, on the right stream, from many tasks at once.
#[test]
fn stdout_and_stderr_carry_every_line() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "stdio_writers_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(WRITERS_ENV, "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    for (stream, bytes) in [("out", &output.stdout), ("err", &output.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        // The test harness's own "test ... " line may precede a line on
        // stdout: take each line from its prefix on.
        let prefix = format!("{stream} ");
        let mut lines: Vec<&str> = text
            .lines()
            .filter_map(|l| l.find(&prefix).map(|at| &l[at..]))
            .collect();
        lines.sort_unstable();
        let mut want: Vec<String> = (0..8)
            .flat_map(|t| (0..200).map(move |i| format!("{stream} {t} {i}")))
            .collect();
        want.sort_unstable();
        let missing: Vec<&String> = want
            .iter()
            .filter(|w| !lines.contains(&w.as_str()))
            .collect();
        assert!(missing.is_empty(), "std{stream} lacks {missing:?}");
        assert_eq!(
            lines.len(),
            want.len(),
            "std{stream} has extra or mangled lines"
        );
    }
}
