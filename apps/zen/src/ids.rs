//! Session ids as people type them: all 24 hex digits, or a prefix of at
//! least 6 that only one session's id starts with (ids begin with their
//! creation time, so recent sessions differ early).

use std::str::FromStr;

use anyhow::{Result, bail};
use sessions_client::{Client, SessionId, StatusFilter};

/// The fewest digits a prefix may have: fewer would match too often to be
/// worth typing.
const SHORTEST_PREFIX: usize = 6;
const FULL_LENGTH: usize = 24;

/// A session named by its id or a prefix of it, in lowercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionRef {
    digits: String,
}

impl FromStr for SessionRef {
    type Err = String;

    fn from_str(text: &str) -> Result<SessionRef, String> {
        let length_fits = (SHORTEST_PREFIX..=FULL_LENGTH).contains(&text.len());
        if !length_fits || !text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(format!(
                "`{text}` is not a session id: give its 24 hex digits, or the first {SHORTEST_PREFIX} or more"
            ));
        }
        Ok(SessionRef {
            digits: text.to_ascii_lowercase(),
        })
    }
}

impl SessionRef {
    /// The session's id: as given when complete, otherwise the one id among
    /// the server's sessions (active and ended) that starts with the digits.
    pub(crate) fn resolve(&self, client: &Client) -> Result<SessionId> {
        if self.digits.len() == FULL_LENGTH {
            return self
                .digits
                .parse()
                .map_err(|error| anyhow::anyhow!("{error}"));
        }
        let sessions = client.list(StatusFilter::All)?;
        let matches: Vec<_> = sessions
            .iter()
            .filter(|session| session.id.to_string().starts_with(&self.digits))
            .collect();
        match matches.as_slice() {
            [session] => Ok(session.id),
            [] => bail!("no session's id starts with {}", self.digits),
            several => {
                let listed: Vec<String> = several
                    .iter()
                    .map(|session| {
                        format!(
                            "{} ({}, {})",
                            session.id,
                            session.appname,
                            session.status().as_str()
                        )
                    })
                    .collect();
                bail!(
                    "{} sessions' ids start with {}: {}; give more digits",
                    several.len(),
                    self.digits,
                    listed.join(", ")
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_prefixes_parse_and_nothing_else() {
        for text in ["65a1f0", "65A1F00DCAFE", "65a1f00dcafe0123456789ab"] {
            assert_eq!(
                text.parse::<SessionRef>().map(|id| id.digits),
                Ok(text.to_ascii_lowercase()),
                "{text}"
            );
        }
        for text in [
            "65a1f",
            "",
            "65a1fg",
            "65a1f00dcafe0123456789ab0",
            "-65a1f0",
        ] {
            assert!(text.parse::<SessionRef>().is_err(), "{text}");
        }
    }
}
