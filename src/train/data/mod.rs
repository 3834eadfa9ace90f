//! Training data sets: the two embedded in the binary (`digits`, `mnist1d`; what they hold and
//! where they come from: `traces/data/README.md`) and the files a user names, loaded into
//! binary32 samples with integer labels, or refused with a one-line error that starts with the
//! file it concerns. This module owns the formats, their checks and the train/test split rule.
//!
//! A [`DataSpec::Path`] is one of:
//! - a `.npz` archive (any zip archive) holding the arrays `x_train, y_train, x_test, y_test`,
//!   or `x, y`;
//! - a folder holding `x_train.npy, y_train.npy, x_test.npy, y_test.npy`, or `x.npy, y.npy`;
//! - a folder holding the MNIST IDX files `train-images-idx3-ubyte, train-labels-idx1-ubyte,
//!   t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte`, each plain or `.gz` (plain preferred);
//!   pixels / 255, sample shape `[rows, cols]` from the header;
//! - a folder holding CIFAR-10 binary batches: those of `data_batch_1.bin .. data_batch_5.bin`
//!   present (at least one, concatenated in that order) for training and `test_batch.bin`;
//!   records of 1 label byte and 3072 pixel bytes, pixels / 255, sample shape `[3, 32, 32]`.
//!
//! A file named like a member of these folders stands for its folder. A folder holding files of
//! more than one format is read as the first of: split `.npy`, whole `.npy`, IDX, CIFAR-10.
//!
//! `x` arrays are `[samples, ...]` in any dtype `crate::tensor::decode_npy` accepts, and every
//! element must be finite; `y` arrays are `[samples]` or `[samples, 1]`, with integer values in
//! `0..65536` (a float array is accepted when every value is such an integer). When only `x, y`
//! are given, the **last 20%** of the samples (`samples / 5`, rounded down) are the test split
//! and the rest the train split, in file order. The number of classes is the largest label of
//! either split plus one. Loading is deterministic: the same input gives the same [`Dataset`].
//!
//! Limits ([`Limits`], default 4 GiB): see `limits.rs`. Nothing here panics on any input.

mod cifar;
mod idx;
mod limits;
mod npz;
mod split;

pub use limits::Limits;

use limits::Budget;
use split::Part;
use std::io::Read;
use std::path::{Path, PathBuf};

/// `traces/data/digits.npz`, embedded.
const DIGITS_NPZ: &[u8] = include_bytes!("../../../traces/data/digits.npz");
/// `traces/data/mnist1d.npz`, embedded.
const MNIST1D_NPZ: &[u8] = include_bytes!("../../../traces/data/mnist1d.npz");

/// Where a data set comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSpec {
    /// scikit-learn's 8 x 8 handwritten digits, 1437 train / 360 test (embedded).
    Digits,
    /// MNIST-1D, 4000 train / 1000 test samples of length 40 (embedded).
    Mnist1d,
    /// A `.npz` archive, a folder of `.npy`, MNIST IDX or CIFAR-10 binary files, or a file in
    /// such a folder (see the module documentation).
    Path(PathBuf),
}

impl std::str::FromStr for DataSpec {
    type Err = String;

    /// `digits` and `mnist1d` name the embedded sets; anything else is a path (write
    /// `./digits` for a folder of that name). The empty string is refused.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "" => Err("empty data set: give digits, mnist1d, or a path".to_string()),
            "digits" => Ok(DataSpec::Digits),
            "mnist1d" => Ok(DataSpec::Mnist1d),
            path => Ok(DataSpec::Path(PathBuf::from(path))),
        }
    }
}

impl std::fmt::Display for DataSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DataSpec::Digits => f.write_str("digits"),
            DataSpec::Mnist1d => f.write_str("mnist1d"),
            DataSpec::Path(p) => write!(f, "{}", p.display()),
        }
    }
}

/// The samples and labels of one split.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// `n * sample_len` values, sample after sample, each sample row-major.
    pub x: Vec<f32>,
    /// One label per sample, below [`Dataset::classes`].
    pub y: Vec<u32>,
    /// Number of samples.
    pub n: usize,
}

/// A loaded data set: train and test splits of equally shaped samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// `digits`, `mnist1d`, or the path as given.
    pub name: String,
    /// Per-sample dimensions as stored, e.g. `[8, 8]`, `[40]`, `[28, 28]`, `[3, 32, 32]`.
    pub sample_shape: Vec<usize>,
    /// Number of classes: the largest label over both splits, plus one.
    pub classes: usize,
    /// The training split (never empty).
    pub train: Split,
    /// The test split (never empty).
    pub test: Split,
}

impl Dataset {
    /// Values per sample: the product of `sample_shape`.
    pub fn sample_len(&self) -> usize {
        self.sample_shape.iter().product()
    }
}

/// Why a data set was refused. Each message is one line and starts with the file it concerns
/// (for an archive member: `archive.npz: member.npy`; for an embedded set: its file in `traces/`).
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file or folder could not be opened, read or decompressed.
    #[error("{at}: cannot read: {error}")]
    Io {
        /// The file.
        at: String,
        /// The OS or decompression error.
        error: std::io::Error,
    },
    /// Reading, decompressing or converting would pass the load's byte limit.
    #[error("{at}: needs {size} bytes, over the {left} bytes left of the {limit}-byte limit for one data set")]
    TooLarge {
        /// The file or member.
        at: String,
        /// Bytes it needs (for a file of unknown size: the bytes read before stopping).
        size: u64,
        /// Bytes left of the limit.
        left: u64,
        /// [`Limits::max_bytes`].
        limit: u64,
    },
    /// A `.npy` file or member was refused by the decoder.
    #[error("{at}: {error}")]
    Npy {
        /// The file or member.
        at: String,
        /// What the decoder refused.
        error: crate::tensor::NpyError,
    },
    /// A `.npz` file is not a zip archive the reader accepts.
    #[error("{at}: not a readable .npz (zip) archive: {message}")]
    Zip {
        /// The file or member.
        at: String,
        /// The zip reader's message.
        message: String,
    },
    /// A file that is neither a `.npz` archive nor named like a member of a data set folder.
    #[error(
        "{at}: not a data set: expected a .npz archive, or a folder (or a file in a folder) holding .npy, \
         MNIST IDX or CIFAR-10 binary files"
    )]
    NotADataSet {
        /// The file.
        at: String,
    },
    /// Files or archive members the format needs are absent.
    #[error("{at}: missing {missing} (looked for {looked_for})")]
    Missing {
        /// The folder or archive.
        at: String,
        /// The absent names.
        missing: String,
        /// Every name looked for.
        looked_for: String,
    },
    /// A file shorter than its header or format requires.
    #[error("{at}: truncated: {what} needs {expected} bytes, has {present}")]
    Truncated {
        /// The file or member.
        at: String,
        /// What needs the bytes.
        what: String,
        /// Bytes required.
        expected: u64,
        /// Bytes present.
        present: u64,
    },
    /// A file longer than its header says.
    #[error("{at}: trailing bytes: {what} needs {expected} bytes, file has {present}")]
    Trailing {
        /// The file.
        at: String,
        /// What the header describes.
        what: String,
        /// Bytes the header accounts for.
        expected: u64,
        /// Bytes present.
        present: u64,
    },
    /// A file whose first bytes are not its format's magic number.
    #[error("{at}: wrong magic number 0x{found:08x}, expected 0x{expected:08x} ({what})")]
    BadMagic {
        /// The file.
        at: String,
        /// The magic number found.
        found: u32,
        /// The one expected.
        expected: u32,
        /// What the expected magic number stands for.
        what: &'static str,
    },
    /// A label that is negative, not an integer, or 65536 or more (or past a format's classes).
    #[error("{at}: label {value} at sample {index} {problem}")]
    BadLabel {
        /// The label file or member.
        at: String,
        /// Sample index in that file.
        index: usize,
        /// The value as read.
        value: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A different number of labels than samples.
    #[error("{at}: {labels} labels, but {at_x} has {samples} samples")]
    LengthMismatch {
        /// The label file or member.
        at: String,
        /// Its label count.
        labels: usize,
        /// The sample file or member.
        at_x: String,
        /// Its sample count.
        samples: usize,
    },
    /// A NaN or infinite sample value.
    #[error("{at}: element {element} (sample {sample}) is {value}: sample values must be finite")]
    NonFinite {
        /// The sample file or member.
        at: String,
        /// Row-major element index in that array.
        element: usize,
        /// The sample it belongs to.
        sample: usize,
        /// The value.
        value: f32,
    },
    /// A split with no samples.
    #[error("{at}: the {split} split is empty{detail}")]
    EmptySplit {
        /// The file the split comes from.
        at: String,
        /// `train` or `test`.
        split: &'static str,
        /// Why, when it is not plain (starts with `: ` or is empty).
        detail: String,
    },
    /// Train and test samples of different shapes.
    #[error("{at}: test samples have shape {test:?}, but the train samples of {at_train} have {train:?}")]
    ShapeMismatch {
        /// The test sample file or member.
        at: String,
        /// Its per-sample shape.
        test: Vec<usize>,
        /// The train sample file or member.
        at_train: String,
        /// Its per-sample shape.
        train: Vec<usize>,
    },
    /// Any other violation of a format (wrong rank, zero-size samples, ...).
    #[error("{at}: {problem}")]
    Invalid {
        /// The file or member.
        at: String,
        /// What is wrong.
        problem: String,
    },
}

/// Loads a data set with the default [`Limits`].
pub fn load_dataset(spec: &DataSpec) -> Result<Dataset, DataError> {
    load_dataset_with(spec, &Limits::default())
}

/// Loads a data set, reading, decompressing and converting at most `limits.max_bytes` bytes.
pub fn load_dataset_with(spec: &DataSpec, limits: &Limits) -> Result<Dataset, DataError> {
    let mut budget = Budget::new(limits);
    let (name, (train, test)) = match spec {
        DataSpec::Digits => {
            let at = "traces/data/digits.npz (embedded)";
            ("digits".to_string(), npz::load_npz_bytes(at, DIGITS_NPZ, &mut budget)?)
        }
        DataSpec::Mnist1d => {
            let at = "traces/data/mnist1d.npz (embedded)";
            ("mnist1d".to_string(), npz::load_npz_bytes(at, MNIST1D_NPZ, &mut budget)?)
        }
        DataSpec::Path(path) => (path.display().to_string(), load_path(path, &mut budget)?),
    };
    split::finish(name, train, test)
}

/// Names whose presence in a folder selects a format, in the order formats are tried.
const FOLDER_FORMATS: [(&str, &[&str]); 4] = [
    ("split .npy", &npz::SPLIT_NPY),
    ("whole .npy", &npz::WHOLE_NPY),
    ("MNIST IDX", &idx::NAMES),
    ("CIFAR-10 binary", &cifar::NAMES),
];

fn load_path(path: &Path, budget: &mut Budget) -> Result<(Part, Part), DataError> {
    let at = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|error| DataError::Io { at: at.clone(), error })?;
    if meta.is_dir() {
        return load_folder(path, budget);
    }
    if is_zip(path)? {
        return npz::load_npz_file(path, budget);
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let idx_gz = name.strip_suffix(".gz").is_some_and(|n| idx::NAMES.contains(&n));
    if idx_gz || FOLDER_FORMATS.iter().any(|(_, names)| names.contains(&name)) {
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        return load_folder(parent, budget);
    }
    Err(DataError::NotADataSet { at })
}

/// A `.npz` extension, or a file starting with a zip signature.
fn is_zip(path: &Path) -> Result<bool, DataError> {
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("npz")) {
        return Ok(true);
    }
    let io = |error| DataError::Io { at: path.display().to_string(), error };
    let mut head = Vec::with_capacity(4);
    std::fs::File::open(path).and_then(|f| f.take(4).read_to_end(&mut head)).map_err(io)?;
    Ok(head == b"PK\x03\x04" || head == b"PK\x05\x06")
}

fn load_folder(dir: &Path, budget: &mut Budget) -> Result<(Part, Part), DataError> {
    let present = |names: &[&str]| names.iter().any(|n| dir.join(n).is_file());
    if present(&npz::SPLIT_NPY) {
        npz::load_npy_folder(dir, &npz::SPLIT_NPY, budget)
    } else if present(&npz::WHOLE_NPY) {
        npz::load_npy_folder(dir, &npz::WHOLE_NPY, budget)
    } else if present(&idx::NAMES) || idx::NAMES.iter().any(|n| dir.join(format!("{n}.gz")).is_file()) {
        idx::load_idx_folder(dir, budget)
    } else if present(&cifar::NAMES) {
        cifar::load_cifar_folder(dir, budget)
    } else {
        let looked_for: Vec<String> =
            FOLDER_FORMATS.iter().map(|(what, names)| format!("{what}: {}", names.join(", "))).collect();
        Err(DataError::Missing {
            at: dir.display().to_string(),
            missing: "every data set file".to_string(),
            looked_for: format!("{}; IDX files also as .gz", looked_for.join("; ")),
        })
    }
}
