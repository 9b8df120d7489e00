//! Task dumps: what each task waits on and who holds it, the task tree,
//! deadlock cycles over Brisk locks, serde, and the dump on a signal.

mod support;

use brisk::diag::Holder;
use brisk::sync::Mutex;
use brisk::task::Builder;
use brisk::time::sleep;
use std::sync::Arc;
use std::time::Duration;
use support::{runtimes, within};

/// The indentation (in spaces) of the line of `text` that holds byte `at`.
fn indent(text: &str, at: usize) -> usize {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..].chars().take_while(|c| *c == ' ').count()
}

#[test]
fn dump_names_waits_holders_and_the_deadlock_cycle() {
    for (name, rt) in runtimes() {
        within(support::LIMIT, move || {
            rt.block_on(async move {
                let a = Arc::new(Mutex::new(()));
                let b = Arc::new(Mutex::new(()));
                let (a1, b1, a2, b2) = (a.clone(), b.clone(), a.clone(), b.clone());
                let left = Builder::new().name("left").spawn(async move {
                    let _ga = a1.lock().await;
                    sleep(Duration::from_millis(20)).await;
                    let _gb = b1.lock().await;
                });
                let right = Builder::new().name("right").spawn(async move {
                    let _gb = b2.lock().await;
                    sleep(Duration::from_millis(20)).await;
                    let _ga = a2.lock().await;
                });
                // Wait until both are stuck on the second lock.
                let dump = loop {
                    sleep(Duration::from_millis(5)).await;
                    let d = brisk::diag::dump();
                    let stuck = d
                        .tasks
                        .iter()
                        .filter(|t| t.waiting_on.as_ref().is_some_and(|w| w.kind == "Mutex"))
                        .count();
                    if stuck == 2 {
                        break d;
                    }
                };
                let l = dump
                    .tasks
                    .iter()
                    .find(|t| t.name.as_deref() == Some("left"))
                    .unwrap();
                let r = dump
                    .tasks
                    .iter()
                    .find(|t| t.name.as_deref() == Some("right"))
                    .unwrap();
                let lw = l.waiting_on.as_ref().unwrap();
                assert_eq!(lw.holders, vec![Holder::Task(r.id)], "{name}");
                assert!(lw.location.contains("diag_dump.rs"), "{}", lw.location);
                let mut ids = vec![l.id, r.id];
                ids.sort();
                assert_eq!(dump.wait_for_cycles(), vec![ids], "{name}");
                let text = dump.to_string();
                assert!(text.contains("DEADLOCK"), "{text}");
                // Holders are named: each waits on a lock held by the other.
                assert!(
                    text.contains(&format!("held by task #{} (right)", r.id))
                        && text.contains(&format!("held by task #{} (left)", l.id)),
                    "{text}"
                );
                let dot = dump.to_dot();
                assert!(dot.contains("color=red"), "{dot}");
                let json = serde_json::to_string(&dump).unwrap();
                assert!(json.contains("\"waiting_on\""), "{json}");
                left.abort();
                right.abort();
                let _ = left.await;
                let _ = right.await;
            })
        });
    }
}

#[test]
fn healthy_waits_report_no_cycle_and_children_print_under_parents() {
    within(support::LIMIT, || {
        brisk::Runtime::builder()
            .current_thread()
            .build()
            .unwrap()
            .block_on(async {
                let lock = Arc::new(Mutex::new(0));
                let guard = lock.clone().lock_owned().await;
                let l2 = lock.clone();
                let parent = Builder::new().name("parent").spawn(async move {
                    let child = Builder::new()
                        .name("child")
                        .spawn(async move { *l2.lock().await += 1 });
                    child.await.unwrap();
                });
                sleep(Duration::from_millis(5)).await;
                let dump = brisk::diag::dump();
                assert!(dump.wait_for_cycles().is_empty());
                let text = dump.to_string();
                let p = text.find("(parent)").expect("parent listed");
                let c = text.find("(child)").expect("child listed");
                assert!(p < c, "{text}");
                // The child is indented one level deeper than its parent.
                assert_eq!(indent(&text, c), indent(&text, p) + 2, "{text}");
                let child = dump
                    .tasks
                    .iter()
                    .find(|t| t.name.as_deref() == Some("child"))
                    .unwrap();
                let w = child.waiting_on.as_ref().unwrap();
                assert_eq!(
                    w.holders,
                    vec![Holder::Thread],
                    "the lock is held by the block_on root"
                );
                drop(guard);
                parent.await.unwrap();
                assert!(brisk::diag::try_dump().is_some());
            });
        assert!(brisk::diag::try_dump().is_none());
    });
}

/// A task whose parent finished is listed at the top, and says whose it
/// was.
#[test]
fn an_orphan_names_its_finished_parent() {
    within(support::LIMIT, || {
        brisk::Runtime::builder()
            .current_thread()
            .build()
            .unwrap()
            .block_on(async {
                let (tx, rx) = brisk::sync::oneshot::channel::<()>();
                let parent = Builder::new().name("parent").spawn(async move {
                    let orphan = Builder::new().name("orphan").spawn(async move {
                        let _ = rx.await;
                    });
                    // Handed out, not awaited: the parent finishes first.
                    Some(orphan)
                });
                let parent_id = parent.id();
                let orphan = parent.await.unwrap().unwrap();
                let text = brisk::diag::dump().to_string();
                let line = text
                    .lines()
                    .find(|l| l.contains("(orphan)"))
                    .unwrap_or_else(|| panic!("orphan missing: {text}"));
                assert!(
                    line.contains(&format!("by task {parent_id} (finished)")),
                    "{line}"
                );
                assert_eq!(indent(&text, text.find("(orphan)").unwrap()), 2, "{text}");
                tx.send(()).unwrap();
                orphan.await.unwrap();
            });
    });
}

/// Scope children are not tasks, yet a dump lists each one under the task
/// that runs its scope, with what it waits on, and a deadlock through a
/// scope child is a cycle of its task.
#[test]
fn scope_children_are_listed_under_their_task_with_their_waits() {
    for (name, rt) in runtimes() {
        within(support::LIMIT, move || {
            rt.block_on(async move {
                let gate = Arc::new(Mutex::new(()));
                let inner = Arc::new(Mutex::new(()));
                let (go, go_rx) = brisk::sync::oneshot::channel::<()>();
                // "holder" takes `gate`, then (on `go`) waits on `inner`.
                let (g1, i1) = (gate.clone(), inner.clone());
                let holder = Builder::new().name("holder").spawn(async move {
                    let _g = g1.lock().await;
                    let _ = go_rx.await;
                    let _i = i1.lock().await;
                });
                // "server": its scope's body holds `inner` while the child
                // "handler" waits on `gate`.
                let (g2, i2) = (gate.clone(), inner.clone());
                let server = Builder::new().name("server").spawn(async move {
                    brisk::scope(|s| async move {
                        let _inner = i2.lock().await;
                        s.spawn_named("handler", async move {
                            let _g = g2.lock().await;
                        });
                        s.spawn(sleep(Duration::from_secs(3600)));
                        // Group members are tasks: children of this task.
                        let mut group = brisk::task::TaskGroup::new();
                        group.spawn_named("worker", sleep(Duration::from_secs(3600)));
                        sleep(Duration::from_secs(3600)).await;
                        group.abort_all();
                    })
                    .await
                });
                let dump = loop {
                    sleep(Duration::from_millis(2)).await;
                    let d = brisk::diag::dump();
                    let worker = d.tasks.iter().any(|t| t.name.as_deref() == Some("worker"));
                    let ready = worker
                        && d.tasks.iter().any(|t| {
                            t.name.as_deref() == Some("server")
                                && t.state == "idle"
                                && t.scope_children.len() == 2
                                && t.scope_children.iter().all(|c| c.waiting_on.is_some())
                        });
                    if ready {
                        break d;
                    }
                };
                let id_of = |d: &brisk::diag::Dump, n: &str| {
                    d.tasks
                        .iter()
                        .find(|t| t.name.as_deref() == Some(n))
                        .unwrap()
                        .id
                };
                let task = dump.task(id_of(&dump, "server")).unwrap();
                let worker = dump.task(id_of(&dump, "worker")).unwrap();
                assert_eq!(worker.parent, Some(task.id), "{name}");
                assert_eq!(task.waiting_on.as_ref().unwrap().kind, "Scope", "{name}");
                let handler = &task.scope_children[0];
                assert_eq!(handler.name.as_deref(), Some("handler"), "{name}");
                assert!(handler.location.contains("diag_dump.rs"), "{handler:?}");
                assert!(handler.scope_location.contains("diag_dump.rs"));
                assert!(!handler.cancelled);
                assert!(handler.polls >= 1);
                let w = handler.waiting_on.as_ref().unwrap();
                assert_eq!(w.kind, "Mutex", "{name}");
                assert_eq!(w.holders, vec![Holder::Task(id_of(&dump, "holder"))]);
                let sleeper = &task.scope_children[1];
                assert_eq!(sleeper.name, None);
                // The task waits on its scope, which both children name.
                let scope = task.waiting_on.as_ref().unwrap().resource;
                assert_eq!((handler.scope, sleeper.scope), (scope, scope), "{name}");
                assert_ne!(handler.id, sleeper.id);
                assert!(![0, scope].contains(&handler.id), "{name}");
                assert_eq!(sleeper.waiting_on.as_ref().unwrap().kind, "Timer");
                assert!(dump.wait_for_cycles().is_empty(), "{dump}");

                // Printed one level under the task, with the wait.
                let text = dump.to_string();
                let t = text.find("(server)").expect("server listed");
                let c = text
                    .find(&format!("scope child #{} `handler`", handler.id))
                    .expect("child listed");
                assert!(t < c, "{text}");
                assert_eq!(indent(&text, c), indent(&text, t) + 2, "{text}");
                let line = text[c..].lines().next().unwrap();
                assert!(line.contains("waits on Mutex #"), "{line}");
                let json = serde_json::to_string(&dump).unwrap();
                assert!(json.contains("\"scope_children\""), "{json}");

                // "holder" now waits on `inner`, held by the server's scope:
                // server -> holder (through "handler") -> server.
                go.send(()).unwrap();
                let (cycle, d) = loop {
                    sleep(Duration::from_millis(2)).await;
                    let d = brisk::diag::dump();
                    if let Some(c) = d.wait_for_cycles().into_iter().next() {
                        break (c, d);
                    }
                };
                let mut expected = vec![id_of(&d, "server"), id_of(&d, "holder")];
                expected.sort();
                assert_eq!(cycle, expected, "{name}: {d}");

                server.abort();
                holder.abort();
                let _ = server.await;
                let _ = holder.await;
                let d = brisk::diag::dump();
                assert!(d.tasks.iter().all(|t| t.scope_children.is_empty()), "{d}");
            })
        });
    }
}

/// A scope child awaiting a sibling's handle waits on that sibling, by
/// the id the dump lists it with: at its `.await`, or where the sibling
/// was spawned when Brisk's own code polls the handle (here `join_all`).
#[test]
fn a_scope_child_awaiting_a_sibling_names_it() {
    for (name, rt) in runtimes() {
        within(support::LIMIT, move || {
            rt.block_on(async move {
                let task = Builder::new().name("scoped").spawn(async move {
                    brisk::scope(|s| async move {
                        let slow = s.spawn_named("slow", sleep(Duration::from_secs(3600)));
                        let slower = s.spawn_named("slower", sleep(Duration::from_secs(3600)));
                        s.spawn_named("direct", async move {
                            let _ = slow.await;
                        });
                        s.spawn_named("through-join-all", async move {
                            let _ = brisk::future::join_all([slower]).await;
                        });
                    })
                    .await
                });
                let children = loop {
                    sleep(Duration::from_millis(2)).await;
                    let d = brisk::diag::dump();
                    let t = d.tasks.iter().find(|t| t.name.as_deref() == Some("scoped"));
                    if let Some(t) = t.filter(|t| t.state == "idle") {
                        let c = t.scope_children.clone();
                        if c.len() == 4 && c.iter().all(|c| c.waiting_on.is_some()) {
                            break c;
                        }
                    }
                };
                let child = |n: &str| {
                    children
                        .iter()
                        .find(|c| c.name.as_deref() == Some(n))
                        .unwrap()
                        .clone()
                };
                let (slow, slower) = (child("slow"), child("slower"));
                let direct = child("direct").waiting_on.unwrap();
                assert_eq!((direct.kind, direct.resource), ("Scope", slow.id), "{name}");
                assert!(direct.location.contains("diag_dump.rs"), "{direct:?}");
                assert_ne!(direct.location, slow.location, "the `.await`, {name}");
                let through = child("through-join-all").waiting_on.unwrap();
                assert_eq!((through.kind, through.resource), ("Scope", slower.id));
                assert_eq!(through.location, slower.location, "{name}");
                task.abort();
                let _ = task.await;
            })
        });
    }
}

/// A finished scope child leaves the dump; its siblings stay.
#[test]
fn a_finished_scope_child_leaves_the_dump() {
    within(support::LIMIT, || {
        brisk::Runtime::builder()
            .current_thread()
            .build()
            .unwrap()
            .block_on(async {
                let (tx, rx) = brisk::sync::oneshot::channel::<()>();
                let task = Builder::new().name("scoped").spawn(async move {
                    brisk::scope(|s| async move {
                        s.spawn_named("quick", async move {
                            let _ = rx.await;
                        });
                        s.spawn_named("slow", sleep(Duration::from_millis(50)));
                    })
                    .await
                });
                let names = || {
                    let d = brisk::diag::dump();
                    d.tasks
                        .iter()
                        .find(|t| t.name.as_deref() == Some("scoped"))
                        .map(|t| {
                            t.scope_children
                                .iter()
                                .map(|c| c.name.clone().unwrap())
                                .collect::<Vec<_>>()
                        })
                };
                while names() != Some(vec!["quick".to_string(), "slow".to_string()]) {
                    brisk::task::yield_now().await;
                }
                tx.send(()).unwrap();
                while names() != Some(vec!["slow".to_string()]) {
                    brisk::task::yield_now().await;
                }
                task.await.unwrap();
            });
    });
}

#[cfg(unix)]
#[test]
fn a_signal_prints_a_dump_from_its_own_thread_even_when_workers_are_stuck() {
    dump_on(brisk::diag::DumpSignal::User1, "-USR1");
}

/// SIGQUIT, as Go and the JVM use it: the handler takes it (the process
/// is not killed) and prints the dump.
#[cfg(unix)]
#[test]
fn sigquit_prints_a_dump_and_does_not_kill_the_process() {
    dump_on(brisk::diag::DumpSignal::Quit, "-QUIT");
}

/// Installs the dump handler for `signal`, blocks the only scheduler
/// thread and sends the signal (`kill <flag>`): the dump must arrive.
#[cfg(unix)]
fn dump_on(signal: brisk::diag::DumpSignal, flag: &'static str) {
    use std::io::Write;
    #[derive(Clone, Default)]
    struct Sink(Arc<std::sync::Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    within(support::LIMIT, move || {
        let rt = brisk::Runtime::builder().current_thread().build().unwrap();
        let sink = Sink::default();
        let guard =
            brisk::diag::dump_on_signal_to(rt.handle().clone(), signal, sink.clone()).unwrap();
        let out = sink.clone();
        rt.block_on(async move {
            let _stuck = Builder::new().name("stuck-worker").spawn(async {
                std::future::pending::<()>().await;
            });
            brisk::task::yield_now().await;
            // Block the only scheduler thread, then raise the signal: the
            // dump must still arrive.
            let pid = std::process::id();
            std::process::Command::new("kill")
                .args([flag, &pid.to_string()])
                .status()
                .unwrap();
            for _ in 0..500 {
                if String::from_utf8_lossy(&out.0.lock().unwrap()).contains("stuck-worker") {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        drop(guard);
        let text = String::from_utf8_lossy(&sink.0.lock().unwrap()).into_owned();
        assert!(text.contains("brisk task dump"), "{text}");
        assert!(text.contains("(stuck-worker)"), "{text}");
    });
}

/// The benchmark-only switch turns the registry and the wait-points off:
/// tasks run and finish, but no dump lists them.
#[test]
fn an_untracked_runtime_lists_no_task_and_records_no_wait() {
    for current in [true, false] {
        let mut b = brisk::Runtime::builder();
        if current {
            b.current_thread();
        } else {
            b.multi_thread().worker_threads(2);
        }
        let rt = b.untracked_for_benchmarks().build().unwrap();
        let sum = rt.block_on(async {
            let (tx, rx) = brisk::sync::oneshot::channel::<u32>();
            let waiter = brisk::spawn(async move { rx.await.unwrap() + 1 });
            brisk::task::yield_now().await;
            assert!(brisk::diag::dump().tasks.is_empty());
            tx.send(41).unwrap();
            waiter.await.unwrap()
        });
        assert_eq!(sum, 42);
        assert!(rt.shutdown_timeout(Duration::from_secs(5)).is_clean());
    }
}
