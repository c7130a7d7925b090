//! A log record as a session log entry.

use jiff::Timestamp;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use serde_json::Value;
use sessions_core::session_log::{EntryData, NewEntry};

use crate::severity::{level_of, severity_note};
use crate::value::{attributes_to_json, body_text};

/// Maps one record, logged through `scope`, to an entry.
///
/// - `timestamp`: `time_unix_nano`, or `observed_time_unix_nano` when that
///   is 0 (unknown), or `now` when both are; cut to the millisecond.
/// - `level`: see [`level_of`](crate::level_of).
/// - `message`: the body, see [`body_text`](crate::body_text).
/// - `data`: the record's attributes (see
///   [`to_json`](crate::to_json)), then `scope` (the instrumentation scope's
///   name, such as a Python logger's), `event_name`, `trace_id` and `span_id`
///   (lowercase hex, left out when empty or all zeros), `trace_flags` (the W3C
///   trace flags, the low 8 bits of `flags`, when not 0) and `severity` (the
///   severity the level folds away, such as `FATAL`), each only when the
///   record has it. These names win over attributes of the same name. No
///   `data` at all when all of that is empty.
pub fn map_record(
    record: &LogRecord,
    scope: Option<&InstrumentationScope>,
    now: Timestamp,
) -> NewEntry {
    let mut data = attributes_to_json(&record.attributes);
    let mut add = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            data.insert(key.to_owned(), value);
        }
    };
    let scope_name = scope.map_or("", |scope| scope.name.as_str());
    add("scope", non_empty(scope_name));
    add("event_name", non_empty(&record.event_name));
    add("trace_id", id_hex(&record.trace_id));
    add("span_id", id_hex(&record.span_id));
    let trace_flags = record.flags & 0xFF;
    add(
        "trace_flags",
        (trace_flags != 0).then(|| trace_flags.into()),
    );
    add(
        "severity",
        severity_note(record.severity_number, &record.severity_text).map(Value::String),
    );
    let entry = NewEntry::new(
        timestamp(record, now),
        level_of(record.severity_number, &record.severity_text),
        body_text(record.body.as_ref()),
    );
    if data.is_empty() {
        entry
    } else {
        entry.with_data(EntryData::from_object(&data))
    }
}

fn timestamp(record: &LogRecord, now: Timestamp) -> Timestamp {
    let nanos = if record.time_unix_nano != 0 {
        record.time_unix_nano
    } else {
        record.observed_time_unix_nano
    };
    if nanos == 0 {
        return now;
    }
    // u64 nanoseconds end in 2554, well inside what a Timestamp holds.
    let millis = (nanos / 1_000_000) as i64;
    Timestamp::from_millisecond(millis).unwrap_or(now)
}

fn non_empty(text: &str) -> Option<Value> {
    (!text.is_empty()).then(|| Value::String(text.to_owned()))
}

/// A trace or span id in lowercase hex; `None` for an empty or all-zero id,
/// which OTLP uses for "no id".
fn id_hex(bytes: &[u8]) -> Option<Value> {
    if bytes.iter().all(|&byte| byte == 0) {
        return None;
    }
    let text: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    Some(Value::String(text))
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::common::v1::any_value::Value as Kind;
    use sessions_core::session_log::Level;

    use super::*;
    use crate::value::tests::{any, pair, string};

    fn now() -> Timestamp {
        "2026-11-27T15:09:12.084Z".parse().unwrap()
    }

    fn check(record: LogRecord, scope: &str, expected: (&str, Level, &str, Option<&str>)) {
        let scope = InstrumentationScope {
            name: scope.into(),
            ..InstrumentationScope::default()
        };
        let entry = map_record(&record, Some(&scope), now());
        let (timestamp, level, message, data) = expected;
        assert_eq!(entry.timestamp.to_string(), timestamp, "{record:?}");
        assert_eq!(entry.level, level, "{record:?}");
        assert_eq!(entry.message, message, "{record:?}");
        assert_eq!(
            entry.data.as_ref().map(EntryData::as_json),
            data,
            "{record:?}"
        );
    }

    #[test]
    fn a_plain_record() {
        check(
            LogRecord {
                time_unix_nano: 1_544_712_660_300_999_999,
                severity_number: 13,
                severity_text: "WARNING".into(),
                body: Some(string("disk almost full")),
                ..LogRecord::default()
            },
            "",
            (
                "2018-12-13T14:51:00.3Z",
                Level::Warn,
                "disk almost full",
                None,
            ),
        );
    }

    #[test]
    fn timestamps_fall_back_to_observed_then_now() {
        let at = |time_unix_nano, observed_time_unix_nano| LogRecord {
            time_unix_nano,
            observed_time_unix_nano,
            ..LogRecord::default()
        };
        let expected = |timestamp| (timestamp, Level::Info, "", None);
        check(
            at(1_000_000, 2_000_000),
            "",
            expected("1970-01-01T00:00:00.001Z"),
        );
        check(at(0, 2_000_000), "", expected("1970-01-01T00:00:00.002Z"));
        check(at(0, 0), "", expected("2026-11-27T15:09:12.084Z"));
        check(at(999_999, 0), "", expected("1970-01-01T00:00:00Z"));
        check(at(u64::MAX, 0), "", expected("2554-07-21T23:34:33.709Z"));
    }

    #[test]
    fn attributes_ids_and_the_rest_go_into_data() {
        check(
            LogRecord {
                time_unix_nano: 1_000_000,
                severity_number: 21,
                body: Some(any(Kind::IntValue(3))),
                attributes: vec![
                    pair("package", string("/Game/Maps/Arena")),
                    pair("exit_code", any(Kind::IntValue(3))),
                    pair("span_id", string("overwritten")),
                ],
                trace_id: (1..=16).collect(),
                span_id: vec![0xAB; 8],
                flags: 0x101,
                event_name: "cook.failed".into(),
                ..LogRecord::default()
            },
            "cooker",
            (
                "1970-01-01T00:00:00.001Z",
                Level::Error,
                "3",
                Some(concat!(
                    r#"{"package":"/Game/Maps/Arena","exit_code":3,"span_id":"abababababababab","#,
                    r#""scope":"cooker","event_name":"cook.failed","#,
                    r#""trace_id":"0102030405060708090a0b0c0d0e0f10","trace_flags":1,"severity":"FATAL"}"#
                )),
            ),
        );
    }

    #[test]
    fn empty_and_zero_ids_are_left_out() {
        check(
            LogRecord {
                time_unix_nano: 1_000_000,
                trace_id: vec![0; 16],
                span_id: Vec::new(),
                flags: 0x100,
                ..LogRecord::default()
            },
            "",
            ("1970-01-01T00:00:00.001Z", Level::Info, "", None),
        );
    }
}
