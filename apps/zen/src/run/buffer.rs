//! The lines of `zen run` between the command and the server: a queue
//! bounded in bytes that never blocks the command.
//!
//! The command's output is read as fast as it comes and must never wait for
//! the server, so the readers only ever append here. While the server keeps
//! up the queue stays short; when it does not, the queue grows up to its
//! byte limit and then gives up its *oldest* lines, not the newest: the end
//! of a build log is what tells why it failed. Every line given up is
//! counted, and the queue keeps a marker where they were, so the log says
//! exactly how many lines are missing and where.
//!
//! Lines are stored compactly, one chunk per read of the pipe: the text of
//! all its lines back to back and where each ends (4 bytes a line). A
//! million short lines take about 11 MB here, not the 80 MB they would as
//! separate entries.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use jiff::Timestamp;
use sessions_client::{EntryBatch, EntryData, Level, Metadata, NewEntry};

/// What a chunk costs besides its text and line ends.
const CHUNK_OVERHEAD_BYTES: usize = 64;

/// About what a line adds to a request body besides its text: the
/// timestamp, the level and the JSON around them.
const ESTIMATED_ENTRY_OVERHEAD_BYTES: usize = 80;

/// The lines of one read of one stream: same time, same level.
#[derive(Debug)]
pub(crate) struct LineChunk {
    timestamp: Timestamp,
    level: Level,
    text: String,
    /// Where each line ends in `text`.
    ends: Vec<u32>,
    /// Lines already handed to the shipper.
    taken: usize,
}

impl LineChunk {
    pub(crate) fn new(timestamp: Timestamp, level: Level) -> LineChunk {
        LineChunk {
            timestamp,
            level,
            text: String::new(),
            ends: Vec::new(),
            taken: 0,
        }
    }

    pub(crate) fn push(&mut self, line: &str) {
        self.text.push_str(line);
        // A chunk holds one read of at most 256 KiB (and a line cut a bit
        // over the message limit), far from 4 GiB.
        self.ends
            .push(u32::try_from(self.text.len()).unwrap_or(u32::MAX));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    fn line(&self, index: usize) -> &str {
        let start = index
            .checked_sub(1)
            .map_or(0, |before| self.ends[before] as usize);
        &self.text[start..self.ends[index] as usize]
    }

    /// How many of the lines left (at least one, however long) fit in
    /// `lines` and about `bytes` of request body, and their estimated size.
    fn prefix_within(&self, lines: usize, bytes: usize) -> (usize, usize) {
        let mut count = 0;
        let mut size = 0;
        for index in self.taken..self.ends.len() {
            let line_size = ESTIMATED_ENTRY_OVERHEAD_BYTES + self.line(index).len();
            if count == lines || (count > 0 && size + line_size > bytes) {
                break;
            }
            count += 1;
            size += line_size;
        }
        (count, size)
    }

    /// Hands out the next `count` lines as a chunk of their own.
    fn split_front(&mut self, count: usize) -> LineChunk {
        let mut front = LineChunk::new(self.timestamp, self.level);
        for index in self.taken..self.taken + count {
            front.push(self.line(index));
        }
        self.taken += count;
        front
    }

    fn lines_left(&self) -> u64 {
        (self.ends.len() - self.taken) as u64
    }

    fn cost(&self) -> usize {
        CHUNK_OVERHEAD_BYTES + self.text.capacity() + 4 * self.ends.capacity()
    }
}

#[derive(Debug)]
enum Queued {
    Lines(LineChunk),
    /// This many lines were given up here.
    Gap(u64),
}

/// The queue between the command's output readers and the shipper.
#[derive(Debug)]
pub(crate) struct OutputBuffer {
    state: Mutex<State>,
    changed: Condvar,
    limit_bytes: usize,
}

#[derive(Debug, Default)]
struct State {
    queue: VecDeque<Queued>,
    bytes: usize,
    /// When the last line came: no more will.
    closed_at: Option<Instant>,
    /// Lines pushed are counted and given up at once.
    discarding: bool,
    /// zen was asked to finish: only the last lines are worth waiting for.
    hurried: bool,
    dropped: u64,
}

/// What [`OutputBuffer::take`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Taken {
    /// Entries were added to the batch: this many of the command's lines
    /// (gap markers aside).
    Some { lines: u64 },
    /// Nothing came before the deadline.
    Nothing,
    /// The buffer is closed and empty: all was taken.
    Finished,
}

impl OutputBuffer {
    /// A buffer that holds about `limit_bytes` of lines. One chunk is always
    /// taken, however large, so the bound is the limit plus one read.
    pub(crate) fn new(limit_bytes: usize) -> OutputBuffer {
        OutputBuffer {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            limit_bytes,
        }
    }

    /// Queues `chunk`, giving up the oldest queued lines to make room.
    /// Never waits for the shipper.
    pub(crate) fn push(&self, chunk: LineChunk) {
        if chunk.is_empty() {
            return;
        }
        let mut state = self.lock();
        if state.discarding {
            state.dropped += chunk.lines_left();
            return;
        }
        let cost = chunk.cost();
        while state.bytes + cost > self.limit_bytes && state.evict_oldest_chunk() {}
        state.bytes += cost;
        state.queue.push_back(Queued::Lines(chunk));
        drop(state);
        self.changed.notify_one();
    }

    /// No more lines will be pushed.
    pub(crate) fn close(&self) {
        self.lock().closed_at.get_or_insert_with(Instant::now);
        self.changed.notify_all();
    }

    /// Asks the shipper to send only the last lines, and soon.
    pub(crate) fn hurry(&self) {
        self.lock().hurried = true;
        self.changed.notify_all();
    }

    pub(crate) fn hurried(&self) -> bool {
        self.lock().hurried
    }

    /// When [`OutputBuffer::close`] was called.
    pub(crate) fn closed_at(&self) -> Option<Instant> {
        self.lock().closed_at
    }

    /// Counts `lines` that were taken but could not be shipped, as a gap
    /// before everything still queued.
    pub(crate) fn count_dropped(&self, lines: u64) {
        if lines == 0 {
            return;
        }
        let mut state = self.lock();
        state.dropped += lines;
        if !state.discarding {
            state.queue.push_front(Queued::Gap(lines));
            state.merge_front_gaps();
        }
    }

    /// Gives up every queued line but the last `keep`: used when the final
    /// flush runs out of time, so the end of the output still gets through.
    pub(crate) fn keep_only_last(&self, keep: u64) {
        let mut state = self.lock();
        let queued: u64 = state.queue.iter().map(Queued::lines).sum();
        let mut give_up = queued.saturating_sub(keep);
        while give_up > 0 {
            let Some(oldest) = state.queue.iter_mut().find_map(|queued| match queued {
                Queued::Lines(chunk) => Some(chunk),
                Queued::Gap(_) => None,
            }) else {
                break;
            };
            let left = oldest.lines_left();
            if left <= give_up {
                state.evict_oldest_chunk();
                give_up -= left;
            } else {
                oldest.taken += usize::try_from(give_up).unwrap_or(usize::MAX);
                state.dropped += give_up;
                state.queue.push_front(Queued::Gap(give_up));
                state.merge_front_gaps();
                give_up = 0;
            }
        }
    }

    /// Gives up everything queued, and everything pushed from now on:
    /// for when nothing can be stored any more.
    pub(crate) fn discard_all(&self) {
        let mut state = self.lock();
        let lines: u64 = state.queue.iter().map(Queued::lines).sum();
        state.queue.clear();
        state.bytes = 0;
        state.dropped += lines;
        state.discarding = true;
    }

    /// Lines given up so far.
    pub(crate) fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    /// Moves queued lines into `batch` (gaps become `warn` entries), as
    /// many as it has room for within its limits (at least one), waiting until `deadline` for the first one. The
    /// lines are only unhooked under the lock and made into entries after,
    /// so the command's readers are never kept waiting for that.
    pub(crate) fn take(&self, batch: &mut EntryBatch, deadline: Instant) -> Taken {
        let mut state = self.lock();
        while state.queue.is_empty() {
            if state.closed_at.is_some() {
                return Taken::Finished;
            }
            let now = Instant::now();
            if now >= deadline {
                return Taken::Nothing;
            }
            state = self
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        let mut unhooked = Vec::new();
        let limits = batch.limits();
        let mut lines_left = limits.max_entries.saturating_sub(batch.len()).max(1);
        let mut bytes_left = limits
            .max_bytes
            .saturating_sub(batch.estimated_bytes())
            .max(1);
        while lines_left > 0 && bytes_left > 0 {
            let Some(front) = state.queue.front_mut() else {
                break;
            };
            let chunk = match front {
                Queued::Gap(_) => {
                    unhooked.extend(state.queue.pop_front());
                    lines_left -= 1;
                    continue;
                }
                Queued::Lines(chunk) => chunk,
            };
            let (lines, bytes) = chunk.prefix_within(lines_left, bytes_left);
            lines_left -= lines;
            bytes_left = bytes_left.saturating_sub(bytes);
            if lines < chunk.ends.len() - chunk.taken {
                unhooked.push(Queued::Lines(chunk.split_front(lines)));
                break;
            }
            let cost = chunk.cost();
            state.bytes -= cost;
            unhooked.extend(state.queue.pop_front());
        }
        drop(state);
        let mut lines = 0;
        for queued in unhooked {
            match queued {
                Queued::Gap(count) => batch.push(gap_entry(count)),
                Queued::Lines(chunk) => {
                    lines += chunk.lines_left();
                    for index in chunk.taken..chunk.ends.len() {
                        let line = chunk.line(index).to_owned();
                        batch.push(NewEntry::new(chunk.timestamp, chunk.level, line));
                    }
                }
            }
        }
        Taken::Some { lines }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent between statements; a reader thread
        // that panicked leaves nothing half done.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// Gives up the oldest queued chunk of lines, leaving a gap marker in
    /// its place. False when there was none.
    fn evict_oldest_chunk(&mut self) -> bool {
        let Some(position) = self
            .queue
            .iter()
            .position(|queued| matches!(queued, Queued::Lines(_)))
        else {
            return false;
        };
        let Some(Queued::Lines(chunk)) = self.queue.remove(position) else {
            return false;
        };
        self.bytes -= chunk.cost();
        let lines = chunk.lines_left();
        self.dropped += lines;
        // Gaps before the first chunk are all at the front: one marker.
        self.queue.push_front(Queued::Gap(lines));
        self.merge_front_gaps();
        true
    }

    fn merge_front_gaps(&mut self) {
        let mut total = 0;
        while let Some(Queued::Gap(count)) = self.queue.front() {
            total += count;
            self.queue.pop_front();
        }
        if total > 0 {
            self.queue.push_front(Queued::Gap(total));
        }
    }
}

impl Queued {
    fn lines(&self) -> u64 {
        match self {
            Queued::Lines(chunk) => chunk.lines_left(),
            Queued::Gap(_) => 0,
        }
    }
}

/// The entry that marks lines given up, where they were. Its message
/// starts with `zen: <count> `, for people and scripts alike.
fn gap_entry(count: u64) -> NewEntry {
    let mut data = Metadata::new();
    data.insert("dropped_lines".into(), count.into());
    NewEntry::new(
        Timestamp::now(),
        Level::Warn,
        format!(
            "zen: {count} lines of output were not stored here: the server did not take them in time"
        ),
    )
    .with_data(EntryData::from_object(&data))
}

#[cfg(test)]
mod tests;
