//! How an entry is laid out in the arena: a few varints, then the message
//! and the data.
//!
//! ```text
//! varint message length | varint (data length << 2 | level) |
//! zigzag varint (timestamp - previous entry's timestamp, ms) | message | data
//! ```
//!
//! A 60-byte line logged within 64 ms of the one before costs 63 bytes.

use crate::Level;

/// The longest header: three varints of up to 10 bytes each. Real headers
/// are far shorter (a length needs 5 bytes only past 4 GiB), but the bound
/// holds for any value, so encoding can never run out of room.
pub(crate) const MAX_HEADER_BYTES: usize = 30;

/// An entry's header, read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecordHeader {
    pub(crate) message_len: usize,
    pub(crate) data_len: usize,
    pub(crate) level: Level,
    /// Milliseconds since the previous entry of the log.
    pub(crate) delta_ms: i64,
    pub(crate) header_len: usize,
}

impl RecordHeader {
    /// Bytes the whole record takes: header, message and data.
    pub(crate) fn record_len(&self) -> usize {
        self.header_len + self.message_len + self.data_len
    }

    /// Writes a header into `out`; returns how many bytes it took.
    pub(crate) fn encode(
        message_len: usize,
        data_len: usize,
        level: Level,
        delta_ms: i64,
        out: &mut [u8; MAX_HEADER_BYTES],
    ) -> usize {
        let mut at = put_varint(message_len as u64, out, 0);
        at = put_varint(
            ((data_len as u64) << 2) | u64::from(level.to_bits()),
            out,
            at,
        );
        put_varint(zigzag(delta_ms), out, at)
    }

    /// Bytes a header with these values takes.
    pub(crate) fn encoded_len(message_len: usize, data_len: usize, delta_ms: i64) -> usize {
        let mut scratch = [0u8; MAX_HEADER_BYTES];
        RecordHeader::encode(message_len, data_len, Level::Debug, delta_ms, &mut scratch)
    }

    /// Reads a header from the start of `bytes` (the first bytes of a record,
    /// as many as there are, up to [`MAX_HEADER_BYTES`]).
    ///
    /// Only headers [`RecordHeader::encode`] wrote are ever read; a short or
    /// broken one reads as zeros rather than failing.
    pub(crate) fn decode(bytes: &[u8]) -> RecordHeader {
        let (message_len, at) = get_varint(bytes, 0);
        let (data_and_level, at) = get_varint(bytes, at);
        let (delta, at) = get_varint(bytes, at);
        RecordHeader {
            message_len: message_len as usize,
            data_len: (data_and_level >> 2) as usize,
            level: Level::from_bits((data_and_level & 3) as u8),
            delta_ms: unzigzag(delta),
            header_len: at,
        }
    }
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

/// LEB128: seven bits a byte, low bits first.
fn put_varint(mut value: u64, out: &mut [u8; MAX_HEADER_BYTES], mut at: usize) -> usize {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out[at] = byte;
            return at + 1;
        }
        out[at] = byte | 0x80;
        at += 1;
    }
}

fn get_varint(bytes: &[u8], mut at: usize) -> (u64, usize) {
    let mut value = 0u64;
    let mut shift = 0;
    while let Some(&byte) = bytes.get(at) {
        at += 1;
        value |= u64::from(byte & 0x7f) << shift.min(63);
        if byte & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    (value, at)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_short_line_close_in_time_takes_three_bytes_of_header() {
        assert_eq!(RecordHeader::encoded_len(60, 0, 0), 3);
        assert_eq!(RecordHeader::encoded_len(60, 0, 63), 3);
        assert_eq!(RecordHeader::encoded_len(60, 0, 64), 4);
        assert_eq!(RecordHeader::encoded_len(200, 40, -1), 5);
        assert!(
            RecordHeader::encoded_len(usize::MAX >> 2, usize::MAX >> 2, i64::MIN)
                <= MAX_HEADER_BYTES
        );
    }

    proptest! {
        #[test]
        fn headers_read_back_as_written(
            message_len in 0usize..(1 << 34),
            data_len in 0usize..(1 << 34),
            level in 0u8..4,
            delta_ms in any::<i64>(),
        ) {
            let level = Level::from_bits(level);
            let mut out = [0u8; MAX_HEADER_BYTES];
            let len = RecordHeader::encode(message_len, data_len, level, delta_ms, &mut out);
            let header = RecordHeader::decode(&out[..len]);
            prop_assert_eq!(header, RecordHeader { message_len, data_len, level, delta_ms, header_len: len });
            prop_assert_eq!(RecordHeader::encoded_len(message_len, data_len, delta_ms), len);
        }
    }
}
