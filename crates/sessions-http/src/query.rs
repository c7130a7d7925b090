//! Query strings: each route's parameters, parsed strictly so a typo or a bad
//! number is answered with a 400 that names the parameter.

use std::time::Duration;

use actix_web::web;
use sessions_core::StatusFilter;
use sessions_core::session_log::{Level, ReadRequest};

use crate::ApiError;

/// Most entries one read returns, whatever `limit` or `tail` ask for.
pub(crate) const MAX_READ_LIMIT: u64 = 10_000;
/// Entries a read returns when `limit` is not given.
pub(crate) const DEFAULT_READ_LIMIT: u64 = 1_000;
/// Longest long poll, in seconds, unless the server is told otherwise.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) const MAX_WAIT_SECONDS: u64 = 60;

/// The parameters of a query string, each name at most once.
struct Parameters(Vec<(String, String)>);

impl Parameters {
    fn parse(query: &str, known: &[&str]) -> Result<Parameters, ApiError> {
        let pairs = web::Query::<Vec<(String, String)>>::from_query(query)
            .map_err(|error| invalid("query", format!("cannot be decoded: {error}")))?
            .into_inner();
        for (index, (name, _)) in pairs.iter().enumerate() {
            if !known.contains(&name.as_str()) {
                let hint = if known.is_empty() {
                    "this endpoint takes no query parameters".to_owned()
                } else {
                    format!("use {}", known.join(", "))
                };
                return Err(invalid(name, format!("is not known here; {hint}")));
            }
            if pairs[..index].iter().any(|(earlier, _)| earlier == name) {
                return Err(invalid(name, "is given more than once".into()));
            }
        }
        Ok(Parameters(pairs))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A non-negative integer. Numbers too large for 64 bits are read as the
    /// largest one, which every parameter either clamps or treats as "ahead".
    fn number(&self, name: &str) -> Result<Option<u64>, ApiError> {
        let Some(text) = self.get(name) else {
            return Ok(None);
        };
        if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(invalid(
                name,
                format!("`{}` is not a non-negative integer", shorten(text)),
            ));
        }
        Ok(Some(text.parse().unwrap_or(u64::MAX)))
    }
}

fn invalid(parameter: &str, reason: String) -> ApiError {
    ApiError::InvalidQuery {
        parameter: parameter.to_owned(),
        reason,
    }
}

fn shorten(text: &str) -> String {
    text.chars().take(40).collect()
}

/// `GET /sessions/?status=`.
pub(crate) fn list_query(query: &str) -> Result<StatusFilter, ApiError> {
    let parameters = Parameters::parse(query, &["status"])?;
    match parameters.get("status") {
        None => Ok(StatusFilter::default()),
        Some(status) => StatusFilter::parse(status).ok_or_else(|| {
            invalid(
                "status",
                format!("`{}` is not one of active, ended, all", shorten(status)),
            )
        }),
    }
}

/// `GET /sessions/{id}/log?cursor|offset|tail&limit&wait`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LogReadQuery {
    pub(crate) request: ReadRequest,
    /// How long a cursor read that finds nothing new may wait; zero for none.
    pub(crate) wait: Duration,
}

#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn log_read_query(query: &str) -> Result<LogReadQuery, ApiError> {
    log_read_query_within(query, Duration::from_secs(MAX_WAIT_SECONDS))
}

/// [`log_read_query`] with the server's own longest wait.
pub(crate) fn log_read_query_within(
    query: &str,
    max_wait: Duration,
) -> Result<LogReadQuery, ApiError> {
    let parameters = Parameters::parse(query, &["cursor", "offset", "tail", "limit", "wait"])?;
    let cursor = parameters.number("cursor")?;
    let offset = parameters.number("offset")?;
    let tail = parameters.number("tail")?;
    let limit = parameters.number("limit")?;
    let wait = parameters.number("wait")?;
    let positions: Vec<&str> = [("cursor", cursor), ("offset", offset), ("tail", tail)]
        .iter()
        .filter(|(_, value)| value.is_some())
        .map(|(name, _)| *name)
        .collect();
    if positions.len() > 1 {
        return Err(invalid(
            positions[1],
            format!(
                "cannot be combined with `{}`; use one of cursor, offset, tail",
                positions[0]
            ),
        ));
    }
    let limit = limit.unwrap_or(DEFAULT_READ_LIMIT).min(MAX_READ_LIMIT) as usize;
    let request = match (cursor, offset, tail) {
        (_, Some(offset), _) => ReadRequest::Page { offset, limit },
        (_, _, Some(count)) => {
            if parameters.get("limit").is_some() {
                return Err(invalid(
                    "limit",
                    "cannot be combined with `tail`, which is a count itself".into(),
                ));
            }
            ReadRequest::Tail {
                count: count.min(MAX_READ_LIMIT) as usize,
            }
        }
        (cursor, _, _) => ReadRequest::After {
            cursor: cursor.unwrap_or(0),
            limit,
        },
    };
    if wait.is_some() && !matches!(request, ReadRequest::After { .. }) {
        return Err(invalid("wait", "only applies to cursor reads".into()));
    }
    Ok(LogReadQuery {
        request,
        wait: Duration::from_secs(wait.unwrap_or(0)).min(max_wait),
    })
}

/// `POST /sessions/{id}/log?level=`: the level of text lines, and the default
/// of JSON entries that name none.
pub(crate) fn log_append_query(query: &str) -> Result<Level, ApiError> {
    let parameters = Parameters::parse(query, &["level"])?;
    match parameters.get("level") {
        None => Ok(Level::Info),
        Some(name) => Level::parse(name).map_err(|error| invalid("level", error.to_string())),
    }
}

/// `GET /sessions/ws?token=`: the token is checked by the access policy;
/// nothing else is taken.
pub(crate) fn ws_query(query: &str) -> Result<(), ApiError> {
    Parameters::parse(query, &["token"]).map(drop)
}

/// Routes that take no parameters still refuse unknown ones, so a misspelt
/// parameter is noticed.
pub(crate) fn no_query(query: &str) -> Result<(), ApiError> {
    Parameters::parse(query, &[]).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str, expected: Result<(ReadRequest, u64), &str>) {
        let parsed = log_read_query(query)
            .map(|q| (q.request, q.wait.as_secs()))
            .map_err(|error| error.to_string());
        match expected {
            Ok(expected) => assert_eq!(parsed, Ok(expected), "{query}"),
            Err(fragment) => {
                let error = parsed.expect_err(query);
                assert!(error.contains(fragment), "{query}: {error}");
            }
        }
    }

    #[test]
    fn log_read_parameters() {
        let after = |cursor, limit| ReadRequest::After { cursor, limit };
        check("", Ok((after(0, 1_000), 0)));
        check("cursor=5", Ok((after(5, 1_000), 0)));
        check("cursor=5&limit=3&wait=2", Ok((after(5, 3), 2)));
        check("limit=99999", Ok((after(0, 10_000), 0)));
        check("wait=61", Ok((after(0, 1_000), 60)));
        check("wait=99999999999999999999999", Ok((after(0, 1_000), 60)));
        check(
            "cursor=99999999999999999999999",
            Ok((after(u64::MAX, 1_000), 0)),
        );
        check(
            "offset=2&limit=5",
            Ok((
                ReadRequest::Page {
                    offset: 2,
                    limit: 5,
                },
                0,
            )),
        );
        check("tail=20000", Ok((ReadRequest::Tail { count: 10_000 }, 0)));
        check(
            "cursor=-1",
            Err("query parameter `cursor`: `-1` is not a non-negative integer"),
        );
        check("cursor=abc", Err("`cursor`"));
        check("cursor=", Err("`cursor`"));
        check("cursor=1.5", Err("`cursor`"));
        check("offset=-3", Err("`offset`"));
        check("limit=x", Err("`limit`"));
        check("wait=-1", Err("`wait`"));
        check(
            "cursor=1&offset=2",
            Err("`offset`: cannot be combined with `cursor`"),
        );
        check("tail=1&cursor=2", Err("cannot be combined"));
        check("tail=1&limit=2", Err("`limit`"));
        check(
            "offset=1&wait=2",
            Err("`wait`: only applies to cursor reads"),
        );
        check("cursor=1&cursor=2", Err("more than once"));
        check("curser=1", Err("`curser`: is not known here"));
    }

    #[test]
    fn list_and_append_parameters() {
        assert_eq!(list_query("").ok(), Some(StatusFilter::Active));
        assert_eq!(list_query("status=all").ok(), Some(StatusFilter::All));
        assert!(list_query("status=gone").is_err());
        assert!(list_query("status=Active").is_err());
        assert_eq!(log_append_query("level=WARNING").ok(), Some(Level::Warn));
        assert!(log_append_query("level=loud").is_err());
        let error = no_query("x=1").unwrap_err().to_string();
        assert_eq!(
            error,
            "query parameter `x`: is not known here; this endpoint takes no query parameters"
        );
        assert!(no_query("").is_ok());
    }
}
