//! The command as a job of its own: its own process group, the signals zen
//! receives passed on to that group, the terminal handed over while it
//! runs, and zen stopping and continuing along with it.
//!
//! The command runs in a process group of its own so that a signal meant
//! for it reaches everything it started (`make` and its compilers, a shell
//! script and its pipeline), and so that zen, not the command, decides when
//! zen ends. SIGINT, SIGTERM and SIGHUP are caught by signal-hook from the
//! start and passed on by a thread of their own. Catching, not blocking:
//! exec resets caught signals to their default action, while a blocked mask
//! would be inherited by the command (std does not clear it). To exit as a
//! command killed by one of them did, zen emulates the default action.
//!
//! On a terminal, a process group that is not the terminal's foreground
//! group is stopped when it reads from it. So when zen is in the
//! foreground, it makes the command's group the foreground while it runs
//! (Ctrl-C and Ctrl-Z then go straight to the command, as without zen) and
//! takes the terminal back afterwards, with SIGTTOU blocked in zen's main
//! thread only (after the command started), so that zen, by then in the
//! background, may. When the command stops (Ctrl-Z), zen takes
//! the terminal back and stops itself, so the shell gets control; when the
//! shell continues zen, zen hands the terminal over again and continues the
//! command.
//!
//! If zen is killed with SIGKILL, none of this runs: the command goes on in
//! its group, and ends at its next write to standard output or error (its
//! pipes have no reader any more: SIGPIPE, or EPIPE when it ignores that);
//! its session stays active until the server's `--session-ttl` ends it.

use std::io::IsTerminal;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use nix::errno::Errno;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, killpg, pthread_sigmask, raise};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{Pid, getpgrp, tcgetpgrp, tcsetpgrp};
use signal_hook::iterator::Signals;

/// The signals zen passes on to the command.
const FORWARDED: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// How the command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Exited(u8),
    Killed(Signal),
}

impl Outcome {
    /// The exit code as shells report it: 128 + the signal's number.
    pub(crate) fn code(self) -> u8 {
        match self {
            Outcome::Exited(code) => code,
            Outcome::Killed(signal) => u8::try_from((128 + signal as i32) & 0xff).unwrap_or(1),
        }
    }
}

/// The forwarded signals, caught from now on and kept until
/// [`forward_signals`] passes them on.
#[derive(Debug)]
pub(crate) struct CaughtSignals {
    signals: Option<Signals>,
}

/// Catches the forwarded signals, so that from now on they no longer end
/// zen. Call before the command starts.
pub(crate) fn catch_signals() -> CaughtSignals {
    let numbers = FORWARDED.map(|signal| signal as i32);
    CaughtSignals {
        // Fails only when a signal cannot be caught at all, which these can.
        signals: Signals::new(numbers).ok(),
    }
}

/// What zen does with the signals it catches.
#[derive(Debug, Default)]
pub(crate) struct SignalRoute {
    /// The last signal passed on to the command.
    last_forwarded: AtomicI32,
    /// The command has ended: signals are zen's own now.
    command_ended: AtomicBool,
}

impl SignalRoute {
    pub(crate) fn last_forwarded(&self) -> Option<i32> {
        Some(self.last_forwarded.load(Ordering::Relaxed)).filter(|&signal| signal != 0)
    }

    pub(crate) fn command_ended(&self) {
        self.command_ended.store(true, Ordering::Relaxed);
    }
}

/// Passes every signal caught, from before and from now on, to the process
/// group `group` while the command runs. Once it has ended, zen is only
/// sending the last lines: the first signal calls `hurry` (zen cuts the
/// flush short), a second one ends zen at once, by that signal.
pub(crate) fn forward_signals(
    caught: CaughtSignals,
    group: Pid,
    route: Arc<SignalRoute>,
    hurry: impl Fn() + Send + 'static,
) {
    let Some(mut signals) = caught.signals else {
        return;
    };
    // Lives until zen exits: there is always a signal to pass on.
    std::thread::spawn(move || {
        let mut hurried = false;
        for number in signals.forever() {
            let Ok(signal) = Signal::try_from(number) else {
                continue;
            };
            if !route.command_ended.load(Ordering::Relaxed) {
                route.last_forwarded.store(number, Ordering::Relaxed);
                // ESRCH once the group is gone: nothing left to tell.
                let _ = killpg(group, signal);
            } else if !std::mem::replace(&mut hurried, true) {
                hurry();
            } else {
                let _ = signal_hook::low_level::emulate_default_handler(number);
            }
        }
    });
}

/// The terminal on standard input, while the command's group has it.
#[derive(Debug)]
pub(crate) struct Terminal {
    ours: Pid,
}

impl Terminal {
    /// Makes `group` the foreground of zen's terminal, when zen has one and
    /// is in its foreground; otherwise there is nothing to hand over.
    pub(crate) fn hand_over(group: Pid) -> Option<Terminal> {
        let stdin = std::io::stdin();
        let ours = getpgrp();
        if tcgetpgrp(stdin.as_fd()).ok()? != ours {
            return None;
        }
        // Only in this thread, and only now that the command has started
        // (it would inherit the mask): lets zen take the terminal back
        // from the background instead of being stopped for it.
        let mut terminal_output = SigSet::empty();
        terminal_output.add(Signal::SIGTTOU);
        let _ = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&terminal_output), None);
        tcsetpgrp(stdin.as_fd(), group).ok()?;
        // Had the command read the terminal before it was its own, it was
        // stopped for it: continue it.
        let _ = killpg(group, Signal::SIGCONT);
        Some(Terminal { ours })
    }

    fn take_back(&self) {
        let _ = tcsetpgrp(std::io::stdin().as_fd(), self.ours);
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.take_back();
    }
}

/// Waits until the command ends. When it stops on a terminal (Ctrl-Z, or
/// reading it from the background), zen takes the terminal back and stops
/// too, so the shell sees a stopped job; once continued, zen hands the
/// terminal over again if it is in the foreground now, and continues the
/// command. Without a terminal a stopped command is left to whoever
/// stopped it.
pub(crate) fn wait_for(child: Pid, terminal: &mut Option<Terminal>) -> nix::Result<Outcome> {
    loop {
        match waitpid(child, Some(WaitPidFlag::WUNTRACED)) {
            Ok(WaitStatus::Exited(_, code)) => {
                return Ok(Outcome::Exited(u8::try_from(code & 0xff).unwrap_or(1)));
            }
            Ok(WaitStatus::Signaled(_, signal, _)) => return Ok(Outcome::Killed(signal)),
            Ok(WaitStatus::Stopped(_, _)) if std::io::stdin().is_terminal() => {
                // Dropping it takes the terminal back.
                *terminal = None;
                // SIGTSTP is not caught: zen stops here until the shell
                // continues it.
                let _ = raise(Signal::SIGTSTP);
                *terminal = Terminal::hand_over(child);
                if terminal.is_none() {
                    // In the background: it may go on until it reads.
                    let _ = killpg(child, Signal::SIGCONT);
                }
            }
            Ok(_) | Err(Errno::EINTR) => {}
            Err(error) => return Err(error),
        }
    }
}

/// Ends zen the way the command ended: by the same signal when it was one
/// zen passes on (its default action, so the shell sees what it would have
/// seen without zen), by its exit code otherwise.
pub(crate) fn exit_like(outcome: Outcome) -> std::process::ExitCode {
    if let Outcome::Killed(signal) = outcome
        && FORWARDED.contains(&signal)
    {
        let _ = signal_hook::low_level::emulate_default_handler(signal as i32);
    }
    std::process::ExitCode::from(outcome.code())
}
