//! Field paths <-> line/column in RON text, shared by the arch, workload and sweep loaders.
//!
//! serde forgets where a value came from, so errors found after deserialisation (rows = 0, a
//! batch of 0, a channel mismatch) use this to point at the offending value, and RON's own errors (which
//! carry a position but no path) use it to name the field. It knows nothing of the schema: it
//! tokenises the text and records every `key: value` inside `( )`, every `"key": value` inside
//! `{ }` (as `path["key"]`) and every list item (as `path[i]`). Enum variant names are not part
//! of a path: `op: conv2d(in_channels: 3)` gives `layers[0].op.in_channels`.
//!
//! [`Reporter`] is the arch and workload loaders' shared error builder: a file, its text, the
//! locator made on first use and the allowed values per field, producing each loader's own
//! error type through [`PositionedError`].

use std::path::{Path, PathBuf};

/// A 1-based line and column, columns counted in characters (as RON counts them).
pub(crate) type Pos = (usize, usize);

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Punct(char),
    Other,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    start: Pos,
    /// Position of the token's last character.
    end: Pos,
}

#[derive(Debug, Clone)]
struct Entry {
    path: String,
    depth: usize,
    key_start: Pos,
    value_start: Option<Pos>,
    value_end: Pos,
}

/// Every field of a RON document with its position.
/// Deepest bracket nesting accepted in any RON input (the bundled files use at most 5).
pub(crate) const MAX_NESTING: usize = 64;

/// `Some((line, col), message)` when brackets nest deeper than [`MAX_NESTING`] (checked before
/// any parsing, so a hostile file costs one linear scan); strings and comments are skipped.
pub(crate) fn too_deep(text: &str) -> Option<(Pos, String)> {
    let mut depth = 0usize;
    for t in tokenize(text) {
        match t.tok {
            Tok::Punct('(' | '[' | '{') => {
                depth += 1;
                if depth > MAX_NESTING {
                    let msg = format!(
                        "brackets nest more than {MAX_NESTING} levels deep here; allowed at most {MAX_NESTING}"
                    );
                    return Some((t.start, msg));
                }
            }
            Tok::Punct(')' | ']' | '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Locator {
    entries: Vec<Entry>,
    first: Option<Pos>,
    /// Start of the last token.
    last: Option<Pos>,
    /// Just past the text's last character.
    end: Pos,
    /// Brackets still open at the end of the text, outermost first: the path they belong to
    /// and where they open.
    unclosed: Vec<(String, char, Pos)>,
}

fn positions(chars: &[char]) -> Vec<Pos> {
    let mut pos = Vec::with_capacity(chars.len() + 1);
    let (mut line, mut col) = (1, 1);
    for &c in chars {
        pos.push((line, col));
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    pos.push((line, col));
    pos
}

/// The position just past the last character of `text`.
fn end_of(text: &str) -> Pos {
    let line = 1 + text.matches('\n').count();
    let col = 1 + text.rsplit('\n').next().map_or(0, |l| l.chars().count());
    (line, col)
}

fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let pos = positions(&chars);
    let at = |k: usize| chars.get(k).copied().unwrap_or('\0');
    let (n, mut i, mut toks) = (chars.len(), 0, Vec::new());
    while i < n {
        let (c, start) = (chars[i], i);
        let tok = if c.is_whitespace() {
            i += 1;
            continue;
        } else if c == '/' && at(i + 1) == '/' {
            while i < n && chars[i] != '\n' {
                i += 1;
            }
            continue;
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0usize;
            while i < n {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth = depth.saturating_sub(1);
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            continue;
        } else if c == '"' {
            i += 1;
            let mut s = String::new();
            while i < n && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if i < n {
                    s.push(chars[i]);
                }
                i += 1;
            }
            i += 1;
            Tok::Str(s)
        } else if c.is_ascii_digit() || ((c == '-' || c == '+' || c == '.') && at(i + 1).is_ascii_digit()) {
            i += 1;
            while i < n && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.') {
                i += 1;
            }
            Tok::Other
        } else if c.is_alphabetic() || c == '_' {
            while i < n && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '#') {
                i += 1;
            }
            Tok::Ident(chars[start..i].iter().collect::<String>().trim_start_matches("r#").to_string())
        } else {
            i += 1;
            Tok::Punct(c)
        };
        let last = i.min(n).saturating_sub(1).max(start);
        toks.push(Token { tok, start: pos[start], end: pos[last] });
    }
    toks
}

/// The first position at or after `pos` that is not whitespace or a comment (RON reports some
/// errors at the blank before the offending token), or `pos` itself when none follows.
pub(crate) fn skip_blank(text: &str, pos: Pos) -> Pos {
    // Inside a token: stay; on blanks or comments: the next token's start.
    match tokenize(text).into_iter().find(|t| t.end >= pos) {
        Some(t) if t.start <= pos => pos,
        Some(t) => t.start,
        None => pos,
    }
}

struct Frame {
    path: String,
    kind: char,
    opened: Pos,
    current: Option<usize>,
    index: usize,
}

fn join(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_string()
    } else {
        format!("{base}.{key}")
    }
}

impl Locator {
    /// Walks `text` and records every field, map entry and list item. Never fails: on
    /// malformed text it records what it can.
    pub(crate) fn new(text: &str) -> Self {
        let toks = tokenize(text);
        let mut entries: Vec<Entry> = Vec::new();
        let mut stack = vec![Frame { path: String::new(), kind: ' ', opened: (1, 1), current: None, index: 0 }];
        let mut i = 0;
        while i < toks.len() {
            let t = &toks[i];
            let (depth, top) = (stack.len(), stack.len() - 1);
            let colon_next = matches!(toks.get(i + 1).map(|n| &n.tok), Some(Tok::Punct(':')));
            let key = match (&t.tok, stack[top].kind) {
                (Tok::Ident(name), '(') if colon_next => Some(join(&stack[top].path, name)),
                (Tok::Str(name), '{') if colon_next => Some(format!("{}[{name:?}]", stack[top].path)),
                _ => None,
            };
            if let Some(path) = key {
                entries.push(Entry { path, depth, key_start: t.start, value_start: None, value_end: t.end });
                stack[top].current = Some(entries.len() - 1);
                i += 2;
                continue;
            }
            match t.tok {
                Tok::Punct(',') => {
                    if stack[top].kind == '[' {
                        stack[top].index += 1;
                    }
                    stack[top].current = None;
                }
                Tok::Punct(')' | ']' | '}') if stack.len() > 1 => {
                    stack.pop();
                    if let Some(e) = stack[stack.len() - 1].current {
                        entries[e].value_end = t.end;
                    }
                }
                _ => {
                    let f = &mut stack[top];
                    if f.kind == '[' && f.current.is_none() {
                        let path = format!("{}[{}]", f.path, f.index);
                        entries.push(Entry { path, depth, key_start: t.start, value_start: None, value_end: t.end });
                        f.current = Some(entries.len() - 1);
                    }
                    if let Some(e) = f.current {
                        entries[e].value_start.get_or_insert(t.start);
                        entries[e].value_end = t.end;
                    }
                    if let Tok::Punct(open @ ('(' | '[' | '{')) = t.tok {
                        let path = f.current.map_or_else(|| f.path.clone(), |e| entries[e].path.clone());
                        stack.push(Frame { path, kind: open, opened: t.start, current: None, index: 0 });
                    }
                }
            }
            i += 1;
        }
        let unclosed = stack.iter().skip(1).map(|f| (f.path.clone(), f.kind, f.opened)).collect();
        Self {
            entries,
            first: toks.first().map(|t| t.start),
            last: toks.last().map(|t| t.start),
            end: end_of(text),
            unclosed,
        }
    }

    /// When an error at `pos` is the text ending early (brackets left open, or no value at
    /// all, and nothing but the last token at or after `pos`): where the text ends, the path
    /// of the innermost bracket left open and the message.
    pub(crate) fn ends_early(&self, pos: Pos) -> Option<(Pos, String, String)> {
        let at_end = self.last.is_none_or(|last| pos >= last);
        if !at_end {
            return None;
        }
        let Some((path, kind, (l, c))) = self.unclosed.last() else {
            if self.last.is_some() {
                return None;
            }
            let msg = "the file holds no RON value (it is empty or only comments); allowed a complete document \
                       such as `( ... )`"
                .to_string();
            return Some((self.end, String::new(), msg));
        };
        let within = if path.is_empty() { "the top level".to_string() } else { path.clone() };
        let close = match kind {
            '(' => ')',
            '[' => ']',
            _ => '}',
        };
        let msg = format!(
            "the file ends early (unexpected end of file) inside {within}: the `{kind}` at {l}:{c} is never \
             closed; allowed a complete document, every `{kind}` closed by `{close}`"
        );
        Some((self.end, path.clone(), msg))
    }

    /// Where the value of `path` starts. If `path` is not in the text (a field left out, a
    /// default), the nearest enclosing field that is; if none is, the document's first token.
    pub(crate) fn value_pos(&self, path: &str) -> Pos {
        let mut p = path;
        loop {
            if let Some(e) = self.entries.iter().find(|e| e.path == p) {
                return e.value_start.unwrap_or(e.key_start);
            }
            match p.rfind(['.', '[']) {
                Some(k) => p = &p[..k],
                None => return self.first.unwrap_or((1, 1)),
            }
        }
    }

    /// Whether `pos` is exactly where the key (or list item) of some field starts.
    pub(crate) fn is_key_start(&self, pos: Pos) -> bool {
        self.entries.iter().any(|e| e.key_start == pos)
    }

    /// The deepest field whose key or value covers `pos` (`""` for the top level).
    pub(crate) fn path_at(&self, pos: Pos) -> &str {
        self.entries
            .iter()
            .filter(|e| e.key_start <= pos && pos <= e.value_end)
            .max_by_key(|e| e.depth)
            .map_or("", |e| e.path.as_str())
    }
}

/// An error type that can say "this file, at this line and column, about this field: message"
/// (the arch and workload loaders' `Parse` variants).
pub(crate) trait PositionedError {
    /// The error for `message` about `field`, at `line:col` of `file`.
    fn positioned(file: PathBuf, line: usize, col: usize, field: String, message: String) -> Self;
}

/// Builds positioned errors of type `E` for one RON file, locating field paths in its text on
/// demand; the loaders add their own constructors (`out_of_range`, `graph`, ...) in impls on
/// their `Reporter<'_, E>`.
pub(crate) struct Reporter<'a, E> {
    file: &'a Path,
    text: &'a str,
    locator: std::cell::OnceCell<Locator>,
    allowed: fn(&str) -> Option<String>,
    error: std::marker::PhantomData<fn() -> E>,
}

impl<'a, E: PositionedError> Reporter<'a, E> {
    /// A reporter for `text`, read from `file`; `allowed` gives a field's allowed values.
    pub(crate) fn with_allowed(file: &'a Path, text: &'a str, allowed: fn(&str) -> Option<String>) -> Self {
        Self { file, text, locator: std::cell::OnceCell::new(), allowed, error: std::marker::PhantomData }
    }

    /// The file the errors name.
    pub(crate) fn file(&self) -> &'a Path {
        self.file
    }

    fn locator(&self) -> &Locator {
        self.locator.get_or_init(|| Locator::new(self.text))
    }

    /// Position of `path`'s value (or of its nearest enclosing field).
    pub(crate) fn pos(&self, path: &str) -> Pos {
        self.locator().value_pos(path)
    }

    /// A free-form message about the field `path`, placed at the value of `at_path`.
    pub(crate) fn at(&self, path: &str, at_path: &str, message: String) -> E {
        let (line, col) = self.pos(at_path);
        E::positioned(self.file.to_path_buf(), line, col, path.to_string(), message)
    }

    /// Rewords one of RON's errors: the field path found from its position, the allowed
    /// fields, variants or values (see [`explain_ron_error`]).
    pub(crate) fn ron(&self, e: &ron::error::SpannedError) -> E {
        let ((line, col), field, message) =
            explain_ron_error(self.text, self.locator(), e, &|p: &str| (self.allowed)(p));
        E::positioned(self.file.to_path_buf(), line, col, field, message)
    }
}

/// RON's own error rewritten for a user: the position (moved past blanks and comments onto the
/// offending token), the field path found there, and a message naming the allowed fields,
/// variants or values (`allowed(path)` gives the allowed values of a field, if known).
pub(crate) fn explain_ron_error(
    text: &str,
    locator: &Locator,
    e: &ron::error::SpannedError,
    allowed: &dyn Fn(&str) -> Option<String>,
) -> (Pos, String, String) {
    use ron::Error as E;
    use std::fmt::Write as _;
    let pos = skip_blank(text, (e.span.start.line, e.span.start.col));
    if let Some(early) = locator.ends_early(pos) {
        return early;
    }
    let here = locator.path_at(pos).to_string();
    let allowed_tail = |p: &str| allowed(p).map(|a| format!("; allowed {a}")).unwrap_or_default();
    let (field, message) = match &e.code {
        E::NoSuchStructField { expected, found, .. } => {
            let parent = parent_of(&here, found);
            let field = join(parent, found);
            let within = if parent.is_empty() { "the top level" } else { parent };
            let msg = format!("{field}: unknown field `{found}`; allowed fields of {within}: {}", expected.join(", "));
            (field, msg)
        }
        E::NoSuchEnumVariant { expected, found, .. } => {
            let msg = format!("{here} = {found} is not a known variant; allowed {}", expected.join(", "));
            (here, msg)
        }
        E::MissingStructField { field, .. } => {
            let path = join(&here, field);
            (path.clone(), format!("{path}: missing field{}", allowed_tail(&path)))
        }
        E::DuplicateStructField { field, .. } => {
            let path = join(parent_of(&here, field), field);
            (path.clone(), format!("{path}: field given twice"))
        }
        E::IntegerOutOfBounds => {
            let msg = format!("{here}: integer too large for this field{}", allowed_tail(&here));
            (here, msg)
        }
        E::ExpectedInteger
        | E::ExpectedFloat
        | E::ExpectedBoolean
        | E::ExpectedString
        | E::ExpectedStringEnd
        | E::ExpectedOption
        | E::ExpectedIdentifier
        | E::ExpectedStructLike
        | E::ExpectedNamedStructLike(_)
        | E::ExpectedUnit
        | E::ExpectedArray
        | E::ExpectedMap
        | E::ExpectedDifferentLength { .. }
        | E::InvalidValueForType { .. }
        | E::InvalidIntegerDigit { .. } => {
            let what = lower_first(&e.code.to_string());
            (here.clone(), format!("{here}: wrong type: {what}{}", allowed_tail(&here)))
        }
        other => {
            // Before a key (a missing comma, say) the field's range is beside the point.
            let before = locator.is_key_start(pos);
            let mut msg = String::from("syntax error");
            if !here.is_empty() {
                let _ = write!(msg, " {} {here}", if before { "before" } else { "at" });
            }
            let _ = write!(msg, ": {}", lower_first(&other.to_string()));
            if let (Some(a), false) = (allowed(&here), before) {
                let _ = write!(msg, " ({here} allows {a})");
            }
            (here, msg)
        }
    };
    (pos, field, message)
}

/// The path of the struct that holds key `key`, given the path found at the key's position
/// (which is the key's own path when the locator saw it).
fn parent_of<'p>(here: &'p str, key: &str) -> &'p str {
    match here.rsplit_once('.') {
        Some((parent, last)) if last == key => parent,
        None if here == key => "",
        _ => here,
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "// (x: 1)\n(\n  name: \"a: (b\",\n  precision: per_layer({ \"c1\": (weights: (mantissa_bits: 9)) }),\n  layers: [(name: \"x\", op: relu), (op: conv2d(kernel: (3, 3)))],\n)\n";

    #[test]
    fn finds_values_by_path_and_paths_by_position() {
        let l = Locator::new(DOC);
        assert_eq!(l.value_pos("name"), (3, 9));
        assert_eq!(l.value_pos("precision[\"c1\"].weights.mantissa_bits"), (4, 58));
        assert_eq!(l.value_pos("layers[1].op.kernel"), (5, 55));
        assert_eq!(l.value_pos("layers[1].op.stride"), (5, 40));
        assert_eq!(l.value_pos("nothing"), (2, 1));
        assert_eq!(l.path_at((4, 58)), "precision[\"c1\"].weights.mantissa_bits");
        assert_eq!(l.path_at((5, 56)), "layers[1].op.kernel");
        assert_eq!(l.path_at((6, 1)), "");
        assert!(l.is_key_start((5, 35)));
        assert_eq!(skip_blank(DOC, (4, 57)), (4, 58));
        assert_eq!(skip_blank(DOC, (9, 1)), (9, 1));
    }

    /// The arch loader's cases (nested structs, enum variants, lists, comments, strings).
    const ARCH_DOC: &str = "// header (x: 1)\n(\n  name: \"a: (b\",\n  array: (rows: 0, cell: fmac(chunk_bits: 3)),\n  /* c: 1 */ sram: [(kib: 8), (kib: 0)],\n)\n";

    #[test]
    fn arch_values_by_path() {
        let l = Locator::new(ARCH_DOC);
        assert_eq!(l.value_pos("name"), (3, 9));
        assert_eq!(l.value_pos("array.rows"), (4, 17));
        assert_eq!(l.value_pos("array.cell.chunk_bits"), (4, 43));
        assert_eq!(l.value_pos("sram[1].kib"), (5, 37));
        assert_eq!(l.value_pos("sram[1]"), (5, 31));
        // Not present: falls back to the enclosing struct.
        assert_eq!(l.value_pos("array.cols"), (4, 10));
        assert_eq!(l.value_pos("nothing"), (2, 1));
    }

    #[test]
    fn arch_paths_by_position() {
        let l = Locator::new(ARCH_DOC);
        assert_eq!(l.path_at((4, 17)), "array.rows");
        assert_eq!(l.path_at((4, 3)), "array");
        assert_eq!(l.path_at((4, 44)), "array.cell");
        assert_eq!(l.path_at((4, 45)), "array");
        assert_eq!(l.path_at((5, 37)), "sram[1].kib");
        assert_eq!(l.path_at((5, 38)), "sram[1]");
        assert_eq!(l.path_at((6, 1)), "");
        assert!(l.is_key_start((4, 20)));
        assert_eq!(skip_blank(ARCH_DOC, (4, 16)), (4, 17));
        assert_eq!(skip_blank(ARCH_DOC, (4, 40)), (4, 40));
        assert_eq!(skip_blank(ARCH_DOC, (4, 47)), (5, 14));
        assert_eq!(skip_blank(ARCH_DOC, (9, 1)), (9, 1));
    }

    #[derive(Debug, PartialEq)]
    struct Said(String);

    impl PositionedError for Said {
        fn positioned(file: PathBuf, line: usize, col: usize, field: String, message: String) -> Self {
            Said(format!("{}:{line}:{col}: [{field}] {message}", file.display()))
        }
    }

    /// The shared reporter places messages at field values and rewords RON's errors with the
    /// loader's allowed values, whatever the loader's error type.
    #[test]
    fn the_shared_reporter_builds_any_positioned_error() {
        let allowed = |p: &str| (p == "array.rows").then(|| "1..=4096".to_string());
        let rep: Reporter<'_, Said> = Reporter::with_allowed(Path::new("a.ron"), ARCH_DOC, allowed);
        assert_eq!(
            rep.at("array.rows", "array.rows", "too few".into()),
            Said("a.ron:4:17: [array.rows] too few".into())
        );
        assert_eq!(rep.at("array.cols", "array.cols", "x".into()), Said("a.ron:4:10: [array.cols] x".into()));
        let text = "(array: (rows: \"4\"))";
        let rep: Reporter<'_, Said> = Reporter::with_allowed(Path::new("b.ron"), text, allowed);
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct A {
            array: R,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct R {
            rows: u32,
        }
        let e = ron::from_str::<A>(text).unwrap_err();
        assert_eq!(
            rep.ron(&e),
            Said("b.ron:1:16: [array.rows] array.rows: wrong type: expected integer; allowed 1..=4096".into())
        );
    }

    /// The sweep loader's cases (lists of lists, negative numbers, empty lists).
    #[test]
    fn sweep_values_by_path() {
        let doc = "// (x: 1)\n(\n  arch: \"a: (b\",\n  options: (seed: 3),\n  /* c: 1 */ axes: [\n    (param: \"bfp.group\", values: [4, -8, 99]),\n    (param: \"array.size\", values: []),\n  ],\n)\n";
        let l = Locator::new(doc);
        assert_eq!(l.value_pos("arch"), (3, 9));
        assert_eq!(l.value_pos("options.seed"), (4, 19));
        assert_eq!(l.value_pos("options.iterations"), (4, 12));
        assert_eq!(l.value_pos("axes[0]"), (6, 5));
        assert_eq!(l.value_pos("axes[0].param"), (6, 13));
        assert_eq!(l.value_pos("axes[0].values[1]"), (6, 38));
        assert_eq!(l.value_pos("axes[0].values[2]"), (6, 42));
        assert_eq!(l.value_pos("axes[1].values"), (7, 35));
        assert_eq!(l.value_pos("axes[1].values[0]"), (7, 35));
        assert_eq!(l.value_pos("nothing"), (2, 1));
    }
}
