//! JSON log bodies: an accepted batch reads back exactly as sent (messages,
//! levels with their aliases, data with its key order, timestamps to the
//! millisecond); a refused one changes nothing.

#![no_main]

use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use sessions_core::session_log::Level;
use zenserver_fuzz::{entries, level_name, now, registry, visible_state, written};

fuzz_target!(|body: &[u8]| {
    let (registry, id) = registry();
    let before = visible_state(&registry, id);
    let accepted = sessions_http::fuzzing::parse_json_log(body, Level::Info, now())
        .ok()
        .and_then(|batch| registry.append(id, &batch).ok().map(|_| batch));
    let Some(batch) = accepted else {
        assert_eq!(visible_state(&registry, id), before, "a refused batch changed something");
        return;
    };
    // The model: the body read independently, as a client meant it.
    let sent: Value = serde_json::from_slice(body).expect("accepted bodies are JSON");
    let sent_entries = match sent.get("entries") {
        Some(Value::Array(list)) => list.clone(),
        Some(_) => panic!("accepted `entries` that is not an array"),
        None => vec![sent.clone()],
    };
    assert_eq!(sent_entries.len(), batch.len());
    let read = entries(&registry, id);
    assert_eq!(read.len(), batch.len().min(10_000), "every entry retained");
    for (sent, read) in sent_entries.iter().zip(&read) {
        assert_eq!(read["message"], sent["message"], "the message, unchanged");
        let level = match &sent["level"] {
            Value::String(name) => level_name(name).expect("accepted levels are known"),
            Value::Null => "info",
            other => panic!("accepted a level {other}"),
        };
        assert_eq!(read["level"], level);
        match &sent["data"] {
            Value::Null => assert!(read.get("data").is_none(), "no data, no field"),
            data => assert_eq!(
                serde_json::to_string(&read["data"]).expect("JSON"),
                serde_json::to_string(data).expect("JSON"),
                "data with its keys in order"
            ),
        }
        let timestamp = match &sent["timestamp"] {
            Value::String(text) => written(text.parse::<Timestamp>().expect("accepted timestamps parse")),
            Value::Null => written(now()),
            other => panic!("accepted a timestamp {other}"),
        };
        assert_eq!(read["timestamp"], timestamp.as_str());
    }
});
