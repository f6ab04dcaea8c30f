//! The console view of the seed's client: messages, the prompt, and a live countdown line
//! (redrawn in place on a terminal, one line per check interval otherwise, e.g. in a log).

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
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

/// What a terminal shows below the messages, redrawn around them: the prompt for a code, or,
/// during a session, the countdown line with the line where the visitor types under it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Live {
    Nothing,
    Prompt,
    Session(String),
}

/// One terminal per process: the console and the log lines (`LogWriter`) share its live area,
/// so that a log line never lands in the prompt or on the countdown.
static LIVE: Mutex<Live> = Mutex::new(Live::Nothing);

fn live() -> std::sync::MutexGuard<'static, Live> {
    LIVE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Erases the live area; the cursor is then at the start of its first line.
fn erase(live: &Live, out: &mut impl Write) {
    match live {
        Live::Nothing => {}
        Live::Prompt => {
            let _ = write!(out, "\r\x1b[K");
        }
        Live::Session(_) => {
            let _ = write!(out, "\x1b[1A\r\x1b[J");
        }
    }
}

fn draw(live: &Live, out: &mut impl Write) {
    match live {
        Live::Nothing => {}
        Live::Prompt => {
            let _ = write!(out, "{}", text::PROMPT);
        }
        Live::Session(line) => {
            let _ = write!(out, "{line}\n{}", text::SESSION_PROMPT);
        }
    }
}

/// A line was typed at this terminal (Enter moved the cursor down a line): during a session,
/// the visitor's line is cleared and offered again under the countdown; at the code prompt,
/// the typed line stays as it is, and nothing is drawn again until the next prompt.
pub fn line_typed() {
    if !std::io::stdout().is_terminal() {
        return;
    }
    let mut live = live();
    let mut out = std::io::stdout().lock();
    match &*live {
        Live::Session(_) => {
            let _ = write!(out, "\x1b[1A\r\x1b[K{}", text::SESSION_PROMPT);
        }
        Live::Prompt => *live = Live::Nothing,
        Live::Nothing => {}
    }
    let _ = out.flush();
}

#[derive(Debug)]
pub struct Console {
    tty: bool,
    last_plain_line: Option<Instant>,
    plain_every: Duration,
}

impl Console {
    pub fn new(plain_every: Duration) -> Console {
        Console {
            tty: std::io::stdout().is_terminal(),
            last_plain_line: None,
            plain_every,
        }
    }
}

impl Display for Console {
    /// On a terminal, above the live area, which is drawn again under it.
    fn say(&mut self, message: &str) {
        let live = live();
        let mut out = std::io::stdout().lock();
        if self.tty {
            erase(&live, &mut out);
        }
        let _ = writeln!(out, "{message}");
        if self.tty && matches!(*live, Live::Session(_)) {
            draw(&live, &mut out);
        }
        let _ = out.flush();
    }

    fn prompt(&mut self) {
        let mut live = live();
        let mut out = std::io::stdout().lock();
        if self.tty {
            erase(&live, &mut out);
            *live = Live::Prompt;
        }
        let _ = write!(out, "{}", text::PROMPT);
        let _ = out.flush();
    }

    /// On a terminal, the countdown's line is redrawn in place above the line the visitor
    /// types on, leaving what they typed and the cursor where they are; else printed every
    /// `plain_every`.
    fn countdown(&mut self, remaining: Duration, percent_used: u8, connected: bool, now: Instant) {
        let line = text::countdown_line(remaining, percent_used, connected);
        let mut live = live();
        let mut out = std::io::stdout().lock();
        if self.tty {
            if matches!(*live, Live::Session(_)) {
                // Save the cursor, up one line, redraw, back.
                let _ = write!(out, "\x1b7\x1b[1A\r{line}\x1b[K\x1b8");
            } else {
                erase(&live, &mut out);
                draw(&Live::Session(line.clone()), &mut out);
            }
            *live = Live::Session(line);
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

/// The log's writer at a terminal (`poste-client --interactive`): each line goes above the
/// live area, which is drawn again under it.
#[derive(Debug, Default)]
pub struct LogWriter {
    line: Vec<u8>,
}

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        if self.line.is_empty() {
            return;
        }
        let live = live();
        // Both go to the same terminal: what the console wrote must be out first.
        let mut out = std::io::stdout().lock();
        erase(&live, &mut out);
        let _ = out.flush();
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(&self.line);
        let _ = err.flush();
        draw(&live, &mut out);
        let _ = out.flush();
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LogWriter::default()
    }
}
