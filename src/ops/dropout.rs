//! Inverted dropout: zeroes each element with probability `rate` and scales the rest by
//! `1 / (1 - rate)`, so that no rescaling is needed at inference.

use std::sync::Arc;

use rand::Rng;

use crate::autograd::{Backward, GradSink, record};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::storage::Storage;
use crate::tensor::Tensor;
use crate::{map_storage, map_storage2};

pub fn dropout(x: &Tensor, rate: f64, rng: &mut impl Rng) -> Result<Tensor> {
    if !(0.0..1.0).contains(&rate) {
        return Err(Error::value(format!(
            "dropout: rate must be in [0, 1), received {rate}"
        )));
    }
    if rate == 0.0 {
        return Ok(x.clone());
    }
    // Keep an element when a uniform 32-bit draw falls below (1 - rate) * 2^32.
    let keep_below = ((1.0 - rate) * 4_294_967_296.0) as u64;
    let data = x.data();
    let mask = map_storage!(&*data, a => {
        let scale = Element::of(1.0 / (1.0 - rate));
        a.mapv(|_| if u64::from(rng.next_u32()) < keep_below { scale } else { num_traits::Zero::zero() })
    });
    let out = map_storage2!("dropout", &*data, &mask, |a, m| a * m);
    let mask = Arc::new(mask);
    Ok(record(out, &[x], |_| DropoutBackward { mask }))
}

struct DropoutBackward {
    mask: Arc<Storage>,
}

impl Backward for DropoutBackward {
    fn name(&self) -> &'static str {
        "dropout"
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        let g = map_storage2!("dropout", grad, &*self.mask, |g, m| g * m);
        grads.add(0, g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn keeps_about_one_minus_rate_and_preserves_the_mean() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let x = Tensor::full(&[100_000], 1.0, crate::dtype::DType::F64).unwrap();
        let y = dropout(&x, 0.3, &mut rng).unwrap().to_f64_vec();
        let kept = y.iter().filter(|&&v| v != 0.0).count() as f64 / y.len() as f64;
        assert!((kept - 0.7).abs() < 0.01, "{kept}");
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        assert!((mean - 1.0).abs() < 0.02, "{mean}");
        assert!(dropout(&x, 1.0, &mut rng).is_err());
    }

    #[test]
    fn gradient_is_the_mask() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let x = Tensor::full(&[50], 2.0, crate::dtype::DType::F64).unwrap();
        x.set_requires_grad(true).unwrap();
        let y = dropout(&x, 0.5, &mut rng).unwrap();
        y.sum(None, false).unwrap().backward(None, false).unwrap();
        let g = x.grad().unwrap().to_f64_vec();
        for (g, y) in g.iter().zip(y.to_f64_vec()) {
            assert_eq!(*g, y / 2.0);
        }
    }
}
