//! The console view of the seed's client: messages, the prompt, and a live countdown line
//! (redrawn in place on a terminal, one line per check interval otherwise, e.g. in a log).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::local::Screen;
use crate::text;

/// Where the agent shows what the person at the workstation reads: this terminal, or the
/// helper in the visitor's session.
pub trait Display: Send {
    /// A message on its own line.
    fn say(&mut self, message: &str);
    /// Ask for a code.
    fn prompt(&mut self);
    /// The countdown, called every second while a session runs.
    fn countdown(&mut self, remaining: Duration, percent_used: u8, connected: bool, now: Instant);
    /// A structured fact for a graphical screen (the kiosk windows). The same facts are also
    /// given as `say` lines, so a text display ignores these.
    fn screen(&mut self, _event: Screen) {}
}

#[derive(Debug)]
pub struct Console {
    tty: bool,
    countdown_shown: bool,
    last_plain_line: Option<Instant>,
    plain_every: Duration,
}

impl Console {
    pub fn new(plain_every: Duration) -> Console {
        Console {
            tty: std::io::stdout().is_terminal(),
            countdown_shown: false,
            last_plain_line: None,
            plain_every,
        }
    }

    fn clear_countdown(&mut self, out: &mut impl Write) {
        if self.tty && self.countdown_shown {
            let _ = write!(out, "\r\x1b[K");
        }
        self.countdown_shown = false;
    }
}

impl Display for Console {
    fn say(&mut self, message: &str) {
        let mut out = std::io::stdout().lock();
        self.clear_countdown(&mut out);
        let _ = writeln!(out, "{message}");
        let _ = out.flush();
    }

    fn prompt(&mut self) {
        let mut out = std::io::stdout().lock();
        self.clear_countdown(&mut out);
        let _ = write!(out, "{}", text::PROMPT);
        let _ = out.flush();
    }

    /// Redrawn in place on a terminal, else printed every `plain_every`.
    fn countdown(&mut self, remaining: Duration, percent_used: u8, connected: bool, now: Instant) {
        let line = text::countdown_line(remaining, percent_used, connected);
        let mut out = std::io::stdout().lock();
        if self.tty {
            let _ = write!(out, "\r{line}\x1b[K");
            self.countdown_shown = true;
        } else if self
            .last_plain_line
            .is_none_or(|at| now.saturating_duration_since(at) >= self.plain_every)
        {
            self.last_plain_line = Some(now);
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
    }
}
