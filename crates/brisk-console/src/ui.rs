//! Drawing the console: a header, the current view, a footer of keys.

use crate::app::{App, ChainStep, SortKey, Status, View};
use crate::model::{fmt_opt_us, fmt_us, Holder, Snapshot, Task, Wait, DASH, PROTOCOL_VERSION};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

const BOLD: Style = Style::new().add_modifier(Modifier::BOLD);
const DIM: Style = Style::new().fg(Color::DarkGray);
const WARN: Style = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
const SELECTED: Style = Style::new().add_modifier(Modifier::REVERSED);

/// Draws the whole console for `app` into `frame`.
pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    draw_header(frame, header, app);
    match app.snapshot.as_ref() {
        None => {
            let text = match &app.status {
                Status::Disconnected(e) => format!("Cannot reach {}: {e}. Retrying…", app.addr),
                _ => format!("Connecting to {}…", app.addr),
            };
            frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), body);
        }
        Some(snapshot) => match app.view {
            View::Tasks => draw_tasks(frame, body, app, snapshot),
            View::Detail(id) => draw_detail(frame, body, app, snapshot, id),
            View::Resources => draw_resources(frame, body, app, snapshot),
            View::Hazards => draw_hazards(frame, body, app, snapshot),
        },
    }
    draw_footer(frame, footer, app);
}

fn draw_header(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let mut first = vec![Span::styled("brisk-console ", BOLD), Span::raw(&app.addr)];
    match &app.status {
        Status::Connecting => first.push(Span::styled("  connecting…", DIM)),
        Status::Connected => first.push(Span::raw("  connected")),
        Status::Disconnected(e) => {
            first.push(Span::styled(
                format!("  disconnected ({e}), retrying"),
                WARN,
            ));
        }
    }
    if let Some(s) = &app.snapshot {
        first.push(Span::raw(format!(
            "  {} · {} tasks",
            s.dump.runtime,
            s.dump.tasks.len()
        )));
        if s.v > PROTOCOL_VERSION {
            first.push(Span::styled(
                format!(
                    "  server protocol v{} (console knows v{PROTOCOL_VERSION})",
                    s.v
                ),
                WARN,
            ));
        }
    }
    let hazards = app.snapshot.as_ref().map_or(0, |s| s.hazards.len());
    let tab = |n: &str, label: String, on: bool| {
        let style = if on { SELECTED } else { Style::new() };
        [
            Span::styled(format!("[{n}] {label}"), style),
            Span::raw("  "),
        ]
    };
    let mut second = Vec::new();
    second.extend(tab(
        "1",
        "Tasks".into(),
        matches!(app.view, View::Tasks | View::Detail(_)),
    ));
    second.extend(tab("2", "Resources".into(), app.view == View::Resources));
    second.extend(tab(
        "3",
        format!("Hazards ({hazards})"),
        app.view == View::Hazards,
    ));
    if hazards > 0 {
        second.push(Span::styled(format!("⚠ {hazards} hazard(s)"), WARN));
    }
    if let Some(m) = app.snapshot.as_ref().and_then(|s| s.metrics.as_ref()) {
        let get = |k: &str| m.get(k).map_or_else(|| DASH.to_owned(), |v| v.to_string());
        second.push(Span::styled(
            format!(
                "  workers {} · polls {} · steals {} · blocking {}",
                get("workers"),
                get("polls"),
                get("steals"),
                get("blocking_threads")
            ),
            DIM,
        ));
    }
    frame.render_widget(
        Paragraph::new(vec![Line::from(first), Line::from(second)]),
        area,
    );
}

fn draw_footer(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let text = if app.editing_filter {
        format!(
            "filter: {}▏  (Enter keep · Esc clear) — matches name or location",
            app.filter
        )
    } else {
        match app.view {
            View::Tasks => {
                let sort = |k: SortKey, name: &str| {
                    let mark = if app.sort == k {
                        if app.descending {
                            "▼"
                        } else {
                            "▲"
                        }
                    } else {
                        ""
                    };
                    format!("{} {name}{mark}", k.key())
                };
                let filter = if app.filter.is_empty() {
                    String::new()
                } else {
                    format!(" [filter: {}]", app.filter)
                };
                format!(
                    "q quit · ↑↓ select · Enter detail · / filter{filter} · sort: {} {} {} {} {} · 1-3/Tab views",
                    sort(SortKey::Id, "id"),
                    sort(SortKey::Name, "name"),
                    sort(SortKey::State, "state"),
                    sort(SortKey::Polls, "polls"),
                    sort(SortKey::Busy, "busy"),
                )
            }
            View::Detail(_) => "q quit · Esc back to tasks · 1-3/Tab views".to_owned(),
            View::Resources => {
                "q quit · ↑↓ select · Enter first waiter's detail · 1-3/Tab views".to_owned()
            }
            View::Hazards => {
                "q quit · ↑↓ select · Enter the task's detail · 1-3/Tab views".to_owned()
            }
        }
    };
    frame.render_widget(Paragraph::new(Span::styled(text, DIM)), area);
}

/// What a task waits on, in one cell: `Mutex #7 ← #1 (holder)`.
fn wait_cell(s: &Snapshot, w: &Wait) -> String {
    let mut out = w.resource_label();
    if w.kind == "Task" {
        out = format!("join {}", s.label(w.resource));
    }
    if !w.holders.is_empty() {
        out.push_str(" held by ");
        out.push_str(&holders_text(s, &w.holders, w.more_holders));
    }
    out
}

fn holders_text(s: &Snapshot, holders: &[Holder], more: u64) -> String {
    let mut parts: Vec<String> = holders
        .iter()
        .map(|h| match h {
            Holder::Task(id) => s.label(*id),
            Holder::Thread => "a thread".to_owned(),
            Holder::Unknown => "?".to_owned(),
        })
        .collect();
    if more > 0 {
        parts.push(format!("{more} more"));
    }
    if parts.is_empty() {
        DASH.to_owned()
    } else {
        parts.join(", ")
    }
}

fn draw_tasks(frame: &mut Frame<'_>, area: Rect, app: &App, s: &Snapshot) {
    let tasks = app.visible_tasks();
    let head = |k: SortKey, name: &str| {
        if app.sort == k {
            format!("{name}{}", if app.descending { "▼" } else { "▲" })
        } else {
            name.to_owned()
        }
    };
    let header = Row::new(vec![
        head(SortKey::Id, "ID"),
        head(SortKey::Name, "Name"),
        head(SortKey::State, "State"),
        head(SortKey::Polls, "Polls"),
        head(SortKey::Busy, "Busy"),
        "Idle".to_owned(),
        "Waits on".to_owned(),
        "Location".to_owned(),
    ])
    .style(BOLD);
    let rows = tasks.iter().map(|t| {
        let mut state = t.state.clone();
        if t.cancelled {
            state.push('✗');
        }
        Row::new(vec![
            t.id.to_string(),
            t.name_or_dash().to_owned(),
            state,
            t.polls.to_string(),
            fmt_opt_us(t.busy_us),
            fmt_opt_us(t.idle_us),
            t.waiting_on
                .as_ref()
                .map_or_else(String::new, |w| wait_cell(s, w)),
            t.location.clone(),
        ])
    });
    let title = if app.filter.is_empty() {
        format!(" Tasks ({}) ", tasks.len())
    } else {
        format!(
            " Tasks ({} of {}, filter \"{}\") ",
            tasks.len(),
            s.dump.tasks.len(),
            app.filter
        )
    };
    let table = Table::new(
        rows,
        [
            Constraint::Length(6),
            Constraint::Length(18),
            Constraint::Length(10),
            Constraint::Length(7),
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Min(24),
            Constraint::Min(16),
        ],
    )
    .header(header)
    .block(Block::new().borders(Borders::TOP).title(title))
    .row_highlight_style(SELECTED);
    let mut state =
        TableState::new().with_selected(Some(app.selected).filter(|_| !tasks.is_empty()));
    frame.render_stateful_widget(table, area, &mut state);
}

fn draw_detail(frame: &mut Frame<'_>, area: Rect, app: &App, s: &Snapshot, id: u64) {
    let Some(t) = s.task(id) else {
        frame.render_widget(
            Paragraph::new(format!(
                "Task #{id} is gone (it finished). Esc goes back to the list."
            )),
            area,
        );
        return;
    };
    let field = |name: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("  {name:<10} "), DIM),
            Span::raw(value),
        ])
    };
    let mut lines = vec![
        Line::styled(format!("Task {}", t.label()), BOLD),
        field("id", t.id.to_string()),
        field("name", t.name_or_dash().to_owned()),
        field("location", t.location.clone()),
        field(
            "parent",
            t.parent.map_or_else(|| DASH.to_owned(), |p| s.label(p)),
        ),
        field(
            "state",
            format!(
                "{} ({}){}",
                t.state,
                t.kind,
                if t.cancelled { ", cancelled" } else { "" }
            ),
        ),
        field(
            "polls",
            format!(
                "{}   busy {}   idle {}",
                t.polls,
                fmt_opt_us(t.busy_us),
                fmt_opt_us(t.idle_us)
            ),
        ),
        field(
            "wakes",
            format!(
                "clone {}   wake {}   drop {}",
                t.wakers.clones, t.wakers.wakes, t.wakers.drops
            ),
        ),
        field(
            "waits on",
            t.waiting_on.as_ref().map_or_else(
                || "nothing".to_owned(),
                |w| format!("{} at {}", w.resource_label(), w.location),
            ),
        ),
    ];
    if let Some(w) = t.waiting_on.as_ref().filter(|w| !w.chain.is_empty()) {
        lines.push(Line::styled("  awaiting in (outermost first):", DIM));
        for (i, frame) in w.chain.iter().enumerate() {
            lines.push(Line::raw(format!(
                "  {:width$}{} ({})",
                "",
                frame.name,
                frame.location,
                width = 10 + 2 * i
            )));
        }
    }
    if !t.scope_children.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled("Scope children (run inside this task)", BOLD));
        for c in &t.scope_children {
            let name = c
                .name
                .as_deref()
                .map_or(String::new(), |n| format!("`{n}` "));
            let wait = c.waiting_on.as_ref().map_or_else(
                || "waits on nothing".to_owned(),
                |w| format!("waits on {} at {}", w.resource_label(), w.location),
            );
            lines.push(Line::raw(format!(
                "  #{} {name}spawned at {}{}, {} polls, {wait}",
                c.id,
                c.location,
                if c.cancelled { ", cancelled" } else { "" },
                c.polls
            )));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Wait chain", BOLD));
    lines.extend(chain_lines(app, s, id));
    let hazards: Vec<_> = s.hazards.iter().filter(|h| h.task == Some(id)).collect();
    if !hazards.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled("Hazards", WARN));
        for h in hazards {
            lines.push(Line::raw(format!("  {}: {}", h.kind, h.message)));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Poll times", BOLD));
    lines.extend(histogram_lines(t));
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::new().borders(Borders::TOP))
            .wrap(Wrap { trim: false }),
        area,
    );
}

fn chain_lines(app: &App, s: &Snapshot, id: u64) -> Vec<Line<'static>> {
    let chain = app.wait_chain(id);
    let mut out = Vec::new();
    for (depth, step) in chain.iter().enumerate() {
        let indent = "  ".repeat(depth + 1);
        let arrow = if depth == 0 { "" } else { "→ " };
        let text = match step {
            ChainStep::Task { id, wait: None } => {
                format!("{indent}{arrow}{} waits on nothing known", s.label(*id))
            }
            ChainStep::Task { id, wait: Some(w) } => {
                let mut line = format!(
                    "{indent}{arrow}{} waits on {} at {}",
                    s.label(*id),
                    w.resource_label(),
                    w.location
                );
                if let Some(frame) = w.chain.last() {
                    line.push_str(&format!(" in {}", frame.name));
                }
                if w.kind != "Task" && !w.holders.is_empty() {
                    line.push_str(&format!(
                        ", held by {}",
                        holders_text(s, &w.holders, w.more_holders)
                    ));
                }
                line
            }
            ChainStep::Cycle(id) => {
                format!("{indent}{arrow}{} again: a deadlock cycle", s.label(*id))
            }
            ChainStep::Thread => format!("{indent}{arrow}a thread outside any task"),
            ChainStep::Gone(id) => format!("{indent}{arrow}#{id} (no longer running)"),
        };
        let style = if matches!(step, ChainStep::Cycle(_)) {
            WARN
        } else {
            Style::new()
        };
        out.push(Line::styled(text, style));
    }
    out
}

fn histogram_lines(t: &Task) -> Vec<Line<'static>> {
    let Some(h) = t
        .poll_histogram_us
        .as_ref()
        .filter(|h| h.iter().any(|&n| n > 0))
    else {
        return vec![Line::raw(format!(
            "  {DASH} (the server sends no poll times for this task)"
        ))];
    };
    let first = h.iter().position(|&n| n > 0).unwrap_or(0);
    let last = h.iter().rposition(|&n| n > 0).unwrap_or(0);
    let max = h.iter().copied().max().unwrap_or(1).max(1);
    (first..=last)
        .map(|i| {
            let lo = 1u64.checked_shl(i as u32).unwrap_or(u64::MAX);
            let hi = 1u64.checked_shl(i as u32 + 1).unwrap_or(u64::MAX);
            let n = h[i];
            let width = ((n * 30).div_ceil(max)) as usize;
            Line::raw(format!(
                "  {:>8}–{:<8} {:<30} {n}",
                fmt_us(lo),
                fmt_us(hi),
                "█".repeat(width)
            ))
        })
        .collect()
}

fn draw_resources(frame: &mut Frame<'_>, area: Rect, app: &App, s: &Snapshot) {
    let resources = app.resources();
    let rows = resources.iter().map(|r| {
        let waiters: Vec<String> = r.waiters.iter().map(|w| s.label(*w)).collect();
        Row::new(vec![
            format!("{} #{}", r.kind, r.id),
            holders_text(s, &r.holders, r.more_holders),
            r.waiters.len().to_string(),
            waiters.join(", "),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(18),
            Constraint::Min(20),
            Constraint::Length(7),
            Constraint::Min(30),
        ],
    )
    .header(Row::new(vec!["Resource", "Holders", "Waiting", "Waiters"]).style(BOLD))
    .block(
        Block::new()
            .borders(Borders::TOP)
            .title(format!(" Resources ({}) ", resources.len())),
    )
    .row_highlight_style(SELECTED);
    let mut state =
        TableState::new().with_selected(Some(app.selected).filter(|_| !resources.is_empty()));
    frame.render_stateful_widget(table, area, &mut state);
}

fn draw_hazards(frame: &mut Frame<'_>, area: Rect, app: &App, s: &Snapshot) {
    let block = Block::new()
        .borders(Borders::TOP)
        .title(format!(" Hazards ({}) ", s.hazards.len()));
    if s.hazards.is_empty() {
        frame.render_widget(Paragraph::new("No hazards reported.").block(block), area);
        return;
    }
    let rows = s.hazards.iter().map(|h| {
        Row::new(vec![
            h.kind.clone(),
            h.task.map_or_else(|| DASH.to_owned(), |id| s.label(id)),
            h.message.clone(),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(16),
            Constraint::Length(24),
            Constraint::Min(30),
        ],
    )
    .header(Row::new(vec!["Kind", "Task", "Message"]).style(BOLD))
    .block(block)
    .row_highlight_style(SELECTED);
    let mut state = TableState::new().with_selected(Some(app.selected));
    // The selected hazard's report (a deadlock's dump, a cycle's graph)
    // under the table.
    let report = s
        .hazards
        .get(app.selected)
        .and_then(|h| h.report.as_deref());
    let Some(report) = report else {
        frame.render_stateful_widget(table, area, &mut state);
        return;
    };
    let [top, bottom] =
        Layout::vertical([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(area);
    frame.render_stateful_widget(table, top, &mut state);
    let pane = Paragraph::new(report.to_owned())
        .block(Block::new().borders(Borders::TOP).title(" Report "))
        .wrap(Wrap { trim: false });
    frame.render_widget(pane, bottom);
}
