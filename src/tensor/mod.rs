//! Dense binary32 tensors and their `.npy` file I/O (the simulator's tensor input/output boundary).

pub mod npy;

pub use npy::{decode_npy, encode_npy_f32, read_npy, NpyError, NpyLoad};

/// Default cap on elements accepted from a file: 2^26 (256 MiB of binary32). Reading one at the
/// limit takes that much; quantising it peaks at about 4x (measured 2.0 GB for 2^27 elements),
/// so every command stays near 1 GB.
pub const DEFAULT_MAX_ELEMENTS: usize = 1 << 26;

/// A dense binary32 tensor in row-major (C) order.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Extent of each axis, outermost first.
    pub shape: Vec<usize>,
    /// Elements in row-major order; `data.len()` is the product of `shape`.
    pub data: Vec<f32>,
}

impl Tensor {
    /// Builds a tensor; in debug builds, asserts that the product of `shape` equals `data.len()`.
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Self {
        debug_assert_eq!(
            shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)),
            Some(data.len()),
            "tensor shape {shape:?} does not match {} elements",
            data.len()
        );
        Tensor { shape, data }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the tensor holds no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// `(rows, cols)` for a 2-D tensor, `None` for any other rank.
    pub fn rows_cols(&self) -> Option<(usize, usize)> {
        match self.shape.as_slice() {
            &[rows, cols] => Some((rows, cols)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensor_accessors() {
        let t = Tensor::new(vec![2, 3], vec![0.0; 6]);
        assert_eq!(t.len(), 6);
        assert!(!t.is_empty());
        assert_eq!(t.rows_cols(), Some((2, 3)));
        assert_eq!(Tensor::new(vec![6], vec![0.0; 6]).rows_cols(), None);
        assert_eq!(Tensor::new(vec![1, 2, 3], vec![0.0; 6]).rows_cols(), None);
        assert!(Tensor::new(vec![0, 3], vec![]).is_empty());
    }
}
