//! The harness: interleaved passes, medians, the table and the JSON lines.
//!
//! For each scenario the harness runs `passes` passes; each pass runs the
//! scenario once on every runtime, in the order of [`pass_order`] (the
//! runtime list rotated left by the pass number, so over five passes every
//! runtime runs once in every position). Each run builds a fresh runtime
//! first, outside the timed region; the scenario times only its work and
//! then shuts the runtime down. The result per runtime is the median of its
//! passes. Progress goes to stderr; the table and then one JSON line per
//! scenario go to stdout.
//!
//! A scenario runs either on the runtimes ([`Run::Runtime`]: the Brisk
//! flavours and tokio and smol, see [`crate::runtimes`]), on Brisk's tokio
//! backend against plain tokio ([`Run::Compat`]), or on the
//! simulators ([`Run::Simulator`]: Brisk's simulator, madsim (in a
//! subprocess) and turmoil, see [`crate::simulators`]); its [`Contender`]s
//! are interleaved the same way. A simulator scenario's published
//! reference figure is quoted only when that peer is not a contender
//! (madsim, when its subprocess cannot be built).
//! The overhead scenarios ([`Run::Diag`]) run Brisk alone, with a
//! diagnostics recording off and on (see [`crate::diag_overhead`]); there
//! the "peer" is Brisk without the recording, so the ratio is the
//! overhead. The table prints one block per kind of scenario.

use crate::diag_overhead::DiagKind;
use crate::runtimes::{Runtime, RuntimeKind};
use crate::simulators::SimKind;
use std::fmt;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Fewest passes accepted (also the default).
pub(crate) const MIN_PASSES: usize = 5;

/// Environment variable holding the size multiplier.
pub(crate) const SCALE_ENV: &str = "BRISK_BENCH_SCALE";

/// A run that takes longer than this gets a warning on stderr (once).
const SLOW_RUN: Duration = Duration::from_secs(120);

/// The unit of a scenario's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unit {
    /// Nanoseconds per operation (a cost: lower is better).
    NsPerOp,
    /// Heap bytes per task (a cost: lower is better).
    BytesPerTask,
    /// Milliseconds of wall-clock time per simulated seed (a cost: lower
    /// is better).
    MsPerSeed,
}

impl Unit {
    /// The unit as written in the table and the JSON.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Unit::NsPerOp => "ns/op",
            Unit::BytesPerTask => "B/task",
            Unit::MsPerSeed => "ms/seed",
        }
    }

    /// Decimals of a median in the JSON and the table.
    pub(crate) fn decimals(self) -> usize {
        match self {
            Unit::NsPerOp | Unit::BytesPerTask => 1,
            Unit::MsPerSeed => 2,
        }
    }

    /// Decimals of a ratio in the JSON and the table: a simulator can be
    /// thousands of times faster than another, which two decimals would
    /// print as 0.00.
    pub(crate) fn ratio_decimals(self) -> usize {
        match self {
            Unit::NsPerOp | Unit::BytesPerTask => 2,
            Unit::MsPerSeed => 4,
        }
    }

    /// True for throughput units (none yet); the ratio is always cost over
    /// cost, so a throughput is inverted first.
    pub(crate) fn higher_is_better(self) -> bool {
        false
    }

    /// `value` as a cost (lower is better).
    pub(crate) fn cost(self, value: f64) -> f64 {
        if self.higher_is_better() {
            1.0 / value
        } else {
            value
        }
    }
}

/// One scenario as the harness sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scenario {
    /// Name on the command line, in the table and in the JSON.
    pub(crate) name: &'static str,
    /// Unit of the number `run` returns.
    pub(crate) unit: Unit,
    /// What runs the scenario once, and on what.
    pub(crate) run: Run,
    /// Footnote printed under the table, if any.
    pub(crate) note: Option<&'static str>,
}

/// How a scenario runs once; the `f64` is the size multiplier
/// ([`SCALE_ENV`]).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Run {
    /// On every runtime: runs the scenario once on a freshly built runtime,
    /// shuts the runtime down, and returns the measured number.
    Runtime(fn(Runtime, f64) -> f64),
    /// On Brisk's tokio backend and on plain tokio (multi-thread): the same
    /// body as a [`Run::Runtime`] scenario, with Brisk's primitives on
    /// tokio's threads, timers and reactor against tokio's own.
    Compat(fn(Runtime, f64) -> f64),
    /// On every simulator, outside any runtime; returns the measured number.
    Simulator {
        /// The scenario's body.
        run: fn(SimKind, f64) -> f64,
        /// A published figure for a peer, quoted when that peer cannot
        /// run (is not among [`Run::contenders_for`]).
        reference: Option<Reference>,
    },
    /// On Brisk with diagnostics off and on; returns the measured number.
    Diag(fn(DiagKind, f64) -> f64),
}

impl Run {
    /// What this scenario runs on, in the order of the first pass (for the
    /// simulators: those available, see [`SimKind::available`]); with
    /// [`Compare::Timing`] or [`Compare::Registry`], Brisk's flavours with
    /// and without the diagnostics in question instead of Brisk and its
    /// peers.
    pub(crate) fn contenders_for(&self, compare: Compare) -> Vec<Contender> {
        match self {
            Run::Runtime(_) => match compare {
                Compare::Peers => RuntimeKind::ALL.map(Contender::Runtime).to_vec(),
                Compare::Timing => RuntimeKind::TIMING.map(Contender::Runtime).to_vec(),
                Compare::Registry => RuntimeKind::REGISTRY.map(Contender::Runtime).to_vec(),
            },
            Run::Compat(_) => vec![
                Contender::Runtime(RuntimeKind::BriskOnTokio),
                Contender::Runtime(RuntimeKind::TokioMt),
            ],
            Run::Simulator { .. } => SimKind::available()
                .into_iter()
                .map(Contender::Simulator)
                .collect(),
            Run::Diag(_) => DiagKind::ALL.map(Contender::Diag).to_vec(),
        }
    }

    /// Runs the scenario once on `on` (a runtime is built first).
    ///
    /// # Panics
    /// If `on` is not one of [`Run::contenders_for`].
    pub(crate) fn run_on(&self, on: Contender, scale: f64) -> f64 {
        match (self, on) {
            (Run::Runtime(f) | Run::Compat(f), Contender::Runtime(k)) => f(k.build(), scale),
            (Run::Simulator { run, .. }, Contender::Simulator(k)) => run(k, scale),
            (Run::Diag(f), Contender::Diag(k)) => f(k, scale),
            _ => panic!("{on} cannot run this scenario"),
        }
    }

    /// The published reference figure, if any and if its peer is not
    /// among `contenders` (a peer that runs is measured, not quoted).
    fn reference(&self, contenders: &[Contender]) -> Option<Reference> {
        match self {
            Run::Runtime(_) | Run::Diag(_) | Run::Compat(_) => None,
            Run::Simulator { reference, .. } => {
                reference.filter(|r| contenders.iter().all(|c| c.name() != r.peer))
            }
        }
    }
}

/// What a run of the runtime scenarios compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Compare {
    /// Brisk's flavours against tokio and smol.
    Peers,
    /// Brisk's flavours with diagnostics off, with per-poll timing only,
    /// and with timing and every hazard detector (`--timing`).
    Timing,
    /// Brisk's flavours as built by default, and without their task
    /// registry and wait-points (`--registry`).
    Registry,
}

/// A peer's published figure, quoted where the peer cannot run alongside.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Reference {
    /// The peer's name.
    pub(crate) peer: &'static str,
    /// Its figure, in the scenario's unit.
    pub(crate) value: f64,
}

/// One thing a scenario runs on: a runtime or a simulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Contender {
    /// A runtime.
    Runtime(RuntimeKind),
    /// A simulator.
    Simulator(SimKind),
    /// Brisk with diagnostics off (the "peer") or on.
    Diag(DiagKind),
}

impl Contender {
    /// The name in the table and the JSON.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Contender::Runtime(k) => k.name(),
            Contender::Simulator(k) => k.name(),
            Contender::Diag(k) => k.name(),
        }
    }

    /// True for Brisk's runtimes and simulator.
    pub(crate) fn is_brisk(self) -> bool {
        match self {
            Contender::Runtime(k) => k.is_brisk(),
            Contender::Simulator(k) => k == SimKind::Brisk,
            Contender::Diag(k) => k != DiagKind::Off,
        }
    }

    /// The key of a Brisk contender under `brisk_flavors` in the JSON.
    fn flavor(self) -> &'static str {
        match self {
            Contender::Runtime(RuntimeKind::BriskCt) => "ct",
            Contender::Runtime(RuntimeKind::BriskMt) => "mt",
            Contender::Runtime(RuntimeKind::BriskOnTokio) => "on_tokio",
            Contender::Simulator(SimKind::Brisk) => "sim",
            other => other.name(),
        }
    }
}

impl fmt::Display for Contender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl PartialEq for Scenario {
    /// Scenarios are equal when their names are.
    fn eq(&self, other: &Scenario) -> bool {
        self.name == other.name
    }
}

/// `base` scaled by `scale`, rounded, and at least 1.
pub(crate) fn scaled(base: usize, scale: f64) -> usize {
    ((base as f64) * scale).round().max(1.0) as usize
}

/// The size multiplier from [`SCALE_ENV`] (1.0 when unset).
///
/// # Errors
/// If the variable is set but is not a positive finite number.
pub(crate) fn scale_from_env() -> Result<f64, String> {
    match std::env::var(SCALE_ENV) {
        Err(std::env::VarError::NotPresent) => Ok(1.0),
        Err(e) => Err(format!("{SCALE_ENV}: {e}")),
        Ok(s) => match s.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
            _ => Err(format!("{SCALE_ENV} must be a positive number, got {s:?}")),
        },
    }
}

/// Nanoseconds per operation.
pub(crate) fn ns_per_op(elapsed: Duration, ops: usize) -> f64 {
    elapsed.as_nanos() as f64 / ops.max(1) as f64
}

/// The contenders in the order of pass `pass` (0-based): `all` rotated left
/// by `pass`.
pub(crate) fn pass_order(all: &[Contender], pass: usize) -> Vec<Contender> {
    let mut order = all.to_vec();
    let n = order.len();
    order.rotate_left(pass % n);
    order
}

/// Median of `values` (the mean of the two middle values for an even count).
///
/// # Panics
/// If `values` is empty or holds a NaN.
pub(crate) fn median(values: &[f64]) -> f64 {
    assert!(!values.is_empty(), "median of nothing");
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).expect("NaN in samples"));
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// The outcome of one scenario over all passes.
#[derive(Clone, Debug)]
pub(crate) struct Summary {
    /// The scenario's name.
    pub(crate) scenario: &'static str,
    /// The scenario's unit.
    pub(crate) unit: Unit,
    /// Footnote for the table.
    pub(crate) note: Option<&'static str>,
    /// A published figure for a peer that did not run.
    pub(crate) reference: Option<Reference>,
    /// Number of passes.
    pub(crate) passes: usize,
    /// Every contender's samples, one per pass, in [`Run::contenders_for`]
    /// order.
    pub(crate) samples: Vec<(Contender, Vec<f64>)>,
}

impl Summary {
    /// The median of `kind`'s samples.
    pub(crate) fn median_of(&self, kind: Contender) -> f64 {
        let (_, s) = self
            .samples
            .iter()
            .find(|(k, _)| *k == kind)
            .expect("every runtime has samples");
        median(s)
    }

    /// Half the range of `kind`'s samples, relative to their median, in %.
    pub(crate) fn spread_of(&self, kind: Contender) -> f64 {
        let (_, s) = self
            .samples
            .iter()
            .find(|(k, _)| *k == kind)
            .expect("every runtime has samples");
        let max = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let min = s.iter().copied().fold(f64::INFINITY, f64::min);
        let m = median(s);
        if m == 0.0 {
            0.0
        } else {
            (max - min) / 2.0 / m.abs() * 100.0
        }
    }

    /// The better (by cost) of the runtimes matching `pick`.
    fn best(&self, pick: impl Fn(Contender) -> bool) -> (Contender, f64) {
        self.contenders()
            .filter(|k| pick(*k))
            .map(|k| (k, self.median_of(k)))
            .min_by(|a, b| {
                self.unit
                    .cost(a.1)
                    .partial_cmp(&self.unit.cost(b.1))
                    .expect("NaN median")
            })
            .expect("at least one runtime")
    }

    /// The contenders, in order.
    fn contenders(&self) -> impl Iterator<Item = Contender> + '_ {
        self.samples.iter().map(|(k, _)| *k)
    }

    /// Brisk's better flavour and its median.
    pub(crate) fn brisk(&self) -> (Contender, f64) {
        self.best(Contender::is_brisk)
    }

    /// Brisk's cost over the reference figure's (lower is better).
    pub(crate) fn ratio_vs_reference(&self) -> Option<f64> {
        self.reference
            .map(|r| self.unit.cost(self.brisk().1) / self.unit.cost(r.value))
    }

    /// The best peer and its median.
    pub(crate) fn best_peer(&self) -> (Contender, f64) {
        self.best(|k| !k.is_brisk())
    }

    /// Brisk's cost over the best peer's cost (lower is better).
    pub(crate) fn ratio(&self) -> f64 {
        self.unit.cost(self.brisk().1) / self.unit.cost(self.best_peer().1)
    }

    /// The scenario's one JSON line.
    pub(crate) fn to_json(&self) -> String {
        let (_, brisk) = self.brisk();
        let (peer, _) = self.best_peer();
        let d = self.unit.decimals();
        let mut s = String::new();
        let flavors: Vec<String> = self
            .contenders()
            .filter(|k| k.is_brisk())
            .map(|k| format!("\"{}\":{}", k.flavor(), json_num(self.median_of(k), d)))
            .collect();
        write!(
            s,
            "{{\"scenario\":\"{}\",\"unit\":\"{}\",\"brisk\":{},\"brisk_flavors\":{{{}}},\"peers\":{{",
            self.scenario,
            self.unit.label(),
            json_num(brisk, d),
            flavors.join(","),
        )
        .expect("write to String");
        let peers: Vec<String> = self
            .contenders()
            .filter(|k| !k.is_brisk())
            .map(|k| format!("\"{}\":{}", k.name(), json_num(self.median_of(k), d)))
            .collect();
        s.push_str(&peers.join(","));
        write!(
            s,
            "}},\"best_peer\":\"{}\",\"ratio_vs_best_peer\":{},\"passes\":{}}}",
            peer.name(),
            json_num(self.ratio(), self.unit.ratio_decimals()),
            self.passes
        )
        .expect("write to String");
        // Cost with a diagnostics feature over the cost without it, per
        // flavour, grouped by feature (see `RuntimeKind::overhead`).
        let mut overheads: Vec<(&str, Vec<String>)> = Vec::new();
        for k in self.contenders() {
            let Contender::Runtime(k) = k else { continue };
            let Some((key, with, without)) = k.overhead() else {
                continue;
            };
            let ratio = self.unit.cost(self.median_of(Contender::Runtime(with)))
                / self.unit.cost(self.median_of(Contender::Runtime(without)));
            let flavor = Contender::Runtime(without.base()).flavor();
            let entry = format!("\"{flavor}\":{}", json_num(ratio, 3));
            match overheads.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => v.push(entry),
                None => overheads.push((key, vec![entry])),
            }
        }
        for (key, entries) in overheads {
            s.pop();
            write!(s, ",\"{key}\":{{{}}}}}", entries.join(",")).expect("write to String");
        }
        if let (Some(r), Some(ratio)) = (self.reference, self.ratio_vs_reference()) {
            s.pop();
            write!(
                s,
                ",\"reference\":{{\"{}\":{}}},\"ratio_vs_reference\":{}}}",
                r.peer,
                json_num(r.value, d),
                json_num(ratio, 2)
            )
            .expect("write to String");
        }
        s
    }
}

/// `v` with `decimals` decimals, or `null` if it is not finite.
fn json_num(v: f64, decimals: usize) -> String {
    if v.is_finite() {
        format!("{v:.decimals$}")
    } else {
        "null".to_owned()
    }
}

/// What is running now, for the slow-run watchdog.
static CURRENT: Mutex<Option<(String, Instant, bool)>> = Mutex::new(None);

/// Starts (once) a thread that warns on stderr when a single run takes
/// longer than [`SLOW_RUN`], naming the run and this process's id so that a
/// hang can be inspected with a debugger.
pub(crate) fn start_watchdog() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        std::thread::Builder::new()
            .name("bench-watchdog".into())
            .spawn(|| loop {
                std::thread::sleep(Duration::from_secs(1));
                let mut cur = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
                if let Some((label, started, warned)) = cur.as_mut() {
                    if !*warned && started.elapsed() > SLOW_RUN {
                        *warned = true;
                        eprintln!(
                            "warning: {label} has been running for {:?} (pid {}); it may hang",
                            started.elapsed(),
                            std::process::id()
                        );
                    }
                }
            })
            .expect("spawn watchdog thread");
    });
}

/// Runs `scenario` for `passes` interleaved passes at size multiplier
/// `scale` and returns every sample. A non-empty `only` keeps just the
/// contenders of those names.
pub(crate) fn run_scenario(
    scenario: &Scenario,
    passes: usize,
    scale: f64,
    compare: Compare,
    only: &[String],
) -> Summary {
    let mut contenders = scenario.run.contenders_for(compare);
    if !only.is_empty() {
        contenders.retain(|c| only.iter().any(|o| o == c.name()));
    }
    let mut samples: Vec<(Contender, Vec<f64>)> =
        contenders.iter().map(|k| (*k, Vec::new())).collect();
    for pass in 0..passes {
        let mut line = format!("{:<18} pass {}/{}:", scenario.name, pass + 1, passes);
        for kind in pass_order(&contenders, pass) {
            *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) =
                Some((format!("{}/{}", scenario.name, kind), Instant::now(), false));
            let value = scenario.run.run_on(kind, scale);
            *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = None;
            write!(
                line,
                " {kind}={value:.prec$}",
                prec = scenario.unit.decimals()
            )
            .expect("write to String");
            samples
                .iter_mut()
                .find(|(k, _)| *k == kind)
                .expect("known contender")
                .1
                .push(value);
        }
        eprintln!("{line}");
    }
    Summary {
        scenario: scenario.name,
        unit: scenario.unit,
        note: scenario.note,
        reference: scenario.run.reference(&contenders),
        passes,
        samples,
    }
}

/// One line per contender of `s`: its median and spread (for `--only` runs,
/// which have no ratio to show).
pub(crate) fn medians(s: &Summary) -> String {
    let mut out = String::new();
    for (kind, _) in &s.samples {
        writeln!(
            out,
            "{:<18} {:<14} {:.prec$} {} ±{:.0}%",
            s.scenario,
            kind.name(),
            s.median_of(*kind),
            s.unit.label(),
            s.spread_of(*kind),
            prec = s.unit.decimals()
        )
        .expect("write to String");
    }
    out
}

/// The results table (medians, with ± half the min–max range in %).
///
/// Scenarios with different contenders (runtimes, simulators) get one block
/// each, in the order their first scenario appears.
pub(crate) fn table(summaries: &[Summary]) -> String {
    let mut groups: Vec<(Vec<Contender>, Vec<Summary>)> = Vec::new();
    for s in summaries {
        let contenders: Vec<Contender> = s.contenders().collect();
        match groups.iter_mut().find(|(c, _)| *c == contenders) {
            Some((_, group)) => group.push(s.clone()),
            None => groups.push((contenders, vec![s.clone()])),
        }
    }
    let blocks: Vec<String> = groups
        .iter()
        .map(|(contenders, group)| table_block(contenders, group))
        .collect();
    blocks.join("\n")
}

/// One block of [`table`]: scenarios that share their contenders.
fn table_block(contenders: &[Contender], summaries: &[Summary]) -> String {
    let mut header = vec!["scenario".to_owned(), "unit".to_owned()];
    header.extend(contenders.iter().map(|k| k.name().to_owned()));
    header.extend(["brisk/best peer".to_owned()]);
    let mut rows = vec![header];
    let mut notes: Vec<String> = Vec::new();
    for s in summaries {
        let mut name = s.scenario.to_owned();
        if let Some(note) = s.note {
            let idx = match notes.iter().position(|n| n == note) {
                Some(i) => i,
                None => {
                    notes.push(note.to_owned());
                    notes.len() - 1
                }
            };
            name.push_str(&"*".repeat(idx + 1));
        }
        let mut row = vec![name, s.unit.label().to_owned()];
        for kind in contenders {
            row.push(format!(
                "{:.prec$} ±{:.0}%",
                s.median_of(*kind),
                s.spread_of(*kind),
                prec = s.unit.decimals()
            ));
        }
        row.push(format!(
            "{:.prec$} ({} vs {})",
            s.ratio(),
            s.brisk().0,
            s.best_peer().0,
            prec = s.unit.ratio_decimals()
        ));
        rows.push(row);
    }
    let cols = rows[0].len();
    let widths: Vec<usize> = (0..cols)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, w))| {
                if c < 2 {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        out.push_str(cells.join(" | ").trim_end());
        out.push('\n');
        if i == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            out.push_str(&rule.join("-|-"));
            out.push('\n');
        }
    }
    let passes = summaries.first().map_or(0, |s| s.passes);
    let _ = writeln!(
        out,
        "Medians of {passes} interleaved passes (± = half the min-max range); ratio = Brisk's better flavour over the best peer, lower is better."
    );
    for (i, note) in notes.iter().enumerate() {
        let _ = writeln!(out, "{} {note}", "*".repeat(i + 1));
    }
    for s in summaries {
        if let (Some(r), Some(ratio)) = (s.reference, s.ratio_vs_reference()) {
            let _ = writeln!(
                out,
                "{}: Brisk over {}'s published {:.prec$} {} = {ratio:.2}",
                s.scenario,
                r.peer,
                r.value,
                s.unit.label(),
                prec = s.unit.decimals()
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(values: [f64; 5]) -> Summary {
        Summary {
            scenario: "spawn_join",
            unit: Unit::NsPerOp,
            note: Some("a note"),
            reference: None,
            passes: 5,
            samples: RuntimeKind::ALL
                .into_iter()
                .zip(values)
                .map(|(k, v)| (Contender::Runtime(k), vec![v, v * 2.0, v / 2.0, v, v]))
                .collect(),
        }
    }

    fn sim_summary(brisk: f64, turmoil: f64) -> Summary {
        Summary {
            scenario: "sim_udp_echo",
            unit: Unit::MsPerSeed,
            note: Some("a sim note"),
            reference: Some(Reference {
                peer: "madsim",
                value: 16.0,
            }),
            passes: 5,
            samples: vec![
                (Contender::Simulator(SimKind::Brisk), vec![brisk; 5]),
                (Contender::Simulator(SimKind::Turmoil), vec![turmoil; 5]),
            ],
        }
    }

    /// A simulator summary in which madsim ran (so nothing is quoted).
    fn sim_summary_with_madsim(brisk: f64, madsim: f64, turmoil: f64) -> Summary {
        Summary {
            reference: None,
            samples: vec![
                (Contender::Simulator(SimKind::Brisk), vec![brisk; 5]),
                (Contender::Simulator(SimKind::Madsim), vec![madsim; 5]),
                (Contender::Simulator(SimKind::Turmoil), vec![turmoil; 5]),
            ],
            ..sim_summary(brisk, turmoil)
        }
    }

    fn runtimes() -> Vec<Contender> {
        RuntimeKind::ALL.map(Contender::Runtime).to_vec()
    }

    #[test]
    fn a_timing_run_reports_the_cost_ratios_per_flavour() {
        let s = Summary {
            scenario: "spawn_join",
            unit: Unit::NsPerOp,
            note: None,
            reference: None,
            passes: 5,
            samples: RuntimeKind::TIMING
                .into_iter()
                .zip([100.0, 105.0, 110.0, 200.0, 204.0, 210.0])
                .map(|(k, v)| (Contender::Runtime(k), vec![v; 5]))
                .collect(),
        };
        let json = s.to_json();
        assert!(
            json.contains("\"brisk_flavors\":{\"ct\":100.0,\"mt\":200.0}"),
            "{json}"
        );
        assert!(json.contains("\"brisk_ct_timed\":110.0"), "{json}");
        assert!(json.contains("\"brisk_mt_timing\":204.0"), "{json}");
        assert!(
            json.ends_with(
                ",\"timing_ratio\":{\"ct\":1.050,\"mt\":1.020},\
                 \"detectors_ratio\":{\"ct\":1.100,\"mt\":1.050}}"
            ),
            "{json}"
        );
        // A normal run has no overhead ratios.
        let plain = summary([1.0, 2.0, 3.0, 4.0, 5.0]).to_json();
        assert!(!plain.contains("_ratio\":{"), "{plain}");
    }

    #[test]
    fn a_registry_run_reports_the_default_over_the_bare_flavour() {
        let s = Summary {
            scenario: "yield_many",
            unit: Unit::NsPerOp,
            note: None,
            reference: None,
            passes: 5,
            samples: RuntimeKind::REGISTRY
                .into_iter()
                .zip([103.0, 100.0, 204.0, 200.0])
                .map(|(k, v)| (Contender::Runtime(k), vec![v; 5]))
                .collect(),
        };
        let json = s.to_json();
        assert!(json.contains("\"brisk_ct_bare\":100.0"), "{json}");
        assert!(
            json.ends_with(",\"registry_ratio\":{\"ct\":1.030,\"mt\":1.020}}"),
            "{json}"
        );
    }

    #[test]
    fn median_odd_and_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[7.0]), 7.0);
    }

    #[test]
    fn passes_rotate_through_every_position() {
        let all = runtimes();
        for (pos, _) in all.iter().enumerate() {
            let mut seen: Vec<Contender> = (0..5).map(|p| pass_order(&all, p)[pos]).collect();
            seen.dedup();
            assert_eq!(seen.len(), 5);
        }
        assert_eq!(pass_order(&all, 0), all);
        assert_eq!(pass_order(&all, 5), all);
        let sims = SimKind::ALL.map(Contender::Simulator).to_vec();
        assert_eq!(pass_order(&sims, 1), [sims[1], sims[2], sims[0]]);
    }

    #[test]
    fn scaled_is_at_least_one() {
        assert_eq!(scaled(1000, 0.01), 10);
        assert_eq!(scaled(1000, 0.0001), 1);
        assert_eq!(scaled(1000, 1.0), 1000);
    }

    #[test]
    fn json_line_has_the_documented_shape() {
        let s = summary([123.4, 150.2, 321.0, 400.1, 156.0]);
        let line = s.to_json();
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).expect("valid JSON");
        assert_eq!(v["scenario"], "spawn_join");
        assert_eq!(v["unit"], "ns/op");
        assert_eq!(v["brisk"], 123.4);
        assert_eq!(v["brisk_flavors"]["ct"], 123.4);
        assert_eq!(v["brisk_flavors"]["mt"], 150.2);
        assert_eq!(v["peers"]["tokio_ct"], 321.0);
        assert_eq!(v["peers"]["tokio_mt"], 400.1);
        assert_eq!(v["peers"]["smol"], 156.0);
        assert_eq!(v["best_peer"], "smol");
        assert_eq!(v["ratio_vs_best_peer"], 0.79);
        assert_eq!(v["passes"], 5);
        // Keys in the documented order.
        let order = [
            "\"scenario\"",
            "\"unit\"",
            "\"brisk\"",
            "\"brisk_flavors\"",
            "\"peers\"",
            "\"best_peer\"",
            "\"ratio_vs_best_peer\"",
            "\"passes\"",
        ];
        let pos: Vec<usize> = order.iter().map(|k| line.find(k).unwrap()).collect();
        assert!(pos.windows(2).all(|w| w[0] < w[1]), "{line}");
    }

    #[test]
    fn brisk_picks_its_better_flavour() {
        let s = summary([200.0, 100.0, 300.0, 400.0, 50.0]);
        assert_eq!(s.brisk(), (Contender::Runtime(RuntimeKind::BriskMt), 100.0));
        assert_eq!(s.best_peer(), (Contender::Runtime(RuntimeKind::Smol), 50.0));
        assert_eq!(s.ratio(), 2.0);
    }

    #[test]
    fn table_lists_every_runtime_and_the_note() {
        let t = table(&[summary([1.0, 2.0, 3.0, 4.0, 5.0])]);
        assert!(!t.contains("turmoil"), "{t}");
        for k in RuntimeKind::ALL {
            assert!(t.contains(k.name()), "{t}");
        }
        assert!(t.contains("spawn_join*"), "{t}");
        assert!(t.contains("* a note"), "{t}");
    }

    #[test]
    fn simulator_json_names_brisk_sim_turmoil_and_the_reference() {
        let line = sim_summary(4.0, 200.0).to_json();
        let v: serde_json::Value = serde_json::from_str(&line).expect("valid JSON");
        assert_eq!(v["unit"], "ms/seed");
        assert_eq!(v["brisk"], 4.0);
        assert_eq!(v["brisk_flavors"]["sim"], 4.0);
        assert_eq!(v["peers"]["turmoil"], 200.0);
        assert_eq!(v["best_peer"], "turmoil");
        assert_eq!(v["ratio_vs_best_peer"], 0.02);
        let line = sim_summary(4.0, 20_000.0).to_json();
        let v: serde_json::Value = serde_json::from_str(&line).expect("valid JSON");
        assert_eq!(v["ratio_vs_best_peer"], 0.0002);
        assert_eq!(v["passes"], 5);
        assert_eq!(v["reference"]["madsim"], 16.0);
        assert_eq!(v["ratio_vs_reference"], 0.25);
    }

    #[test]
    fn runtime_and_simulator_scenarios_get_separate_blocks() {
        let t = table(&[summary([1.0, 2.0, 3.0, 4.0, 5.0]), sim_summary(4.0, 200.0)]);
        assert_eq!(t.matches("Medians of 5").count(), 2, "{t}");
        let header = t
            .lines()
            .find(|l| l.contains("turmoil"))
            .expect("sim header");
        assert!(
            header.contains("brisk_sim") && !header.contains("tokio"),
            "{t}"
        );
        assert!(t.contains("sim_udp_echo*"), "{t}");
        assert!(t.contains("* a sim note"), "{t}");
        assert!(
            t.contains("Brisk over madsim's published 16.00 ms/seed = 0.25"),
            "{t}"
        );
    }

    #[test]
    fn reference_is_quoted_only_when_its_peer_does_not_run() {
        fn nothing(_: SimKind, _: f64) -> f64 {
            0.0
        }
        let run = Run::Simulator {
            run: nothing,
            reference: Some(Reference {
                peer: "madsim",
                value: 16.0,
            }),
        };
        let all = SimKind::ALL.map(Contender::Simulator).to_vec();
        assert_eq!(run.reference(&all), None);
        let without: Vec<Contender> = all
            .iter()
            .copied()
            .filter(|c| *c != Contender::Simulator(SimKind::Madsim))
            .collect();
        assert_eq!(run.reference(&without).map(|r| r.value), Some(16.0));
    }

    #[test]
    fn simulator_json_with_madsim_running_has_it_as_a_peer() {
        let s = sim_summary_with_madsim(4.0, 16.0, 200.0);
        let v: serde_json::Value = serde_json::from_str(&s.to_json()).expect("valid JSON");
        assert_eq!(v["peers"]["madsim"], 16.0);
        assert_eq!(v["peers"]["turmoil"], 200.0);
        assert_eq!(v["best_peer"], "madsim");
        assert_eq!(v["ratio_vs_best_peer"], 0.25);
        assert!(v.get("reference").is_none(), "{v}");
        let t = table(&[s]);
        let header = t.lines().next().expect("header");
        assert!(
            header.contains("brisk_sim") && header.contains("madsim") && header.contains("turmoil"),
            "{t}"
        );
        assert!(!t.contains("published"), "{t}");
    }
}
