//! Weight initializers, with Keras's names, defaults and formulas. Every draw comes from the
//! library's seeded generator, so `set_seed` makes initial weights repeatable.

use serde::{Deserialize, Serialize};

use crate::creation;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::storage::Storage;
use crate::tensor::Tensor;

/// The standard deviation of a standard normal truncated at two standard deviations; the
/// variance-scaling initializers divide by it so that the truncated draw has the wanted spread.
const TRUNCATED_NORMAL_STDDEV: f64 = 0.879_625_661_034_239_8;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case", deny_unknown_fields)]
pub enum Initializer {
    Zeros,
    Ones,
    Constant {
        value: f64,
    },
    RandomNormal {
        #[serde(default)]
        mean: f64,
        #[serde(default = "default_stddev")]
        stddev: f64,
    },
    RandomUniform {
        #[serde(default = "default_minval")]
        minval: f64,
        #[serde(default = "default_maxval")]
        maxval: f64,
    },
    TruncatedNormal {
        #[serde(default)]
        mean: f64,
        #[serde(default = "default_stddev")]
        stddev: f64,
    },
    GlorotUniform,
    GlorotNormal,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    Orthogonal {
        #[serde(default = "default_gain")]
        gain: f64,
    },
}

fn default_stddev() -> f64 {
    0.05
}
fn default_minval() -> f64 {
    -0.05
}
fn default_maxval() -> f64 {
    0.05
}
fn default_gain() -> f64 {
    1.0
}

/// The names `Initializer::parse` accepts, for error messages.
pub const INITIALIZER_NAMES: &[&str] = &[
    "zeros",
    "ones",
    "random_normal",
    "random_uniform",
    "truncated_normal",
    "glorot_uniform",
    "glorot_normal",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "lecun_uniform",
    "orthogonal",
];

impl Initializer {
    /// The initializer of a Keras name with its default settings.
    pub fn parse(name: &str) -> Result<Initializer> {
        let json = format!("{{\"name\": {:?}}}", name);
        serde_json::from_str(&json).map_err(|_| {
            Error::value(format!(
                "unknown initializer {name:?}; known initializers: {}",
                INITIALIZER_NAMES.join(", ")
            ))
        })
    }

    /// A new leaf tensor of `shape`, drawn or filled according to this initializer.
    pub fn tensor(&self, shape: &[usize], dtype: DType) -> Result<Tensor> {
        let (fan_in, fan_out) = fans(shape);
        let (fan_in, fan_out) = (fan_in.max(1) as f64, fan_out.max(1) as f64);
        let truncated = |scale: f64| {
            creation::truncated_normal(shape, 0.0, scale.sqrt() / TRUNCATED_NORMAL_STDDEV, dtype)
        };
        let uniform = |scale: f64| {
            let limit = (3.0 * scale).sqrt();
            creation::uniform(shape, -limit, limit, dtype)
        };
        match *self {
            Initializer::Zeros => Tensor::zeros(shape, dtype),
            Initializer::Ones => Tensor::full(shape, 1.0, dtype),
            Initializer::Constant { value } => Tensor::full(shape, value, dtype),
            Initializer::RandomNormal { mean, stddev } => {
                creation::normal(shape, mean, stddev, dtype)
            }
            Initializer::RandomUniform { minval, maxval } => {
                creation::uniform(shape, minval, maxval, dtype)
            }
            Initializer::TruncatedNormal { mean, stddev } => {
                creation::truncated_normal(shape, mean, stddev, dtype)
            }
            Initializer::GlorotUniform => uniform(2.0 / (fan_in + fan_out)),
            Initializer::GlorotNormal => truncated(2.0 / (fan_in + fan_out)),
            Initializer::HeNormal => truncated(2.0 / fan_in),
            Initializer::HeUniform => uniform(2.0 / fan_in),
            Initializer::LecunNormal => truncated(1.0 / fan_in),
            Initializer::LecunUniform => uniform(1.0 / fan_in),
            Initializer::Orthogonal { gain } => orthogonal(shape, gain, dtype),
        }
    }
}

/// Keras's fans: the last axis is the output, the one before it the input, and any leading axes
/// (a convolution's receptive field) multiply both.
fn fans(shape: &[usize]) -> (usize, usize) {
    match shape {
        [] => (1, 1),
        [n] => (*n, *n),
        [fan_in, fan_out] => (*fan_in, *fan_out),
        _ => {
            let receptive: usize = shape[..shape.len() - 2].iter().product();
            (
                shape[shape.len() - 2] * receptive,
                shape[shape.len() - 1] * receptive,
            )
        }
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

    fn stats(t: &Tensor) -> (f64, f64, f64) {
        let v = t.to_f64_vec();
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        let max = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        (mean, var.sqrt(), max)
    }

    #[test]
    fn variance_scaling_matches_keras() {
        crate::rng::set_seed(0);
        let (fan_in, fan_out) = (400.0, 300.0);
        let (_, std, max) = stats(
            &Initializer::GlorotUniform
                .tensor(&[400, 300], DType::F64)
                .unwrap(),
        );
        let limit = (6.0f64 / (fan_in + fan_out)).sqrt();
        assert!(max <= limit && (std - limit / 3f64.sqrt()).abs() < 0.01 * limit);
        let (_, std, max) = stats(
            &Initializer::HeNormal
                .tensor(&[400, 300], DType::F64)
                .unwrap(),
        );
        let target = (2.0f64 / fan_in).sqrt();
        assert!((std - target).abs() < 0.02 * target, "{std} vs {target}");
        assert!(max <= 2.0 * target / TRUNCATED_NORMAL_STDDEV + 1e-12);
    }

    #[test]
    fn orthogonal_columns_are_orthonormal() {
        crate::rng::set_seed(1);
        for shape in [[6, 4], [4, 6]] {
            let q = Initializer::Orthogonal { gain: 1.0 }
                .tensor(&shape, DType::F64)
                .unwrap();
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

    #[test]
    fn names_parse() {
        for name in INITIALIZER_NAMES {
            Initializer::parse(name).unwrap();
        }
        assert!(
            Initializer::parse("xavier")
                .unwrap_err()
                .to_string()
                .contains("glorot_uniform")
        );
    }
}
