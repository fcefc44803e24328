//! Traced programs: a layer recorded as a small program of core tensor ops (what a layer
//! written in Python becomes once traced). Running it calls the ordinary `Tensor` ops, so
//! autograd records each and the backward pass comes from the ops it is made of. A program
//! serialises to JSON (a closed schema) and is built like any layer, kind "Program", so a
//! model file stores it as its settings and its weights as "{layer}/{weight}".

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::primitive_op::{OpEnv, PrimitiveOp};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, Weight, format_shape, parse_config,
};
use crate::tensor::Tensor;

/// An operand of a recorded op: a program input, a weight, a constant or an earlier op's
/// result, by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ProgramRef {
    Input(usize),
    Weight(usize),
    Constant(usize),
    Op(usize),
}

/// One op of a program and its operands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedOp {
    pub op: PrimitiveOp,
    pub inputs: Vec<ProgramRef>,
}

fn yes() -> bool {
    true
}

/// A weight a program owns; its value is loaded like any layer weight's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramWeight {
    pub name: String,
    pub shape: Vec<usize>,
    #[serde(default = "yes")]
    pub trainable: bool,
}

/// A recorded program: its inputs' and outputs' shapes (as traced), weights, scalar constants,
/// ops in order, and which values are its outputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Program {
    pub input_shapes: Vec<Shape>,
    #[serde(default)]
    pub weights: Vec<ProgramWeight>,
    #[serde(default)]
    pub constants: Vec<f64>,
    pub ops: Vec<RecordedOp>,
    pub outputs: Vec<ProgramRef>,
    pub output_shapes: Vec<Shape>,
}

impl Program {
    /// Checks that every operand exists (ops read earlier ops only) and every op has its
    /// number of operands.
    pub fn check(&self) -> Result<()> {
        let exists = |r: &ProgramRef, before: usize| match *r {
            ProgramRef::Input(i) => i < self.input_shapes.len(),
            ProgramRef::Weight(i) => i < self.weights.len(),
            ProgramRef::Constant(i) => i < self.constants.len(),
            ProgramRef::Op(i) => i < before,
        };
        for (index, op) in self.ops.iter().enumerate() {
            if let Some(bad) = op.inputs.iter().find(|r| !exists(r, index)) {
                return Err(Error::value(format!(
                    "Program: op {index} ({:?}) reads {bad:?}, which does not exist before it",
                    op.op
                )));
            }
            let count = op.inputs.len();
            let fits = match op.op.arity() {
                Some(n) => count == n,
                None => count >= 1,
            };
            if !fits {
                return Err(Error::value(format!(
                    "Program: op {index} ({:?}) takes {} operand(s), received {count}",
                    op.op,
                    op.op.arity().map_or("1 or more".into(), |n| n.to_string())
                )));
            }
        }
        if let Some(bad) = self.outputs.iter().find(|r| !exists(r, self.ops.len())) {
            return Err(Error::value(format!(
                "Program: the output {bad:?} does not exist"
            )));
        }
        if self.outputs.is_empty() || self.outputs.len() != self.output_shapes.len() {
            return Err(Error::value(format!(
                "Program: {} output(s) with {} output shape(s); one shape per output, at least \
                 one output",
                self.outputs.len(),
                self.output_shapes.len()
            )));
        }
        Ok(())
    }

    /// Runs the ops in order on `inputs` with the program's `weights`.
    pub fn run(&self, inputs: &[Tensor], weights: &[Tensor], dtype: DType) -> Result<Vec<Tensor>> {
        if inputs.len() != self.input_shapes.len() || weights.len() != self.weights.len() {
            return Err(Error::value(format!(
                "Program: expects {} input(s) and {} weight(s), received {} and {}",
                self.input_shapes.len(),
                self.weights.len(),
                inputs.len(),
                weights.len()
            )));
        }
        let constants: Vec<Tensor> = self
            .constants
            .iter()
            .map(|&c| Tensor::scalar(c, dtype))
            .collect();
        let mut results: Vec<Tensor> = Vec::with_capacity(self.ops.len());
        let value = |r: ProgramRef, results: &[Tensor]| -> Tensor {
            match r {
                ProgramRef::Input(i) => inputs[i].clone(),
                ProgramRef::Weight(i) => weights[i].clone(),
                ProgramRef::Constant(i) => constants[i].clone(),
                ProgramRef::Op(i) => results[i].clone(),
            }
        };
        for op in &self.ops {
            let args: Vec<Tensor> = op.inputs.iter().map(|&r| value(r, &results)).collect();
            results.push(op.op.apply(&args, &mut OpEnv::default())?);
        }
        let outputs: Vec<Tensor> = self.outputs.iter().map(|&r| value(r, &results)).collect();
        for (position, (tensor, shape)) in outputs.iter().zip(&self.output_shapes).enumerate() {
            let fits = tensor.ndim() == shape.len()
                && shape
                    .iter()
                    .zip(tensor.shape())
                    .all(|(e, &a)| e.is_none_or(|e| e == a));
            if !fits {
                return Err(Error::shape(
                    "Program",
                    format!(
                        "output {position} was traced with shape {}, computed {:?}",
                        format_shape(shape),
                        tensor.shape()
                    ),
                ));
            }
        }
        Ok(outputs)
    }
}

/// A program as a layer: its settings are the program, its weights the program's.
pub struct ProgramLayer {
    program: Program,
    weights: Vec<Tensor>,
}

impl ProgramLayer {
    /// A layer running `program` on inputs of `input_shapes`, its weights made of `dtype` and
    /// zero until loaded or assigned.
    pub fn build(program: Program, input_shapes: &[Shape], dtype: DType) -> Result<ProgramLayer> {
        program.check()?;
        program.output_shapes(input_shapes)?;
        let weights = program
            .weights
            .iter()
            .map(|w| {
                let tensor = Tensor::zeros(&w.shape, dtype)?;
                tensor.set_requires_grad(true)?;
                Ok(tensor)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ProgramLayer { program, weights })
    }

    /// A layer running `program` with the given weights (one per declared weight, of its
    /// shape).
    pub fn with_weights(program: Program, weights: Vec<Tensor>) -> Result<ProgramLayer> {
        program.check()?;
        let fits = weights.len() == program.weights.len()
            && weights
                .iter()
                .zip(&program.weights)
                .all(|(t, w)| t.shape() == w.shape.as_slice());
        if !fits {
            return Err(Error::value(
                "Program: the weights given do not match the program's declared weights",
            ));
        }
        Ok(ProgramLayer { program, weights })
    }

    pub fn program(&self) -> &Program {
        &self.program
    }
}

impl Program {
    /// The traced output shapes, once the inputs are checked against the traced ones.
    fn output_shapes(&self, input_shapes: &[Shape]) -> Result<Vec<Shape>> {
        let fits = input_shapes.len() == self.input_shapes.len()
            && self.input_shapes.iter().zip(input_shapes).all(|(e, a)| {
                e.len() == a.len()
                    && e.iter().zip(a).all(|(e, a)| match (e, a) {
                        (Some(e), Some(a)) => e == a,
                        _ => true,
                    })
            });
        if !fits {
            let listed = |shapes: &[Shape]| {
                shapes
                    .iter()
                    .map(|s| format_shape(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(Error::shape(
                "Program",
                format!(
                    "traced for inputs of shapes [{}], received [{}]",
                    listed(&self.input_shapes),
                    listed(input_shapes)
                ),
            ));
        }
        Ok(self.output_shapes.clone())
    }
}

impl Layer for ProgramLayer {
    fn kind(&self) -> &'static str {
        "Program"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.program).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        let mut shapes = self.program.output_shapes(input)?;
        if shapes.len() != 1 {
            return Err(Error::value(format!(
                "this Program has {} outputs, not one; take them all with output_shapes",
                shapes.len()
            )));
        }
        Ok(shapes.remove(0))
    }

    fn output_shapes(&self, input: &[Shape]) -> Result<Vec<Shape>> {
        self.program.output_shapes(input)
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        let mut outputs = self.forward_outputs(inputs, None, _ctx)?;
        if outputs.len() != 1 {
            return Err(Error::value(format!(
                "this Program has {} outputs, not one; take them all with forward_outputs",
                outputs.len()
            )));
        }
        Ok(outputs.remove(0))
    }

    fn forward_outputs(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Vec<Tensor>> {
        let dtype = self
            .weights
            .first()
            .or(inputs.first())
            .map_or(DType::F32, Tensor::dtype);
        self.program.run(inputs, &self.weights, dtype)
    }

    /// A recorded program says nothing of masks: its outputs have none.
    fn output_masks(
        &self,
        _inputs: &[Tensor],
        _masks: &[Option<Mask>],
    ) -> Result<Vec<Option<Mask>>> {
        Ok(vec![None; self.program.outputs.len()])
    }

    fn compute_mask(&self, _inputs: &[Tensor], _mask: Option<&Mask>) -> Result<Option<Mask>> {
        Ok(None)
    }

    fn weights(&self) -> Vec<Weight> {
        self.program
            .weights
            .iter()
            .zip(&self.weights)
            .map(|(declared, tensor)| Weight {
                name: Cow::Owned(declared.name.clone()),
                tensor: tensor.clone(),
                trainable: declared.trainable,
            })
            .collect()
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "Program",
        build: |config, input_shapes, dtype| {
            Ok(Box::new(ProgramLayer::build(
                parse_config("Program", config)?,
                input_shapes,
                dtype,
            )?))
        },
    }
}
