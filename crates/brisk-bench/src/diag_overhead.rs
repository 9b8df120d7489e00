//! Brisk with its diagnostics recording off and on, for the overhead
//! scenarios (`trace_*`).
//!
//! | name        | what runs                                                            |
//! |-------------|----------------------------------------------------------------------|
//! | `trace_off` | the scenario on `brisk_ct`, nothing recorded (the default)            |
//! | `trace_on`  | the same, with `brisk::diag::trace` recording the runtime throughout  |
//!
//! The recorder starts after the runtime is built and stops after the
//! scenario's timed region, so starting, stopping and building the
//! [`Trace`](brisk::diag::trace::Trace) are not timed; recording every
//! spawn, poll, wake and completion is. Each thread keeps the default
//! number of events ([`DEFAULT_CAPACITY`](brisk::diag::trace::DEFAULT_CAPACITY)),
//! so a long run records into a full ring, overwriting as it goes. The
//! current-thread flavour is used: with no cross-thread work the recording
//! cost is the largest share of the total there.

use crate::runtimes::{Runtime, RuntimeKind};
use std::fmt;

/// Brisk's diagnostics configuration under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DiagKind {
    /// No recording.
    Off,
    /// Trace recording on.
    Trace,
}

impl DiagKind {
    /// Both, in the order of the first pass.
    pub(crate) const ALL: [DiagKind; 2] = [DiagKind::Off, DiagKind::Trace];

    /// The name in the table and the JSON.
    pub(crate) fn name(self) -> &'static str {
        match self {
            DiagKind::Off => "trace_off",
            DiagKind::Trace => "trace_on",
        }
    }
}

impl fmt::Display for DiagKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Runs a runtime scenario's body once on a fresh `brisk_ct` runtime,
/// recording a trace around it for [`DiagKind::Trace`].
pub(crate) fn run_with(kind: DiagKind, scale: f64, body: fn(Runtime, f64) -> f64) -> f64 {
    let rt = RuntimeKind::BriskCt.build();
    let handle = rt
        .brisk_handle()
        .expect("brisk_ct is a Brisk runtime")
        .clone();
    let recorder = match kind {
        DiagKind::Off => None,
        DiagKind::Trace => Some(brisk::diag::trace::Builder::new().start_on(&handle)),
    };
    let value = body(rt, scale);
    if let Some(recorder) = recorder {
        let trace = recorder.stop();
        assert!(!trace.events.is_empty(), "the recording recorded nothing");
    }
    value
}
