//! `zen run`: a command inside a session of its own.
//!
//! The command always runs, whatever the server does: zen echoes its output
//! unchanged as it arrives (partial lines included, so prompts show), and
//! ships it line by line on the side. Storing never slows the command: lines
//! go through a bounded buffer, and when the server falls behind they are
//! counted and dropped, and the count is stored instead. When the server
//! cannot be reached or refuses, zen says so once on standard error and from
//! then on only runs the command.
//!
//! zen ignores Ctrl-C while the command runs: the command gets it too (same
//! process group) and decides; zen then records how it ended.

use std::io::{self, Read, Write};
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{Sender, TrySendError};
use jiff::Timestamp;
use sessions_client::{
    Client, ClientError, EntryBatch, EntryData, Level, Metadata, NewEntry, NewSession, SessionId,
};

use crate::cli::RunArgs;
use crate::follow::eprintln_quiet;
use crate::lines::{LineSplitter, collect_batch};

/// Lines waiting to be shipped, at most.
const BUFFERED_LINES: usize = 10_000;

/// Runs the command whether or not `client` could be made (a bad `--server`
/// is reported like an unreachable one).
pub(crate) fn run(client: Result<Client, ClientError>, args: &RunArgs) -> ExitCode {
    // The command handles Ctrl-C; zen waits for it and records the end.
    let _ = ctrlc::set_handler(|| {});
    let program = args.command[0].to_string_lossy().into_owned();
    let mut store = Store::open(client.as_ref(), args);
    let started = Instant::now();
    let child = Command::new(&args.command[0])
        .args(&args.command[1..])
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) => {
            let message = format!("cannot run `{program}`: {error}");
            eprintln_quiet(&format!("zen: {message}"));
            store.ship(vec![NewEntry::new(Timestamp::now(), Level::Error, message)]);
            // As shells do: 126 found but not runnable, 127 not found.
            let code = if error.kind() == io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            store.close(code, None, started);
            return ExitCode::from(code);
        }
    };

    let (lines, received) = crossbeam_channel::bounded(BUFFERED_LINES);
    let dropped = Arc::new(AtomicU64::new(0));
    let pumps = [
        child.stdout.take().map(|stdout| {
            pump(
                stdout,
                io::stdout(),
                Level::Info,
                lines.clone(),
                Arc::clone(&dropped),
            )
        }),
        child.stderr.take().map(|stderr| {
            pump(
                stderr,
                io::stderr(),
                Level::Warn,
                lines.clone(),
                Arc::clone(&dropped),
            )
        }),
    ];
    // The pumps hold the only senders now: the channel closes when both
    // streams have ended.
    drop(lines);
    let mut batch = EntryBatch::default();
    while collect_batch(&received, &mut batch) {
        let mut entries = batch.take();
        add_overflow_report(&mut entries, &dropped);
        store.ship(entries);
    }
    for pump in pumps.into_iter().flatten() {
        let _ = pump.join();
    }
    let mut report = Vec::new();
    add_overflow_report(&mut report, &dropped);
    store.ship(report);

    let (code, signal) = match child.wait() {
        Ok(status) => exit_code(status),
        Err(error) => {
            eprintln_quiet(&format!("zen: cannot wait for `{program}`: {error}"));
            (1, None)
        }
    };
    store.close(code, signal, started);
    ExitCode::from(code)
}

/// Copies one output stream of the command to ours, byte for byte, and
/// offers its lines for the session. Stops echoing, but goes on reading, if
/// our side is closed: the command must never block on a full pipe.
fn pump(
    mut source: impl Read + Send + 'static,
    mut echo: impl Write + Send + 'static,
    level: Level,
    lines: Sender<NewEntry>,
    dropped: Arc<AtomicU64>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut echoing = true;
        let mut buffer = vec![0; 64 << 10];
        let mut splitter = LineSplitter::default();
        let offer = |line: String| {
            let entry = NewEntry::new(Timestamp::now(), level, line);
            if let Err(TrySendError::Full(_)) = lines.try_send(entry) {
                dropped.fetch_add(1, Ordering::Relaxed);
            }
        };
        loop {
            let read = match source.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => read,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            if echoing {
                echoing = echo
                    .write_all(&buffer[..read])
                    .and_then(|()| echo.flush())
                    .is_ok();
            }
            splitter.push(&buffer[..read], offer);
        }
        splitter.finish(offer);
    })
}

fn add_overflow_report(entries: &mut Vec<NewEntry>, dropped: &AtomicU64) {
    let count = dropped.swap(0, Ordering::Relaxed);
    if count > 0 {
        let mut data = Metadata::new();
        data.insert("dropped_lines".into(), count.into());
        entries.push(
            NewEntry::new(
                Timestamp::now(),
                Level::Warn,
                format!("zen: {count} lines of output were not stored: they came faster than the server took them"),
            )
            .with_data(EntryData::from_object(&data)),
        );
    }
}

/// The exit code zen passes on, and the signal that ended the command, if
/// one did (then the code is 128 + its number, as shells report it).
fn exit_code(status: ExitStatus) -> (u8, Option<i32>) {
    if let Some(code) = status.code() {
        return (u8::try_from(code & 0xff).unwrap_or(1), None);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return (
                u8::try_from((128 + signal) & 0xff).unwrap_or(1),
                Some(signal),
            );
        }
    }
    (1, None)
}

/// The session the command's output goes to, while the server takes it.
struct Store<'a> {
    client: Option<&'a Client>,
    /// The session, once created; kept to end it even after shipping stopped.
    session: Option<SessionId>,
    /// False once the server failed us: the rest of the output is not sent.
    shipping: bool,
    warned: bool,
}

impl<'a> Store<'a> {
    fn open(client: Result<&'a Client, &ClientError>, args: &RunArgs) -> Store<'a> {
        let mut store = Store {
            client: client.ok(),
            session: None,
            shipping: false,
            warned: false,
        };
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
        let created = client.map_err(Clone::clone).and_then(|client| {
            client.create(&NewSession {
                appname: args.app.clone(),
                mode: args.mode.clone(),
                jobid: args.job.clone(),
                metadata,
            })
        });
        match created {
            Ok(session) => {
                store.session = Some(session.id);
                store.shipping = true;
            }
            Err(error) => store.warn(&format!(
                "zen: cannot create a session ({error}); running the command without one"
            )),
        }
        store
    }

    fn ship(&mut self, entries: Vec<NewEntry>) {
        let (Some(client), Some(id)) = (self.client, self.session) else {
            return;
        };
        if entries.is_empty() || !self.shipping {
            return;
        }
        if let Err(error) = client.append_entries(id, &entries) {
            self.fail(
                &format!("store the command's output in session {id}"),
                &error,
            );
        }
    }

    /// Records how the command ended, then ends the session: the metadata
    /// first, so the session is never seen ended without it.
    fn close(&mut self, code: u8, signal: Option<i32>, started: Instant) {
        let (Some(client), Some(id)) = (self.client, self.session) else {
            return;
        };
        let mut metadata = Metadata::new();
        metadata.insert("exit_code".into(), code.into());
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        metadata.insert("duration_ms".into(), duration_ms.into());
        if let Some(signal) = signal {
            metadata.insert("signal".into(), signal.into());
        }
        let result = client
            .patch_metadata(id, &metadata)
            .and_then(|_| client.end(id));
        if let Err(error) = result {
            self.fail(&format!("end session {id}"), &error);
        }
    }

    fn fail(&mut self, what: &str, error: &ClientError) {
        self.shipping = false;
        self.warn(&format!(
            "zen: cannot {what} ({error}); the command goes on"
        ));
    }

    /// One warning per run: the command's own output matters more.
    fn warn(&mut self, line: &str) {
        if !std::mem::replace(&mut self.warned, true) {
            eprintln_quiet(line);
        }
    }
}
