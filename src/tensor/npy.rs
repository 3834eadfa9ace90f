//! Strict `.npy` (NumPy array file) reader for float32/float64 and writer for float32.

use super::Tensor;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Bytes allowed on top of `max_elements * 8` for the header when checking a file's size.
const HEADER_ALLOWANCE: u64 = 1 << 20;
const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// Nesting limit for tuples/lists in the header (keeps adversarial input off the stack).
const MAX_DEPTH: usize = 16;

/// A decoded `.npy` file.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyLoad {
    /// The array, always in row-major (C) order.
    pub tensor: Tensor,
    /// The file held float64 values, rounded here to binary32 (round-to-nearest-even).
    pub converted_from_f64: bool,
    /// The file stored the array in column-major (Fortran) order; it has been transposed.
    pub fortran_order: bool,
    /// The first float64 element (row-major index, value) that is finite but beyond binary32's
    /// range, so rounding made it infinite; `None` when every value fit.
    pub f64_overflow: Option<(usize, f64)>,
}

/// Why a `.npy` file was refused. Each message is a single line.
#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    /// The file could not be opened or read.
    #[error("{}: cannot read file: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
    /// The file is larger than any accepted array could be (checked before reading it).
    #[error("{}: file is {size} bytes, over the {limit}-byte limit for {max_elements} elements", path.display())]
    FileTooLarge {
        /// The file.
        path: PathBuf,
        /// Its size in bytes (for a file of unknown size: the bytes read before stopping).
        size: u64,
        /// `max_elements * 8` plus a 1 MiB header allowance.
        limit: u64,
        /// The caller's element limit.
        max_elements: usize,
    },
    /// A decoding error, prefixed with the file it came from.
    #[error("{}: {error}", path.display())]
    InFile {
        /// The file.
        path: PathBuf,
        /// What [`decode_npy`] refused.
        error: Box<NpyError>,
    },
    /// The first six bytes are not `\x93NUMPY`.
    #[error("not a .npy file: bad magic bytes (expected \\x93NUMPY)")]
    BadMagic,
    /// A format version other than 1.0, 2.0 or 3.0.
    #[error("unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0, 3.0)")]
    UnsupportedVersion {
        /// Major version byte.
        major: u8,
        /// Minor version byte.
        minor: u8,
    },
    /// The file ends inside the fixed prefix or the header.
    #[error("truncated header: need {expected} bytes, file has {present}")]
    TruncatedHeader {
        /// Bytes needed to reach the end of the prefix or header.
        expected: usize,
        /// Bytes in the file.
        present: usize,
    },
    /// The header is not a well-formed Python dict literal of the expected form.
    #[error("malformed .npy header: {0}")]
    MalformedHeader(String),
    /// A required header key is absent.
    #[error("malformed .npy header: missing key '{0}'")]
    MissingKey(&'static str),
    /// A header key other than `descr`, `fortran_order` and `shape`.
    #[error("malformed .npy header: unknown key '{0}'")]
    UnknownKey(String),
    /// A dtype other than float32/float64 with an explicit byte order (text as in the header).
    #[error("unsupported dtype {0}: only float32 and float64 ('<f4' '>f4' '<f8' '>f8') are accepted")]
    UnsupportedDtype(String),
    /// A 0-d array.
    #[error("scalar .npy (shape ()), expected an array")]
    Scalar,
    /// An array with a zero-length axis (shape text as in the header).
    #[error("empty tensor (shape {0}): cannot convert an array with zero elements")]
    Empty(String),
    /// The element or byte count does not fit in `usize` (shape text as in the header).
    #[error("shape {0} is too large: element count overflows")]
    ShapeOverflow(String),
    /// More elements than the caller's limit.
    #[error("too many elements: shape {shape} has {count} elements, limit is {limit}")]
    TooManyElements {
        /// Shape text as in the header.
        shape: String,
        /// Element count of the shape.
        count: usize,
        /// The caller's `max_elements`.
        limit: usize,
    },
    /// The data section is shorter than the shape requires.
    #[error("truncated data: header promises {expected} bytes of data, file has {present}")]
    TruncatedData {
        /// Data bytes the header's shape and dtype require.
        expected: usize,
        /// Data bytes after the header.
        present: usize,
    },
    /// Bytes follow the data section.
    #[error("trailing bytes: header promises {expected} bytes of data, file has {present}")]
    TrailingBytes {
        /// Data bytes the header's shape and dtype require.
        expected: usize,
        /// Data bytes after the header.
        present: usize,
    },
}

/// A Python literal from the header, with its source text (used in error messages).
#[derive(Debug)]
struct Value {
    kind: Kind,
    text: String,
}

#[derive(Debug)]
enum Kind {
    Str(String),
    Bool(bool),
    /// Optional '-' then digits (a Python 2 'L' suffix is dropped).
    Int(String),
    Tuple(Vec<Value>),
    List,
}

/// Header bytes as one-line text: control characters (newlines, tabs) become spaces.
fn one_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace(|c: char| c.is_control(), " ")
}

fn malformed<T>(msg: String) -> Result<T, NpyError> {
    Err(NpyError::MalformedHeader(msg))
}

/// Recursive-descent parser over the header bytes.
struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn err<T>(&self, what: &str) -> Result<T, NpyError> {
        let found = match self.s.get(self.pos) {
            Some(&c) if c.is_ascii_graphic() => format!("'{}'", c as char),
            Some(&c) => format!("byte 0x{c:02x}"),
            None => "end of header".to_string(),
        };
        malformed(format!("expected {what} at byte {}, found {found}", self.pos))
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Skips whitespace, then consumes `c` if it is next.
    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        let hit = self.peek() == Some(c);
        self.pos += usize::from(hit);
        hit
    }

    /// Consumes bytes while `f` holds and returns them as text.
    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> String {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        one_line(&self.s[start..self.pos])
    }

    fn dict(&mut self) -> Result<Vec<(String, Value)>, NpyError> {
        if !self.eat(b'{') {
            return self.err("'{'");
        }
        let mut entries = Vec::new();
        while !self.eat(b'}') {
            let key = match self.value(0)?.kind {
                Kind::Str(key) => key,
                _ => return malformed(format!("dict keys must be strings (before byte {})", self.pos)),
            };
            if !self.eat(b':') {
                return self.err("':'");
            }
            entries.push((key, self.value(0)?));
            if self.eat(b'}') {
                break;
            } else if !self.eat(b',') {
                return self.err("',' or '}'");
            }
        }
        self.skip_ws();
        if self.pos != self.s.len() {
            return self.err("end of header after the dict");
        }
        Ok(entries)
    }

    fn value(&mut self, depth: usize) -> Result<Value, NpyError> {
        self.skip_ws();
        let start = self.pos;
        let kind = match self.peek() {
            _ if depth > MAX_DEPTH => return malformed("values nested too deeply".into()),
            Some(q @ (b'\'' | b'"')) => {
                self.pos += 1;
                let body = self.take_while(|c| c != q && c != b'\\' && c != b'\n');
                if self.peek() != Some(q) {
                    return malformed(format!("unterminated string or escape at byte {start}"));
                }
                self.pos += 1;
                Kind::Str(body)
            }
            Some(open @ (b'(' | b'[')) => {
                self.pos += 1;
                let close = if open == b'(' { b')' } else { b']' };
                let (mut items, mut comma) = (Vec::new(), false);
                while !self.eat(close) {
                    items.push(self.value(depth + 1)?);
                    comma = self.eat(b',');
                    if !comma && self.eat(close) {
                        break;
                    } else if !comma {
                        return self.err(if open == b'(' { "',' or ')'" } else { "',' or ']'" });
                    }
                }
                match (open, items.pop()) {
                    (b'[', _) => Kind::List,
                    (_, Some(item)) if items.is_empty() && !comma => item.kind, // `(x)` is just `x`
                    (_, last) => Kind::Tuple(items.into_iter().chain(last).collect()),
                }
            }
            Some(b'-' | b'0'..=b'9') => {
                self.pos += usize::from(self.peek() == Some(b'-'));
                let digits = self.take_while(|c| c.is_ascii_digit());
                if digits.is_empty() {
                    return self.err("a digit");
                }
                let text = one_line(&self.s[start..self.pos]);
                self.pos += usize::from(self.peek() == Some(b'L'));
                Kind::Int(text)
            }
            Some(c) if c.is_ascii_alphabetic() => match self.take_while(|c| c.is_ascii_alphanumeric()).as_str() {
                "True" => Kind::Bool(true),
                "False" => Kind::Bool(false),
                name => return malformed(format!("unexpected name '{name}' at byte {start}")),
            },
            _ => return self.err("a value"),
        };
        Ok(Value { kind, text: one_line(&self.s[start..self.pos]) })
    }
}

/// Parses the header dict into (descr, fortran_order, shape); all three keys are required.
fn parse_header(header: &[u8]) -> Result<(Value, bool, Value), NpyError> {
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    for (key, value) in (Parser { s: header, pos: 0 }).dict()? {
        let slot = match key.as_str() {
            "descr" => &mut descr,
            "fortran_order" => &mut fortran,
            "shape" => &mut shape,
            _ => return Err(NpyError::UnknownKey(key)),
        };
        if slot.replace(value).is_some() {
            return malformed(format!("duplicate key '{key}'"));
        }
    }
    let fortran = fortran.ok_or(NpyError::MissingKey("fortran_order"))?;
    let Kind::Bool(fortran_order) = fortran.kind else {
        return malformed(format!("fortran_order must be True or False, not {}", fortran.text));
    };
    let descr = descr.ok_or(NpyError::MissingKey("descr"))?;
    Ok((descr, fortran_order, shape.ok_or(NpyError::MissingKey("shape"))?))
}

/// Decodes a `.npy` image held in memory.
///
/// Accepts float32 and float64 (either byte order), C or Fortran order, format versions 1.0–3.0;
/// float64 values are rounded to binary32. Refuses 0-d and empty arrays, and arrays of more than
/// `max_elements` elements (before allocating). Never panics.
pub fn decode_npy(bytes: &[u8], max_elements: usize) -> Result<NpyLoad, NpyError> {
    let truncated = |expected| NpyError::TruncatedHeader { expected, present: bytes.len() };
    let n = bytes.len().min(MAGIC.len());
    if bytes[..n] != MAGIC[..n] {
        return Err(NpyError::BadMagic);
    }
    let (major, minor) = match bytes.get(6..8) {
        Some(v) => (v[0], v[1]),
        None => return Err(truncated(10)),
    };
    let len_size = match (major, minor) {
        (1, 0) => 2,
        (2 | 3, 0) => 4,
        _ => return Err(NpyError::UnsupportedVersion { major, minor }),
    };
    let header_len = bytes.get(8..8 + len_size).ok_or_else(|| truncated(8 + len_size))?;
    let header_len = header_len.iter().rev().fold(0usize, |n, &b| n << 8 | usize::from(b));
    let data_start = header_len.saturating_add(8 + len_size);
    let header = bytes.get(8 + len_size..data_start).ok_or_else(|| truncated(data_start))?;
    let (descr, fortran_order, shape) = parse_header(header)?;

    let (big_endian, item_size) = match &descr.kind {
        Kind::Str(d) => match d.as_bytes() {
            [order @ (b'<' | b'>' | b'='), b'f', size @ (b'4' | b'8')] => (*order == b'>', usize::from(size - b'0')),
            _ => return Err(NpyError::UnsupportedDtype(descr.text)),
        },
        _ => return Err(NpyError::UnsupportedDtype(descr.text)),
    };

    let text = shape.text;
    let dims: Option<Vec<&str>> = match &shape.kind {
        Kind::Tuple(items) => items
            .iter()
            .map(|v| match &v.kind {
                Kind::Int(t) if !t.starts_with('-') => Some(t.as_str()),
                _ => None,
            })
            .collect(),
        _ => None,
    };
    let Some(dims) = dims else {
        return malformed(format!("shape must be a tuple of non-negative ints, found {text}"));
    };
    let dims: Result<Vec<usize>, _> = dims.iter().map(|t| t.parse::<usize>()).collect();
    let dims = dims.map_err(|_| NpyError::ShapeOverflow(text.clone()))?;
    if dims.is_empty() {
        return Err(NpyError::Scalar);
    }
    if dims.contains(&0) {
        return Err(NpyError::Empty(text));
    }
    let count = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let count = count.ok_or_else(|| NpyError::ShapeOverflow(text.clone()))?;
    if count > max_elements {
        return Err(NpyError::TooManyElements { shape: text, count, limit: max_elements });
    }
    let expected = count.checked_mul(item_size).ok_or(NpyError::ShapeOverflow(text))?;
    let present = bytes.len() - data_start;
    if present < expected {
        return Err(NpyError::TruncatedData { expected, present });
    } else if present > expected {
        return Err(NpyError::TrailingBytes { expected, present });
    }

    let mut f64_overflow: Option<(usize, f64)> = None;
    let data: Vec<f32> = bytes[data_start..]
        .chunks_exact(item_size)
        .enumerate()
        .map(|(at, c)| {
            let w = if big_endian {
                c.iter().fold(0, |w, &b| w << 8 | u64::from(b))
            } else {
                c.iter().rev().fold(0, |w, &b| w << 8 | u64::from(b))
            };
            if item_size == 4 {
                f32::from_bits(w as u32)
            } else {
                let v = f64::from_bits(w);
                let x = v as f32;
                if v.is_finite() && x.is_infinite() && f64_overflow.is_none() {
                    f64_overflow = Some((at, v));
                }
                x
            }
        })
        .collect();
    if let (Some((at, v)), true) = (f64_overflow, fortran_order) {
        // File order is column-major: turn the file position into the row-major index.
        let (mut rest, mut idx) = (at, 0usize);
        let mut strides_c = vec![1usize; dims.len()];
        for k in (0..dims.len().saturating_sub(1)).rev() {
            strides_c[k] = strides_c[k + 1] * dims[k + 1];
        }
        for (k, &d) in dims.iter().enumerate() {
            let i_k = rest % d;
            rest /= d;
            idx += i_k * strides_c[k];
        }
        f64_overflow = Some((idx, v));
    }
    let data = if fortran_order { fortran_to_c(&dims, &data) } else { data };
    Ok(NpyLoad { tensor: Tensor::new(dims, data), converted_from_f64: item_size == 8, fortran_order, f64_overflow })
}

/// Reorders column-major `src` of the given (non-empty, zero-free) shape into row-major order.
fn fortran_to_c(shape: &[usize], src: &[f32]) -> Vec<f32> {
    let mut strides = vec![1usize; shape.len()];
    for a in (1..shape.len()).rev() {
        strides[a - 1] = strides[a] * shape[a];
    }
    let (mut dst, mut idx, mut off) = (vec![0.0f32; src.len()], vec![0usize; shape.len()], 0);
    for &v in src {
        dst[off] = v;
        // Advance the multi-index with axis 0 fastest, keeping `off` its C offset.
        for a in 0..shape.len() {
            idx[a] += 1;
            off += strides[a];
            if idx[a] < shape[a] {
                break;
            }
            idx[a] = 0;
            off -= shape[a] * strides[a];
        }
    }
    dst
}

/// Reads and decodes a `.npy` file; every error message starts with `path`.
///
/// Files larger than `max_elements * 8` bytes plus a 1 MiB header allowance are refused from
/// their metadata, without being read (and reading stops there for files of unknown size).
pub fn read_npy(path: &Path, max_elements: usize) -> Result<NpyLoad, NpyError> {
    let io = |error| NpyError::Io { path: path.to_path_buf(), error };
    let limit = (max_elements as u64).saturating_mul(8).saturating_add(HEADER_ALLOWANCE);
    let too_large = |size| NpyError::FileTooLarge { path: path.to_path_buf(), size, limit, max_elements };
    let file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    if size > limit {
        return Err(too_large(size));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    decode_npy(&bytes, max_elements).map_err(|e| NpyError::InFile { path: path.to_path_buf(), error: Box::new(e) })
}

/// Encodes a little-endian float32 C-order `.npy` image, byte-identical to `numpy.save`.
///
/// Format version 1.0 (2.0 only if the header would exceed 65535 bytes); the header is
/// space-padded and ends with `'\n'` so the data starts at a multiple of 64 bytes.
///
/// # Panics
/// If the product of `shape` is not `data.len()`.
pub fn encode_npy_f32(shape: &[usize], data: &[f32]) -> Vec<u8> {
    let count = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    assert_eq!(count, Some(data.len()), "encode_npy_f32: shape {shape:?} does not match data");
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let comma = if dims.len() == 1 { "," } else { "" };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}{comma}), }}", dims.join(", "));
    // Like numpy: room for axis 0 to grow to 21 digits, then 1..=64 spaces and '\n' to align.
    let grow = dims.first().map_or(0, |d| 21usize.saturating_sub(d.len()));
    let padded = |prefix: usize| header.len() + grow + 1 + 64 - (prefix + header.len() + grow + 1) % 64;
    let v1 = padded(10) <= usize::from(u16::MAX);
    let total = if v1 { padded(10) } else { padded(12) };
    header = format!("{header:<0$}\n", total - 1);
    let mut out = Vec::with_capacity(12 + total + 4 * data.len());
    out.extend_from_slice(MAGIC);
    if v1 {
        out.extend([1, 0].into_iter().chain((total as u16).to_le_bytes()));
    } else {
        out.extend([2, 0].into_iter().chain((total as u32).to_le_bytes()));
    }
    out.extend_from_slice(header.as_bytes());
    out.extend(data.iter().flat_map(|v| v.to_bits().to_le_bytes()));
    out
}

#[cfg(test)]
mod tests {
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
            assert!(!got.converted_from_f64 && !got.fortran_order);
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
        for d in ["<i4", "|u1", "<f2", "|f4", "<c8", "|O", "<f16", "f4", "float32", "<f4 "] {
            let msg = refuse(&v1(d, "False", "(1,)", &[0; 4]));
            assert!(msg.starts_with(&format!("unsupported dtype '{d}': only float32 and float64")), "{msg}");
        }
        let structured = "{'descr': [('a', '<f4'),\n ('b', '<i4', (2,))], 'fortran_order': False, 'shape': (1,)}";
        let msg = refuse(&npy(1, structured, &[0; 12]));
        assert!(msg.starts_with("unsupported dtype [('a', '<f4'),  ('b', '<i4', (2,))]: only"), "{msg}");
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
        assert_eq!(e, "too many elements: shape (1000000, 1000000) has 1000000000000 elements, limit is 2147483648");
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
        for base in [NUMPY_2X3, &f8] {
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
        // A device reports size 0 but never ends: reading stops one byte past the limit.
        if Path::new("/dev/zero").exists() {
            let e = read_npy(Path::new("/dev/zero"), 10).expect_err("endless");
            assert!(matches!(e, NpyError::FileTooLarge { size: 1048657, .. }), "{e}");
        }
    }
}
