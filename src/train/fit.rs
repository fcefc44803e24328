//! `fit` and `evaluate`: the training and test loops.
//!
//! One training step: gather the batch, forward (leaving out the output activation when the
//! loss can fuse with it), loss plus weight penalties, backward straight into the weights'
//! gradient buffers, one optimizer update over all trainable weights, then the metrics on the
//! predictions. Nothing here touches Python; hooks run between batches.

use parking_lot::Mutex;
use rand_chacha::ChaCha8Rng;

use super::batches::{Data, Pipeline};
use super::data::Batch;
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

/// A compiled model: its graph, loss, metrics (with the names the logs use) and, for
/// training, its optimizer.
pub struct Compiled<'a> {
    pub graph: &'a Graph,
    pub loss: Loss,
    pub metrics: Vec<(String, MetricKind)>,
    pub optimizer: Option<&'a Mutex<Optimizer>>,
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

/// How the loss is computed from the model's output for one compiled model.
struct LossPlan {
    /// The loss applied to the graph's output (or to its pre-activation values when fused).
    loss: Loss,
    /// The output activation left out of the forward pass, applied after for the metrics.
    fused_activation: Option<Activation>,
}

impl LossPlan {
    fn new(compiled: &Compiled<'_>) -> LossPlan {
        let activation = compiled.graph.output_activation();
        match compiled.loss.fused_with(&activation) {
            Some(fused) => LossPlan {
                loss: fused,
                fused_activation: Some(activation),
            },
            None => LossPlan {
                loss: compiled.loss.clone(),
                fused_activation: None,
            },
        }
    }

    /// The model's output and the loss on it (with the weight penalties).
    fn forward(
        &self,
        graph: &Graph,
        x: &Tensor,
        y: &Tensor,
        ctx: &mut Context<'_>,
    ) -> Result<(Tensor, Tensor)> {
        let output = match self.fused_activation {
            Some(_) => graph.forward_without_output_activation(std::slice::from_ref(x), ctx)?,
            None => graph.forward(std::slice::from_ref(x), ctx)?,
        };
        let mut loss = self.loss.compute(y, &output)?;
        if let Some(penalty) = graph.regularization_loss()? {
            loss = loss.add(&penalty)?;
        }
        Ok((output, loss))
    }

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

/// The running mean of the batch losses (weighted by batch size) and the metrics of an epoch.
struct EpochStatistics {
    loss_sum: f64,
    samples: usize,
    metrics: Vec<(String, Metric)>,
}

impl EpochStatistics {
    fn new(compiled: &Compiled<'_>) -> Result<EpochStatistics> {
        let metrics = compiled
            .metrics
            .iter()
            .map(|(name, kind)| Ok((name.clone(), Metric::new(kind.clone())?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(EpochStatistics {
            loss_sum: 0.0,
            samples: 0,
            metrics,
        })
    }

    fn update(&mut self, loss: f64, y: &Storage, predictions: &Storage) -> Result<()> {
        let batch = y.shape().first().copied().unwrap_or(1);
        self.loss_sum += loss * batch as f64;
        self.samples += batch;
        for (_, metric) in &mut self.metrics {
            metric.update(y, predictions)?;
        }
        Ok(())
    }

    fn logs(&self, prefix: &str) -> Logs {
        let mean_loss = if self.samples == 0 {
            f64::NAN
        } else {
            self.loss_sum / self.samples as f64
        };
        let mut logs = vec![(format!("{prefix}loss"), mean_loss)];
        logs.extend(
            self.metrics
                .iter()
                .map(|(name, metric)| (format!("{prefix}{name}"), metric.result())),
        );
        logs
    }
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
    let optimizer = compiled
        .optimizer
        .ok_or_else(|| Error::value("fit: the model has no optimizer; call compile() first"))?;
    let plan = LossPlan::new(compiled);
    let dtype = compiled.graph.dtype();
    let mut report = FitReport::default();
    let mut train = Pipeline::new(train, config.batch_size, config.steps_per_epoch, dtype);
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
        let mut statistics = EpochStatistics::new(compiled)?;
        let mut step = 0;
        let mut stop = false;
        let mut run_step = |batch: Batch, step: usize, rng: &mut ChaCha8Rng| -> Result<Control> {
            hooks.on_batch_begin(step)?;
            let y = batch
                .y
                .ok_or_else(|| Error::value("fit: the training data has no targets (y)"))?;
            let x = Tensor::new(batch.x, false);
            let y_tensor = Tensor::new(y, false);
            for weight in &trainable {
                weight.zero_grad_in_place();
            }
            let mut ctx = Context {
                training: true,
                rng,
                packed_kernels: None,
            };
            let (output, loss) = plan.forward(compiled.graph, &x, &y_tensor, &mut ctx)?;
            let loss_value = loss.item()?;
            if config.stop_on_nonfinite && !loss_value.is_finite() {
                report.nonfinite = Some(NonFiniteLoss {
                    epoch,
                    step,
                    loss: loss_value,
                });
                return Ok(Control::Stop);
            }
            loss.backward(None, false)?;
            optimizer.lock().step(&trainable)?;
            let predictions = plan.predictions(&output)?;
            statistics.update(loss_value, &y_tensor.data(), &predictions)?;
            hooks.on_batch_end(step, &statistics.logs(""))
        };
        let mut batches = train.epoch(config.shuffle.then_some(&mut *rng))?;
        while let Some(batch) = batches.next_batch()? {
            if run_step(batch, step, rng)? == Control::Stop {
                stop = true;
                break;
            }
            step += 1;
        }
        // A stream that ends before the steps asked for, or gives nothing, ends training.
        if batches.ran_out() && (config.steps_per_epoch.is_some() || step == 0) {
            report.ran_out_of_data = true;
            stop = true;
        }
        if report.nonfinite.is_some() || (report.ran_out_of_data && step == 0) {
            break;
        }
        let mut logs = statistics.logs("");
        if let Some(data) = validation.as_mut() {
            let mut quiet = super::NoHooks;
            let val = evaluate_with(compiled, &plan, data, &mut quiet)?;
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
    let plan = LossPlan::new(compiled);
    let mut data = Pipeline::new(data, batch_size, steps, compiled.graph.dtype());
    evaluate_with(compiled, &plan, &mut data, hooks)
}

fn evaluate_with(
    compiled: &Compiled<'_>,
    plan: &LossPlan,
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
    // Inference draws no random numbers; the context still needs a generator.
    let mut rng = <ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
    let mut packed_kernels = PackedKernels::default();
    let mut test_step = |batch: Batch, step: usize| -> Result<Control> {
        hooks.on_batch_begin(step)?;
        let y = batch
            .y
            .ok_or_else(|| Error::value("evaluate: the data has no targets (y)"))?;
        let y_tensor = Tensor::new(y, false);
        let mut ctx = Context {
            training: false,
            rng: &mut rng,
            packed_kernels: Some(&mut packed_kernels),
        };
        let (output, loss) = plan.forward(
            compiled.graph,
            &Tensor::new(batch.x, false),
            &y_tensor,
            &mut ctx,
        )?;
        let predictions = plan.predictions(&output)?;
        statistics.update(loss.item()?, &y_tensor.data(), &predictions)?;
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
