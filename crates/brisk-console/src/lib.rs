//! # brisk-console
//!
//! A terminal UI for a live Brisk runtime: every task, what it waits on and
//! who holds that, the resources tasks wait on, and hazard warnings,
//! updated four times a second.
//!
//! Turn the server on in the application — one line in code,
//! `let _console = brisk::diag::console::serve()?;`, or no code at all:
//!
//! ```text
//! BRISK_CONSOLE=127.0.0.1:6669 ./my-app
//! ```
//!
//! then, in another terminal:
//!
//! ```text
//! brisk-console                   # connects to 127.0.0.1:6669
//! brisk-console 127.0.0.1:7000    # another address (or just a port: 7000)
//! ```
//!
//! The console keeps trying while the application is not running yet, and
//! reconnects when it restarts; the last snapshot stays on screen meanwhile.
//!
//! ## Views
//! - **Tasks** (`1`): id, name, state, polls, busy and idle time, what the
//!   task waits on (and who holds it), where it was spawned. Sortable and
//!   filterable.
//! - **Task detail** (`Enter` on a task): id, name, location, parent, state,
//!   polls, wakes (waker clones, wakes, drops), the wait-point with the
//!   `#[brisk::traced]` functions it is awaited in, the *wait chain* — what the task waits on, who holds that, what the holder waits
//!   on, and so on, ending in a deadlock cycle if there is one — and a
//!   histogram of poll times.
//! - **Resources** (`2`): each resource some task waits on, with its holders
//!   and its waiters, the most contended first.
//! - **Hazards** (`3`): warnings the runtime reports (long polls, lost
//!   wakers, ...), with the task concerned.
//!
//! Values the server does not send (busy time and poll histograms come
//! only from runtimes that time their polls) show as "—".
//!
//! ## Keys
//! | key | does |
//! |---|---|
//! | `q`, `Ctrl-C` | quit (the terminal is restored, also after a panic) |
//! | `1` `2` `3`, `Tab` | tasks, resources, hazards |
//! | `↑` `↓` / `k` `j`, `PgUp` `PgDn`, `Home` `End` / `g` `G` | move the selection |
//! | `Enter` / `→` | open the task's detail (from resources: the first waiter; from hazards: the task) |
//! | `Esc` / `←` / `Backspace` | back to the list; in the list, clear the filter |
//! | `/` | filter the tasks: type text matched against name and location, `Enter` keeps it, `Esc` clears it |
//! | `i` `n` `s` `p` `b` | sort by id, name, state, polls, busy time; the same key again reverses |
//!
//! ## The protocol
//! Newline-delimited JSON over TCP, one snapshot per line, described in
//! `brisk::diag::console`. The console reads it into its own structs
//! ([`model`]) where every field has a default, so it works with servers
//! older or newer than itself.
//!
//! ## As a library
//! [`app::App`] holds the state and handles keys, [`ui::draw`] draws it into
//! any ratatui backend, and [`client`] runs the connection; the binary only
//! wires them to the terminal. That keeps every view testable against
//! ratatui's `TestBackend`:
//!
//! ```
//! use brisk_console::{app::App, model::Snapshot, ui};
//! use ratatui::{backend::TestBackend, Terminal};
//!
//! let mut app = App::new("127.0.0.1:6669");
//! app.apply(Snapshot::parse(r#"{"v":1,"dump":{"runtime":"rt","tasks":[
//!     {"id":1,"name":"checkout","state":"idle","location":"src/main.rs:3:5"}]}}"#).unwrap());
//! let mut terminal = Terminal::new(TestBackend::new(100, 10)).unwrap();
//! terminal.draw(|f| ui::draw(f, &app)).unwrap();
//! let screen: String = terminal.backend().buffer().content().iter().map(|c| c.symbol()).collect();
//! assert!(screen.contains("checkout"));
//! ```
//!
//! ## Dependencies
//! `ratatui` (without default features: only its crossterm backend, whose
//! re-export `ratatui::crossterm` is used so the two always match) for the
//! terminal, `serde` and `serde_json` for the protocol.

pub mod app;
pub mod client;
pub mod model;
pub mod ui;
