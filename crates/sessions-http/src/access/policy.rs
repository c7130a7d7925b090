//! [`AccessPolicy`]: which hosts, origins and credentials the server
//! accepts, and the check of one request against them.

use std::collections::HashSet;
use std::net::IpAddr;

use actix_web::http::Method;
use actix_web::http::header::{self, HeaderMap, HeaderName};
use actix_web::web;

use crate::ApiError;
use crate::routes::{WEBSOCKET_PATH, is_public_path};

/// The Host, Origin and token rules, worked out once at start-up.
#[derive(Debug, Clone)]
pub struct AccessPolicy {
    /// Host names (no port), lowercase, IPv6 without brackets.
    allowed_hosts: HashSet<String>,
    /// Exact `Origin` values that count as the server's own.
    allowed_origins: HashSet<String>,
    token: Option<String>,
}

impl AccessPolicy {
    /// Loopback names and the bind address are always allowed; `extra_hosts`
    /// adds names (say, the machine's name for a non-loopback bind). The
    /// server's own origins are `http://<allowed host>:<port>`; `extra_origins`
    /// adds exact origins.
    pub fn new(
        bind: IpAddr,
        port: u16,
        extra_hosts: &[String],
        extra_origins: &[String],
        token: Option<String>,
    ) -> AccessPolicy {
        let mut allowed_hosts: HashSet<String> = ["localhost", "127.0.0.1", "::1"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        if !bind.is_unspecified() {
            allowed_hosts.insert(bind.to_string());
        }
        allowed_hosts.extend(extra_hosts.iter().map(|host| normalize_host(host)));
        let mut allowed_origins = HashSet::new();
        for host in &allowed_hosts {
            let host = if host.contains(':') {
                format!("[{host}]")
            } else {
                host.clone()
            };
            allowed_origins.insert(format!("http://{host}:{port}"));
            if port == 80 {
                allowed_origins.insert(format!("http://{host}"));
            }
        }
        allowed_origins.extend(
            extra_origins
                .iter()
                .map(|origin| origin.trim_end_matches('/').to_owned()),
        );
        AccessPolicy {
            allowed_hosts,
            allowed_origins,
            token: token.filter(|token| !token.is_empty()),
        }
    }

    /// Applies every rule to a request; the first one broken is the answer.
    pub(crate) fn check(
        &self,
        method: &Method,
        path: &str,
        query: &str,
        headers: &HeaderMap,
    ) -> Result<(), ApiError> {
        check_single_values(headers)?;
        self.check_host(headers)?;
        self.check_token(path, query, headers)?;
        self.check_origin(method, path, headers)
    }

    /// The `Host` header, compared by name with the port ignored. A request
    /// without one (HTTP/1.0) cannot come from a browser and passes.
    fn check_host(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let Some(host) = headers.get(header::HOST) else {
            return Ok(());
        };
        let name = host.to_str().map(host_name).unwrap_or_default();
        if self.allowed_hosts.contains(&name) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "host `{}` is not allowed; use localhost or 127.0.0.1, or start the server with --allow-host",
                String::from_utf8_lossy(host.as_bytes())
            )))
        }
    }

    /// Requests that change state, and every request to the live list (or
    /// asking for any upgrade), must not come from another site: a foreign
    /// `Origin`, or `Sec-Fetch-Site` saying `cross-site` or `same-site`, is
    /// refused. Origins are compared exactly. Which requests are checked
    /// never depends on how the `Upgrade` header is spelled: actix-ws
    /// accepted `websocket, foo`, which a check for `websocket` let by.
    fn check_origin(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> Result<(), ApiError> {
        let watches_live = path == WEBSOCKET_PATH || headers.contains_key(header::UPGRADE);
        let changes_state = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !changes_state && !watches_live {
            return Ok(());
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let allowed = origin
                .to_str()
                .is_ok_and(|origin| self.allowed_origins.contains(origin));
            if !allowed {
                return Err(ApiError::Forbidden(format!(
                    "requests from origin `{}` are not allowed; only the server's own pages (or --allow-origin) may change sessions or watch them live",
                    String::from_utf8_lossy(origin.as_bytes())
                )));
            }
        }
        let fetch_site = headers
            .get("sec-fetch-site")
            .map(|value| value.as_bytes().to_ascii_lowercase());
        if let Some(site @ (b"cross-site" | b"same-site")) = fetch_site.as_deref() {
            return Err(ApiError::Forbidden(format!(
                "requests with Sec-Fetch-Site: {} may not change sessions or watch them live",
                String::from_utf8_lossy(site)
            )));
        }
        Ok(())
    }

    /// With a token configured, everything but `/health` and the dashboard's
    /// static files needs `Authorization: Bearer <token>`. WebSocket upgrades
    /// may pass it as `?token=` instead, because browsers cannot set headers on
    /// them.
    fn check_token(&self, path: &str, query: &str, headers: &HeaderMap) -> Result<(), ApiError> {
        let Some(token) = &self.token else {
            return Ok(());
        };
        if is_public_path(path) {
            return Ok(());
        }
        let from_header = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(bearer_token);
        let from_query = || {
            let is_upgrade = headers.contains_key(header::UPGRADE);
            is_upgrade
                .then(|| {
                    web::Query::<Vec<(String, String)>>::from_query(query)
                        .ok()
                        .and_then(|pairs| {
                            pairs
                                .into_inner()
                                .into_iter()
                                .find(|(key, _)| key == "token")
                                .map(|(_, value)| value)
                        })
                })
                .flatten()
        };
        let matches = match from_header {
            Some(given) => constant_time_eq(given.as_bytes(), token.as_bytes()),
            None => from_query()
                .is_some_and(|given| constant_time_eq(given.as_bytes(), token.as_bytes())),
        };
        if matches {
            Ok(())
        } else {
            Err(ApiError::Unauthorized)
        }
    }
}

/// The headers the checks read must say one thing: with two `Host`, `Origin`
/// or `Sec-Fetch-Site` values, which one a check reads and which one some
/// other part of the stack reads could differ.
fn check_single_values(headers: &HeaderMap) -> Result<(), ApiError> {
    for name in [
        header::HOST,
        header::ORIGIN,
        HeaderName::from_static("sec-fetch-site"),
    ] {
        if headers.get_all(&name).nth(1).is_some() {
            return Err(ApiError::InvalidHeader(format!(
                "the request has more than one `{name}` header; send one"
            )));
        }
    }
    Ok(())
}

/// The credentials of `Bearer <token>`; the scheme is case-insensitive
/// (RFC 9110).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The host name of a `Host` header value: port dropped, brackets of an IPv6
/// literal removed, lowercase, one trailing dot (a fully qualified name)
/// ignored.
fn host_name(value: &str) -> String {
    let name = if let Some(rest) = value.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        value.rsplit_once(':').map_or(value, |(name, _port)| name)
    };
    normalize_host(name)
}

fn normalize_host(name: &str) -> String {
    let name = name.trim().trim_start_matches('[').trim_end_matches(']');
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// Compares without stopping at the first difference, so response times do
/// not tell an attacker how much of a guessed token was right.
fn constant_time_eq(given: &[u8], expected: &[u8]) -> bool {
    if given.len() != expected.len() {
        return false;
    }
    let difference = given
        .iter()
        .zip(expected)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::*;

    fn policy() -> AccessPolicy {
        AccessPolicy::new(
            "127.0.0.1".parse().unwrap(),
            8558,
            &["devbox.local".into()],
            &["https://tools.example/".into()],
            None,
        )
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn check(policy: &AccessPolicy, method: Method, pairs: &[(&str, &str)]) -> Option<u16> {
        use actix_web::ResponseError;
        policy
            .check(&method, "/sessions/", "", &headers(pairs))
            .err()
            .map(|error| error.status_code().as_u16())
    }

    #[test]
    fn host_names_are_compared_without_port() {
        let policy = policy();
        for host in [
            "localhost:8558",
            "LOCALHOST",
            "127.0.0.1:1",
            "[::1]:8558",
            "devbox.local:80",
            "localhost.:8558",
        ] {
            assert_eq!(
                check(&policy, Method::GET, &[("host", host)]),
                None,
                "{host}"
            );
        }
        for host in [
            "evil.example:8558",
            "localhost.evil.example",
            "127.0.0.2",
            "0.0.0.0:8558",
            "",
        ] {
            assert_eq!(
                check(&policy, Method::GET, &[("host", host)]),
                Some(403),
                "{host}"
            );
        }
        assert_eq!(check(&policy, Method::GET, &[]), None, "no Host at all");
    }

    #[test]
    fn foreign_origins_may_read_but_not_write() {
        let policy = policy();
        let evil = [("origin", "http://evil.example")];
        assert_eq!(check(&policy, Method::GET, &evil), None);
        assert_eq!(check(&policy, Method::POST, &evil), Some(403));
        assert_eq!(check(&policy, Method::PUT, &evil), Some(403));
        assert_eq!(check(&policy, Method::DELETE, &evil), Some(403));
        let upgrade = [("origin", "http://evil.example"), ("upgrade", "websocket")];
        assert_eq!(check(&policy, Method::GET, &upgrade), Some(403));
        for origin in [
            "http://localhost:8558.evil.example",
            "http://localhost:85589",
            "http://localhost",
            "https://localhost:8558",
            "null",
        ] {
            assert_eq!(
                check(&policy, Method::POST, &[("origin", origin)]),
                Some(403),
                "{origin}"
            );
        }
        for origin in [
            "http://localhost:8558",
            "http://127.0.0.1:8558",
            "http://[::1]:8558",
            "http://devbox.local:8558",
            "https://tools.example",
        ] {
            assert_eq!(
                check(&policy, Method::POST, &[("origin", origin)]),
                None,
                "{origin}"
            );
        }
        assert_eq!(check(&policy, Method::POST, &[]), None, "no Origin: curl");
    }

    #[test]
    fn sec_fetch_site_refuses_other_sites() {
        let policy = policy();
        for (site, expected) in [
            ("cross-site", Some(403)),
            ("same-site", Some(403)),
            ("same-origin", None),
            ("none", None),
        ] {
            let pairs = [("sec-fetch-site", site)];
            assert_eq!(check(&policy, Method::POST, &pairs), expected, "{site}");
            assert_eq!(check(&policy, Method::GET, &pairs), None, "{site}");
        }
    }

    #[test]
    fn a_token_guards_everything_but_health_and_the_dashboard() {
        let policy = AccessPolicy::new(
            "127.0.0.1".parse().unwrap(),
            8558,
            &[],
            &[],
            Some("s3cret".into()),
        );
        let status = |path: &str, query: &str, pairs: &[(&str, &str)]| {
            use actix_web::ResponseError;
            policy
                .check(&Method::GET, path, query, &headers(pairs))
                .err()
                .map(|error| error.status_code().as_u16())
        };
        assert_eq!(status("/sessions/", "", &[]), Some(401));
        assert_eq!(
            status("/sessions/", "", &[("authorization", "Bearer nope")]),
            Some(401)
        );
        for credentials in ["Bearer s3cret", "bearer  s3cret", "BEARER s3cret "] {
            let header = [("authorization", credentials)];
            assert_eq!(status("/sessions/", "", &header), None, "{credentials}");
        }
        for credentials in ["Basic s3cret", "s3cret", "Bearer", "Bearer s3cre"] {
            let header = [("authorization", credentials)];
            assert_eq!(
                status("/sessions/", "", &header),
                Some(401),
                "{credentials}"
            );
        }
        assert_eq!(
            status("/sessions/", "token=s3cret", &[]),
            Some(401),
            "query only for upgrades"
        );
        assert_eq!(
            status("/sessions/ws", "token=s3cret", &[("upgrade", "websocket")]),
            None
        );
        assert_eq!(status("/health", "", &[]), None);
        assert_eq!(status("/dashboard/app.js", "", &[]), None);
        assert_eq!(status("/dashboard-evil", "", &[]), Some(401));
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }
}
