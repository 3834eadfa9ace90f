//! `golden check`: an RTL dump (`<cycle> <row> <col> <port> <hex>` per observed value) against
//! a golden directory's expected values. Values are matched by `(cycle, row, col, port)`;
//! the report names the first mismatch in cycle order and counts mismatches, missing values
//! and unexpected lines (duplicates included).

use std::fmt::Write as _;
use std::path::Path;

/// Most bytes of a golden port file (`E0.hex` ...) read back for a check: 1 GiB.
pub const MAX_PORT_FILE_BYTES: u64 = 1 << 30;

/// Most bytes of an RTL dump `golden check` reads: 256 MiB (about 8 M lines).
pub const MAX_DUMP_BYTES: u64 = 256 << 20;

use super::manifest::{Expected, Manifest};
use super::GoldenError;

/// Port names a dump may use.
pub const DUMP_PORTS: [&str; 7] = ["E0", "M0", "E1", "M1", "Y0", "Y1", "CV"];

/// One parsed dump line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpLine {
    /// 1-based line number in the dump.
    pub line: usize,
    /// Cycle.
    pub cycle: u64,
    /// Row (or conversion job for `CV`).
    pub row: usize,
    /// Column (or group for `CV`).
    pub col: usize,
    /// Port name.
    pub port: String,
    /// The value, normalised: lower-case hex without leading zeros.
    pub value: String,
}

/// One value that differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Cycle.
    pub cycle: u64,
    /// Row.
    pub row: usize,
    /// Column.
    pub col: usize,
    /// Port.
    pub port: String,
    /// Expected hex as the manifest has it.
    pub expected: String,
    /// The dump's hex (normalised).
    pub got: String,
    /// Line in the dump.
    pub line: usize,
}

/// The comparison's outcome.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    /// Expected values.
    pub expected: usize,
    /// Values that matched.
    pub matched: usize,
    /// Values that differ, in cycle order.
    pub mismatches: Vec<Mismatch>,
    /// Expected values with no dump line, in cycle order.
    pub missing: Vec<Expected>,
    /// Dump lines nothing expected (or repeating a key), in dump order: the first
    /// [`super::MAX_UNEXPECTED_KEPT`] of them ([`CheckReport::unexpected_total`] counts all).
    pub unexpected: Vec<DumpLine>,
    /// How many dump lines were unexpected.
    pub unexpected_total: usize,
}

pub(crate) fn normalise(hex: &str) -> String {
    let h = hex.strip_prefix("0x").or_else(|| hex.strip_prefix("0X")).unwrap_or(hex);
    let t = h.trim_start_matches('0').to_ascii_lowercase();
    if t.is_empty() {
        "0".into()
    } else {
        t
    }
}

/// Parses a dump held in memory (see [`super::check_dump_file`] for a dump on disk, read line
/// by line). Blank lines and text after `#` are ignored; anything else must be five fields, or
/// the error names the line.
pub fn parse_dump(text: &str, file: &Path) -> Result<Vec<DumpLine>, GoldenError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        if let Some(d) = parse_dump_line(raw, i + 1, file)? {
            out.push(d);
        }
    }
    Ok(out)
}

/// One dump line (`line` is its 1-based number): `None` for a blank or comment line.
pub(crate) fn parse_dump_line(raw: &str, line: usize, file: &Path) -> Result<Option<DumpLine>, GoldenError> {
    let bad = |message: String| GoldenError::Dump { file: file.to_path_buf(), line, message };
    let body = raw.split('#').next().unwrap_or("").trim();
    if body.is_empty() {
        return Ok(None);
    }
    let f: Vec<&str> = body.split_whitespace().take(6).collect();
    if f.len() != 5 {
        let shown: String = body.chars().take(80).collect();
        let more = if shown.len() < body.len() { "..." } else { "" };
        let found = if f.len() > 5 { "more than 5".to_string() } else { f.len().to_string() };
        return Err(bad(format!(
            "expected 5 fields `<cycle> <row> <col> <port> <hex>`, found {found}: `{shown}{more}`"
        )));
    }
    let num = |s: &str, what: &str| -> Result<u64, GoldenError> {
        s.parse::<u64>().map_err(|_| bad(format!("{what} `{s}` is not a decimal number from 0 to {}", u64::MAX)))
    };
    let cycle = num(f[0], "cycle")?;
    let row = usize::try_from(num(f[1], "row")?).unwrap_or(usize::MAX);
    let col = usize::try_from(num(f[2], "col")?).unwrap_or(usize::MAX);
    if !DUMP_PORTS.contains(&f[3]) {
        return Err(bad(format!("unknown port `{}`: allowed {}", f[3], DUMP_PORTS.join(", "))));
    }
    let h = f[4].strip_prefix("0x").or_else(|| f[4].strip_prefix("0X")).unwrap_or(f[4]);
    if h.is_empty() || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad(format!(
            "value `{}` is not hex (digits 0-9a-f; x, z or other marks mean the RTL drove an unknown value)",
            f[4]
        )));
    }
    Ok(Some(DumpLine { line, cycle, row, col, port: f[3].to_string(), value: normalise(h) }))
}

/// Compares a dump against the expected values.
pub fn check_dump(expected: &[Expected], dump: &[DumpLine]) -> CheckReport {
    check_dump_with_inputs(expected, &[], dump)
}

/// [`check_dump`] where the dump may also report what the RTL saw on its input ports:
/// such lines are compared with `inputs` (a mismatch is reported like any other) but an input
/// value the dump leaves out is not missing.
pub fn check_dump_with_inputs(expected: &[Expected], inputs: &[Expected], dump: &[DumpLine]) -> CheckReport {
    let mut checker = super::dump::DumpChecker::new(expected, inputs);
    for d in dump {
        checker.add(d.clone());
    }
    checker.finish()
}

impl CheckReport {
    /// Whether every expected value matched and nothing else was dumped.
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty() && self.missing.is_empty() && self.unexpected_total == 0
    }

    /// A readable account: the first mismatch, the first missing and unexpected values (with
    /// a hint when a missing value was seen at another cycle), and the counts.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        if let Some(m) = self.mismatches.first() {
            let _ = writeln!(
                s,
                "first mismatch: cycle {}, cell ({}, {}), port {}: expected {}, got {} (dump line {})",
                m.cycle, m.row, m.col, m.port, m.expected, m.got, m.line
            );
        }
        if let Some(e) = self.missing.first() {
            let elsewhere = self
                .unexpected
                .iter()
                .filter(|d| d.row == e.row && d.col == e.col && d.port == e.port && d.value == normalise(&e.hex))
                .min_by_key(|d| d.cycle.abs_diff(e.cycle));
            let hint = elsewhere
                .map(|d| {
                    let (n, way) =
                        if d.cycle > e.cycle { (d.cycle - e.cycle, "late") } else { (e.cycle - d.cycle, "early") };
                    format!(
                        "; the value appears at cycle {} ({n} cycle{} {way}, dump line {})",
                        d.cycle,
                        if n == 1 { "" } else { "s" },
                        d.line
                    )
                })
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "first missing: cycle {}, cell ({}, {}), port {}: expected {}, no dump line{hint}",
                e.cycle, e.row, e.col, e.port, e.hex
            );
        }
        if let Some(d) = self.unexpected.first() {
            let _ = writeln!(
                s,
                "first unexpected: dump line {}: cycle {}, cell ({}, {}), port {}, value {} (nothing expected there, or a repeat)",
                d.line, d.cycle, d.row, d.col, d.port, d.value
            );
        }
        let _ = write!(
            s,
            "{} expected, {} matched, {} mismatched, {} missing, {} unexpected: {}",
            self.expected,
            self.matched,
            self.mismatches.len(),
            self.missing.len(),
            self.unexpected_total,
            if self.passed() { "PASS" } else { "FAIL" }
        );
        s
    }
}

/// Most input-port values [`input_port_values`] collects (about 200 bytes each in memory).
pub const MAX_INPUT_PORT_VALUES: usize = 2_000_000;

/// The values on the input ports E0, M0 (lane `c` as cell `(R-1, c)`) and E1, M1 (lane `r` as
/// cell `(r, 0)`) in every cycle they are valid, read line by line from the golden directory's
/// files, for dumps that report what the RTL saw. `m` must have passed
/// [`Manifest::validate_sizes`] ([`load_manifest`] does it); a port file with more lines than
/// the manifest's, a line of another width, or more than [`MAX_INPUT_PORT_VALUES`] values is
/// an error.
pub fn input_port_values(dir: &Path, m: &Manifest) -> Result<Vec<Expected>, GoldenError> {
    use std::io::{BufRead, Read};
    let manifest = dir.join("manifest.json");
    m.validate_sizes().map_err(|message| GoldenError::Manifest { path: manifest.clone(), message })?;
    let (rows, cols) = (m.array[0], m.array[1]);
    let mut out = Vec::new();
    for (file, port, lanes) in
        [("E0.hex", "E0", cols), ("M0.hex", "M0", cols), ("E1.hex", "E1", rows), ("M1.hex", "M1", rows)]
    {
        let path = dir.join(file);
        let info = m.files.get(file).ok_or_else(|| GoldenError::Manifest {
            path: manifest.clone(),
            message: format!("no entry for {file} in files"),
        })?;
        let io = |error| GoldenError::Io { path: path.clone(), error };
        let mut reader =
            std::io::BufReader::new(crate::input::open_input(&path).map_err(io)?.take(MAX_PORT_FILE_BYTES));
        let (w, pb) = (info.lane_bits, info.payload_bits);
        let mut t = 0u64;
        let mut line = Vec::new();
        loop {
            line.clear();
            // A line holds its hex digits and at most a carriage return and a newline.
            let limit = info.hex_digits as u64 + 3;
            if reader.by_ref().take(limit).read_until(b'\n', &mut line).map_err(io)? == 0 {
                break;
            }
            let bad = |message: String| GoldenError::Dump { file: path.clone(), line: t as usize + 1, message };
            if t >= m.lines {
                return Err(bad(format!("more lines than the manifest's {}", m.lines)));
            }
            let text = std::str::from_utf8(&line).unwrap_or("").trim();
            if text.len() != info.hex_digits {
                return Err(bad(format!("{} hex digits where the manifest says {}", text.len(), info.hex_digits)));
            }
            let bits = bits_of_hex(text);
            for l in 0..lanes {
                if bits.get(l * w + pb).is_some_and(|b| *b) {
                    if out.len() >= MAX_INPUT_PORT_VALUES {
                        return Err(bad(format!("more than {MAX_INPUT_PORT_VALUES} valid input-port values")));
                    }
                    let hex = crate::bfp::hex_of(&bits[l * w..l * w + pb]);
                    let (row, col) = if port.ends_with('0') { (rows - 1, l) } else { (l, 0) };
                    out.push(Expected { cycle: t, row, col, port: port.into(), hex, output: None });
                }
            }
            t += 1;
        }
    }
    Ok(out)
}

/// A `$readmemh` line as bits, least significant first (non-hex characters read as 0).
fn bits_of_hex(line: &str) -> bitvec::vec::BitVec<u64, bitvec::order::Lsb0> {
    line.chars()
        .rev()
        .flat_map(|ch| {
            let v = ch.to_digit(16).unwrap_or(0);
            (0..4).map(move |i| (v >> i) & 1 == 1)
        })
        .collect()
}

/// Reads `DIR/manifest.json`.
pub fn load_manifest(dir: &Path) -> Result<Manifest, GoldenError> {
    let path = dir.join("manifest.json");
    let text = crate::input::read_text(&path, crate::input::MAX_TEXT_BYTES)
        .map_err(|error| GoldenError::Io { path: path.clone(), error })?;
    let m: Manifest = serde_json::from_str(&text).map_err(|e| GoldenError::Manifest {
        path: path.clone(),
        message: format!("not a fastbfp golden manifest: {e}"),
    })?;
    if m.schema_version == super::manifest::GOLDEN_SCHEMA_VERSION {
        m.validate_sizes().map_err(|message| GoldenError::Manifest { path: path.clone(), message })?;
    }
    if m.schema_version != super::manifest::GOLDEN_SCHEMA_VERSION {
        return Err(GoldenError::Manifest {
            path,
            message: format!(
                "schema_version {} is not {}: re-export with this fastbfp",
                m.schema_version,
                super::manifest::GOLDEN_SCHEMA_VERSION
            ),
        });
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(cycle: u64, row: usize, col: usize, hex: &str) -> Expected {
        Expected { cycle, row, col, port: "Y1".into(), hex: hex.into(), output: None }
    }

    #[test]
    fn parses_comments_blanks_and_hex_forms() {
        let d = parse_dump("# hdr\n\n5 1 3 Y1 0x00003F80 # note\n6 0 0 CV 0\n", Path::new("d")).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!((d[0].line, d[0].cycle, d[0].value.as_str()), (3, 5, "3f80"));
        assert_eq!(d[1].value, "0");
    }

    #[test]
    fn malformed_lines_name_the_line() {
        for (text, want) in [
            ("1 2 3 Y1\n", "d:1: expected 5 fields"),
            ("ok\n", "d:1: expected 5 fields"),
            ("\n1 2 3 Q9 ff\n", "d:2: unknown port `Q9`"),
            ("1 2 3 Y1 xx\n", "d:1: value `xx` is not hex"),
            ("-1 2 3 Y1 ff\n", "d:1: cycle `-1`"),
        ] {
            let e = parse_dump(text, Path::new("d")).unwrap_err().to_string();
            assert!(e.starts_with(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn counts_mismatch_missing_unexpected_and_duplicates() {
        let want = vec![exp(4, 0, 3, "3f800000"), exp(4, 1, 3, "40000000"), exp(9, 0, 3, "c0000000")];
        let dump =
            parse_dump("4 0 3 Y1 3f800000\n4 1 3 Y1 40000001\n10 0 3 Y1 c0000000\n4 0 3 Y1 3f800000\n", Path::new("d"))
                .unwrap();
        let r = check_dump(&want, &dump);
        assert_eq!((r.matched, r.mismatches.len(), r.missing.len(), r.unexpected.len()), (1, 1, 1, 2));
        assert!(!r.passed());
        let s = r.summary();
        assert!(s.contains("first mismatch: cycle 4, cell (1, 3), port Y1: expected 40000000, got 40000001"), "{s}");
        assert!(s.contains("appears at cycle 10 (1 cycle late"), "{s}");
        let ok = parse_dump("4 0 3 Y1 3f800000\n4 1 3 Y1 40000000\n9 0 3 Y1 c0000000\n", Path::new("d")).unwrap();
        assert!(check_dump(&want, &ok).passed());
    }
}
