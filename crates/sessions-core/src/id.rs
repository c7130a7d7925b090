//! Session ids: 12-byte Oids, minted so that they sort by creation time.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

/// A session id: 12 bytes, written as 24 lowercase hex digits.
///
/// Minted ids put a 48-bit millisecond timestamp first, so they sort by
/// creation time; ids chosen by clients may be any 12 bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId([u8; 12]);

impl SessionId {
    pub const fn from_bytes(bytes: [u8; 12]) -> SessionId {
        SessionId(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; 12] {
        &self.0
    }

    /// The id as a 96-bit number, for arithmetic.
    fn to_u128(self) -> u128 {
        let mut wide = [0u8; 16];
        wide[4..].copy_from_slice(&self.0);
        u128::from_be_bytes(wide)
    }

    fn from_u128(value: u128) -> SessionId {
        let wide = value.to_be_bytes();
        let mut bytes = [0u8; 12];
        bytes.copy_from_slice(&wide[4..]);
        SessionId(bytes)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

/// Text that is not 24 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a session id: expected 24 hex digits")]
pub struct ParseSessionIdError {
    /// The offending text, cut short if it was long.
    pub text: String,
}

impl FromStr for SessionId {
    type Err = ParseSessionIdError;

    /// Accepts hex digits in either case.
    fn from_str(text: &str) -> Result<SessionId, ParseSessionIdError> {
        let error = || ParseSessionIdError {
            text: text.chars().take(40).collect(),
        };
        let digits = text.as_bytes();
        if digits.len() != 24 {
            return Err(error());
        }
        let mut bytes = [0u8; 12];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
            let high = hex_value(pair[0]).ok_or_else(error)?;
            let low = hex_value(pair[1]).ok_or_else(error)?;
            *byte = high << 4 | low;
        }
        Ok(SessionId(bytes))
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Mints session ids from a monotonic ULID generator: the 48-bit millisecond
/// time followed by the low 48 of the ULID's random bits.
///
/// Every id it mints is greater than the one before, even when the clock
/// stalls or steps back, so minted ids sort by creation time within a run.
#[derive(Debug, Default)]
pub struct IdMinter {
    state: Mutex<MinterState>,
}

#[derive(Debug, Default)]
struct MinterState {
    generator: ulid::Generator,
    last: Option<SessionId>,
}

impl IdMinter {
    pub fn new() -> IdMinter {
        IdMinter::default()
    }

    pub fn mint(&self) -> SessionId {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let ulid = match state.generator.generate() {
            Ok(ulid) => ulid,
            Err(overflow) => overflow.commit_overflow_increment(),
        };
        let low_random = ulid.random() & ((1 << 48) - 1);
        let candidate = SessionId::from_u128(u128::from(ulid.timestamp_ms()) << 48 | low_random);
        // Dropping the high random bits could break the generator's ordering;
        // stepping past the last id keeps it.
        let id = match state.last {
            Some(last) if candidate <= last => SessionId::from_u128(last.to_u128() + 1),
            _ => candidate,
        };
        state.last = Some(id);
        id
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn check(text: &str, expected: Option<&str>) {
        let parsed = text.parse::<SessionId>().ok().map(|id| id.to_string());
        assert_eq!(parsed.as_deref(), expected, "parsing {text:?}");
    }

    #[test]
    fn parses_24_hex_digits_in_either_case() {
        check("65a1f00dcafe0123456789ab", Some("65a1f00dcafe0123456789ab"));
        check("65A1F00DCAFE0123456789AB", Some("65a1f00dcafe0123456789ab"));
        check("000000000000000000000000", Some("000000000000000000000000"));
        check("", None);
        check("65a1f00dcafe0123456789a", None);
        check("65a1f00dcafe0123456789abc", None);
        check("65a1f00dcafe0123456789ag", None);
        check(" 5a1f00dcafe0123456789ab", None);
        check("+5a1f00dcafe0123456789ab", None);
        check("65a1f00dcafe0123456789é", None);
    }

    #[test]
    fn minted_ids_increase_and_start_with_the_time() {
        let minter = IdMinter::new();
        let before = jiff::Timestamp::now().as_millisecond() as u128;
        let ids: Vec<SessionId> = (0..10_000).map(|_| minter.mint()).collect();
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
        let millis = ids[0].to_u128() >> 48;
        assert!(millis >= before && millis < before + 60_000);
    }

    proptest! {
        #[test]
        fn display_and_parse_round_trip(bytes in any::<[u8; 12]>()) {
            let id = SessionId::from_bytes(bytes);
            let text = id.to_string();
            prop_assert_eq!(text.len(), 24);
            prop_assert_eq!(text.parse::<SessionId>(), Ok(id));
            prop_assert_eq!(text.to_uppercase().parse::<SessionId>(), Ok(id));
        }

        #[test]
        fn parsing_never_panics(text in ".{0,30}") {
            let _ = text.parse::<SessionId>();
        }
    }
}
