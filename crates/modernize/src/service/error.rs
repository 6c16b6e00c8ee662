//! The one error of the service layer: a kind (what a caller maps, e.g. to an HTTP status), the
//! field concerned for Invalid and Conflict, and a message that names fields, never CLI flags.

use crate::discovery::DiscoveryError;
use crate::discovery::ingest::IngestError;
use crate::error::ErrorKind;
use crate::models::MemberRole;
use crate::repo::RepoError;

/// A refused or failed use case.
///
/// HTTP mapping (for the API): NotFound → 404, Forbidden → 403, Conflict → 409, Invalid → 400
/// (with `field`), Unavailable → 503, Internal → 500. The message of an Internal error is for the
/// log, not for the caller.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ServiceError {
    kind: ErrorKind,
    field: Option<String>,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl ServiceError {
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The input field an Invalid or Conflict error concerns.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn not_found(entity: &str, id: impl std::fmt::Display) -> Self {
        Self { kind: ErrorKind::NotFound, field: None, message: format!("{entity} {id} not found"), source: None }
    }

    /// A member whose role is too weak for `action`.
    pub fn forbidden(action: &str, required: MemberRole, role: Option<MemberRole>) -> Self {
        let held = role.map_or_else(|| "no role".to_owned(), |r| format!("the {r} role"));
        Self {
            kind: ErrorKind::Forbidden,
            field: None,
            message: format!("{action} needs the {required} role; the caller has {held}"),
            source: None,
        }
    }

    /// An action reserved to operators and platform administrators.
    pub fn forbidden_platform(action: &str) -> Self {
        Self {
            kind: ErrorKind::Forbidden,
            field: None,
            message: format!("{action} is for operators and platform administrators"),
            source: None,
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            kind: ErrorKind::Invalid,
            message: format!("invalid {field}: {message}"),
            field: Some(field.into()),
            source: None,
        }
    }

    /// A failure of the server's own (its message is for the log).
    pub fn internal(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Internal, field: None, message: message.into(), source: None }
    }

    pub fn conflict(field: Option<&str>, message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Conflict, field: field.map(str::to_owned), message: message.into(), source: None }
    }
}

impl From<RepoError> for ServiceError {
    fn from(error: RepoError) -> Self {
        let kind = error.kind();
        let field = error.field().map(str::to_owned);
        Self { kind, field, message: error.to_string(), source: Some(Box::new(error)) }
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(error: sqlx::Error) -> Self {
        RepoError::from(error).into()
    }
}

impl From<IngestError> for ServiceError {
    /// A file that cannot be read as an inventory is the caller's input: Invalid, field `file`.
    fn from(error: IngestError) -> Self {
        Self {
            kind: ErrorKind::Invalid,
            field: Some("file".into()),
            message: error.to_string(),
            source: Some(Box::new(error)),
        }
    }
}

impl From<DiscoveryError> for ServiceError {
    fn from(error: DiscoveryError) -> Self {
        match error {
            DiscoveryError::Repo(error) => error.into(),
            DiscoveryError::Ingest(error) => error.into(),
            DiscoveryError::IllegalTransition { .. } => Self {
                kind: ErrorKind::Conflict,
                field: Some("status".into()),
                message: error.to_string(),
                source: Some(Box::new(error)),
            },
            DiscoveryError::Invalid(_) | DiscoveryError::Upload { .. } => Self {
                kind: ErrorKind::Internal,
                field: None,
                message: error.to_string(),
                source: Some(Box::new(error)),
            },
        }
    }
}
