//! One file per layer kind, each registering itself (see `nn::registry`). The file is named
//! after the Keras class in snake_case, as is the Python class's file.

mod activation;
mod add;
mod average_pooling1d;
mod average_pooling2d;
mod batch_normalization;
mod bidirectional;
mod concatenate;
mod conv1d;
mod conv2d;
mod dense;
mod dropout;
mod embedding;
mod flatten;
mod global_average_pooling1d;
mod global_average_pooling2d;
mod global_max_pooling1d;
mod global_max_pooling2d;
mod gru;
mod lstm;
mod max_pooling1d;
mod max_pooling2d;
mod merge;
mod rnn;
mod simple_rnn;
mod up_sampling1d;
mod up_sampling2d;

pub use activation::{ActivationConfig, ActivationLayer};
pub use add::Add;
pub use batch_normalization::{BatchNormalization, BatchNormalizationConfig};
pub use bidirectional::{Bidirectional, BidirectionalConfig, WrappedLayer};
pub use concatenate::{Concatenate, ConcatenateConfig};
pub use conv2d::{Conv, Conv2D, Conv2DConfig, ConvConfig};
pub use dense::{Dense, DenseConfig};
pub use dropout::{Dropout, DropoutConfig};
pub use embedding::{Embedding, EmbeddingConfig};
pub use flatten::{Flatten, FlattenConfig};
pub use global_average_pooling1d::{GlobalAveragePooling1D, GlobalAveragePooling1DConfig};
pub use rnn::{Recurrent, RecurrentConfig};
