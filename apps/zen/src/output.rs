//! Writing to standard output: raw bytes, colours only on a terminal, and
//! the one error that is no error for a command in a pipe.

use std::io::{self, IsTerminal, StdoutLock, Write};

use sessions_client::Level;

/// Standard output, locked once. Every write goes through `write_all`, so
/// nothing is ever cut or re-encoded, and a closed pipe is an error the
/// caller returns (see [`is_broken_pipe`]) instead of a panic.
#[derive(Debug)]
pub(crate) struct Output {
    out: StdoutLock<'static>,
    color: bool,
    terminal: bool,
}

impl Output {
    /// Colours when standard output is a terminal and `NO_COLOR` is not set.
    pub(crate) fn stdout() -> Output {
        let stdout = io::stdout();
        let terminal = stdout.is_terminal();
        let color = terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Output {
            out: stdout.lock(),
            color,
            terminal,
        }
    }

    /// Whether a person reads this: standard output is a terminal.
    pub(crate) fn is_terminal(&self) -> bool {
        self.terminal
    }

    pub(crate) fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)
    }

    /// `text` in `style` (an SGR code such as `33`), or plain when not
    /// colouring.
    pub(crate) fn styled(&mut self, style: &str, text: &[u8]) -> io::Result<()> {
        if self.color {
            self.out.write_all(b"\x1b[")?;
            self.out.write_all(style.as_bytes())?;
            self.out.write_all(b"m")?;
            self.out.write_all(text)?;
            self.out.write_all(b"\x1b[0m")
        } else {
            self.out.write_all(text)
        }
    }

    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// SGR codes: dim for what frames a line, a colour per level.
pub(crate) const DIM: &str = "2";

pub(crate) fn level_style(level: Level) -> &'static str {
    match level {
        Level::Debug => "34",
        Level::Info => "32",
        Level::Warn => "33",
        Level::Error => "1;31",
    }
}

/// True when the error, or one it was caused by, is a write to a pipe whose
/// reader has gone (`zen sessions log ID | head`): the command then ends
/// quietly, as `cat` would.
pub(crate) fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|error| error.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Text for a table cell or a `show` line: control characters (a newline
/// in an appname, an escape sequence) would break the layout or the
/// terminal, so they are shown as `?`. Log messages are never passed through
/// this: they are written as they are.
pub(crate) fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_masked_in_cells() {
        assert_eq!(printable("build\n\x1b[31magent"), "build??[31magent");
        assert_eq!(printable("Åsa's editor"), "Åsa's editor");
    }

    #[test]
    fn broken_pipes_are_found_behind_context() {
        let error = anyhow::Error::from(io::Error::from(io::ErrorKind::BrokenPipe))
            .context("writing the log");
        assert!(is_broken_pipe(&error));
        assert!(!is_broken_pipe(&anyhow::anyhow!(
            "session x does not exist"
        )));
    }
}
