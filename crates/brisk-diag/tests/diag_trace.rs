//! Trace recording and its Chrome trace-event JSON export.

use brisk::diag::trace::{self, EventKind, Trace};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

fn current_thread() -> brisk::Runtime {
    brisk::Runtime::builder().current_thread().build().unwrap()
}

fn id_of(trace: &Trace, name: &str) -> u64 {
    trace
        .tasks
        .iter()
        .find(|t| t.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no task {name} in {:#?}", trace.tasks))
        .id
}

fn polls_of(trace: &Trace, id: u64) -> usize {
    trace
        .events
        .iter()
        .filter(|e| e.task == id && e.is_poll())
        .count()
}

fn num(e: &Value, key: &str) -> f64 {
    e.get(key)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("event without a numeric {key}: {e}"))
}

/// Parses the export and checks what every viewer needs: each event has a
/// phase and a pid; each slice a name, ts, dur and tid; each thread used a
/// name; every arrow a start and an end.
fn parse_checked(trace: &Trace) -> Vec<Value> {
    let json: Value = serde_json::from_str(&trace.to_chrome_json()).expect("valid JSON");
    let events = json["traceEvents"].as_array().expect("a traceEvents array");
    let mut named_threads = HashSet::new();
    let mut used_threads = HashSet::new();
    let mut flow_starts = HashSet::new();
    let mut flow_ends = HashSet::new();
    for e in events {
        let ph = e["ph"].as_str().expect("every event has a phase");
        num(e, "pid");
        match ph {
            "M" => {
                if e["name"] == "thread_name" {
                    named_threads.insert(num(e, "tid") as u64);
                    assert!(e["args"]["name"].is_string());
                }
            }
            "X" => {
                assert!(e["name"].as_str().is_some_and(|n| !n.is_empty()));
                assert!(num(e, "ts") >= 0.0);
                assert!(num(e, "dur") >= 0.0);
                used_threads.insert(num(e, "tid") as u64);
                assert!(e["args"]["task"].is_u64());
                assert!(e["args"]["location"].is_string());
            }
            "b" | "e" => {
                assert_eq!(e["cat"], "task");
                assert!(e["id"].is_u64());
                num(e, "ts");
            }
            "i" => {
                assert_eq!(e["s"], "t");
                used_threads.insert(num(e, "tid") as u64);
                num(e, "ts");
            }
            "s" => {
                flow_starts.insert(e["id"].as_u64().unwrap());
            }
            "f" => {
                assert_eq!(e["bp"], "e");
                flow_ends.insert(e["id"].as_u64().unwrap());
            }
            other => panic!("unexpected phase {other}: {e}"),
        }
    }
    assert!(
        used_threads.is_subset(&named_threads),
        "a thread has no name"
    );
    assert_eq!(flow_starts, flow_ends, "every arrow starts and ends");
    events.clone()
}

#[test]
fn chrome_json_shows_spawns_polls_wakes_and_completions() {
    let rt = current_thread();
    let trace = rt.block_on(async {
        let recorder = trace::start();
        let (tx, rx) = brisk::sync::oneshot::channel::<u32>();
        // alpha: four polls, then it wakes beta.
        let alpha = brisk::task::Builder::new().name("alpha").spawn(async move {
            for _ in 0..3 {
                brisk::task::yield_now().await;
            }
            tx.send(7).unwrap();
        });
        let beta = brisk::task::Builder::new()
            .name("beta")
            .spawn(async move { rx.await.unwrap() });
        let gamma = brisk::task::Builder::new()
            .name("gamma")
            .spawn_blocking(|| 6 * 7);
        alpha.await.unwrap();
        assert_eq!(beta.await.unwrap(), 7);
        assert_eq!(gamma.await.unwrap(), 42);
        recorder.stop()
    });
    assert_eq!(trace.dropped, 0);

    let (alpha, beta, gamma) = (
        id_of(&trace, "alpha"),
        id_of(&trace, "beta"),
        id_of(&trace, "gamma"),
    );
    assert_eq!(polls_of(&trace, alpha), 4);
    assert_eq!(polls_of(&trace, beta), 2);
    assert_eq!(polls_of(&trace, gamma), 1);
    for id in [alpha, beta, gamma] {
        let task = trace.task(id).unwrap();
        assert_eq!(polls_of(&trace, id) as u64, task.polls, "{task:?}");
        assert!(task.location.contains("diag_trace.rs"), "{task:?}");
    }
    assert_eq!(trace.task(gamma).unwrap().kind, "blocking");
    // alpha's send woke beta, from inside alpha.
    assert!(trace
        .events
        .iter()
        .any(|e| e.task == beta
            && matches!(e.kind, EventKind::Wake { by: Some(by), .. } if by == alpha)));

    let events = parse_checked(&trace);
    for (name, id) in [("alpha", alpha), ("beta", beta), ("gamma", gamma)] {
        let of_task = |ph: &str| {
            events
                .iter()
                .filter(|e| e["ph"] == ph && (e["id"] == id || e["args"]["task"] == id))
                .filter(|e| ph != "X" || e["name"] == name)
                .collect::<Vec<_>>()
        };
        let (begins, polls, ends) = (of_task("b"), of_task("X"), of_task("e"));
        assert_eq!((begins.len(), ends.len()), (1, 1), "{name}: one lifetime");
        assert_eq!(begins[0]["name"], name);
        assert_eq!(polls.len() as u64, trace.task(id).unwrap().polls, "{name}");
        // Spawned, then polled (in order, without overlap), then completed.
        let mut last_end = num(begins[0], "ts");
        for p in &polls {
            assert!(num(p, "ts") >= last_end - 0.001, "{name}: {p} starts early");
            last_end = num(p, "ts") + num(p, "dur");
        }
        assert!(num(ends[0], "ts") >= last_end - 0.001, "{name} ends early");
    }
    // The wake of beta by alpha is an arrow from alpha's poll to beta's.
    let arrows = events.iter().filter(|e| e["ph"] == "s").count();
    assert!(arrows >= 1);
}

#[test]
fn only_what_happens_while_recording_is_recorded() {
    let rt = current_thread();
    rt.block_on(async {
        brisk::task::Builder::new()
            .name("before")
            .spawn(async {})
            .await
            .unwrap();
        // Spawned before the recording, polled during it.
        let (tx, rx) = brisk::sync::oneshot::channel::<()>();
        let early = brisk::task::Builder::new()
            .name("early")
            .spawn(async move { rx.await.unwrap() });
        brisk::task::yield_now().await;

        let recorder = trace::start();
        tx.send(()).unwrap();
        early.await.unwrap();
        brisk::task::Builder::new()
            .name("during")
            .spawn(async {})
            .await
            .unwrap();
        let trace = recorder.stop();
        brisk::task::Builder::new()
            .name("after")
            .spawn(async {})
            .await
            .unwrap();

        let names: HashSet<_> = trace.tasks.iter().filter_map(|t| t.name.clone()).collect();
        assert!(
            names.contains("early") && names.contains("during"),
            "{names:?}"
        );
        assert!(
            !names.contains("before") && !names.contains("after"),
            "{names:?}"
        );
        // early was found by its completion record: named, with all polls.
        let early = id_of(&trace, "early");
        assert_eq!(polls_of(&trace, early), 1);
        assert_eq!(trace.task(early).unwrap().polls, 2);
        let events = parse_checked(&trace);
        let begin = events
            .iter()
            .find(|e| e["ph"] == "b" && e["id"] == early)
            .unwrap();
        assert_eq!(num(begin, "ts"), 0.0, "a lifetime from the trace's start");

        // Recording again works, and starts empty.
        let again = trace::start().stop();
        assert!(
            again.tasks.iter().all(|t| t.name.is_none()),
            "{:?}",
            again.tasks
        );
    });
}

#[test]
fn a_full_buffer_keeps_the_newest_events() {
    let rt = current_thread();
    let trace = rt.block_on(async {
        let recorder = trace::Builder::new().capacity(16).start();
        brisk::task::Builder::new()
            .name("spinner")
            .spawn(async {
                for _ in 0..100 {
                    brisk::task::yield_now().await;
                }
            })
            .await
            .unwrap();
        recorder.stop()
    });
    let spinner = id_of(&trace, "spinner");
    assert!(trace.dropped > 0);
    assert!(trace.events.len() <= 16 * trace.threads.len());
    // The newest events survive: the completion is there, the spawn is not.
    let last = trace.events.iter().rfind(|e| e.task == spinner).unwrap();
    assert_eq!(last.kind, EventKind::Complete);
    assert!(!trace
        .events
        .iter()
        .any(|e| e.task == spinner && e.kind == EventKind::Spawn));
    assert_eq!(trace.task(spinner).unwrap().polls, 101);
    parse_checked(&trace);
}

#[test]
fn a_second_recorder_on_the_same_runtime_is_refused() {
    let rt = current_thread();
    rt.block_on(async {
        let first = trace::start();
        let err = std::panic::catch_unwind(|| trace::start()).unwrap_err();
        let msg = err.downcast_ref::<String>().unwrap();
        assert!(msg.contains("already recording"), "{msg}");
        assert!(msg.contains("Recorder::stop"), "{msg}");
        // Dropping the first one stops it.
        drop(first);
        trace::start().stop();
    });
}

#[test]
fn start_outside_a_runtime_names_the_fix() {
    let err = std::panic::catch_unwind(|| trace::start()).unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(msg.contains("outside a Brisk runtime"), "{msg}");
    assert!(msg.contains("start_on"), "{msg}");
}

#[test]
fn workers_record_into_their_own_buffers() {
    let rt = brisk::Runtime::builder()
        .multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let recorder = trace::Builder::new().start_on(rt.handle());
    let names: Vec<String> = (0..8).map(|i| format!("job-{i}")).collect();
    rt.block_on(async {
        let handles: Vec<_> = names
            .iter()
            .map(|n| {
                brisk::task::Builder::new().name(n).spawn(async {
                    for _ in 0..20 {
                        brisk::task::yield_now().await;
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    });
    let trace = recorder.stop();
    assert_eq!(trace.dropped, 0);
    let mut per_thread: HashMap<u32, usize> = HashMap::new();
    for name in &names {
        let id = id_of(&trace, name);
        assert_eq!(polls_of(&trace, id), 21, "{name}");
        assert_eq!(trace.task(id).unwrap().polls, 21, "{name}");
        for e in trace.events.iter().filter(|e| e.task == id && e.is_poll()) {
            *per_thread.entry(e.thread).or_default() += 1;
        }
    }
    // Polls ran on worker threads, which are named in the trace.
    for thread in per_thread.keys() {
        let t = trace.threads.iter().find(|t| t.number == *thread).unwrap();
        assert!(t.name.is_some(), "{t:?}");
    }
    parse_checked(&trace);
}

#[test]
fn names_are_escaped_in_the_json() {
    let name = "odd \"name\"\\ with\nnewline, \u{1} and é";
    let rt = current_thread();
    let trace = rt.block_on(async {
        let recorder = trace::start();
        brisk::task::Builder::new()
            .name(name)
            .spawn(async {})
            .await
            .unwrap();
        recorder.stop()
    });
    let events = parse_checked(&trace);
    assert!(events.iter().any(|e| e["ph"] == "X" && e["name"] == name));
}
