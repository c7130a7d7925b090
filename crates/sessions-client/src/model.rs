//! Answers of the API that have no type in `sessions-core`.

use std::time::Duration;

use sessions_core::session_log::LogEntry;

/// One read of a session's log, as `GET /sessions/{id}/log` answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPage {
    /// Oldest first. `data`, when present, is compact JSON text of an object.
    pub entries: Vec<LogEntry>,
    /// Pass this back as the next read's cursor to go on from here.
    pub cursor: u64,
    /// Cursor reads: entries after the request's cursor that were evicted
    /// before they could be read. Page and tail reads: entries evicted from
    /// the log so far.
    pub dropped: u64,
    /// Newer entries are waiting: read again at once.
    pub more: bool,
    /// The cursor was ahead of the log (the server restarted, or the id was
    /// reused) and was read as 0.
    pub reset: bool,
    /// Entries the log retains now.
    pub total: u64,
    /// Index among the retained entries of the first entry returned.
    pub offset: u64,
}

/// What an append did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub appended: usize,
    /// `seq` of the log's newest entry after the append.
    pub cursor: u64,
}

/// `GET /health`: the server is up, and some counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub version: String,
    pub uptime: Duration,
    /// Active sessions, the server's own included.
    pub active_sessions: u64,
    pub ended_sessions: u64,
    pub websocket_clients: u64,
    pub log_memory_bytes: u64,
}
