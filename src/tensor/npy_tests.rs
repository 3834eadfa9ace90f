//! Tests of the `.npy` reader and writer.

use super::*;
use crate::tensor::DEFAULT_MAX_ELEMENTS as MAX;

/// Builds a `.npy` image from header text and raw data bytes (no alignment padding).
fn npy(major: u8, header: &str, data: &[u8]) -> Vec<u8> {
    let len = header.len() as u32;
    let len = if major == 1 { len.to_le_bytes()[..2].to_vec() } else { len.to_le_bytes().to_vec() };
    [&MAGIC[..], &[major, 0], &len, header.as_bytes(), data].concat()
}

/// A version 1.0 image with the usual dict.
fn v1(descr: &str, fortran: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let h = format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}\n");
    npy(1, &h, data)
}

fn f4le(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn load(bytes: &[u8]) -> NpyLoad {
    decode_npy(bytes, MAX).expect("decode should succeed")
}

fn refuse(bytes: &[u8]) -> String {
    let msg = decode_npy(bytes, MAX).expect_err("decode should refuse").to_string();
    assert!(!msg.contains('\n') && msg.starts_with(|c: char| !c.is_uppercase()), "{msg}");
    msg
}

/// `numpy.save(f, numpy.arange(6, dtype='<f4').reshape(2, 3))`, numpy 2.4.
const NUMPY_2X3: &[u8] = b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }                                                          \n\x00\x00\x00\x00\x00\x00\x80?\x00\x00\x00@\x00\x00@@\x00\x00\x80@\x00\x00\xa0@";

#[test]
fn round_trip_is_bit_exact() {
    let specials = [-0.0, 0.0, 1.5, -3.25, f32::MIN_POSITIVE, f32::MAX, f32::INFINITY, -f32::INFINITY];
    let nan_and_subnormal = [1, 0x807f_ffff, 0x7fc0_0001, 0xffa0_0000, 0x7f80_0001].map(f32::from_bits);
    let data: Vec<f32> =
        specials.into_iter().chain(nan_and_subnormal).chain((0..11).map(|i| i as f32 * -0.37)).collect();
    for shape in [vec![13], vec![24], vec![4, 6], vec![1, 24], vec![2, 3, 4], vec![1, 1, 1, 1]] {
        let n: usize = shape.iter().product();
        let bytes = encode_npy_f32(&shape, &data[..n]);
        assert_eq!((bytes.len() - 4 * n) % 64, 0);
        let got = load(&bytes);
        assert_eq!(got.tensor.shape, shape);
        assert_eq!(bits(&got.tensor.data), bits(&data[..n]), "shape {shape:?}");
        assert!(!got.converted_from_f64 && !got.converted_from_int && !got.fortran_order);
    }
}

#[test]
fn encoder_header_is_byte_exact() {
    let bytes = encode_npy_f32(&[2, 3], &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
    let hlen = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
    assert_eq!(((10 + hlen) % 64, bytes.len()), (0, 10 + hlen + 24));
    let header = std::str::from_utf8(&bytes[10..10 + hlen]).expect("ascii header");
    let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    let rest = header.strip_prefix(dict).expect("literal dict first");
    assert_eq!(rest.trim_start_matches(' '), "\n");
    assert_eq!(bytes, NUMPY_2X3);
    assert_eq!(load(NUMPY_2X3).tensor, Tensor::new(vec![2, 3], vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]));
    assert!(String::from_utf8_lossy(&encode_npy_f32(&[3], &[0.0; 3])).contains("'shape': (3,), }"));
    assert!(String::from_utf8_lossy(&encode_npy_f32(&[], &[0.0])).contains("'shape': (), }"));
    for n in 0..200 {
        let b = encode_npy_f32(&[n], &vec![1.0; n]);
        assert_eq!((b.len() - 4 * n) % 64, 0, "n = {n}");
    }
}

#[test]
fn fortran_order_is_transposed_to_c_order() {
    // C array [[1, 2, 3], [4, 5, 6]] stored column-major.
    let got = load(&v1("<f4", "True", "(2, 3)", &f4le(&[1.0, 4.0, 2.0, 5.0, 3.0, 6.0])));
    assert!(got.fortran_order);
    assert_eq!(got.tensor, Tensor::new(vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
    // 3-D: element (i, j, k) holds 100i + 10j + k; its Fortran offset is i + 2j + 6k.
    let ijk = |c: usize| (c / 12, c / 4 % 3, c % 4);
    let mut f = vec![0.0f32; 24];
    for (i, j, k) in (0..24).map(ijk) {
        f[i + 2 * j + 6 * k] = (100 * i + 10 * j + k) as f32;
    }
    let want: Vec<f32> = (0..24).map(ijk).map(|(i, j, k)| (100 * i + 10 * j + k) as f32).collect();
    assert_eq!(load(&v1("<f4", "True", "(2, 3, 4)", &f4le(&f))).tensor.data, want);
}

#[test]
fn big_endian_native_and_f8() {
    let be: Vec<u8> = [1.5f32, -0.0, 7.0].iter().flat_map(|x| x.to_be_bytes()).collect();
    assert_eq!(bits(&load(&v1(">f4", "False", "(3,)", &be)).tensor.data), bits(&[1.5, -0.0, 7.0]));
    assert_eq!(load(&v1("=f4", "False", "(1,)", &f4le(&[2.0]))).tensor.data, [2.0]);
    // 0.1 needs rounding; 1 + 2^-24 is a tie (to even: 1.0); 1 + 3 * 2^-24 ties up to 1 + 2^-22.
    let vals = [0.1f64, 1.0 + 2f64.powi(-24), 1.0 + 3.0 * 2f64.powi(-24), -2.5, 1e300];
    let want = bits(&[0.1f32, 1.0, 1.0 + 2f32.powi(-22), -2.5, f32::INFINITY]);
    let le: Vec<u8> = vals.iter().flat_map(|x| x.to_le_bytes()).collect();
    let got = load(&v1("<f8", "False", "(5,)", &le));
    assert!(got.converted_from_f64);
    assert_eq!(bits(&got.tensor.data), want);
    let be: Vec<u8> = vals.iter().flat_map(|x| x.to_be_bytes()).collect();
    assert_eq!(bits(&load(&v1(">f8", "True", "(5, 1)", &be)).tensor.data), want);
}

/// Encodes integers as `size`-byte words, little- or big-endian (two's complement).
fn words(v: &[i128], size: usize, big_endian: bool) -> Vec<u8> {
    v.iter()
        .flat_map(|&x| {
            let le = (x as u64).to_le_bytes();
            let mut w = le[..size].to_vec();
            if big_endian {
                w.reverse();
            }
            w
        })
        .collect()
}

#[test]
fn integer_dtypes_convert_exactly() {
    let limit = 1i128 << 24;
    let cases: [(&str, usize, Vec<i128>); 8] = [
        ("i1", 1, vec![-128, -1, 0, 1, 127]),
        ("u1", 1, vec![0, 1, 128, 255, 7]),
        ("i2", 2, vec![-32768, -300, 0, 300, 32767]),
        ("u2", 2, vec![0, 1, 256, 40000, 65535]),
        ("i4", 4, vec![-limit, -70000, 0, 70000, limit]),
        ("u4", 4, vec![0, 1, 65536, limit - 1, limit]),
        ("i8", 8, vec![-limit, -5, 0, 5, limit]),
        ("u8", 8, vec![0, 1, 2, 1 << 20, limit]),
    ];
    for (kind, size, vals) in cases {
        let want: Vec<f32> = vals.iter().map(|&v| v as f32).collect();
        let orders: &[&str] = if size == 1 { &["|", "<", ">", "="] } else { &["<", ">", "="] };
        for order in orders {
            let d = format!("{order}{kind}");
            let got = load(&v1(&d, "False", "(5,)", &words(&vals, size, *order == ">")));
            assert_eq!(got.tensor.data, want, "{d}");
            assert!(got.converted_from_int && !got.converted_from_f64, "{d}");
        }
    }
    // Fortran order is transposed like float data.
    let got = load(&v1("<i2", "True", "(2, 3)", &words(&[1, 4, 2, 5, 3, 6], 2, false)));
    assert_eq!(got.tensor, Tensor::new(vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
}

#[test]
fn bool_dtype_converts_to_zero_and_one() {
    let got = load(&v1("|b1", "False", "(2, 2)", &[0, 1, 1, 0]));
    assert_eq!(got.tensor.data, [0.0, 1.0, 1.0, 0.0]);
    assert!(got.converted_from_int);
    assert_eq!(
        refuse(&v1("|b1", "False", "(3,)", &[0, 1, 2])),
        "element 2 of a bool array is byte 0x02, expected 0 or 1"
    );
}

#[test]
fn integers_binary32_cannot_hold_are_refused_by_index() {
    let exact = "binary32 cannot hold it exactly (integers are exact up to 2^24 = 16777216)";
    let vals = [0, 1, (1 << 24) + 1, 3];
    let e = refuse(&v1("<i4", "False", "(4,)", &words(&vals, 4, false)));
    assert_eq!(e, format!("element 2 is 16777217 in a '<i4' array: {exact}"));
    let e = refuse(&v1(">u4", "False", "(2,)", &words(&[u32::MAX.into(), 0], 4, true)));
    assert_eq!(e, format!("element 0 is 4294967295 in a '>u4' array: {exact}"));
    let e = refuse(&v1("<i8", "False", "(2,)", &words(&[-1, -(1 << 24) - 1], 8, false)));
    assert!(e.starts_with("element 1 is -16777217 in a '<i8' array"), "{e}");
    let e = refuse(&v1("<u8", "False", "(1,)", &words(&[u64::MAX.into()], 8, false)));
    assert!(e.starts_with("element 0 is 18446744073709551615 in a '<u8' array"), "{e}");
    let e = refuse(&v1("<i8", "False", "(1,)", &words(&[i64::MAX.into()], 8, false)));
    assert!(e.starts_with("element 0 is 9223372036854775807 in"), "{e}");
    // Larger integers that binary32 holds exactly are accepted, including i64::MIN = -2^63.
    let big = [1 << 25, 3 << 40, i64::MIN.into()];
    assert_eq!(
        load(&v1("<i8", "False", "(3,)", &words(&big, 8, false))).tensor.data,
        [2f32.powi(25), 3.0 * 2f32.powi(40), -(2f32.powi(63))]
    );
    // Fortran order: file position 1 of a (2, 2) array is row-major element 2.
    let e = refuse(&v1("<i4", "True", "(2, 2)", &words(&[0, (1 << 24) + 1, 0, 0], 4, false)));
    assert!(e.starts_with("element 2 is 16777217"), "{e}");
}

#[test]
fn version_2_and_3_headers_and_loose_dict_syntax() {
    for major in [2, 3] {
        let h = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n";
        assert_eq!(load(&npy(major, h, &f4le(&[1.0, 2.0]))).tensor.data, [1.0, 2.0]);
    }
    let loose = " {\"shape\":(1,2L,),'fortran_order':False,'descr':\"<f4\"} \n";
    assert_eq!(load(&npy(1, loose, &f4le(&[1.0, 2.0]))).tensor.shape, [1, 2]);
}

#[test]
fn refuses_bad_prefix_and_dtype() {
    let bad_magic = "not a .npy file: bad magic bytes";
    assert!(refuse(b"\x93NUMPZ\x01\x00\x00\x00").starts_with(bad_magic));
    assert!(refuse(b"PK\x03\x04").starts_with(bad_magic));
    assert_eq!(refuse(b"\x93NUMPY\x01"), "truncated header: need 10 bytes, file has 7");
    let good = v1("<f4", "False", "(1,)", &[0; 4]);
    assert!(refuse(&good[..30]).starts_with("truncated header: need "));
    let e = refuse(&npy(4, "{}", &[]));
    assert_eq!(e, "unsupported .npy format version 4.0 (supported: 1.0, 2.0, 3.0)");
    assert!(refuse(b"\x93NUMPY\x01\x01\x00\x00").starts_with("unsupported .npy format version 1.1"));
    for d in ["<f2", "|f4", "<c8", "|O", "<f16", "f4", "float32", "<f4 ", "|i4", "|u8", "<b2", "<i3", "<U1", "|S1"] {
        let msg = refuse(&v1(d, "False", "(1,)", &[0; 4]));
        assert!(msg.starts_with(&format!("unsupported dtype '{d}': accepted are float32/float64")), "{msg}");
    }
    let structured = "{'descr': [('a', '<f4'),\n ('b', '<i4', (2,))], 'fortran_order': False, 'shape': (1,)}";
    let msg = refuse(&npy(1, structured, &[0; 12]));
    assert!(msg.starts_with("unsupported dtype [('a', '<f4'),  ('b', '<i4', (2,))]: accepted"), "{msg}");
}

#[test]
fn refuses_bad_dicts() {
    let e = refuse(&npy(1, "{'descr': '<f4', 'shape': (1,), }", &[0; 4]));
    assert_eq!(e, "malformed .npy header: missing key 'fortran_order'");
    let e = refuse(&npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", &[0; 4]));
    assert_eq!(e, "malformed .npy header: unknown key 'x'");
    let deep = format!("{{'descr': {}1{}}}", "(".repeat(100), ")".repeat(100));
    let tail = "'fortran_order': False, 'descr': '<f4'}";
    for bad in [
        "",
        "{",
        "{}",
        "[]",
        "{'descr' '<f4'}",
        "{'descr': '<f4}",
        "{'descr': '<f4' 'shape': (1,)}",
        "{descr: 1}",
        "{'shape': (1,), 'shape': (1,), 'fortran_order': False, 'descr': '<f4'}",
        "{1: 2}",
        &deep,
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x",
        "{'descr': '<\\x66\\x34'}",
        "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
        "{'descr': '<f4', 'fortran_order': None}",
    ] {
        assert!(refuse(&npy(1, bad, &[0; 4])).starts_with("malformed .npy header: "), "{bad:?}");
    }
    for shape in ["(3)", "[3]", "(-1,)", "(1.5,)", "(,)", "('1',)", "(1,,)", "(True,)", "((1,),)"] {
        let msg = refuse(&npy(1, &format!("{{'shape': {shape}, {tail}"), &[0; 4]));
        assert!(msg.starts_with("malformed .npy header: "), "{shape} -> {msg}");
    }
}

#[test]
fn refuses_bad_shapes_before_allocating() {
    let e = refuse(&v1("<f4", "False", "(1000000, 1000000)", &[]));
    assert_eq!(e, "too many elements: shape (1000000, 1000000) has 1000000000000 elements, limit is 67108864");
    let e = decode_npy(&v1("<f4", "False", "(2, 3)", &[0; 24]), 5).expect_err("over the limit");
    assert_eq!(e.to_string(), "too many elements: shape (2, 3) has 6 elements, limit is 5");
    let e = refuse(&v1("<f4", "False", "(1099511627776, 1099511627776)", &[]));
    assert_eq!(e, "shape (1099511627776, 1099511627776) is too large: element count overflows");
    let e = decode_npy(&v1("<f8", "False", "(4611686018427387904,)", &[]), usize::MAX).expect_err("bytes");
    assert!(matches!(e, NpyError::ShapeOverflow(_)), "{e}");
    assert!(refuse(&v1("<f4", "False", "(99999999999999999999999,)", &[])).contains("too large"));
    let e = refuse(&v1("<f4", "False", "(2, 0)", &[]));
    assert_eq!(e, "empty tensor (shape (2, 0)): cannot convert an array with zero elements");
    assert!(refuse(&v1("<f4", "False", "(0, 1099511627776, 1099511627776)", &[])).starts_with("empty"));
    assert_eq!(refuse(&v1("<f4", "False", "()", &[0; 4])), "scalar .npy (shape ()), expected an array");
}

#[test]
fn refuses_wrong_data_length() {
    let e = refuse(&v1("<f4", "False", "(2, 3)", &[0; 12]));
    assert_eq!(e, "truncated data: header promises 24 bytes of data, file has 12");
    let e = refuse(&v1("<f8", "False", "(2,)", &[0; 17]));
    assert_eq!(e, "trailing bytes: header promises 16 bytes of data, file has 17");
    assert!(refuse(&[NUMPY_2X3, b"\n"].concat()).starts_with("trailing bytes"));
}

#[test]
fn never_panics_on_mutated_input() {
    let f8 = npy(2, "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3), }", &[0; 48]);
    let i8 = npy(1, "{'descr': '<i8', 'fortran_order': True, 'shape': (2, 1), }", &[0; 16]);
    let b1 = npy(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", &[0, 1, 0]);
    for base in [NUMPY_2X3, &f8, &i8, &b1] {
        for cut in 0..base.len() {
            assert!(decode_npy(&base[..cut], MAX).is_err());
        }
        for (pos, val) in (0..base.len()).flat_map(|p| (0..=255u8).map(move |v| (p, v))) {
            let mut b = base.to_vec();
            b[pos] = val;
            if let Err(e) = decode_npy(&b, 1000) {
                assert!(!e.to_string().contains('\n'));
            }
        }
    }
}

#[test]
fn read_npy_names_the_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = dir.path().join("good.npy");
    std::fs::write(&good, NUMPY_2X3).expect("write");
    assert_eq!(read_npy(&good, 6).expect("read").tensor.shape, [2, 3]);

    let bad = dir.path().join("x.npy");
    std::fs::write(&bad, v1("<f4", "False", "(160,)", &[0; 12])).expect("write");
    let msg = read_npy(&bad, MAX).expect_err("truncated").to_string();
    let want = "truncated data: header promises 640 bytes of data, file has 12";
    assert_eq!(msg, format!("{}: {want}", bad.display()));

    let missing = dir.path().join("missing.npy");
    let msg = read_npy(&missing, 6).expect_err("missing").to_string();
    let os = std::io::Error::from_raw_os_error(2).to_string();
    assert_eq!(msg, format!("{}: cannot read file: {os}", missing.display()));

    let huge = dir.path().join("huge.npy");
    std::fs::File::create(&huge).and_then(|f| f.set_len((1 << 20) + 81)).expect("sparse file");
    let msg = read_npy(&huge, 10).expect_err("too large").to_string();
    let want = "file is 1048657 bytes, over the 1048656-byte limit for 10 elements";
    assert_eq!(msg, format!("{}: {want}", huge.display()));
    // A device reports size 0 but never ends: its first bytes are refused, nothing more read.
    if Path::new("/dev/zero").exists() {
        let e = read_npy(Path::new("/dev/zero"), 10).expect_err("endless").to_string();
        assert!(e.ends_with("/dev/zero: not a .npy file: bad magic bytes (expected \\x93NUMPY)"), "{e}");
    }
    // A header that claims 2^31 - 1 floats is refused before anything is allocated, with the
    // limit; one within the limit but with a short file is refused for its length.
    let claim = dir.path().join("claim.npy");
    std::fs::write(&claim, v1("<f4", "False", "(2147483647,)", &[0; 16])).expect("write");
    let msg = read_npy(&claim, MAX).expect_err("over the limit").to_string();
    let want = format!("too many elements: shape (2147483647,) has 2147483647 elements, limit is {MAX}");
    assert_eq!(msg, format!("{}: {want}", claim.display()));
    std::fs::write(&claim, v1("<f4", "False", &format!("({MAX},)"), &[0; 16])).expect("write");
    let msg = read_npy(&claim, MAX).expect_err("short").to_string();
    assert!(msg.ends_with(&format!("truncated data: header promises {} bytes of data, file has 16", MAX * 4)), "{msg}");
}

/// The data is converted in blocks: a file of several blocks (and a ragged tail), in either
/// order, reads as the whole image decodes.
#[test]
fn read_in_blocks_equals_decode_in_memory() {
    use crate::tensor::npy::READ_BLOCK_BYTES;
    let dir = tempfile::tempdir().expect("temp dir");
    let n = (READ_BLOCK_BYTES / 8 * 3 + 5) / 5 * 5;
    let data: Vec<u8> = (0..n).flat_map(|i| (i as f64 * 0.5 - 7.0).to_le_bytes()).collect();
    for (order, shape) in [("False", format!("({n},)")), ("True", format!("({}, 5)", n / 5))] {
        let image = v1("<f8", order, &shape, &data);
        let path = dir.path().join("b.npy");
        std::fs::write(&path, &image).expect("write");
        assert_eq!(read_npy(&path, MAX).expect("read"), decode_npy(&image, MAX).expect("decode"));
        let mut trailing = image.clone();
        trailing.extend_from_slice(&[0; 3]);
        std::fs::write(&path, &trailing).expect("write");
        let e = read_npy(&path, MAX).expect_err("trailing").to_string();
        assert!(e.ends_with(&format!("file has {}", n * 8 + 3)), "{e}");
    }
}
