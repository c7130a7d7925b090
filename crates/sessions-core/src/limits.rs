//! The numbers that keep the registry bounded.

use sessions_log::RingLimits;

/// Every bound the registry enforces. The defaults are those of the product
/// contract; the server exposes each as a command-line flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest `appname`, `mode` or `jobid`, in bytes.
    pub max_name_bytes: usize,
    /// Largest `metadata`, measured as compact JSON, in bytes.
    pub max_metadata_bytes: usize,
    /// Active sessions at once, the server's own included.
    pub max_active_sessions: usize,
    /// Ended sessions kept (with their logs) after they end.
    pub max_ended_sessions: usize,
    /// Longest log message, in bytes.
    pub max_message_bytes: usize,
    /// Most entries in one append.
    pub max_batch_entries: usize,
    /// Entry and byte budget of each session's log.
    pub log: RingLimits,
    /// Bytes all logs together may hold; see [`crate::SessionRegistry`] for
    /// what gives way above it.
    pub max_log_memory: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_name_bytes: 256,
            max_metadata_bytes: 64 << 10,
            max_active_sessions: 10_000,
            max_ended_sessions: 1_000,
            max_message_bytes: 64 << 10,
            max_batch_entries: 10_000,
            log: RingLimits::DEFAULT,
            max_log_memory: 1 << 30,
        }
    }
}
