//! CIFAR-10 binary batches (Krizhevsky 2009, "binary version"): records of 1 label byte (0..=9)
//! and 3072 pixel bytes (3 x 32 x 32, channel-major: the red plane, then green, then blue), no
//! header. Training data is every `data_batch_K.bin` present (K = 1..5, at least one), in K
//! order; test data is `test_batch.bin`. Pixels are divided by 255.

use super::limits::Budget;
use super::split::Part;
use super::{DataError, Split};
use std::path::{Path, PathBuf};

/// Every file name of the format; the last is the test batch.
pub(super) const NAMES: [&str; 6] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
    "test_batch.bin",
];
/// Pixel bytes per record.
const PIXELS: usize = 3 * 32 * 32;
/// Bytes per record.
const RECORD: usize = 1 + PIXELS;
/// CIFAR-10 classes.
const CLASSES: u8 = 10;

/// Reads the batches of a folder.
pub(super) fn load_cifar_folder(dir: &Path, budget: &mut Budget) -> Result<(Part, Part), DataError> {
    let (train_names, test_name) = NAMES.split_at(5);
    let train: Vec<PathBuf> = train_names.iter().map(|n| dir.join(n)).filter(|p| p.is_file()).collect();
    let test = dir.join(test_name[0]);
    let mut missing = Vec::new();
    if train.is_empty() {
        missing.push("data_batch_1.bin .. data_batch_5.bin (at least one)");
    }
    if !test.is_file() {
        missing.push("test_batch.bin");
    }
    if !missing.is_empty() {
        return Err(DataError::Missing {
            at: dir.display().to_string(),
            missing: missing.join(" and "),
            looked_for: NAMES.join(", "),
        });
    }
    Ok((read_batches(&train, budget)?, read_batches(&[test], budget)?))
}

/// Reads and concatenates batch files; the part is named after the first.
fn read_batches(paths: &[PathBuf], budget: &mut Budget) -> Result<Part, DataError> {
    let at_first = paths.first().map(|p| p.display().to_string()).unwrap_or_default();
    let mut split = Split { x: Vec::new(), y: Vec::new(), n: 0 };
    for path in paths {
        let at = path.display().to_string();
        let bytes = budget.read_file(path)?;
        if bytes.len() % RECORD != 0 {
            let (present, records) = (bytes.len() as u64, bytes.len() / RECORD);
            let what = format!("record {} of {RECORD} bytes", records + 1);
            let expected = (records as u64 + 1) * RECORD as u64;
            return Err(DataError::Truncated { at, what, expected, present });
        }
        budget.charge(&at, 4 * (bytes.len() / RECORD * PIXELS) as u64)?;
        for (index, record) in bytes.chunks_exact(RECORD).enumerate() {
            let (&label, pixels) = record.split_first().unwrap_or((&0, &[]));
            if label >= CLASSES {
                let problem = "is out of range: CIFAR-10 labels are 0..=9";
                return Err(DataError::BadLabel { at, index, value: label.to_string(), problem });
            }
            split.y.push(u32::from(label));
            split.x.extend(pixels.iter().map(|&p| f32::from(p) / 255.0));
        }
        split.n += bytes.len() / RECORD;
    }
    Ok(Part { at: at_first, sample_shape: vec![3, 32, 32], split })
}
