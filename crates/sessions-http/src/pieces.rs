//! Large bodies written in pieces, so a connection never holds a copy of one.
//!
//! actix's HTTP/1 encoder copies every chunk a body yields into the
//! connection's write buffer and then waits for the socket to drain it. Handed
//! a whole 13 MB session list as one chunk, each connection grew a 13 MB
//! buffer of its own, and a client that stopped reading kept it forever. A
//! [`Pieces`] body yields at most [`PIECE_BYTES`] at a time, each a slice of
//! the one shared [`Bytes`] (a reference count, not a copy), and only when the
//! connection asks for more, that is when its socket took the previous piece.
//! What a stalled reader holds is then at most two pieces in actix's write
//! buffer (it takes chunks until it holds [`PIECE_BYTES`]) plus the kernel's
//! socket buffer.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;

/// The most a body hands the connection at once.
pub(crate) const PIECE_BYTES: usize = 16 << 10;

/// A body of known length, yielded in slices of at most [`PIECE_BYTES`].
#[derive(Debug)]
pub(crate) struct Pieces {
    rest: Bytes,
}

impl Pieces {
    pub(crate) fn new(bytes: Bytes) -> Pieces {
        Pieces { rest: bytes }
    }

    /// The next piece of at most [`PIECE_BYTES`], if anything is left.
    pub(crate) fn next_piece(&mut self) -> Option<Bytes> {
        if self.rest.is_empty() {
            return None;
        }
        let len = self.rest.len().min(PIECE_BYTES);
        Some(self.rest.split_to(len))
    }
}

impl MessageBody for Pieces {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.rest.len() as u64)
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Poll::Ready(self.get_mut().next_piece().map(Ok))
    }

    fn try_into_bytes(self) -> Result<Bytes, Self> {
        // Small bodies go out whole; large ones stay in pieces.
        if self.rest.len() <= PIECE_BYTES {
            Ok(self.rest)
        } else {
            Err(self)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_slices_of_the_shared_bytes_in_order() {
        let bytes = Bytes::from((0..200_000u32).map(|n| n as u8).collect::<Vec<u8>>());
        let mut pieces = Pieces::new(bytes.clone());
        let mut joined = Vec::new();
        let mut count = 0;
        while let Some(piece) = pieces.next_piece() {
            assert!(piece.len() <= PIECE_BYTES);
            // A slice points into the shared buffer: nothing was copied.
            let offset = piece.as_ptr() as usize - bytes.as_ptr() as usize;
            assert_eq!(offset, joined.len());
            joined.extend_from_slice(&piece);
            count += 1;
        }
        assert_eq!(joined, bytes);
        assert_eq!(count, bytes.len().div_ceil(PIECE_BYTES));
        assert_eq!(pieces.next_piece(), None);
    }

    #[test]
    fn small_bodies_go_out_whole() {
        let small = Pieces::new(Bytes::from_static(b"{\"sessions\":[]}"));
        assert_eq!(small.size(), BodySize::Sized(15));
        assert!(small.try_into_bytes().is_ok());
        let large = Pieces::new(Bytes::from(vec![b'x'; PIECE_BYTES + 1]));
        assert!(large.try_into_bytes().is_err());
    }
}
