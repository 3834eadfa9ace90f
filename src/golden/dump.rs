//! Checking an RTL dump with bounded memory: [`DumpChecker`] takes dump lines one at a time and
//! keeps only what the expected values need (one slot per expected or input-port value, the
//! first [`MAX_UNEXPECTED_KEPT`] unexpected lines and a count of the rest);
//! [`check_dump_file`] feeds it a dump read line by line (at most [`MAX_DUMP_LINE_BYTES`] a
//! line, [`super::MAX_DUMP_BYTES`] in all), so a dump of millions of lines is never held whole.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::check::{normalise, parse_dump_line};
use super::{CheckReport, DumpLine, Expected, GoldenError, Mismatch, MAX_DUMP_BYTES};

/// Most unexpected dump lines a report keeps (it counts all of them).
pub const MAX_UNEXPECTED_KEPT: usize = 10_000;

/// Longest dump line, bytes (a line holds five short fields and a comment).
pub const MAX_DUMP_LINE_BYTES: usize = 4096;

type Key = (u64, usize, usize, String);

/// Compares dump lines with expected and input-port values as they come.
#[derive(Debug)]
pub struct DumpChecker<'a> {
    expected: &'a [Expected],
    inputs: &'a [Expected],
    /// Every expected, then every input value, by key; values are indices into `first`.
    index: HashMap<Key, usize>,
    /// The first dump line of each key in `index`: its line number and normalised value.
    first: Vec<Option<(usize, String)>>,
    unexpected: Vec<DumpLine>,
    unexpected_total: usize,
}

impl<'a> DumpChecker<'a> {
    /// A checker of `expected` (each must be dumped) and `inputs` (compared when dumped).
    pub fn new(expected: &'a [Expected], inputs: &'a [Expected]) -> Self {
        let mut index = HashMap::with_capacity(expected.len() + inputs.len());
        for (i, e) in expected.iter().chain(inputs).enumerate() {
            index.entry((e.cycle, e.row, e.col, e.port.clone())).or_insert(i);
        }
        let first = vec![None; expected.len() + inputs.len()];
        Self { expected, inputs, index, first, unexpected: Vec::new(), unexpected_total: 0 }
    }

    /// Takes one dump line: the first line of an awaited key is kept for comparison; a repeat
    /// or a line nothing awaits is unexpected.
    pub fn add(&mut self, d: DumpLine) {
        let key = (d.cycle, d.row, d.col, d.port);
        match self.index.get(&key) {
            Some(&i) if self.first[i].is_none() => self.first[i] = Some((d.line, d.value)),
            _ => {
                self.unexpected_total += 1;
                if self.unexpected.len() < MAX_UNEXPECTED_KEPT {
                    let (cycle, row, col, port) = key;
                    self.unexpected.push(DumpLine { line: d.line, cycle, row, col, port, value: d.value });
                }
            }
        }
    }

    /// The report: mismatches and missing values in cycle order, unexpected lines in dump
    /// order.
    pub fn finish(self) -> CheckReport {
        let mut rep = CheckReport {
            expected: self.expected.len(),
            unexpected: self.unexpected,
            unexpected_total: self.unexpected_total,
            ..Default::default()
        };
        let n = self.expected.len();
        for (i, e) in self.expected.iter().chain(self.inputs).enumerate() {
            let slot = self.index.get(&(e.cycle, e.row, e.col, e.port.clone())).copied().unwrap_or(i);
            match &self.first[slot] {
                Some((_, got)) if *got == normalise(&e.hex) => rep.matched += 1,
                Some((line, got)) => rep.mismatches.push(Mismatch {
                    cycle: e.cycle,
                    row: e.row,
                    col: e.col,
                    port: e.port.clone(),
                    expected: e.hex.clone(),
                    got: got.clone(),
                    line: *line,
                }),
                None if i < n => rep.missing.push(e.clone()),
                None => {}
            }
        }
        rep.mismatches.sort_by_key(|a| (a.cycle, a.row, a.col));
        rep.missing.sort_by_key(|a| (a.cycle, a.row, a.col));
        rep.unexpected.sort_by_key(|d| d.line);
        rep
    }
}

/// Reads the dump at `path` line by line and checks it (see [`DumpChecker`]); memory is bounded
/// by the expected values, not by the dump. Errors as [`for_each_dump_line`].
pub fn check_dump_file(path: &Path, expected: &[Expected], inputs: &[Expected]) -> Result<CheckReport, GoldenError> {
    let mut checker = DumpChecker::new(expected, inputs);
    for_each_dump_line(path, &mut |d| checker.add(d))?;
    Ok(checker.finish())
}

/// Reads the dump at `path` line by line, giving each parsed line to `f`. A dump over
/// [`MAX_DUMP_BYTES`], a line over [`MAX_DUMP_LINE_BYTES`], text that is not UTF-8 or a
/// malformed line is an error naming the file and the line.
pub fn for_each_dump_line(path: &Path, f: &mut dyn FnMut(DumpLine)) -> Result<(), GoldenError> {
    let io = |error| GoldenError::Io { path: path.to_path_buf(), error };
    let file = crate::input::open_input(path).map_err(io)?;
    let mut reader = BufReader::new(file.take(MAX_DUMP_BYTES.saturating_add(1)));
    let mut buf = Vec::new();
    let (mut line, mut total_bytes) = (0usize, 0u64);
    loop {
        buf.clear();
        let got = reader.by_ref().take(MAX_DUMP_LINE_BYTES as u64 + 1).read_until(b'\n', &mut buf).map_err(io)?;
        if got == 0 {
            return Ok(());
        }
        line += 1;
        total_bytes += got as u64;
        let bad = |message: String| GoldenError::Dump { file: path.to_path_buf(), line, message };
        if total_bytes > MAX_DUMP_BYTES {
            return Err(bad(format!("the dump is larger than the limit of {MAX_DUMP_BYTES} bytes")));
        }
        let body = buf.strip_suffix(b"\n").unwrap_or(&buf);
        if body.len() > MAX_DUMP_LINE_BYTES {
            return Err(bad(format!("line longer than the limit of {MAX_DUMP_LINE_BYTES} bytes")));
        }
        let text = std::str::from_utf8(body).map_err(|_| bad("not UTF-8 text".to_string()))?;
        if let Some(d) = parse_dump_line(text.strip_suffix('\r').unwrap_or(text), line, path)? {
            f(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(cycle: u64, row: usize, col: usize, hex: &str) -> Expected {
        Expected { cycle, row, col, port: "Y1".into(), hex: hex.into(), output: None }
    }

    #[test]
    fn a_file_read_line_by_line_gives_the_in_memory_report() {
        let want = vec![exp(4, 0, 3, "3f800000"), exp(4, 1, 3, "40000000"), exp(9, 0, 3, "c0000000")];
        let text = "# hdr\r\n4 0 3 Y1 3f800000\n4 1 3 Y1 40000001\n10 0 3 Y1 c0000000\n4 0 3 Y1 3f800000";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.txt");
        std::fs::write(&path, text).unwrap();
        let a = check_dump_file(&path, &want, &[]).unwrap();
        let b = super::super::check_dump(&want, &super::super::parse_dump(text, &path).unwrap());
        assert_eq!(a.summary(), b.summary());
        assert_eq!((a.matched, a.mismatches.len(), a.missing.len(), a.unexpected_total), (1, 1, 1, 2));
    }

    #[test]
    fn long_lines_and_endless_dumps_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.txt");
        std::fs::write(&path, format!("1 2 3 Y1 {}\n", "f".repeat(MAX_DUMP_LINE_BYTES))).unwrap();
        let e = check_dump_file(&path, &[], &[]).unwrap_err().to_string();
        assert!(e.ends_with(&format!("d.txt:1: line longer than the limit of {MAX_DUMP_LINE_BYTES} bytes")), "{e}");
        let e = check_dump_file(Path::new("/dev/zero"), &[], &[]).unwrap_err().to_string();
        assert!(e.contains("/dev/zero:1:") && e.contains("line longer than the limit"), "{e}");
    }

    #[test]
    fn unexpected_lines_are_counted_beyond_those_kept() {
        let mut c = DumpChecker::new(&[], &[]);
        for line in 1..=MAX_UNEXPECTED_KEPT + 5 {
            c.add(DumpLine { line, cycle: line as u64, row: 0, col: 0, port: "Y1".into(), value: "1".into() });
        }
        let r = c.finish();
        assert_eq!((r.unexpected.len(), r.unexpected_total), (MAX_UNEXPECTED_KEPT, MAX_UNEXPECTED_KEPT + 5));
        assert!(r.summary().contains(&format!("{} unexpected: FAIL", MAX_UNEXPECTED_KEPT + 5)));
    }
}
