//! The kinds of failure every layer reports, so that one function (the CLI's exit status, the
//! API's HTTP status) can map them.

use serde::Serialize;

/// What kind of failure an error is. The HTTP statuses an API maps them to are noted on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The thing does not exist, or the caller may not know it exists (another tenant's row, an
    /// account the caller is not a member of). HTTP 404.
    NotFound,
    /// The caller is a member but the role is too weak for the action. HTTP 403.
    Forbidden,
    /// The input collides with existing data (a unique key) or the state forbids the action
    /// (e.g. resuming a completed flow). HTTP 409.
    Conflict,
    /// The input is wrong; the error names the field. HTTP 400 (or 422).
    Invalid,
    /// The database or a resource is unreachable or busy; retrying may succeed. HTTP 503.
    Unavailable,
    /// A fault of ours (a bug, corrupt stored data). HTTP 500.
    Internal,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::Forbidden => "forbidden",
            Self::Conflict => "conflict",
            Self::Invalid => "invalid",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
