//! A small RON text walker that maps field paths (`array.rows`, `sram[1].read_bit_pj`) to line
//! and column, and positions back to field paths.
//!
//! serde forgets where a value came from, so validation errors found after deserialisation use
//! this to point at the offending value, and RON's own errors (which carry a position but no
//! path) use it to name the field. It knows nothing of the schema: it tokenises the text
//! (comments, strings, numbers, identifiers, brackets) and records every `key: value` inside
//! parentheses and every item of a list, with the nesting that leads to it.

/// A 1-based line and column, columns counted in characters (as RON counts them).
pub type Pos = (usize, usize);

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
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

/// One `key: value` (or one list item) and where it sits.
#[derive(Debug, Clone)]
struct Entry {
    path: String,
    depth: usize,
    key_start: Pos,
    value_start: Option<Pos>,
    value_end: Pos,
}

/// Every field of a RON document with its position.
#[derive(Debug, Clone, Default)]
pub struct Locator {
    entries: Vec<Entry>,
    first: Option<Pos>,
}

fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut pos = Vec::with_capacity(chars.len() + 1);
    let (mut line, mut col) = (1, 1);
    for &c in &chars {
        pos.push((line, col));
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    pos.push((line, col));
    let mut toks = Vec::new();
    let mut i = 0;
    let n = chars.len();
    let at = |k: usize| chars.get(k).copied().unwrap_or('\0');
    while i < n {
        let c = chars[i];
        let start = i;
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
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            continue;
        } else if c == '"' || c == '\'' || starts_prefixed_string(&chars, i) {
            i = skip_string(&chars, i);
            Tok::Other
        } else if c.is_ascii_digit() || ((c == '-' || c == '+' || c == '.') && at(i + 1).is_ascii_digit()) {
            i += 1;
            let hex = c == '0' && matches!(at(i), 'x' | 'X' | 'b' | 'o');
            while i < n {
                let d = chars[i];
                let sign = (d == '+' || d == '-') && !hex && matches!(chars[i - 1], 'e' | 'E');
                if d.is_alphanumeric() || d == '_' || d == '.' || sign {
                    i += 1;
                } else {
                    break;
                }
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
        toks.push(Token { tok, start: pos[start], end: pos[i.saturating_sub(1).max(start)] });
    }
    toks
}

/// Whether a `b"..."`, `r"..."`, `r#"..."#` or `br"..."` literal starts at `i` (and not a raw
/// identifier `r#name`).
fn starts_prefixed_string(chars: &[char], i: usize) -> bool {
    let mut k = i;
    if chars.get(k) == Some(&'b') {
        k += 1;
        if chars.get(k) == Some(&'"') {
            return true;
        }
    }
    if chars.get(k) != Some(&'r') {
        return false;
    }
    k += 1;
    while chars.get(k) == Some(&'#') {
        k += 1;
    }
    chars.get(k) == Some(&'"')
}

/// Index just past the string or char literal starting at `i` (`"..."`, `'.'`, `r#"..."#`, `b"..."`).
fn skip_string(chars: &[char], mut i: usize) -> usize {
    let n = chars.len();
    if chars[i] == 'b' {
        i += 1;
    }
    if i < n && chars[i] == 'r' {
        i += 1;
        let mut hashes = 0;
        while i < n && chars[i] == '#' {
            hashes += 1;
            i += 1;
        }
        i += 1; // opening quote
        while i < n {
            if chars[i] == '"' && (1..=hashes).all(|k| chars.get(i + k) == Some(&'#')) {
                return i + 1 + hashes;
            }
            i += 1;
        }
        return n;
    }
    let quote = chars.get(i).copied().unwrap_or('"');
    i += 1;
    while i < n {
        match chars[i] {
            '\\' => i += 2,
            q if q == quote => return i + 1,
            _ => i += 1,
        }
    }
    n
}

/// The first position at or after `pos` that is not whitespace or a comment (RON reports some
/// errors at the blank before the offending token), or `pos` itself at the end of the text.
pub fn skip_blank(text: &str, pos: Pos) -> Pos {
    let chars: Vec<char> = text.chars().collect();
    let (mut line, mut col, mut i) = (1, 1, 0);
    while i < chars.len() && (line, col) < pos {
        if chars[i] == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
        i += 1;
    }
    if (line, col) != pos {
        return pos;
    }
    match tokenize(&chars[i..].iter().collect::<String>()).first() {
        Some(t) if t.start.0 == 1 => (line, col + t.start.1 - 1),
        Some(t) => (line + t.start.0 - 1, t.start.1),
        None => pos,
    }
}

struct Frame {
    path: String,
    is_list: bool,
    is_struct: bool,
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
    /// Walks `text` and records every field and list item. Never fails: on malformed text it
    /// records what it can.
    pub fn new(text: &str) -> Self {
        let toks = tokenize(text);
        let mut entries: Vec<Entry> = Vec::new();
        let mut stack = vec![Frame { path: String::new(), is_list: false, is_struct: false, current: None, index: 0 }];
        let mut i = 0;
        while i < toks.len() {
            let t = &toks[i];
            let depth = stack.len();
            let top = stack.len() - 1;
            if let (Tok::Ident(name), Some(Tok::Punct(':'))) = (&t.tok, toks.get(i + 1).map(|n| &n.tok)) {
                if stack[top].is_struct {
                    let path = join(&stack[top].path, name);
                    entries.push(Entry { path, depth, key_start: t.start, value_start: None, value_end: t.end });
                    stack[top].current = Some(entries.len() - 1);
                    i += 2;
                    continue;
                }
            }
            match t.tok {
                Tok::Punct(',') => {
                    if stack[top].is_list {
                        stack[top].index += 1;
                    }
                    stack[top].current = None;
                }
                Tok::Punct(')' | ']' | '}') if stack.len() > 1 => {
                    stack.pop();
                    let parent = stack.len() - 1;
                    if let Some(e) = stack[parent].current {
                        entries[e].value_end = t.end;
                    }
                }
                _ => {
                    let f = &mut stack[top];
                    if f.is_list && f.current.is_none() {
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
                        let is_list = open == '[';
                        stack.push(Frame { path, is_list, is_struct: open == '(', current: None, index: 0 });
                    }
                }
            }
            i += 1;
        }
        Self { entries, first: toks.first().map(|t| t.start) }
    }

    /// Where the value of `path` starts. If `path` is not in the text (a field left out, a
    /// default), the nearest enclosing field that is; if none is, the document's first token.
    pub fn value_pos(&self, path: &str) -> Pos {
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
    pub fn is_key_start(&self, pos: Pos) -> bool {
        self.entries.iter().any(|e| e.key_start == pos)
    }

    /// The deepest field whose key or value covers `pos` (`""` for the top level).
    pub fn path_at(&self, pos: Pos) -> &str {
        self.entries
            .iter()
            .filter(|e| e.key_start <= pos && pos <= e.value_end)
            .max_by_key(|e| e.depth)
            .map_or("", |e| e.path.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "// header (x: 1)\n(\n  name: \"a: (b\",\n  array: (rows: 0, cell: fmac(chunk_bits: 3)),\n  /* c: 1 */ sram: [(kib: 8), (kib: 0)],\n)\n";

    #[test]
    fn finds_values_by_path() {
        let l = Locator::new(DOC);
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
    fn finds_paths_by_position() {
        let l = Locator::new(DOC);
        assert_eq!(l.path_at((4, 17)), "array.rows");
        assert_eq!(l.path_at((4, 3)), "array");
        assert_eq!(l.path_at((4, 44)), "array.cell");
        assert_eq!(l.path_at((4, 45)), "array");
        assert_eq!(l.path_at((5, 37)), "sram[1].kib");
        assert_eq!(l.path_at((5, 38)), "sram[1]");
        assert_eq!(l.path_at((6, 1)), "");
        assert!(l.is_key_start((4, 20)));
        assert_eq!(skip_blank(DOC, (4, 16)), (4, 17));
        assert_eq!(skip_blank(DOC, (4, 40)), (4, 40));
        assert_eq!(skip_blank(DOC, (4, 47)), (5, 14));
        assert_eq!(skip_blank(DOC, (9, 1)), (9, 1));
    }
}
