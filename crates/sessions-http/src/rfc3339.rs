//! Timestamps from clients: RFC 3339 exactly, to the millisecond.
//!
//! jiff's parser is generous (ISO 8601 expanded years such as `-000001`, and
//! more); a timestamp the server accepts must be one it can give back as it
//! came, so the syntax is checked here first: `YYYY-MM-DDTHH:MM:SS`, an
//! optional fraction, then `Z` or an offset `±HH:MM` (`T` and `Z` in either
//! case, as RFC 3339 allows). The instant must then lie within what the model
//! holds: from `0000-01-01T00:00:00Z` (years before 0000 have no RFC 3339
//! form) to `9999-12-30T22:00:00Z`, where jiff's range ends (it keeps every
//! timestamp convertible to any time zone).

use jiff::Timestamp;

/// The earliest instant kept: the first of year 0000, UTC.
const EARLIEST: &str = "0000-01-01T00:00:00Z";

/// Parses an RFC 3339 timestamp, cut to the millisecond like every
/// timestamp of the model; the error says what to send instead.
pub(crate) fn parse_timestamp(text: &str) -> Result<Timestamp, String> {
    let shown: String = text.chars().take(60).collect();
    let refuse = |why: &str| {
        format!(
            "`timestamp` `{shown}` is not an RFC 3339 timestamp such as 2026-01-02T03:04:05.678Z ({why})"
        )
    };
    if !has_rfc3339_shape(text.as_bytes()) {
        return Err(refuse(
            "the form is YYYY-MM-DDTHH:MM:SS, optional fractions of a second, then Z or an offset like +01:00",
        ));
    }
    let parsed: Timestamp = text
        .parse()
        .map_err(|error: jiff::Error| refuse(&error.to_string()))?;
    let earliest: Timestamp = EARLIEST
        .parse()
        .map_err(|error: jiff::Error| error.to_string())?;
    if parsed < earliest {
        return Err(format!(
            "`timestamp` `{shown}` is before {EARLIEST}, which RFC 3339 cannot write"
        ));
    }
    Timestamp::from_millisecond(parsed.as_millisecond()).map_err(|error| refuse(&error.to_string()))
}

/// `YYYY-MM-DD(T|t)HH:MM:SS(.D+)?(Z|z|(+|-)HH:MM)`, digits where digits go;
/// the values themselves are jiff's to check.
fn has_rfc3339_shape(text: &[u8]) -> bool {
    const DATE_TIME: &[u8] = b"dddd-dd-ddTdd:dd:dd";
    if text.len() < DATE_TIME.len() {
        return false;
    }
    let (date_time, mut rest) = text.split_at(DATE_TIME.len());
    let date_time_ok = date_time
        .iter()
        .zip(DATE_TIME)
        .all(|(&byte, &want)| match want {
            b'd' => byte.is_ascii_digit(),
            b'T' => byte == b'T' || byte == b't',
            _ => byte == want,
        });
    if !date_time_ok {
        return false;
    }
    if let Some(fraction) = rest.strip_prefix(b".") {
        let digits = fraction
            .iter()
            .take_while(|byte| byte.is_ascii_digit())
            .count();
        if digits == 0 {
            return false;
        }
        rest = &fraction[digits..];
    }
    match rest {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            [h1, h2, m1, m2].iter().all(|byte| byte.is_ascii_digit())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `expected`: the timestamp as the server writes it back, or `None` for
    /// a refusal.
    fn check(text: &str, expected: Option<&str>) {
        let parsed = parse_timestamp(text);
        assert_eq!(
            parsed.as_ref().ok().map(ToString::to_string).as_deref(),
            expected,
            "{text}: {parsed:?}"
        );
    }

    #[test]
    fn rfc3339_timestamps_are_accepted_to_the_millisecond() {
        check("2026-01-02T03:04:05Z", Some("2026-01-02T03:04:05Z"));
        check(
            "2026-01-02T03:04:05.678912Z",
            Some("2026-01-02T03:04:05.678Z"),
        );
        check("2026-01-02t03:04:05.5z", Some("2026-01-02T03:04:05.5Z"));
        check(
            "2026-01-02T03:04:05.678+01:00",
            Some("2026-01-02T02:04:05.678Z"),
        );
        check("2026-01-02T03:04:05-00:00", Some("2026-01-02T03:04:05Z"));
        check("0000-01-01T00:00:00Z", Some("0000-01-01T00:00:00Z"));
        check("1969-12-31T23:59:59.999Z", Some("1969-12-31T23:59:59.999Z"));
        check("9999-12-30T22:00:00Z", Some("9999-12-30T22:00:00Z"));
    }

    #[test]
    fn anything_else_is_refused() {
        for text in [
            "-000001-01-01T00:00:00Z",
            "+002026-01-02T03:04:05Z",
            "0000-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59.999Z",
            "2026-01-02 03:04:05Z",
            "2026-01-02T03:04:05",
            "2026-01-02T03:04Z",
            "2026-01-02T03:04:05.Z",
            "2026-01-02T03:04:05+0100",
            "2026-01-02T03:04:05+01",
            "2026-02-30T00:00:00Z",
            "2026-01-02T03:04:05Z[Europe/Paris]",
            "20260102T030405Z",
            "yesterday",
            "",
        ] {
            check(text, None);
        }
    }
}
