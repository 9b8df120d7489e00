//! Side-by-side benchmarks of Brisk against tokio and smol, and of Brisk's
//! simulator against madsim and turmoil.
//!
//! ```text
//! cargo run --release -p brisk-bench -- <scenario ...|all> [--passes N] [--timing|--registry]
//! BRISK_BENCH_SCALE=0.01 cargo run --release -p brisk-bench -- all --passes 5
//! ```
//!
//! All five runtimes (`brisk_ct`, `brisk_mt`, `tokio_ct`, `tokio_mt`,
//! `smol`; see [`runtimes`] for how each is configured) run in this one
//! process, interleaved: every pass runs the scenario once on each runtime,
//! the order rotating from pass to pass (see [`harness`]). A fresh runtime
//! is built for every run, outside the timed region. The result per runtime
//! is the median over the passes (default and minimum 5).
//!
//! Output: progress on stderr; on stdout a table and then exactly one JSON
//! line per scenario, e.g.
//!
//! ```text
//! {"scenario":"spawn_join","unit":"ns/op","brisk":123.4,"brisk_flavors":{"ct":123.4,"mt":150.2},"peers":{"tokio_ct":321.0,"tokio_mt":400.1,"smol":156.0},"best_peer":"smol","ratio_vs_best_peer":0.79,"passes":5}
//! ```
//!
//! The compat scenarios (`compat_*`) interleave `brisk_on_tokio` (Brisk's
//! primitives on tokio, through `brisk::compat::tokio`) and `tokio_mt`;
//! their line has `"brisk_flavors":{"on_tokio":..}` and
//! `"peers":{"tokio_mt":..}`.
//!
//! The simulator scenarios (`sim_*`) interleave `brisk_sim`, `madsim` and
//! `turmoil` the same way (see [`simulators`]); their line has
//! `"brisk_flavors":{"sim":..}` and `"peers":{"madsim":..,"turmoil":..}`.
//! madsim needs a build of its own (`RUSTFLAGS="--cfg madsim"`), so it runs
//! as a subprocess that the bench builds on first use into
//! `<target dir>/madsim-peer` (see [`madsim_peer`]). If that build fails, or
//! `BRISK_BENCH_MADSIM=off`, a note goes to stderr, madsim is left out, and
//! the line quotes its published figure after `passes`, with Brisk's ratio
//! to it, e.g. `"reference":{"madsim":16.00},"ratio_vs_reference":0.25`.
//!
//! The overhead scenarios (`trace_*`) run Brisk's current-thread runtime
//! with `brisk::diag::trace` recording off and on (see [`diag_overhead`]);
//! their line has `"brisk_flavors":{"trace_on":..}`,
//! `"peers":{"trace_off":..}`, and the ratio is the recording's overhead.
//!
//! `brisk` is the better of Brisk's two flavours; `ratio_vs_best_peer` is
//! Brisk's cost over the best peer's cost (lower is better; a throughput
//! would be inverted first). The scenarios are described in [`scenarios`].
//! `BRISK_BENCH_SCALE` (a positive float, default 1.0) multiplies every
//! scenario's size, for quick smoke runs.
//!
//! `--only NAME[,NAME...]` runs only the named contenders (`brisk_ct`,
//! `tokio_mt`, ...), for profiling one of them under `perf` or
//! `strace -c -f`; it prints each one's median instead of the table and the
//! JSON lines, which compare Brisk with its peers.
//!
//! `--timing` measures what Brisk's diagnostics cost: instead of the peers,
//! each Brisk flavour runs twice per pass, interleaved, with its diagnostics
//! as a release build has them (off) and fully on (`brisk_ct_timed`,
//! `brisk_mt_timed`: per-poll timing and every hazard detector, as in a
//! debug build). The JSON line is the same, with the timed flavours under
//! `peers`, plus `"timing_ratio":{"ct":..,"mt":..}`: the cost with
//! diagnostics on over the cost with them off (1.05 = 5 % slower).
//! Each flavour also runs a third time with per-poll timing alone
//! (`brisk_ct_timing`, `brisk_mt_timing`: no hazard detector), whose ratio
//! to the flavour with diagnostics off is `"timing_ratio"`; the ratio of
//! the fully instrumented flavour is `"detectors_ratio"`.
//!
//! `--registry` measures what the diagnostics that are always on cost —
//! the task registry (every live task listed, for dumps and shutdown) and
//! the wait-points (what each task waits on): each Brisk flavour runs as
//! built by default and without them (`brisk_ct_bare`, `brisk_mt_bare`,
//! built with the runtime builder's hidden `untracked_for_benchmarks`),
//! interleaved. The JSON line adds `"registry_ratio":{"ct":..,"mt":..}`:
//! the default's cost over the bare flavour's.

#![warn(clippy::missing_docs_in_private_items)]

mod alloc;
mod diag_overhead;
mod harness;
mod madsim_peer;
mod net_libs;
mod runtimes;
mod scenarios;
mod simulators;
mod sync_libs;

use harness::{Compare, Scenario, Summary, MIN_PASSES};
use std::process::ExitCode;

/// Command-line usage.
const USAGE: &str = "usage: brisk-bench <scenario ...|all> [--passes N] [--timing|--registry]

scenarios: spawn_join yield_many ping_pong chained_spawn timers_poll
           timers_unpolled idle_task_memory mpsc mutex_uncontended
           mutex_contended semaphore oneshot_request_reply tcp_echo
           http_hello sim_udp_echo sim_idle_hour trace_spawn_join
           trace_yield_many compat_spawn_join compat_tcp_echo (or: all)
--passes N  passes per scenario (default and minimum 5)
--only A,B  run only the named contenders (e.g. brisk_ct,tokio_ct), to
            profile them; prints medians instead of the table and JSON
--timing    run each Brisk flavour with diagnostics off (the release
            default), with per-poll timing only, and fully on (timing and
            every hazard detector), interleaved; the JSON line adds
            \"timing_ratio\" and \"detectors_ratio\"
--registry  run each Brisk flavour as built by default and without its
            task registry and wait-points, interleaved; the JSON line adds
            \"registry_ratio\"
env BRISK_BENCH_SCALE=F  multiply every scenario's size by F (default 1.0)
env BRISK_BENCH_MADSIM=off  do not build and run madsim (quote its published figures)";

/// What the command line asks for.
#[derive(Debug, PartialEq)]
struct Args {
    /// Scenarios to run, in order.
    scenarios: Vec<Scenario>,
    /// Passes per scenario.
    passes: usize,
    /// What the runtime scenarios compare.
    compare: Compare,
    /// Contenders to run (by name); empty: all of them.
    only: Vec<String>,
}

/// Parses the arguments (without the program name).
///
/// # Errors
/// A message for the user when the arguments are wrong or `--help` was given.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut scenarios: Vec<Scenario> = Vec::new();
    let mut passes = MIN_PASSES;
    let mut compare = Compare::Peers;
    let mut only = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mode = match arg.as_str() {
            "--timing" => Some(Compare::Timing),
            "--registry" => Some(Compare::Registry),
            _ => None,
        };
        if let Some(mode) = mode {
            if compare != Compare::Peers && compare != mode {
                return Err("--timing and --registry cannot be combined".to_owned());
            }
            compare = mode;
            continue;
        }
        let only_value = if arg == "--only" {
            Some(args.next().ok_or("--only needs a list of contenders")?)
        } else {
            arg.strip_prefix("--only=").map(str::to_owned)
        };
        if let Some(v) = only_value {
            only.extend(v.split(',').filter(|n| !n.is_empty()).map(str::to_owned));
            if only.is_empty() {
                return Err("--only needs a list of contenders".to_owned());
            }
            continue;
        }
        let passes_value = if arg == "--passes" {
            Some(args.next().ok_or("--passes needs a value")?)
        } else {
            arg.strip_prefix("--passes=").map(str::to_owned)
        };
        if let Some(v) = passes_value {
            passes = v
                .parse()
                .map_err(|_| format!("--passes: not a number: {v:?}"))?;
            if passes < MIN_PASSES {
                return Err(format!(
                    "--passes must be at least {MIN_PASSES}, got {passes}"
                ));
            }
            continue;
        }
        match arg.as_str() {
            "-h" | "--help" => return Err(USAGE.to_owned()),
            "all" => {
                for s in scenarios::ALL {
                    if !scenarios.contains(&s) {
                        scenarios.push(s);
                    }
                }
            }
            name => {
                let s = scenarios::find(name)
                    .ok_or_else(|| format!("unknown scenario {name:?}\n\n{USAGE}"))?;
                if !scenarios.contains(&s) {
                    scenarios.push(s);
                }
            }
        }
    }
    if scenarios.is_empty() {
        return Err(USAGE.to_owned());
    }
    if compare != Compare::Peers {
        if let Some(s) = scenarios
            .iter()
            .find(|s| !matches!(s.run, harness::Run::Runtime(_)))
        {
            let flag = match compare {
                Compare::Timing => "--timing",
                _ => "--registry",
            };
            return Err(format!(
                "{flag} compares Brisk runtimes on the runtime scenarios; {:?} is not one",
                s.name
            ));
        }
    }
    if !only.is_empty() {
        for s in &scenarios {
            let names: Vec<&str> = s
                .run
                .contenders_for(compare)
                .into_iter()
                .map(|c| c.name())
                .collect();
            if !names.iter().any(|n| only.iter().any(|o| o == n)) {
                return Err(format!(
                    "--only {}: none of them runs {:?} (its contenders: {})",
                    only.join(","),
                    s.name,
                    names.join(", ")
                ));
            }
        }
    }
    Ok(Args {
        scenarios,
        passes,
        compare,
        only,
    })
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let scale = match harness::scale_from_env() {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    eprintln!(
        "brisk-bench: {} scenario(s), {} passes, scale {scale}, {} worker threads for the multi-thread flavours",
        args.scenarios.len(),
        args.passes,
        runtimes::worker_threads()
    );
    harness::start_watchdog();
    let summaries: Vec<Summary> = args
        .scenarios
        .iter()
        .map(|s| harness::run_scenario(s, args.passes, scale, args.compare, &args.only))
        .collect();
    if !args.only.is_empty() {
        // A partial set has no Brisk-versus-peer ratio: medians only.
        println!();
        for s in &summaries {
            print!("{}", harness::medians(s));
        }
        return ExitCode::SUCCESS;
    }
    println!();
    print!("{}", harness::table(&summaries));
    println!();
    for s in &summaries {
        println!("{}", s.to_json());
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn all_expands_to_every_scenario() {
        let a = parse(&["all"]).unwrap();
        assert_eq!(a.scenarios.len(), scenarios::ALL.len());
        assert_eq!(a.passes, 5);
    }

    #[test]
    fn passes_and_names() {
        let a = parse(&["ping_pong", "--passes", "7", "spawn_join", "ping_pong"]).unwrap();
        let names: Vec<&str> = a.scenarios.iter().map(|s| s.name).collect();
        assert_eq!(names, ["ping_pong", "spawn_join"]);
        assert_eq!(a.passes, 7);
        assert_eq!(parse(&["all", "--passes=9"]).unwrap().passes, 9);
    }

    #[test]
    fn timing_runs_only_runtime_scenarios() {
        let a = parse(&["spawn_join", "--timing"]).unwrap();
        assert_eq!(a.compare, Compare::Timing);
        assert_eq!(parse(&["spawn_join"]).unwrap().compare, Compare::Peers);
        assert!(parse(&["sim_udp_echo", "--timing"]).is_err());
        let r = parse(&["tcp_echo", "--registry"]).unwrap();
        assert_eq!(r.compare, Compare::Registry);
        assert!(parse(&["sim_udp_echo", "--registry"]).is_err());
        assert!(parse(&["tcp_echo", "--registry", "--timing"]).is_err());
    }

    #[test]
    fn only_picks_contenders_by_name() {
        let a = parse(&["tcp_echo", "--only", "brisk_ct,tokio_ct"]).unwrap();
        assert_eq!(a.only, ["brisk_ct", "tokio_ct"]);
        assert!(parse(&["tcp_echo"]).unwrap().only.is_empty());
        assert_eq!(parse(&["tcp_echo", "--only=smol"]).unwrap().only, ["smol"]);
        assert!(parse(&["tcp_echo", "--only", "madsim"]).is_err());
        assert!(parse(&["tcp_echo", "--only", ","]).is_err());
        assert!(parse(&["tcp_echo", "--only"]).is_err());
    }

    #[test]
    fn rejects_bad_arguments() {
        assert!(parse(&[]).is_err());
        assert!(parse(&["nope"]).is_err());
        assert!(parse(&["all", "--passes", "3"]).is_err());
        assert!(parse(&["all", "--passes"]).is_err());
        assert!(parse(&["all", "--passes", "x"]).is_err());
    }
}
