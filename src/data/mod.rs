//! Data on disk and in memory: the IDX reader (MNIST and its kin).

pub mod idx;
