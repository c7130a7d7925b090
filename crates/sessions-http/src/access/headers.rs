//! The headers every response carries, whatever answered it: the dashboard
//! may only run its own scripts and styles (`default-src 'self'`), be framed
//! by no one, and leak no referrer; nothing is to be sniffed or embedded by
//! other sites.

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};

pub(super) fn add_security_headers(headers: &mut HeaderMap) {
    const SECURITY_HEADERS: [(&str, &str); 4] = [
        ("cross-origin-resource-policy", "same-origin"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        (
            "content-security-policy",
            "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    ];
    for (name, value) in SECURITY_HEADERS {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
}
