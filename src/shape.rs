//! Shape arithmetic in one place: negative axes, broadcasting and reduction axes.

use crate::error::{Error, Result};

/// Resolves a possibly negative axis against `rank` (numpy's convention).
pub fn normalize_axis(op: &'static str, axis: isize, rank: usize) -> Result<usize> {
    let resolved = if axis < 0 { axis + rank as isize } else { axis };
    if resolved < 0 || resolved >= rank as isize {
        return Err(Error::AxisOutOfRange { op, axis, rank });
    }
    Ok(resolved as usize)
}

/// Resolves a list of axes (or all of them when `None`), rejecting repeats; sorted ascending.
pub fn normalize_axes(op: &'static str, axes: Option<&[isize]>, rank: usize) -> Result<Vec<usize>> {
    let Some(axes) = axes else {
        return Ok((0..rank).collect());
    };
    let mut resolved = axes
        .iter()
        .map(|&a| normalize_axis(op, a, rank))
        .collect::<Result<Vec<_>>>()?;
    resolved.sort_unstable();
    if resolved.windows(2).any(|w| w[0] == w[1]) {
        return Err(Error::value(format!("{op}: repeated axis in {axes:?}")));
    }
    Ok(resolved)
}

/// The shape two operands broadcast to under numpy's rules.
pub fn broadcast_shapes(op: &'static str, lhs: &[usize], rhs: &[usize]) -> Result<Vec<usize>> {
    let rank = lhs.len().max(rhs.len());
    let mut out = vec![0; rank];
    for (i, dim) in out.iter_mut().enumerate() {
        let l = dim_from_end(lhs, rank - 1 - i);
        let r = dim_from_end(rhs, rank - 1 - i);
        *dim = match (l, r) {
            (a, b) if a == b => a,
            (1, b) => b,
            (a, 1) => a,
            _ => {
                return Err(Error::ShapeMismatch {
                    op,
                    lhs: lhs.to_vec(),
                    rhs: rhs.to_vec(),
                    reason: "cannot be broadcast together",
                });
            }
        };
    }
    Ok(out)
}

/// The size of the dimension `from_end` places from the last one, treating missing leading
/// dimensions as 1.
fn dim_from_end(shape: &[usize], from_end: usize) -> usize {
    if from_end < shape.len() {
        shape[shape.len() - 1 - from_end]
    } else {
        1
    }
}

/// The axes of `broadcast` along which a tensor of `shape` was expanded (to be summed when
/// a gradient flows back), given that `shape` broadcasts to `broadcast`.
pub fn broadcast_reduction_axes(shape: &[usize], broadcast: &[usize]) -> Vec<usize> {
    let offset = broadcast.len() - shape.len();
    (0..broadcast.len())
        .filter(|&i| i < offset || (shape[i - offset] == 1 && broadcast[i] != 1))
        .collect()
}

/// The shape after reducing `axes`, keeping them as 1 or dropping them.
pub fn reduced_shape(shape: &[usize], axes: &[usize], keepdims: bool) -> Vec<usize> {
    shape
        .iter()
        .enumerate()
        .filter_map(|(i, &d)| match (axes.contains(&i), keepdims) {
            (false, _) => Some(d),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect()
}

/// Resolves a reshape target that may hold one `-1`.
pub fn resolve_reshape(from: &[usize], to: &[isize]) -> Result<Vec<usize>> {
    let numel: usize = from.iter().product();
    let mut inferred = None;
    let mut known = 1usize;
    for (i, &d) in to.iter().enumerate() {
        match d {
            -1 if inferred.is_none() => inferred = Some(i),
            d if d >= 0 => {
                known = known
                    .checked_mul(d as usize)
                    .ok_or_else(|| Error::value(format!("reshape: the shape {to:?} overflows")))?
            }
            _ => {
                return Err(Error::value(format!(
                    "reshape: invalid target shape {to:?} (at most one -1, no other negatives)"
                )));
            }
        }
    }
    let mut out: Vec<usize> = to.iter().map(|&d| d.max(0) as usize).collect();
    if let Some(i) = inferred {
        if known == 0 || !numel.is_multiple_of(known) {
            return Err(Error::shape(
                "reshape",
                format!("cannot reshape a tensor of shape {from:?} into {to:?}"),
            ));
        }
        out[i] = numel / known;
    } else if known != numel {
        return Err(Error::shape(
            "reshape",
            format!(
                "cannot reshape a tensor of shape {from:?} ({numel} elements) into {to:?} ({known} elements)"
            ),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast_shapes("t", &[3, 1], &[4]).unwrap(), vec![3, 4]);
        assert_eq!(broadcast_shapes("t", &[], &[2, 3]).unwrap(), vec![2, 3]);
        assert_eq!(
            broadcast_shapes("t", &[5, 1, 3], &[4, 1]).unwrap(),
            vec![5, 4, 3]
        );
        assert!(broadcast_shapes("t", &[3], &[4]).is_err());
    }

    #[test]
    fn reduction_axes_cover_expanded_dimensions() {
        assert_eq!(broadcast_reduction_axes(&[3, 1], &[2, 3, 4]), vec![0, 2]);
        assert_eq!(broadcast_reduction_axes(&[4], &[3, 4]), vec![0]);
        assert!(broadcast_reduction_axes(&[3, 4], &[3, 4]).is_empty());
    }

    #[test]
    fn negative_axes_resolve() {
        assert_eq!(normalize_axis("t", -1, 3).unwrap(), 2);
        assert!(normalize_axis("t", 3, 3).is_err());
        assert!(normalize_axis("t", -4, 3).is_err());
        assert!(normalize_axes("t", Some(&[0, -3]), 3).is_err());
    }

    #[test]
    fn reshape_infers_one_dimension() {
        assert_eq!(resolve_reshape(&[2, 6], &[3, -1]).unwrap(), vec![3, 4]);
        assert!(resolve_reshape(&[2, 6], &[5, -1]).is_err());
        assert!(resolve_reshape(&[2, 6], &[-1, -1]).is_err());
        assert!(resolve_reshape(&[2, 6], &[4, 4]).is_err());
    }
}
