//! The console's state: the latest snapshot, the connection, the view, the
//! sort order, the filter and the selection; and what each key does.

use crate::model::{Holder, Snapshot, Task, Wait};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::collections::{BTreeMap, BTreeSet};

/// Which screen is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// The task list.
    Tasks,
    /// One task in detail, by id.
    Detail(u64),
    /// Resources with their holders and waiters.
    Resources,
    /// Hazard warnings.
    Hazards,
}

/// What the task list is sorted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    /// Task id (key `i`).
    Id,
    /// Name, unnamed last (key `n`).
    Name,
    /// State: running, scheduled, idle, complete (key `s`).
    State,
    /// Poll count, most first (key `p`).
    Polls,
    /// Busy time, most first (key `b`).
    Busy,
}

impl SortKey {
    /// The key that selects it.
    pub fn key(self) -> char {
        match self {
            SortKey::Id => 'i',
            SortKey::Name => 'n',
            SortKey::State => 's',
            SortKey::Polls => 'p',
            SortKey::Busy => 'b',
        }
    }

    fn from_key(c: char) -> Option<SortKey> {
        Some(match c {
            'i' => SortKey::Id,
            'n' => SortKey::Name,
            's' => SortKey::State,
            'p' => SortKey::Polls,
            'b' => SortKey::Busy,
            _ => return None,
        })
    }

    /// Numbers read best largest first; words and ids smallest first.
    fn descending_by_default(self) -> bool {
        matches!(self, SortKey::Polls | SortKey::Busy)
    }
}

/// The connection to the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Not connected yet.
    Connecting,
    /// Connected; snapshots arrive.
    Connected,
    /// The server went away or cannot be reached; the console retries.
    Disconnected(String),
}

/// A resource some task waits on, with its holders and waiters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// Its kind.
    pub kind: String,
    /// Its id.
    pub id: u64,
    /// Who holds it (for `Task` resources: the awaited task itself).
    pub holders: Vec<Holder>,
    /// Holders beyond those listed.
    pub more_holders: u64,
    /// The tasks waiting on it, by id.
    pub waiters: Vec<u64>,
}

/// One step of a wait chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainStep {
    /// A task and what it waits on (`None`: it waits on nothing known).
    Task {
        /// The task's id.
        id: u64,
        /// Its wait, if any.
        wait: Option<Wait>,
    },
    /// The chain returned to a task already in it: a deadlock.
    Cycle(u64),
    /// The resource is held by a thread outside any task.
    Thread,
    /// The next task is no longer in the snapshot.
    Gone(u64),
}

/// The console's state.
#[derive(Debug)]
pub struct App {
    /// The server's address, as given.
    pub addr: String,
    /// The latest snapshot.
    pub snapshot: Option<Snapshot>,
    /// The connection.
    pub status: Status,
    /// The screen.
    pub view: View,
    /// The task list's order.
    pub sort: SortKey,
    /// Whether the order is reversed from smallest first.
    pub descending: bool,
    /// The filter text (matches name or location, ignoring case).
    pub filter: String,
    /// True while the filter is being typed (after `/`).
    pub editing_filter: bool,
    /// The selected row of the current list.
    pub selected: usize,
    /// The selected task, kept across snapshots.
    selected_task: Option<u64>,
    /// Set by `q`: the main loop ends.
    pub quit: bool,
}

impl App {
    /// A console for the server at `addr`, with no snapshot yet.
    pub fn new(addr: impl Into<String>) -> App {
        App {
            addr: addr.into(),
            snapshot: None,
            status: Status::Connecting,
            view: View::Tasks,
            sort: SortKey::Id,
            descending: false,
            filter: String::new(),
            editing_filter: false,
            selected: 0,
            selected_task: None,
            quit: false,
        }
    }

    /// Takes a new snapshot; the selected task stays selected.
    pub fn apply(&mut self, snapshot: Snapshot) {
        self.snapshot = Some(snapshot);
        self.status = Status::Connected;
        self.reselect();
    }

    /// The tasks the list shows: filtered, then sorted.
    pub fn visible_tasks(&self) -> Vec<&Task> {
        let Some(s) = &self.snapshot else {
            return Vec::new();
        };
        let needle = self.filter.to_lowercase();
        let mut tasks: Vec<&Task> = s
            .dump
            .tasks
            .iter()
            .filter(|t| {
                needle.is_empty()
                    || t.location.to_lowercase().contains(&needle)
                    || t.name
                        .as_deref()
                        .is_some_and(|n| n.to_lowercase().contains(&needle))
            })
            .collect();
        tasks.sort_by(|a, b| {
            let ord = match self.sort {
                SortKey::Id => a.id.cmp(&b.id),
                SortKey::Name => (a.name.is_none(), &a.name).cmp(&(b.name.is_none(), &b.name)),
                SortKey::State => state_rank(&a.state).cmp(&state_rank(&b.state)),
                SortKey::Polls => a.polls.cmp(&b.polls),
                SortKey::Busy => a.busy_us.cmp(&b.busy_us),
            };
            let ord = if self.descending { ord.reverse() } else { ord };
            ord.then(a.id.cmp(&b.id))
        });
        tasks
    }

    /// Every resource a task waits on (except plain yields), the most
    /// waited-on first, with its holders and waiters: the dump inverted.
    pub fn resources(&self) -> Vec<Resource> {
        let Some(s) = &self.snapshot else {
            return Vec::new();
        };
        let mut by_id: BTreeMap<(String, u64), Resource> = BTreeMap::new();
        for t in &s.dump.tasks {
            let Some(w) = &t.waiting_on else { continue };
            if w.kind == "Yield" {
                continue;
            }
            let r = by_id
                .entry((w.kind.clone(), w.resource))
                .or_insert_with(|| Resource {
                    kind: w.kind.clone(),
                    id: w.resource,
                    holders: if w.kind == "Task" {
                        vec![Holder::Task(w.resource)]
                    } else {
                        Vec::new()
                    },
                    more_holders: 0,
                    waiters: Vec::new(),
                });
            for h in &w.holders {
                if !r.holders.contains(h) {
                    r.holders.push(*h);
                }
            }
            r.more_holders = r.more_holders.max(w.more_holders);
            r.waiters.push(t.id);
        }
        let mut out: Vec<Resource> = by_id.into_values().collect();
        out.sort_by(|a, b| {
            b.waiters
                .len()
                .cmp(&a.waiters.len())
                .then_with(|| (&a.kind, a.id).cmp(&(&b.kind, b.id)))
        });
        out
    }

    /// The wait chain from task `id`: its wait, then the holder of what it
    /// waits on and that holder's wait, and so on, until a task waits on
    /// nothing known, a thread holds the resource, or the chain closes into
    /// a cycle. For resources with several holders the first is followed.
    pub fn wait_chain(&self, id: u64) -> Vec<ChainStep> {
        let Some(s) = &self.snapshot else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        let mut cur = id;
        loop {
            if !seen.insert(cur) {
                out.push(ChainStep::Cycle(cur));
                break;
            }
            let Some(t) = s.task(cur) else {
                out.push(ChainStep::Gone(cur));
                break;
            };
            let wait = t.waiting_on.clone();
            let next = wait.as_ref().and_then(|w| {
                if w.kind == "Task" {
                    Some(Holder::Task(w.resource))
                } else {
                    w.holders.first().copied()
                }
            });
            out.push(ChainStep::Task { id: cur, wait });
            match next {
                Some(Holder::Task(n)) => cur = n,
                Some(Holder::Thread) => {
                    out.push(ChainStep::Thread);
                    break;
                }
                _ => break,
            }
        }
        out
    }

    /// How many rows the current list has.
    fn rows(&self) -> usize {
        match self.view {
            View::Tasks => self.visible_tasks().len(),
            View::Resources => self.resources().len(),
            View::Hazards => self.snapshot.as_ref().map_or(0, |s| s.hazards.len()),
            View::Detail(_) => 0,
        }
    }

    /// The task the cursor is on, in the task list.
    pub fn selected_task(&self) -> Option<u64> {
        self.visible_tasks().get(self.selected).map(|t| t.id)
    }

    fn remember(&mut self) {
        if self.view == View::Tasks {
            self.selected_task = self.selected_task();
        }
    }

    /// Puts the cursor back on the remembered task after the list changed.
    fn reselect(&mut self) {
        if self.view == View::Tasks {
            if let Some(id) = self.selected_task {
                if let Some(i) = self.visible_tasks().iter().position(|t| t.id == id) {
                    self.selected = i;
                }
            }
        }
        self.selected = self.selected.min(self.rows().saturating_sub(1));
    }

    fn switch(&mut self, view: View) {
        if self.view != view {
            self.view = view;
            self.selected = 0;
            self.reselect();
        }
    }

    /// Handles one key press.
    pub fn handle_key(&mut self, key: KeyEvent) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.quit = true;
            return;
        }
        if self.editing_filter {
            match key.code {
                KeyCode::Enter => self.editing_filter = false,
                KeyCode::Esc => {
                    self.editing_filter = false;
                    self.filter.clear();
                }
                KeyCode::Backspace => {
                    self.filter.pop();
                }
                KeyCode::Char(c) => self.filter.push(c),
                _ => return,
            }
            self.selected = 0;
            self.reselect();
            return;
        }
        let rows = self.rows();
        match key.code {
            KeyCode::Char('q') => self.quit = true,
            KeyCode::Char('1') => self.switch(View::Tasks),
            KeyCode::Char('2') => self.switch(View::Resources),
            KeyCode::Char('3') => self.switch(View::Hazards),
            KeyCode::Tab => self.switch(match self.view {
                View::Tasks | View::Detail(_) => View::Resources,
                View::Resources => View::Hazards,
                View::Hazards => View::Tasks,
            }),
            KeyCode::Esc | KeyCode::Backspace | KeyCode::Left => {
                if let View::Detail(_) = self.view {
                    self.switch(View::Tasks);
                } else if self.view == View::Tasks && !self.filter.is_empty() {
                    self.filter.clear();
                    self.reselect();
                }
            }
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => {
                self.selected = (self.selected + 1).min(rows.saturating_sub(1));
            }
            KeyCode::PageUp => self.selected = self.selected.saturating_sub(10),
            KeyCode::PageDown => self.selected = (self.selected + 10).min(rows.saturating_sub(1)),
            KeyCode::Home | KeyCode::Char('g') => self.selected = 0,
            KeyCode::End | KeyCode::Char('G') => self.selected = rows.saturating_sub(1),
            KeyCode::Enter | KeyCode::Right => self.open_detail(),
            KeyCode::Char('/') if self.view == View::Tasks => {
                self.editing_filter = true;
            }
            KeyCode::Char(c) if self.view == View::Tasks => {
                if let Some(key) = SortKey::from_key(c) {
                    if self.sort == key {
                        self.descending = !self.descending;
                    } else {
                        self.sort = key;
                        self.descending = key.descending_by_default();
                    }
                    self.reselect();
                }
            }
            _ => {}
        }
        self.remember();
    }

    /// Enter: a task's detail from the task list, a resource's first waiter
    /// from the resources view, a hazard's task from the hazards view.
    fn open_detail(&mut self) {
        let target = match self.view {
            View::Tasks => self.selected_task(),
            View::Resources => self
                .resources()
                .get(self.selected)
                .and_then(|r| r.waiters.first().copied()),
            View::Hazards => self
                .snapshot
                .as_ref()
                .and_then(|s| s.hazards.get(self.selected))
                .and_then(|h| h.task),
            View::Detail(_) => None,
        };
        if let Some(id) = target {
            if self.view != View::Tasks {
                self.switch(View::Tasks);
                self.selected_task = Some(id);
                self.reselect();
            }
            self.view = View::Detail(id);
        }
    }
}

/// Running first, complete last.
fn state_rank(state: &str) -> u8 {
    match state {
        "running" => 0,
        "scheduled" => 1,
        "idle" => 2,
        "complete" => 3,
        _ => 4,
    }
}
