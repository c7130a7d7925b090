//! Numbers from clients are kept as what they mean, or refused.
//!
//! serde_json reads a JSON number into an `i64`, a `u64` or an `f64`, and
//! writes it back from there. For most numbers that is exact, but not for
//! all: an integer past 64 bits becomes the nearest double (2^64 + 1 comes
//! back as `1.8446744073709552e19`), `-0` loses its sign, and a tiny
//! non-zero number such as `1e-999` becomes `0.0`. Stored like that, a
//! client's metadata would read back changed with nobody told. So numbers
//! are checked in the text, before parsing, and those are refused; all
//! others are IEEE 754 doubles or 64-bit integers, as RFC 8259 advises for
//! interoperable JSON, and are written back in serde_json's form (`1e2` as
//! `100.0`), which means the same number.

/// Checks every number in `json`; the error names the first one that would
/// change. Malformed JSON passes here and is left to the parser to describe.
pub(crate) fn check_numbers(json: &[u8]) -> Result<(), String> {
    let mut index = 0;
    while index < json.len() {
        match json[index] {
            b'"' => index = after_string(json, index + 1),
            b'-' | b'0'..=b'9' => {
                let end = json[index..]
                    .iter()
                    .position(|byte| {
                        !matches!(byte, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                    })
                    .map_or(json.len(), |length| index + length);
                check_number(&json[index..end])?;
                index = end;
            }
            _ => index += 1,
        }
    }
    Ok(())
}

/// The index just past the string whose contents start at `index`.
fn after_string(json: &[u8], mut index: usize) -> usize {
    while index < json.len() {
        match json[index] {
            b'\\' => index += 2,
            b'"' => return index + 1,
            _ => index += 1,
        }
    }
    json.len()
}

fn check_number(token: &[u8]) -> Result<(), String> {
    // Only digits and signs, points and exponents: ASCII.
    let text = std::str::from_utf8(token).unwrap_or_default();
    let shown: String = text.chars().take(40).collect();
    let is_integer = !text.contains(['.', 'e', 'E']);
    if is_integer {
        if text == "-0" {
            return Err(
                "the number -0 would not read back as sent (JSON parsers differ on its sign); send 0, or -0.0 for a negative zero"
                    .to_owned(),
            );
        }
        if text.parse::<i64>().is_ok() || text.parse::<u64>().is_ok() {
            return Ok(());
        }
        if text.bytes().filter(u8::is_ascii_digit).count() == 0 {
            return Ok(());
        }
        return Err(format!(
            "the integer {shown} does not fit in 64 bits and would not read back as sent; send it as a string"
        ));
    }
    let Ok(value) = text.parse::<f64>() else {
        return Ok(());
    };
    if value.is_infinite() {
        return Err(format!(
            "the number {shown} is too large for a double and would not read back as sent; send it as a string"
        ));
    }
    let mantissa = text.split(['e', 'E']).next().unwrap_or_default();
    if value == 0.0 && mantissa.bytes().any(|byte| matches!(byte, b'1'..=b'9')) {
        return Err(format!(
            "the number {shown} is too small for a double and would read back as 0; send it as a string"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever passes reads back as the same number through serde_json.
    fn check(json: &str, refused: Option<&str>) {
        let result = check_numbers(json.as_bytes());
        match refused {
            None => {
                assert_eq!(result, Ok(()), "{json}");
                let value: serde_json::Value = serde_json::from_str(json).unwrap();
                let again: serde_json::Value = serde_json::from_str(&value.to_string()).unwrap();
                assert_eq!(value, again, "{json}");
            }
            Some(fragment) => {
                let error = result.expect_err(json);
                assert!(error.contains(fragment), "{json}: {error}");
            }
        }
    }

    #[test]
    fn numbers_that_keep_their_value_pass() {
        check(
            r#"{"a":[0,-1,1.5,-0.0,1e2,1E-300,18446744073709551615,-9223372036854775808]}"#,
            None,
        );
        check(r#"{"text":"18446744073709551616 -0 1e999999"}"#, None);
        check(r#"{"escaped":"\"-0\\","n":2}"#, None);
        check(r#"{"a":0.000}"#, None);
    }

    #[test]
    fn numbers_that_would_change_are_refused() {
        check(
            r#"{"a":18446744073709551616}"#,
            Some("does not fit in 64 bits"),
        );
        check(
            r#"{"a":-9223372036854775809}"#,
            Some("does not fit in 64 bits"),
        );
        check(r#"{"a":[1,-0]}"#, Some("-0"));
        check(r#"{"a":1e999999}"#, Some("too large"));
        check(r#"{"a":-1.5e400}"#, Some("too large"));
        check(r#"{"a":1e-999999}"#, Some("too small"));
        check(r#"{"a":{"b":[0.1e-400]}}"#, Some("too small"));
    }
}
