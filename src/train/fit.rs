//! `fit` and `evaluate`: the training and test loops.
//!
//! One training step: gather the batch, forward (leaving out the output activation when the
//! loss can fuse with it), loss plus weight penalties, backward straight into the weights'
//! gradient buffers, one optimizer update over all trainable weights, then the metrics on the
//! predictions. Nothing here touches Python; hooks run between batches.

use parking_lot::Mutex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::batches::{Data, Pipeline};
use super::data::Batch;
use super::data_parallel;
use super::{Control, Hooks, Logs};
use crate::autograd::no_grad;
use crate::error::{Error, Result};
use crate::losses::Loss;
use crate::metrics::{Metric, MetricKind};
use crate::nn::{Context, Graph, PackedKernels};
use crate::ops::activation::Activation;
use crate::optimizers::Optimizer;
use crate::storage::Storage;
use crate::tensor::Tensor;

/// One model output's part of the training objective: its loss, its weight in the total and
/// its metrics, with the names the logs use.
pub struct OutputLoss {
    /// The output's name (Keras 3: the output layer's name); with several outputs the logs
    /// report `{name}_loss`.
    pub name: String,
    pub loss: Loss,
    /// The output's `loss_weights` entry; `None` adds the loss as it is (no multiplication).
    pub weight: Option<f64>,
    /// `(log name, metric)`: the name is used as given (`{output}_accuracy` with several).
    pub metrics: Vec<(String, MetricKind)>,
}

/// A compiled model: its graph, one `OutputLoss` per graph output (in the graph's output order)
/// and, for training, its optimizer.
pub struct Compiled<'a> {
    pub graph: &'a Graph,
    pub outputs: Vec<OutputLoss>,
    pub optimizer: Option<&'a Mutex<Optimizer>>,
}

impl<'a> Compiled<'a> {
    /// A model with one output: one loss and its metrics.
    ///
    /// Example: `Compiled::single(&graph, Loss::parse("mse")?, vec![], Some(&optimizer))`.
    pub fn single(
        graph: &'a Graph,
        loss: Loss,
        metrics: Vec<(String, MetricKind)>,
        optimizer: Option<&'a Mutex<Optimizer>>,
    ) -> Compiled<'a> {
        Compiled {
            graph,
            outputs: vec![OutputLoss {
                name: "output".to_string(),
                loss,
                weight: None,
                metrics,
            }],
            optimizer,
        }
    }
}

#[derive(Clone, Debug)]
pub struct FitConfig {
    pub epochs: usize,
    pub initial_epoch: usize,
    pub batch_size: usize,
    pub shuffle: bool,
    /// For streams: batches per epoch (the stream continues across epochs); for rows, a cap.
    pub steps_per_epoch: Option<usize>,
    pub validation_batch_size: usize,
    pub validation_steps: Option<usize>,
    /// Stop before applying an update whose loss is NaN or infinite.
    pub stop_on_nonfinite: bool,
    /// After which epochs the validation data is evaluated.
    pub validation_freq: ValidationFreq,
    /// Draw each epoch's shuffle and dropout from the generator's seed and the epoch's number
    /// alone, so that a run started at `initial_epoch` with the same generator continues
    /// exactly as the run that did the epochs before (BackupAndRestore). Otherwise one
    /// generator and one row order continue from epoch to epoch.
    pub resumable: bool,
}

/// After which epochs `fit` evaluates its validation data (Keras's `validation_freq`); the
/// epochs that skip it have no `val_` logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValidationFreq {
    /// Every `n`-th epoch, counting from 1: `Every(2)` validates after epochs 2, 4, ...
    Every(usize),
    /// After the listed epochs, counting from 1.
    Epochs(Vec<usize>),
}

impl Default for ValidationFreq {
    fn default() -> Self {
        ValidationFreq::Every(1)
    }
}

impl ValidationFreq {
    /// Whether to validate after `epoch` (counting from 0, as the loop does).
    pub fn validates_after(&self, epoch: usize) -> bool {
        let one_based = epoch + 1;
        match self {
            ValidationFreq::Every(n) => *n > 0 && one_based.is_multiple_of(*n),
            ValidationFreq::Epochs(epochs) => epochs.contains(&one_based),
        }
    }
}

/// Where training stopped on a non-finite loss.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NonFiniteLoss {
    pub epoch: usize,
    pub step: usize,
    pub loss: f64,
}

#[derive(Clone, Debug, Default)]
pub struct FitReport {
    pub epochs_completed: usize,
    pub nonfinite: Option<NonFiniteLoss>,
    /// A stream ended before `steps_per_epoch` batches (or gave none at all).
    pub ran_out_of_data: bool,
}

/// How one output's loss is computed from the model's output.
struct LossPlan {
    /// The loss applied to the output (or to its pre-activation values when fused).
    loss: Loss,
    /// The output activation left out of the forward pass, applied after for the metrics.
    fused_activation: Option<Activation>,
    weight: Option<f64>,
}

impl LossPlan {
    /// What the metrics see: the output with the fused activation put back.
    fn predictions(&self, output: &Tensor) -> Result<Storage> {
        let _no_grad = no_grad();
        let predictions = match self.fused_activation {
            Some(activation) => activation.apply(&output.detach())?,
            None => output.detach(),
        };
        Ok((*predictions.data()).clone())
    }
}

/// How the total loss is computed from the model's outputs: one `LossPlan` per output.
struct Plan {
    outputs: Vec<LossPlan>,
}

/// One step's forward pass: the outputs, the total loss (weighted output losses plus weight
/// penalties) and, with several outputs, each output's own (unweighted) loss.
struct Forward {
    outputs: Vec<Tensor>,
    total: Tensor,
    output_losses: Vec<f64>,
}

impl Plan {
    fn new(compiled: &Compiled<'_>) -> Result<Plan> {
        let count = compiled.graph.outputs().len();
        if compiled.outputs.len() != count {
            return Err(Error::value(format!(
                "the model has {count} outputs but {} losses were given",
                compiled.outputs.len()
            )));
        }
        let outputs = if count == 1 {
            // The graph can leave out the activation of its one output, for a loss fused with it.
            let output = &compiled.outputs[0];
            let activation = compiled.graph.output_activation();
            let (loss, fused_activation) = match output.loss.fused_with(&activation) {
                Some(fused) => (fused, Some(activation)),
                None => (output.loss.clone(), None),
            };
            vec![LossPlan {
                loss,
                fused_activation,
                weight: output.weight,
            }]
        } else {
            compiled
                .outputs
                .iter()
                .map(|output| LossPlan {
                    loss: output.loss.clone(),
                    fused_activation: None,
                    weight: output.weight,
                })
                .collect()
        };
        Ok(Plan { outputs })
    }

    fn check_targets(&self, ys: &[Storage]) -> Result<()> {
        if ys.len() != self.outputs.len() {
            return Err(Error::value(format!(
                "the model has {} outputs but the data gives {} target arrays",
                self.outputs.len(),
                ys.len()
            )));
        }
        Ok(())
    }

    fn check_sample_weights(&self, weights: Option<&[Tensor]>) -> Result<()> {
        match weights {
            Some(weights) if weights.len() != self.outputs.len() => Err(Error::value(format!(
                "sample_weight: the model has {} outputs but the data gives {} sample weight \
                 arrays",
                self.outputs.len(),
                weights.len()
            ))),
            _ => Ok(()),
        }
    }

    /// The model's outputs and the loss on them (with the weight penalties); `weights`, when
    /// given, holds one array of per-sample weights per output.
    fn forward(
        &self,
        graph: &Graph,
        x: &[Tensor],
        y: &[Tensor],
        weights: Option<&[Tensor]>,
        ctx: &mut Context<'_>,
    ) -> Result<Forward> {
        self.check_sample_weights(weights)?;
        let weight_of = |index: usize| weights.map(|w| &w[index]);
        let leave_out =
            matches!(self.outputs.as_slice(), [plan] if plan.fused_activation.is_some());
        let (computed, added_losses) = graph.forward_with_added_losses(x, ctx, leave_out)?;
        let (outputs, mut total, output_losses) = if let [plan] = self.outputs.as_slice() {
            let output = computed
                .into_iter()
                .next()
                .ok_or_else(|| Error::value("the model output was not computed"))?;
            let mut loss = output_loss(&plan.loss, &y[0], &output, weight_of(0))?;
            if let Some(weight) = plan.weight {
                loss = loss.mul(&Tensor::scalar(weight, loss.dtype()))?;
            }
            (vec![output], loss, Vec::new())
        } else {
            let outputs = computed;
            let mut total: Option<Tensor> = None;
            let mut values = Vec::with_capacity(outputs.len());
            for (index, ((plan, output), y)) in self.outputs.iter().zip(&outputs).zip(y).enumerate()
            {
                let loss = output_loss(&plan.loss, y, output, weight_of(index))?;
                values.push(loss.item()?);
                let weighted = match plan.weight {
                    Some(weight) => loss.mul(&Tensor::scalar(weight, loss.dtype()))?,
                    None => loss,
                };
                total = Some(match total {
                    Some(sum) => sum.add(&weighted)?,
                    None => weighted,
                });
            }
            let total = total.ok_or_else(|| Error::value("the model has no outputs"))?;
            (outputs, total, values)
        };
        if let Some(penalty) = graph.regularization_loss()? {
            total = total.add(&penalty)?;
        }
        if let Some(added) = added_losses {
            total = total.add(&added)?;
        }
        Ok(Forward {
            outputs,
            total,
            output_losses,
        })
    }

    fn predictions(&self, outputs: &[Tensor]) -> Result<Vec<Storage>> {
        self.outputs
            .iter()
            .zip(outputs)
            .map(|(plan, output)| plan.predictions(output))
            .collect()
    }
}

/// One output's loss on a batch: the mean of the per-sample losses or, with per-sample weights,
/// Keras 3's weighted "sum_over_batch_size": the sum of the weighted per-sample losses divided
/// by the number of loss values (the batch size), not by the sum of the weights.
fn output_loss(
    loss: &Loss,
    y: &Tensor,
    output: &Tensor,
    weight: Option<&Tensor>,
) -> Result<Tensor> {
    let Some(weight) = weight else {
        return loss.compute(y, output);
    };
    let values = loss.compute_per_sample(y, output)?;
    let weight = weight_like(weight, values.shape())?;
    let total = values.mul(&weight)?.sum(None, false)?;
    // Keras divides "no NaN": an empty batch has loss 0.
    let count = values.numel().max(1);
    total.mul(&Tensor::scalar(1.0 / count as f64, total.dtype()))
}

/// Per-sample weights shaped to multiply the per-sample losses (shape `values`): weights of
/// shape `(batch,)` or `(batch, 1)` apply to every loss value of their sample (of every
/// timestep for a sequence loss); weights of the losses' own shape (temporal weights) apply
/// value by value.
fn weight_like(weight: &Tensor, values: &[usize]) -> Result<Tensor> {
    let shape = weight.shape();
    if shape == values {
        return Ok(weight.clone());
    }
    let batch = values.first().copied().unwrap_or(1);
    let per_sample = matches!(shape, [n] | [n, 1] if *n == batch);
    if !per_sample {
        return Err(Error::value(format!(
            "sample_weight: expected weights of shape ({batch},) (one per sample) or {} (one \
             per loss value) for a batch of {batch} samples, received shape {}",
            python_shape(values),
            python_shape(shape)
        )));
    }
    let mut target = vec![batch as isize];
    target.extend(std::iter::repeat_n(1, values.len().saturating_sub(1)));
    weight.reshape(&target)
}

/// A shape as Python writes it: `(4,)`, `(4, 3)`.
fn python_shape(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The running means of the batch losses (weighted by batch size) and the metrics of an epoch.
struct EpochStatistics {
    loss_sum: f64,
    samples: usize,
    /// With several outputs: `({output}_loss, running sum)` per output.
    output_losses: Vec<(String, f64)>,
    /// `(output index, log name, metric)`.
    metrics: Vec<(usize, String, Metric)>,
    /// The values of the metrics kept outside the loop (`Hooks::update_metrics`), after the
    /// last batch.
    outside: Logs,
    /// In a data-parallel run: the metrics with their states summed over every process (what
    /// the logs report); `metrics` keeps this process's own.
    global_metrics: Option<Vec<Metric>>,
}

impl EpochStatistics {
    fn new(compiled: &Compiled<'_>) -> Result<EpochStatistics> {
        let output_losses = if compiled.outputs.len() > 1 {
            compiled
                .outputs
                .iter()
                .map(|output| (format!("{}_loss", output.name), 0.0))
                .collect()
        } else {
            Vec::new()
        };
        let mut metrics = Vec::new();
        for (index, output) in compiled.outputs.iter().enumerate() {
            for (name, kind) in &output.metrics {
                metrics.push((index, name.clone(), Metric::new(kind.clone())?));
            }
        }
        Ok(EpochStatistics {
            loss_sum: 0.0,
            samples: 0,
            output_losses,
            metrics,
            outside: Vec::new(),
            global_metrics: None,
        })
    }

    /// Adds a batch of `rows` samples whose mean loss is `loss`, and the batch's predictions
    /// to the metrics.
    fn update(
        &mut self,
        loss: f64,
        output_losses: &[f64],
        rows: usize,
        y: &[Tensor],
        predictions: &[Storage],
    ) -> Result<()> {
        self.add_losses(loss, output_losses, rows);
        self.update_metrics(y, predictions)
    }

    fn add_losses(&mut self, loss: f64, output_losses: &[f64], rows: usize) {
        self.loss_sum += loss * rows as f64;
        self.samples += rows;
        for ((_, sum), value) in self.output_losses.iter_mut().zip(output_losses) {
            *sum += value * rows as f64;
        }
    }

    fn update_metrics(&mut self, y: &[Tensor], predictions: &[Storage]) -> Result<()> {
        for (index, _, metric) in &mut self.metrics {
            metric.update(&y[*index].data(), &predictions[*index])?;
        }
        Ok(())
    }

    /// This process's metric states as sums (`Metric::state_sums`), in order.
    fn metric_sums(&self) -> Result<Vec<f64>> {
        let mut sums = Vec::new();
        for (_, name, metric) in &self.metrics {
            let Some(state) = metric.state_sums() else {
                return Err(Error::value(format!(
                    "fit: the metric {name} cannot be combined across processes"
                )));
            };
            sums.extend(state);
        }
        Ok(sums)
    }

    /// Makes the logs report the metrics with the states `sums` (every process's summed).
    fn set_global_metric_sums(&mut self, sums: &[f64]) -> Result<()> {
        let local = &self.metrics;
        let global = self
            .global_metrics
            .get_or_insert_with(|| local.iter().map(|(_, _, metric)| metric.clone()).collect());
        let mut at = 0;
        for metric in global {
            at += metric.set_state_sums(&sums[at..])?;
        }
        Ok(())
    }

    fn logs(&self, prefix: &str) -> Logs {
        let mean = |sum: f64| {
            if self.samples == 0 {
                f64::NAN
            } else {
                sum / self.samples as f64
            }
        };
        let mut logs = vec![(format!("{prefix}loss"), mean(self.loss_sum))];
        logs.extend(
            self.output_losses
                .iter()
                .map(|(name, sum)| (format!("{prefix}{name}"), mean(*sum))),
        );
        let results: Vec<f64> = match &self.global_metrics {
            Some(global) => global.iter().map(Metric::result).collect(),
            None => self.metrics.iter().map(|(_, _, m)| m.result()).collect(),
        };
        logs.extend(
            self.metrics
                .iter()
                .zip(results)
                .map(|((_, name, _), value)| (format!("{prefix}{name}"), value)),
        );
        logs.extend(
            self.outside
                .iter()
                .map(|(name, value)| (format!("{prefix}{name}"), *value)),
        );
        logs
    }
}

/// The number of samples in a batch (its first target's rows).
fn batch_rows(y: &[Tensor]) -> usize {
    y.first()
        .and_then(|y| y.shape().first().copied())
        .unwrap_or(1)
}

fn tensors(arrays: Vec<Storage>) -> Vec<Tensor> {
    arrays.into_iter().map(|a| Tensor::new(a, false)).collect()
}

/// Trains the model. Returns when the epochs are done, when a hook says stop, or with the
/// first error (the model keeps the weights of the last finished batch).
pub fn fit(
    compiled: &Compiled<'_>,
    train: Data<'_>,
    validation: Option<Data<'_>>,
    config: &FitConfig,
    rng: &mut ChaCha8Rng,
    hooks: &mut dyn Hooks,
) -> Result<FitReport> {
    if config.batch_size == 0 {
        return Err(Error::value(
            "fit: batch_size must be a positive integer, received 0",
        ));
    }
    if train.samples() == Some(0) {
        return Err(Error::value("fit: the training data is empty (0 samples)"));
    }
    if config.validation_freq == ValidationFreq::Every(0) {
        return Err(Error::value(
            "fit: validation_freq must be a positive integer, received 0",
        ));
    }
    let optimizer = compiled
        .optimizer
        .ok_or_else(|| Error::value("fit: the model has no optimizer; call compile() first"))?;
    let plan = Plan::new(compiled)?;
    let dtype = compiled.graph.dtype();
    // Data parallel: every process draws process 0's shuffles.
    let process = match hooks.collective() {
        Some(collective) => {
            data_parallel::share_generator(collective, rng)?;
            Some((collective.process_index(), collective.process_count()))
        }
        None => None,
    };
    let mut reduction = data_parallel::GradientReduction::default();
    let run_seed = config.resumable.then(|| {
        let mut seed = <ChaCha8Rng as SeedableRng>::Seed::default();
        rng.fill_bytes(&mut seed);
        seed
    });
    let mut report = FitReport::default();
    let mut train = Pipeline::new(train, config.batch_size, config.steps_per_epoch, dtype);
    if let Some((index, count)) = process {
        train.shard(index, count);
    }
    let stream = train.is_stream();
    let mut validation = validation.map(|data| {
        Pipeline::new(
            data,
            config.validation_batch_size,
            config.validation_steps,
            dtype,
        )
    });
    for epoch in config.initial_epoch..config.epochs {
        hooks.on_epoch_begin(epoch)?;
        // Weights may be frozen or unfrozen by a callback between epochs.
        let trainable = compiled.graph.trainable_weights();
        // The layer of each trainable weight (its name up to the last '/'), for the buckets of
        // a data-parallel run.
        let trainable_layers: Vec<String> = compiled
            .graph
            .weights()
            .into_iter()
            .filter(|(_, weight)| weight.trainable)
            .map(|(name, _)| {
                name.rsplit_once('/')
                    .map_or(name.clone(), |(l, _)| l.into())
            })
            .collect();
        let mut statistics = EpochStatistics::new(compiled)?;
        hooks.reset_metrics()?;
        let mut step = 0;
        let mut stop = false;
        let mut run_step = |hooks: &mut dyn Hooks,
                            batch: Batch,
                            step: usize,
                            rng: &mut ChaCha8Rng|
         -> Result<Control> {
            hooks.on_batch_begin(step)?;
            let y = batch
                .y
                .ok_or_else(|| Error::value("fit: the training data has no targets (y)"))?;
            plan.check_targets(&y)?;
            let x = tensors(batch.x);
            let y = tensors(y);
            let weights = batch.sample_weight.map(tensors);
            for weight in &trainable {
                weight.zero_grad_in_place();
            }
            let rows = batch_rows(&y);
            // In a data-parallel run a process's share of a last partial batch may be empty:
            // it computes nothing but still takes part in the reduction.
            let forward = if process.is_some() && rows == 0 {
                None
            } else {
                let mut ctx = Context {
                    training: true,
                    rng: &mut *rng,
                    packed_kernels: None,
                };
                Some(plan.forward(compiled.graph, &x, &y, weights.as_deref(), &mut ctx)?)
            };
            let (loss_value, output_losses) = match &forward {
                Some(forward) => (forward.total.item()?, forward.output_losses.clone()),
                None if plan.outputs.len() > 1 => (0.0, vec![0.0; plan.outputs.len()]),
                None => (0.0, Vec::new()),
            };
            let collective = hooks.collective();
            if collective.is_none() && config.stop_on_nonfinite && !loss_value.is_finite() {
                report.nonfinite = Some(NonFiniteLoss {
                    epoch,
                    step,
                    loss: loss_value,
                });
                return Ok(Control::Stop);
            }
            let Some(collective) = collective else {
                // A model without trainable weights (a guide's add_loss demo) has nothing to
                // differentiate: the step only reports its loss.
                if let Some(forward) = forward.as_ref().filter(|f| f.total.requires_grad()) {
                    forward.total.backward(None, false)?;
                }
                optimizer.lock().step(&trainable)?;
                if let Some(forward) = &forward {
                    let predictions = plan.predictions(&forward.outputs)?;
                    statistics.update(loss_value, &output_losses, rows, &y, &predictions)?;
                    statistics.outside = hooks.update_metrics(&y, &predictions)?;
                }
                return hooks.on_batch_end(step, &statistics.logs(""));
            };
            // Data parallel: the gradients are summed across processes in buckets, each
            // started as soon as backward has finished its gradients (the last layers' while
            // the first layers' rules still run); the metric states of this process's rows go
            // with the step's last sum, so that every batch's logs are global.
            let mut step_reduction =
                reduction.begin(collective, &trainable, &trainable_layers, rows);
            if let Some(forward) = &forward {
                forward
                    .total
                    .backward_with_ready(&mut |leaf| step_reduction.ready(leaf))?;
                statistics.update_metrics(&y, &plan.predictions(&forward.outputs)?)?;
            }
            let metric_sums = statistics.metric_sums()?;
            let global = step_reduction.finish(loss_value, &output_losses, &metric_sums)?;
            statistics.set_global_metric_sums(&global.metric_sums)?;
            // Decided on the global loss, so that every process stops at the same step.
            if config.stop_on_nonfinite && !global.loss.is_finite() {
                report.nonfinite = Some(NonFiniteLoss {
                    epoch,
                    step,
                    loss: global.loss,
                });
                return Ok(Control::Stop);
            }
            optimizer.lock().step(&trainable)?;
            statistics.add_losses(global.loss, &global.output_losses, global.rows);
            hooks.on_batch_end(step, &statistics.logs(""))
        };
        // Resumable: each epoch draws its shuffle (of the rows' own order) and dropout from a
        // generator of its own, made from the run's seed and the epoch's number, so that a run
        // resumed at an epoch (BackupAndRestore) draws exactly what the uninterrupted run drew.
        // Otherwise one generator and one row order continue from epoch to epoch.
        let mut epoch_rng = run_seed.map(|seed| {
            let mut generator = ChaCha8Rng::from_seed(seed);
            generator.set_stream(epoch as u64);
            generator
        });
        if epoch_rng.is_some() {
            train.restart_order();
        }
        let rng: &mut ChaCha8Rng = match epoch_rng.as_mut() {
            Some(generator) => generator,
            None => &mut *rng,
        };
        // Data parallel: dropout draws from a generator of the process's own (each process
        // masks its own rows); the shared one only shuffles.
        let mut own_rng = process.map(|(index, _)| data_parallel::process_generator(rng, index));
        let mut batches = train.epoch(config.shuffle.then_some(&mut *rng))?;
        let step_rng: &mut ChaCha8Rng = match own_rng.as_mut() {
            Some(generator) => generator,
            None => rng,
        };
        let mut ran_out = false;
        loop {
            let batch = batches.next_batch()?;
            // The step limit ends the epoch on every process alike; only a stream's own end
            // needs the processes to agree.
            let limit_reached = batch.is_none() && !batches.ran_out();
            if stream
                && !limit_reached
                && let Some(collective) = hooks.collective()
            {
                // Each process reads its own shard: when one has run out, all end the epoch.
                if !data_parallel::every_process_has_batch(collective, batch.is_some())? {
                    ran_out = true;
                    break;
                }
            }
            let Some(batch) = batch else {
                break;
            };
            if run_step(&mut *hooks, batch, step, step_rng)? == Control::Stop {
                stop = true;
                break;
            }
            step += 1;
        }
        let ran_out = ran_out || batches.ran_out();
        // A stream that ends before the steps asked for, or gives nothing, ends training.
        if ran_out && (config.steps_per_epoch.is_some() || step == 0) {
            report.ran_out_of_data = true;
            stop = true;
        }
        if report.nonfinite.is_some() || (report.ran_out_of_data && step == 0) {
            break;
        }
        let mut logs = statistics.logs("");
        if let Some(data) = validation
            .as_mut()
            .filter(|_| config.validation_freq.validates_after(epoch))
        {
            let mut validation_hooks = super::ValidationHooks { training: hooks };
            let val = evaluate_with(compiled, &plan, data, &mut validation_hooks)?;
            logs.extend(
                val.into_iter()
                    .map(|(name, value)| (format!("val_{name}"), value)),
            );
        }
        report.epochs_completed += 1;
        if hooks.on_epoch_end(epoch, &logs)? == Control::Stop || stop {
            break;
        }
    }
    Ok(report)
}

/// The loss (with weight penalties) and metrics over a dataset, in inference mode.
pub fn evaluate(
    compiled: &Compiled<'_>,
    data: Data<'_>,
    batch_size: usize,
    steps: Option<usize>,
    hooks: &mut dyn Hooks,
) -> Result<Logs> {
    let plan = Plan::new(compiled)?;
    let mut data = Pipeline::new(data, batch_size, steps, compiled.graph.dtype());
    evaluate_with(compiled, &plan, &mut data, hooks)
}

fn evaluate_with(
    compiled: &Compiled<'_>,
    plan: &Plan,
    data: &mut Pipeline<'_>,
    hooks: &mut dyn Hooks,
) -> Result<Logs> {
    if data.batch_size() == 0 {
        return Err(Error::value(
            "evaluate: batch_size must be a positive integer, received 0",
        ));
    }
    if data.samples() == Some(0) {
        return Err(Error::value("evaluate: the data is empty (0 samples)"));
    }
    let _no_grad = no_grad();
    let mut statistics = EpochStatistics::new(compiled)?;
    hooks.reset_metrics()?;
    // Inference draws no random numbers; the context still needs a generator.
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut packed_kernels = PackedKernels::default();
    let mut test_step = |batch: Batch, step: usize| -> Result<Control> {
        hooks.on_batch_begin(step)?;
        let y = batch
            .y
            .ok_or_else(|| Error::value("evaluate: the data has no targets (y)"))?;
        plan.check_targets(&y)?;
        let y = tensors(y);
        let weights = batch.sample_weight.map(tensors);
        let mut ctx = Context {
            training: false,
            rng: &mut rng,
            packed_kernels: Some(&mut packed_kernels),
        };
        let forward = plan.forward(
            compiled.graph,
            &tensors(batch.x),
            &y,
            weights.as_deref(),
            &mut ctx,
        )?;
        let predictions = plan.predictions(&forward.outputs)?;
        statistics.update(
            forward.total.item()?,
            &forward.output_losses,
            batch_rows(&y),
            &y,
            &predictions,
        )?;
        statistics.outside = hooks.update_metrics(&y, &predictions)?;
        hooks.on_batch_end(step, &statistics.logs(""))
    };
    let mut batches = data.epoch(None)?;
    let mut step = 0;
    while let Some(batch) = batches.next_batch()? {
        if test_step(batch, step)? == Control::Stop {
            break;
        }
        step += 1;
    }
    Ok(statistics.logs(""))
}
