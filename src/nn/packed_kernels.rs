//! `PackedKernels`: Dense kernels packed for the GEMM once for many batches of `predict`.

use std::collections::HashMap;
use std::sync::Arc;

use crate::kernels::gemm::MatRef;
use crate::kernels::packed::Panels;
use crate::storage::Storage;
use crate::tensor::Tensor;

/// Dense kernels packed once for many batches. An entry keeps the kernel's data `Arc` it was
/// packed from; because the entry shares that `Arc`, any write to the kernel makes a new one
/// (copy on write, or a new value), so an entry is current exactly while its `Arc` is still
/// the kernel's.
#[derive(Clone, Default)]
pub struct PackedKernels {
    entries: HashMap<u64, (Arc<Storage>, Option<Arc<Panels>>)>,
}

impl PackedKernels {
    /// The packing of `kernel`'s current value (packed now if it changed or is new), or `None`
    /// where no packed kernel runs for its dtype.
    pub fn get(&mut self, kernel: &Tensor) -> Option<Arc<Panels>> {
        let data = kernel.data();
        if let Some((source, panels)) = self.entries.get(&kernel.id())
            && Arc::ptr_eq(source, &data)
        {
            return panels.clone();
        }
        let panels = match (&*data, kernel.shape()) {
            (Storage::F32(array), &[rows, cols]) => array
                .as_slice()
                .and_then(|values| Panels::pack(MatRef::row_major(values, rows, cols)))
                .map(Arc::new),
            _ => None,
        };
        self.entries.insert(kernel.id(), (data, panels.clone()));
        panels
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;
    use crate::kernels::gemm::MatMut;
    use crate::kernels::packed::gemm_with_panels;

    fn product_with(panels: Option<&Panels>, kernel: &Tensor) -> Vec<f32> {
        let x = [1.0f32, 2.0, -1.0];
        let data = kernel.data();
        let w = data.typed::<f32>().unwrap().as_slice().unwrap().to_vec();
        let mut out = vec![0.0f32; 2];
        gemm_with_panels(
            MatRef::row_major(&x, 1, 3),
            MatRef::row_major(&w, 3, 2),
            panels,
            0.0,
            MatMut::row_major(&mut out, 1, 2),
        );
        out
    }

    #[test]
    fn packed_kernels_follow_every_write_to_the_kernel() {
        let kernel = Tensor::new(
            Storage::F32(
                ndarray::ArrayD::from_shape_vec(vec![3, 2], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
                    .unwrap()
                    .into(),
            ),
            true,
        );
        let mut cache = PackedKernels::default();
        let first = cache.get(&kernel);
        let again = cache.get(&kernel);
        // Where no packed kernel runs (not x86-64 with AVX and FMA) both are None.
        assert_eq!(first.is_some(), again.is_some());
        if let (Some(first), Some(again)) = (&first, &again) {
            assert!(
                Arc::ptr_eq(first, again),
                "an unchanged kernel is packed once"
            );
        }
        assert_eq!(product_with(again.as_deref(), &kernel), vec![2.0, 4.0]);

        // In place (as an optimizer writes), then a new value (as set_weights does).
        kernel.with_data_mut(|data| data.fill(1.0));
        let after_fill = cache.get(&kernel);
        assert_eq!(product_with(after_fill.as_deref(), &kernel), vec![2.0, 2.0]);
        kernel
            .set_data(Storage::full(DType::F32, &[3, 2], 0.5).unwrap())
            .unwrap();
        let after_set = cache.get(&kernel);
        assert_eq!(product_with(after_set.as_deref(), &kernel), vec![1.0, 1.0]);
    }
}
