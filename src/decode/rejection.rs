//! Why a record was refused: a kind (`bursar.error.kind`, docs/semantics.md,
//! rejected records) and a reason.

/// The kind of a rejection (`bursar.error.kind`, docs/semantics.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RejectKind {
    TooLarge,
    InvalidJson,
    InvalidCloudevent,
    MissingField,
    InvalidField,
}

impl RejectKind {
    pub const ALL: [RejectKind; 5] =
        [RejectKind::TooLarge, RejectKind::InvalidJson, RejectKind::InvalidCloudevent, RejectKind::MissingField, RejectKind::InvalidField];

    pub fn as_str(self) -> &'static str {
        match self {
            RejectKind::TooLarge => "too_large",
            RejectKind::InvalidJson => "invalid_json",
            RejectKind::InvalidCloudevent => "invalid_cloudevent",
            RejectKind::MissingField => "missing_field",
            RejectKind::InvalidField => "invalid_field",
        }
    }
}

/// Why a record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {reason}", kind.as_str())]
pub struct Rejection {
    pub kind: RejectKind,
    pub reason: String,
}

