//! Recording what a Python `call()` computes, so that it can be replayed as a graph by the Rust
//! loops (a layer or model written in Python, a custom loss, a `Lambda`). While a recording is
//! on, every tensor op made from Python notes itself here with its operands and result; a
//! built-in layer or model called from Python is paused through and noted as one call.
//!
//! The recording is per thread: Python code runs on the thread that holds the GIL, and a
//! recording starts and finishes within one Python call of the tracer.

use std::cell::RefCell;
use std::collections::HashSet;

use crate::error::{Error, Result};
use crate::nn::PrimitiveOp;
use crate::tensor::Tensor;

/// One recorded step, in the order the Python code made it.
pub enum TracedStep {
    /// A tensor op and the tensors it read and made.
    Op {
        op: PrimitiveOp,
        inputs: Vec<Tensor>,
        output: Tensor,
    },
    /// A layer or model called from Python, known to the tracer by `token`.
    Call {
        token: usize,
        inputs: Vec<Tensor>,
        outputs: Vec<Tensor>,
    },
}

#[derive(Default)]
struct Recording {
    steps: Vec<TracedStep>,
    /// How many calls of built-in layers are running: their own ops are not the trace's.
    paused: usize,
    /// The tensors whose values depend on the traced inputs (or on random draws): the code may
    /// not read them, since the graph computes them anew at each pass.
    traced: HashSet<u64>,
}

thread_local! {
    // Boxed: a module's thread-locals take glibc's small static TLS surplus, which libraries
    // loaded later in the same process (PyTorch's libgomp) need too.
    static RECORDING: RefCell<Option<Box<Recording>>> = const { RefCell::new(None) };
}

/// Starts recording on this thread; one recording at a time.
pub fn start() -> Result<()> {
    RECORDING.with(|cell| {
        let mut recording = cell.borrow_mut();
        if recording.is_some() {
            return Err(Error::value(
                "a trace is already being recorded on this thread (tracing does not nest)",
            ));
        }
        *recording = Some(Box::default());
        Ok(())
    })
}

/// Ends the recording and returns its steps (None if none was on).
pub fn finish() -> Option<Vec<TracedStep>> {
    RECORDING.with(|cell| cell.borrow_mut().take().map(|r| r.steps))
}

/// Whether ops made now are recorded.
pub fn is_recording() -> bool {
    RECORDING.with(|cell| cell.borrow().as_ref().is_some_and(|r| r.paused == 0))
}

/// Stops noting ops until the matching `resume` (while a built-in layer runs).
pub fn pause() {
    RECORDING.with(|cell| {
        if let Some(recording) = cell.borrow_mut().as_mut() {
            recording.paused += 1;
        }
    });
}

pub fn resume() {
    RECORDING.with(|cell| {
        if let Some(recording) = cell.borrow_mut().as_mut() {
            recording.paused = recording.paused.saturating_sub(1);
        }
    });
}

/// Marks the inputs of the traced code: their values stand for any batch's.
pub fn mark_input(tensor: &Tensor) {
    RECORDING.with(|cell| {
        if let Some(recording) = cell.borrow_mut().as_mut() {
            recording.traced.insert(tensor.id());
        }
    });
}

/// Refuses to read the values of a traced tensor (`float(x)`, `x.numpy()`, `if x > 0:`):
/// Python control flow on them cannot become a graph. The message says what was read.
pub fn check_readable(tensor: &Tensor, reading: &str) -> std::result::Result<(), String> {
    RECORDING.with(|cell| match cell.borrow().as_ref() {
        Some(recording) if recording.traced.contains(&tensor.id()) => Err(format!(
            "{reading} reads the values of a traced tensor of shape {:?}",
            tensor.shape()
        )),
        _ => Ok(()),
    })
}

/// Notes an op, if recording.
pub fn record_op(op: &PrimitiveOp, inputs: &[Tensor], output: &Tensor) {
    RECORDING.with(|cell| {
        if let Some(recording) = cell.borrow_mut().as_mut()
            && recording.paused == 0
        {
            let random = matches!(op, PrimitiveOp::Random { .. });
            if random || inputs.iter().any(|t| recording.traced.contains(&t.id())) {
                recording.traced.insert(output.id());
            }
            recording.steps.push(TracedStep::Op {
                op: op.clone(),
                inputs: inputs.to_vec(),
                output: output.clone(),
            });
        }
    });
}

/// Notes a call of a layer or model, if recording.
pub fn record_call(token: usize, inputs: Vec<Tensor>, outputs: Vec<Tensor>) {
    RECORDING.with(|cell| {
        if let Some(recording) = cell.borrow_mut().as_mut()
            && recording.paused == 0
        {
            if inputs.iter().any(|t| recording.traced.contains(&t.id())) {
                recording.traced.extend(outputs.iter().map(Tensor::id));
            }
            recording.steps.push(TracedStep::Call {
                token,
                inputs,
                outputs,
            });
        }
    });
}
