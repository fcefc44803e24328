use ndarray::{Array2, array};

use super::*;
use crate::dtype::DType;
use crate::ops::join::concat;
use crate::ops::test_util::{check_gradients, randn};
use crate::ops::unary::sigmoid;
use crate::parallel;

const CELLS: [CellKind; 3] = [CellKind::SimpleRnn, CellKind::Lstm, CellKind::Gru];

/// x, kernel, recurrent kernel and bias for a cell.
fn operands(
    cell: CellKind,
    batch: usize,
    steps: usize,
    input_dim: usize,
    units: usize,
) -> Vec<Tensor> {
    let width = cell.gates() * units;
    vec![
        randn(&[batch, steps, input_dim], 11),
        randn(&[input_dim, width], 12),
        randn(&[units, width], 13),
        randn(&cell.bias_shape(units), 14),
    ]
}

/// The op's output, with the final states appended along axis 1 when it returns them.
fn run(
    t: &[Tensor],
    mask: Option<&Array2<bool>>,
    dropout: &DropoutMasks,
    options: &RecurrentOptions,
) -> Tensor {
    let weights = RecurrentWeights {
        kernel: &t[1],
        recurrent_kernel: &t[2],
        bias: t.get(3),
    };
    let out = recurrent(&t[0], &weights, mask, dropout, options).unwrap();
    if out.states.is_empty() {
        return out.output;
    }
    let flat = |x: &Tensor| x.reshape(&[x.shape()[0] as isize, -1]).unwrap();
    let mut parts = vec![flat(&out.output)];
    parts.extend(out.states.iter().map(flat));
    concat(&parts, 1).unwrap()
}

fn sample_mask() -> Array2<bool> {
    // Leading, middle and trailing masked steps, and a fully kept row.
    array![
        [false, true, false, true, false],
        [true, true, true, true, true]
    ]
}

#[test]
fn gradients_match_finite_differences_for_every_cell_and_option() {
    let mask = sample_mask();
    for cell in CELLS {
        let base = RecurrentOptions::new(cell);
        let cases = [
            (base, None),
            (
                RecurrentOptions {
                    return_sequences: true,
                    ..base
                },
                Some(&mask),
            ),
            (
                RecurrentOptions {
                    return_sequences: true,
                    go_backwards: true,
                    ..base
                },
                Some(&mask),
            ),
            (
                RecurrentOptions {
                    go_backwards: true,
                    return_state: true,
                    ..base
                },
                Some(&mask),
            ),
            (
                RecurrentOptions {
                    return_sequences: true,
                    return_state: true,
                    ..base
                },
                None,
            ),
            (
                RecurrentOptions {
                    return_sequences: true,
                    go_backwards: true,
                    zero_output_for_mask: true,
                    reverse_output_sequence: true,
                    ..base
                },
                Some(&mask),
            ),
            // Not the tanh/sigmoid pair: the generic activation path.
            (
                RecurrentOptions {
                    activation: Some(UnaryFn::Elu { alpha: 1.0 }),
                    recurrent_activation: Some(UnaryFn::Tanh),
                    return_sequences: true,
                    ..base
                },
                Some(&mask),
            ),
        ];
        for (options, mask) in cases {
            let t = operands(cell, 2, 5, 3, 2);
            check_gradients(&t, |t| run(t, mask, &DropoutMasks::default(), &options));
        }
    }
}

#[test]
fn gradients_with_dropout_masks_and_without_bias() {
    let dropout = DropoutMasks {
        input: Some(array![[2.0, 0.0, 2.0], [0.0, 2.0, 2.0]]),
        recurrent: Some(array![[0.0, 1.25], [1.25, 1.25]]),
    };
    for cell in CELLS {
        let options = RecurrentOptions {
            return_sequences: true,
            ..RecurrentOptions::new(cell)
        };
        let mut t = operands(cell, 2, 4, 3, 2);
        check_gradients(&t, |t| run(t, None, &dropout, &options));
        t.pop();
        check_gradients(&t, |t| {
            run(
                t,
                Some(&sample_mask().slice(ndarray::s![.., ..4]).to_owned()),
                &DropoutMasks::default(),
                &options,
            )
        });
    }
}

/// Keras's cell equations, one step at a time with plain loops.
fn reference(cell: CellKind, t: &[Tensor], go_backwards: bool) -> Vec<f64> {
    let (x, w, u, bias) = (
        t[0].to_f64_vec(),
        t[1].to_f64_vec(),
        t[2].to_f64_vec(),
        t[3].to_f64_vec(),
    );
    let (batch, steps, input_dim) = (t[0].shape()[0], t[0].shape()[1], t[0].shape()[2]);
    let width = t[1].shape()[1];
    let units = width / cell.gates();
    let mut out = Vec::new();
    for b in 0..batch {
        let (mut h, mut c) = (vec![0.0; units], vec![0.0; units]);
        for step in 0..steps {
            let time = if go_backwards { steps - 1 - step } else { step };
            let xt = &x[(b * steps + time) * input_dim..][..input_dim];
            let project = |v: &[f64], m: &[f64], j: usize| -> f64 {
                v.iter()
                    .enumerate()
                    .map(|(k, &vk)| vk * m[k * width + j])
                    .sum()
            };
            let xw: Vec<f64> = (0..width).map(|j| project(xt, &w, j)).collect();
            let hu: Vec<f64> = (0..width).map(|j| project(&h, &u, j)).collect();
            h = match cell {
                CellKind::SimpleRnn => (0..units)
                    .map(|k| (xw[k] + bias[k] + hu[k]).tanh())
                    .collect(),
                CellKind::Lstm => {
                    let z = |g: usize, k: usize| {
                        xw[g * units + k] + hu[g * units + k] + bias[g * units + k]
                    };
                    (0..units)
                        .map(|k| {
                            let (i, f, g, o) = (
                                sigmoid(z(0, k)),
                                sigmoid(z(1, k)),
                                z(2, k).tanh(),
                                sigmoid(z(3, k)),
                            );
                            c[k] = f * c[k] + i * g;
                            o * c[k].tanh()
                        })
                        .collect()
                }
                CellKind::Gru => (0..units)
                    .map(|k| {
                        let (xz, xr, xh) = (
                            xw[k] + bias[k],
                            xw[units + k] + bias[units + k],
                            xw[2 * units + k] + bias[2 * units + k],
                        );
                        let (rz, rr, rh) = (
                            hu[k] + bias[width + k],
                            hu[units + k] + bias[width + units + k],
                            hu[2 * units + k] + bias[width + 2 * units + k],
                        );
                        let (z, r) = (sigmoid(xz + rz), sigmoid(xr + rr));
                        let hh = (xh + r * rh).tanh();
                        z * h[k] + (1.0 - z) * hh
                    })
                    .collect(),
            };
            out.extend_from_slice(&h);
        }
    }
    out
}

#[test]
fn forward_equals_the_keras_equations() {
    for cell in CELLS {
        for go_backwards in [false, true] {
            let t = operands(cell, 3, 4, 3, 5);
            let options = RecurrentOptions {
                return_sequences: true,
                go_backwards,
                ..RecurrentOptions::new(cell)
            };
            let got = run(&t, None, &DropoutMasks::default(), &options).to_f64_vec();
            let expected = reference(cell, &t, go_backwards);
            for (g, e) in got.iter().zip(&expected) {
                assert!((g - e).abs() < 1e-12, "{cell:?}: {g} vs {e}");
            }
        }
    }
}

#[test]
fn pre_padding_with_a_mask_changes_nothing() {
    for cell in CELLS {
        let padded = operands(cell, 1, 6, 3, 4);
        let mut mask = Array2::from_elem((1, 6), true);
        mask[[0, 0]] = false;
        mask[[0, 1]] = false;
        let unpadded_x = padded[0]
            .index(&[
                IndexItem::Slice {
                    start: None,
                    stop: None,
                    step: None,
                },
                IndexItem::Slice {
                    start: Some(2),
                    stop: None,
                    step: None,
                },
            ])
            .unwrap();
        let mut unpadded = padded.clone();
        unpadded[0] = unpadded_x;
        let options = RecurrentOptions {
            return_state: true,
            ..RecurrentOptions::new(cell)
        };
        let a = run(&padded, Some(&mask), &DropoutMasks::default(), &options).to_f64_vec();
        let b = run(&unpadded, None, &DropoutMasks::default(), &options).to_f64_vec();
        for (a, b) in a.iter().zip(&b) {
            assert!((a - b).abs() < 1e-12, "{cell:?}: {a} vs {b}");
        }
    }
}

#[test]
fn masked_steps_repeat_the_previous_output_or_give_zeros() {
    let t = operands(CellKind::Lstm, 2, 5, 3, 2);
    let mask = sample_mask();
    let options = RecurrentOptions {
        return_sequences: true,
        ..RecurrentOptions::new(CellKind::Lstm)
    };
    let out = run(&t, Some(&mask), &DropoutMasks::default(), &options).to_f64_vec();
    let at = |b: usize, step: usize| &out[(b * 5 + step) * 2..][..2];
    assert_eq!(at(0, 0), &[0.0, 0.0]);
    assert_eq!(at(0, 2), at(0, 1));
    assert_eq!(at(0, 4), at(0, 3));
    let zeroed = RecurrentOptions {
        zero_output_for_mask: true,
        ..options
    };
    let out = run(&t, Some(&mask), &DropoutMasks::default(), &zeroed).to_f64_vec();
    assert_eq!(&out[(2 * 2)..(2 * 2 + 2)], &[0.0, 0.0]);
}

#[test]
fn float32_agrees_with_float64() {
    for cell in CELLS {
        let t = operands(cell, 3, 7, 4, 5);
        let t32: Vec<Tensor> = t.iter().map(|x| x.astype(DType::F32).unwrap()).collect();
        let options = RecurrentOptions {
            return_sequences: true,
            ..RecurrentOptions::new(cell)
        };
        let a = run(&t, None, &DropoutMasks::default(), &options).to_f64_vec();
        let b = run(&t32, None, &DropoutMasks::default(), &options).to_f64_vec();
        for (a, b) in a.iter().zip(&b) {
            assert!((a - b).abs() < 1e-5, "{cell:?}: {a} vs {b}");
        }
    }
}

#[test]
fn bad_shapes_and_activations_are_errors() {
    let t = operands(CellKind::Lstm, 2, 3, 3, 2);
    let weights = RecurrentWeights {
        kernel: &t[1],
        recurrent_kernel: &t[2],
        bias: Some(&t[3]),
    };
    let options = RecurrentOptions::new(CellKind::Lstm);
    let none = DropoutMasks::default();
    let flat = randn(&[2, 3], 1);
    let err = recurrent(&flat, &weights, None, &none, &options)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("LSTM") && err.contains("[2, 3]"), "{err}");
    let wide = randn(&[2, 3, 4], 1);
    assert!(recurrent(&wide, &weights, None, &none, &options).is_err());
    let mask = Array2::from_elem((2, 4), true);
    assert!(recurrent(&t[0], &weights, Some(&mask), &none, &options).is_err());
    let gelu = RecurrentOptions {
        activation: Some(UnaryFn::Gelu),
        ..options
    };
    let err = recurrent(&t[0], &weights, None, &none, &gelu)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("gelu"), "{err}");
    let empty = randn(&[2, 0, 3], 1);
    assert!(recurrent(&empty, &weights, None, &none, &options).is_err());
}

/// Batches large enough to run in blocks of rows on several threads give the same bits as one
/// thread: forward outputs and every gradient, for each cell, in float32 (the packed kernel) and
/// float64, with a mask, both dropouts, going backwards and returning sequences and states.
#[test]
fn blocks_of_rows_give_the_same_bits_on_any_thread_count() {
    let (batch, steps, input_dim, units) = (37, 30, 5, 32);
    let mask = Array2::from_shape_fn((batch, steps), |(b, t)| (b * 7 + t * 3) % 11 != 0);
    let dropout = DropoutMasks {
        input: Some(Array2::from_shape_fn((batch, input_dim), |(b, i)| {
            if (b + i) % 4 == 0 { 0.0 } else { 1.25 }
        })),
        recurrent: Some(Array2::from_shape_fn((batch, units), |(b, u)| {
            if (b * 3 + u) % 5 == 0 { 0.0 } else { 1.25 }
        })),
    };
    let run_on = |threads: usize, cell: CellKind, dtype: DType| {
        parallel::set_num_threads(threads).unwrap();
        let t: Vec<Tensor> = operands(cell, batch, steps, input_dim, units)
            .iter()
            .map(|t| {
                let t = t.astype(dtype).unwrap().detach();
                t.set_requires_grad(true).unwrap();
                t
            })
            .collect();
        let options = RecurrentOptions {
            return_sequences: true,
            return_state: true,
            go_backwards: true,
            ..RecurrentOptions::new(cell)
        };
        let out = run(&t, Some(&mask), &dropout, &options);
        // A weighted sum, so that every output value gets its own gradient.
        let weights = randn(out.shape(), 21).astype(dtype).unwrap();
        out.mul(&weights)
            .unwrap()
            .sum(None, false)
            .unwrap()
            .backward(None, false)
            .unwrap();
        let mut values = vec![out.to_f64_vec()];
        values.extend(t.iter().map(|t| t.grad().unwrap().to_f64_vec()));
        values
    };
    for cell in CELLS {
        for dtype in [DType::F32, DType::F64] {
            let one = run_on(1, cell, dtype);
            let two = run_on(2, cell, dtype);
            let three = run_on(3, cell, dtype);
            parallel::set_num_threads(2).unwrap();
            for (i, ((a, b), c)) in one.iter().zip(&two).zip(&three).enumerate() {
                for (threads, other) in [(2, b), (3, c)] {
                    let differs = a
                        .iter()
                        .zip(other)
                        .position(|(x, y)| x.to_bits() != y.to_bits());
                    assert_eq!(
                        differs, None,
                        "{cell:?} {dtype:?}: array {i} (0 is the output, then the gradients) \
                         differs at that index on {threads} threads"
                    );
                }
            }
        }
    }
}

#[test]
fn gradients_reach_the_initial_states_through_masks_and_dropout() {
    let dropout = DropoutMasks {
        input: None,
        recurrent: Some(array![[0.0, 1.25], [1.25, 1.25]]),
    };
    for cell in CELLS {
        let options = RecurrentOptions {
            return_sequences: true,
            return_state: true,
            ..RecurrentOptions::new(cell)
        };
        let mut t = operands(cell, 2, 5, 3, 2);
        let states = cell.state_count();
        for i in 0..states {
            t.push(randn(&[2, 2], 15 + i as u64));
        }
        let run_from = |t: &[Tensor], dropout: &DropoutMasks| {
            let weights = RecurrentWeights {
                kernel: &t[1],
                recurrent_kernel: &t[2],
                bias: Some(&t[3]),
            };
            let initial: Vec<&Tensor> = t[4..].iter().collect();
            let mask = sample_mask();
            let out =
                recurrent_from(&t[0], &weights, &initial, Some(&mask), dropout, &options).unwrap();
            let flat = |x: &Tensor| x.reshape(&[x.shape()[0] as isize, -1]).unwrap();
            let mut parts = vec![flat(&out.output)];
            parts.extend(out.states.iter().map(flat));
            concat(&parts, 1).unwrap()
        };
        check_gradients(&t, |t| run_from(t, &dropout));
        // Zero initial states given explicitly are the default.
        let mut zeros = t[..4].to_vec();
        for _ in 0..states {
            zeros.push(Tensor::zeros(&[2, 2], DType::F64).unwrap());
        }
        let mask = sample_mask();
        assert_eq!(
            run_from(&zeros, &DropoutMasks::default()).to_f64_vec(),
            run(&t[..4], Some(&mask), &DropoutMasks::default(), &options).to_f64_vec()
        );
        // One state too few, or of the wrong shape, is refused by name.
        let weights = RecurrentWeights {
            kernel: &t[1],
            recurrent_kernel: &t[2],
            bias: Some(&t[3]),
        };
        let wrong = randn(&[2, 3], 1);
        let err = recurrent_from(&t[0], &weights, &[&wrong], None, &dropout, &options)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains(cell.name()) && err.contains("initial_state"),
            "{err}"
        );
    }
}
