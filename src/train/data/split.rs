//! From decoded arrays to checked splits: the sample and label checks, the 20% hold-out rule for
//! data given as one `x, y` pair, and the final agreement of train and test (both non-empty,
//! same sample shape) that fixes the class count.

use super::{DataError, Dataset, Split};
use crate::tensor::Tensor;

/// Labels must be below this.
pub(super) const MAX_LABELS: u32 = 1 << 16;

/// One split as read, with the file (or member) its samples come from.
#[derive(Debug)]
pub(super) struct Part {
    /// The sample file or member, for messages.
    pub at: String,
    /// Per-sample dimensions.
    pub sample_shape: Vec<usize>,
    /// The samples and labels.
    pub split: Split,
}

/// Checks a label value read as binary32: an integer in `0..MAX_LABELS`.
pub(super) fn label(at: &str, index: usize, v: f32) -> Result<u32, DataError> {
    let problem = if !v.is_finite() || v.fract() != 0.0 {
        "is not an integer"
    } else if v < 0.0 {
        "is negative"
    } else if v >= MAX_LABELS as f32 {
        "is out of range: labels must be below 65536"
    } else {
        return Ok(v as u32);
    };
    Err(DataError::BadLabel { at: at.to_string(), index, value: v.to_string(), problem })
}

/// Builds a split from a sample array `[n, ...]` and a label array `[n]` or `[n, 1]`.
pub(super) fn from_arrays(at_x: &str, x: Tensor, at_y: &str, y: Tensor) -> Result<Part, DataError> {
    let invalid = |at: &str, problem: String| DataError::Invalid { at: at.to_string(), problem };
    let Some((&n, sample_shape)) = x.shape.split_first().filter(|(_, rest)| !rest.is_empty()) else {
        let problem = format!("samples must be an array [samples, ...] of rank 2 or more, found shape {:?}", x.shape);
        return Err(invalid(at_x, problem));
    };
    let labels = match y.shape.as_slice() {
        &[m] | &[m, 1] => m,
        other => {
            return Err(invalid(at_y, format!("labels must have shape [samples] or [samples, 1], found {other:?}")))
        }
    };
    if labels != n {
        return Err(DataError::LengthMismatch { at: at_y.to_string(), labels, at_x: at_x.to_string(), samples: n });
    }
    let sample_len = x.data.len() / n;
    if let Some((element, &value)) = x.data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(DataError::NonFinite { at: at_x.to_string(), element, sample: element / sample_len, value });
    }
    let y = y.data.iter().enumerate().map(|(i, &v)| label(at_y, i, v)).collect::<Result<Vec<u32>, _>>()?;
    Ok(Part { at: at_x.to_string(), sample_shape: sample_shape.to_vec(), split: Split { x: x.data, y, n } })
}

/// Splits one set of samples: the last `n / 5` are the test split, the rest the train split.
pub(super) fn hold_out(mut whole: Part) -> Result<(Part, Part), DataError> {
    let n = whole.split.n;
    let n_test = n / 5;
    if n_test == 0 {
        let detail = format!(": it is the last 20% (rounded down) of the samples, and there are only {n}");
        return Err(DataError::EmptySplit { at: whole.at, split: "test", detail });
    }
    let n_train = n - n_test;
    let sample_len = whole.split.x.len() / n;
    let test =
        Split { x: whole.split.x.split_off(n_train * sample_len), y: whole.split.y.split_off(n_train), n: n_test };
    whole.split.n = n_train;
    let test = Part { at: whole.at.clone(), sample_shape: whole.sample_shape.clone(), split: test };
    Ok((whole, test))
}

/// Checks that both splits hold samples of one shape and counts the classes.
pub(super) fn finish(name: String, train: Part, test: Part) -> Result<Dataset, DataError> {
    for (part, split) in [(&train, "train"), (&test, "test")] {
        if part.split.n == 0 {
            return Err(DataError::EmptySplit { at: part.at.clone(), split, detail: String::new() });
        }
    }
    if train.sample_shape != test.sample_shape {
        return Err(DataError::ShapeMismatch {
            at: test.at,
            test: test.sample_shape,
            at_train: train.at,
            train: train.sample_shape,
        });
    }
    let max_label = train.split.y.iter().chain(&test.split.y).copied().max().unwrap_or(0);
    Ok(Dataset {
        name,
        sample_shape: train.sample_shape,
        classes: max_label as usize + 1,
        train: train.split,
        test: test.split,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(n: usize, len: usize) -> Part {
        let x = (0..n * len).map(|v| v as f32).collect();
        let y = (0..n as u32).collect();
        Part { at: "f".into(), sample_shape: vec![len], split: Split { x, y, n } }
    }

    #[test]
    fn labels_must_be_small_non_negative_integers() {
        assert_eq!(label("y", 0, 65535.0).expect("ok"), 65535);
        assert_eq!(label("y", 0, -0.0).expect("ok"), 0);
        let msg = |v: f32| label("y.npy", 3, v).expect_err("bad").to_string();
        assert_eq!(msg(-1.0), "y.npy: label -1 at sample 3 is negative");
        assert_eq!(msg(0.5), "y.npy: label 0.5 at sample 3 is not an integer");
        assert_eq!(msg(f32::NAN), "y.npy: label NaN at sample 3 is not an integer");
        assert_eq!(msg(65536.0), "y.npy: label 65536 at sample 3 is out of range: labels must be below 65536");
    }

    #[test]
    fn hold_out_keeps_the_last_fifth_rounded_down_for_test() {
        let (train, test) = hold_out(part(14, 2)).expect("split");
        assert_eq!((train.split.n, test.split.n), (12, 2));
        assert_eq!(train.split.y, (0..12).collect::<Vec<_>>());
        assert_eq!(test.split.y, [12, 13]);
        assert_eq!(test.split.x, [24.0, 25.0, 26.0, 27.0]);
        assert_eq!(train.split.x.len(), 24);
        let e = hold_out(part(4, 1)).expect_err("too few").to_string();
        assert!(e.starts_with("f: the test split is empty: it is the last 20%"), "{e}");
    }

    #[test]
    fn finish_counts_classes_from_both_splits() {
        let (train, mut test) = (part(3, 2), part(2, 2));
        test.split.y = vec![0, 9];
        let d = finish("d".into(), train, test).expect("ok");
        assert_eq!((d.classes, d.sample_len()), (10, 2));
    }
}
