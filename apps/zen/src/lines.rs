//! Bytes from a pipe into log lines, and lines into batches for the server.
//!
//! `zen run` and `zen sessions append` read whatever arrives, however it is
//! cut, and must not wait for a line that never ends nor keep one that grows
//! forever: a line is cut off at the server's message limit, and a batch is
//! sent as soon as the input pauses, not when it is full.

use std::borrow::Cow;
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
        // A line begun in an earlier read is completed first.
        if !self.pending.is_empty() {
            let Some(end) = memchr::memchr(b'\n', bytes) else {
                self.keep(bytes);
                return;
            };
            self.keep(&bytes[..end]);
            self.emit(&mut line);
            bytes = &bytes[end + 1..];
        }
        // The whole lines of this read are taken where they lie, checked as
        // UTF-8 once together (a newline never falls inside a character):
        // `zen run -- seq 1000000` sends a million lines through here while
        // the command waits for the pipe, so no line is copied twice.
        let complete = memchr::memrchr(b'\n', bytes).map_or(0, |last| last + 1);
        let (lines, rest) = bytes.split_at(complete);
        match std::str::from_utf8(lines) {
            Ok(text) => {
                let mut start = 0;
                for end in memchr::memchr_iter(b'\n', lines) {
                    self.emit_whole(&text[start..end], &mut line);
                    start = end + 1;
                }
            }
            Err(_) => {
                let pieces = lines
                    .strip_suffix(b"\n")
                    .map(|whole| whole.split(|&byte| byte == b'\n'));
                for raw in pieces.into_iter().flatten() {
                    self.keep(raw);
                    self.emit(&mut line);
                }
            }
        }
        self.keep(rest);
    }

    /// A whole line of valid text, as `emit` would give it.
    fn emit_whole(&mut self, raw: &str, line: &mut impl FnMut(&str)) {
        if raw.len() > MAX_MESSAGE_BYTES + 4 {
            // Cut where `keep` cuts, which may be inside a character.
            self.keep(raw.as_bytes());
            self.emit(line);
            return;
        }
        let text = raw.strip_suffix('\r').unwrap_or(raw);
        if !text.bytes().all(|byte| byte.is_ascii_whitespace()) {
            line(text);
        }
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

/// The text a terminal shows for a line written to it, as the log should
/// keep it: escape sequences (colours, cursor moves, window titles) are
/// removed, and of a line redrawn with carriage returns (a progress bar)
/// only the last state is kept.
pub(crate) fn terminal_text(line: &str) -> Cow<'_, str> {
    if !line.contains(['\x1b', '\r']) {
        return Cow::Borrowed(line);
    }
    let last_state = line
        .rsplit('\r')
        .find(|state| !state.is_empty())
        .unwrap_or_default();
    let mut text = String::with_capacity(last_state.len());
    let mut characters = last_state.chars().peekable();
    while let Some(character) = characters.next() {
        if character != '\x1b' {
            text.push(character);
            continue;
        }
        match characters.next() {
            // Control sequence: parameters and intermediates up to a final
            // byte in @..~ (colours are `ESC [ 31 m`).
            Some('[') => {
                for inner in characters.by_ref() {
                    if ('@'..='~').contains(&inner) {
                        break;
                    }
                }
            }
            // Operating system command (a window title, a hyperlink): up
            // to BEL or ESC \.
            Some(']') => {
                while let Some(inner) = characters.next() {
                    if inner == '\x07' {
                        break;
                    }
                    if inner == '\x1b' {
                        characters.next_if_eq(&'\\');
                        break;
                    }
                }
            }
            // Intermediates, then one final byte (`ESC ( B`).
            Some(' '..='/') => {
                for inner in characters.by_ref() {
                    if ('0'..='~').contains(&inner) {
                        break;
                    }
                }
            }
            // Two bytes (`ESC 7`), or a lone ESC at the end.
            Some(_) | None => {}
        }
    }
    Cow::Owned(text)
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
    fn terminal_lines_keep_their_text_only() {
        let check =
            |line: &str, expected: &str| assert_eq!(terminal_text(line), expected, "{line:?}");
        check("plain", "plain");
        check("\x1b[1;31merror\x1b[0m: failed", "error: failed");
        check("\x1b[38;5;208mcolour\x1b[m", "colour");
        check(" 10%\r 50%\r100%", "100%");
        check("done\r", "done");
        check("\x1b]0;title\x07text", "text");
        check("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link");
        check("\x1b(Bcharset", "charset");
        check("\x1b7saved\x1b8", "saved");
        check("cut\x1b[", "cut");
        check("\x1b[2K\x1b[1G", "");
    }

    /// The splitter as it was before whole lines were taken in place: each
    /// line through `keep` and `emit`. The fast path must give the same.
    fn split_line_by_line(chunks: &[Vec<u8>]) -> Vec<String> {
        let mut splitter = LineSplitter::default();
        let mut lines = Vec::new();
        for chunk in chunks {
            let mut bytes = chunk.as_slice();
            while let Some(end) = bytes.iter().position(|&byte| byte == b'\n') {
                splitter.keep(&bytes[..end]);
                splitter.emit(&mut |line: &str| lines.push(line.to_owned()));
                bytes = &bytes[end + 1..];
            }
            splitter.keep(bytes);
        }
        splitter.finish(|line| lines.push(line.to_owned()));
        lines
    }

    proptest::proptest! {
        #[test]
        fn taking_whole_lines_in_place_changes_nothing(
            chunks in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::prop_oneof![
                        proptest::sample::select(b"ab \t\r\n\xc3\xa9\xff".to_vec()),
                        proptest::num::u8::ANY,
                    ],
                    0..64,
                ),
                0..12,
            )
        ) {
            let mut splitter = LineSplitter::default();
            let mut lines = Vec::new();
            for chunk in &chunks {
                splitter.push(chunk, |line| lines.push(line.to_owned()));
            }
            splitter.finish(|line| lines.push(line.to_owned()));
            proptest::prop_assert_eq!(lines, split_line_by_line(&chunks));
        }
    }

    #[test]
    fn long_lines_are_cut_alike_in_one_read_or_many() {
        let mut long = "é".repeat(MAX_MESSAGE_BYTES);
        long.push('\n');
        let whole = split_line_by_line(&[long.clone().into_bytes()]);
        check(&[long.as_bytes()], &[whole[0].as_str()]);
        assert_eq!(whole[0].len(), MAX_MESSAGE_BYTES + 4);
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
