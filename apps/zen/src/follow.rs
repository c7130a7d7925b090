//! `zen sessions log`: print a session's log, and with `-f` follow it with
//! long polls until Ctrl-C or the end of the session.
//!
//! Following reads on a thread of its own and hands pages to the main
//! thread, which prints them and also listens for Ctrl-C: a long poll can
//! take 30 s to answer, and Ctrl-C must not wait for it.
//!
//! `--tail N` counts the entries that pass the filters (`--level`,
//! `--grep`, `--since`, `--until`): without
//! filters the server's tail read does it; with them zen reads the whole
//! retained log and keeps the last N that match (an error older than the
//! last N entries is what one looks for).

use std::collections::VecDeque;
use std::io;
use std::time::Duration;

use anyhow::Result;
use crossbeam_channel::{Sender, select};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use sessions_client::{Client, ClientError, LogEntry, LogPage, ReadRequest, SessionId, wire};

use crate::cli::{LogArgs, LogFormat};
use crate::output::{DIM, Output, level_style};

/// Entries per read: the most the server returns at once.
const READ_LIMIT: usize = 10_000;
/// How long one long poll waits for news.
const POLL_WAIT: Duration = Duration::from_secs(30);
/// Pause between attempts to reach a server that went away.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

pub(crate) fn log(client: Client, args: &LogArgs) -> Result<()> {
    let id = args.id.resolve(&client)?;
    let mut printer = Printer::new(args);
    // The server's tail read counts every entry; with filters, zen reads
    // everything and counts the matches itself.
    let server_tail = args.tail.filter(|_| !printer.filters());
    if !args.follow {
        let cursor_reads = args.tail.is_none();
        read_retained(&client, id, server_tail, &mut |page| {
            Ok(printer.page(&page, cursor_reads)?)
        })?;
        printer.caught_up()?;
        return Ok(printer.out.flush()?);
    }
    let (interrupts, interrupted) = crossbeam_channel::bounded(1);
    // Without a handler Ctrl-C still stops zen, only less tidily.
    let _ = ctrlc::set_handler(move || {
        let _ = interrupts.try_send(());
    });
    let (events, received) = crossbeam_channel::bounded(4);
    let cursor_reads = args.tail.is_none();
    std::thread::Builder::new()
        .name("follow".into())
        .spawn(move || follow(&client, id, server_tail, cursor_reads, &events))?;
    loop {
        select! {
            recv(received) -> event => match event {
                Ok(Event::Page(page, cursor_read)) => printer.page(&page, cursor_read)?,
                Ok(Event::CaughtUp) => printer.caught_up()?,
                Ok(Event::Lost(error)) => eprintln_quiet(&format!("zen: {error}; retrying")),
                Ok(Event::Back) => eprintln_quiet("zen: the server is back"),
                Ok(Event::Ended) => {
                    eprintln_quiet(&format!("zen: session {id} has ended"));
                    return Ok(());
                }
                Ok(Event::Failed(error)) => return Err(error),
                Err(_) => return Ok(()),
            },
            recv(interrupted) -> _ => {
                printer.out.flush()?;
                return Ok(());
            }
        }
    }
}

/// What the following thread tells the printing one.
enum Event {
    /// A read, and whether it was a cursor read (whose `dropped` is a gap).
    Page(LogPage, bool),
    /// Every retained entry was read; what follows is new.
    CaughtUp,
    /// The server cannot be reached; following goes on trying.
    Lost(ClientError),
    Back,
    Ended,
    Failed(anyhow::Error),
}

/// Every retained entry (or the newest `tail`), handing each read to `page`.
/// Returns the cursor to follow on from.
fn read_retained(
    client: &Client,
    id: SessionId,
    tail: Option<usize>,
    page: &mut dyn FnMut(LogPage) -> Result<()>,
) -> Result<u64> {
    if let Some(count) = tail {
        let read = client.read_log(id, ReadRequest::Tail { count })?;
        let cursor = read.cursor;
        page(read)?;
        return Ok(cursor);
    }
    let mut cursor = 0;
    loop {
        let read = client.read_log(
            id,
            ReadRequest::After {
                cursor,
                limit: READ_LIMIT,
            },
        )?;
        cursor = read.cursor;
        let more = read.more;
        page(read)?;
        if !more {
            return Ok(cursor);
        }
    }
}

/// `cursor_reads`: whether the retained entries are shown with their gaps
/// (not for a tail, whose `dropped` is the log's lifetime total).
fn follow(
    client: &Client,
    id: SessionId,
    server_tail: Option<usize>,
    cursor_reads: bool,
    events: &Sender<Event>,
) {
    let send = |event| events.send(event).is_ok();
    let retained = read_retained(client, id, server_tail, &mut |read| {
        let _ = events.send(Event::Page(read, cursor_reads));
        Ok(())
    });
    let mut cursor = match retained {
        Ok(cursor) => cursor,
        Err(error) => {
            send(Event::Failed(error));
            return;
        }
    };
    if !send(Event::CaughtUp) {
        return;
    }
    let mut lost = false;
    loop {
        match client.wait_for_log(id, cursor, READ_LIMIT, POLL_WAIT) {
            Ok(read) => {
                if std::mem::take(&mut lost) && !send(Event::Back) {
                    return;
                }
                let nothing =
                    read.entries.is_empty() && !read.more && read.dropped == 0 && !read.reset;
                cursor = read.cursor;
                if !send(Event::Page(read, true)) {
                    return;
                }
                // A poll that brings nothing either timed out or found the
                // session ended (those answer at once): ask which.
                if nothing {
                    match client.get(id) {
                        Ok(session) if session.ended.is_some() => {
                            send(Event::Ended);
                            return;
                        }
                        Ok(_) => {}
                        Err(error) if error.is_transport() => {}
                        Err(error) => {
                            send(Event::Failed(error.into()));
                            return;
                        }
                    }
                }
            }
            Err(error) if error.is_transport() => {
                if !lost && !send(Event::Lost(error)) {
                    return;
                }
                lost = true;
                std::thread::sleep(RETRY_PAUSE);
            }
            Err(error) => {
                send(Event::Failed(error.into()));
                return;
            }
        }
    }
}

/// Prints entries that pass the filters, and marks gaps.
struct Printer {
    out: Output,
    format: LogFormat,
    level: Option<sessions_client::Level>,
    grep: Option<String>,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    /// Where pretty times are shown in local time: on a terminal, without
    /// `--utc`.
    local_zone: Option<TimeZone>,
    /// Until the retained entries are all read, with `--tail` and filters:
    /// the last matches so far, and how many to keep.
    tail: Option<(VecDeque<LogEntry>, usize)>,
}

impl Printer {
    fn new(args: &LogArgs) -> Printer {
        let out = Output::stdout();
        let local_zone = (out.is_terminal() && !args.utc).then(TimeZone::system);
        let mut printer = Printer {
            out,
            local_zone,
            format: if args.json {
                LogFormat::Json
            } else {
                args.output
            },
            level: args.level,
            grep: args.grep.clone(),
            since: args.since,
            until: args.until,
            tail: None,
        };
        if printer.filters() {
            printer.tail = args.tail.map(|count| (VecDeque::new(), count));
        }
        printer
    }

    fn filters(&self) -> bool {
        self.level.is_some() || self.grep.is_some() || self.since.is_some() || self.until.is_some()
    }

    /// Everything retained was read: prints the matches kept for the tail,
    /// and prints every match as it comes from now on.
    fn caught_up(&mut self) -> io::Result<()> {
        let Some((kept, _)) = self.tail.take() else {
            return Ok(());
        };
        for entry in &kept {
            self.entry(entry)?;
        }
        Ok(())
    }

    /// `cursor_read`: the read's `dropped` counts entries missed since the
    /// last read, and is worth a marker. (For a tail read it is the log's
    /// lifetime total, which is no gap.)
    fn page(&mut self, page: &LogPage, cursor_read: bool) -> io::Result<()> {
        if page.reset {
            self.marker("the log was reset (the server restarted, or the session was created anew); reading it from the start")?;
        }
        if cursor_read && page.dropped > 0 {
            let dropped = page.dropped;
            let noun = if dropped == 1 { "entry" } else { "entries" };
            self.marker(&format!(
                "{dropped} {noun} dropped: evicted before they could be read"
            ))?;
        }
        for entry in &page.entries {
            if !self.shows(entry) {
                continue;
            }
            match &mut self.tail {
                Some((kept, count)) => {
                    kept.push_back(entry.clone());
                    if kept.len() > *count {
                        kept.pop_front();
                    }
                }
                None => self.entry(entry)?,
            }
        }
        Ok(())
    }

    fn shows(&self, entry: &LogEntry) -> bool {
        self.level.is_none_or(|level| entry.level >= level)
            && self
                .grep
                .as_deref()
                .is_none_or(|text| entry.message.contains(text))
            && self.since.is_none_or(|since| entry.timestamp >= since)
            && self.until.is_none_or(|until| entry.timestamp <= until)
    }

    /// `TIMESTAMP LEVEL MESSAGE [DATA]`, the message byte for byte; or
    /// the message alone; or the API's JSON.
    fn entry(&mut self, entry: &LogEntry) -> io::Result<()> {
        match self.format {
            LogFormat::Json => {
                self.out
                    .write(wire::entry_to_json(entry).to_string().as_bytes())?;
                return self.out.write(b"\n");
            }
            LogFormat::Raw => {
                self.out.write(entry.message.as_bytes())?;
                return self.out.write(b"\n");
            }
            LogFormat::Pretty => {}
        }
        let time = shown_time(entry.timestamp, self.local_zone.as_ref());
        self.out.styled(DIM, time.as_bytes())?;
        self.out.write(b" ")?;
        let level = format!("{:<5}", entry.level.as_str());
        self.out
            .styled(level_style(entry.level), level.as_bytes())?;
        self.out.write(b" ")?;
        self.out.write(entry.message.as_bytes())?;
        if let Some(data) = &entry.data {
            self.out.write(b" ")?;
            self.out.styled(DIM, data.as_bytes())?;
        }
        self.out.write(b"\n")
    }

    /// A line about the log rather than from it; on standard error in JSON
    /// and raw modes, where standard output holds entries only.
    fn marker(&mut self, text: &str) -> io::Result<()> {
        if self.format != LogFormat::Pretty {
            eprintln_quiet(&format!("zen: {text}"));
            return Ok(());
        }
        self.out.styled("33", format!("-- {text} --").as_bytes())?;
        self.out.write(b"\n")
    }
}

/// A time as `--utc` prints it (`2026-12-01T09:30:05.120Z`, RFC 3339 as the
/// API writes it), or in `zone` for a person at a terminal
/// (`2026-12-01 10:30:05.120`).
fn shown_time(time: Timestamp, zone: Option<&TimeZone>) -> String {
    match zone {
        Some(zone) => time
            .to_zoned_datetime(zone.clone())
            .strftime("%Y-%m-%d %H:%M:%S%.3f")
            .to_string(),
        None => format!("{time:.3}"),
    }
}

/// A line on standard error; if even that is gone there is nobody to tell.
pub(crate) fn eprintln_quiet(line: &str) {
    use std::io::Write;
    let _ = writeln!(io::stderr(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_local_for_people_and_utc_otherwise() {
        let time: Timestamp = "2026-01-02T03:04:05.678Z".parse().unwrap();
        assert_eq!(shown_time(time, None), "2026-01-02T03:04:05.678Z");
        let india = TimeZone::posix("IST-5:30").unwrap();
        assert_eq!(shown_time(time, Some(&india)), "2026-01-02 08:34:05.678");
        let whole: Timestamp = "2026-01-02T03:04:05Z".parse().unwrap();
        assert_eq!(
            shown_time(whole, Some(&TimeZone::UTC)),
            "2026-01-02 03:04:05.000",
            "always three digits, so columns line up"
        );
    }
}
