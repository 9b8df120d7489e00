//! What `#[brisk::test(sim)]` expands to call. Not a public API.

use crate::{Sim, SimError};
use std::fmt::Debug;
use std::future::Future;

/// What a simulated test body may return: `()` or a `Result` whose error is
/// `Debug`.
pub trait TestOutput {
    /// `Err` with a description if the test failed.
    fn into_result(self) -> Result<(), String>;
}

impl TestOutput for () {
    fn into_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<T, E: Debug> TestOutput for Result<T, E> {
    fn into_result(self) -> Result<(), String> {
        self.map(drop)
            .map_err(|e| format!("the test returned Err({e:?})"))
    }
}

/// The one line that replays a failed seed: `BRISK_SEED=0x<seed> cargo test <name>`.
///
/// `test_path` is `module_path!()::name` as the macro sees it; its first
/// segment (the crate) is not part of the test's name for `cargo test`.
///
/// ```
/// use brisk::sim::__private::replay_line;
/// assert_eq!(
///     replay_line(0x2a, "sim_raft::tests::elects_leader"),
///     "BRISK_SEED=0x2a cargo test tests::elects_leader"
/// );
/// ```
pub fn replay_line(seed: u64, test_path: &str) -> String {
    let name = test_path
        .split_once("::")
        .map_or(test_path, |(_, rest)| rest);
    format!("BRISK_SEED={seed:#x} cargo test {name}")
}

/// Parses `BRISK_SEED`: `0x`-prefixed hex or decimal.
pub fn parse_seed(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(&hex.replace('_', ""), 16).ok(),
        None => s.replace('_', "").parse().ok(),
    }
}

/// The step limit of a simulated test when `BRISK_SIM_STEP_LIMIT` is not
/// set: twenty million task polls per seed, far above what a test that
/// finishes needs, and a few seconds of spinning for one that never does.
pub const DEFAULT_TEST_STEP_LIMIT: u64 = 20_000_000;

/// The step limit of a simulated test: `BRISK_SIM_STEP_LIMIT` (`0`: none),
/// or [`DEFAULT_TEST_STEP_LIMIT`].
///
/// # Panics
/// When `BRISK_SIM_STEP_LIMIT` is not a number.
pub fn test_step_limit() -> Option<u64> {
    match std::env::var("BRISK_SIM_STEP_LIMIT") {
        Ok(v) => match parse_seed(&v) {
            Some(0) => None,
            Some(limit) => Some(limit),
            None => panic!("{} (got {v:?})", crate::error::BAD_STEP_LIMIT_VAR),
        },
        Err(_) => Some(DEFAULT_TEST_STEP_LIMIT),
    }
}

/// Runs `body` as the client of a fresh simulation seeded with `seed`,
/// stopped by [`test_step_limit`] if it never finishes.
///
/// # Errors
/// The run's error, or the body's `Err`, as text.
pub fn run_seed<F, Fut>(seed: u64, body: &F) -> Result<(), String>
where
    F: Fn() -> Fut,
    Fut: Future + 'static,
    Fut::Output: TestOutput + 'static,
{
    run_seed_with_limit(seed, body, test_step_limit())
}

/// [`run_seed`] with an explicit step limit (`None`: none).
///
/// # Errors
/// The run's error, or the body's `Err`, as text.
pub fn run_seed_with_limit<F, Fut>(
    seed: u64,
    body: &F,
    step_limit: Option<u64>,
) -> Result<(), String>
where
    F: Fn() -> Fut,
    Fut: Future + 'static,
    Fut::Output: TestOutput + 'static,
{
    let mut builder = Sim::builder().seed(seed);
    if let Some(limit) = step_limit {
        builder = builder.step_limit(limit);
    }
    let mut sim = builder.build();
    let client = sim.client("test", body());
    sim.run().map_err(|e: SimError| match e {
        SimError::StepLimit { limit, .. } => format!(
            "{e}\n(a `#[brisk::test(sim)]` test stops after {limit} task polls per seed; \
             if the test is just long, raise the limit with BRISK_SIM_STEP_LIMIT=<polls>, \
             or 0 for none)"
        ),
        e => e.to_string(),
    })?;
    client.output().into_result()
}

/// Runs a `#[brisk::test(sim, seeds = N)]` body for seeds `0..seeds`, or
/// only for the seed in `BRISK_SEED`; panics with the replay line on the
/// first failure (the failure itself goes to stderr first).
///
/// # Panics
/// When a seed fails, or `BRISK_SEED` is not a number.
#[track_caller]
pub fn run_test<F, Fut>(test_path: &str, seeds: u64, body: F)
where
    F: Fn() -> Fut,
    Fut: Future + 'static,
    Fut::Output: TestOutput + 'static,
{
    let seeds: Vec<u64> = match std::env::var("BRISK_SEED") {
        Ok(v) => match parse_seed(&v) {
            Some(seed) => vec![seed],
            None => panic!("{} (got {v:?})", crate::error::BAD_SEED_VAR),
        },
        Err(_) => (0..seeds).collect(),
    };
    for seed in seeds {
        if let Err(e) = run_seed(seed, &body) {
            eprintln!("brisk::sim: seed {seed:#x} failed: {e}");
            panic!("{}", replay_line(seed, test_path));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_seed, replay_line};

    #[test]
    fn seeds_parse_in_hex_and_decimal() {
        assert_eq!(parse_seed("0x2a"), Some(42));
        assert_eq!(parse_seed(" 42 "), Some(42));
        assert_eq!(parse_seed("0xdead_beef"), Some(0xdead_beef));
        assert_eq!(parse_seed("forty"), None);
    }

    #[test]
    fn replay_line_drops_the_crate_segment() {
        assert_eq!(
            replay_line(255, "it::works"),
            "BRISK_SEED=0xff cargo test works"
        );
        assert_eq!(replay_line(1, "solo"), "BRISK_SEED=0x1 cargo test solo");
    }
}
