//! `predict`: the model's outputs for every row, in order, without recording a graph.

use ndarray::{ArrayD, Axis};
use parking_lot::Mutex;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::batches::{Data, Pipeline};
use super::data::{BatchStream, Rows};
use super::{Control, Hooks};
use crate::autograd::no_grad;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::nn::{Context, Graph, PackedKernels};
use crate::parallel;
use crate::storage::Storage;
use crate::tensor::Tensor;

/// The outputs for every row of `x`, in order, in batches of `batch_size` (a model with one
/// input and one output; see `predict_all`).
pub fn predict(
    graph: &Graph,
    x: &dyn Rows,
    batch_size: usize,
    hooks: &mut dyn Hooks,
) -> Result<Storage> {
    let mut outputs = predict_all(graph, &[x], batch_size, hooks)?;
    single(&mut outputs)
}

/// The one output of a model with one output.
fn single(outputs: &mut Vec<Storage>) -> Result<Storage> {
    match outputs.len() {
        1 => Ok(outputs.remove(0)),
        n => Err(Error::value(format!(
            "the model has {n} outputs; use predict_all to compute them all"
        ))),
    }
}

/// Every output of the model (one array each, in the graph's output order) for every row of
/// `x` (one array of rows per model input), in batches of `batch_size`.
pub fn predict_all(
    graph: &Graph,
    x: &[&dyn Rows],
    batch_size: usize,
    hooks: &mut dyn Hooks,
) -> Result<Vec<Storage>> {
    if batch_size == 0 {
        return Err(Error::value(
            "predict: batch_size must be positive, received 0",
        ));
    }
    let data = Data::Columns {
        x: x.to_vec(),
        y: None,
        sample_weight: None,
    };
    run(
        graph,
        Pipeline::new(data, batch_size, None, graph.dtype()),
        hooks,
    )
}

/// The outputs for every batch of `stream`, in order (a batch's `y`, if any, is ignored), for a
/// model with one output (see `predict_stream_all`).
pub fn predict_stream(
    graph: &Graph,
    stream: &mut dyn BatchStream,
    hooks: &mut dyn Hooks,
) -> Result<Storage> {
    let mut outputs = predict_stream_all(graph, stream, hooks)?;
    single(&mut outputs)
}

/// Every output of the model for every batch of `stream`, in order: one array per output.
pub fn predict_stream_all(
    graph: &Graph,
    stream: &mut dyn BatchStream,
    hooks: &mut dyn Hooks,
) -> Result<Vec<Storage>> {
    // A stream cuts its own batches; the pipeline's batch size applies to rows only.
    let batch_size = 1;
    let data = Data::Stream(stream);
    run(
        graph,
        Pipeline::new(data, batch_size, None, graph.dtype()),
        hooks,
    )
}

fn run(graph: &Graph, mut data: Pipeline<'_>, hooks: &mut dyn Hooks) -> Result<Vec<Storage>> {
    let mut batches = data.epoch(None)?;
    let mut outputs = Vec::with_capacity(batches.remaining().unwrap_or(0));
    let mut packed_kernels = PackedKernels::default();
    // Batches side by side: one per thread, each with single-threaded kernels, reported in
    // order once the group is done. Only where no callback watches batches one by one, and
    // only for rows: reading ahead in a stream would take items from the caller's iterator
    // that a stop could leave unused. The first batch runs alone and packs the kernels that
    // every thread then shares.
    let side_by_side = if hooks.wants_every_batch() || batches.remaining().is_none() {
        1
    } else {
        parallel::num_threads()
    };
    let mut inputs: Vec<Vec<Tensor>> = Vec::with_capacity(side_by_side);
    let mut step = 0;
    loop {
        let group = if step == 0 { 1 } else { side_by_side };
        inputs.clear();
        while inputs.len() < group {
            let Some(batch) = batches.next_batch()? else {
                break;
            };
            inputs.push(batch.x.into_iter().map(|x| Tensor::new(x, false)).collect());
        }
        if inputs.is_empty() {
            break;
        }
        for offset in 0..inputs.len() {
            hooks.on_batch_begin(step + offset)?;
        }
        let results: Vec<Result<Vec<Storage>>> = if inputs.len() == 1 {
            inputs
                .iter()
                .map(|input| run_batch(graph, input, &mut packed_kernels))
                .collect()
        } else {
            run_side_by_side(graph, &inputs, &packed_kernels)
        };
        for (offset, result) in results.into_iter().enumerate() {
            outputs.push(result?);
            if hooks.on_batch_end(step + offset, &Vec::new())? == Control::Stop {
                return concatenate(graph, outputs);
            }
        }
        step += inputs.len();
    }
    concatenate(graph, outputs)
}

/// Runs each batch on a thread of its own (the kernels inside run on that thread alone), with a
/// copy of the packed kernels each; results in the batches' order.
fn run_side_by_side(
    graph: &Graph,
    inputs: &[Vec<Tensor>],
    packed_kernels: &PackedKernels,
) -> Vec<Result<Vec<Storage>>> {
    let results: Vec<Mutex<Option<Result<Vec<Storage>>>>> =
        inputs.iter().map(|_| Mutex::new(None)).collect();
    parallel::for_each_chunk(inputs.len(), |i| {
        let result = run_batch(graph, &inputs[i], &mut packed_kernels.clone());
        *results[i].lock() = Some(result);
    });
    results
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|| Err(Error::value("predict: a batch did not run")))
        })
        .collect()
}

fn run_batch(
    graph: &Graph,
    x: &[Tensor],
    packed_kernels: &mut PackedKernels,
) -> Result<Vec<Storage>> {
    let _no_grad = no_grad();
    // Inference draws no random numbers; the context still needs a generator.
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut ctx = Context {
        training: false,
        rng: &mut rng,
        packed_kernels: Some(packed_kernels),
    };
    if graph.outputs().len() == 1 {
        let out = graph.forward(x, &mut ctx)?;
        return Ok(vec![(*out.data()).clone()]);
    }
    let outs = graph.forward_all(x, &mut ctx)?;
    Ok(outs.iter().map(|out| (*out.data()).clone()).collect())
}

/// Each output's batches joined along the rows.
fn concatenate(graph: &Graph, batches: Vec<Vec<Storage>>) -> Result<Vec<Storage>> {
    let shapes = graph.output_shapes();
    (0..shapes.len())
        .map(|output| {
            if batches.is_empty() {
                // No rows: an empty array with the output's shape where it is known.
                let mut shape = vec![0];
                shape.extend(shapes[output].iter().skip(1).map(|d| d.unwrap_or(0)));
                return Storage::zeros(graph.dtype(), &shape);
            }
            let parts: Vec<&Storage> = batches.iter().map(|b| &b[output]).collect();
            match graph.dtype() {
                DType::F32 => join::<f32>(&parts).map(Storage::from_array),
                DType::F64 => join::<f64>(&parts).map(Storage::from_array),
            }
        })
        .collect()
}

fn join<T: Element>(outputs: &[&Storage]) -> Result<ArrayD<T>> {
    let views = outputs
        .iter()
        .map(|s| s.typed::<T>().map(|a| a.view()))
        .collect::<Result<Vec<_>>>()?;
    ndarray::concatenate(Axis(0), &views).map_err(|e| {
        Error::shape(
            "predict",
            format!("batch outputs of different shapes cannot be joined: {e}"),
        )
    })
}
