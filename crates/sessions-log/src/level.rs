//! Log levels and the names clients may use for them.

use std::fmt;
use std::str::FromStr;

/// How important a log entry is, from least to most.
///
/// Four levels are enough for people reading a dashboard; the common names of
/// other logging systems are accepted as aliases when parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Debug, Level::Info, Level::Warn, Level::Error];

    /// The canonical lowercase name, as written in responses.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }

    /// Parses a level name case-insensitively, accepting the aliases `trace`
    /// (debug), `warning` (warn), `fatal` and `critical` (error).
    pub fn parse(name: &str) -> Result<Level, UnknownLevel> {
        const NAMES: [(&str, Level); 8] = [
            ("debug", Level::Debug),
            ("trace", Level::Debug),
            ("info", Level::Info),
            ("warn", Level::Warn),
            ("warning", Level::Warn),
            ("error", Level::Error),
            ("fatal", Level::Error),
            ("critical", Level::Error),
        ];
        NAMES
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
            .map(|&(_, level)| level)
            .ok_or_else(|| UnknownLevel {
                name: name.to_owned(),
            })
    }

    pub(crate) fn to_bits(self) -> u8 {
        self as u8
    }

    pub(crate) fn from_bits(bits: u8) -> Level {
        match bits {
            0 => Level::Debug,
            1 => Level::Info,
            2 => Level::Warn,
            _ => Level::Error,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = UnknownLevel;

    fn from_str(name: &str) -> Result<Level, UnknownLevel> {
        Level::parse(name)
    }
}

/// A level name that is neither a level nor one of its aliases.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown level `{name}`: use debug, info, warn or error (or trace, warning, fatal, critical)"
)]
pub struct UnknownLevel {
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, expected: Option<Level>) {
        assert_eq!(Level::parse(name).ok(), expected, "parsing {name:?}");
    }

    #[test]
    fn parses_names_and_aliases_in_any_case() {
        check("debug", Some(Level::Debug));
        check("TRACE", Some(Level::Debug));
        check("Info", Some(Level::Info));
        check("warn", Some(Level::Warn));
        check("WARNING", Some(Level::Warn));
        check("error", Some(Level::Error));
        check("Fatal", Some(Level::Error));
        check("critical", Some(Level::Error));
        check("", None);
        check("verbose", None);
        check(" info", None);
    }

    #[test]
    fn bits_round_trip() {
        for level in Level::ALL {
            assert_eq!(Level::from_bits(level.to_bits()), level);
            assert_eq!(Level::parse(level.as_str()), Ok(level));
        }
    }
}
