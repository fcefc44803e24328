//! The `threshold` parameter that binary accuracy, precision and recall share.

use crate::error::{Error, Result};

/// Keras's default: a prediction above 0.5 is positive.
pub(crate) fn default_threshold() -> f64 {
    0.5
}

/// `threshold` in `[0, 1]`.
pub(crate) fn validate_threshold(name: &str, threshold: f64) -> Result<()> {
    if (0.0..=1.0).contains(&threshold) {
        Ok(())
    } else {
        Err(Error::value(format!(
            "{name}: threshold must be between 0 and 1, received threshold={threshold}"
        )))
    }
}
