//! The error type of the core. Every variant names the operation and the values involved, so
//! that the message a Python user reads says what was expected and what was received.

use crate::dtype::DType;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Two shapes that an operation cannot combine.
    #[error("{op}: shapes {lhs:?} and {rhs:?} {reason}")]
    ShapeMismatch {
        op: &'static str,
        lhs: Vec<usize>,
        rhs: Vec<usize>,
        reason: &'static str,
    },

    /// One shape that an operation cannot accept.
    #[error("{op}: {msg}")]
    Shape { op: &'static str, msg: String },

    #[error("{op}: axis {axis} is out of range for a tensor of rank {rank}")]
    AxisOutOfRange {
        op: &'static str,
        axis: isize,
        rank: usize,
    },

    #[error("{op}: expected dtype {expected}, received {received}")]
    DTypeMismatch {
        op: &'static str,
        expected: DType,
        received: DType,
    },

    /// An argument whose value is wrong (not its shape or type).
    #[error("{0}")]
    Value(String),

    /// An argument of the wrong kind.
    #[error("{0}")]
    Type(String),

    /// A position outside a sequence (Python's `IndexError`, which also ends iteration).
    #[error("{0}")]
    Index(String),

    #[error("{0}")]
    Autograd(String),

    /// A size that cannot be allocated or whose product overflows.
    #[error("{0}")]
    OutOfMemory(String),

    /// A file that is not what it claims to be: truncated, corrupt or hostile.
    #[error("{0}")]
    Format(String),

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    /// Raised by a hook (a Python callback, a signal check) to stop a loop; carries no message of
    /// its own because the binding layer keeps the original exception.
    #[error("interrupted by a callback")]
    Interrupted,
}

impl Error {
    pub fn value(msg: impl Into<String>) -> Self {
        Error::Value(msg.into())
    }

    pub fn shape(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Shape {
            op,
            msg: msg.into(),
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// Returns early with `Error::Value(format!(...))`.
#[macro_export]
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::error::Error::Value(format!($($arg)*)))
    };
}
