//! madsim as a subprocess peer of the simulator scenarios.
//!
//! madsim's simulator is compiled only when the whole build has
//! `RUSTFLAGS="--cfg madsim"`: it replaces tokio and links its own
//! `clock_gettime`, `getrandom` and other libc overrides into the process.
//! It therefore cannot share this process, or this build, with tokio, smol
//! and turmoil. Instead the standalone crate `madsim-peer/` (its own
//! workspace, not a member of Brisk's) implements the same workload
//! ([`Echo`]) on madsim's API, and this module:
//!
//! 1. on first use, builds it with `RUSTFLAGS="--cfg madsim"` in release
//!    mode into `<target dir>/madsim-peer` (`cargo build --locked`, using the
//!    `cargo` that runs the bench; a no-op once built);
//! 2. for each run, starts it with the workload and the seeds, and reads
//!    one line per seed, `seed <seed> replies <replies> ns <nanoseconds>`;
//!    it checks every seed ran and every ping came back, and returns the
//!    wall-clock milliseconds per seed, measured inside the subprocess the
//!    same way as for the in-process simulators (building and running each
//!    seed's simulation; the process's start-up is not counted).
//!
//! If the build fails (no network to fetch madsim, say), or
//! [`DISABLE_ENV`] is `off`, a note goes to stderr and the scenarios fall
//! back to quoting madsim's published figures; the bench run never fails
//! for it.

use crate::simulators::Echo;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

/// Environment variable that, set to `off`, leaves madsim out (the
/// scenarios then quote its published figures).
pub(crate) const DISABLE_ENV: &str = "BRISK_BENCH_MADSIM";

/// The peer's binary name (its package's name).
const BINARY: &str = "brisk-bench-madsim-peer";

/// The note printed when the peer cannot be built.
const BUILD_FAILED: &str = "note: madsim cannot run in this bench (its peer crate failed to build; output above); sim_* scenarios quote madsim's published figures instead. Fix the build (usually: network access to fetch madsim) or set BRISK_BENCH_MADSIM=off to skip it.";

/// The peer crate's directory.
fn crate_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("madsim-peer")
}

/// The cargo target directory this bench was built in: the nearest
/// ancestor of the running executable that holds cargo's
/// `.rustc_info.json` (which cargo keeps at the root of every target
/// directory), else the workspace's `target`.
fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.ancestors()
                .skip(1)
                .find(|d| d.join(".rustc_info.json").is_file())
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

/// The peer's binary, built on first call; `None` (after a note on stderr)
/// if it is disabled or cannot be built.
pub(crate) fn binary() -> Option<&'static Path> {
    static BINARY_PATH: OnceLock<Option<PathBuf>> = OnceLock::new();
    BINARY_PATH.get_or_init(build).as_deref()
}

/// Builds the peer; see [`binary`].
fn build() -> Option<PathBuf> {
    if std::env::var(DISABLE_ENV).is_ok_and(|v| v == "off") {
        eprintln!("note: {DISABLE_ENV}=off: sim_* scenarios quote madsim's published figures instead of running it.");
        return None;
    }
    let target = target_dir().join("madsim-peer");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!(
        "building the madsim peer (RUSTFLAGS=\"--cfg madsim\", release) into {} ...",
        target.display()
    );
    let start = Instant::now();
    let output = Command::new(cargo)
        .args(["build", "--release", "--locked", "--quiet"])
        .arg("--manifest-path")
        .arg(crate_dir().join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .env("RUSTFLAGS", "--cfg madsim")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .output();
    let failure = match output {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!(
            "building the madsim peer failed ({}):\n{}",
            out.status,
            tail(&String::from_utf8_lossy(&out.stderr), 20)
        )),
        Err(e) => Some(format!("cannot run cargo: {e}")),
    };
    if let Some(why) = failure {
        eprintln!("{why}\n{BUILD_FAILED}");
        return None;
    }
    let bin = target
        .join("release")
        .join(format!("{BINARY}{}", std::env::consts::EXE_SUFFIX));
    if !bin.is_file() {
        eprintln!(
            "{} is missing after the build\n{BUILD_FAILED}",
            bin.display()
        );
        return None;
    }
    eprintln!(
        "madsim peer ready in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Some(bin)
}

/// The last `n` lines of `s`.
fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Runs `echo` on madsim for seeds `first..first + seeds` and returns
/// wall-clock ms per seed.
///
/// # Panics
/// If the peer is unavailable (callers check [`binary`] first), fails, or
/// reports a missing reply.
pub(crate) fn run(echo: Echo, first: u64, seeds: usize) -> f64 {
    let bin = binary().expect("madsim peer: run() called although binary() is None");
    let output = Command::new(bin)
        .arg(echo.interval.as_micros().to_string())
        .arg(echo.duration.as_micros().to_string())
        .arg(first.to_string())
        .arg(seeds.to_string())
        .output()
        .unwrap_or_else(|e| panic!("madsim peer: cannot start {}: {e}", bin.display()));
    assert!(
        output.status.success(),
        "madsim peer exited with {}:\n{}",
        output.status,
        tail(&String::from_utf8_lossy(&output.stderr), 20)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    match parse(&stdout, first, seeds, echo.pings()) {
        Ok(total_ns) => total_ns as f64 / 1e6 / seeds as f64,
        Err(e) => panic!("madsim peer: {e}\noutput:\n{}", tail(&stdout, 20)),
    }
}

/// Checks the peer's output for seeds `first..first + seeds`, each with
/// `pings` replies, and returns the total nanoseconds.
fn parse(out: &str, first: u64, seeds: usize, pings: usize) -> Result<u128, String> {
    let mut total = 0u128;
    let mut count = 0usize;
    for line in out.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (seed, replies, ns) = match f.as_slice() {
            ["seed", seed, "replies", replies, "ns", ns] => (
                seed.parse::<u64>().map_err(|e| format!("{line:?}: {e}"))?,
                replies
                    .parse::<usize>()
                    .map_err(|e| format!("{line:?}: {e}"))?,
                ns.parse::<u128>().map_err(|e| format!("{line:?}: {e}"))?,
            ),
            _ => return Err(format!("unexpected line {line:?}")),
        };
        let expected = first + count as u64;
        if seed != expected {
            return Err(format!("seed {seed} where seed {expected} was due"));
        }
        if replies != pings {
            return Err(format!("seed {seed}: {replies} replies, expected {pings}"));
        }
        total += ns;
        count += 1;
    }
    if count != seeds {
        return Err(format!("{count} seeds reported, expected {seeds}"));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_sums_the_seeds() {
        let out = "seed 3 replies 6 ns 1000\nseed 4 replies 6 ns 3000\n";
        assert_eq!(parse(out, 3, 2, 6), Ok(4000));
    }

    #[test]
    fn parse_rejects_missing_replies_seeds_and_garbage() {
        let out = "seed 0 replies 6 ns 1000\nseed 1 replies 5 ns 3000\n";
        assert!(parse(out, 0, 2, 6).unwrap_err().contains("5 replies"));
        assert!(parse("seed 0 replies 6 ns 1\n", 0, 2, 6)
            .unwrap_err()
            .contains("1 seeds reported"));
        assert!(parse("seed 1 replies 6 ns 1\n", 0, 1, 6)
            .unwrap_err()
            .contains("seed 0 was due"));
        assert!(parse("panicked\n", 0, 1, 6)
            .unwrap_err()
            .contains("unexpected line"));
    }

    #[test]
    fn target_dir_is_an_existing_cargo_target_dir() {
        let dir = target_dir();
        assert!(dir.join(".rustc_info.json").is_file(), "{}", dir.display());
    }
}
