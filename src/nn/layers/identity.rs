//! `Identity`: returns its input unchanged.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, parse_config, single_input, single_shape,
};
use crate::tensor::Tensor;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfig {}

/// Returns its input (and its mask) unchanged; a placeholder in a model's structure.
pub struct Identity {
    config: IdentityConfig,
}

impl Identity {
    pub fn build(config: IdentityConfig) -> Result<Identity> {
        Ok(Identity { config })
    }
}

impl Layer for Identity {
    fn kind(&self) -> &'static str {
        "Identity"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        Ok(single_shape("Identity", input)?.clone())
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        _mask: Option<&Mask>,
        _ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        Ok(single_input("Identity", inputs)?.clone())
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "Identity",
        build: |config, _input_shapes, _dtype| {
            Ok(Box::new(Identity::build(parse_config("Identity", config)?)?))
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::ops::test_util::{check_gradients, randn};

    #[test]
    fn passes_values_gradients_and_masks_through() {
        let layer = Identity::build(IdentityConfig {}).unwrap();
        let run = |x: &Tensor| {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
            let mut ctx = Context {
                training: true,
                rng: &mut rng,
                packed_kernels: None,
            };
            layer
                .forward(std::slice::from_ref(x), None, &mut ctx)
                .unwrap()
        };
        let x = randn(&[2, 3], 1);
        assert_eq!(run(&x).to_f64_vec(), x.to_f64_vec());
        assert_eq!(
            layer.output_shape(&[vec![None, Some(3)]]).unwrap(),
            vec![None, Some(3)]
        );
        let mask: Mask = std::sync::Arc::new(ndarray::arr2(&[[true, false]]));
        let out = layer
            .compute_mask(std::slice::from_ref(&x), Some(&mask))
            .unwrap();
        assert_eq!(out.as_deref(), Some(&*mask));
        check_gradients(&[x], |t| run(&t[0]));
    }
}
