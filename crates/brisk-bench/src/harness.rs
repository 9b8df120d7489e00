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

use crate::runtimes::{Runtime, RuntimeKind};
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
}

impl Unit {
    /// The unit as written in the table and the JSON.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Unit::NsPerOp => "ns/op",
            Unit::BytesPerTask => "B/task",
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
    /// Runs the scenario once on a freshly built runtime, shuts the runtime
    /// down, and returns the measured number. The `f64` is the size
    /// multiplier ([`SCALE_ENV`]).
    pub(crate) run: fn(Runtime, f64) -> f64,
    /// Footnote printed under the table, if any.
    pub(crate) note: Option<&'static str>,
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

/// The runtimes in the order of pass `pass` (0-based): the list rotated left
/// by `pass`.
pub(crate) fn pass_order(pass: usize) -> [RuntimeKind; 5] {
    let mut order = RuntimeKind::ALL;
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
    /// Number of passes.
    pub(crate) passes: usize,
    /// Every runtime's samples, one per pass, in [`RuntimeKind::ALL`] order.
    pub(crate) samples: Vec<(RuntimeKind, Vec<f64>)>,
}

impl Summary {
    /// The median of `kind`'s samples.
    pub(crate) fn median_of(&self, kind: RuntimeKind) -> f64 {
        let (_, s) = self
            .samples
            .iter()
            .find(|(k, _)| *k == kind)
            .expect("every runtime has samples");
        median(s)
    }

    /// Half the range of `kind`'s samples, relative to their median, in %.
    pub(crate) fn spread_of(&self, kind: RuntimeKind) -> f64 {
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
    fn best(&self, pick: impl Fn(RuntimeKind) -> bool) -> (RuntimeKind, f64) {
        RuntimeKind::ALL
            .into_iter()
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

    /// Brisk's better flavour and its median.
    pub(crate) fn brisk(&self) -> (RuntimeKind, f64) {
        self.best(RuntimeKind::is_brisk)
    }

    /// The best peer and its median.
    pub(crate) fn best_peer(&self) -> (RuntimeKind, f64) {
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
        let mut s = String::new();
        write!(
            s,
            "{{\"scenario\":\"{}\",\"unit\":\"{}\",\"brisk\":{},\"brisk_flavors\":{{\"ct\":{},\"mt\":{}}},\"peers\":{{",
            self.scenario,
            self.unit.label(),
            json_num(brisk, 1),
            json_num(self.median_of(RuntimeKind::BriskCt), 1),
            json_num(self.median_of(RuntimeKind::BriskMt), 1),
        )
        .expect("write to String");
        let peers: Vec<String> = RuntimeKind::ALL
            .into_iter()
            .filter(|k| !k.is_brisk())
            .map(|k| format!("\"{}\":{}", k.name(), json_num(self.median_of(k), 1)))
            .collect();
        s.push_str(&peers.join(","));
        write!(
            s,
            "}},\"best_peer\":\"{}\",\"ratio_vs_best_peer\":{},\"passes\":{}}}",
            peer.name(),
            json_num(self.ratio(), 2),
            self.passes
        )
        .expect("write to String");
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
/// `scale` and returns every sample.
pub(crate) fn run_scenario(scenario: &Scenario, passes: usize, scale: f64) -> Summary {
    let mut samples: Vec<(RuntimeKind, Vec<f64>)> = RuntimeKind::ALL
        .into_iter()
        .map(|k| (k, Vec::new()))
        .collect();
    for pass in 0..passes {
        let mut line = format!("{:<18} pass {}/{}:", scenario.name, pass + 1, passes);
        for kind in pass_order(pass) {
            let rt = kind.build();
            *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) =
                Some((format!("{}/{}", scenario.name, kind), Instant::now(), false));
            let value = (scenario.run)(rt, scale);
            *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = None;
            write!(line, " {kind}={value:.1}").expect("write to String");
            samples
                .iter_mut()
                .find(|(k, _)| *k == kind)
                .expect("known runtime")
                .1
                .push(value);
        }
        eprintln!("{line}");
    }
    Summary {
        scenario: scenario.name,
        unit: scenario.unit,
        note: scenario.note,
        passes,
        samples,
    }
}

/// The results table (medians, with ± half the min–max range in %).
pub(crate) fn table(summaries: &[Summary]) -> String {
    let mut header = vec!["scenario".to_owned(), "unit".to_owned()];
    header.extend(RuntimeKind::ALL.iter().map(|k| k.name().to_owned()));
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
        for kind in RuntimeKind::ALL {
            row.push(format!(
                "{:.1} ±{:.0}%",
                s.median_of(kind),
                s.spread_of(kind)
            ));
        }
        row.push(format!(
            "{:.2} ({} vs {})",
            s.ratio(),
            s.brisk().0,
            s.best_peer().0
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
            passes: 5,
            samples: RuntimeKind::ALL
                .into_iter()
                .zip(values)
                .map(|(k, v)| (k, vec![v, v * 2.0, v / 2.0, v, v]))
                .collect(),
        }
    }

    #[test]
    fn median_odd_and_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[7.0]), 7.0);
    }

    #[test]
    fn passes_rotate_through_every_position() {
        for (pos, _) in RuntimeKind::ALL.iter().enumerate() {
            let mut seen: Vec<RuntimeKind> = (0..5).map(|p| pass_order(p)[pos]).collect();
            seen.dedup();
            assert_eq!(seen.len(), 5);
        }
        assert_eq!(pass_order(0), RuntimeKind::ALL);
        assert_eq!(pass_order(5), RuntimeKind::ALL);
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
        assert_eq!(s.brisk(), (RuntimeKind::BriskMt, 100.0));
        assert_eq!(s.best_peer(), (RuntimeKind::Smol, 50.0));
        assert_eq!(s.ratio(), 2.0);
    }

    #[test]
    fn table_lists_every_runtime_and_the_note() {
        let t = table(&[summary([1.0, 2.0, 3.0, 4.0, 5.0])]);
        for k in RuntimeKind::ALL {
            assert!(t.contains(k.name()), "{t}");
        }
        assert!(t.contains("spawn_join*"), "{t}");
        assert!(t.contains("* a note"), "{t}");
    }
}
