//! Text log bodies: accepted exactly when they are UTF-8; every line that is
//! not blank becomes one entry, byte for byte, in order; a refused body
//! changes nothing.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sessions_core::session_log::Level;
use zenserver_fuzz::{entries, now, registry, visible_state};

fuzz_target!(|body: &[u8]| {
    let (registry, id) = registry();
    let before = visible_state(&registry, id);
    let parsed = sessions_http::fuzzing::parse_text_log(body, Level::Warn, now());
    let Ok(text) = std::str::from_utf8(body) else {
        assert!(parsed.is_err(), "accepted a body that is not UTF-8");
        assert_eq!(visible_state(&registry, id), before);
        return;
    };
    let batch = parsed.expect("UTF-8 text is accepted");
    let expected: Vec<&str> = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .filter(|line| !line.trim().is_empty())
        .collect();
    let messages: Vec<&str> = batch.iter().map(|entry| entry.message.as_str()).collect();
    assert_eq!(messages, expected);
    if registry.append(id, &batch).is_err() {
        assert_eq!(visible_state(&registry, id), before, "a refused batch changed something");
        return;
    }
    let read = entries(&registry, id);
    let read_messages: Vec<&str> = read.iter().map(|entry| entry["message"].as_str().expect("a string")).collect();
    assert_eq!(read_messages, expected, "lines read back unchanged");
    assert!(read.iter().all(|entry| entry["level"] == "warn"));
});
