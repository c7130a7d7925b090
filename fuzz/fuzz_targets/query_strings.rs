//! Query strings of the list, log read and append routes: whatever the text,
//! no panic; what is accepted is within the limits, and reads back the same
//! when written out again.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sessions_core::StatusFilter;
use sessions_core::session_log::ReadRequest;
use sessions_http::fuzzing::{parse_append_query, parse_list_query, parse_log_read_query};

fuzz_target!(|query: &str| {
    if let Ok((request, wait)) = parse_log_read_query(query) {
        assert!(wait.as_secs() <= 60, "wait is clamped");
        let canonical = match request {
            ReadRequest::After { cursor, limit } => {
                assert!(limit <= 10_000, "limit is clamped");
                format!("cursor={cursor}&limit={limit}&wait={}", wait.as_secs())
            }
            ReadRequest::Page { offset, limit } => {
                assert!(limit <= 10_000);
                assert_eq!(wait.as_secs(), 0, "no wait for page reads");
                format!("offset={offset}&limit={limit}")
            }
            ReadRequest::Tail { count } => {
                assert!(count <= 10_000);
                format!("tail={count}")
            }
        };
        assert_eq!(parse_log_read_query(&canonical), Ok((request, wait)), "{canonical}");
    }
    if let Ok(filter) = parse_list_query(query) {
        let name = match filter {
            StatusFilter::Active => "active",
            StatusFilter::Ended => "ended",
            StatusFilter::All => "all",
        };
        assert_eq!(parse_list_query(&format!("status={name}")), Ok(filter));
    }
    if let Ok(level) = parse_append_query(query) {
        assert_eq!(parse_append_query(&format!("level={}", level.as_str())), Ok(level));
    }
});
