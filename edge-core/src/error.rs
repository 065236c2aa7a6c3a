//! One error type for the whole core. Every variant maps to an HTTP status and a
//! stable machine-readable code. Every request and image error comes from here; the
//! handlers add only codes about what the core never sees: the event
//! (`invalid_event`), S3 (`not_found`, `s3_error`, `s3_unavailable`, `origin_loop`)
//! and the response size (`response_too_large`).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A query parameter is unknown, repeated or out of range.
    InvalidParameter { param: String, message: String },
    /// An object key or derived key is unsafe or malformed.
    InvalidKey { message: String },
    /// Signing is required and `s` is missing, malformed or does not match (also the
    /// side door: a derived URI asked for directly).
    InvalidSignature { message: String },
    /// A genuinely signed URL whose `exp` is in the past.
    SignatureExpired { message: String },
    /// Input bytes, pixels or memory over the configured limits.
    LimitExceeded { message: String },
    /// The input is not in a format we can decode (SVG, unknown bytes, ...).
    UnsupportedFormat { message: String },
    /// The input claims a supported format but cannot be decoded.
    CorruptImage { message: String },
    /// A broken invariant: a bug, never expected.
    Internal { message: String },
}

impl Error {
    pub fn invalid_parameter(param: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidParameter {
            param: param.into(),
            message: message.into(),
        }
    }
    pub fn invalid_key(message: impl Into<String>) -> Self {
        Error::InvalidKey {
            message: message.into(),
        }
    }
    pub fn invalid_signature(message: impl Into<String>) -> Self {
        Error::InvalidSignature {
            message: message.into(),
        }
    }
    pub fn signature_expired(message: impl Into<String>) -> Self {
        Error::SignatureExpired {
            message: message.into(),
        }
    }
    pub fn limit_exceeded(message: impl Into<String>) -> Self {
        Error::LimitExceeded {
            message: message.into(),
        }
    }
    pub fn unsupported_format(message: impl Into<String>) -> Self {
        Error::UnsupportedFormat {
            message: message.into(),
        }
    }
    pub fn corrupt_image(message: impl Into<String>) -> Self {
        Error::CorruptImage {
            message: message.into(),
        }
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Error::Internal {
            message: message.into(),
        }
    }

    /// HTTP status code for this error.
    pub fn status(&self) -> u16 {
        match self {
            Error::InvalidParameter { .. } | Error::InvalidKey { .. } => 400,
            Error::InvalidSignature { .. } | Error::SignatureExpired { .. } => 403,
            Error::LimitExceeded { .. } => 413,
            Error::UnsupportedFormat { .. } => 415,
            Error::CorruptImage { .. } => 422,
            Error::Internal { .. } => 500,
        }
    }

    /// Stable code, part of the public API (logs, JSON error bodies).
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidParameter { .. } => "invalid_parameter",
            Error::InvalidKey { .. } => "invalid_key",
            Error::InvalidSignature { .. } => "invalid_signature",
            Error::SignatureExpired { .. } => "signature_expired",
            Error::LimitExceeded { .. } => "limit_exceeded",
            Error::UnsupportedFormat { .. } => "unsupported_format",
            Error::CorruptImage { .. } => "corrupt_image",
            Error::Internal { .. } => "internal",
        }
    }

    /// Human-readable message; for parameters it starts with the parameter name.
    pub fn message(&self) -> String {
        match self {
            Error::InvalidParameter { param, message } => format!("{param}: {message}"),
            Error::InvalidKey { message }
            | Error::InvalidSignature { message }
            | Error::SignatureExpired { message }
            | Error::LimitExceeded { message }
            | Error::UnsupportedFormat { message }
            | Error::CorruptImage { message }
            | Error::Internal { message } => message.clone(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status(), self.code(), self.message())
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_codes_are_stable() {
        let cases = [
            (Error::invalid_parameter("w", "x"), 400, "invalid_parameter"),
            (Error::invalid_key("x"), 400, "invalid_key"),
            (Error::invalid_signature("x"), 403, "invalid_signature"),
            (Error::signature_expired("x"), 403, "signature_expired"),
            (Error::limit_exceeded("x"), 413, "limit_exceeded"),
            (Error::unsupported_format("x"), 415, "unsupported_format"),
            (Error::corrupt_image("x"), 422, "corrupt_image"),
            (Error::internal("x"), 500, "internal"),
        ];
        for (e, status, code) in cases {
            assert_eq!(e.status(), status);
            assert_eq!(e.code(), code);
        }
        assert_eq!(
            Error::invalid_parameter("w", "must be 1-4096").message(),
            "w: must be 1-4096"
        );
    }
}
