//! Strict `.npy` (NumPy array file) reader for float32/float64, integer and bool arrays (converted
//! to binary32 exactly, or refused), and writer for float32.

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
    /// The file held integer or bool values, converted here to binary32 exactly.
    pub converted_from_int: bool,
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
    /// A dtype other than float32/float64, a signed or unsigned integer of 1, 2, 4 or 8 bytes,
    /// or bool, each with a byte order that applies to it (text as in the header).
    #[error(
        "unsupported dtype {0}: accepted are float32/float64 ('<f4' '<f8'), \
         integers ('|i1' '|u1' '<i2' '<u2' '<i4' '<u4' '<i8' '<u8') and bool ('|b1'), '>' for big-endian"
    )]
    UnsupportedDtype(String),
    /// An integer element that binary32 cannot hold exactly (row-major index).
    #[error(
        "element {index} is {value} in a {dtype} array: \
         binary32 cannot hold it exactly (integers are exact up to 2^24 = 16777216)"
    )]
    InexactInt {
        /// Row-major index of the first such element in file order.
        index: usize,
        /// Its value.
        value: i128,
        /// The dtype text as in the header.
        dtype: String,
    },
    /// A bool element whose byte is neither 0 nor 1 (row-major index).
    #[error("element {index} of a bool array is byte 0x{byte:02x}, expected 0 or 1")]
    BadBool {
        /// Row-major index of the first such element in file order.
        index: usize,
        /// Its byte.
        byte: u8,
    },
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
/// Accepts float32 and float64 (either byte order); signed and unsigned integers of 1, 2, 4 and
/// 8 bytes (either byte order) and bool, converted to binary32 exactly (an integer binary32 cannot
/// hold exactly, and a bool byte other than 0 or 1, is refused, naming its row-major index); C or
/// Fortran order; format versions 1.0–3.0. float64 values are rounded to binary32. Refuses 0-d and
/// empty arrays, and arrays of more than `max_elements` elements (before allocating). Never panics.
pub fn decode_npy(bytes: &[u8], max_elements: usize) -> Result<NpyLoad, NpyError> {
    let h = decode_header(bytes, max_elements)?;
    let present = bytes.len() - h.data_start;
    h.check_data_len(present)?;
    let mut out = Elements::with_capacity(h.count);
    out.convert(&h, &bytes[h.data_start..])?;
    Ok(out.finish(h))
}

/// What the prefix and header of a `.npy` file say, checked.
#[derive(Debug)]
struct Header {
    dtype: Dtype,
    descr: String,
    fortran_order: bool,
    dims: Vec<usize>,
    count: usize,
    /// Offset of the first data byte.
    data_start: usize,
    /// Data bytes the shape and dtype require.
    data_bytes: usize,
}

impl Header {
    fn check_data_len(&self, present: usize) -> Result<(), NpyError> {
        let expected = self.data_bytes;
        if present < expected {
            return Err(NpyError::TruncatedData { expected, present });
        } else if present > expected {
            return Err(NpyError::TrailingBytes { expected, present });
        }
        Ok(())
    }
}

/// Decodes the prefix and header at the start of `bytes` (the data may follow or not).
fn decode_header(bytes: &[u8], max_elements: usize) -> Result<Header, NpyError> {
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

    let dtype = match &descr.kind {
        Kind::Str(d) => Dtype::parse(d),
        _ => None,
    };
    let Some(dtype) = dtype else {
        return Err(NpyError::UnsupportedDtype(descr.text));
    };
    let item_size = dtype.item_size();

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
    let data_bytes = count.checked_mul(item_size).ok_or(NpyError::ShapeOverflow(text))?;
    Ok(Header { dtype, descr: descr.text, fortran_order, dims, count, data_start, data_bytes })
}

/// The elements decoded so far, in file order.
struct Elements {
    data: Vec<f32>,
    f64_overflow: Option<(usize, f64)>,
}

impl Elements {
    fn with_capacity(count: usize) -> Self {
        Elements { data: Vec::with_capacity(count), f64_overflow: None }
    }

    /// Converts whole elements of `chunk` (a multiple of the item size), the next ones of the
    /// file.
    fn convert(&mut self, h: &Header, chunk: &[u8]) -> Result<(), NpyError> {
        let (dtype, item_size) = (h.dtype, h.dtype.item_size());
        let c_index = |at: usize| if h.fortran_order { fortran_to_c_index(&h.dims, at) } else { at };
        let first = self.data.len();
        for (i, c) in chunk.chunks_exact(item_size).enumerate() {
            let at = first + i;
            let w = if dtype.big_endian {
                c.iter().fold(0, |w, &b| w << 8 | u64::from(b))
            } else {
                c.iter().rev().fold(0, |w, &b| w << 8 | u64::from(b))
            };
            let x = match dtype.kind {
                DtypeKind::Float if item_size == 4 => f32::from_bits(w as u32),
                DtypeKind::Float => {
                    let v = f64::from_bits(w);
                    let x = v as f32;
                    if v.is_finite() && x.is_infinite() && self.f64_overflow.is_none() {
                        self.f64_overflow = Some((c_index(at), v));
                    }
                    x
                }
                DtypeKind::Bool if w > 1 => return Err(NpyError::BadBool { index: c_index(at), byte: w as u8 }),
                DtypeKind::Bool => w as f32,
                DtypeKind::Signed | DtypeKind::Unsigned => {
                    let unused = 64 - 8 * item_size as u32;
                    let value = if dtype.kind == DtypeKind::Signed {
                        i128::from(((w << unused) as i64) >> unused)
                    } else {
                        i128::from(w)
                    };
                    let x = value as f32;
                    // Casting back is exact for every binary32 integer (all below 2^64 in magnitude).
                    if x as i128 != value {
                        return Err(NpyError::InexactInt { index: c_index(at), value, dtype: h.descr.clone() });
                    }
                    x
                }
            };
            self.data.push(x);
        }
        Ok(())
    }

    fn finish(self, h: Header) -> NpyLoad {
        let data = if h.fortran_order { fortran_to_c(&h.dims, &self.data) } else { self.data };
        let (converted_from_f64, converted_from_int) =
            (h.dtype.kind == DtypeKind::Float && h.dtype.item_size() == 8, h.dtype.kind != DtypeKind::Float);
        NpyLoad {
            tensor: Tensor::new(h.dims, data),
            converted_from_f64,
            converted_from_int,
            fortran_order: h.fortran_order,
            f64_overflow: self.f64_overflow,
        }
    }
}

/// Row-major (C) index of the element at position `at` of a column-major (Fortran) file.
fn fortran_to_c_index(dims: &[usize], at: usize) -> usize {
    let (mut rest, mut idx, mut stride) = (at, 0usize, 1usize);
    let mut strides_c = vec![1usize; dims.len()];
    for k in (0..dims.len()).rev() {
        strides_c[k] = stride;
        stride = stride.saturating_mul(dims[k]);
    }
    for (&d, &s) in dims.iter().zip(&strides_c) {
        idx += rest % d * s;
        rest /= d;
    }
    idx
}

/// What a header's `descr` names.
#[derive(Debug, Clone, Copy, PartialEq)]
enum DtypeKind {
    Float,
    Signed,
    Unsigned,
    Bool,
}

/// An accepted element type: kind, width and byte order.
#[derive(Debug, Clone, Copy)]
struct Dtype {
    kind: DtypeKind,
    /// Bytes per element, as a digit of the descr: 1, 2, 4 or 8.
    size: u8,
    big_endian: bool,
}

impl Dtype {
    /// Parses `descr` text: `<f4 >f4 <f8 >f8`, `|i1 |u1 |b1`, `<i2 <u2 <i4 <u4 <i8 <u8` and their
    /// `>` forms (`=` is little-endian, as numpy writes on the machines it runs on). One-byte
    /// types also take `<`, `>` or `=`; wider ones refuse `|` (no byte order).
    fn parse(descr: &str) -> Option<Self> {
        let &[order, kind, size] = descr.as_bytes() else { return None };
        let kind = match kind {
            b'f' => DtypeKind::Float,
            b'i' => DtypeKind::Signed,
            b'u' => DtypeKind::Unsigned,
            b'b' => DtypeKind::Bool,
            _ => return None,
        };
        let size_ok = match kind {
            DtypeKind::Float => matches!(size, b'4' | b'8'),
            DtypeKind::Bool => size == b'1',
            DtypeKind::Signed | DtypeKind::Unsigned => matches!(size, b'1' | b'2' | b'4' | b'8'),
        };
        let order_ok = match order {
            b'<' | b'>' | b'=' => true,
            b'|' => size == b'1',
            _ => false,
        };
        (size_ok && order_ok).then_some(Dtype { kind, size: size - b'0', big_endian: order == b'>' })
    }

    fn item_size(self) -> usize {
        usize::from(self.size)
    }
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
/// The header is read and checked first (shape, element limit, data length against the file's
/// size) and the data is then converted in blocks of [`READ_BLOCK_BYTES`], so the peak memory
/// is the binary32 tensor itself (twice that for a Fortran-order file), not the file as well.
pub fn read_npy(path: &Path, max_elements: usize) -> Result<NpyLoad, NpyError> {
    let io = |error| NpyError::Io { path: path.to_path_buf(), error };
    let in_file = |e| NpyError::InFile { path: path.to_path_buf(), error: Box::new(e) };
    let limit = (max_elements as u64).saturating_mul(8).saturating_add(HEADER_ALLOWANCE);
    let too_large = |size| NpyError::FileTooLarge { path: path.to_path_buf(), size, limit, max_elements };
    let file = std::fs::File::open(path).map_err(io)?;
    crate::input::note_input(path);
    let meta = file.metadata().map_err(io)?;
    let size = meta.len();
    if size > limit {
        return Err(too_large(size));
    }
    let mut reader = std::io::BufReader::new(file.take(limit.saturating_add(1)));
    // The prefix (magic, version, header length), then the header it announces.
    let mut head = Vec::new();
    reader.by_ref().take(12).read_to_end(&mut head).map_err(io)?;
    let len_size = if head.get(6) == Some(&1) { 2 } else { 4 };
    let header_len = head.get(8..8 + len_size).map_or(0, |b| b.iter().rev().fold(0u64, |n, &b| n << 8 | u64::from(b)));
    let header_end = (8 + len_size as u64).saturating_add(header_len).min(HEADER_ALLOWANCE);
    if header_end > head.len() as u64 {
        reader.by_ref().take(header_end - head.len() as u64).read_to_end(&mut head).map_err(io)?;
    }
    let h = decode_header(&head, max_elements).map_err(in_file)?;
    let mut pending = head.split_off(h.data_start.min(head.len()));
    if meta.is_file() {
        // The data's length is known from the file's size: checked before allocating.
        h.check_data_len((size as usize).saturating_sub(h.data_start)).map_err(in_file)?;
    }
    // A file of unknown size (a pipe) grows its tensor as the data comes.
    let mut out = Elements::with_capacity(if meta.is_file() { h.count } else { 0 });
    let item_size = h.dtype.item_size();
    let mut converted = 0usize;
    loop {
        let want = READ_BLOCK_BYTES.saturating_sub(pending.len()) as u64;
        let got = reader.by_ref().take(want).read_to_end(&mut pending).map_err(io)?;
        if converted + pending.len() > h.data_bytes {
            // Only a file of unknown size gets here: count what follows, up to the limit.
            let rest = std::io::copy(&mut reader, &mut std::io::sink()).map_err(io)? as usize;
            let present = converted + pending.len() + rest;
            if (h.data_start + present) as u64 > limit {
                return Err(too_large((h.data_start + present) as u64));
            }
            return Err(in_file(NpyError::TrailingBytes { expected: h.data_bytes, present }));
        }
        let whole = pending.len() / item_size * item_size;
        out.convert(&h, &pending[..whole]).map_err(in_file)?;
        converted += whole;
        pending.drain(..whole);
        if got == 0 {
            break;
        }
    }
    h.check_data_len(converted + pending.len()).map_err(in_file)?;
    Ok(out.finish(h))
}

/// Bytes of a `.npy` file's data converted at a time by [`read_npy`].
pub const READ_BLOCK_BYTES: usize = 1 << 16;

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
#[path = "npy_tests.rs"]
mod tests;
