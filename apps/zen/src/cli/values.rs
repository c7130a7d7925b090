//! Flag values that need more than `FromStr`: sizes with units, points in
//! time, KEY=VALUE pairs, and level names that completions can offer.

use jiff::Timestamp;
use sessions_client::Level;

/// Level names with the aliases the server takes, so that shell
/// completions offer them.
pub(super) fn level_parser() -> impl clap::builder::TypedValueParser<Value = Level> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    PossibleValuesParser::new([
        PossibleValue::new("debug").alias("trace"),
        PossibleValue::new("info"),
        PossibleValue::new("warn").alias("warning"),
        PossibleValue::new("error").aliases(["fatal", "critical"]),
    ])
    .try_map(|name| name.parse::<Level>())
}

/// A point in time given as how long ago (`30s`, `5m`, `2h`, `1d`) or as
/// an RFC 3339 time.
pub(super) fn parse_when(text: &str) -> Result<Timestamp, String> {
    if let Ok(time) = text.parse::<Timestamp>() {
        return Ok(time);
    }
    let wrong =
        || format!("`{text}` is neither a time ago like 30s, 5m, 2h, 1d nor an RFC 3339 time");
    let unit_at = text
        .find(|character: char| !character.is_ascii_digit())
        .ok_or_else(wrong)?;
    let (count, unit) = text.split_at(unit_at);
    let seconds_per_unit: i64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(wrong()),
    };
    let seconds = count
        .parse::<i64>()
        .ok()
        .and_then(|count| count.checked_mul(seconds_per_unit))
        .ok_or_else(wrong)?;
    let ago = jiff::SignedDuration::from_secs(seconds);
    Timestamp::now().checked_sub(ago).map_err(|_| wrong())
}

/// A byte count with an optional binary unit, as the server's flags take
/// them: 65536, 64KiB, 8MiB, 1GiB.
pub(super) fn parse_size(text: &str) -> Result<usize, String> {
    let (digits, unit) = text
        .find(|character: char| !character.is_ascii_digit())
        .map_or((text, ""), |at| text.split_at(at));
    let factor: usize = match unit {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => {
            return Err(format!(
                "`{text}` is not a size like 65536, 64KiB, 8MiB or 1GiB"
            ));
        }
    };
    digits
        .parse::<usize>()
        .ok()
        .and_then(|count| count.checked_mul(factor))
        .ok_or_else(|| format!("`{text}` is not a size like 65536, 64KiB, 8MiB or 1GiB"))
}

pub(super) fn parse_meta(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}
