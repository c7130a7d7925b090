//! Log append bodies, text or JSON, into entries. A batch parses completely or
//! not at all; errors name the entry (counted from 0) and what is wrong.

use jiff::Timestamp;
use sessions_core::session_log::{Level, NewEntry};

use crate::ApiError;
use crate::wire::require_object;

/// Text: one entry per line (`\n` or `\r\n`), at `level`, stamped `now`.
/// Blank and whitespace-only lines are skipped; every other line is kept
/// exactly as sent, leading and trailing spaces included.
pub(crate) fn parse_text(
    body: &[u8],
    level: Level,
    now: Timestamp,
) -> Result<Vec<NewEntry>, ApiError> {
    let text = std::str::from_utf8(body).map_err(|error| {
        ApiError::InvalidBody(format!(
            "the body is not valid UTF-8 (at byte {}); send UTF-8 text",
            error.valid_up_to()
        ))
    })?;
    Ok(text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .filter(|line| !line.trim().is_empty())
        .map(|line| NewEntry::new(now, level, line))
        .collect())
}

/// JSON: one entry object, or `{"entries": [...]}`. Entries without a level
/// get `default_level`; without a timestamp, `now`.
pub(crate) fn parse_json(
    body: &[u8],
    default_level: Level,
    now: Timestamp,
) -> Result<Vec<NewEntry>, ApiError> {
    let text = std::str::from_utf8(body).map_err(|error| {
        ApiError::InvalidBody(format!(
            "the body is not valid UTF-8 (at byte {})",
            error.valid_up_to()
        ))
    })?;
    require_object(text).map_err(|error| {
        ApiError::InvalidBody(format!(
            "the body is not a JSON object: {error}; send one entry object or {{\"entries\": [...]}}"
        ))
    })?;
    crate::log_json::parse(text, default_level, now).map_err(ApiError::InvalidBody)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        Timestamp::from_millisecond(1_000).unwrap()
    }

    fn text(body: &str) -> Vec<String> {
        parse_text(body.as_bytes(), Level::Info, now())
            .unwrap()
            .into_iter()
            .map(|entry| entry.message)
            .collect()
    }

    #[test]
    fn text_lines() {
        assert_eq!(
            text("one\ntwo\r\n\n   \n\tthree  \r\n"),
            ["one", "two", "\tthree  "]
        );
        assert_eq!(text("no newline"), ["no newline"]);
        assert!(text("").is_empty());
        assert_eq!(text("a\rb\n"), ["a\rb"], "a lone CR is part of the line");
        let error = parse_text(b"ok\n\xff\n", Level::Info, now()).unwrap_err();
        assert!(error.to_string().contains("not valid UTF-8 (at byte 3)"));
    }

    fn json(body: &str) -> Result<Vec<NewEntry>, String> {
        parse_json(body.as_bytes(), Level::Info, now()).map_err(|error| error.to_string())
    }

    #[test]
    fn json_single_entry_and_batches() {
        let single = json(r#"{"message":"hi","level":"WARNING","data":{"k":[1, 2]}}"#).unwrap();
        assert_eq!(single.len(), 1);
        assert_eq!(single[0].level, Level::Warn);
        assert_eq!(single[0].data.as_ref().unwrap().as_json(), r#"{"k":[1,2]}"#);
        assert_eq!(single[0].timestamp, now());

        let batch = json(
            r#"{"entries":[{"message":"a"},{"message":"b","level":"fatal","timestamp":"2026-01-02T03:04:05.678912+01:00"}]}"#,
        )
        .unwrap();
        assert_eq!(batch.len(), 2);
        assert_eq!(batch[1].level, Level::Error);
        assert_eq!(batch[1].timestamp.to_string(), "2026-01-02T02:04:05.678Z");
        assert!(json(r#"{"entries":[]}"#).unwrap().is_empty());
    }

    #[test]
    fn json_errors_name_the_entry_and_the_fault() {
        let check = |body: &str, fragment: &str| {
            let error = json(body).expect_err(body);
            assert!(error.contains(fragment), "{body}: {error}");
        };
        check("not json", "not a JSON object");
        check("[1]", "not a JSON object");
        check(r#"{"level":"info"}"#, "entry 0: missing field `message`");
        check(
            r#"{"message":5}"#,
            "entry 0: `message`: invalid type: integer `5`, expected a string",
        );
        check(
            r#"{"message":"m","extra":1}"#,
            "entry 0: unknown field `extra`",
        );
        check(
            r#"{"message":"m","level":"loud"}"#,
            "entry 0: `level`: unknown level `loud`",
        );
        check(
            r#"{"message":"m","data":[1]}"#,
            "entry 0: `data`: invalid type: sequence, expected a map",
        );
        check(r#"{"message":"m","data":"x"}"#, "expected a map");
        check(
            r#"{"message":"m","timestamp":"yesterday"}"#,
            "entry 0: `timestamp` `yesterday` is not an RFC 3339",
        );
        check(r#"{"entries":{}}"#, "`entries` must be an array");
        check(
            r#"{"entries":[{"message":"a"}],"message":"b"}"#,
            "unknown field `message` next to `entries`",
        );
        check(
            r#"{"entries":[{"message":"a"},{"message":"b","level":3}]}"#,
            "entry 1: `level`: invalid type",
        );
        check(
            r#"{"entries":[{"message":"a"},7]}"#,
            "entry 1: found a number where an object belongs",
        );
        check(
            r#"{"entries":[["message","warn"]]}"#,
            "entry 0: found an array where an object belongs",
        );
        check(r#"["message"]"#, "found an array where an object belongs");
    }
}
