//! What can go wrong when asking a session store for something.

use crate::SessionId;

/// Why a session store refused a request. Nothing changed when it did.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("session {0} does not exist")]
    NotFound(SessionId),
    #[error("session {0} has ended; ended sessions are read-only")]
    Ended(SessionId),
    #[error("session {0} is the server's own session and cannot be ended")]
    ServerSession(SessionId),
    #[error("{limit} sessions are active, the most allowed; end some before creating more")]
    TooManyActiveSessions { limit: usize },
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The store behind the registry could not be reached or did not answer
    /// in time. Nothing was changed, or the change is whole; asking again
    /// later is safe.
    #[error("the session store is unavailable ({0}); try again shortly")]
    Unavailable(String),
}

/// Input that breaks a rule of the domain. `detail`-ready sentences that say
/// what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    #[error("`{0}` is required to create a session")]
    MissingField(&'static str),
    #[error("`appname` must not be empty")]
    EmptyAppname,
    #[error("`{field}` is {bytes} bytes long; the limit is {limit} bytes")]
    FieldTooLong {
        field: &'static str,
        bytes: usize,
        limit: usize,
    },
    #[error("`metadata` is {bytes} bytes as compact JSON; the limit is {limit} bytes")]
    MetadataTooLarge { bytes: usize, limit: usize },
    #[error("`metadata` nests {depth} levels deep; the limit is {limit}")]
    MetadataTooDeep { depth: usize, limit: usize },
    #[error("entry {index}: `data` nests {depth} levels deep; the limit is {limit}")]
    DataTooDeep {
        index: usize,
        depth: usize,
        limit: usize,
    },
    #[error("entry {index}: `message` is {bytes} bytes long; the limit is {limit} bytes")]
    MessageTooLong {
        index: usize,
        bytes: usize,
        limit: usize,
    },
    #[error("a batch holds {count} entries; the limit is {limit} per request")]
    TooManyEntries { count: usize, limit: usize },
    #[error(transparent)]
    Log(#[from] sessions_log::AppendError),
}
