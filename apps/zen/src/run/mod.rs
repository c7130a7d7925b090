//! `zen run`: a command inside a session of its own.
//!
//! The command always runs, whatever the server does: zen echoes its output
//! unchanged as it arrives (partial lines included, so prompts show), and
//! ships it line by line on the side. Reading the output never waits for
//! the server: lines go into an [`OutputBuffer`] bounded in bytes (`--buffer`,
//! 64 MiB by default), and a [`shipper`] thread registers the session and
//! sends them in large batches. While the server answers, every line is
//! stored, in order; when it falls behind by more than the buffer holds, the
//! oldest waiting lines are given up, and their exact number is marked in
//! the log where they were, stored as `dropped_lines` when the session
//! ends, and printed on standard error. When the server cannot be reached
//! or refuses, zen says so once on standard error and the command goes on.
//!
//! The command runs as a job of its own ([`job_control`]): SIGINT, SIGTERM
//! and SIGHUP sent to zen go to the command's process group, zen waits for
//! it, records how it ended and exits the same way. Once the command has
//! ended, such a signal cuts the sending of the last lines short, and a
//! second one ends zen at once.

mod buffer;
mod job_control;
mod pty;
mod shipper;

use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use sessions_client::{Client, ClientConfig, IdMinter, Level, Metadata, SessionUpdate};

use nix::unistd::Pid;

use self::buffer::{LineChunk, OutputBuffer};
use self::job_control::{Outcome, SignalRoute, Terminal};
use self::pty::PseudoTerminal;
use self::shipper::{Shipped, Warnings};
use crate::cli::RunArgs;
use crate::follow::eprintln_quiet;
use crate::lines::{LineSplitter, terminal_text};

/// How long zen waits for each answer while running a command: a retry
/// (with the lines buffered meanwhile) is better than a long wait.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs the command whether or not the server can be used (a bad
/// `--server` is reported like an unreachable one).
pub(crate) fn run(config: ClientConfig, args: &RunArgs) -> ExitCode {
    // From the start: a signal that comes before the command does is
    // passed on as soon as it runs.
    let caught_signals = job_control::catch_signals();
    let program = args.command[0].to_string_lossy().into_owned();
    let warnings = Arc::new(Warnings::default());
    let client = match Client::new(config.with_read_timeout(READ_TIMEOUT)) {
        Ok(client) => Some(Arc::new(client)),
        Err(error) => {
            warnings.warn(&format!(
                "zen: cannot create a session ({}); running the command without one",
                error
            ));
            None
        }
    };
    let id = IdMinter::new().mint();
    if let Some(client) = &client
        && !args.quiet
    {
        eprintln_quiet(&format!("zen: session {id} {}", client.dashboard_url(id)));
    }
    let buffer = Arc::new(OutputBuffer::new(args.buffer));
    let shipper = shipper::start(
        client.clone(),
        id,
        registration(args),
        Arc::clone(&buffer),
        Arc::clone(&warnings),
    );
    let started = Instant::now();
    let mut command = Command::new(&args.command[0]);
    if let Some(client) = &client {
        // Tools the command runs can log into the same session.
        command
            .env("ZEN_SESSION_ID", id.to_string())
            .env("ZEN_SERVER", client.config().base_url());
    }
    let mut pseudo_terminal = if args.no_pty {
        None
    } else {
        PseudoTerminal::for_terminal_output()
    };
    let terminal_streams = pseudo_terminal
        .as_ref()
        .and_then(|terminal| terminal.command_output().ok());
    if terminal_streams.is_none() {
        pseudo_terminal = None;
    }
    let (stdout, stderr) = terminal_streams.unwrap_or_else(|| (Stdio::piped(), Stdio::piped()));
    let child = command
        .args(&args.command[1..])
        .process_group(0)
        .stdin(Stdio::inherit())
        .stdout(stdout)
        .stderr(stderr)
        .spawn();
    // Holds the command's end of the pseudo-terminal: it must be closed
    // for the end of the output to be seen.
    drop(command);
    let mut child = match child {
        Ok(child) => child,
        Err(error) => {
            let message = format!("cannot run `{program}`: {error}");
            eprintln_quiet(&format!("zen: {message}"));
            let mut chunk = LineChunk::new(Timestamp::now(), Level::Error);
            chunk.push(&message);
            buffer.push(chunk);
            buffer.close();
            // As shells do: 126 found but not runnable, 127 not found.
            let code = if error.kind() == io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            let ending = Ending {
                outcome: Outcome::Exited(code),
                forwarded_signal: None,
                duration: started.elapsed(),
            };
            finish(client.as_deref(), shipper, &buffer, &ending, &warnings);
            return ExitCode::from(code);
        }
    };
    // A pid always fits: the kernel's are below 2^22.
    let group = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    let signal_route = Arc::new(SignalRoute::default());
    let hurried_buffer = Arc::clone(&buffer);
    job_control::forward_signals(
        caught_signals,
        group,
        Arc::clone(&signal_route),
        move || {
            hurried_buffer.hurry();
        },
    );
    let mut terminal = Terminal::hand_over(group);

    let terminal_output = pseudo_terminal.map(PseudoTerminal::into_output);
    let pumps = match terminal_output {
        // One stream: the order of the command's writes is kept.
        Some(output) => [
            Some(pump(
                output,
                io::stdout(),
                Capture::Terminal,
                Arc::clone(&buffer),
            )),
            None,
        ],
        None => [
            child.stdout.take().map(|stdout| {
                widen_pipe(&stdout);
                pump(
                    stdout,
                    io::stdout(),
                    Capture::Pipe(Level::Info),
                    Arc::clone(&buffer),
                )
            }),
            child.stderr.take().map(|stderr| {
                widen_pipe(&stderr);
                pump(
                    stderr,
                    io::stderr(),
                    Capture::Pipe(Level::Warn),
                    Arc::clone(&buffer),
                )
            }),
        ],
    };
    let outcome = match job_control::wait_for(group, &mut terminal) {
        Ok(outcome) => outcome,
        Err(error) => {
            eprintln_quiet(&format!("zen: cannot wait for `{program}`: {error}"));
            Outcome::Exited(1)
        }
    };
    // The command's own time: what it left in the pipes (or a job it left
    // behind still writes) is read after, and is not.
    let duration = started.elapsed();
    signal_route.command_ended();
    drop(terminal);
    // Whatever the command wrote before it ended is still in the pipes.
    for pump in pumps.into_iter().flatten() {
        let _ = pump.join();
    }
    buffer.close();
    let ending = Ending {
        outcome,
        forwarded_signal: signal_route.last_forwarded(),
        duration,
    };
    finish(client.as_deref(), shipper, &buffer, &ending, &warnings);
    job_control::exit_like(outcome)
}

/// What the session is registered with: the flags, and the command line.
fn registration(args: &RunArgs) -> SessionUpdate {
    let mut metadata: Metadata = args
        .meta
        .iter()
        .map(|(key, value)| (key.clone(), value.clone().into()))
        .collect();
    let command: Vec<serde_json::Value> = args
        .command
        .iter()
        .map(|arg| arg.to_string_lossy().into_owned().into())
        .collect();
    metadata.insert("command".into(), command.into());
    let appname = args.app.clone().unwrap_or_else(|| {
        let program = std::path::Path::new(&args.command[0]);
        program
            .file_name()
            .unwrap_or(program.as_os_str())
            .to_string_lossy()
            .into_owned()
    });
    SessionUpdate {
        appname: Some(appname),
        mode: Some(args.mode.clone()),
        jobid: args.job.clone().map(Some),
        metadata: Some(metadata),
    }
}

/// What a command's output pipe is widened to: a command that writes in
/// bursts (`seq 1000000`) then rarely waits for zen's reader to take its
/// turn, instead of every 64 KiB. Linux lets any process go up to 1 MiB.
const PIPE_BYTES: usize = 1 << 20;

/// Widens the pipe, if the system lets us; a narrow pipe only costs the
/// command a few more waits.
fn widen_pipe(pipe: &impl std::os::fd::AsFd) {
    let _ = rustix::pipe::fcntl_setpipe_size(pipe, PIPE_BYTES);
}

/// Copies one output stream of the command to ours, byte for byte, and
/// queues its lines for the session. Stops echoing, but goes on reading, if
/// our side is closed: the command must never block on a full pipe.
fn pump(
    mut source: impl Read + Send + 'static,
    mut echo: impl Write + Send + 'static,
    capture: Capture,
    buffer: Arc<OutputBuffer>,
) -> JoinHandle<()> {
    let level = match capture {
        Capture::Pipe(level) => level,
        Capture::Terminal => Level::Info,
    };
    let keep = move |chunk: &mut LineChunk, line: &str| match capture {
        Capture::Pipe(_) => chunk.push(line),
        Capture::Terminal => {
            let text = terminal_text(line);
            if !text.trim().is_empty() {
                chunk.push(&text);
            }
        }
    };
    // The reader only reads and echoes, so the command waits on it as
    // little as on `cat`; a second thread cuts the reads into lines. Reads
    // wait for it only when it is READS_AHEAD reads behind.
    let (reads, read_blocks) = crossbeam_channel::bounded::<(Timestamp, Vec<u8>)>(READS_AHEAD);
    // Blocks go back to the reader once cut, so that it does not map and
    // fault in fresh memory for every read (and unmap it on this thread).
    // A few spares are enough for the steady state; more are freed.
    let (spare_blocks, spares) = crossbeam_channel::bounded::<Vec<u8>>(SPARE_BLOCKS);
    let lines = std::thread::spawn(move || {
        let mut splitter = LineSplitter::default();
        for (timestamp, block) in read_blocks {
            let mut chunk = LineChunk::new(timestamp, level);
            splitter.push(&block, |line| keep(&mut chunk, line));
            buffer.push(chunk);
            let _ = spare_blocks.try_send(block);
        }
        let mut chunk = LineChunk::new(Timestamp::now(), level);
        splitter.finish(|line| keep(&mut chunk, line));
        buffer.push(chunk);
    });
    std::thread::spawn(move || {
        let mut echoing = true;
        let mut bytes = vec![0; 256 << 10];
        loop {
            let read = match source.read(&mut bytes) {
                Ok(0) => break,
                Ok(read) => read,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            if echoing {
                echoing = echo
                    .write_all(&bytes[..read])
                    .and_then(|()| echo.flush())
                    .is_ok();
            }
            let mut block = spares
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(bytes.len()));
            block.clear();
            block.extend_from_slice(&bytes[..read]);
            // Fails only if the line thread is gone, which it is not while
            // this one holds its channel.
            let _ = reads.send((Timestamp::now(), block));
            if matches!(capture, Capture::Pipe(_)) && read < SMALL_READ {
                std::thread::sleep(PIPE_NAP);
            }
        }
        drop(reads);
        let _ = lines.join();
    })
}

/// A read this small found the pipe nearly empty: the reader naps before
/// the next one, so that a fast writer fills the pipe without waking it
/// (and the line thread) for each of its writes, 4 KiB at a time for
/// most programs. Output through a pipe is echoed at most this much later;
/// a terminal's never is.
const SMALL_READ: usize = 64 << 10;
const PIPE_NAP: Duration = Duration::from_millis(1);

/// Reads queued for the line thread before the reader waits for it: with
/// 256 KiB reads, up to 8 MiB.
const READS_AHEAD: usize = 32;

/// Read blocks kept for reuse once cut: 1 MiB.
const SPARE_BLOCKS: usize = 4;

/// Where a stream comes from, and so how its lines are stored.
#[derive(Debug, Clone, Copy)]
enum Capture {
    /// A pipe: lines as written, at this level.
    Pipe(Level),
    /// The pseudo-terminal, standard output and error together: lines at
    /// `info`, as a terminal shows them.
    Terminal,
}

/// How the command ended.
struct Ending {
    outcome: Outcome,
    /// The last signal zen passed on to the command.
    forwarded_signal: Option<i32>,
    /// From the command's start to its exit.
    duration: Duration,
}

/// Waits for the last lines to be shipped, records how the command ended
/// (the metadata first, so the session is never seen ended without it),
/// ends the session, and reports lines that were not stored.
fn finish(
    client: Option<&Client>,
    shipper: JoinHandle<Shipped>,
    buffer: &OutputBuffer,
    ending: &Ending,
    warnings: &Warnings,
) {
    let shipped = shipper.join().unwrap_or(Shipped { session: None });
    let (Some(client), Some(id)) = (client, shipped.session) else {
        return;
    };
    let dropped = buffer.dropped();
    let mut metadata = Metadata::new();
    metadata.insert("exit_code".into(), ending.outcome.code().into());
    let duration_ms = u64::try_from(ending.duration.as_millis()).unwrap_or(u64::MAX);
    metadata.insert("duration_ms".into(), duration_ms.into());
    if let Outcome::Killed(signal) = ending.outcome {
        metadata.insert("signal".into(), (signal as i32).into());
    }
    if let Some(signal) = ending.forwarded_signal {
        metadata.insert("forwarded_signal".into(), signal.into());
    }
    metadata.insert("dropped_lines".into(), dropped.into());
    let result = client
        .patch_metadata(id, &metadata)
        .and_then(|_| client.end(id));
    if let Err(error) = result {
        warnings.warn(&format!(
            "zen: cannot end session {id} ({}); the command has ended",
            error
        ));
    }
    if dropped > 0 {
        eprintln_quiet(&format!(
            "zen: {dropped} lines of output were not stored in session {id}: the server did not take them in time"
        ));
    }
}
