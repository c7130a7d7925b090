//! A minimal HTTP/1.1 client for setting up and driving cases.

use std::io::{Read, Write};
use std::net::TcpStream;

use anyhow::{Context, bail};

/// Sends one JSON request on a new connection and returns status and body.
pub(crate) fn request(
    port: u16,
    method: &str,
    path: &str,
    json: &str,
) -> anyhow::Result<(u16, Vec<u8>)> {
    request_typed(port, method, path, "application/json", json)
}

/// [`request`] with another content type.
pub(crate) fn request_typed(
    port: u16,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> anyhow::Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_nodelay(true)?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no response head")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let status: u16 = head.split(' ').nth(1).context("no status")?.parse()?;
    Ok((status, raw[split + 4..].to_vec()))
}

/// Like [`request`], failing unless the status is 2xx.
pub(crate) fn expect_ok(
    port: u16,
    method: &str,
    path: &str,
    json: &str,
) -> anyhow::Result<Vec<u8>> {
    expect_ok_typed(port, method, path, "application/json", json)
}

/// Like [`request_typed`], failing unless the status is 2xx.
fn expect_ok_typed(
    port: u16,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> anyhow::Result<Vec<u8>> {
    let (status, answer) = request_typed(port, method, path, content_type, body)?;
    if !(200..300).contains(&status) {
        bail!(
            "{method} {path}: {status} {}",
            String::from_utf8_lossy(&answer)
        );
    }
    Ok(answer)
}

/// Appends `lines` (text, one entry a line) to the log of session `id`.
pub(crate) fn append_lines(port: u16, id: &str, lines: &str) -> anyhow::Result<()> {
    expect_ok_typed(
        port,
        "POST",
        &format!("/sessions/{id}/log"),
        "text/plain",
        lines,
    )?;
    Ok(())
}
