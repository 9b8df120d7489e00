//! `#[brisk::test(sim)]` and the replay line.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[brisk::test(sim, seeds = 20)]
async fn runs_in_virtual_time_over_seeds() {
    let start = brisk::time::Instant::now();
    brisk::time::sleep(Duration::from_secs(3600)).await;
    // Exact only in the simulator.
    assert_eq!(start.elapsed(), Duration::from_secs(3600));
    assert!(brisk::sim::try_handle().is_some());
}

#[brisk::test(sim)]
async fn may_return_a_result() -> Result<(), std::num::ParseIntError> {
    let n: u32 = "7".parse()?;
    assert_eq!(n, 7);
    Ok(())
}

#[test]
fn runs_every_seed() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    if std::env::var_os("BRISK_SEED").is_some() {
        return;
    }
    brisk::sim::__private::run_test("sim_macro::x", 20, || async {
        RUNS.fetch_add(1, Ordering::SeqCst);
    });
    assert_eq!(RUNS.load(Ordering::SeqCst), 20);
}

#[test]
fn a_failing_seed_panics_with_the_replay_line() {
    if std::env::var_os("BRISK_SEED").is_some() {
        return;
    }
    let err = std::panic::catch_unwind(|| {
        brisk::sim::__private::run_test("sim_macro::tests::flaky", 50, || async {
            // Fails for the seeds whose first draw is even.
            assert!(brisk::rand::u64() % 2 == 1, "unlucky draw");
        })
    })
    .unwrap_err();
    let line = err.downcast_ref::<String>().unwrap();
    let seed = line
        .strip_prefix("BRISK_SEED=0x")
        .and_then(|rest| rest.split_once(' '))
        .map(|(hex, rest)| {
            assert_eq!(rest, "cargo test tests::flaky");
            u64::from_str_radix(hex, 16).unwrap()
        })
        .unwrap_or_else(|| panic!("not a replay line: {line}"));
    assert!(!line.contains('\n'));
    // The printed seed replays the failure.
    let again = brisk::sim::__private::run_seed(seed, &|| async {
        assert!(brisk::rand::u64() % 2 == 1, "unlucky draw");
    });
    assert!(again.unwrap_err().contains("unlucky draw"));
}

#[test]
fn test_results_report_errors() {
    let r = brisk::sim::__private::run_seed(0, &|| async { "x".parse::<u8>().map(drop) });
    assert!(r.unwrap_err().contains("the test returned Err"));
}

#[test]
fn a_livelocked_seed_fails_at_the_step_limit_instead_of_hanging() {
    // `run_seed_with_limit` is what `#[brisk::test(sim)]` runs per seed (with
    // twenty million polls, or BRISK_SIM_STEP_LIMIT); the body spins without
    // ever letting virtual time pass.
    let err = brisk::sim::__private::run_seed_with_limit(
        7,
        &|| async {
            loop {
                brisk::task::yield_now().await;
            }
            #[allow(unreachable_code)]
            ()
        },
        Some(50_000),
    )
    .unwrap_err();
    assert!(err.contains("step limit of 50000 task polls"), "{err}");
    assert!(err.contains("BRISK_SIM_STEP_LIMIT"), "{err}");
}

#[test]
fn simulated_tests_have_a_step_limit_by_default() {
    match std::env::var("BRISK_SIM_STEP_LIMIT") {
        Err(_) => assert_eq!(
            brisk::sim::__private::test_step_limit(),
            Some(brisk::sim::__private::DEFAULT_TEST_STEP_LIMIT)
        ),
        Ok(v) if v.trim() == "0" => assert_eq!(brisk::sim::__private::test_step_limit(), None),
        Ok(_) => assert!(brisk::sim::__private::test_step_limit().is_some()),
    }
}
