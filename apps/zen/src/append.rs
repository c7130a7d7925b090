//! `zen sessions append`: standard input, line by line, into a session.
//!
//! A thread reads standard input while this one sends, so a slow producer
//! (`tail -f build.log | zen sessions append ID`) gets its lines stored as
//! they come, and a fast one gets them in large batches. The buffer between
//! the two is bounded: when the server is slower than the input, reading
//! waits, and nothing is lost.

use std::io::{self, Read};

use anyhow::{Context, Result};
use crossbeam_channel::Sender;
use jiff::Timestamp;
use sessions_client::{Client, EntryBatch, Level, NewEntry};

use crate::cli::AppendArgs;
use crate::lines::{LineSplitter, collect_batch};

/// Lines read ahead of the sender, at most.
const BUFFERED_LINES: usize = 10_000;

pub(crate) fn append(client: &Client, args: &AppendArgs) -> Result<()> {
    let id = args.id.resolve(client)?;
    let (sender, receiver) = crossbeam_channel::bounded(BUFFERED_LINES);
    let level = args.level;
    let reader = std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || read_lines(io::stdin().lock(), level, &sender))
        .context("cannot start reading standard input")?;
    let mut batch = EntryBatch::default();
    while collect_batch(&receiver, &mut batch) {
        client
            .append_entries(id, &batch.take())
            .with_context(|| format!("cannot append to session {id}"))?;
    }
    match reader.join() {
        Ok(result) => result.context("cannot read standard input"),
        Err(_) => anyhow::bail!("reading standard input failed"),
    }
}

/// Until end of input, or until the sender gave up (the channel closed).
fn read_lines(mut input: impl Read, level: Level, lines: &Sender<NewEntry>) -> io::Result<()> {
    let mut buffer = vec![0; 64 << 10];
    let mut splitter = LineSplitter::default();
    // A send fails only when the sender gave up; its error is reported there.
    let send = |line: &str| {
        let _ = lines.send(NewEntry::new(Timestamp::now(), level, line));
    };
    loop {
        let read = match input.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        splitter.push(&buffer[..read], send);
    }
    splitter.finish(send);
    Ok(())
}
