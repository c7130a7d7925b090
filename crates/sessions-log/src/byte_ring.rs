//! A growable circular byte buffer, the arena that holds a log's records.
//!
//! Bytes are addressed by *position*: a counter that starts at 0 and only grows,
//! so a position kept in a checkpoint or a read stays valid until the bytes are
//! released, however often the buffer wraps or is reallocated.

/// The smallest storage the ring allocates, so tiny logs do not reallocate on
/// every append.
const MIN_CAPACITY: usize = 256;

#[derive(Debug, Default)]
pub(crate) struct ByteRing {
    /// Physical storage; every byte of it is usable, `len()` is the capacity.
    storage: Vec<u8>,
    /// Physical index of the oldest byte in use.
    head: usize,
    /// Bytes in use.
    len: usize,
    /// Position of the oldest byte in use.
    head_position: u64,
}

impl ByteRing {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn capacity(&self) -> usize {
        self.storage.len()
    }

    /// The position the next pushed byte will get.
    pub(crate) fn end_position(&self) -> u64 {
        self.head_position + self.len as u64
    }

    /// Appends `parts` back to back and returns the position of the first byte.
    pub(crate) fn push(&mut self, parts: &[&[u8]]) -> u64 {
        let start = self.end_position();
        let total: usize = parts.iter().map(|part| part.len()).sum();
        if total == 0 {
            return start;
        }
        self.reserve(total);
        for part in parts {
            let capacity = self.storage.len();
            let tail = (self.head + self.len) % capacity;
            let first = part.len().min(capacity - tail);
            self.storage[tail..tail + first].copy_from_slice(&part[..first]);
            self.storage[..part.len() - first].copy_from_slice(&part[first..]);
            self.len += part.len();
        }
        start
    }

    /// The bytes at `position..position + len`, as one or two slices (two when
    /// they wrap around the end of the storage).
    ///
    /// The range must be in use; record headers guarantee that.
    pub(crate) fn get(&self, position: u64, len: usize) -> (&[u8], &[u8]) {
        debug_assert!(position >= self.head_position);
        debug_assert!(position + len as u64 <= self.end_position());
        if len == 0 {
            return (&[], &[]);
        }
        let capacity = self.storage.len();
        let offset = (position - self.head_position) as usize;
        let start = (self.head + offset) % capacity;
        let first = len.min(capacity - start);
        (
            &self.storage[start..start + first],
            &self.storage[..len - first],
        )
    }

    /// Releases every byte before `position`.
    pub(crate) fn release_before(&mut self, position: u64) {
        debug_assert!(position >= self.head_position && position <= self.end_position());
        let count = (position - self.head_position) as usize;
        if count == 0 {
            return;
        }
        self.head = (self.head + count) % self.storage.len();
        self.len -= count;
        self.head_position = position;
        if self.len == 0 {
            self.head = 0;
        }
    }

    /// Gives memory back when at most half of the storage is in use, keeping a
    /// quarter of slack, so the storage never exceeds twice what is in use
    /// after a release. Growing needs the storage full, shrinking it half
    /// empty, so the two never chase each other: reallocations stay
    /// amortized O(1) per byte.
    pub(crate) fn shrink_if_sparse(&mut self) {
        let capacity = self.storage.len();
        if capacity > MIN_CAPACITY && self.len <= capacity / 2 {
            self.reallocate((self.len + self.len / 4).max(MIN_CAPACITY));
        }
    }

    /// Shrinks the storage to what is in use plus `slack`, when it holds more
    /// than twice that slack beyond what is in use.
    pub(crate) fn fit(&mut self, slack: usize) {
        let wanted = (self.len + slack).max(MIN_CAPACITY);
        if self.storage.len() > wanted + slack {
            self.reallocate(wanted);
        }
    }

    fn reserve(&mut self, additional: usize) {
        let needed = self.len + additional;
        let capacity = self.storage.len();
        if needed > capacity {
            // Grow by a quarter rather than double: slack is memory every
            // log pays for as long as it lives; the extra copying is paid
            // once, while the log grows.
            self.reallocate(needed.max(capacity + capacity / 4).max(MIN_CAPACITY));
        }
    }

    /// Moves the bytes in use to the front of a new storage of `capacity` bytes.
    fn reallocate(&mut self, capacity: usize) {
        debug_assert!(capacity >= self.len);
        let mut storage = Vec::with_capacity(capacity);
        let (first, second) = self.get(self.head_position, self.len);
        storage.extend_from_slice(first);
        storage.extend_from_slice(second);
        storage.resize(capacity, 0);
        self.storage = storage;
        self.head = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn read(ring: &ByteRing, position: u64, len: usize) -> Vec<u8> {
        let (first, second) = ring.get(position, len);
        [first, second].concat()
    }

    #[test]
    fn wraps_around_the_end() {
        let mut ring = ByteRing::default();
        let chunk = [7u8; 200];
        let a = ring.push(&[&chunk]);
        ring.release_before(a + 150);
        let b = ring.push(&[b"hello ", b"world"]);
        let c = ring.push(&[&[1u8; 100]]);
        assert_eq!(ring.capacity(), MIN_CAPACITY, "fits without growing");
        assert_eq!(read(&ring, b, 11), b"hello world");
        assert_eq!(read(&ring, c, 100), vec![1u8; 100]);
        let (first, second) = ring.get(c, 100);
        assert!(!second.is_empty() || first.len() == 100);
    }

    #[test]
    fn fits_to_what_is_in_use() {
        let mut ring = ByteRing::default();
        let start = ring.push(&[&vec![1u8; 10_000]]);
        ring.push(&[&vec![2u8; 5_000]]);
        ring.release_before(start + 10_000);
        ring.fit(100);
        assert_eq!(ring.capacity(), 5_100);
        ring.fit(100);
        assert_eq!(ring.capacity(), 5_100, "nothing to give back twice");
    }

    #[test]
    fn shrinks_when_mostly_empty() {
        let mut ring = ByteRing::default();
        let start = ring.push(&[&vec![1u8; 10_000]]);
        let kept = ring.push(&[b"tail"]);
        ring.release_before(start + 10_000);
        ring.shrink_if_sparse();
        assert_eq!(ring.capacity(), MIN_CAPACITY);
        assert_eq!(read(&ring, kept, 4), b"tail");
    }

    proptest! {
        /// Whatever the interleaving of pushes and releases, every byte still in
        /// use reads back as it was written.
        #[test]
        fn reads_back_what_was_pushed(ops in prop::collection::vec((0usize..600, 0usize..4), 1..200)) {
            let mut ring = ByteRing::default();
            let mut model: std::collections::VecDeque<(u64, Vec<u8>)> = Default::default();
            for (step, (size, releases)) in ops.into_iter().enumerate() {
                let bytes: Vec<u8> = (0..size).map(|i| (i + step) as u8).collect();
                let position = ring.push(&[&bytes]);
                model.push_back((position, bytes));
                for _ in 0..releases {
                    if model.len() > 1 {
                        model.pop_front();
                        let oldest = model.front().map(|(p, _)| *p).unwrap_or(ring.end_position());
                        ring.release_before(oldest);
                    }
                }
                if step % 7 == 0 {
                    ring.shrink_if_sparse();
                }
                let in_use: usize = model.iter().map(|(_, b)| b.len()).sum();
                prop_assert_eq!(ring.len(), in_use);
                for (position, bytes) in &model {
                    prop_assert_eq!(&read(&ring, *position, bytes.len()), bytes);
                }
            }
        }
    }
}
