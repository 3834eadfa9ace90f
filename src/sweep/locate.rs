//! Where a field of the sweep file sits: maps paths (`axes[1].values[2]`) to the line and
//! column of their value, so errors found after deserialisation point at the offending text.
//!
//! A tolerant walker that knows nothing of the schema: it skips comments and strings, and
//! records every `key: value` inside parentheses and every item of a list with the nesting that
//! leads to it. It never fails; on malformed text it records what it can.

/// A 1-based line and column, columns counted in characters (as RON counts them).
pub(crate) type Pos = (usize, usize);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    /// An identifier or keyword; holds its index in the character vector and its length.
    Ident(usize, usize),
    Punct(char),
    Other,
}

fn tokenize(chars: &[char]) -> Vec<(Tok, Pos)> {
    let (mut line, mut col) = (1, 1);
    let mut pos = Vec::with_capacity(chars.len() + 1);
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
        } else if c == '"' {
            i += 1;
            while i < n && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            Tok::Other
        } else if c.is_alphanumeric() || c == '_' || ((c == '-' || c == '+') && at(i + 1).is_ascii_digit()) {
            i += 1;
            while i < n && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '.' | '#')) {
                i += 1;
            }
            if c.is_alphabetic() || c == '_' {
                Tok::Ident(start, i - start)
            } else {
                Tok::Other
            }
        } else {
            i += 1;
            Tok::Punct(c)
        };
        toks.push((tok, pos[start]));
    }
    toks
}

struct Frame {
    path: String,
    is_list: bool,
    is_struct: bool,
    /// The entry whose value is being read.
    current: Option<usize>,
    index: usize,
}

/// Every field and list item of a RON document with the position of its value.
#[derive(Debug, Clone, Default)]
pub(crate) struct Locator {
    entries: Vec<(String, Pos)>,
    first: Option<Pos>,
}

impl Locator {
    /// Walks `text` and records every field and list item.
    pub(crate) fn new(text: &str) -> Self {
        let chars: Vec<char> = text.chars().collect();
        let toks = tokenize(&chars);
        let mut entries: Vec<(String, Option<Pos>)> = Vec::new();
        let root = Frame { path: String::new(), is_list: false, is_struct: false, current: None, index: 0 };
        let mut stack = vec![root];
        let mut i = 0;
        while i < toks.len() {
            let (tok, pos) = toks[i];
            let top = stack.len() - 1;
            if let (Tok::Ident(s, len), Some((Tok::Punct(':'), _))) = (tok, toks.get(i + 1)) {
                if stack[top].is_struct {
                    let key: String = chars[s..s + len].iter().collect();
                    let path = if stack[top].path.is_empty() { key } else { format!("{}.{key}", stack[top].path) };
                    entries.push((path, None));
                    stack[top].current = Some(entries.len() - 1);
                    i += 2;
                    continue;
                }
            }
            match tok {
                Tok::Punct(',') => {
                    if stack[top].is_list {
                        stack[top].index += 1;
                    }
                    stack[top].current = None;
                }
                Tok::Punct(')' | ']' | '}') if stack.len() > 1 => {
                    stack.pop();
                }
                _ => {
                    let f = &mut stack[top];
                    if f.is_list && f.current.is_none() {
                        entries.push((format!("{}[{}]", f.path, f.index), None));
                        f.current = Some(entries.len() - 1);
                    }
                    if let Some(e) = f.current {
                        entries[e].1.get_or_insert(pos);
                    }
                    if let Tok::Punct(open @ ('(' | '[' | '{')) = tok {
                        let path = f.current.map_or_else(|| f.path.clone(), |e| entries[e].0.clone());
                        stack.push(Frame {
                            path,
                            is_list: open == '[',
                            is_struct: open == '(',
                            current: None,
                            index: 0,
                        });
                    }
                }
            }
            i += 1;
        }
        let entries = entries.into_iter().filter_map(|(p, v)| v.map(|v| (p, v))).collect();
        Self { entries, first: toks.first().map(|t| t.1) }
    }

    /// Where the value of `path` starts; if `path` is not in the text (a field left out), the
    /// nearest enclosing field that is; if none is, the document's first token.
    pub(crate) fn pos(&self, path: &str) -> Pos {
        let mut p = path;
        loop {
            if let Some((_, pos)) = self.entries.iter().find(|e| e.0 == p) {
                return *pos;
            }
            match p.rfind(['.', '[']) {
                Some(k) => p = &p[..k],
                None => return self.first.unwrap_or((1, 1)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_values_by_path() {
        let doc = "// (x: 1)\n(\n  arch: \"a: (b\",\n  options: (seed: 3),\n  /* c: 1 */ axes: [\n    (param: \"bfp.group\", values: [4, -8, 99]),\n    (param: \"array.size\", values: []),\n  ],\n)\n";
        let l = Locator::new(doc);
        assert_eq!(l.pos("arch"), (3, 9));
        assert_eq!(l.pos("options.seed"), (4, 19));
        assert_eq!(l.pos("options.iterations"), (4, 12));
        assert_eq!(l.pos("axes[0]"), (6, 5));
        assert_eq!(l.pos("axes[0].param"), (6, 13));
        assert_eq!(l.pos("axes[0].values[1]"), (6, 38));
        assert_eq!(l.pos("axes[0].values[2]"), (6, 42));
        assert_eq!(l.pos("axes[1].values"), (7, 35));
        assert_eq!(l.pos("axes[1].values[0]"), (7, 35));
        assert_eq!(l.pos("nothing"), (2, 1));
    }
}
