//! Atomic file output: write to a temporary file beside the target, flush it to disk, then
//! rename it over the target. A target that is one of the process's inputs
//! ([`crate::input::is_input`]) or an existing non-regular file (a device, a FIFO) is refused
//! before anything is written; temporary names are short (`.fastbfp-PID-N.tmp`) whatever the
//! target's name. [`OutDir`] creates an output folder that disappears again if the run fails.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A file that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: cannot write: {error}")]
pub struct WriteError {
    /// The target path.
    pub path: PathBuf,
    /// The OS error (part of the message; deliberately not a chained `source`, so it is
    /// printed once).
    pub error: std::io::Error,
}

/// Writes several files as one unit: every file goes to a temporary beside its target first;
/// only when all temporaries are written are they renamed over their targets. On failure all
/// temporaries are removed and no target is touched.
pub fn write_all_atomic(files: &[(PathBuf, Vec<u8>)]) -> Result<(), WriteError> {
    let mut temps: Vec<(PathBuf, &Path)> = Vec::with_capacity(files.len());
    let cleanup = |temps: &[(PathBuf, &Path)]| temps.iter().for_each(|(t, _)| drop(fs::remove_file(t)));
    for (path, bytes) in files {
        match write_temp(path, bytes) {
            Ok(tmp) => temps.push((tmp, path.as_path())),
            Err(e) => {
                cleanup(&temps);
                return Err(e);
            }
        }
    }
    for (i, (tmp, path)) in temps.iter().enumerate() {
        if let Err(error) = fs::rename(tmp, path) {
            cleanup(&temps[i..]);
            return Err(WriteError { path: path.to_path_buf(), error });
        }
    }
    Ok(())
}

/// Writes `bytes` to a flushed temporary file beside `path`; returns the temporary's path.
fn write_temp(path: &Path, bytes: &[u8]) -> Result<PathBuf, WriteError> {
    let err = |error| WriteError { path: path.to_path_buf(), error };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("folder {} does not exist", dir.display()),
        )));
    }
    if path.is_dir() {
        return Err(err(std::io::Error::new(std::io::ErrorKind::IsADirectory, "it is a folder")));
    }
    if let Ok(meta) = fs::metadata(path) {
        if !meta.is_file() {
            return Err(err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "it exists and is not a regular file (a device, FIFO or socket); fastbfp writes regular files only",
            )));
        }
    }
    if let Some(input) = crate::input::is_input(path) {
        return Err(err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("it is an input of this run ({}); choose another output", input.display()),
        )));
    }
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".fastbfp-{}-{n}.tmp", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(err(e))
        }
    }
}

/// Writes `bytes` to `path` atomically. On any failure no file is left at `path` (an older
/// file there stays as it was) and the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_all_atomic(&[(path.to_path_buf(), bytes.to_vec())])
}

/// An output folder made for one run: created (with any missing parents) by [`OutDir::create`],
/// and removed again on drop, with the parents it created, unless [`OutDir::keep`] was called
/// (only folders left empty are removed, so nothing else is ever deleted).
#[derive(Debug)]
pub struct OutDir {
    created: Vec<PathBuf>,
    keep: bool,
}

impl OutDir {
    /// Creates `dir` if missing.
    pub fn create(dir: &Path) -> Result<OutDir, WriteError> {
        let mut missing = Vec::new();
        let mut p = Some(dir);
        while let Some(d) = p {
            if d.as_os_str().is_empty() || d.exists() {
                break;
            }
            missing.push(d.to_path_buf());
            p = d.parent();
        }
        if dir.exists() && !dir.is_dir() {
            return Err(WriteError {
                path: dir.to_path_buf(),
                error: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "it exists and is not a folder"),
            });
        }
        fs::create_dir_all(dir).map_err(|error| WriteError { path: dir.to_path_buf(), error })?;
        Ok(OutDir { created: missing, keep: false })
    }

    /// The run succeeded: keep the folder.
    pub fn keep(mut self) {
        self.keep = true;
    }
}

impl Drop for OutDir {
    fn drop(&mut self) {
        if !self.keep {
            // Deepest first; `remove_dir` only removes empty folders.
            for d in &self.created {
                if fs::remove_dir(d).is_err() {
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_replaces() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.bin");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1, "no temp file left");
    }

    #[test]
    fn a_failing_member_leaves_no_file_of_the_set() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir(d.path().join("b.hex")).unwrap(); // a folder where a file should go
        let files = vec![(d.path().join("a.hex"), b"1".to_vec()), (d.path().join("b.hex"), b"2".to_vec())];
        assert!(write_all_atomic(&files).is_err());
        let left: Vec<_> = fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, vec![std::ffi::OsString::from("b.hex")]);
    }

    #[test]
    fn missing_folder_is_an_error_and_leaves_nothing() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("nope").join("a.bin");
        let e = write_atomic(&p, b"x").unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
        assert!(!p.exists());
    }

    #[test]
    fn inputs_and_devices_are_never_replaced() {
        let d = tempfile::tempdir().unwrap();
        let input = d.path().join("in.ron");
        fs::write(&input, "()").unwrap();
        crate::input::read_text(&input, 100).unwrap();
        let e = write_atomic(&input, b"x").unwrap_err();
        assert!(e.to_string().contains("is an input of this run"), "{e}");
        assert_eq!(fs::read(&input).unwrap(), b"()");
        let e = write_atomic(Path::new("/dev/null"), b"x").unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
    }

    #[test]
    fn long_names_get_short_temporaries() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join(format!("{}.csv", "n".repeat(250)));
        write_atomic(&p, b"x").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"x");
    }

    #[test]
    fn an_output_folder_of_a_failed_run_disappears() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("a/b/out");
        drop(OutDir::create(&out).unwrap());
        assert!(!d.path().join("a").exists());
        let kept = OutDir::create(&out).unwrap();
        kept.keep();
        assert!(out.is_dir());
    }
}
