//! Bytes from a pipe into log lines, and lines into batches for the server.
//!
//! `zen run` and `zen sessions append` read whatever arrives, however it is
//! cut, and must not wait for a line that never ends nor keep one that grows
//! forever: a line is cut off at the server's message limit, and a batch is
//! sent as soon as the input pauses, not when it is full.

use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use sessions_client::{EntryBatch, MAX_MESSAGE_BYTES, NewEntry};

/// How long a batch waits for more lines after its first one.
pub(crate) const LINGER: Duration = Duration::from_millis(100);

/// Cuts a byte stream into lines.
#[derive(Debug, Default)]
pub(crate) struct LineSplitter {
    pending: Vec<u8>,
}

impl LineSplitter {
    /// Feeds `bytes`, calling `line` for every line they complete. Lines are
    /// `\n`- or `\r\n`-terminated; blank and whitespace-only lines are
    /// skipped, as the server does with text; bytes that are not UTF-8 become
    /// U+FFFD. A line longer than the server takes is kept only up to a bit
    /// over the limit, for the batch to cut and mark.
    pub(crate) fn push(&mut self, mut bytes: &[u8], mut line: impl FnMut(&str)) {
        while let Some(end) = bytes.iter().position(|&byte| byte == b'\n') {
            self.keep(&bytes[..end]);
            self.emit(&mut line);
            bytes = &bytes[end + 1..];
        }
        self.keep(bytes);
    }

    /// The last line, when the stream ended without a newline.
    pub(crate) fn finish(&mut self, mut line: impl FnMut(&str)) {
        self.emit(&mut line);
    }

    fn keep(&mut self, bytes: &[u8]) {
        let room = (MAX_MESSAGE_BYTES + 4).saturating_sub(self.pending.len());
        self.pending
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn emit(&mut self, line: &mut impl FnMut(&str)) {
        let mut text = self.pending.as_slice();
        if let Some(stripped) = text.strip_suffix(b"\r") {
            text = stripped;
        }
        if !text.iter().all(u8::is_ascii_whitespace) {
            line(&String::from_utf8_lossy(text));
        }
        self.pending.clear();
    }
}

/// Waits for an entry, then takes whatever else arrives within [`LINGER`]
/// until the batch is full. False when the channel closed with nothing left.
pub(crate) fn collect_batch(receiver: &Receiver<NewEntry>, batch: &mut EntryBatch) -> bool {
    match receiver.recv() {
        Ok(entry) => batch.push(entry),
        Err(_) => return false,
    }
    let deadline = Instant::now() + LINGER;
    while !batch.is_full() {
        match receiver.recv_deadline(deadline) {
            Ok(entry) => batch.push(entry),
            Err(_) => break,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(chunks: &[&[u8]], expected: &[&str]) {
        let mut splitter = LineSplitter::default();
        let mut lines = Vec::new();
        for chunk in chunks {
            splitter.push(chunk, |line| lines.push(line.to_owned()));
        }
        splitter.finish(|line| lines.push(line.to_owned()));
        assert_eq!(lines, expected, "{chunks:?}");
    }

    #[test]
    fn lines_are_cut_wherever_the_chunks_end() {
        check(&[b"one\ntwo\n"], &["one", "two"]);
        check(&[b"o", b"ne\r", b"\ntw", b"o"], &["one", "two"]);
        check(&[b"\n\n  \t\n\r\nkept  \n"], &["kept  "]);
        check(&[b"  indented\n"], &["  indented"]);
        check(&[b"ok\xff\n"], &["ok\u{fffd}"]);
        check(&[b"a\rb\n"], &["a\rb"]);
        check(&[], &[]);
    }

    #[test]
    fn an_endless_line_is_kept_only_up_to_the_limit() {
        let mut splitter = LineSplitter::default();
        let mut lines = Vec::new();
        for _ in 0..100 {
            splitter.push(&[b'x'; 4096], |line| lines.push(line.to_owned()));
        }
        splitter.push(b"\nnext\n", |line| lines.push(line.to_owned()));
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].len(), MAX_MESSAGE_BYTES + 4);
        assert_eq!(lines[1], "next");
    }
}
