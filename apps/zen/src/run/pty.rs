//! A pseudo-terminal for the command when zen's own output is a terminal,
//! so the command still sees one: it keeps its colours and progress bars,
//! and its standard output and error, written to the same terminal, keep
//! their order.
//!
//! Standard input stays zen's own terminal (the command is handed its
//! foreground, see `job_control`), so prompts and Ctrl-C work as without
//! zen; only the output goes through the pseudo-terminal, whose size
//! follows zen's terminal (SIGWINCH). The command gets no controlling
//! terminal of its own: making one needs code between fork and exec, which
//! only `unsafe` can run.
//!
//! Both streams arrive as one, so every line is stored at `info`; the log
//! gets the text without terminal escape sequences (see
//! `lines::terminal_text`).

use std::fs::File;
use std::io::{self, IsTerminal};
use std::os::fd::OwnedFd;
use std::process::Stdio;

use nix::pty::openpty;
use nix::sys::termios::{OutputFlags, SetArg, tcgetattr, tcsetattr};
use signal_hook::consts::SIGWINCH;
use signal_hook::iterator::Signals;

/// Both ends, until the command has started.
#[derive(Debug)]
pub(crate) struct PseudoTerminal {
    reading_end: OwnedFd,
    command_end: OwnedFd,
}

impl PseudoTerminal {
    /// A pseudo-terminal the size of zen's terminal, when zen's standard
    /// output is one.
    pub(crate) fn for_terminal_output() -> Option<PseudoTerminal> {
        let stdout = io::stdout();
        if !stdout.is_terminal() {
            return None;
        }
        let opened = openpty(None, None).ok()?;
        copy_window_size(&opened.master);
        // Lines end in `\n` as the command wrote them; zen's own terminal
        // turns that into `\r\n` when zen echoes them, as it would have.
        if let Ok(mut settings) = tcgetattr(&opened.slave) {
            settings.output_flags.remove(OutputFlags::ONLCR);
            let _ = tcsetattr(&opened.slave, SetArg::TCSANOW, &settings);
        }
        Some(PseudoTerminal {
            reading_end: opened.master,
            command_end: opened.slave,
        })
    }

    /// Standard output and error for the command.
    pub(crate) fn command_output(&self) -> io::Result<(Stdio, Stdio)> {
        Ok((
            Stdio::from(self.command_end.try_clone()?),
            Stdio::from(self.command_end.try_clone()?),
        ))
    }

    /// Once the command has started: what it writes, to read until it (and
    /// everything it started) closed its end. Keeps the window size up to
    /// date meanwhile.
    pub(crate) fn into_output(self) -> File {
        drop(self.command_end);
        if let Ok(resized_end) = self.reading_end.try_clone()
            && let Ok(mut resizes) = Signals::new([SIGWINCH])
        {
            // Lives until zen exits, as the terminal does.
            std::thread::spawn(move || {
                for _ in resizes.forever() {
                    copy_window_size(&resized_end);
                }
            });
        }
        File::from(self.reading_end)
    }
}

/// Gives the pseudo-terminal the size of zen's terminal.
fn copy_window_size(pseudo_terminal: &OwnedFd) {
    if let Ok(size) = rustix::termios::tcgetwinsize(io::stdout()) {
        let _ = rustix::termios::tcsetwinsize(pseudo_terminal, size);
    }
}
