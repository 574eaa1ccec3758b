//! Errors of tensor operations: each names the op, the shapes involved and what disagrees.

use crate::element::DType;

/// The error type of every fallible (`try_*`) tensor operation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Two operands whose shapes do not fit; `detail` names the dimension that disagrees.
    #[error("{op}: shapes {lhs:?} and {rhs:?} do not match: {detail}")]
    ShapeMismatch {
        op: &'static str,
        lhs: Vec<usize>,
        rhs: Vec<usize>,
        detail: String,
    },
    /// Two operands of different element types.
    #[error("{op}: dtypes {lhs} and {rhs} differ; convert one with `to_dtype`")]
    DTypeMismatch {
        op: &'static str,
        lhs: DType,
        rhs: DType,
    },
    /// Any other invalid argument (an axis out of range, a wrong data length, ...).
    #[error("{op}: {msg}")]
    Invalid { op: &'static str, msg: String },
}

impl Error {
    pub(crate) fn invalid(op: &'static str, msg: impl Into<String>) -> Self {
        Error::Invalid {
            op,
            msg: msg.into(),
        }
    }

    pub(crate) fn shape(
        op: &'static str,
        lhs: &[usize],
        rhs: &[usize],
        detail: impl Into<String>,
    ) -> Self {
        Error::ShapeMismatch {
            op,
            lhs: lhs.to_vec(),
            rhs: rhs.to_vec(),
            detail: detail.into(),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
