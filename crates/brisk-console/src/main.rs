//! `brisk-console [ADDR]`: the live console's terminal UI. See the crate
//! docs of `brisk_console` for the views and keys.

use brisk_console::{app::App, client, ui};
use ratatui::crossterm::event::{self, Event};
use std::time::Duration;

const USAGE: &str = "usage: brisk-console [ADDR]

Shows the tasks of a running Brisk program, live. ADDR is the address of
its console server: `host:port` or a port on 127.0.0.1 (default
127.0.0.1:6669). Start the server in the program with
`brisk::diag::console::serve()` or by running it with
BRISK_CONSOLE=127.0.0.1:6669.

Keys: q quit · 1 2 3 / Tab views · ↑↓ select · Enter detail · Esc back ·
/ filter · i n s p b sort (again: reverse)";

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = match (args.next(), args.next()) {
        (None, _) => "127.0.0.1:6669".to_owned(),
        (Some(a), None) if a == "-h" || a == "--help" => {
            println!("{USAGE}");
            return Ok(());
        }
        (Some(a), None) if a.parse::<u16>().is_ok() => format!("127.0.0.1:{a}"),
        (Some(a), None) => a,
        (Some(_), Some(_)) => {
            eprintln!("brisk-console takes one address at most\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    let (tx, rx) = std::sync::mpsc::channel();
    client::spawn(addr.clone(), tx);
    let mut app = App::new(addr);
    // Raw mode and the alternate screen, with a panic hook that restores
    // the terminal before the panic message is printed.
    let mut terminal = ratatui::try_init()?;
    let result = (|| -> std::io::Result<()> {
        while !app.quit {
            client::drain(&rx, &mut app);
            terminal.draw(|f| ui::draw(f, &app))?;
            if event::poll(Duration::from_millis(100))? {
                if let Event::Key(key) = event::read()? {
                    app.handle_key(key);
                }
            }
        }
        Ok(())
    })();
    ratatui::try_restore()?;
    result
}
