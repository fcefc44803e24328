//! Keras's `Orthogonal`.

use serde::{Deserialize, Serialize};

use super::WeightInitializer;
use crate::creation;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::storage::Storage;
use crate::tensor::Tensor;

/// A random (semi-)orthogonal matrix times `gain` (default 1), the leading axes flattened into
/// rows (Keras's default for recurrent kernels).
///
/// Example:
///
/// ```
/// use ferrograd::initializers::{Orthogonal, WeightInitializer};
/// use ferrograd::DType;
///
/// let q = Orthogonal::default().tensor(&[3, 3], DType::F64).unwrap();
/// assert_eq!(q.shape(), &[3, 3]);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Orthogonal {
    #[serde(default = "default_gain")]
    pub gain: f64,
}

fn default_gain() -> f64 {
    1.0
}

impl Default for Orthogonal {
    fn default() -> Orthogonal {
        Orthogonal {
            gain: default_gain(),
        }
    }
}

impl WeightInitializer for Orthogonal {
    const NAME: &'static str = "orthogonal";

    fn tensor(&self, shape: &[usize], dtype: DType) -> Result<Tensor> {
        orthogonal(shape, self.gain, dtype)
    }
}

/// A (semi-)orthogonal matrix from the QR decomposition of a normal draw, with the sign of each
/// column fixed by R's diagonal (so the distribution is uniform), reshaped to `shape`.
fn orthogonal(shape: &[usize], gain: f64, dtype: DType) -> Result<Tensor> {
    if shape.len() < 2 {
        return Err(Error::value(format!(
            "orthogonal initializer: the shape must have at least 2 dimensions, received {shape:?}"
        )));
    }
    let cols = shape[shape.len() - 1];
    let rows: usize = shape[..shape.len() - 1].iter().product();
    // Orthonormalise the columns of a tall matrix (transpose first when wide).
    let (tall_rows, tall_cols) = if rows >= cols {
        (rows, cols)
    } else {
        (cols, rows)
    };
    let draw = creation::randn(&[tall_rows, tall_cols], DType::F64)?.to_f64_vec();
    let mut q = draw;
    for j in 0..tall_cols {
        for k in 0..j {
            let dot: f64 = (0..tall_rows)
                .map(|i| q[i * tall_cols + j] * q[i * tall_cols + k])
                .sum();
            for i in 0..tall_rows {
                q[i * tall_cols + j] -= dot * q[i * tall_cols + k];
            }
        }
        let norm = (0..tall_rows)
            .map(|i| q[i * tall_cols + j].powi(2))
            .sum::<f64>()
            .sqrt();
        // A zero column (probability zero) is left as is rather than divided by zero.
        if norm > 0.0 {
            for i in 0..tall_rows {
                q[i * tall_cols + j] /= norm;
            }
        }
    }
    let values: Vec<f64> = if rows >= cols {
        q.iter().map(|v| v * gain).collect()
    } else {
        (0..rows * cols)
            .map(|idx| q[(idx % cols) * tall_cols + idx / cols] * gain)
            .collect()
    };
    Ok(Tensor::new(
        Storage::from_f64_vec(dtype, shape, values)?,
        false,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orthogonal_columns_are_orthonormal() {
        crate::rng::set_seed(1);
        for shape in [[6, 4], [4, 6]] {
            let q = Orthogonal { gain: 1.0 }.tensor(&shape, DType::F64).unwrap();
            let q = q.to_f64_vec();
            let (rows, cols) = (shape[0], shape[1]);
            let (outer, inner, stride_major) = if rows >= cols {
                (cols, rows, false)
            } else {
                (rows, cols, true)
            };
            for a in 0..outer {
                for b in 0..outer {
                    let dot: f64 = (0..inner)
                        .map(|i| {
                            let (x, y) = if stride_major {
                                (q[a * cols + i], q[b * cols + i])
                            } else {
                                (q[i * cols + a], q[i * cols + b])
                            };
                            x * y
                        })
                        .sum();
                    let expected = if a == b { 1.0 } else { 0.0 };
                    assert!((dot - expected).abs() < 1e-10, "{shape:?} {a} {b} {dot}");
                }
            }
        }
    }
}
