//! The loops' one batch pipeline: a dataset cut into batches, in order, for `fit`, `evaluate`
//! and `predict` alike.
//!
//! A `Pipeline` is made once per loop (once per dataset in `fit`); each pass over the data
//! (an epoch, an evaluation) asks it for `Batches`, which hand out one `Batch` at a time until
//! the data or the step limit ends. Rows are gathered by index in the pipeline's order, which
//! persists across passes, so a shuffle each epoch continues from the previous one's order;
//! a stream hands out its own batches. Either way a batch is made exactly once, where it is
//! consumed: nothing is buffered or copied on the way.

use std::slice::Chunks;

use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::collective::share;
use super::data::{Batch, BatchStream, Rows};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::storage::Storage;

/// A dataset for `fit`, `evaluate` or `predict`.
///
/// Example (Rust): `Data::Rows { x: &features, y: Some(&targets) }` for two arrays of rows,
/// `Data::Columns { x: vec![&title, &body], y: Some(vec![&priority]) }` for a model with
/// several inputs or outputs, or `Data::Stream(&mut generator)` for a source of whole batches.
pub enum Data<'a> {
    /// Rows gathered by index (so they can be shuffled) for a model with one input and one
    /// output; `y` is `None` for `predict`.
    Rows {
        x: &'a dyn Rows,
        y: Option<&'a dyn Rows>,
    },
    /// One array of rows per model input (`x`) and per output (`y`, and `sample_weight`: the
    /// per-sample weights of each output's loss), all of the same length, gathered with the
    /// same row order.
    Columns {
        x: Vec<&'a dyn Rows>,
        y: Option<Vec<&'a dyn Rows>>,
        sample_weight: Option<Vec<&'a dyn Rows>>,
    },
    /// Whole batches in the source's order.
    Stream(&'a mut dyn BatchStream),
}

impl Data<'_> {
    /// The number of samples, where known before the data is read (rows, not a stream).
    pub fn samples(&self) -> Option<usize> {
        match self {
            Data::Rows { x, .. } => Some(x.len()),
            Data::Columns { x, .. } => Some(x.first().map_or(0, |x| x.len())),
            Data::Stream(_) => None,
        }
    }
}

/// The data a pipeline holds: rows as columns (one array per input and per output) or a stream.
enum Held<'a> {
    Columns {
        x: Vec<&'a dyn Rows>,
        y: Option<Vec<&'a dyn Rows>>,
        sample_weight: Option<Vec<&'a dyn Rows>>,
    },
    Stream(&'a mut dyn BatchStream),
}

impl<'a> Held<'a> {
    fn new(data: Data<'a>) -> Held<'a> {
        match data {
            Data::Rows { x, y } => Held::Columns {
                x: vec![x],
                y: y.map(|y| vec![y]),
                sample_weight: None,
            },
            Data::Columns {
                x,
                y,
                sample_weight,
            } => Held::Columns {
                x,
                y,
                sample_weight,
            },
            Data::Stream(stream) => Held::Stream(stream),
        }
    }

    fn samples(&self) -> Option<usize> {
        match self {
            Held::Columns { x, .. } => Some(x.first().map_or(0, |x| x.len())),
            Held::Stream(_) => None,
        }
    }

    /// Every array of rows has the same number of rows, and there is at least one input.
    fn check(&self) -> Result<()> {
        let Held::Columns {
            x,
            y,
            sample_weight,
            ..
        } = self
        else {
            return Ok(());
        };
        let Some(first) = x.first() else {
            return Err(Error::value("the data has no input arrays"));
        };
        let lengths: Vec<usize> = x
            .iter()
            .chain(y.iter().flatten())
            .chain(sample_weight.iter().flatten())
            .map(|rows| rows.len())
            .collect();
        if lengths.iter().any(|&n| n != first.len()) {
            return Err(Error::value(format!(
                "every input and target array must have the same number of samples, \
                 received arrays of {lengths:?} samples (inputs, targets, then sample weights)"
            )));
        }
        Ok(())
    }
}

/// A dataset with how it is cut into batches: the rows' order, the batch size, the most steps
/// per pass and the element type the batches are converted to.
pub struct Pipeline<'a> {
    data: Held<'a>,
    /// The order rows are gathered in (empty for a stream); shuffled in place by `epoch`.
    order: Vec<usize>,
    batch_size: usize,
    steps: Option<usize>,
    dtype: DType,
    /// `(process index, process count)` in a data-parallel run: each batch of rows keeps this
    /// process's share of the global batch (`collective::share`).
    shard: Option<(usize, usize)>,
}

impl<'a> Pipeline<'a> {
    /// `batch_size` is the number of rows per batch when gathering rows (a stream's batches
    /// come as the stream cuts them); `steps` caps the batches of each pass and, for a stream,
    /// makes each pass continue where the previous one stopped instead of starting over.
    ///
    /// Example: `Pipeline::new(Data::Rows { x: &x, y: Some(&y) }, 32, None, DType::F32)`.
    pub fn new(
        data: Data<'a>,
        batch_size: usize,
        steps: Option<usize>,
        dtype: DType,
    ) -> Pipeline<'a> {
        let order = (0..data.samples().unwrap_or(0)).collect();
        Pipeline {
            data: Held::new(data),
            order,
            batch_size,
            steps,
            dtype,
            shard: None,
        }
    }

    /// Makes each batch of rows hold only process `index`'s share (of `count`) of the global
    /// batch of `batch_size` rows, so that the processes of a data-parallel run, each cutting
    /// the same rows in the same order, together make the global batch. A stream is left as it
    /// is: each process passes its own.
    pub fn shard(&mut self, index: usize, count: usize) {
        self.shard = (count > 1).then_some((index, count));
    }

    /// Whether the data is a stream of batches (whose length is known only at its end).
    pub fn is_stream(&self) -> bool {
        matches!(self.data, Held::Stream(_))
    }

    /// The number of samples, where known before the data is read (rows, not a stream).
    pub fn samples(&self) -> Option<usize> {
        self.data.samples()
    }

    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Puts the rows back in their own order, so that the next shuffle depends only on its
    /// generator (what `fit` does each epoch when it must be resumable at any epoch).
    pub fn restart_order(&mut self) {
        for (position, row) in self.order.iter_mut().enumerate() {
            *row = position;
        }
    }

    /// The batches of one pass over the data. Rows: the order is shuffled first when `shuffle`
    /// gives a generator (one `shuffle` call of the whole order, so the same seed gives the
    /// same batches), then cut into batches of `batch_size`. A stream is told a pass begins.
    pub fn epoch(&mut self, shuffle: Option<&mut ChaCha8Rng>) -> Result<Batches<'_>> {
        self.data.check()?;
        let source = match &mut self.data {
            Held::Columns {
                x,
                y,
                sample_weight,
            } => {
                if self.batch_size == 0 {
                    return Err(Error::value(
                        "batch_size must be a positive integer, received 0",
                    ));
                }
                if let Some(rng) = shuffle {
                    self.order.shuffle(rng);
                }
                Source::Rows {
                    x: x.as_slice(),
                    y: y.as_deref(),
                    sample_weight: sample_weight.as_deref(),
                    chunks: self.order.chunks(self.batch_size),
                    shard: self.shard,
                }
            }
            Held::Stream(stream) => {
                stream.start_epoch(self.steps.is_some())?;
                Source::Stream(&mut **stream)
            }
        };
        Ok(Batches {
            source,
            dtype: self.dtype,
            limit: self.steps.unwrap_or(usize::MAX),
            taken: 0,
            ran_out: false,
        })
    }
}

/// Where one pass's batches come from.
enum Source<'p> {
    Rows {
        x: &'p [&'p dyn Rows],
        y: Option<&'p [&'p dyn Rows]>,
        sample_weight: Option<&'p [&'p dyn Rows]>,
        chunks: Chunks<'p, usize>,
        shard: Option<(usize, usize)>,
    },
    Stream(&'p mut dyn BatchStream),
}

/// The given rows of each array, in order.
fn gather_all(arrays: &[&dyn Rows], rows: &[usize], dtype: DType) -> Result<Vec<Storage>> {
    arrays.iter().map(|a| a.gather(rows, dtype)).collect()
}

/// The batches of one pass, in order, made one at a time as they are asked for.
pub struct Batches<'p> {
    source: Source<'p>,
    dtype: DType,
    /// The most batches this pass hands out.
    limit: usize,
    taken: usize,
    ran_out: bool,
}

impl Batches<'_> {
    /// The next batch, or `None` when the pass is over (the data ended or the step limit was
    /// reached). Rows are gathered `x` first, then `y`, then the sample weights.
    pub fn next_batch(&mut self) -> Result<Option<Batch>> {
        if self.taken >= self.limit {
            return Ok(None);
        }
        let batch = match &mut self.source {
            Source::Rows {
                x,
                y,
                sample_weight,
                chunks,
                shard,
            } => match chunks.next() {
                Some(rows) => {
                    let rows = match *shard {
                        Some((index, count)) => &rows[share(rows.len(), index, count)],
                        None => rows,
                    };
                    Some(Batch {
                        x: gather_all(x, rows, self.dtype)?,
                        y: y.map(|y| gather_all(y, rows, self.dtype)).transpose()?,
                        sample_weight: sample_weight
                            .map(|w| gather_all(w, rows, self.dtype))
                            .transpose()?,
                    })
                }
                None => None,
            },
            Source::Stream(stream) => {
                let batch = stream.next_batch(self.dtype)?;
                self.ran_out = batch.is_none();
                batch
            }
        };
        if batch.is_some() {
            self.taken += 1;
        }
        Ok(batch)
    }

    /// The batches left in this pass, where known in advance (rows, not a stream).
    pub fn remaining(&self) -> Option<usize> {
        match &self.source {
            Source::Rows { chunks, .. } => Some(chunks.len().min(self.limit - self.taken)),
            Source::Stream(_) => None,
        }
    }

    /// Whether a stream ended when asked for a batch. Rows never run out: each pass starts over
    /// with every row, and the step limit only caps it.
    pub fn ran_out(&self) -> bool {
        self.ran_out
    }
}
