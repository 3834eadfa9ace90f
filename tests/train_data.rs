//! Training data loaders: the embedded sets, every file format written here in a temp folder
//! and read back exactly, and every refused input named in a one-line message that starts with
//! the file it concerns.

use fastbfp::tensor::encode_npy_f32;
use fastbfp::train::data::{load_dataset, load_dataset_with, DataSpec, Dataset, Limits};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A `.npy` image of any dtype from raw little- or big-endian data bytes.
fn npy_raw(descr: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let comma = if dims.len() == 1 { "," } else { "" };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({}{comma}), }}", dims.join(", "));
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let len = (header.len() as u16).to_le_bytes();
    [&b"\x93NUMPY\x01\x00"[..], &len, header.as_bytes(), data].concat()
}

fn npy_i64(shape: &[usize], data: &[i64]) -> Vec<u8> {
    npy_raw("<i8", shape, &data.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<_>>())
}

fn npy_f64(shape: &[usize], data: &[f64]) -> Vec<u8> {
    npy_raw("<f8", shape, &data.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<_>>())
}

/// A zip archive of named members, deflated or stored.
fn zip_of(members: &[(&str, Vec<u8>)], deflate: bool) -> Vec<u8> {
    let method = if deflate { zip::CompressionMethod::Deflated } else { zip::CompressionMethod::Stored };
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in members {
        w.start_file(*name, options).expect("start member");
        w.write_all(bytes).expect("write member");
    }
    w.finish().expect("finish zip").into_inner()
}

fn idx(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let header = std::iter::once(magic).chain(dims.iter().copied()).flat_map(u32::to_be_bytes);
    header.chain(data.iter().copied()).collect()
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

/// CIFAR-10 records: label, then 3072 pixels `(seed + i) % 256`.
fn cifar(records: &[(u8, u8)]) -> Vec<u8> {
    records
        .iter()
        .flat_map(|&(label, seed)| std::iter::once(label).chain((0..3072).map(move |i| (seed as usize + i) as u8)))
        .collect()
}

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Self {
        Dir(tempfile::tempdir().expect("temp dir"))
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, bytes).expect("write");
        p
    }
}

fn load(path: &Path) -> Dataset {
    load_dataset(&DataSpec::Path(path.to_path_buf())).unwrap_or_else(|e| panic!("{e}"))
}

/// Loads `path`, expects a refusal, checks the message is one line starting with `starts`, and
/// contains each of `parts`.
fn refused(path: &Path, starts: &Path, parts: &[&str]) -> String {
    refused_with(path, &Limits::default(), starts, parts)
}

fn refused_with(path: &Path, limits: &Limits, starts: &Path, parts: &[&str]) -> String {
    let msg = match load_dataset_with(&DataSpec::Path(path.to_path_buf()), limits) {
        Ok(d) => panic!("{} loaded ({} + {} samples), expected a refusal", path.display(), d.train.n, d.test.n),
        Err(e) => e.to_string(),
    };
    assert!(!msg.contains('\n'), "{msg}");
    assert!(msg.starts_with(&starts.display().to_string()), "{msg}\nshould start with {}", starts.display());
    for part in parts {
        assert!(msg.contains(part), "{msg}\nshould contain {part:?}");
    }
    msg
}

fn f32s(n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|i| i as f32 * scale - 1.0).collect()
}

#[test]
fn embedded_sets_have_the_documented_shapes_and_counts() {
    let counts = |y: &[u32]| (0..10).map(|c| y.iter().filter(|&&l| l == c).count()).collect::<Vec<_>>();
    let digits = load_dataset(&DataSpec::Digits).expect("digits");
    assert_eq!((digits.name.as_str(), digits.sample_shape.as_slice(), digits.classes), ("digits", &[8, 8][..], 10));
    assert_eq!((digits.train.n, digits.test.n, digits.sample_len()), (1437, 360, 64));
    assert_eq!((digits.train.x.len(), digits.test.x.len()), (1437 * 64, 360 * 64));
    assert_eq!(counts(&digits.train.y), [142, 146, 142, 146, 145, 145, 145, 143, 139, 144]);
    assert_eq!(counts(&digits.test.y), [36, 36, 35, 37, 36, 37, 36, 36, 35, 36]);
    // Pixels are counts 0..=16 divided by 16.
    assert!(digits
        .train
        .x
        .iter()
        .chain(&digits.test.x)
        .all(|&v| (0.0..=1.0).contains(&v) && (v * 16.0).fract() == 0.0));

    let m = load_dataset(&DataSpec::Mnist1d).expect("mnist1d");
    assert_eq!((m.name.as_str(), m.sample_shape.as_slice(), m.classes), ("mnist1d", &[40][..], 10));
    assert_eq!((m.train.n, m.test.n, m.train.x.len(), m.test.x.len()), (4000, 1000, 160_000, 40_000));
    assert_eq!(counts(&m.train.y), [398, 396, 411, 394, 394, 402, 401, 404, 402, 398]);
    assert_eq!(counts(&m.test.y), [102, 104, 89, 106, 106, 98, 99, 96, 98, 102]);
    assert!(m.train.x.iter().all(|v| v.abs() < 8.0));

    assert_eq!(load_dataset(&DataSpec::Digits).expect("again"), digits, "deterministic");
}

#[test]
fn data_spec_parses_names_and_paths() {
    assert_eq!("digits".parse::<DataSpec>(), Ok(DataSpec::Digits));
    assert_eq!("mnist1d".parse::<DataSpec>(), Ok(DataSpec::Mnist1d));
    assert_eq!("./digits".parse::<DataSpec>(), Ok(DataSpec::Path("./digits".into())));
    assert_eq!("a/b.npz".parse::<DataSpec>().map(|s| s.to_string()), Ok("a/b.npz".to_string()));
    assert!("".parse::<DataSpec>().is_err());
}

#[test]
fn npz_with_both_splits_loads_exactly() {
    let d = Dir::new();
    let (x_train, x_test) = (f32s(3 * 2 * 2, 0.37), f32s(2 * 2 * 2, -1.25));
    for (deflate, suffix) in [(true, ".npy"), (false, "")] {
        let members = [
            (format!("x_train{suffix}"), encode_npy_f32(&[3, 2, 2], &x_train)),
            (format!("y_train{suffix}"), npy_i64(&[3], &[2, 0, 1])),
            (format!("x_test{suffix}"), encode_npy_f32(&[2, 2, 2], &x_test)),
            (format!("y_test{suffix}"), npy_raw("|u1", &[2, 1], &[4, 0])),
        ];
        let members: Vec<(&str, Vec<u8>)> = members.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
        // Any name works when the file is a zip archive.
        for name in ["a.npz", "archive.bin"] {
            let p = d.write(name, &zip_of(&members, deflate));
            let got = load(&p);
            assert_eq!(got.name, p.display().to_string());
            assert_eq!((got.sample_shape.as_slice(), got.classes), (&[2, 2][..], 5));
            assert_eq!(
                (got.train.n, got.train.y.as_slice(), got.train.x.as_slice()),
                (3, &[2, 0, 1][..], &x_train[..])
            );
            assert_eq!((got.test.n, got.test.y.as_slice(), got.test.x.as_slice()), (2, &[4, 0][..], &x_test[..]));
        }
    }
}

#[test]
fn npz_with_one_pair_holds_out_the_last_fifth() {
    let d = Dir::new();
    let x: Vec<f64> = (0..14 * 3).map(|i| f64::from(i) * 0.5).collect();
    let y: Vec<f64> = (0..14).map(|i| f64::from(i % 3)).collect();
    let p = d.write("xy.npz", &zip_of(&[("x.npy", npy_f64(&[14, 3], &x)), ("y.npy", npy_f64(&[14], &y))], true));
    let got = load(&p);
    // 14 / 5 = 2 test samples, the last two.
    assert_eq!((got.train.n, got.test.n, got.classes, got.sample_shape.as_slice()), (12, 2, 3, &[3][..]));
    let want: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    assert_eq!(got.train.x, want[..36]);
    assert_eq!(got.test.x, want[36..]);
    assert_eq!(got.test.y, [0, 1]);
}

#[test]
fn npy_folders_load_exactly_and_a_member_file_stands_for_its_folder() {
    let d = Dir::new();
    let x_train = f32s(4 * 5, 0.1);
    d.write("s/x_train.npy", &encode_npy_f32(&[4, 5], &x_train));
    d.write("s/y_train.npy", &npy_raw("<i4", &[4], &[3, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0]));
    d.write("s/x_test.npy", &npy_raw("|u1", &[1, 5], &[1, 2, 3, 4, 255]));
    d.write("s/y_test.npy", &npy_raw("|b1", &[1], &[1]));
    for p in [d.path("s"), d.path("s/y_test.npy")] {
        let got = load(&p);
        assert_eq!((got.train.x.as_slice(), got.train.y.as_slice()), (&x_train[..], &[3, 1, 3, 0][..]));
        assert_eq!((got.test.x.as_slice(), got.test.y.as_slice()), (&[1.0, 2.0, 3.0, 4.0, 255.0][..], &[1][..]));
        assert_eq!((got.classes, got.sample_shape.as_slice()), (4, &[5][..]));
    }
    d.write("w/x.npy", &encode_npy_f32(&[5, 1, 2], &f32s(10, 1.0)));
    d.write("w/y.npy", &npy_i64(&[5], &[0, 1, 2, 3, 65535]));
    let got = load(&d.path("w"));
    assert_eq!((got.train.n, got.test.n, got.classes), (4, 1, 65536));
    assert_eq!((got.test.x.as_slice(), got.sample_shape.as_slice()), (&[7.0, 8.0][..], &[1, 2][..]));
}

/// An MNIST-like folder: 3 train and 2 test images of 2 x 3 pixels.
fn mnist_files(d: &Dir, dir: &str, gzip: bool) -> (Vec<u8>, Vec<u8>) {
    let train: Vec<u8> = (0..18).map(|i| (i * 14) as u8).collect();
    let test: Vec<u8> = (0..12).map(|i| 255 - i as u8).collect();
    let files = [
        ("train-images-idx3-ubyte", idx(0x803, &[3, 2, 3], &train)),
        ("train-labels-idx1-ubyte", idx(0x801, &[3], &[9, 0, 4])),
        ("t10k-images-idx3-ubyte", idx(0x803, &[2, 2, 3], &test)),
        ("t10k-labels-idx1-ubyte", idx(0x801, &[2], &[1, 7])),
    ];
    for (name, bytes) in files {
        if gzip {
            d.write(&format!("{dir}/{name}.gz"), &gz(&bytes));
        } else {
            d.write(&format!("{dir}/{name}"), &bytes);
        }
    }
    (train, test)
}

#[test]
fn idx_files_plain_and_gzipped_load_exactly() {
    let d = Dir::new();
    for (dir, gzip) in [("plain", false), ("gz", true)] {
        let (train, test) = mnist_files(&d, dir, gzip);
        let member = if gzip { "t10k-labels-idx1-ubyte.gz" } else { "t10k-labels-idx1-ubyte" };
        for p in [d.path(dir), d.path(&format!("{dir}/{member}"))] {
            let got = load(&p);
            assert_eq!((got.sample_shape.as_slice(), got.classes), (&[2, 3][..], 10));
            assert_eq!(got.train.x, train.iter().map(|&v| f32::from(v) / 255.0).collect::<Vec<_>>());
            assert_eq!(got.test.x, test.iter().map(|&v| f32::from(v) / 255.0).collect::<Vec<_>>());
            assert_eq!((got.train.y.as_slice(), got.test.y.as_slice()), (&[9, 0, 4][..], &[1, 7][..]));
            assert_eq!(got.train.x[1], 14.0 / 255.0);
        }
    }
}

#[test]
fn cifar_batches_load_exactly_in_batch_order() {
    let d = Dir::new();
    d.write("c/data_batch_3.bin", &cifar(&[(5, 3)]));
    d.write("c/data_batch_1.bin", &cifar(&[(0, 1), (9, 2)]));
    d.write("c/test_batch.bin", &cifar(&[(2, 200)]));
    let got = load(&d.path("c"));
    assert_eq!((got.sample_shape.as_slice(), got.sample_len(), got.classes), (&[3, 32, 32][..], 3072, 10));
    assert_eq!(
        (got.train.n, got.train.y.as_slice(), got.test.n, got.test.y.as_slice()),
        (3, &[0, 9, 5][..], 1, &[2][..])
    );
    let pixels = |seed: usize| (0..3072).map(move |i| f32::from((seed + i) as u8) / 255.0);
    assert_eq!(got.train.x, pixels(1).chain(pixels(2)).chain(pixels(3)).collect::<Vec<_>>());
    assert_eq!(got.test.x, pixels(200).collect::<Vec<_>>());
    let via_member = load(&d.path("c/test_batch.bin"));
    assert!(via_member.train == got.train && via_member.test == got.test, "a member file stands for its folder");
}

#[test]
fn bad_labels_are_refused_with_the_file_and_sample() {
    let d = Dir::new();
    let x = encode_npy_f32(&[5, 2], &f32s(10, 0.5));
    let pair = |name: &str, y: Vec<u8>| d.write(name, &zip_of(&[("x.npy", x.clone()), ("y.npy", y)], true));
    let p = pair("neg.npz", npy_f64(&[5], &[0.0, 1.0, -1.0, 0.0, 0.0]));
    refused(&p, &p, &["y.npy: label -1 at sample 2 is negative"]);
    let p = pair("frac.npz", npy_f64(&[5], &[0.0, 1.5, 0.0, 0.0, 0.0]));
    refused(&p, &p, &["y.npy: label 1.5 at sample 1 is not an integer"]);
    let p = pair("nan.npz", npy_f64(&[5], &[0.0, 0.0, 0.0, f64::NAN, 0.0]));
    refused(&p, &p, &["label NaN at sample 3 is not an integer"]);
    let p = pair("big.npz", npy_i64(&[5], &[0, 0, 0, 0, 65536]));
    refused(&p, &p, &["label 65536 at sample 4 is out of range: labels must be below 65536"]);
    let p = pair("huge.npz", npy_i64(&[5], &[0, (1 << 40) + 1, 0, 0, 0]));
    refused(&p, &p, &["label 1099511627777 at sample 1 is out of range"]);
    let p = pair("shape.npz", npy_i64(&[5, 2], &[0; 10]));
    refused(&p, &p, &["y.npy: labels must have shape [samples] or [samples, 1], found [5, 2]"]);
    let c = d.write("c/data_batch_1.bin", &cifar(&[(1, 0), (10, 0)]));
    d.write("c/test_batch.bin", &cifar(&[(1, 0)]));
    refused(&d.path("c"), &c, &["label 10 at sample 1 is out of range: CIFAR-10 labels are 0..=9"]);
}

#[test]
fn sample_problems_are_refused_with_the_file() {
    let d = Dir::new();
    // Length mismatch.
    let p = d.write(
        "len.npz",
        &zip_of(&[("x.npy", encode_npy_f32(&[6, 2], &[0.0; 12])), ("y.npy", npy_i64(&[5], &[0; 5]))], true),
    );
    refused(&p, &p, &["y.npy: 5 labels, but ", "x.npy has 6 samples"]);
    // NaN and infinity, with element and sample index.
    let mut x = vec![0.0f32; 15];
    x[7] = f32::NAN;
    d.write("nan/x.npy", &encode_npy_f32(&[5, 3], &x));
    d.write("nan/y.npy", &npy_i64(&[5], &[0; 5]));
    refused(&d.path("nan"), &d.path("nan/x.npy"), &["element 7 (sample 2) is NaN: sample values must be finite"]);
    let p = d.write(
        "inf.npz",
        &zip_of(&[("x.npy", npy_f64(&[5, 1], &[0.0, 0.0, 0.0, 0.0, 1e300])), ("y.npy", npy_i64(&[5], &[0; 5]))], true),
    );
    refused(&p, &p, &["x.npy: element 4 (sample 4) is inf"]);
    // Rank-1 samples.
    let p = d.write(
        "rank.npz",
        &zip_of(&[("x.npy", encode_npy_f32(&[5], &[0.0; 5])), ("y.npy", npy_i64(&[5], &[0; 5]))], true),
    );
    refused(&p, &p, &["x.npy: samples must be an array [samples, ...] of rank 2 or more, found shape [5]"]);
    // Train and test shapes differ.
    d.write("sh/x_train.npy", &encode_npy_f32(&[2, 4], &[0.0; 8]));
    d.write("sh/y_train.npy", &npy_i64(&[2], &[0, 1]));
    d.write("sh/x_test.npy", &encode_npy_f32(&[2, 2, 2], &[0.0; 8]));
    d.write("sh/y_test.npy", &npy_i64(&[2], &[0, 1]));
    let at = d.path("sh/x_test.npy");
    refused(&d.path("sh"), &at, &["test samples have shape [2, 2], but the train samples of ", "x_train.npy have [4]"]);
    // Undecodable member.
    let p = d.write(
        "dtype.npz",
        &zip_of(&[("x.npy", npy_raw("<c8", &[5, 1], &[0; 40])), ("y.npy", npy_i64(&[5], &[0; 5]))], true),
    );
    refused(&p, &p, &["x.npy: unsupported dtype '<c8'"]);
    let good = encode_npy_f32(&[5, 2], &[0.0; 10]);
    let p = d.write(
        "trunc.npz",
        &zip_of(&[("x.npy", good[..good.len() - 3].to_vec()), ("y.npy", npy_i64(&[5], &[0; 5]))], true),
    );
    refused(&p, &p, &["x.npy: truncated data: header promises 40 bytes of data, file has 37"]);
}

#[test]
fn empty_splits_are_refused() {
    let d = Dir::new();
    let p = d.write(
        "four.npz",
        &zip_of(&[("x.npy", encode_npy_f32(&[4, 1], &[0.0; 4])), ("y.npy", npy_i64(&[4], &[0; 4]))], true),
    );
    refused(&p, &p, &["x.npy: the test split is empty: it is the last 20% (rounded down)", "only 4"]);
    mnist_files(&d, "m", false);
    let at = d.write("m/train-images-idx3-ubyte", &idx(0x803, &[0, 2, 3], &[]));
    d.write("m/train-labels-idx1-ubyte", &idx(0x801, &[0], &[]));
    refused(&d.path("m"), &at, &["the train split is empty"]);
    d.write("c/data_batch_2.bin", &cifar(&[(1, 0)]));
    let at = d.write("c/test_batch.bin", &[]);
    refused(&d.path("c"), &at, &["the test split is empty"]);
}

#[test]
fn truncated_files_and_wrong_magic_are_refused_with_byte_counts() {
    let d = Dir::new();
    mnist_files(&d, "m", false);
    let full = idx(0x803, &[3, 2, 3], &[0; 18]);
    let at = d.write("m/train-images-idx3-ubyte", &full[..full.len() - 4]);
    refused(&d.path("m"), &at, &["truncated: data of shape [3, 2, 3] needs 34 bytes, has 30"]);
    d.write("m/train-images-idx3-ubyte", &[full.as_slice(), &[0]].concat());
    refused(&d.path("m"), &at, &["trailing bytes: data of shape [3, 2, 3] needs 34 bytes, file has 35"]);
    d.write("m/train-images-idx3-ubyte", &idx(0x801, &[3], &[0; 3]));
    refused(&d.path("m"), &at, &["wrong magic number 0x00000801, expected 0x00000803"]);
    d.write("m/train-images-idx3-ubyte", &full);
    let at = d.write("m/t10k-labels-idx1-ubyte", &idx(0x801, &[3], &[0; 3]));
    refused(&d.path("m"), &at, &["3 labels, but ", "t10k-images-idx3-ubyte has 2 samples"]);
    // A gzip stream cut short.
    mnist_files(&d, "g", true);
    let z = gz(&full);
    let at = d.write("g/train-images-idx3-ubyte.gz", &z[..z.len() / 2]);
    refused(&d.path("g"), &at, &["cannot read: "]);

    let at = d.write("c/data_batch_1.bin", &cifar(&[(1, 0), (2, 0)])[..3073 + 100]);
    d.write("c/test_batch.bin", &cifar(&[(1, 0)]));
    refused(&d.path("c"), &at, &["truncated: record 2 of 3073 bytes needs 6146 bytes, has 3173"]);
}

#[test]
fn missing_unreadable_and_foreign_files_are_named() {
    let d = Dir::new();
    let nowhere = d.path("nowhere");
    let os = std::io::Error::from_raw_os_error(2).to_string();
    refused(&nowhere, &nowhere, &[&format!("cannot read: {os}")]);
    std::fs::create_dir(d.path("empty")).expect("mkdir");
    let all = ["missing every data set file", "x_train.npy", "x.npy", "train-images-idx3-ubyte", "test_batch.bin"];
    refused(&d.path("empty"), &d.path("empty"), &all);
    d.write("part/x_train.npy", &encode_npy_f32(&[1, 1], &[0.0]));
    d.write("part/x_test.npy", &encode_npy_f32(&[1, 1], &[0.0]));
    refused(&d.path("part"), &d.path("part"), &["missing y_train.npy, y_test.npy (looked for x_train.npy"]);
    d.write("idx/train-images-idx3-ubyte.gz", &[]);
    refused(
        &d.path("idx"),
        &d.path("idx"),
        &["missing train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (plain or .gz)"],
    );
    d.write("cif/test_batch.bin", &[]);
    refused(&d.path("cif"), &d.path("cif"), &["missing data_batch_1.bin .. data_batch_5.bin (at least one)"]);
    let p = d.write("keys.npz", &zip_of(&[("a.npy", encode_npy_f32(&[1], &[0.0]))], true));
    refused(&p, &p, &["missing the arrays x_train, y_train, x_test, y_test (or x, y)", "the archive holds: a.npy"]);
    let p = d.write("half.npz", &zip_of(&[("x_train.npy", encode_npy_f32(&[1], &[0.0]))], true));
    refused(&p, &p, &["missing y_train.npy, x_test.npy, y_test.npy"]);
    let p = d.write("garbage.npz", b"this is not a zip archive");
    refused(&p, &p, &["not a readable .npz (zip) archive: "]);
    let p = d.write("notes.txt", b"hello");
    refused(&p, &p, &["not a data set: expected a .npz archive, or a folder"]);
}

#[test]
fn reads_stop_at_the_byte_limit_before_allocating() {
    let d = Dir::new();
    let small = Limits { max_bytes: 1 << 16 };
    // Sparse files are refused from their metadata, without reading.
    let big = d.path("big.npz");
    std::fs::File::create(&big).and_then(|f| f.set_len(5 << 30)).expect("sparse file");
    refused(&big, &big, &["needs 5368709120 bytes, over the 4294967296 bytes left of the 4294967296-byte limit"]);
    std::fs::File::create(&big).and_then(|f| f.set_len(1 << 30)).expect("sparse file");
    refused_with(&big, &small, &big, &["needs 1073741824 bytes, over the 65536 bytes left"]);
    // A device reports size 0 and never ends: reading stops one byte past the limit.
    if Path::new("/dev/zero").exists() {
        let zero = d.path("zero.npz");
        std::os::unix::fs::symlink("/dev/zero", &zero).expect("symlink");
        refused_with(&zero, &small, &zero, &["needs 65537 bytes, over the 65536 bytes left of the 65536-byte limit"]);
    }
    // A small gzip file that decompresses past the limit.
    mnist_files(&d, "g", true);
    let bomb = d.write("g/train-images-idx3-ubyte.gz", &gz(&idx(0x803, &[1000, 100, 100], &vec![0; 10_000_000])));
    refused_with(&d.path("g"), &small, &bomb, &["over the"]);
    // A zip member that declares more than the limit.
    let p = d.write(
        "m.npz",
        &zip_of(&[("x.npy", encode_npy_f32(&[1 << 15], &vec![0.0; 1 << 15])), ("y.npy", npy_i64(&[1], &[0]))], true),
    );
    refused_with(&p, &small, &p, &["x.npy: needs 131200 bytes"]);
    // Converted samples count too: 40 KB of IDX pixels are 160 KB of binary32.
    mnist_files(&d, "p", false);
    let at = d.write("p/train-images-idx3-ubyte", &idx(0x803, &[10, 40, 100], &[0; 40_000]));
    d.write("p/train-labels-idx1-ubyte", &idx(0x801, &[10], &[0; 10]));
    refused_with(&d.path("p"), &small, &at, &["needs 160000 bytes, over the"]);
}

#[test]
fn mutated_files_never_panic() {
    let d = Dir::new();
    let x = encode_npy_f32(&[5, 2], &f32s(10, 0.25));
    let npz = zip_of(&[("x.npy", x), ("y.npy", npy_i64(&[5], &[0, 1, 2, 3, 4]))], true);
    let labels = idx(0x801, &[3], &[1, 2, 3]);
    mnist_files(&d, "m", false);
    let cases: [(&str, Vec<u8>); 3] =
        [("a.npz", npz), ("m/train-labels-idx1-ubyte", labels.clone()), ("m/train-labels-idx1-ubyte.gz", gz(&labels))];
    for (name, base) in cases {
        let path = d.path(name);
        let mut variants: Vec<Vec<u8>> = (0..base.len()).map(|cut| base[..cut].to_vec()).collect();
        for pos in 0..base.len() {
            for val in [0u8, 1, 0x7f, 0x80, 0xff] {
                let mut b = base.clone();
                b[pos] ^= val.max(1);
                variants.push(b);
            }
        }
        for bytes in variants {
            std::fs::write(&path, &bytes).expect("write");
            if let Err(e) = load_dataset(&DataSpec::Path(path.clone())) {
                assert!(!e.to_string().contains('\n'), "{e}");
            }
        }
        std::fs::remove_file(&path).expect("remove");
    }
}
