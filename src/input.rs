//! The files a run reads: every read has a size limit checked while reading (an endless file
//! such as `/dev/zero` is refused at the limit, never read whole), and every file read is
//! remembered for the life of the process so that no output of the same run replaces one of
//! its inputs (`report::write_atomic` refuses such a target; see [`is_input`]).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Most bytes of a text input (arch, technology table, workload, sweep, golden case, sweep
/// point file): 16 MiB, far above any real description.
pub const MAX_TEXT_BYTES: u64 = 16 << 20;

/// Identity of a file: device and inode where the OS has them, else its canonical path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FileId {
    #[cfg(unix)]
    Inode(u64, u64),
    #[allow(dead_code)]
    Path(PathBuf),
}

fn file_id(path: &Path) -> Option<FileId> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| FileId::Inode(m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        std::fs::canonicalize(path).ok().map(FileId::Path)
    }
}

static INPUTS: Mutex<Vec<(FileId, PathBuf)>> = Mutex::new(Vec::new());

/// Remembers `path` as an input of this process (no effect if it does not exist).
pub fn note_input(path: &Path) {
    if let Some(id) = file_id(path) {
        if let Ok(mut v) = INPUTS.lock() {
            // An entry for a deleted file whose inode the OS has given to this one is stale.
            v.retain(|(i, noted)| *i != id || file_id(noted).as_ref() == Some(i));
            if !v.iter().any(|(i, _)| *i == id) {
                v.push((id, path.to_path_buf()));
            }
        }
    }
}

/// The input `path` is (the same file, whatever the name), if it is one. An input that has
/// since been deleted no longer counts, even if the OS has reused its inode for `path`.
pub fn is_input(path: &Path) -> Option<PathBuf> {
    let id = file_id(path)?;
    let inputs = INPUTS.lock().ok()?;
    inputs.iter().find(|(i, noted)| *i == id && file_id(noted).as_ref() == Some(&id)).map(|(_, p)| p.clone())
}

/// Opens `path` for reading (a folder is an error) and notes it as an input, for readers that
/// stream it with their own limits.
pub fn open_input(path: &Path) -> std::io::Result<std::fs::File> {
    let file = std::fs::File::open(path)?;
    if file.metadata()?.is_dir() {
        return Err(std::io::Error::new(std::io::ErrorKind::IsADirectory, "it is a folder, not a file"));
    }
    note_input(path);
    Ok(file)
}

/// Reads at most `limit` bytes of `path` and notes it as an input; a longer file (or an
/// endless one) is an `InvalidData` error saying the limit.
pub fn read_limited(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let file = open_input(path)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than the limit of {limit} bytes for this kind of input"),
        ));
    }
    Ok(bytes)
}

/// [`read_text`] for a file the run itself owns and may rewrite (a sweep's point files): the
/// same limit, but not remembered as an input.
pub fn read_own_text(path: &Path, limit: u64) -> std::io::Result<String> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than the limit of {limit} bytes for this kind of input"),
        ));
    }
    String::from_utf8(bytes)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not UTF-8 text: {e}")))
}

/// [`read_limited`] as UTF-8 text.
pub fn read_text(path: &Path, limit: u64) -> std::io::Result<String> {
    String::from_utf8(read_limited(path, limit)?)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not UTF-8 text: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_file_is_refused_at_the_limit() {
        let e = read_text(Path::new("/dev/zero"), 1024).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("1024 bytes"), "{e}");
    }

    #[test]
    fn files_read_are_remembered_by_identity() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.ron");
        std::fs::write(&p, "()").unwrap();
        assert_eq!(read_text(&p, 10).unwrap(), "()");
        let other = d.path().join("b.ron");
        std::fs::write(&other, "()").unwrap();
        assert!(is_input(&d.path().join("./a.ron")).is_some());
        assert!(is_input(&other).is_none());
        assert!(read_text(d.path(), 10).is_err(), "a folder is not a text input");
    }

    #[test]
    fn a_deleted_input_does_not_claim_its_reused_inode() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("gone.ron");
        std::fs::write(&p, "()").unwrap();
        read_text(&p, 10).unwrap();
        assert!(is_input(&p).is_some());
        std::fs::remove_file(&p).unwrap();
        // Whatever inode the new file gets (often the one just freed), it is not an input.
        let q = d.path().join("new.bin");
        std::fs::write(&q, "x").unwrap();
        assert!(is_input(&q).is_none());
    }
}
