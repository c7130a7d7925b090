//! A minimal WebSocket client for the benchmarks: the handshake (optionally
//! offering permessage-deflate) and reading frames, keeping only the start
//! of each payload, which is all the cases look at.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

use anyhow::bail;

pub(crate) struct Watcher {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    scratch: Vec<u8>,
}

/// One frame: its first byte (FIN, RSV1, opcode), its payload length, and
/// the first bytes of the payload.
pub(crate) struct Frame<'a> {
    pub(crate) first: u8,
    pub(crate) len: usize,
    pub(crate) start: &'a [u8],
}

impl Frame<'_> {
    pub(crate) fn is_text(&self) -> bool {
        self.first & 0x0f == 1
    }

    pub(crate) fn is_close(&self) -> bool {
        self.first & 0x0f == 8
    }

    pub(crate) fn is_compressed(&self) -> bool {
        self.first & 0x40 != 0
    }
}

impl Watcher {
    /// Connects to `/sessions/ws` and completes the handshake.
    pub(crate) fn connect(port: u16, deflate: bool) -> anyhow::Result<Watcher> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        let mut writer = stream.try_clone()?;
        let offer = if deflate {
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        } else {
            ""
        };
        write!(
            writer,
            "GET /sessions/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{offer}\r\n"
        )?;
        let mut reader = BufReader::with_capacity(64 << 10, stream);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        if !line.starts_with("HTTP/1.1 101") {
            bail!("upgrade refused: {line}");
        }
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            if line == "\r\n" {
                break;
            }
        }
        Ok(Watcher {
            reader,
            writer,
            scratch: vec![0u8; 64 << 10],
        })
    }

    /// Reads the next frame other than a ping, keeping the first 4 KiB of its
    /// payload. Pings are answered on the way: the server closes watchers
    /// that do not.
    pub(crate) fn next_frame(&mut self) -> anyhow::Result<Frame<'_>> {
        loop {
            let (first, len) = self.read_frame()?;
            if first & 0x0f == 9 {
                self.pong(len)?;
                continue;
            }
            let kept = len.min(4 << 10);
            return Ok(Frame {
                first,
                len,
                start: &self.scratch[..kept],
            });
        }
    }

    /// Answers a ping with a pong carrying the same payload, masked as
    /// client frames must be (RFC 6455, section 5.3).
    fn pong(&mut self, len: usize) -> anyhow::Result<()> {
        let payload = &self.scratch[..len.min(125)];
        let mask = [0x5a, 0xa5, 0x3c, 0xc3];
        let mut frame = vec![0x8a, 0x80 | payload.len() as u8];
        frame.extend_from_slice(&mask);
        frame.extend(
            payload
                .iter()
                .enumerate()
                .map(|(i, byte)| byte ^ mask[i % 4]),
        );
        self.writer.write_all(&frame)?;
        Ok(())
    }

    /// Reads one frame into the scratch buffer: first byte and length.
    fn read_frame(&mut self) -> anyhow::Result<(u8, usize)> {
        let mut header = [0u8; 2];
        self.reader.read_exact(&mut header)?;
        let len = match header[1] & 0x7f {
            126 => {
                let mut bytes = [0u8; 2];
                self.reader.read_exact(&mut bytes)?;
                u16::from_be_bytes(bytes) as usize
            }
            127 => {
                let mut bytes = [0u8; 8];
                self.reader.read_exact(&mut bytes)?;
                u64::from_be_bytes(bytes) as usize
            }
            short => short as usize,
        };
        let kept = len.min(4 << 10);
        let (start, rest) = self.scratch.split_at_mut(4 << 10);
        self.reader.read_exact(&mut start[..kept])?;
        let mut left = len - kept;
        while left > 0 {
            let chunk = left.min(rest.len());
            self.reader.read_exact(&mut rest[..chunk])?;
            left -= chunk;
        }
        Ok((header[0], len))
    }
}
