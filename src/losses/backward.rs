//! The backward rule of every loss: the derivative of each sample's loss with respect to
//! `y_pred`, saved by the forward pass, scaled by the incoming gradient.

use std::sync::Arc;

use ndarray::ArrayRefD;

use super::Reduction;
use super::forward::contiguous;
use crate::autograd::{Accumulate, Backward, GradSink};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::kernels::par_chunks_mut;
use crate::storage::Storage;

/// The backward rule of every loss: the saved derivative of each sample's loss with respect to
/// `y_pred`, scaled by the incoming gradient of that sample's loss.
pub(crate) struct LossBackward {
    pub name: &'static str,
    pub local: Arc<Storage>,
    pub reduction: Reduction,
    pub rows: usize,
    pub cols: usize,
}

impl Backward for LossBackward {
    fn name(&self) -> &'static str {
        self.name
    }

    fn backward(&self, grad_output: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        grads.add_with(0, |buf, mode| match (buf, &*self.local, grad_output) {
            (Storage::F32(buf), Storage::F32(local), Storage::F32(g)) => {
                self.scale_into(buf, local, g, mode)
            }
            (Storage::F64(buf), Storage::F64(local), Storage::F64(g)) => {
                self.scale_into(buf, local, g, mode)
            }
            (buf, local, _) => Err(Error::DTypeMismatch {
                op: self.name,
                expected: local.dtype(),
                received: buf.dtype(),
            }),
        })
    }
}

impl LossBackward {
    fn scale_into<T: Element>(
        &self,
        buf: &mut ArrayRefD<T>,
        local: &ArrayRefD<T>,
        grad_output: &ArrayRefD<T>,
        mode: Accumulate,
    ) -> Result<()> {
        let g = contiguous(grad_output);
        let local = contiguous(local);
        let Some(buf) = buf.as_slice_mut() else {
            return Err(Error::Autograd(format!(
                "{}: internal error, a gradient buffer that is not contiguous",
                self.name
            )));
        };
        let write = |out: &mut [T], local: &[T], scale: T| match mode {
            Accumulate::Overwrite => {
                for (o, &l) in out.iter_mut().zip(local) {
                    *o = l * scale;
                }
            }
            Accumulate::Add => {
                for (o, &l) in out.iter_mut().zip(local) {
                    *o += l * scale;
                }
            }
        };
        match self.reduction {
            Reduction::None => {
                if g.len() != self.rows {
                    return Err(Error::Autograd(format!(
                        "{}: internal error, {} gradients for {} samples",
                        self.name,
                        g.len(),
                        self.rows
                    )));
                }
                if self.cols > 0 {
                    for ((out, local), &scale) in buf
                        .chunks_mut(self.cols)
                        .zip(local.chunks(self.cols))
                        .zip(g.iter())
                    {
                        write(out, local, scale);
                    }
                }
            }
            Reduction::Sum | Reduction::SumOverBatchSize => {
                let g0 = g.first().copied().unwrap_or_else(T::zero);
                let scale = match self.reduction {
                    Reduction::SumOverBatchSize if self.rows > 0 => g0 / T::of(self.rows as f64),
                    _ => g0,
                };
                par_chunks_mut(buf, |offset, out| {
                    write(out, &local[offset..offset + out.len()], scale)
                });
            }
        }
        Ok(())
    }
}
