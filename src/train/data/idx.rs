//! MNIST IDX files: a big-endian magic number `0x000008NN` (`08`: unsigned bytes, `NN`: the
//! number of dimensions), `NN` big-endian u32 dimensions, then exactly the bytes they describe.
//! Images are `0x00000803` `[n, rows, cols]`, labels `0x00000801` `[n]`; pixels are divided by
//! 255. Each file may be gzip-compressed (`name.gz`); the plain file is preferred.

use super::limits::Budget;
use super::split::Part;
use super::{DataError, Split};
use std::path::{Path, PathBuf};

/// The four files, in the order train images, train labels, test images, test labels.
pub(super) const NAMES: [&str; 4] =
    ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];
const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;

/// `dir/name`, else `dir/name.gz`, when it is a file.
fn locate(dir: &Path, name: &str) -> Option<PathBuf> {
    [dir.join(name), dir.join(format!("{name}.gz"))].into_iter().find(|p| p.is_file())
}

/// Reads the IDX files of a folder.
pub(super) fn load_idx_folder(dir: &Path, budget: &mut Budget) -> Result<(Part, Part), DataError> {
    let paths = NAMES.map(|n| locate(dir, n));
    let missing: Vec<&str> = NAMES.iter().zip(&paths).filter(|(_, p)| p.is_none()).map(|(n, _)| *n).collect();
    let [Some(train_x), Some(train_y), Some(test_x), Some(test_y)] = paths else {
        return Err(DataError::Missing {
            at: dir.display().to_string(),
            missing: format!("{} (plain or .gz)", missing.join(", ")),
            looked_for: format!("{}, each plain or .gz", NAMES.join(", ")),
        });
    };
    Ok((read_split(&train_x, &train_y, budget)?, read_split(&test_x, &test_y, budget)?))
}

/// Reads one images file and its labels file.
fn read_split(images: &Path, labels: &Path, budget: &mut Budget) -> Result<Part, DataError> {
    let (at_x, at_y) = (images.display().to_string(), labels.display().to_string());
    let (dims, pixels) = read_idx(images, IMAGES_MAGIC, "IDX images: unsigned bytes, 3 dimensions", budget)?;
    let &[n, rows, cols] = dims.as_slice() else {
        return Err(DataError::Invalid { at: at_x, problem: format!("expected 3 dimensions, found {dims:?}") });
    };
    if n > 0 && (rows == 0 || cols == 0) {
        return Err(DataError::Invalid { at: at_x, problem: format!("images of {rows} x {cols} pixels hold nothing") });
    }
    let (label_dims, y) = read_idx(labels, LABELS_MAGIC, "IDX labels: unsigned bytes, 1 dimension", budget)?;
    if label_dims != [n] {
        let labels = label_dims.first().copied().unwrap_or(0);
        return Err(DataError::LengthMismatch { at: at_y, labels, at_x, samples: n });
    }
    budget.charge(&at_x, 4 * pixels.len() as u64)?;
    let x = pixels.iter().map(|&p| f32::from(p) / 255.0).collect();
    let y = y.iter().map(|&l| u32::from(l)).collect();
    Ok(Part { at: at_x, sample_shape: vec![rows, cols], split: Split { x, y, n } })
}

/// Reads an IDX file of unsigned bytes whose magic number must be `magic` (`what` says what that
/// stands for); returns its dimensions and data bytes.
fn read_idx(
    path: &Path,
    magic: u32,
    what: &'static str,
    budget: &mut Budget,
) -> Result<(Vec<usize>, Vec<u8>), DataError> {
    let at = path.display().to_string();
    let gz = path.extension().is_some_and(|e| e == "gz");
    let mut bytes = if gz { budget.read_gz_file(path)? } else { budget.read_file(path)? };
    let present = bytes.len() as u64;
    let truncated = |what: String, expected: u64| DataError::Truncated { at: at.clone(), what, expected, present };
    let word = |k: usize| bytes.get(4 * k..4 * k + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let found = word(0).ok_or_else(|| truncated("the magic number".into(), 4))?;
    if found != magic {
        return Err(DataError::BadMagic { at, found, expected: magic, what });
    }
    let rank = (magic & 0xff) as usize;
    let dims: Option<Vec<usize>> = (1..=rank).map(|k| word(k).map(|d| d as usize)).collect();
    let header = 4 + 4 * rank as u64;
    let dims = dims.ok_or_else(|| truncated(format!("the header of {rank} dimensions"), header))?;
    let count = dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d as u64));
    let expected = count.and_then(|c| c.checked_add(header)).unwrap_or(u64::MAX);
    let what = format!("data of shape {dims:?}");
    if present < expected {
        return Err(truncated(what, expected));
    } else if present > expected {
        return Err(DataError::Trailing { at, what, expected, present });
    }
    Ok((dims, bytes.split_off(header as usize)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::data::Limits;

    #[test]
    fn header_checks_name_the_file_and_the_sizes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("f");
        let mut budget = Budget::new(&Limits::default());
        let mut read = |bytes: &[u8]| {
            std::fs::write(&path, bytes).expect("write");
            read_idx(&path, LABELS_MAGIC, "labels", &mut budget).map_err(|e| e.to_string())
        };
        assert_eq!(read(&[0, 0, 8, 1, 0, 0, 0, 2, 7, 9]), Ok((vec![2], vec![7, 9])));
        let p = path.display();
        assert_eq!(read(&[0, 0, 8]), Err(format!("{p}: truncated: the magic number needs 4 bytes, has 3")));
        let e = read(&[0, 0, 8, 3, 0, 0, 0, 2]).expect_err("magic");
        assert_eq!(e, format!("{p}: wrong magic number 0x00000803, expected 0x00000801 (labels)"));
        let e = read(&[0, 0, 8, 1, 0, 0]).expect_err("header");
        assert_eq!(e, format!("{p}: truncated: the header of 1 dimensions needs 8 bytes, has 6"));
        let e = read(&[0, 0, 8, 1, 0, 0, 0, 3, 7, 9]).expect_err("data");
        assert_eq!(e, format!("{p}: truncated: data of shape [3] needs 11 bytes, has 10"));
        let e = read(&[0, 0, 8, 1, 0, 0, 0, 1, 7, 9]).expect_err("trailing");
        assert_eq!(e, format!("{p}: trailing bytes: data of shape [1] needs 9 bytes, file has 10"));
        let e = read(&[0, 0, 8, 1, 255, 255, 255, 255]).expect_err("huge");
        assert!(e.contains("truncated: data of shape [4294967295] needs 4294967303 bytes, has 8"), "{e}");
    }
}
