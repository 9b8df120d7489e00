//! Every view of the console, drawn into ratatui's `TestBackend` from a
//! fixed snapshot, and the keys that change them.

use brisk_console::app::{App, ChainStep, Status, View};
use brisk_console::model::Snapshot;
use brisk_console::ui;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

/// Tasks 3 and 4 wait on a mutex held by 2, which waits on a Notify; 5
/// joins 3; 6 and 7 deadlock on two mutexes. Task 1 has poll timing and a
/// long-poll hazard; the others have none.
const SNAPSHOT: &str = r#"{"v":1,"seq":4,"unix_ms":0,
 "dump":{"runtime":"multi-thread (2 workers)","tasks":[
  {"id":1,"name":"main","location":"src/main.rs:10:5","parent":null,"kind":"task","state":"running",
   "cancelled":false,"polls":50,"wakers":{"clones":1,"wakes":49,"drops":0},"waiting_on":null,
   "busy_us":120000,"idle_us":3000,"poll_histogram_us":[0,2,0,7,1]},
  {"id":2,"name":"holder","location":"src/holder.rs:4:9","parent":1,"kind":"task","state":"idle",
   "cancelled":false,"polls":2,"wakers":{"clones":1,"wakes":1,"drops":0},
   "waiting_on":{"kind":"Notify","resource":20,"location":"src/holder.rs:8:13","holders":[],"more_holders":0},
   "scope_children":[{"name":"flush","location":"src/holder.rs:6:15","cancelled":false,"polls":3,
    "waiting_on":{"kind":"Timer","resource":31,"location":"src/holder.rs:7:9","holders":[],"more_holders":0}}]},
  {"id":3,"name":"checkout","location":"src/shop.rs:30:1","parent":1,"kind":"task","state":"idle",
   "cancelled":false,"polls":7,"wakers":{"clones":2,"wakes":5,"drops":1},
   "waiting_on":{"kind":"Mutex","resource":7,"location":"src/shop.rs:33:20","holders":[{"Task":2}],"more_holders":0,
    "chain":[{"name":"shop::checkout","location":"src/shop.rs:12:1"},{"name":"shop::reserve","location":"src/shop.rs:31:1"}]}},
  {"id":4,"name":"checkout-2","location":"src/shop.rs:30:1","parent":1,"kind":"task","state":"idle",
   "cancelled":false,"polls":1,"wakers":{"clones":0,"wakes":0,"drops":0},
   "waiting_on":{"kind":"Mutex","resource":7,"location":"src/shop.rs:33:20","holders":[{"Task":2}],"more_holders":0}},
  {"id":5,"name":null,"location":"src/report.rs:2:2","parent":1,"kind":"task","state":"idle",
   "cancelled":false,"polls":1,"wakers":{"clones":0,"wakes":0,"drops":0},
   "waiting_on":{"kind":"Task","resource":3,"location":"src/report.rs:5:5","holders":[],"more_holders":0}},
  {"id":6,"name":"left","location":"src/dead.rs:1:1","parent":1,"kind":"task","state":"idle",
   "cancelled":false,"polls":2,"wakers":{"clones":0,"wakes":0,"drops":0},
   "waiting_on":{"kind":"Mutex","resource":8,"location":"src/dead.rs:3:3","holders":[{"Task":7}],"more_holders":0}},
  {"id":7,"name":"right","location":"src/dead.rs:9:1","parent":1,"kind":"task","state":"idle",
   "cancelled":false,"polls":2,"wakers":{"clones":0,"wakes":0,"drops":0},
   "waiting_on":{"kind":"Mutex","resource":9,"location":"src/dead.rs:11:3","holders":[{"Task":6}],"more_holders":0}}
 ]},
 "hazards":[{"kind":"long_poll","task":1,"message":"a poll of main took 120 ms"},
  {"kind":"wait_cycle","task":null,"message":"wait-for cycle: task #6 waits on Mutex #8",
   "report":"digraph wait_cycle {\n  t6 -> rMutex_8 [label=\"waits\"];\n}\n"}],
 "metrics":{"workers":2,"polls":65,"steals":3,"blocking_threads":0}}"#;

fn app() -> App {
    let mut app = App::new("127.0.0.1:6669");
    app.apply(Snapshot::parse(SNAPSHOT).unwrap());
    app
}

fn key(app: &mut App, code: KeyCode) {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

/// The screen, one string per row.
fn screen(app: &App) -> Vec<String> {
    let mut terminal = Terminal::new(TestBackend::new(160, 40)).unwrap();
    terminal.draw(|f| ui::draw(f, app)).unwrap();
    let buf = terminal.backend().buffer();
    let width = buf.area.width as usize;
    buf.content()
        .chunks(width)
        .map(|row| row.iter().map(|c| c.symbol()).collect::<String>())
        .collect()
}

/// The row of the first line containing `text`.
fn row_of(screen: &[String], text: &str) -> usize {
    screen
        .iter()
        .position(|l| l.contains(text))
        .unwrap_or_else(|| panic!("{text:?} is not on the screen:\n{}", screen.join("\n")))
}

fn shows(screen: &[String], text: &str) -> bool {
    screen.iter().any(|l| l.contains(text))
}

#[test]
fn task_list_shows_every_task_with_state_polls_and_wait() {
    let app = app();
    let s = screen(&app);
    for name in ["main", "holder", "checkout", "checkout-2", "left", "right"] {
        assert!(shows(&s, name), "{name} missing:\n{}", s.join("\n"));
    }
    assert!(shows(&s, "7 tasks"));
    let checkout = &s[row_of(&s, "src/shop.rs:30:1")];
    assert!(checkout.contains("idle"), "{checkout}");
    assert!(
        checkout.contains("Mutex #7 held by #2 (holder)"),
        "{checkout}"
    );
    // Busy time where the server sends it, a dash where it does not.
    assert!(s[row_of(&s, "src/main.rs:10:5")].contains("120.0ms"));
    assert!(checkout.contains("—"), "{checkout}");
    // The hazard count and the metrics are in the header.
    assert!(shows(&s, "Hazards (2)"));
    assert!(shows(&s, "workers 2"));
    // Sort keys are listed in the footer.
    assert!(shows(&s, "p polls"));
}

#[test]
fn sort_keys_reorder_the_list() {
    let mut app = app();
    let s = screen(&app);
    assert!(row_of(&s, " main ") < row_of(&s, " holder "), "by id first");
    key(&mut app, KeyCode::Char('p'));
    let s = screen(&app);
    // Most polls first: main (50), checkout (7), then the rest.
    assert!(row_of(&s, " main ") < row_of(&s, " checkout "));
    assert!(row_of(&s, " checkout ") < row_of(&s, " holder "));
    assert!(shows(&s, "Polls▼"));
    key(&mut app, KeyCode::Char('p'));
    let s = screen(&app);
    assert!(
        row_of(&s, " checkout ") > row_of(&s, " checkout-2 "),
        "reversed"
    );
    assert!(row_of(&s, " main ") > row_of(&s, " holder "), "reversed");
    key(&mut app, KeyCode::Char('n'));
    let s = screen(&app);
    let order: Vec<usize> = ["checkout", "holder", "left", "main", "right"]
        .iter()
        .map(|n| row_of(&s, &format!(" {n} ")))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
}

#[test]
fn filter_matches_name_or_location() {
    let mut app = app();
    key(&mut app, KeyCode::Char('/'));
    typed(&mut app, "CHECK");
    assert!(shows(&screen(&app), "filter: CHECK"));
    key(&mut app, KeyCode::Enter);
    let s = screen(&app);
    assert!(shows(&s, "checkout-2"));
    assert!(!shows(&s, "holder.rs"), "{}", s.join("\n"));
    assert!(shows(&s, "Tasks (2 of 7"));
    // By location.
    key(&mut app, KeyCode::Char('/'));
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('/'));
    typed(&mut app, "dead.rs");
    key(&mut app, KeyCode::Enter);
    let s = screen(&app);
    assert!(shows(&s, "left") && shows(&s, "right"));
    assert!(!shows(&s, "checkout"));
    // Esc in the list clears it.
    key(&mut app, KeyCode::Esc);
    assert!(shows(&screen(&app), "checkout"));
}

#[test]
fn detail_shows_the_wait_chain_wakes_and_histogram() {
    let mut app = app();
    key(&mut app, KeyCode::Char('/'));
    typed(&mut app, "report");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.view, View::Detail(5));
    let s = screen(&app);
    // 5 joins 3, which waits on the mutex held by 2, which waits on a Notify.
    let a = row_of(&s, "#5 waits on Task #3 at src/report.rs:5:5");
    let b = row_of(
        &s,
        "→ #3 (checkout) waits on Mutex #7 at src/shop.rs:33:20 in shop::reserve, held by #2 (holder)",
    );
    let c = row_of(&s, "→ #2 (holder) waits on Notify #20");
    assert!(a < b && b < c);
    assert!(shows(&s, "parent     #1 (main)"));
    assert!(shows(&s, "—"), "no busy time: a dash");

    key(&mut app, KeyCode::Esc);
    assert_eq!(app.view, View::Tasks);
    key(&mut app, KeyCode::Esc); // clears the filter
    key(&mut app, KeyCode::Home);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.view, View::Detail(1));
    let s = screen(&app);
    assert!(shows(&s, "clone 1   wake 49   drop 0"));
    assert!(shows(&s, "busy 120.0ms   idle 3.0ms"));
    // Buckets 1 to 4: [2µs, 4µs) ... [16µs, 32µs).
    let row = &s[row_of(&s, "8µs–16µs")];
    assert!(row.contains("█") && row.trim_end().ends_with(" 7"), "{row}");
    assert!(shows(&s, "long_poll: a poll of main took 120 ms"));
}

#[test]
fn detail_lists_the_scope_children_of_a_task() {
    let mut app = app();
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.view, View::Detail(2));
    let s = screen(&app);
    let heading = row_of(&s, "Scope children");
    let child = row_of(
        &s,
        "`flush` spawned at src/holder.rs:6:15, 3 polls, waits on Timer #31 at src/holder.rs:7:9",
    );
    assert!(heading < child);
}

#[test]
fn detail_shows_the_await_chain_through_traced_functions() {
    let mut app = app();
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.view, View::Detail(3));
    let s = screen(&app);
    let outer = row_of(&s, "shop::checkout (src/shop.rs:12:1)");
    let inner = row_of(&s, "shop::reserve (src/shop.rs:31:1)");
    assert!(outer < inner);
    assert!(row_of(&s, "awaiting in") < outer);
}

#[test]
fn detail_names_a_deadlock_cycle() {
    let app = app();
    assert_eq!(
        app.wait_chain(6)
            .iter()
            .map(|s| match s {
                ChainStep::Task { id, .. } => *id,
                ChainStep::Cycle(id) => 100 + id,
                _ => 0,
            })
            .collect::<Vec<_>>(),
        vec![6, 7, 106]
    );
    let mut app = app;
    key(&mut app, KeyCode::Char('/'));
    typed(&mut app, "left");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    let s = screen(&app);
    assert!(shows(&s, "→ #7 (right) waits on Mutex #9"));
    assert!(shows(&s, "#6 (left) again: a deadlock cycle"));
}

#[test]
fn resources_view_lists_holders_and_waiters() {
    let mut app = app();
    key(&mut app, KeyCode::Char('2'));
    let s = screen(&app);
    let row = &s[row_of(&s, "Mutex #7")];
    assert!(row.contains("#2 (holder)"), "{row}");
    assert!(row.contains("#3 (checkout), #4 (checkout-2)"), "{row}");
    // The most contended resource first; a joined task is held by itself.
    assert!(row_of(&s, "Mutex #7") < row_of(&s, "Mutex #8"));
    assert!(s[row_of(&s, "Task #3")].contains("#3 (checkout)"));
    assert!(s[row_of(&s, "Notify #20")].contains("—"));
    // Enter opens the first waiter.
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.view, View::Detail(3));
}

#[test]
fn hazards_view_and_connection_status() {
    let mut app = app();
    key(&mut app, KeyCode::Char('3'));
    let s = screen(&app);
    let row = &s[row_of(&s, "long_poll")];
    assert!(
        row.contains("#1 (main)") && row.contains("took 120 ms"),
        "{row}"
    );
    // No report for a long poll; the cycle's graph under the table.
    assert!(!shows(&s, "digraph"));
    key(&mut app, KeyCode::Down);
    let s = screen(&app);
    assert!(s[row_of(&s, "wait_cycle")].contains("Mutex #8"));
    assert!(shows(&s, " Report "));
    assert!(shows(&s, "digraph wait_cycle {"));
    assert!(shows(&s, "t6 -> rMutex_8"));

    app.status = Status::Disconnected("connection refused".into());
    assert!(shows(
        &screen(&app),
        "disconnected (connection refused), retrying"
    ));

    let mut fresh = App::new("127.0.0.1:1");
    fresh.status = Status::Disconnected("connection refused".into());
    assert!(shows(&screen(&fresh), "Cannot reach 127.0.0.1:1"));
    key(&mut fresh, KeyCode::Char('q'));
    assert!(fresh.quit);
}

#[test]
fn selection_follows_the_task_across_snapshots() {
    let mut app = app();
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    assert_eq!(app.selected_task(), Some(3));
    // Task 2 finished: the cursor stays on task 3.
    let mut next = Snapshot::parse(SNAPSHOT).unwrap();
    next.dump.tasks.retain(|t| t.id != 2);
    app.apply(next);
    assert_eq!(app.selected_task(), Some(3));
}
