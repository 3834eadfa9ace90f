//! The byte budget of one data set load: every byte read from a file, decompressed from an
//! archive or a `.gz` file, or converted to binary32 is charged to it, and a read that would pass
//! it is refused before its buffer is allocated (from the file's metadata or the member's
//! declared size) and stopped one byte past it while reading (a device such as `/dev/zero`
//! reports size 0 and never ends).

use super::DataError;
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// How much one load may read, decompress and convert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes read from files, decompressed, or held as binary32 samples, over the whole load.
    pub max_bytes: u64,
}

impl Default for Limits {
    /// 4 GiB.
    fn default() -> Self {
        Limits { max_bytes: 4 << 30 }
    }
}

/// The bytes left of a load's [`Limits`].
#[derive(Debug)]
pub(super) struct Budget {
    left: u64,
    limit: u64,
}

impl Budget {
    pub(super) fn new(limits: &Limits) -> Self {
        Budget { left: limits.max_bytes, limit: limits.max_bytes }
    }

    /// Binary32 elements that fit in what is left (for `decode_npy`'s element limit).
    pub(super) fn f32_elements_left(&self) -> usize {
        usize::try_from(self.left / 4).unwrap_or(usize::MAX)
    }

    /// Charges `bytes` about to be held (read, decompressed or converted), or refuses them.
    pub(super) fn charge(&mut self, at: &str, bytes: u64) -> Result<(), DataError> {
        if bytes > self.left {
            return Err(self.too_large(at, bytes));
        }
        self.left -= bytes;
        Ok(())
    }

    /// The error for needing `size` bytes more than what is left.
    pub(super) fn too_large(&self, at: &str, size: u64) -> DataError {
        DataError::TooLarge { at: at.to_string(), size, left: self.left, limit: self.limit }
    }

    /// Reads `reader` to its end, stopping one byte past what is left; `expected` (a file's
    /// metadata or a member's declared size) is checked first and reserves the buffer.
    fn read_bounded(&mut self, at: &str, reader: impl Read, expected: u64) -> Result<Vec<u8>, DataError> {
        if expected > self.left {
            return Err(self.too_large(at, expected));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
        let read = reader.take(self.left.saturating_add(1)).read_to_end(&mut bytes);
        read.map_err(|error| DataError::Io { at: at.to_string(), error })?;
        self.charge(at, bytes.len() as u64)?;
        Ok(bytes)
    }

    /// Reads a whole file.
    pub(super) fn read_file(&mut self, path: &Path) -> Result<Vec<u8>, DataError> {
        let at = path.display().to_string();
        let (file, size) = open(path)?;
        self.read_bounded(&at, file, size)
    }

    /// Reads a gzip file and returns its decompressed bytes; the compressed file must fit what
    /// is left too, but only the decompressed bytes are charged (it is streamed, not held).
    pub(super) fn read_gz_file(&mut self, path: &Path) -> Result<Vec<u8>, DataError> {
        let at = path.display().to_string();
        let (file, size) = open(path)?;
        if size > self.left {
            return Err(self.too_large(&at, size));
        }
        let decoder = flate2::read::GzDecoder::new(file.take(self.left.saturating_add(1)));
        self.read_bounded(&at, decoder, 0)
    }

    /// Decompresses a zip member whose header declares `declared` bytes; the actual bytes must
    /// match the declaration (the reader is cut one byte past it).
    pub(super) fn read_member(&mut self, at: &str, member: impl Read, declared: u64) -> Result<Vec<u8>, DataError> {
        let bytes = self.read_bounded(at, member.take(declared.saturating_add(1)), declared)?;
        let present = bytes.len() as u64;
        if present < declared {
            let what = "member".to_string();
            return Err(DataError::Truncated { at: at.to_string(), what, expected: declared, present });
        } else if present > declared {
            let problem = format!("member decompresses to more than the {declared} bytes its header declares");
            return Err(DataError::Invalid { at: at.to_string(), problem });
        }
        Ok(bytes)
    }
}

/// Opens a file and returns its size from the metadata.
fn open(path: &Path) -> Result<(File, u64), DataError> {
    let io = |error| DataError::Io { at: path.display().to_string(), error };
    let file = File::open(path).map_err(io)?;
    crate::input::note_input(path);
    let size = file.metadata().map_err(io)?.len();
    Ok((file, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_until_the_limit_and_refuses_past_it() {
        let mut b = Budget::new(&Limits { max_bytes: 10 });
        assert_eq!(b.f32_elements_left(), 2);
        b.charge("a", 6).expect("fits");
        let e = b.charge("b", 5).expect_err("over").to_string();
        assert_eq!(e, "b: needs 5 bytes, over the 4 bytes left of the 10-byte limit for one data set");
        assert_eq!(b.read_member("m", &[1u8, 2, 3][..], 3).expect("fits"), [1, 2, 3]);
        assert!(b.read_member("m", &[1u8, 2][..], 2).is_err(), "1 byte left of 10");
    }

    #[test]
    fn members_must_match_their_declared_size() {
        let mut b = Budget::new(&Limits::default());
        let e = b.read_member("a.npz: x.npy", &[0u8; 3][..], 5).expect_err("short").to_string();
        assert_eq!(e, "a.npz: x.npy: truncated: member needs 5 bytes, has 3");
        let e = b.read_member("a.npz: x.npy", &[0u8; 9][..], 5).expect_err("long").to_string();
        assert_eq!(e, "a.npz: x.npy: member decompresses to more than the 5 bytes its header declares");
    }

    #[test]
    fn endless_files_stop_one_byte_past_the_limit() {
        if Path::new("/dev/zero").exists() {
            let mut b = Budget::new(&Limits { max_bytes: 1000 });
            let e = b.read_file(Path::new("/dev/zero")).expect_err("endless");
            assert!(matches!(e, DataError::TooLarge { size: 1001, .. }), "{e}");
        }
    }
}
