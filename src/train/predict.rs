//! `predict`: the model's outputs for every row, in order, without recording a graph.

use ndarray::{ArrayD, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::data::{BatchStream, Rows};
use super::{Control, Hooks};
use crate::autograd::no_grad;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::nn::{Context, Graph, PackedKernels};
use crate::storage::Storage;
use crate::tensor::Tensor;

pub fn predict(
    graph: &Graph,
    x: &dyn Rows,
    batch_size: usize,
    hooks: &mut dyn Hooks,
) -> Result<Storage> {
    if batch_size == 0 {
        return Err(Error::value(
            "predict: batch_size must be positive, received 0",
        ));
    }
    let rows: Vec<usize> = (0..x.len()).collect();
    let mut outputs = Vec::with_capacity(rows.len().div_ceil(batch_size));
    let mut packed_kernels = PackedKernels::default();
    for (step, chunk) in rows.chunks(batch_size).enumerate() {
        hooks.on_batch_begin(step)?;
        let batch = x.gather(chunk, graph.dtype())?;
        outputs.push(run_batch(graph, batch, &mut packed_kernels)?);
        if hooks.on_batch_end(step, &Vec::new())? == Control::Stop {
            break;
        }
    }
    concatenate(graph, outputs)
}

pub fn predict_stream(
    graph: &Graph,
    stream: &mut dyn BatchStream,
    hooks: &mut dyn Hooks,
) -> Result<Storage> {
    let mut outputs = Vec::new();
    let mut step = 0;
    let mut packed_kernels = PackedKernels::default();
    while let Some(batch) = stream.next_batch(graph.dtype())? {
        hooks.on_batch_begin(step)?;
        outputs.push(run_batch(graph, batch.x, &mut packed_kernels)?);
        if hooks.on_batch_end(step, &Vec::new())? == Control::Stop {
            break;
        }
        step += 1;
    }
    concatenate(graph, outputs)
}

fn run_batch(graph: &Graph, x: Storage, packed_kernels: &mut PackedKernels) -> Result<Storage> {
    let _no_grad = no_grad();
    // Inference draws no random numbers; the context still needs a generator.
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut ctx = Context {
        training: false,
        rng: &mut rng,
        packed_kernels: Some(packed_kernels),
    };
    let out = graph.forward(&[Tensor::new(x, false)], &mut ctx)?;
    Ok((*out.data()).clone())
}

fn concatenate(graph: &Graph, outputs: Vec<Storage>) -> Result<Storage> {
    if outputs.is_empty() {
        // No rows: an empty array with the model's output shape where it is known.
        let mut shape = vec![0];
        shape.extend(graph.output_shape().iter().skip(1).map(|d| d.unwrap_or(0)));
        return Storage::zeros(graph.dtype(), &shape);
    }
    match graph.dtype() {
        DType::F32 => join::<f32>(&outputs).map(Storage::from_array),
        DType::F64 => join::<f64>(&outputs).map(Storage::from_array),
    }
}

fn join<T: Element>(outputs: &[Storage]) -> Result<ArrayD<T>> {
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
