//! Argument checks shared by the optimizers and the schedules; each error names the argument and
//! echoes its value, as Keras's do.

use crate::bail;
use crate::error::Result;

/// Fails unless `value` is a finite number `>= 0`.
pub(crate) fn check_non_negative(name: &str, value: f64) -> Result<()> {
    if !(value.is_finite() && value >= 0.0) {
        bail!("Argument `{name}` must be a non-negative float. Received: {name}={value:?}");
    }
    Ok(())
}

/// Fails unless `value` is a finite number `> 0`.
pub(crate) fn check_positive(name: &str, value: f64) -> Result<()> {
    if !(value.is_finite() && value > 0.0) {
        bail!("Argument `{name}` must be > 0. Received: {name}={value:?}");
    }
    Ok(())
}

/// Fails unless `0 <= value < 1` (a decay rate such as `beta_1` or `rho`).
pub(crate) fn check_unit_open(name: &str, value: f64) -> Result<()> {
    if !(0.0..1.0).contains(&value) {
        bail!("Argument `{name}` must be in [0, 1). Received: {name}={value:?}");
    }
    Ok(())
}

/// Fails unless `0 <= value <= 1` (a momentum).
pub(crate) fn check_unit_closed(name: &str, value: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&value) {
        bail!("Argument `{name}` must be a float between [0, 1]. Received: {name}={value:?}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_echo_the_value() {
        let msg = check_unit_open("beta_1", 1.0).unwrap_err().to_string();
        assert!(msg.contains("beta_1=1.0"), "{msg}");
        assert!(check_positive("epsilon", 0.0).is_err());
        assert!(check_non_negative("rate", f64::NAN).is_err());
        assert!(check_unit_closed("momentum", 1.0).is_ok());
    }
}
