//! The loops end to end through the Rust API: a small model built with `build_layer` and
//! `Graph::new`, trained by `fit`, measured by `evaluate`, run by `predict`, on generated data.

use std::sync::Arc;

use parking_lot::Mutex;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use super::batches::{Data, Pipeline};
use super::data::{ArrayRows, Batch, BatchStream, Rows};
use super::fit::{Compiled, FitConfig, FitReport, OutputLoss, ValidationFreq, evaluate, fit};
use super::{Control, Hooks, Logs, NoHooks, predict, predict_all, predict_stream};
use crate::autograd::no_grad;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::losses::Loss;
use crate::metrics::MetricKind;
use crate::nn::{BuiltLayer, Context, Graph, GraphNode, build_layer};
use crate::optimizers::{Optimizer, OptimizerConfig};
use crate::parallel;
use crate::storage::Storage;
use crate::tensor::Tensor;

/// A deterministic value in [-1, 1] for index `i` of stream `seed`.
fn wave(i: usize, seed: usize) -> f64 {
    ((i as f64) * 0.618_034 + (seed as f64) * 1.3).sin()
}

/// `features -> Dense(hidden, relu) [-> Dropout(0.25)] -> Dense(1, output)`, with weights set
/// from `wave` (not drawn from the global generator, which other tests reseed).
fn model(features: usize, hidden: usize, dropout: bool, output: &str, dtype: DType) -> Graph {
    let input = vec![None, Some(features)];
    let mut specs = vec![(
        "Dense",
        json!({"units": hidden, "activation": "relu"}),
        vec![None, Some(hidden)],
    )];
    if dropout {
        specs.push(("Dropout", json!({"rate": 0.25}), vec![None, Some(hidden)]));
    }
    specs.push(("Dense", json!({"units": 1, "activation": output}), vec![]));
    let mut layers = Vec::new();
    let mut nodes = vec![GraphNode::Input {
        shape: input.clone(),
    }];
    let mut shape = input;
    for (index, (kind, config, next_shape)) in specs.into_iter().enumerate() {
        let layer = build_layer(kind, &config, std::slice::from_ref(&shape), dtype).unwrap();
        layers.push(Arc::new(BuiltLayer::new(format!("{kind}_{index}"), layer)));
        nodes.push(GraphNode::Apply {
            layer: index,
            inputs: vec![index.into()],
            training: None,
        });
        shape = next_shape;
    }
    let output_node = nodes.len() - 1;
    let graph = Graph::new(layers, nodes, vec![0], output_node, dtype).unwrap();
    for (w, (_, weight)) in graph.weights().into_iter().enumerate() {
        let shape = weight.tensor.shape().to_vec();
        let values = (0..shape.iter().product())
            .map(|i| 0.4 * wave(i, 10 + w))
            .collect();
        weight
            .tensor
            .set_data(Storage::from_f64_vec(dtype, &shape, values).unwrap())
            .unwrap();
    }
    graph
}

/// `rows` samples of `features` values, and a target per sample: a linear function of the
/// features, or (with `binary`) whether that function is positive.
fn dataset(rows: usize, features: usize, binary: bool, dtype: DType) -> (Storage, Storage) {
    let x: Vec<f64> = (0..rows * features).map(|i| wave(i, 1)).collect();
    let y: Vec<f64> = x
        .chunks(features)
        .map(|row| {
            let t: f64 = row.iter().enumerate().map(|(j, v)| v * wave(j, 2)).sum();
            if binary { f64::from(t > 0.0) } else { t }
        })
        .collect();
    (
        Storage::from_f64_vec(dtype, &[rows, features], x).unwrap(),
        Storage::from_f64_vec(dtype, &[rows, 1], y).unwrap(),
    )
}

fn rows(storage: &Storage) -> ArrayRows {
    ArrayRows::new(Arc::new(storage.clone())).unwrap()
}

/// An optimizer from its JSON config (what model files store), with a constant learning rate.
fn optimizer(rule: serde_json::Value, learning_rate: f64) -> Mutex<Optimizer> {
    let config = json!({
        "rule": rule,
        "learning_rate": {"name": "constant", "value": learning_rate},
        "weight_decay": null,
        "clipnorm": null,
        "clipvalue": null,
        "global_clipnorm": null,
    });
    let config: OptimizerConfig = serde_json::from_value(config).unwrap();
    Mutex::new(Optimizer::new(config).unwrap())
}

fn sgd_rule() -> serde_json::Value {
    json!({"name": "sgd", "momentum": 0.0, "nesterov": false})
}

fn adam_rule() -> serde_json::Value {
    json!({"name": "adam", "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": false})
}

fn compiled<'a>(
    graph: &'a Graph,
    loss: &str,
    metrics: &[&str],
    optimizer: Option<&'a Mutex<Optimizer>>,
) -> Compiled<'a> {
    Compiled::single(
        graph,
        Loss::parse(loss).unwrap(),
        metrics
            .iter()
            .map(|name| (name.to_string(), MetricKind::parse(name).unwrap()))
            .collect(),
        optimizer,
    )
}

fn config(epochs: usize, batch_size: usize, shuffle: bool) -> FitConfig {
    FitConfig {
        epochs,
        initial_epoch: 0,
        batch_size,
        shuffle,
        steps_per_epoch: None,
        validation_batch_size: batch_size,
        validation_steps: None,
        stop_on_nonfinite: false,
        validation_freq: ValidationFreq::default(),
        resumable: false,
    }
}

fn weights(graph: &Graph) -> Vec<Vec<f64>> {
    graph
        .weights()
        .into_iter()
        .map(|(_, w)| w.tensor.to_f64_vec())
        .collect()
}

fn bits(values: &[Vec<f64>]) -> Vec<Vec<u64>> {
    values
        .iter()
        .map(|v| v.iter().map(|x| x.to_bits()).collect())
        .collect()
}

fn log_bits(logs: &[Logs]) -> Vec<Vec<(String, u64)>> {
    logs.iter()
        .map(|l| l.iter().map(|(k, v)| (k.clone(), v.to_bits())).collect())
        .collect()
}

fn value(logs: &Logs, name: &str) -> f64 {
    logs.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("no {name:?} in {logs:?}"))
}

/// Hooks that record what the loop reports and can stop it or fail at a given point.
#[derive(Default)]
struct Recorder {
    every_batch: bool,
    events: Vec<String>,
    epoch_logs: Vec<Logs>,
    stop_after_batch: Option<(usize, usize)>,
    stop_after_epoch: Option<usize>,
    fail_before_batch: Option<(usize, usize)>,
    epoch: usize,
}

impl Hooks for Recorder {
    fn wants_every_batch(&self) -> bool {
        self.every_batch
    }

    fn on_epoch_begin(&mut self, epoch: usize) -> Result<()> {
        self.epoch = epoch;
        self.events.push(format!("epoch {epoch}"));
        Ok(())
    }

    fn on_batch_begin(&mut self, step: usize) -> Result<()> {
        if self.fail_before_batch == Some((self.epoch, step)) {
            return Err(Error::Interrupted);
        }
        self.events.push(format!("begin {step}"));
        Ok(())
    }

    fn on_batch_end(&mut self, step: usize, _logs: &Logs) -> Result<Control> {
        self.events.push(format!("end {step}"));
        Ok(if self.stop_after_batch == Some((self.epoch, step)) {
            Control::Stop
        } else {
            Control::Continue
        })
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs) -> Result<Control> {
        self.events.push(format!("epoch end {epoch}"));
        self.epoch_logs.push(logs.clone());
        Ok(if self.stop_after_epoch == Some(epoch) {
            Control::Stop
        } else {
            Control::Continue
        })
    }
}

/// Whole batches from a list, like a Python iterable: each epoch starts over unless the loop
/// asks to continue.
struct ListStream {
    batches: Vec<(Storage, Option<Storage>)>,
    next: usize,
    started: bool,
    starts: usize,
}

impl ListStream {
    fn new(batches: Vec<(Storage, Option<Storage>)>) -> ListStream {
        ListStream {
            batches,
            next: 0,
            started: false,
            starts: 0,
        }
    }

    /// The batches a rows source cuts from `x` and `y` in order (no shuffle).
    fn of_rows(x: &Storage, y: &Storage, batch_size: usize) -> ListStream {
        let (x, y) = (rows(x), rows(y));
        let order: Vec<usize> = (0..x.len()).collect();
        ListStream::new(
            order
                .chunks(batch_size)
                .map(|chunk| {
                    (
                        x.gather(chunk, DType::F64).unwrap(),
                        Some(y.gather(chunk, DType::F64).unwrap()),
                    )
                })
                .collect(),
        )
    }
}

impl BatchStream for ListStream {
    fn start_epoch(&mut self, continuing: bool) -> Result<()> {
        if continuing && self.started {
            return Ok(());
        }
        self.started = true;
        self.starts += 1;
        self.next = 0;
        Ok(())
    }

    fn next_batch(&mut self, dtype: DType) -> Result<Option<Batch>> {
        let Some((x, y)) = self.batches.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        Ok(Some(Batch {
            x: vec![x.astype(dtype)],
            y: y.as_ref().map(|y| vec![y.astype(dtype)]),
            sample_weight: None,
        }))
    }
}

/// The model's output for all of `x` in one forward pass, in inference mode.
fn forward_all(graph: &Graph, x: &Storage) -> Tensor {
    let _no_grad = no_grad();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut ctx = Context {
        training: false,
        rng: &mut rng,
        packed_kernels: None,
    };
    graph
        .forward(&[Tensor::new(x.clone(), false)], &mut ctx)
        .unwrap()
}

#[test]
fn fit_lowers_the_loss() {
    let graph = model(4, 8, false, "linear", DType::F64);
    let (x, y) = dataset(64, 4, false, DType::F64);
    let (xr, yr) = (rows(&x), rows(&y));
    let sgd = optimizer(sgd_rule(), 0.05);
    let model = compiled(&graph, "mse", &["mae"], Some(&sgd));
    let before = evaluate(
        &model,
        Data::Rows {
            x: &xr,
            y: Some(&yr),
        },
        64,
        None,
        &mut NoHooks,
    )
    .unwrap();
    let mut hooks = Recorder::default();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let report = fit(
        &model,
        Data::Rows {
            x: &xr,
            y: Some(&yr),
        },
        None,
        &config(40, 8, true),
        &mut rng,
        &mut hooks,
    )
    .unwrap();
    assert_eq!(report.epochs_completed, 40);
    assert_eq!(sgd.lock().iterations(), 40 * 8);
    let losses: Vec<f64> = hooks.epoch_logs.iter().map(|l| value(l, "loss")).collect();
    let after = evaluate(
        &model,
        Data::Rows {
            x: &xr,
            y: Some(&yr),
        },
        64,
        None,
        &mut NoHooks,
    )
    .unwrap();
    // The model starts far off (a loss of 2.35 over the data) and ends close (5e-4), the
    // epoch loss falling at every epoch.
    let (start, end) = (value(&before, "loss"), value(&after, "loss"));
    assert!((2.3..2.4).contains(&start), "loss before training {start}");
    assert!(end < 1e-3, "loss after training {end}");
    assert!(
        losses.windows(2).all(|w| w[1] < w[0]),
        "epoch losses {losses:?}"
    );
    assert!(losses[39] < losses[0] / 1000.0, "epoch losses {losses:?}");
    assert!(value(&after, "mae") < value(&before, "mae") / 50.0);
}

#[test]
fn evaluate_matches_a_forward_pass_by_hand() {
    // Sigmoid output with binary cross-entropy: the loops fuse the two; by hand they are not.
    let graph = model(5, 6, false, "sigmoid", DType::F64);
    let (x, y) = dataset(50, 5, true, DType::F64);
    let model = compiled(
        &graph,
        "binary_crossentropy",
        &["mae", "binary_accuracy"],
        None,
    );
    // 50 rows in batches of 7: the last batch has 1 row, and the batch losses are weighted.
    let logs = evaluate(
        &model,
        Data::Rows {
            x: &rows(&x),
            y: Some(&rows(&y)),
        },
        7,
        None,
        &mut NoHooks,
    )
    .unwrap();

    let predictions = forward_all(&graph, &x);
    let y_tensor = Tensor::new(y.clone(), false);
    let loss = model.outputs[0]
        .loss
        .compute(&y_tensor, &predictions)
        .unwrap()
        .item()
        .unwrap();
    let (p, t) = (predictions.to_f64_vec(), y.to_f64_vec());
    let mae = p.iter().zip(&t).map(|(p, t)| (p - t).abs()).sum::<f64>() / 50.0;
    let accuracy = p
        .iter()
        .zip(&t)
        .filter(|&(p, t)| f64::from(*p > 0.5) == *t)
        .count() as f64
        / 50.0;
    let names: Vec<&str> = logs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["loss", "mae", "binary_accuracy"]);
    assert!(
        loss > 0.1,
        "a model that has not learned has a real loss, {loss}"
    );
    assert!(
        (value(&logs, "loss") - loss).abs() < 1e-12 * loss.max(1.0),
        "{logs:?} vs {loss}"
    );
    assert!(
        (value(&logs, "mae") - mae).abs() < 1e-12,
        "{logs:?} vs {mae}"
    );
    assert!((value(&logs, "binary_accuracy") - accuracy).abs() < 1e-12);

    // A step limit evaluates only the first batches: 3 batches of 7 rows.
    let first = evaluate(
        &model,
        Data::Rows {
            x: &rows(&x),
            y: Some(&rows(&y)),
        },
        7,
        Some(3),
        &mut NoHooks,
    )
    .unwrap();
    let first_rows: Vec<usize> = (0..21).collect();
    let head = forward_all(&graph, &rows(&x).gather(&first_rows, DType::F64).unwrap());
    let head_y = rows(&y).gather(&first_rows, DType::F64).unwrap();
    let head_loss = model.outputs[0]
        .loss
        .compute(&Tensor::new(head_y, false), &head)
        .unwrap()
        .item()
        .unwrap();
    assert!((value(&first, "loss") - head_loss).abs() < 1e-12);
}

/// Training with dropout, shuffling and Adam in float32 (kernels large enough to be cut over
/// threads), then evaluate and predict: the same bits on 1, 2 and 3 threads.
#[test]
fn fit_evaluate_and_predict_give_the_same_bits_on_one_two_and_three_threads() {
    let (x, y) = dataset(300, 48, false, DType::F32);
    let run_on = |threads: usize| {
        parallel::set_num_threads(threads).unwrap();
        let graph = model(48, 96, true, "linear", DType::F32);
        let adam = optimizer(adam_rule(), 1e-3);
        let model = compiled(&graph, "mse", &["mae"], Some(&adam));
        let (xr, yr) = (rows(&x), rows(&y));
        let mut hooks = Recorder::default();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        fit(
            &model,
            Data::Rows {
                x: &xr,
                y: Some(&yr),
            },
            Some(Data::Rows {
                x: &xr,
                y: Some(&yr),
            }),
            &config(3, 128, true),
            &mut rng,
            &mut hooks,
        )
        .unwrap();
        let evaluation = evaluate(
            &model,
            Data::Rows {
                x: &xr,
                y: Some(&yr),
            },
            64,
            None,
            &mut NoHooks,
        )
        .unwrap();
        let predictions = predict(&graph, &xr, 32, &mut NoHooks).unwrap().to_f64_vec();
        let mut logs = hooks.epoch_logs;
        logs.push(evaluation);
        (
            bits(&weights(&graph)),
            log_bits(&logs),
            bits(&[predictions]),
        )
    };
    let one = run_on(1);
    let two = run_on(2);
    let three = run_on(3);
    parallel::set_num_threads(2).unwrap();
    assert!(one.0[0].len() == 48 * 96 && one.1.len() == 4);
    assert!(one == two, "1 and 2 threads differ");
    assert!(one == three, "1 and 3 threads differ");
}

#[test]
fn a_stream_and_rows_give_the_same_results_for_the_same_batches() {
    let (x, y) = dataset(45, 3, false, DType::F64);
    let (xr, yr) = (rows(&x), rows(&y));
    let run = |data: Data<'_>, validation: Data<'_>| {
        let graph = model(3, 5, true, "linear", DType::F64);
        let sgd = optimizer(sgd_rule(), 0.1);
        let model = compiled(&graph, "mse", &["mae"], Some(&sgd));
        let mut hooks = Recorder::default();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let report = fit(
            &model,
            data,
            Some(validation),
            &config(3, 10, false),
            &mut rng,
            &mut hooks,
        )
        .unwrap();
        assert!(!report.ran_out_of_data);
        (
            bits(&weights(&graph)),
            log_bits(&hooks.epoch_logs),
            hooks.events,
            graph,
        )
    };
    let from_rows = run(
        Data::Rows {
            x: &xr,
            y: Some(&yr),
        },
        Data::Rows {
            x: &xr,
            y: Some(&yr),
        },
    );
    let mut train = ListStream::of_rows(&x, &y, 10);
    let mut validation = ListStream::of_rows(&x, &y, 10);
    let from_stream = run(Data::Stream(&mut train), Data::Stream(&mut validation));
    assert_eq!(from_rows.0, from_stream.0, "weights");
    assert_eq!(from_rows.1, from_stream.1, "epoch logs");
    assert_eq!(from_rows.2, from_stream.2, "hook events");
    // Without a step limit, each epoch (and each validation pass) starts the stream over.
    assert_eq!((train.starts, validation.starts), (3, 3));

    // The same for evaluate and predict on the trained model.
    let graph = &from_rows.3;
    let model = compiled(graph, "mse", &["mae"], None);
    let by_rows = evaluate(
        &model,
        Data::Rows {
            x: &xr,
            y: Some(&yr),
        },
        10,
        None,
        &mut NoHooks,
    )
    .unwrap();
    let mut stream = ListStream::of_rows(&x, &y, 10);
    let by_stream = evaluate(&model, Data::Stream(&mut stream), 10, None, &mut NoHooks).unwrap();
    assert_eq!(log_bits(&[by_rows]), log_bits(&[by_stream]));
    let by_rows = predict(graph, &xr, 10, &mut NoHooks).unwrap();
    let mut stream = ListStream::of_rows(&x, &y, 10);
    let by_stream = predict_stream(graph, &mut stream, &mut NoHooks).unwrap();
    assert_eq!(by_rows.shape(), [45, 1]);
    assert_eq!(
        bits(&[by_rows.to_f64_vec()]),
        bits(&[by_stream.to_f64_vec()])
    );
}

#[test]
fn predict_equals_the_forward_pass() {
    let (x, _) = dataset(103, 48, false, DType::F32);
    let graph = model(48, 96, true, "sigmoid", DType::F32);
    let expected = forward_all(&graph, &x).to_f64_vec();
    for threads in [1, 2, 3] {
        parallel::set_num_threads(threads).unwrap();
        for every_batch in [false, true] {
            let mut hooks = Recorder {
                every_batch,
                ..Recorder::default()
            };
            let out = predict(&graph, &rows(&x), 16, &mut hooks).unwrap();
            assert_eq!(out.shape(), [103, 1]);
            let out = out.to_f64_vec();
            let worst = out
                .iter()
                .zip(&expected)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(worst < 1e-6, "{threads} threads: off by {worst}");
            // Every batch reported, in order, begin before end (7 batches of 16 rows).
            let ends: Vec<&String> = hooks
                .events
                .iter()
                .filter(|e| e.starts_with("end"))
                .collect();
            assert_eq!(ends.len(), 7);
            if every_batch {
                let expected_events: Vec<String> = (0..7)
                    .flat_map(|s| [format!("begin {s}"), format!("end {s}")])
                    .collect();
                assert_eq!(hooks.events, expected_events);
            }
        }
    }
    parallel::set_num_threads(2).unwrap();
    // No rows: an empty array of the output's shape.
    let empty = Storage::zeros(DType::F32, &[0, 48]).unwrap();
    let out = predict(&graph, &rows(&empty), 16, &mut NoHooks).unwrap();
    assert_eq!(out.shape(), [0, 1]);
    // A hook that stops after the second batch: the outputs of the first two batches.
    let mut hooks = Recorder {
        every_batch: true,
        stop_after_batch: Some((0, 1)),
        ..Recorder::default()
    };
    let out = predict(&graph, &rows(&x), 16, &mut hooks).unwrap();
    assert_eq!(out.shape(), [32, 1]);
}

#[test]
fn validation_logs_are_the_evaluation_at_the_end_of_each_epoch() {
    let (x, y) = dataset(40, 3, true, DType::F64);
    let (vx, vy) = dataset(30, 3, true, DType::F64);
    let (xr, yr, vxr, vyr) = (rows(&x), rows(&y), rows(&vx), rows(&vy));
    let graph = model(3, 4, false, "sigmoid", DType::F64);
    let sgd = optimizer(sgd_rule(), 0.1);
    let model = compiled(
        &graph,
        "binary_crossentropy",
        &["binary_accuracy"],
        Some(&sgd),
    );
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut fit_config = config(2, 8, true);
    fit_config.validation_batch_size = 7;
    for epoch in 0..2 {
        let mut hooks = Recorder::default();
        let mut one_epoch = fit_config.clone();
        one_epoch.initial_epoch = epoch;
        one_epoch.epochs = epoch + 1;
        fit(
            &model,
            Data::Rows {
                x: &xr,
                y: Some(&yr),
            },
            Some(Data::Rows {
                x: &vxr,
                y: Some(&vyr),
            }),
            &one_epoch,
            &mut rng,
            &mut hooks,
        )
        .unwrap();
        let logs = &hooks.epoch_logs[0];
        let names: Vec<&str> = logs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            ["loss", "binary_accuracy", "val_loss", "val_binary_accuracy"]
        );
        let after = evaluate(
            &model,
            Data::Rows {
                x: &vxr,
                y: Some(&vyr),
            },
            7,
            None,
            &mut NoHooks,
        )
        .unwrap();
        assert_eq!(
            value(logs, "val_loss").to_bits(),
            value(&after, "loss").to_bits()
        );
        assert_eq!(
            value(logs, "val_binary_accuracy"),
            value(&after, "binary_accuracy")
        );
        // The validation pass reports no batches to the training hooks.
        assert_eq!(
            hooks.events.iter().filter(|e| e.starts_with("end")).count(),
            5
        );
    }
}

#[test]
fn steps_per_epoch_caps_rows_and_continues_a_stream() {
    let (x, y) = dataset(40, 3, false, DType::F64);
    let (xr, yr) = (rows(&x), rows(&y));
    let graph = model(3, 4, false, "linear", DType::F64);
    let sgd = optimizer(sgd_rule(), 0.01);
    let model = compiled(&graph, "mse", &[], Some(&sgd));
    let mut limited = config(3, 8, true);
    limited.steps_per_epoch = Some(2);
    let mut hooks = Recorder::default();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let report = fit(
        &model,
        Data::Rows {
            x: &xr,
            y: Some(&yr),
        },
        None,
        &limited,
        &mut rng,
        &mut hooks,
    )
    .unwrap();
    assert_eq!(
        (report.epochs_completed, report.ran_out_of_data),
        (3, false)
    );
    assert_eq!(sgd.lock().iterations(), 6);
    let first_epoch: Vec<&str> = hooks.events[..6].iter().map(String::as_str).collect();
    assert_eq!(
        first_epoch,
        [
            "epoch 0",
            "begin 0",
            "end 0",
            "begin 1",
            "end 1",
            "epoch end 0"
        ]
    );

    // Five batches, two per epoch: the stream continues across epochs and runs out in the
    // third, which still ends (with its one batch) before training stops.
    let mut stream = ListStream::of_rows(&x, &y, 8);
    let mut hooks = Recorder::default();
    let report = fit(
        &model,
        Data::Stream(&mut stream),
        None,
        &limited,
        &mut rng,
        &mut hooks,
    )
    .unwrap();
    assert_eq!((report.epochs_completed, report.ran_out_of_data), (3, true));
    assert_eq!(stream.starts, 1);
    assert_eq!(sgd.lock().iterations(), 6 + 5);
    assert_eq!(
        hooks.events.iter().filter(|e| e.starts_with("end")).count(),
        5
    );

    // A stream that gives nothing at all stops training before any epoch completes.
    let mut empty = ListStream::new(Vec::new());
    let report = fit(
        &model,
        Data::Stream(&mut empty),
        None,
        &config(2, 8, false),
        &mut rng,
        &mut NoHooks,
    )
    .unwrap();
    assert_eq!((report.epochs_completed, report.ran_out_of_data), (0, true));
}

#[test]
fn initial_epoch_starts_the_count_there() {
    let (x, y) = dataset(20, 3, false, DType::F64);
    let graph = model(3, 4, false, "linear", DType::F64);
    let sgd = optimizer(sgd_rule(), 0.01);
    let model = compiled(&graph, "mse", &[], Some(&sgd));
    let mut from_two = config(5, 10, false);
    from_two.initial_epoch = 2;
    let mut hooks = Recorder::default();
    let report = fit(
        &model,
        Data::Rows {
            x: &rows(&x),
            y: Some(&rows(&y)),
        },
        None,
        &from_two,
        &mut ChaCha8Rng::seed_from_u64(0),
        &mut hooks,
    )
    .unwrap();
    assert_eq!(report.epochs_completed, 3);
    let epochs: Vec<&String> = hooks
        .events
        .iter()
        .filter(|e| e.starts_with("epoch "))
        .collect();
    assert_eq!(
        epochs,
        [
            "epoch 2",
            "epoch end 2",
            "epoch 3",
            "epoch end 3",
            "epoch 4",
            "epoch end 4"
        ]
    );
    assert_eq!(sgd.lock().iterations(), 6);
}

#[test]
fn hooks_stop_training_after_a_batch_or_an_epoch_or_at_once_on_an_error() {
    let (x, y) = dataset(40, 3, false, DType::F64);
    let (xr, yr) = (rows(&x), rows(&y));
    let train = |hooks: &mut Recorder| -> (Result<FitReport>, u64, Vec<Vec<f64>>) {
        let graph = model(3, 4, false, "linear", DType::F64);
        let sgd = optimizer(sgd_rule(), 0.05);
        let model = compiled(&graph, "mse", &[], Some(&sgd));
        let result = fit(
            &model,
            Data::Rows {
                x: &xr,
                y: Some(&yr),
            },
            None,
            &config(4, 8, true),
            &mut ChaCha8Rng::seed_from_u64(9),
            hooks,
        );
        let iterations = sgd.lock().iterations();
        (result, iterations, weights(&graph))
    };
    // Stop after batch 2 of epoch 1: that epoch still ends (and is reported), then training.
    let mut hooks = Recorder {
        stop_after_batch: Some((1, 2)),
        ..Recorder::default()
    };
    let (report, iterations, _) = train(&mut hooks);
    assert_eq!(report.unwrap().epochs_completed, 2);
    assert_eq!(iterations, 5 + 3);
    assert_eq!(hooks.events.last().unwrap(), "epoch end 1");

    let mut hooks = Recorder {
        stop_after_epoch: Some(2),
        ..Recorder::default()
    };
    let (report, iterations, _) = train(&mut hooks);
    assert_eq!(report.unwrap().epochs_completed, 3);
    assert_eq!(iterations, 15);

    // An error from a hook (a callback raised, Ctrl-C) stops at once; the weights are those
    // after the last finished batch, as if training had been asked for exactly those batches.
    let mut hooks = Recorder {
        fail_before_batch: Some((1, 2)),
        ..Recorder::default()
    };
    let (result, iterations, interrupted) = train(&mut hooks);
    assert!(matches!(result, Err(Error::Interrupted)));
    assert_eq!(iterations, 5 + 2);
    assert_eq!(hooks.events.last().unwrap(), "end 1");
    let mut hooks = Recorder {
        stop_after_batch: Some((1, 1)),
        ..Recorder::default()
    };
    let (_, _, stopped) = train(&mut hooks);
    assert_eq!(bits(&interrupted), bits(&stopped));
}

#[test]
fn a_nonfinite_loss_stops_before_its_update() {
    let (x, y) = dataset(24, 3, false, DType::F64);
    let mut targets = y.to_f64_vec();
    targets[13] = f64::NAN;
    let y = Storage::from_f64_vec(DType::F64, &[24, 1], targets).unwrap();
    let graph = model(3, 4, false, "linear", DType::F64);
    let sgd = optimizer(sgd_rule(), 0.05);
    let model = compiled(&graph, "mse", &[], Some(&sgd));
    let mut careful = config(2, 8, false);
    careful.stop_on_nonfinite = true;
    let report = fit(
        &model,
        Data::Rows {
            x: &rows(&x),
            y: Some(&rows(&y)),
        },
        None,
        &careful,
        &mut ChaCha8Rng::seed_from_u64(0),
        &mut NoHooks,
    )
    .unwrap();
    let nonfinite = report.nonfinite.unwrap();
    assert_eq!((nonfinite.epoch, nonfinite.step), (0, 1));
    assert!(nonfinite.loss.is_nan());
    assert_eq!(report.epochs_completed, 0);
    assert_eq!(sgd.lock().iterations(), 1);
    assert!(weights(&graph).iter().flatten().all(|w| w.is_finite()));
}

#[test]
fn the_pipeline_shuffles_one_order_across_epochs_and_caps_the_steps() {
    let x = Storage::from_f64_vec(DType::F64, &[10, 1], (0..10).map(f64::from).collect()).unwrap();
    let xr = rows(&x);
    let mut pipeline = Pipeline::new(Data::Rows { x: &xr, y: None }, 4, Some(2), DType::F32);
    assert_eq!(pipeline.samples(), Some(10));
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut order: Vec<usize> = (0..10).collect();
    let mut reference = ChaCha8Rng::seed_from_u64(4);
    for _ in 0..3 {
        // One shuffle of the whole order per epoch, continuing from the last epoch's order.
        rand::seq::SliceRandom::shuffle(&mut order[..], &mut reference);
        let mut batches = pipeline.epoch(Some(&mut rng)).unwrap();
        assert_eq!(batches.remaining(), Some(2));
        let mut seen = Vec::new();
        while let Some(batch) = batches.next_batch().unwrap() {
            assert!(batch.y.is_none());
            assert_eq!(batch.x[0].dtype(), DType::F32);
            seen.extend(batch.x[0].to_f64_vec().into_iter().map(|v| v as usize));
        }
        assert_eq!(batches.remaining(), Some(0));
        assert!(!batches.ran_out());
        assert_eq!(seen, order[..8]);
    }
    // Without a limit the last batch holds the rows left over.
    let mut pipeline = Pipeline::new(
        Data::Rows {
            x: &xr,
            y: Some(&xr),
        },
        4,
        None,
        DType::F64,
    );
    let mut batches = pipeline.epoch(None).unwrap();
    assert_eq!(batches.remaining(), Some(3));
    let sizes: Vec<usize> = std::iter::from_fn(|| batches.next_batch().unwrap())
        .map(|b| b.y.unwrap()[0].shape()[0])
        .collect();
    assert_eq!(sizes, [4, 4, 2]);
    // A zero batch size is an error, not a panic.
    let mut pipeline = Pipeline::new(Data::Rows { x: &xr, y: None }, 0, None, DType::F64);
    assert!(pipeline.epoch(None).is_err());
    // A stream says when it ran out.
    let mut stream = ListStream::new(vec![(x.clone(), None)]);
    let mut pipeline = Pipeline::new(Data::Stream(&mut stream), 1, None, DType::F64);
    let mut batches = pipeline.epoch(None).unwrap();
    assert_eq!(batches.remaining(), None);
    assert!(batches.next_batch().unwrap().is_some());
    assert!(!batches.ran_out());
    assert!(batches.next_batch().unwrap().is_none());
    assert!(batches.ran_out());
}

// --- several inputs and outputs ---------------------------------------------------------------

/// A layer's kind, name, config and input shapes.
type LayerSpec = (
    &'static str,
    &'static str,
    serde_json::Value,
    Vec<Vec<Option<usize>>>,
);

/// Two inputs (3 and 2 features) -> Concatenate -> Dense(4, relu) "trunk", then two heads:
/// "score" Dense(1) and "class" Dense(3, softmax); weights from `wave`.
fn two_head_model(dtype: DType) -> Graph {
    let specs: [LayerSpec; 4] = [
        (
            "Concatenate",
            "join",
            json!({"axis": -1}),
            vec![vec![None, Some(3)], vec![None, Some(2)]],
        ),
        (
            "Dense",
            "trunk",
            json!({"units": 4, "activation": "relu"}),
            vec![vec![None, Some(5)]],
        ),
        (
            "Dense",
            "score",
            json!({"units": 1, "activation": "linear"}),
            vec![vec![None, Some(4)]],
        ),
        (
            "Dense",
            "class",
            json!({"units": 3, "activation": "softmax"}),
            vec![vec![None, Some(4)]],
        ),
    ];
    let layers = specs
        .iter()
        .map(|(kind, name, config, shapes)| {
            let layer = build_layer(kind, config, shapes, dtype).unwrap();
            Arc::new(BuiltLayer::new(name.to_string(), layer))
        })
        .collect();
    let apply = |layer: usize, inputs: &[usize]| GraphNode::Apply {
        layer,
        inputs: inputs.iter().map(|&i| i.into()).collect(),
        training: None,
    };
    let nodes = vec![
        GraphNode::Input {
            shape: vec![None, Some(3)],
        },
        GraphNode::Input {
            shape: vec![None, Some(2)],
        },
        apply(0, &[0, 1]),
        apply(1, &[2]),
        apply(2, &[3]),
        apply(3, &[3]),
    ];
    let graph = Graph::with_outputs(
        layers,
        nodes,
        vec![0, 1],
        vec![4usize.into(), 5usize.into()],
        dtype,
    )
    .unwrap();
    for (w, (_, weight)) in graph.weights().into_iter().enumerate() {
        let shape = weight.tensor.shape().to_vec();
        let values = (0..shape.iter().product())
            .map(|i| 0.5 * wave(i, 20 + w))
            .collect();
        weight
            .tensor
            .set_data(Storage::from_f64_vec(dtype, &shape, values).unwrap())
            .unwrap();
    }
    graph
}

/// Inputs `a` (rows x 3), `b` (rows x 2), targets `score` (rows x 1) and one-hot `class`
/// (rows x 3).
fn two_head_data(rows: usize, dtype: DType) -> [Storage; 4] {
    let a: Vec<f64> = (0..rows * 3).map(|i| wave(i, 1)).collect();
    let b: Vec<f64> = (0..rows * 2).map(|i| wave(i, 2)).collect();
    let score: Vec<f64> = (0..rows).map(|i| a[3 * i] - b[2 * i + 1]).collect();
    let class: Vec<f64> = (0..rows)
        .flat_map(|i| {
            let k = ((wave(i, 3) + 1.0) * 1.5).floor().min(2.0) as usize;
            (0..3).map(move |j| f64::from(j == k))
        })
        .collect();
    [
        Storage::from_f64_vec(dtype, &[rows, 3], a).unwrap(),
        Storage::from_f64_vec(dtype, &[rows, 2], b).unwrap(),
        Storage::from_f64_vec(dtype, &[rows, 1], score).unwrap(),
        Storage::from_f64_vec(dtype, &[rows, 3], class).unwrap(),
    ]
}

fn two_head_compiled<'a>(
    graph: &'a Graph,
    optimizer: Option<&'a Mutex<Optimizer>>,
) -> Compiled<'a> {
    Compiled {
        graph,
        outputs: vec![
            OutputLoss {
                name: "score".into(),
                loss: Loss::parse("mse").unwrap(),
                weight: Some(0.5),
                metrics: vec![("score_mae".into(), MetricKind::parse("mae").unwrap())],
            },
            OutputLoss {
                name: "class".into(),
                loss: Loss::parse("categorical_crossentropy").unwrap(),
                weight: Some(2.0),
                metrics: vec![(
                    "class_accuracy".into(),
                    MetricKind::parse("categorical_accuracy").unwrap(),
                )],
            },
        ],
        optimizer,
    }
}

/// Each head's loss on all rows at once, in training mode with gradients recorded.
fn two_head_losses(graph: &Graph, data: &[Storage; 4]) -> (Tensor, Tensor) {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut ctx = Context {
        training: true,
        rng: &mut rng,
        packed_kernels: None,
    };
    let x = [
        Tensor::new(data[0].clone(), false),
        Tensor::new(data[1].clone(), false),
    ];
    let outputs = graph.forward_all(&x, &mut ctx).unwrap();
    let mse = Loss::parse("mse")
        .unwrap()
        .compute(&Tensor::new(data[2].clone(), false), &outputs[0])
        .unwrap();
    let cce = Loss::parse("categorical_crossentropy")
        .unwrap()
        .compute(&Tensor::new(data[3].clone(), false), &outputs[1])
        .unwrap();
    (mse, cce)
}

fn two_head_rows(data: &[Storage; 4]) -> Vec<ArrayRows> {
    data.iter().map(rows).collect()
}

fn columns(r: &[ArrayRows]) -> Data<'_> {
    Data::Columns {
        x: vec![&r[0], &r[1]],
        y: Some(vec![&r[2], &r[3]]),
        sample_weight: None,
    }
}

#[test]
fn two_heads_total_loss_is_the_weighted_sum_of_the_output_losses() {
    let graph = two_head_model(DType::F64);
    let data = two_head_data(20, DType::F64);
    let model = two_head_compiled(&graph, None);
    let r = two_head_rows(&data);
    let logs = evaluate(&model, columns(&r), 20, None, &mut NoHooks).unwrap();
    let names: Vec<&str> = logs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "loss",
            "score_loss",
            "class_loss",
            "score_mae",
            "class_accuracy"
        ]
    );
    let (mse, cce) = {
        let _no_grad = no_grad();
        two_head_losses(&graph, &data)
    };
    let (mse, cce) = (mse.item().unwrap(), cce.item().unwrap());
    assert!(mse > 0.01 && cce > 0.1, "{mse} {cce}");
    assert!((value(&logs, "score_loss") - mse).abs() < 1e-12);
    assert!((value(&logs, "class_loss") - cce).abs() < 1e-12);
    assert!((value(&logs, "loss") - (0.5 * mse + 2.0 * cce)).abs() < 1e-12);
    // In batches of 7 (7, 7, 6 rows) the logs are the same means, weighted by batch size.
    let batched = evaluate(&model, columns(&r), 7, None, &mut NoHooks).unwrap();
    for ((name, whole), (_, parts)) in logs.iter().zip(&batched) {
        assert!((whole - parts).abs() < 1e-12, "{name}: {whole} vs {parts}");
    }
    // Targets missing for one output: a clear error.
    let err = evaluate(
        &model,
        Data::Columns {
            x: vec![&r[0], &r[1]],
            y: Some(vec![&r[2]]),
            sample_weight: None,
        },
        7,
        None,
        &mut NoHooks,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("2 outputs") && err.contains("1 target"),
        "{err}"
    );
}

#[test]
fn two_heads_one_sgd_step_follows_each_heads_weighted_gradient() {
    let data = two_head_data(16, DType::F64);
    let learning_rate = 0.1;
    // The gradients by hand: each head's weights get only their own weighted loss's gradient.
    let by_hand = two_head_model(DType::F64);
    let (mse, cce) = two_head_losses(&by_hand, &data);
    let total = mse
        .mul(&Tensor::scalar(0.5, DType::F64))
        .unwrap()
        .add(&cce.mul(&Tensor::scalar(2.0, DType::F64)).unwrap())
        .unwrap();
    total.backward(None, false).unwrap();
    let grads: Vec<(String, Vec<f64>)> = by_hand
        .weights()
        .into_iter()
        .map(|(name, w)| (name, w.tensor.grad().unwrap().to_f64_vec()))
        .collect();
    let head_only = two_head_model(DType::F64);
    let (mse_only, _) = two_head_losses(&head_only, &data);
    mse_only
        .mul(&Tensor::scalar(0.5, DType::F64))
        .unwrap()
        .backward(None, false)
        .unwrap();
    for (name, w) in head_only.weights() {
        if name.starts_with("score/") {
            let alone = w.tensor.grad().unwrap().to_f64_vec();
            let joint = &grads.iter().find(|(n, _)| *n == name).unwrap().1;
            assert_eq!(&alone, joint, "{name}");
            assert!(alone.iter().any(|g| g.abs() > 1e-6), "{name}");
        }
    }
    // One step of fit over all rows.
    let graph = two_head_model(DType::F64);
    let before = weights(&graph);
    let sgd = optimizer(sgd_rule(), learning_rate);
    let model = two_head_compiled(&graph, Some(&sgd));
    let r = two_head_rows(&data);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    fit(
        &model,
        columns(&r),
        None,
        &config(1, 16, false),
        &mut rng,
        &mut NoHooks,
    )
    .unwrap();
    let after = weights(&graph);
    for (((b, a), (name, g)), _) in before.iter().zip(&after).zip(&grads).zip(0..) {
        for ((b, a), g) in b.iter().zip(a).zip(g) {
            assert!(
                (a - (b - learning_rate * g)).abs() < 1e-12,
                "{name}: {a} vs {}",
                b - learning_rate * g
            );
        }
    }
}

#[test]
fn two_heads_give_the_same_bits_on_one_two_and_three_threads_and_predict_each_output() {
    let data = two_head_data(150, DType::F32);
    let run_on = |threads: usize| {
        parallel::set_num_threads(threads).unwrap();
        let graph = two_head_model(DType::F32);
        let adam = optimizer(adam_rule(), 1e-2);
        let model = two_head_compiled(&graph, Some(&adam));
        let r = two_head_rows(&data);
        let mut hooks = Recorder::default();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        fit(
            &model,
            columns(&r),
            Some(columns(&r)),
            &config(3, 32, true),
            &mut rng,
            &mut hooks,
        )
        .unwrap();
        let predictions =
            predict_all(&graph, &[&r[0] as &dyn Rows, &r[1]], 16, &mut NoHooks).unwrap();
        assert_eq!(predictions.len(), 2);
        assert_eq!(predictions[0].shape(), [150, 1]);
        assert_eq!(predictions[1].shape(), [150, 3]);
        let logs = hooks.epoch_logs;
        (
            bits(&weights(&graph)),
            log_bits(&logs),
            bits(
                &predictions
                    .iter()
                    .map(|p| p.to_f64_vec())
                    .collect::<Vec<_>>(),
            ),
            logs,
        )
    };
    let one = run_on(1);
    let two = run_on(2);
    let three = run_on(3);
    parallel::set_num_threads(2).unwrap();
    let names: Vec<&str> = one.3[0].iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "loss",
            "score_loss",
            "class_loss",
            "score_mae",
            "class_accuracy",
            "val_loss",
            "val_score_loss",
            "val_class_loss",
            "val_score_mae",
            "val_class_accuracy"
        ]
    );
    // Training lowers the total loss.
    assert!(value(&one.3[2], "loss") < value(&one.3[0], "loss"));
    assert!(
        one.0 == two.0 && one.1 == two.1 && one.2 == two.2,
        "1 and 2 threads differ"
    );
    assert!(
        one.0 == three.0 && one.1 == three.1 && one.2 == three.2,
        "1 and 3 threads differ"
    );
}

#[test]
fn sample_weights_give_the_weighted_sum_over_the_batch_size() {
    let (x, y) = dataset(20, 3, false, DType::F64);
    let weight_values: Vec<f64> = (0..20).map(|i| 1.5 + wave(i, 7)).collect();
    let w = Storage::from_f64_vec(DType::F64, &[20], weight_values.clone()).unwrap();
    let (xr, yr, wr) = (rows(&x), rows(&y), rows(&w));
    let graph = model(3, 4, false, "linear", DType::F64);
    let model = compiled(&graph, "mse", &["mae"], None);
    let predictions = forward_all(&graph, &x).to_f64_vec();
    let targets = y.to_f64_vec();
    let weighted: f64 = (0..20)
        .map(|i| weight_values[i] * (predictions[i] - targets[i]).powi(2))
        .sum();
    let weighted_data = || Data::Columns {
        x: vec![&xr],
        y: Some(vec![&yr]),
        sample_weight: Some(vec![&wr]),
    };
    let plain = evaluate(
        &model,
        Data::Rows {
            x: &xr,
            y: Some(&yr),
        },
        20,
        None,
        &mut NoHooks,
    )
    .unwrap();
    for batch_size in [20, 6] {
        let logs = evaluate(&model, weighted_data(), batch_size, None, &mut NoHooks).unwrap();
        // Divided by the number of samples, not by the sum of the weights.
        assert!((value(&logs, "loss") - weighted / 20.0).abs() < 1e-12);
        // The metrics are not weighted.
        assert!((value(&logs, "mae") - value(&plain, "mae")).abs() < 1e-12);
    }
    // Weights of another length are refused with the lengths.
    let short = Storage::from_f64_vec(DType::F64, &[19], vec![1.0; 19]).unwrap();
    let short = rows(&short);
    let err = evaluate(
        &model,
        Data::Columns {
            x: vec![&xr],
            y: Some(vec![&yr]),
            sample_weight: Some(vec![&short]),
        },
        20,
        None,
        &mut NoHooks,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("[20, 20, 19]"), "{err}");
    // Weights of a shape that matches neither the samples nor the loss values are refused.
    let wide = Storage::from_f64_vec(DType::F64, &[20, 2], vec![1.0; 40]).unwrap();
    let wide = rows(&wide);
    let err = evaluate(
        &model,
        Data::Columns {
            x: vec![&xr],
            y: Some(vec![&yr]),
            sample_weight: Some(vec![&wide]),
        },
        20,
        None,
        &mut NoHooks,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("sample_weight") && err.contains("received shape (20, 2)"),
        "{err}"
    );
}

#[test]
fn validation_freq_validates_after_the_chosen_epochs_only() {
    let (x, y) = dataset(20, 3, false, DType::F64);
    let (xr, yr) = (rows(&x), rows(&y));
    let graph = model(3, 4, false, "linear", DType::F64);
    let sgd = optimizer(sgd_rule(), 0.01);
    let model = compiled(&graph, "mse", &[], Some(&sgd));
    for (freq, expected) in [
        (
            ValidationFreq::Every(2),
            vec![false, true, false, true, false],
        ),
        (
            ValidationFreq::Epochs(vec![1, 5]),
            vec![true, false, false, false, true],
        ),
    ] {
        let mut every = config(5, 10, false);
        every.validation_freq = freq;
        let mut hooks = Recorder::default();
        fit(
            &model,
            Data::Rows {
                x: &xr,
                y: Some(&yr),
            },
            Some(Data::Rows {
                x: &xr,
                y: Some(&yr),
            }),
            &every,
            &mut ChaCha8Rng::seed_from_u64(0),
            &mut hooks,
        )
        .unwrap();
        let validated: Vec<bool> = hooks
            .epoch_logs
            .iter()
            .map(|logs| logs.iter().any(|(name, _)| name == "val_loss"))
            .collect();
        assert_eq!(validated, expected);
    }
}

#[test]
fn a_resumable_run_resumed_at_an_epoch_ends_with_the_same_bits() {
    let (x, y) = dataset(40, 3, true, DType::F64);
    let (xr, yr) = (rows(&x), rows(&y));
    let data = || Data::Rows {
        x: &xr,
        y: Some(&yr),
    };
    let run = |pieces: &[(usize, usize)], resumable: bool| {
        let graph = model(3, 6, true, "sigmoid", DType::F64);
        let adam = optimizer(adam_rule(), 0.01);
        let model = compiled(&graph, "binary_crossentropy", &[], Some(&adam));
        for &(start, end) in pieces {
            let mut piece = config(end, 8, true);
            piece.resumable = resumable;
            piece.initial_epoch = start;
            // Each piece starts from a generator seeded alike, as a resumed process does.
            let mut rng = ChaCha8Rng::seed_from_u64(3);
            fit(&model, data(), None, &piece, &mut rng, &mut NoHooks).unwrap();
        }
        weights(&graph)
    };
    let whole = run(&[(0, 4)], true);
    assert_eq!(bits(&whole), bits(&run(&[(0, 2), (2, 4)], true)));
    assert_eq!(bits(&whole), bits(&run(&[(0, 1), (1, 3), (3, 4)], true)));
    // Without the per-epoch generators, a second piece draws other shuffles and masks.
    assert_ne!(
        bits(&run(&[(0, 4)], false)),
        bits(&run(&[(0, 2), (2, 4)], false))
    );
}

/// Hooks with a metric kept outside the loop: the number of samples seen since the last reset.
#[derive(Default)]
struct OutsideCounter {
    samples: usize,
    resets: usize,
    epoch_logs: Vec<Logs>,
}

impl Hooks for OutsideCounter {
    fn wants_every_batch(&self) -> bool {
        false
    }

    fn reset_metrics(&mut self) -> Result<()> {
        self.samples = 0;
        self.resets += 1;
        Ok(())
    }

    fn update_metrics(&mut self, y: &[Tensor], predictions: &[Storage]) -> Result<Logs> {
        assert_eq!(y[0].shape(), predictions[0].shape());
        self.samples += y[0].shape()[0];
        Ok(vec![("seen".to_string(), self.samples as f64)])
    }

    fn on_epoch_end(&mut self, _epoch: usize, logs: &Logs) -> Result<Control> {
        self.epoch_logs.push(logs.clone());
        Ok(Control::Continue)
    }
}

#[test]
fn metrics_kept_outside_the_loop_are_reset_each_pass_and_reported_after_the_loops_own() {
    let graph = model(4, 8, false, "linear", DType::F64);
    let (x, y) = dataset(40, 4, false, DType::F64);
    let (vx, vy) = dataset(12, 4, false, DType::F64);
    let (xr, yr, vxr, vyr) = (rows(&x), rows(&y), rows(&vx), rows(&vy));
    let sgd = optimizer(sgd_rule(), 0.01);
    let model = compiled(&graph, "mse", &["mae"], Some(&sgd));
    let mut hooks = OutsideCounter::default();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    fit(
        &model,
        Data::Rows {
            x: &xr,
            y: Some(&yr),
        },
        Some(Data::Rows {
            x: &vxr,
            y: Some(&vyr),
        }),
        &config(2, 16, true),
        &mut rng,
        &mut hooks,
    )
    .unwrap();
    // Each epoch and each validation starts from a reset: 40 training samples, 12 validation.
    assert_eq!(hooks.resets, 4);
    for logs in &hooks.epoch_logs {
        let names: Vec<&str> = logs.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            ["loss", "mae", "seen", "val_loss", "val_mae", "val_seen"]
        );
        assert_eq!(value(logs, "seen"), 40.0);
        assert_eq!(value(logs, "val_seen"), 12.0);
    }
    let logs = evaluate(
        &model,
        Data::Rows {
            x: &xr,
            y: Some(&yr),
        },
        32,
        None,
        &mut hooks,
    )
    .unwrap();
    assert_eq!(value(&logs, "seen"), 40.0);
}

/// A job of `count` threads standing in for processes: each sum adds every thread's values
/// (in whatever order they arrive) and hands every thread the same result.
struct ThreadJob {
    sums: std::sync::Mutex<Vec<f64>>,
    bytes: std::sync::Mutex<Vec<u8>>,
    barrier: std::sync::Barrier,
}

struct ThreadProcess {
    index: usize,
    count: usize,
    job: Arc<ThreadJob>,
}

impl super::Collective for ThreadProcess {
    fn process_index(&self) -> usize {
        self.index
    }

    fn process_count(&self) -> usize {
        self.count
    }

    fn sum_in_place(&mut self, buffers: &mut [super::SumBuffer<'_>]) -> Result<()> {
        use super::SumBuffer;
        for buffer in buffers.iter_mut() {
            let values: Vec<f64> = match buffer {
                SumBuffer::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
                SumBuffer::F64(v) => v.to_vec(),
            };
            if self.index == 0 {
                *self.job.sums.lock().unwrap() = vec![0.0; values.len()];
            }
            self.job.barrier.wait();
            for (sum, value) in self.job.sums.lock().unwrap().iter_mut().zip(&values) {
                *sum += value;
            }
            self.job.barrier.wait();
            let sums = self.job.sums.lock().unwrap().clone();
            match buffer {
                SumBuffer::F32(v) => v.iter_mut().zip(&sums).for_each(|(d, s)| *d = *s as f32),
                SumBuffer::F64(v) => v.copy_from_slice(&sums),
            }
            self.job.barrier.wait();
        }
        Ok(())
    }

    fn broadcast_bytes(&mut self, bytes: &mut [u8]) -> Result<()> {
        if self.index == 0 {
            *self.job.bytes.lock().unwrap() = bytes.to_vec();
        }
        self.job.barrier.wait();
        if self.index != 0 {
            bytes.copy_from_slice(&self.job.bytes.lock().unwrap());
        }
        self.job.barrier.wait();
        Ok(())
    }
}

/// Hooks that record the epoch logs and, for a data-parallel run, give the loop its process.
struct ProcessHooks {
    process: Option<ThreadProcess>,
    epoch_logs: Vec<Logs>,
}

impl Hooks for ProcessHooks {
    fn wants_every_batch(&self) -> bool {
        false
    }

    fn on_epoch_end(&mut self, _epoch: usize, logs: &Logs) -> Result<Control> {
        self.epoch_logs.push(logs.clone());
        Ok(Control::Continue)
    }

    fn collective(&mut self) -> Option<&mut dyn super::Collective> {
        self.process
            .as_mut()
            .map(|p| p as &mut dyn super::Collective)
    }
}

/// Trains the 4-8-1 model for 3 epochs on 29 rows in shuffled batches of 8 (a last batch of
/// 5), as process `process` of a job (or alone); returns its weights and epoch logs.
fn train_as(process: Option<ThreadProcess>) -> (Vec<Vec<f64>>, Vec<Logs>) {
    let graph = model(4, 8, false, "linear", DType::F64);
    let (x, y) = dataset(29, 4, false, DType::F64);
    let (xr, yr) = (rows(&x), rows(&y));
    let adam = optimizer(adam_rule(), 0.05);
    let compiled = compiled(&graph, "mse", &["mae"], Some(&adam));
    // The other processes' own generators differ: the loop shares process 0's.
    let seed = process.as_ref().map_or(7, |p| 7 + 100 * p.index as u64);
    let mut hooks = ProcessHooks {
        process,
        epoch_logs: Vec::new(),
    };
    let data = Data::Rows {
        x: &xr,
        y: Some(&yr),
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    fit(
        &compiled,
        data,
        None,
        &config(3, 8, true),
        &mut rng,
        &mut hooks,
    )
    .unwrap();
    (weights(&graph), hooks.epoch_logs)
}

#[test]
fn a_data_parallel_fit_on_three_processes_equals_one_process_on_the_global_batches() {
    let (alone, alone_logs) = train_as(None);
    let count = 3;
    let job = Arc::new(ThreadJob {
        sums: std::sync::Mutex::new(Vec::new()),
        bytes: std::sync::Mutex::new(Vec::new()),
        barrier: std::sync::Barrier::new(count),
    });
    let results: Vec<(Vec<Vec<f64>>, Vec<Logs>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..count)
            .map(|index| {
                let job = job.clone();
                scope.spawn(move || train_as(Some(ThreadProcess { index, count, job })))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (weights, logs) in &results {
        // Every process ends with the same bits...
        assert_eq!(bits(weights), bits(&results[0].0));
        // ... which are the single process's, to rounding.
        for (a, b) in weights.iter().flatten().zip(alone.iter().flatten()) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
        for (epoch, alone_epoch) in logs.iter().zip(&alone_logs) {
            for ((name, value), (_, expected)) in epoch.iter().zip(alone_epoch) {
                assert!(
                    (value - expected).abs() < 1e-12,
                    "{name}: {value} vs {expected}"
                );
            }
        }
        assert_eq!(logs.len(), 3);
    }
    // Training moved the weights.
    let untrained = weights(&model(4, 8, false, "linear", DType::F64));
    assert!((alone[0][0] - untrained[0][0]).abs() > 1e-3);
}
