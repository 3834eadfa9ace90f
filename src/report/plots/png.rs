//! A small, dependency-free PNG encoder for 8-bit RGB images.
//!
//! Each row gets the PNG filter (None, Sub, Up or Paeth) with the smallest sum of absolute
//! residuals, and the filtered rows are compressed into one fixed-Huffman DEFLATE block with a
//! hash-chain LZ77 matcher. Plots are mostly flat colour, so this compresses a 1000x600 chart to
//! a few tens of kilobytes; it is not meant to rival libpng on photographs.

/// The eight bytes every PNG file starts with.
pub const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// Encodes `rgb` (row-major, 3 bytes per pixel, `width * height * 3` bytes) as a PNG file.
///
/// # Panics
/// If `rgb` is shorter than `width * height * 3` bytes or a dimension is zero.
pub fn encode_png_rgb(width: u32, height: u32, rgb: &[u8]) -> Vec<u8> {
    assert!(width > 0 && height > 0, "PNG dimensions must be non-zero");
    let stride = width as usize * 3;
    assert!(rgb.len() >= stride * height as usize, "RGB buffer too small for {width}x{height}");

    let mut raw = Vec::with_capacity((stride + 1) * height as usize);
    let zero_row = vec![0u8; stride];
    let mut candidates = [vec![0u8; stride], vec![0u8; stride], vec![0u8; stride], vec![0u8; stride]];
    for y in 0..height as usize {
        let row = &rgb[y * stride..(y + 1) * stride];
        let prev = if y == 0 { &zero_row[..] } else { &rgb[(y - 1) * stride..y * stride] };
        let mut best = (u64::MAX, 0usize);
        for (k, out) in candidates.iter_mut().enumerate() {
            let mut cost = 0u64;
            for i in 0..stride {
                let a = if i >= 3 { row[i - 3] } else { 0 };
                let b = prev[i];
                let c = if i >= 3 { prev[i - 3] } else { 0 };
                let pred = match k {
                    0 => 0,
                    1 => a,
                    2 => b,
                    _ => paeth(a, b, c),
                };
                let v = row[i].wrapping_sub(pred);
                out[i] = v;
                cost += u64::from((v as i8).unsigned_abs());
            }
            if cost < best.0 {
                best = (cost, k);
            }
        }
        raw.push([0u8, 1, 2, 4][best.1]);
        raw.extend_from_slice(&candidates[best.1]);
    }

    let mut zlib = vec![0x78, 0x01];
    deflate_fixed(&raw, &mut zlib);
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut png = PNG_SIGNATURE.to_vec();
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit depth, truecolour, deflate, adaptive filter, no interlace
    write_chunk(&mut png, b"IHDR", &ihdr);
    write_chunk(&mut png, b"IDAT", &zlib);
    write_chunk(&mut png, b"IEND", &[]);
    png
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = ((p - i16::from(a)).abs(), (p - i16::from(b)).abs(), (p - i16::from(c)).abs());
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

fn write_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

/// CRC-32 (ISO 3309, as used by PNG chunks).
pub(crate) fn crc32(data: &[u8]) -> u32 {
    !data.iter().fold(!0u32, |c, &b| CRC_TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8))
}

/// Adler-32 (the zlib stream checksum).
pub(crate) fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}

/// LSB-first bit sink for DEFLATE.
struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    bits: u32,
}

impl BitWriter<'_> {
    fn put(&mut self, value: u32, n: u32) {
        self.acc |= u64::from(value) << self.bits;
        self.bits += n;
        while self.bits >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.bits -= 8;
        }
    }
    /// Huffman codes are packed starting from their most significant bit.
    fn put_code(&mut self, code: u32, n: u32) {
        self.put(code.reverse_bits() >> (32 - n), n);
    }
    fn finish(mut self) {
        if self.bits > 0 {
            self.out.push(self.acc as u8);
        }
        self.bits = 0;
    }
    fn literal_or_length(&mut self, sym: u32) {
        match sym {
            0..=143 => self.put_code(0x30 + sym, 8),
            144..=255 => self.put_code(0x190 + sym - 144, 9),
            256..=279 => self.put_code(sym - 256, 7),
            _ => self.put_code(0xC0 + sym - 280, 8),
        }
    }
}

const LEN_BASE: [u16; 29] =
    [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LEN_EXTRA: [u8; 29] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
    8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] =
    [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

const WINDOW: usize = 32 * 1024;
const MAX_MATCH: usize = 258;
const HASH_BITS: u32 = 15;
const MAX_CHAIN: usize = 24;

/// Writes `data` as a single final fixed-Huffman DEFLATE block (RFC 1951 §3.2.6).
fn deflate_fixed(data: &[u8], out: &mut Vec<u8>) {
    let mut w = BitWriter { out, acc: 0, bits: 0 };
    w.put(1, 1); // BFINAL
    w.put(1, 2); // BTYPE = 01, fixed Huffman
    let hash = |i: usize| -> usize {
        let v = u32::from(data[i]) | u32::from(data[i + 1]) << 8 | u32::from(data[i + 2]) << 16;
        (v.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize
    };
    let mut head = vec![usize::MAX; 1 << HASH_BITS];
    let mut prev = vec![usize::MAX; WINDOW];
    let insert = |i: usize, head: &mut [usize], prev: &mut [usize]| {
        let h = hash(i);
        prev[i % WINDOW] = head[h];
        head[h] = i;
    };
    let mut i = 0;
    while i < data.len() {
        let (mut best_len, mut best_dist) = (0usize, 0usize);
        if i + 3 <= data.len() {
            let max_len = MAX_MATCH.min(data.len() - i);
            let mut cand = head[hash(i)];
            let mut chain = 0;
            while cand != usize::MAX && i - cand <= WINDOW && chain < MAX_CHAIN {
                let len = data[cand..].iter().zip(&data[i..i + max_len]).take_while(|(a, b)| a == b).count();
                if len > best_len {
                    (best_len, best_dist) = (len, i - cand);
                    if len == max_len {
                        break;
                    }
                }
                let next = prev[cand % WINDOW];
                if next == usize::MAX || next >= cand {
                    break;
                }
                cand = next;
                chain += 1;
            }
        }
        if best_len >= 3 {
            let li = LEN_BASE.partition_point(|&b| usize::from(b) <= best_len) - 1;
            w.literal_or_length(257 + li as u32);
            w.put((best_len - usize::from(LEN_BASE[li])) as u32, u32::from(LEN_EXTRA[li]));
            let di = DIST_BASE.partition_point(|&b| usize::from(b) <= best_dist) - 1;
            w.put_code(di as u32, 5);
            w.put((best_dist - usize::from(DIST_BASE[di])) as u32, u32::from(DIST_EXTRA[di]));
            for j in i..(i + best_len).min(data.len().saturating_sub(2)) {
                insert(j, &mut head, &mut prev);
            }
            i += best_len;
        } else {
            w.literal_or_length(u32::from(data[i]));
            if i + 3 <= data.len() {
                insert(i, &mut head, &mut prev);
            }
            i += 1;
        }
    }
    w.literal_or_length(256);
    w.finish();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_reference_values() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(adler32(&[]), 1);
    }

    #[test]
    fn flat_image_compresses_well() {
        let rgb = vec![255u8; 1000 * 600 * 3];
        let png = encode_png_rgb(1000, 600, &rgb);
        assert!(png.starts_with(&PNG_SIGNATURE));
        assert!(png.len() < 20_000, "{} bytes", png.len());
    }
}
