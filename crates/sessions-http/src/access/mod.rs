//! Who may talk to the server: the Host allowlist, the Origin check and the
//! optional bearer token, plus the headers every response carries and the
//! access log.
//!
//! The threat is a web page the user happens to visit. It can make the
//! browser send requests to `127.0.0.1`, and with DNS rebinding it can even
//! read the answers, as long as the server accepts its host name. So: foreign
//! `Host` names are refused outright, and requests that change something (and
//! WebSocket upgrades) are refused when the browser says they come from
//! another origin. Programs that send no `Origin` (curl, editors, agents) are
//! not affected.
//!
//! `policy.rs` decides (the rules, worked out once at start-up), `guard.rs`
//! applies them to every request, and `headers.rs` holds the security
//! headers every response carries.

mod guard;
mod headers;
mod policy;

pub(crate) use guard::guard;
pub use policy::AccessPolicy;
