//! Terminal output that never panics. `println!` panics when stdout is a closed pipe
//! (`fastbfp gemm ... | head -1`); these macros write through [`write_out`] and [`write_err`]
//! instead: a closed pipe (`BrokenPipe`) is ignored, as Unix filters do, and the command goes on
//! to finish its work and exit with its own status (a failed `golden check` still exits 1). Any
//! other stdout error (a full disk behind `> file`) is kept and reported once by `main` at the
//! end, so output is never lost silently.

use std::fmt;
use std::io::{self, Write};
use std::sync::OnceLock;

/// The first stdout error other than a closed pipe.
static STDOUT_ERROR: OnceLock<String> = OnceLock::new();

/// `print!` that never panics.
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::out::write_out(format_args!($($arg)*)) };
}

/// `println!` that never panics.
macro_rules! outln {
    () => { $crate::cli::out::write_out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cli::out::write_out(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprintln!` that never panics (a closed or failing stderr loses the line: there is nowhere
/// left to report it).
macro_rules! errln {
    ($($arg:tt)*) => { $crate::cli::out::write_err(format_args!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {errln, out, outln};

/// Writes to stdout; a closed pipe is ignored, another error is kept for [`stdout_error`].
pub fn write_out(args: fmt::Arguments<'_>) {
    let mut lock = io::stdout().lock();
    if let Err(e) = lock.write_fmt(args).and_then(|()| lock.flush()) {
        note(&e);
    }
}

/// Writes to stderr, ignoring every error.
pub fn write_err(args: fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(args);
}

/// The first error writing to stdout other than a closed pipe, if any.
pub fn stdout_error() -> Option<&'static str> {
    STDOUT_ERROR.get().map(String::as_str)
}

fn note(e: &io::Error) {
    if e.kind() != io::ErrorKind::BrokenPipe {
        let _ = STDOUT_ERROR.set(e.to_string());
    }
}
