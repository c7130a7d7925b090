//! `zen sessions ls`, `show` and `end`: sessions as a table, as key-value
//! lines, or as the API's JSON.

use anyhow::Result;
use jiff::Timestamp;
use sessions_client::{Client, Session, wire};

use crate::cli::{EndArgs, LsArgs, ShowArgs};
use crate::output::{DIM, Output, printable};

pub(crate) fn ls(client: &Client, args: &LsArgs) -> Result<()> {
    let sessions = client.list(args.status.filter())?;
    let mut out = Output::stdout();
    if args.json {
        for session in &sessions {
            write_json_line(&mut out, &wire::session_to_json(session))?;
        }
    } else {
        write_table(&mut out, &sessions)?;
    }
    Ok(out.flush()?)
}

pub(crate) fn show(client: &Client, args: &ShowArgs) -> Result<()> {
    let session = client.get(args.id.resolve(client)?)?;
    let mut out = Output::stdout();
    if args.json {
        write_json_line(&mut out, &wire::session_to_json(&session))?;
    } else {
        write_details(&mut out, &session)?;
    }
    Ok(out.flush()?)
}

pub(crate) fn end(client: &Client, args: &EndArgs) -> Result<()> {
    let session = client.end(args.id.resolve(client)?)?;
    let mut out = Output::stdout();
    let line = format!(
        "ended {} ({}, {})\n",
        session.id,
        printable(&session.appname),
        printable(&session.mode)
    );
    out.write(line.as_bytes())?;
    Ok(out.flush()?)
}

fn write_json_line(out: &mut Output, value: &serde_json::Value) -> std::io::Result<()> {
    out.write(value.to_string().as_bytes())?;
    out.write(b"\n")
}

const HEADER: [&str; 7] = [
    "ID", "APPNAME", "MODE", "JOBID", "STATUS", "CREATED", "ENTRIES",
];

fn write_table(out: &mut Output, sessions: &[Session]) -> std::io::Result<()> {
    let rows: Vec<[String; 7]> = sessions.iter().map(table_row).collect();
    let mut widths = HEADER.map(|title| title.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let header = HEADER.map(str::to_owned);
    out.styled(DIM, aligned(&header, &widths).as_bytes())?;
    out.write(b"\n")?;
    for row in &rows {
        out.write(aligned(row, &widths).as_bytes())?;
        out.write(b"\n")?;
    }
    Ok(())
}

fn table_row(session: &Session) -> [String; 7] {
    let status = if session.server {
        "server".to_owned()
    } else {
        session.status().as_str().to_owned()
    };
    [
        session.id.to_string(),
        printable(&session.appname),
        printable(&session.mode),
        session
            .jobid
            .as_deref()
            .map_or_else(|| "-".to_owned(), printable),
        status,
        whole_seconds(session.created),
        session.log.entries.to_string(),
    ]
}

/// Cells padded to their column's width, two spaces apart, nothing trailing.
fn aligned(cells: &[String; 7], widths: &[usize; 7]) -> String {
    let mut line = String::new();
    for (index, (cell, width)) in cells.iter().zip(widths).enumerate() {
        if index > 0 {
            line.push_str("  ");
        }
        line.push_str(cell);
        if index + 1 < cells.len() {
            line.extend(std::iter::repeat_n(' ', width - cell.chars().count()));
        }
    }
    line
}

fn whole_seconds(timestamp: Timestamp) -> String {
    format!("{timestamp:.0}")
}

fn write_details(out: &mut Output, session: &Session) -> std::io::Result<()> {
    let optional_time =
        |time: Option<Timestamp>| time.map_or_else(|| "-".to_owned(), |t| format!("{t:.3}"));
    let status = if session.server {
        format!("{} (the server's own session)", session.status().as_str())
    } else {
        session.status().as_str().to_owned()
    };
    let log = &session.log;
    let lines = [
        ("id", session.id.to_string()),
        ("appname", printable(&session.appname)),
        ("mode", printable(&session.mode)),
        (
            "jobid",
            session
                .jobid
                .as_deref()
                .map_or_else(|| "-".to_owned(), printable),
        ),
        ("status", status),
        ("created", format!("{:.3}", session.created)),
        ("updated", format!("{:.3}", session.updated)),
        ("ended", optional_time(session.ended)),
        (
            "log",
            format!(
                "{} entries, cursor {}, {} dropped",
                log.entries, log.cursor, log.dropped
            ),
        ),
    ];
    for (name, value) in lines {
        out.styled(DIM, format!("{name:<9}").as_bytes())?;
        out.write(format!(" {value}\n").as_bytes())?;
    }
    let metadata = session.metadata.decode();
    out.styled(DIM, b"metadata ")?;
    if metadata.is_empty() {
        out.write(b" -\n")?;
    }
    for (index, (key, value)) in metadata.iter().enumerate() {
        // Strings as they are, anything else as JSON.
        let value = match value {
            serde_json::Value::String(text) => printable(text),
            other => printable(&other.to_string()),
        };
        let indent = if index == 0 { " " } else { "          " };
        out.write(format!("{indent}{} = {value}\n", printable(key)).as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_line_up_without_trailing_spaces() {
        let cells = [
            "a".to_owned(),
            "bb".into(),
            "é".into(),
            "-".into(),
            "x".into(),
            "y".into(),
            "7".into(),
        ];
        assert_eq!(
            aligned(&cells, &[3, 2, 4, 1, 1, 1, 5]),
            "a    bb  é     -  x  y  7"
        );
    }
}
