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

impl Limits {
    /// What the logs are brought back down to once they go over
    /// [`Limits::max_log_memory`]: 1/64 below it. Finding what gives way
    /// walks every session, so a node whose logs fill the budget (a long
    /// run, or a flood) would walk them all on every append if it only went
    /// back to the line itself; with the margin it walks them once per
    /// 1/64 of the budget appended (16 MiB of the default 1 GiB).
    pub fn log_memory_target(&self) -> usize {
        self.max_log_memory - self.max_log_memory / 64
    }
}

/// How deep `metadata` and entry `data` may nest arrays and objects, the
/// object itself being level 1.
///
/// Readers must be able to take what the server gives out: a session list
/// wraps metadata in three more levels (`{"sessions":[{"metadata":...}]}`),
/// and a log read wraps data the same way; 64 + 3 stays well within the 128
/// levels serde_json (and so `sessions-client`) parses by default. Once, the
/// server took metadata 125 deep, and then nobody could list sessions.
pub const MAX_JSON_DEPTH: usize = 64;

/// How deep `json` nests arrays and objects (0 for a scalar). Written for
/// compact JSON the server made itself, so it only has to skip strings.
pub fn json_depth(json: &str) -> usize {
    let mut depth = 0usize;
    let mut deepest = 0;
    let mut in_string = false;
    let mut escaped = false;
    for byte in json.bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_arrays_and_objects_but_not_strings() {
        for (json, expected) in [
            ("1", 0),
            ("{}", 1),
            (r#"{"a":[1,{"b":[]}]}"#, 4),
            (r#"{"a":"[[[{{{\"]]]"}"#, 1),
            (r#"{"a":"\\","b":[[]]}"#, 3),
            (r#"[{}, {}, [{}]]"#, 3),
        ] {
            assert_eq!(json_depth(json), expected, "{json}");
        }
    }
}
