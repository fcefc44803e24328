//! Indexing with numpy's rules for integers, slices (any step), `None` (a new axis), `...`, and
//! one integer array (a gather along its axis, `x[idx]`) or one boolean mask (`x[mask]`).
//!
//! Every index resolves to the list of positions taken along each input axis; the forward pass
//! gathers them and the backward pass scatters the gradient back, adding where a position was
//! taken more than once. A mask over several axes first merges them into one (a reshape), where
//! it is a mask like any other.

use ndarray::{ArrayD, ArrayRefD, Axis, IxDyn};

use crate::autograd::{Backward, GradSink, record};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::storage::{Storage, try_zeros};
use crate::tensor::Tensor;
use crate::try_map_storage;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexItem {
    Int(isize),
    Slice {
        start: Option<isize>,
        stop: Option<isize>,
        step: Option<isize>,
    },
    NewAxis,
    Ellipsis,
    Array(Vec<isize>),
    /// A boolean mask over as many axes as it has dimensions (its `shape` must equal theirs):
    /// they become one axis holding the elements where the mask is true, in C order.
    Mask {
        shape: Vec<usize>,
        values: Vec<bool>,
    },
}

impl IndexItem {
    /// How many input axes the item indexes.
    fn axes_taken(&self) -> usize {
        match self {
            IndexItem::NewAxis | IndexItem::Ellipsis => 0,
            IndexItem::Mask { shape, .. } => shape.len(),
            _ => 1,
        }
    }

    fn is_advanced(&self) -> bool {
        matches!(self, IndexItem::Array(_) | IndexItem::Mask { .. })
    }
}

/// Checks what an index needs whatever its values, and returns how many axes the ellipsis (or
/// the implicit trailing `...`) stands for.
fn check_items(shape: &[usize], items: &[IndexItem]) -> Result<usize> {
    let ellipses = items.iter().filter(|i| **i == IndexItem::Ellipsis).count();
    if ellipses > 1 {
        return Err(Error::value(
            "index: an index can only have a single ellipsis ('...')",
        ));
    }
    if items.iter().filter(|i| i.is_advanced()).count() > 1 {
        return Err(Error::value(
            "index: at most one integer array or boolean mask is supported in an index",
        ));
    }
    for item in items {
        if let IndexItem::Mask { shape, values } = item {
            if shape.is_empty() {
                return Err(Error::value(
                    "index: a boolean mask needs at least one dimension",
                ));
            }
            if shape.iter().product::<usize>() != values.len() {
                return Err(Error::value(format!(
                    "index: a boolean mask of shape {shape:?} cannot hold {} values",
                    values.len()
                )));
            }
        }
    }
    let taken: usize = items.iter().map(IndexItem::axes_taken).sum();
    if taken > shape.len() {
        return Err(Error::Index(format!(
            "index: too many indices for a tensor of shape {shape:?}: {taken} were given"
        )));
    }
    Ok(shape.len() - taken)
}

/// The input axis each item starts at.
fn first_axes(items: &[IndexItem], ellipsis_axes: usize) -> Vec<usize> {
    let mut axis = 0;
    items
        .iter()
        .map(|item| {
            let first = axis;
            axis += match item {
                IndexItem::Ellipsis => ellipsis_axes,
                other => other.axes_taken(),
            };
            first
        })
        .collect()
}

/// Checks that a mask matches the axes it covers and, when it covers several, merges them into
/// one (a differentiable reshape of `input`), so that every mask left is one-dimensional.
fn merge_masked_axes(input: &Tensor, items: &[IndexItem]) -> Result<(Tensor, Vec<IndexItem>)> {
    let shape = input.shape();
    let ellipsis_axes = check_items(shape, items)?;
    let mut items = items.to_vec();
    let firsts = first_axes(&items, ellipsis_axes);
    let Some(which) = items
        .iter()
        .position(|i| matches!(i, IndexItem::Mask { .. }))
    else {
        return Ok((input.clone(), items));
    };
    let IndexItem::Mask {
        shape: mask_shape,
        values,
    } = &mut items[which]
    else {
        unreachable!("position() found a mask");
    };
    let first = firsts[which];
    let covered = &shape[first..first + mask_shape.len()];
    if covered != mask_shape.as_slice() {
        return Err(Error::Index(format!(
            "index: a boolean mask of shape {mask_shape:?} does not match the axes {first}..{} \
             of a tensor of shape {shape:?}, which have shape {covered:?}",
            first + mask_shape.len()
        )));
    }
    if mask_shape.len() == 1 {
        return Ok((input.clone(), items));
    }
    let merged: Vec<isize> = shape[..first]
        .iter()
        .chain(std::iter::once(&values.len()))
        .chain(&shape[first + mask_shape.len()..])
        .map(|&d| d as isize)
        .collect();
    *mask_shape = vec![values.len()];
    Ok((input.reshape(&merged)?, items))
}

/// What an index selects, resolved against one input shape.
#[derive(Clone, Debug)]
struct Selection {
    /// The positions taken along each input axis, in order.
    positions: Vec<Vec<usize>>,
    /// The output shape, without the axes indexed by integers and with the new axes.
    out_shape: Vec<usize>,
}

impl Selection {
    /// `items` must hold no mask over several axes (see `merge_masked_axes`).
    fn resolve(shape: &[usize], items: &[IndexItem]) -> Result<Selection> {
        let ellipsis_axes = check_items(shape, items)?;
        let full = |len: usize| (0..len).collect::<Vec<_>>();
        let mut positions = Vec::with_capacity(shape.len());
        let mut out_shape = Vec::new();
        let mut axis = 0;
        for item in items {
            match item {
                IndexItem::NewAxis => out_shape.push(1),
                IndexItem::Ellipsis => {
                    for _ in 0..ellipsis_axes {
                        positions.push(full(shape[axis]));
                        out_shape.push(shape[axis]);
                        axis += 1;
                    }
                }
                IndexItem::Int(i) => {
                    positions.push(vec![resolve_position(*i, shape[axis], axis)?]);
                    axis += 1;
                }
                IndexItem::Slice { start, stop, step } => {
                    let taken = slice_positions(*start, *stop, step.unwrap_or(1), shape[axis])?;
                    out_shape.push(taken.len());
                    positions.push(taken);
                    axis += 1;
                }
                IndexItem::Array(indices) => {
                    let taken = indices
                        .iter()
                        .map(|&i| resolve_position(i, shape[axis], axis))
                        .collect::<Result<Vec<_>>>()?;
                    out_shape.push(taken.len());
                    positions.push(taken);
                    axis += 1;
                }
                IndexItem::Mask { values, .. } => {
                    if values.len() != shape[axis] {
                        return Err(Error::Index(format!(
                            "index: a boolean mask of length {} does not match axis {axis} of \
                             size {}",
                            values.len(),
                            shape[axis]
                        )));
                    }
                    let taken: Vec<usize> = (0..values.len()).filter(|&i| values[i]).collect();
                    out_shape.push(taken.len());
                    positions.push(taken);
                    axis += 1;
                }
            }
        }
        for &len in &shape[axis..] {
            positions.push(full(len));
            out_shape.push(len);
        }
        Ok(Selection {
            positions,
            out_shape,
        })
    }

    /// The shape of the gathered block before integer axes are dropped and new axes added.
    fn gathered_shape(&self) -> Vec<usize> {
        self.positions.iter().map(Vec::len).collect()
    }

    fn gather<T: Element>(&self, a: &ArrayRefD<T>) -> Result<ArrayD<T>> {
        let mut out = a.to_owned();
        for (axis, taken) in self.positions.iter().enumerate() {
            let identity =
                taken.len() == a.shape()[axis] && taken.iter().enumerate().all(|(i, &p)| i == p);
            if !identity {
                out = out.select(Axis(axis), taken);
            }
        }
        crate::storage::standard(out)
            .into_shape_with_order(IxDyn(&self.out_shape))
            .map_err(|e| Error::value(format!("index: {e}")))
    }

    fn scatter_add<T: Element>(
        &self,
        g: &ArrayRefD<T>,
        input_shape: &[usize],
    ) -> Result<ArrayD<T>> {
        let mut out = try_zeros::<T>(input_shape)?;
        let g = g
            .to_shape(IxDyn(&self.gathered_shape()))
            .map_err(|e| Error::Autograd(format!("index: {e}")))?;
        let mut target = vec![0usize; input_shape.len()];
        for (position, &value) in g.indexed_iter() {
            for (axis, slot) in target.iter_mut().enumerate() {
                *slot = self.positions[axis][position[axis]];
            }
            out[IxDyn(&target)] += value;
        }
        Ok(out)
    }
}

fn resolve_position(index: isize, len: usize, axis: usize) -> Result<usize> {
    let resolved = if index < 0 {
        index + len as isize
    } else {
        index
    };
    if resolved < 0 || resolved >= len as isize {
        return Err(Error::Index(format!(
            "index {index} is out of bounds for axis {axis} with size {len}"
        )));
    }
    Ok(resolved as usize)
}

/// The positions of `start:stop:step` on an axis of `len`, with Python's clamping rules.
fn slice_positions(
    start: Option<isize>,
    stop: Option<isize>,
    step: isize,
    len: usize,
) -> Result<Vec<usize>> {
    if step == 0 {
        return Err(Error::value("index: slice step cannot be zero"));
    }
    let len = len as isize;
    let (lower, upper) = if step > 0 { (0, len) } else { (-1, len - 1) };
    let clamp = |bound: Option<isize>, default: isize| match bound {
        None => default,
        Some(b) if b < 0 => (b + len).max(lower),
        Some(b) => b.min(upper),
    };
    let start = clamp(start, if step > 0 { lower } else { upper });
    let stop = clamp(stop, if step > 0 { upper } else { lower });
    let mut taken = Vec::new();
    let mut i = start;
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        taken.push(i as usize);
        // A step as large as `isize::MAX` (`x[1::sys.maxsize]`) would wrap around to a
        // position outside the axis; running past the end of the axis ends the slice.
        match i.checked_add(step) {
            Some(next) => i = next,
            None => break,
        }
    }
    Ok(taken)
}

pub fn index(input: &Tensor, items: &[IndexItem]) -> Result<Tensor> {
    let (input, items) = &merge_masked_axes(input, items)?;
    let selection = Selection::resolve(input.shape(), items)?;
    let data = input.data();
    let out = try_map_storage!(&*data, a => selection.gather(a));
    let input_shape = input.shape().to_vec();
    let out = record(out, &[input], |_| IndexBackward {
        selection,
        input_shape,
    });
    match advanced_axis_moved_first(input.shape(), items)? {
        Some(axis) if axis > 0 => {
            let mut order: Vec<isize> = (0..out.ndim() as isize).collect();
            order.remove(axis);
            order.insert(0, axis as isize);
            out.transpose(Some(&order))
        }
        _ => Ok(out),
    }
}

/// numpy's rule for where the axis of an integer array or mask goes: where the array was when
/// it and any integers in the index sit next to each other (`x[:, 0, idx]`), else first, since
/// "where it was" is then ambiguous (`x[0, :, idx]`). Returns the output axis the gather left
/// it at when it must move first.
fn advanced_axis_moved_first(shape: &[usize], items: &[IndexItem]) -> Result<Option<usize>> {
    let Some(advanced) = items.iter().position(IndexItem::is_advanced) else {
        return Ok(None);
    };
    let involved: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].is_advanced() || matches!(items[i], IndexItem::Int(_)))
        .collect();
    if involved.windows(2).all(|pair| pair[1] == pair[0] + 1) {
        return Ok(None);
    }
    let ellipsis_axes = check_items(shape, items)?;
    let axis = items[..advanced]
        .iter()
        .map(|item| match item {
            IndexItem::Int(_) => 0,
            IndexItem::Ellipsis => ellipsis_axes,
            _ => 1,
        })
        .sum();
    Ok(Some(axis))
}

struct IndexBackward {
    selection: Selection,
    input_shape: Vec<usize>,
}

impl Backward for IndexBackward {
    fn name(&self) -> &'static str {
        "index"
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        let g = try_map_storage!(grad, g => self.selection.scatter_add(g, &self.input_shape));
        grads.add(0, g)
    }
}

impl Tensor {
    pub fn index(&self, items: &[IndexItem]) -> Result<Tensor> {
        index(self, items)
    }

    /// Rows `indices` along the first axis (`x[idx]` with an integer array).
    pub fn gather_rows(&self, indices: &[isize]) -> Result<Tensor> {
        index(self, &[IndexItem::Array(indices.to_vec())])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    fn slice(start: Option<isize>, stop: Option<isize>, step: Option<isize>) -> IndexItem {
        IndexItem::Slice { start, stop, step }
    }

    #[test]
    fn slices_follow_python() {
        assert_eq!(slice_positions(Some(1), Some(3), 1, 5).unwrap(), vec![1, 2]);
        assert_eq!(
            slice_positions(None, None, -1, 4).unwrap(),
            vec![3, 2, 1, 0]
        );
        assert_eq!(slice_positions(Some(-2), None, 1, 4).unwrap(), vec![2, 3]);
        assert_eq!(
            slice_positions(Some(10), None, 1, 4).unwrap(),
            Vec::<usize>::new()
        );
        assert_eq!(
            slice_positions(Some(5), Some(1), -2, 6).unwrap(),
            vec![5, 3]
        );
        assert!(slice_positions(None, None, 0, 4).is_err());
    }

    #[test]
    fn huge_steps_take_one_element_instead_of_overflowing() {
        assert_eq!(
            slice_positions(Some(1), None, isize::MAX, 5).unwrap(),
            vec![1]
        );
        assert_eq!(
            slice_positions(Some(3), None, isize::MIN, 5).unwrap(),
            vec![3]
        );
        assert_eq!(
            slice_positions(None, None, isize::MIN + 1, 5).unwrap(),
            vec![4]
        );
    }

    #[test]
    fn shapes_follow_numpy() {
        let x = randn(&[4, 5, 6], 1);
        let shape = |items: &[IndexItem]| x.index(items).unwrap().shape().to_vec();
        assert_eq!(shape(&[IndexItem::Int(1)]), vec![5, 6]);
        assert_eq!(shape(&[slice(Some(1), Some(3), None)]), vec![2, 5, 6]);
        assert_eq!(shape(&[IndexItem::Ellipsis, IndexItem::Int(0)]), vec![4, 5]);
        assert_eq!(
            shape(&[IndexItem::NewAxis, IndexItem::Int(-1)]),
            vec![1, 5, 6]
        );
        assert_eq!(shape(&[IndexItem::Array(vec![0, 0, 3])]), vec![3, 5, 6]);
        assert!(x.index(&[IndexItem::Int(4)]).is_err());
        assert!(x.index(&vec![IndexItem::Int(0); 4]).is_err());
    }

    #[test]
    fn gradients_match_finite_differences() {
        let cases = vec![
            vec![IndexItem::Int(1)],
            vec![slice(None, None, Some(-2)), IndexItem::Int(-1)],
            vec![IndexItem::Ellipsis, slice(Some(1), Some(3), None)],
            vec![IndexItem::Array(vec![2, 0, 2, -1])],
        ];
        for items in cases {
            check_gradients(&[randn(&[3, 4], 2)], |t| t[0].index(&items).unwrap());
        }
    }

    fn mask(shape: &[usize], values: &[u8]) -> IndexItem {
        IndexItem::Mask {
            shape: shape.to_vec(),
            values: values.iter().map(|&v| v != 0).collect(),
        }
    }

    #[test]
    fn masks_select_like_numpy() {
        let x = Tensor::from_array(
            ndarray::Array::range(0.0f64, 24.0, 1.0)
                .into_shape_with_order(vec![2, 3, 4])
                .unwrap()
                .into_dyn(),
            false,
        );
        let take = |items: &[IndexItem]| {
            let y = x.index(items).unwrap();
            (y.shape().to_vec(), y.to_f64_vec())
        };
        // x[[True, False]] and x[:, [False, True, True]]
        assert_eq!(take(&[mask(&[2], &[1, 0])]).0, vec![1, 3, 4]);
        let (shape, values) = take(&[
            slice(None, None, None),
            mask(&[3], &[0, 1, 1]),
            IndexItem::Int(0),
        ]);
        assert_eq!((shape, values), (vec![2, 2], vec![4.0, 8.0, 16.0, 20.0]));
        // A mask over the two leading axes, and one over the trailing two after an ellipsis.
        let (shape, values) = take(&[mask(&[2, 3], &[1, 0, 0, 0, 0, 1])]);
        assert_eq!(shape, vec![2, 4]);
        assert_eq!(values, vec![0.0, 1.0, 2.0, 3.0, 20.0, 21.0, 22.0, 23.0]);
        let trailing = [0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0];
        let (shape, values) = take(&[IndexItem::Ellipsis, mask(&[3, 4], &trailing)]);
        assert_eq!((shape, values), (vec![2, 2], vec![3.0, 8.0, 15.0, 20.0]));
        // The whole tensor: x[x > 20].
        let mut all = vec![0; 24];
        all[21..].fill(1);
        assert_eq!(take(&[mask(&[2, 3, 4], &all)]).1, vec![21.0, 22.0, 23.0]);
    }

    #[test]
    fn an_array_apart_from_the_integers_puts_its_axis_first_like_numpy() {
        let x = randn(&[6, 3, 4, 5], 1);
        let shape = |items: &[IndexItem]| x.index(items).unwrap().shape().to_vec();
        let all = || slice(None, None, None);
        let rows = || IndexItem::Array(vec![0, 2, 1]);
        // Next to each other: the array's axis stays where it was.
        assert_eq!(shape(&[all(), IndexItem::Int(0), rows()]), vec![6, 3, 5]);
        assert_eq!(shape(&[IndexItem::Int(0), rows()]), vec![3, 4, 5]);
        assert_eq!(shape(&[all(), rows()]), vec![6, 3, 4, 5]);
        // Apart (a slice, a new axis or an ellipsis, even an empty one, between): first.
        assert_eq!(shape(&[IndexItem::Int(0), all(), rows()]), vec![3, 3, 5]);
        assert_eq!(
            shape(&[all(), IndexItem::Int(0), all(), rows()]),
            vec![3, 6, 4]
        );
        assert_eq!(
            shape(&[all(), IndexItem::Int(0), IndexItem::Ellipsis, rows(), all()]),
            vec![3, 6, 5]
        );
        assert_eq!(
            shape(&[IndexItem::Int(0), IndexItem::NewAxis, rows()]),
            vec![3, 1, 4, 5]
        );
        assert_eq!(
            shape(&[all(), mask(&[3], &[1, 0, 1]), IndexItem::Int(0)]),
            vec![6, 2, 5]
        );
        assert_eq!(
            shape(&[all(), mask(&[3], &[1, 0, 1]), all(), IndexItem::Int(-1)]),
            vec![2, 6, 4]
        );
        let picked = x
            .index(&[IndexItem::Int(2), all(), IndexItem::Array(vec![3])])
            .unwrap();
        let expected = x
            .index(&[IndexItem::Int(2), all(), IndexItem::Int(3)])
            .unwrap();
        assert_eq!(picked.shape(), &[1, 3, 5]);
        assert_eq!(picked.to_f64_vec(), expected.to_f64_vec());
        check_gradients(&[randn(&[2, 3, 4], 2)], |t| {
            t[0].index(&[IndexItem::Int(1), all(), IndexItem::Array(vec![0, 3, 3])])
                .unwrap()
        });
    }

    #[test]
    fn masks_that_do_not_fit_are_index_errors() {
        let x = randn(&[2, 3], 1);
        for items in [
            vec![mask(&[3], &[1, 0, 1])],
            vec![mask(&[1], &[1])],
            vec![mask(&[3, 2], &[1; 6])],
            vec![mask(&[2, 3, 1], &[1; 6])],
            vec![IndexItem::Int(0), mask(&[2], &[1, 1])],
        ] {
            let error = x.index(&items).unwrap_err();
            assert!(matches!(error, Error::Index(_)), "{items:?}: {error}");
        }
        let two = [mask(&[2], &[1, 0]), IndexItem::Array(vec![0])];
        assert!(x.index(&two).is_err());
    }

    #[test]
    fn mask_gradients_match_finite_differences() {
        let cases = vec![
            vec![mask(&[3], &[1, 0, 1])],
            vec![slice(None, None, None), mask(&[4], &[0, 1, 1, 1])],
            vec![mask(&[3, 4], &[1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1])],
        ];
        for items in cases {
            check_gradients(&[randn(&[3, 4], 3)], |t| t[0].index(&items).unwrap());
        }
    }
}
