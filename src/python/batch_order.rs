//! `_core.BatchOrder`: the row order of each epoch of `fit`, for the loop that runs in Python
//! (`compile(run_eagerly=True)`, an overridden `train_step`), so that it reads the same batches
//! as the Rust loop for the same seed.

use numpy::IntoPyArray;
use pyo3::prelude::*;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::rng;

/// The order rows are read in, epoch after epoch, drawn as `train::fit` draws it: a generator
/// forked from the library's (or, for a resumable run, one per epoch made from `seed` and the
/// epoch's number), and one shuffle of the whole order per epoch, continuing from the previous
/// epoch's order.
#[pyclass(name = "BatchOrder", module = "ferrograd._core")]
pub struct PyBatchOrder {
    order: Vec<usize>,
    generator: ChaCha8Rng,
    /// For a resumable run: the seed each epoch's generator is made from.
    run_seed: Option<<ChaCha8Rng as SeedableRng>::Seed>,
}

#[pymethods]
impl PyBatchOrder {
    /// `samples` rows; `seed` as `_core.fit` takes it (None: fork the library's generator).
    #[new]
    #[pyo3(signature = (samples, seed = None))]
    fn py_new(samples: usize, seed: Option<u64>) -> Self {
        let mut generator = match seed {
            Some(seed) => ChaCha8Rng::seed_from_u64(seed),
            None => rng::fork(),
        };
        let run_seed = seed.map(|_| {
            let mut run_seed = <ChaCha8Rng as SeedableRng>::Seed::default();
            generator.fill_bytes(&mut run_seed);
            run_seed
        });
        PyBatchOrder {
            order: (0..samples).collect(),
            generator,
            run_seed,
        }
    }

    /// The row indices of epoch `epoch` (counting from 0), shuffled when `shuffle` is true.
    fn epoch<'py>(&mut self, py: Python<'py>, epoch: usize, shuffle: bool) -> Bound<'py, PyAny> {
        if let Some(seed) = self.run_seed {
            self.generator = ChaCha8Rng::from_seed(seed);
            self.generator.set_stream(epoch as u64);
            for (position, row) in self.order.iter_mut().enumerate() {
                *row = position;
            }
        }
        if shuffle {
            self.order.shuffle(&mut self.generator);
        }
        let indices: Vec<i64> = self.order.iter().map(|&row| row as i64).collect();
        indices.into_pyarray(py).into_any()
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyBatchOrder>()?;
    Ok(())
}
