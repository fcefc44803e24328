//! The tensor ops a traced program or graph records: a closed list (serde, no code), each
//! replayed by calling the `Tensor` op of its name with the recorded settings. The Python
//! `Tensor` methods and `ferrograd.ops` run through `PrimitiveOp::apply` too, so an op traced
//! once runs in the graph exactly as it ran when it was traced.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::creation::{self, RandomDistribution};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::losses::{Loss, Reduction};
use crate::ops::binary::{BinaryOp, binary};
use crate::ops::compare::{Comparison, where_};
use crate::ops::index::IndexItem;
use crate::ops::join::{concat, stack};
use crate::ops::reduce::arg_extremum;
use crate::ops::unary::UnaryFn;
use crate::tensor::Tensor;

/// The core tensor ops a program may record; each runs the `Tensor` method of its name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PrimitiveOp {
    Add,
    Sub,
    Mul,
    Div,
    #[serde(rename = "matmul")]
    MatMul,
    Neg,
    Exp,
    Log,
    Sqrt,
    Square,
    Relu,
    Sigmoid,
    Tanh,
    Sum {
        #[serde(default)]
        axes: Option<Vec<isize>>,
        #[serde(default)]
        keepdims: bool,
    },
    Mean {
        #[serde(default)]
        axes: Option<Vec<isize>>,
        #[serde(default)]
        keepdims: bool,
    },
    Reshape {
        shape: Vec<isize>,
    },
    Transpose {
        #[serde(default)]
        axes: Option<Vec<isize>>,
    },
    Concat {
        axis: isize,
    },
    Softmax {
        axis: isize,
    },
    /// Multiplication by a number.
    Scale {
        by: f64,
    },
    /// An elementwise function (an activation with its settings, `exp`, `sin`, ...).
    Unary {
        function: UnaryFn,
    },
    /// Broadcast arithmetic of two tensors.
    Binary {
        op: BinaryOp,
    },
    /// Arithmetic with a number: `x op value`, or `value op x` when `reflected`.
    WithScalar {
        op: BinaryOp,
        value: f64,
        reflected: bool,
    },
    /// `x ** exponent` for a constant exponent.
    PowScalar {
        exponent: f64,
    },
    /// A 0/1 comparison of two tensors (no gradient).
    Compare {
        comparison: Comparison,
    },
    LogSoftmax {
        axis: isize,
    },
    Max {
        axes: Option<Vec<isize>>,
        keepdims: bool,
    },
    Min {
        axes: Option<Vec<isize>>,
        keepdims: bool,
    },
    Prod {
        axes: Option<Vec<isize>>,
        keepdims: bool,
    },
    /// The position of the largest (`largest`) or smallest value.
    ArgExtremum {
        axis: Option<isize>,
        keepdims: bool,
        largest: bool,
    },
    Cumsum {
        axis: Option<isize>,
    },
    Var {
        axes: Option<Vec<isize>>,
        keepdims: bool,
        correction: f64,
    },
    Std {
        axes: Option<Vec<isize>>,
        keepdims: bool,
        correction: f64,
    },
    Norm {
        ord: f64,
        axes: Option<Vec<isize>>,
        keepdims: bool,
    },
    Clip {
        min: Option<f64>,
        max: Option<f64>,
    },
    /// numpy-style indexing (`x[1:, None, idx]`).
    Index {
        items: Vec<IndexItem>,
    },
    Stack {
        axis: isize,
    },
    /// `where(condition, x, y)`: three operands.
    Where,
    Cast {
        dtype: String,
    },
    /// A built-in loss of (y_true, y_pred) (serialised as its config), reduced as `reduction`
    /// says (`"sum_over_batch_size"`, `"sum"` or `"none"`).
    BuiltinLoss {
        loss: Loss,
        reduction: String,
    },
    /// A tensor of one value. `batch_axes` take the size of the batch when the op runs (a
    /// tensor made in `call()` from the input's batch size).
    Full {
        shape: Vec<usize>,
        value: f64,
        dtype: String,
        #[serde(default)]
        batch_axes: Vec<usize>,
    },
    /// Random draws: "normal", "uniform" or "truncated_normal" with parameters `a`, `b` (mean
    /// and stddev, or bounds). With a `seed` the same values at each run (Keras's int seed);
    /// without, new values from the pass's generator each time. `batch_axes` as for `Full`.
    Random {
        distribution: String,
        shape: Vec<usize>,
        a: f64,
        b: f64,
        dtype: String,
        #[serde(default)]
        seed: Option<u64>,
        #[serde(default)]
        batch_axes: Vec<usize>,
    },
}

/// What an op may need beyond its operands: the pass's random generator and batch size.
#[derive(Default)]
pub struct OpEnv<'a> {
    pub rng: Option<&'a mut ChaCha8Rng>,
    /// The batch size of the pass (for ops whose shape follows it).
    pub batch: Option<usize>,
}

impl PrimitiveOp {
    /// How many operands the op takes (`None`: one or more; creation ops take none).
    pub fn arity(&self) -> Option<usize> {
        match self {
            PrimitiveOp::Add
            | PrimitiveOp::Sub
            | PrimitiveOp::Mul
            | PrimitiveOp::Div
            | PrimitiveOp::MatMul
            | PrimitiveOp::Binary { .. }
            | PrimitiveOp::Compare { .. }
            | PrimitiveOp::BuiltinLoss { .. } => Some(2),
            PrimitiveOp::Where => Some(3),
            PrimitiveOp::Full { .. } | PrimitiveOp::Random { .. } => Some(0),
            PrimitiveOp::Concat { .. } | PrimitiveOp::Stack { .. } => None,
            _ => Some(1),
        }
    }

    /// A short name for messages.
    pub fn name(&self) -> String {
        let text = serde_json::to_string(self).unwrap_or_default();
        let trimmed = text.trim_start_matches(['{', '"']);
        trimmed
            .split(['"', ':', '}'])
            .next()
            .unwrap_or("op")
            .to_string()
    }

    /// Runs the op on `args`.
    pub fn apply(&self, args: &[Tensor], env: &mut OpEnv<'_>) -> Result<Tensor> {
        let expected = self.arity();
        let fits = match expected {
            Some(n) => args.len() == n,
            None => !args.is_empty(),
        };
        if !fits {
            return Err(Error::value(format!(
                "{}: takes {} operand(s), received {}",
                self.name(),
                expected.map_or("1 or more".into(), |n| n.to_string()),
                args.len()
            )));
        }
        if let PrimitiveOp::Full { .. } | PrimitiveOp::Random { .. } = self {
            return self.create(env);
        }
        if let PrimitiveOp::Concat { axis } = self {
            return concat(args, *axis);
        }
        if let PrimitiveOp::Stack { axis } = self {
            return stack(args, *axis);
        }
        let x = &args[0];
        match self {
            PrimitiveOp::Add => x.add(&args[1]),
            PrimitiveOp::Sub => x.sub(&args[1]),
            PrimitiveOp::Mul => x.mul(&args[1]),
            PrimitiveOp::Div => x.div(&args[1]),
            PrimitiveOp::MatMul => x.matmul(&args[1]),
            PrimitiveOp::Neg => x.neg(),
            PrimitiveOp::Exp => x.exp(),
            PrimitiveOp::Log => x.log(),
            PrimitiveOp::Sqrt => x.sqrt(),
            PrimitiveOp::Square => x.square(),
            PrimitiveOp::Relu => x.relu(),
            PrimitiveOp::Sigmoid => x.sigmoid(),
            PrimitiveOp::Tanh => x.tanh(),
            PrimitiveOp::Sum { axes, keepdims } => x.sum(axes.as_deref(), *keepdims),
            PrimitiveOp::Mean { axes, keepdims } => x.mean(axes.as_deref(), *keepdims),
            PrimitiveOp::Reshape { shape } => x.reshape(shape),
            PrimitiveOp::Transpose { axes } => x.transpose(axes.as_deref()),
            PrimitiveOp::Softmax { axis } => x.softmax(*axis),
            PrimitiveOp::Scale { by } => x.scalar_op(BinaryOp::Mul, *by, false),
            PrimitiveOp::Unary { function } => x.apply(*function),
            PrimitiveOp::Binary { op } => binary(*op, x, &args[1]),
            PrimitiveOp::WithScalar {
                op,
                value,
                reflected,
            } => x.scalar_op(*op, *value, *reflected),
            PrimitiveOp::PowScalar { exponent } => x.powf(*exponent),
            PrimitiveOp::Compare { comparison } => x.compare(*comparison, &args[1]),
            PrimitiveOp::LogSoftmax { axis } => x.log_softmax(*axis),
            PrimitiveOp::Max { axes, keepdims } => x.max(axes.as_deref(), *keepdims),
            PrimitiveOp::Min { axes, keepdims } => x.min(axes.as_deref(), *keepdims),
            PrimitiveOp::Prod { axes, keepdims } => x.prod(axes.as_deref(), *keepdims),
            PrimitiveOp::ArgExtremum {
                axis,
                keepdims,
                largest,
            } => arg_extremum(x, *axis, *keepdims, *largest),
            PrimitiveOp::Cumsum { axis } => x.cumsum(*axis),
            PrimitiveOp::Var {
                axes,
                keepdims,
                correction,
            } => x.var(axes.as_deref(), *keepdims, *correction),
            PrimitiveOp::Std {
                axes,
                keepdims,
                correction,
            } => x.std(axes.as_deref(), *keepdims, *correction),
            PrimitiveOp::Norm {
                ord,
                axes,
                keepdims,
            } => x.vector_norm(*ord, axes.as_deref(), *keepdims),
            PrimitiveOp::Clip { min, max } => x.clip(*min, *max),
            PrimitiveOp::Index { items } => x.index(items),
            PrimitiveOp::Where => where_(x, &args[1], &args[2]),
            PrimitiveOp::Cast { dtype } => x.astype(DType::parse(dtype)?),
            PrimitiveOp::BuiltinLoss { loss, reduction } => {
                loss.compute_with(x, &args[1], Reduction::parse(reduction)?)
            }
            PrimitiveOp::Concat { .. }
            | PrimitiveOp::Stack { .. }
            | PrimitiveOp::Full { .. }
            | PrimitiveOp::Random { .. } => Err(Error::value(format!(
                "internal error: {} is dispatched before the one-operand ops",
                self.name()
            ))),
        }
    }

    /// The creation ops: a tensor from nothing but the settings (and the pass's generator).
    fn create(&self, env: &mut OpEnv<'_>) -> Result<Tensor> {
        let with_batch = |shape: &[usize], batch_axes: &[usize]| -> Result<Vec<usize>> {
            let mut shape = shape.to_vec();
            for &axis in batch_axes {
                let batch = env.batch.ok_or_else(|| {
                    Error::value("a tensor sized by the batch was made outside a model's pass")
                })?;
                if axis >= shape.len() {
                    return Err(Error::value(format!(
                        "batch axis {axis} is beyond the shape {shape:?}"
                    )));
                }
                shape[axis] = batch;
            }
            Ok(shape)
        };
        match self {
            PrimitiveOp::Full {
                shape,
                value,
                dtype,
                batch_axes,
            } => Tensor::full(
                &with_batch(shape, batch_axes)?,
                *value,
                DType::parse(dtype)?,
            ),
            PrimitiveOp::Random {
                distribution,
                shape,
                a,
                b,
                dtype,
                seed,
                batch_axes,
            } => {
                let shape = with_batch(shape, batch_axes)?;
                let distribution = match distribution.as_str() {
                    "normal" => RandomDistribution::Normal {
                        mean: *a,
                        stddev: *b,
                    },
                    "uniform" => RandomDistribution::Uniform { low: *a, high: *b },
                    "truncated_normal" => RandomDistribution::TruncatedNormal {
                        mean: *a,
                        stddev: *b,
                    },
                    other => {
                        return Err(Error::value(format!("unknown distribution {other:?}")));
                    }
                };
                // Without a seed of its own, each run draws from the pass's generator, so
                // that a traced model's noise follows `set_seed` as the eager call's does.
                let seed = match (seed, env.rng.as_mut()) {
                    (Some(seed), _) => Some(*seed),
                    (None, Some(rng)) => Some(rng.random::<u64>()),
                    (None, None) => None,
                };
                creation::sample(distribution, &shape, DType::parse(dtype)?, seed)
            }
            _ => Err(Error::value(format!(
                "{} is not a creation op",
                self.name()
            ))),
        }
    }
}
