//! Loss functions, each a fused and numerically stable autograd op.
