//! A fast parser for the plain block-style YAML that property files are
//! written in: block mappings and sequences, plain and one-line quoted
//! scalars, `|` and `>` block scalars, one-line flow collections, comments.
//!
//! libyaml's scanner reads about 12 MB/s per core, and a large project's
//! property YAML is megabytes: this subset is read several times faster.
//! Anything outside it (anchors, tags, multi-line plain or quoted scalars,
//! document markers, tabs, CRLF, duplicate keys, numbers as keys, any
//! error) returns `None`, and the caller parses the text with yaml_serde,
//! which then decides the value or reports the error. Where the subset
//! answers, it answers exactly what yaml_serde would: numbers and other
//! scalars that do not plainly read as strings are resolved by yaml_serde
//! itself, and a differential test (and fuzz target) holds the two equal.

use serde_json::{Map, Value};

/// The value of `text`, or `None` when it is not in the subset.
pub(crate) fn parse(text: &str) -> Option<Value> {
    if !is_plain_text(text) {
        return None;
    }
    let mut parser = Parser::new(text)?;
    parser.skip_blank();
    let Some(first) = parser.current() else {
        return Some(Value::Null);
    };
    let value = parser.block_node(first.indent)?;
    parser.skip_blank();
    parser.current().is_none().then_some(value)
}

/// Printable characters and `\n` only: no tabs, carriage returns, byte order
/// marks, control characters or the line breaks libyaml also knows (NEL,
/// LS, PS).
fn is_plain_text(text: &str) -> bool {
    if text.is_ascii() {
        return text
            .bytes()
            .all(|b| b == b'\n' || (b' '..=b'~').contains(&b));
    }
    text.chars().all(|c| match c {
        '\n' => true,
        ' '..='~' => true,
        '\u{A0}'..='\u{D7FF}' => !matches!(c, '\u{2028}' | '\u{2029}'),
        '\u{E000}'..='\u{FFFD}' => c != '\u{FEFF}',
        '\u{10000}'..='\u{10FFFF}' => true,
        _ => false,
    })
}

#[derive(Clone, Copy)]
struct Line<'t> {
    /// Spaces before `content` (for a compact mapping after `- `, the
    /// column of its first key).
    indent: usize,
    /// The line after its indentation.
    content: &'t str,
    /// The whole line, for block scalars.
    raw: &'t str,
}

impl Line<'_> {
    /// Empty or a comment: no part of the structure.
    fn is_blank(&self) -> bool {
        self.content.is_empty() || self.content.starts_with('#')
    }
}

/// Nesting deeper than this is left to yaml_serde: the parser recurses,
/// and `[[[[…` is one byte a level.
const MAX_DEPTH: usize = 64;

struct Parser<'t> {
    lines: Vec<Line<'t>>,
    at: usize,
    /// Block nodes entered and not yet left.
    depth: usize,
    /// Whether the text ends with a line break (a block scalar reaching the
    /// end of a text without one keeps no final line break).
    ends_with_newline: bool,
}

impl<'t> Parser<'t> {
    fn new(text: &'t str) -> Option<Self> {
        let ends_with_newline = text.ends_with('\n');
        let body = text.strip_suffix('\n').unwrap_or(text);
        let mut lines = Vec::with_capacity(body.len() / 24 + 1);
        for raw in body.split('\n') {
            let content = raw.trim_start_matches(' ');
            if is_document_marker(raw) {
                return None;
            }
            lines.push(Line {
                indent: raw.len() - content.len(),
                content: content.trim_end_matches(' '),
                raw,
            });
        }
        Some(Parser {
            lines,
            at: 0,
            depth: 0,
            ends_with_newline,
        })
    }

    fn current(&self) -> Option<Line<'t>> {
        self.lines.get(self.at).copied()
    }

    fn skip_blank(&mut self) {
        while self.current().is_some_and(|l| l.is_blank()) {
            self.at += 1;
        }
    }

    /// The node whose first line is the current one, at `indent`.
    fn block_node(&mut self, indent: usize) -> Option<Value> {
        let line = self.current()?;
        if self.depth == MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let value = if is_sequence_entry(line.content) {
            self.sequence(indent)
        } else {
            self.mapping(indent)
        };
        self.depth -= 1;
        value
    }

    fn sequence(&mut self, indent: usize) -> Option<Value> {
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            let Some(line) = self.current() else { break };
            if line.indent < indent || (line.indent == indent && !is_sequence_entry(line.content)) {
                break;
            }
            if line.indent > indent {
                return None;
            }
            let after_dash = &line.content[1..];
            let rest = after_dash.trim_start_matches(' ');
            let rest_indent = indent + 1 + (after_dash.len() - rest.len());
            if rest.is_empty() || rest.starts_with('#') {
                self.at += 1;
                items.push(self.nested_value(indent)?);
            } else if is_sequence_entry(rest) || rest.starts_with('?') {
                return None;
            } else if starts_mapping_entry(rest) {
                // `- key: value`: a mapping whose first key sits after the dash.
                self.lines[self.at] = Line {
                    indent: rest_indent,
                    content: rest,
                    raw: line.raw,
                };
                items.push(self.mapping(rest_indent)?);
            } else {
                items.push(self.inline_value(indent, rest)?);
            }
        }
        Some(Value::Array(items))
    }

    fn mapping(&mut self, indent: usize) -> Option<Value> {
        let mut map = Map::new();
        loop {
            self.skip_blank();
            let Some(line) = self.current() else { break };
            if line.indent < indent {
                break;
            }
            if line.indent > indent || is_sequence_entry(line.content) {
                return None;
            }
            let (key, rest) = split_mapping_entry(line.content)?;
            let value = if rest.is_empty() || rest.starts_with('#') {
                self.at += 1;
                self.nested_value_or_same_indent_sequence(indent)?
            } else {
                self.inline_value(indent, rest)?
            };
            if map.insert(key, value).is_some() {
                // Duplicate keys: yaml_serde decides what they mean.
                return None;
            }
        }
        Some(Value::Object(map))
    }

    /// The value of an entry with nothing after its `key:` or `-`: a block
    /// on the following, more indented lines, else null.
    fn nested_value(&mut self, parent_indent: usize) -> Option<Value> {
        self.skip_blank();
        match self.current() {
            Some(next) if next.indent > parent_indent => self.block_node(next.indent),
            _ => Some(Value::Null),
        }
    }

    /// A mapping value may also be a sequence at the key's own indentation.
    fn nested_value_or_same_indent_sequence(&mut self, indent: usize) -> Option<Value> {
        self.skip_blank();
        match self.current() {
            Some(next) if next.indent == indent && is_sequence_entry(next.content) => {
                self.sequence(indent)
            }
            _ => self.nested_value(indent),
        }
    }

    /// The value written on the current line after `key:` or `- `; moves
    /// past the lines it takes.
    fn inline_value(&mut self, parent_indent: usize, rest: &'t str) -> Option<Value> {
        let first = rest.as_bytes()[0];
        let value = match first {
            b'|' | b'>' => return self.block_scalar(parent_indent, rest),
            b'[' | b'{' => {
                let mut flow = Flow {
                    text: rest,
                    at: 0,
                    depth: self.depth,
                };
                let value = flow.node()?;
                flow.end_of_line()?;
                value
            }
            b'\'' | b'"' => {
                let (value, after) = quoted(rest)?;
                if !is_line_end(after) {
                    return None;
                }
                Value::String(value)
            }
            _ => {
                let text = strip_comment(rest);
                if contains_pair(text, b": ") || text.ends_with(':') {
                    return None;
                }
                resolve_plain(text)?
            }
        };
        self.at += 1;
        // A more indented line after a one-line value continues it (a
        // multi-line scalar) or is an error: either way, not the subset.
        self.skip_blank();
        if self.current().is_some_and(|l| l.indent > parent_indent) {
            return None;
        }
        Some(value)
    }

    /// A `|` or `>` block scalar whose header is `header`.
    fn block_scalar(&mut self, parent_indent: usize, header: &str) -> Option<Value> {
        let folded = header.starts_with('>');
        let chomp = match strip_comment(&header[1..]) {
            "" => Chomp::Clip,
            "-" => Chomp::Strip,
            // Keep (`+`) and explicit indentation are rare: left to yaml_serde.
            _ => return None,
        };
        self.at += 1;
        let start = self.at;
        let mut content_indent = None;
        let mut end = start;
        while let Some(line) = self.lines.get(end) {
            if line.content.is_empty() {
                end += 1;
                continue;
            }
            let indent = *content_indent.get_or_insert(line.indent);
            if indent <= parent_indent {
                content_indent = None;
                break;
            }
            if line.indent < indent {
                break;
            }
            end += 1;
        }
        let lines = &self.lines[start..end];
        let Some(indent) = content_indent else {
            // No content: the scalar is empty; the lines left are structure.
            if lines.iter().any(|l| l.raw.len() > parent_indent) {
                return None;
            }
            self.at = end;
            return Some(Value::String(String::new()));
        };
        // Blank lines longer than the indentation, and (in folded scalars)
        // more indented lines, have rules of their own.
        let unusual = |l: &Line| {
            (l.content.is_empty() && l.raw.len() > indent) || (folded && l.indent > indent)
        };
        if lines.iter().any(unusual) {
            return None;
        }
        let last_content = lines.iter().rposition(|l| !l.content.is_empty())?;
        if end == self.lines.len() && last_content + 1 == lines.len() && !self.ends_with_newline {
            return None;
        }
        self.at = end;
        let text_of = |l: &Line<'t>| {
            if l.content.is_empty() {
                ""
            } else {
                &l.raw[indent..]
            }
        };
        let body = &lines[..=last_content];
        let mut out = String::new();
        if folded {
            // Line breaks between text lines fold to a space; each empty
            // line between them stands for one line break.
            let mut empty_run = 0;
            let mut after_text = false;
            for line in body {
                if line.content.is_empty() {
                    empty_run += 1;
                    continue;
                }
                if after_text && empty_run == 0 {
                    out.push(' ');
                }
                out.extend(std::iter::repeat_n('\n', empty_run));
                out.push_str(text_of(line));
                empty_run = 0;
                after_text = true;
            }
        } else {
            for (i, line) in body.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                out.push_str(text_of(line));
            }
        }
        if chomp == Chomp::Clip {
            out.push('\n');
        }
        Some(Value::String(out))
    }
}

#[derive(PartialEq)]
enum Chomp {
    Clip,
    Strip,
}

fn is_document_marker(raw: &str) -> bool {
    raw.starts_with('%')
        || ["---", "..."].iter().any(|m| {
            raw.strip_prefix(m)
                .is_some_and(|r| r.is_empty() || r.starts_with(' '))
        })
}

fn is_sequence_entry(content: &str) -> bool {
    content == "-" || content.starts_with("- ")
}

/// The part of a plain scalar before a ` #` comment, without trailing spaces.
fn strip_comment(text: &str) -> &str {
    let end = find_pair(text, b" #").unwrap_or(text.len());
    text[..end].trim_end_matches(' ')
}

/// Only spaces follow, or spaces and a comment.
fn is_line_end(rest: &str) -> bool {
    let trimmed = rest.trim_start_matches(' ');
    trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < rest.len())
}

fn starts_mapping_entry(content: &str) -> bool {
    split_mapping_entry(content).is_some()
}

/// `key: rest` into the key and what follows its colon (trimmed).
fn split_mapping_entry(content: &str) -> Option<(String, &str)> {
    let (key, after_key) = match content.as_bytes().first()? {
        b'\'' | b'"' => {
            let (key, after) = quoted(content)?;
            (key, after.trim_start_matches(' '))
        }
        _ => {
            let colon = find_pair(content, b": ")
                .or_else(|| content.ends_with(':').then(|| content.len() - 1))?;
            let key = &content[..colon];
            if !is_plain_string_key(key) {
                return None;
            }
            (key.to_string(), &content[colon..])
        }
    };
    let rest = after_key.strip_prefix(':')?;
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((key, rest.trim_start_matches(' ')))
}

/// A plain key that yaml_serde reads as this very string.
fn is_plain_string_key(key: &str) -> bool {
    let Some(first) = key.bytes().next() else {
        return false;
    };
    // libyaml limits implicit keys to 1,024 characters.
    key.len() < 1000
        && key != "<<"
        && !key.ends_with(' ')
        && !contains_pair(key, b" #")
        && !b"-?:,[]{}#&*!|>'\"%@`~+.0123456789".contains(&first)
        && plain_keyword(key).is_none()
}

/// Whether `text` holds the two bytes `pair` (` #` starts a comment after
/// a plain scalar, `: ` a mapping). A byte scan: keys and scalars are
/// short, and `str::contains` sets up a searcher per call.
fn contains_pair(text: &str, pair: &[u8; 2]) -> bool {
    find_pair(text, pair).is_some()
}

/// Byte offset of the first `pair` in `text`: `str::find` sets up a
/// two-way searcher per call, which cost more than the search on these
/// short lines (a few percent of reading property files).
pub(crate) fn find_pair(text: &str, pair: &[u8; 2]) -> Option<usize> {
    let bytes = text.as_bytes();
    // Looks for the byte that is not a space: spaces are everywhere.
    if pair[0] == b' ' {
        memchr::memchr_iter(pair[1], bytes)
            .find(|&i| i > 0 && bytes[i - 1] == b' ')
            .map(|i| i - 1)
    } else {
        memchr::memchr_iter(pair[0], bytes).find(|&i| bytes.get(i + 1) == Some(&pair[1]))
    }
}

/// `null`, `true`, `false` in the spellings YAML's core schema knows.
fn plain_keyword(text: &str) -> Option<Value> {
    match text {
        "~" | "null" | "Null" | "NULL" => Some(Value::Null),
        "true" | "True" | "TRUE" => Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => Some(Value::Bool(false)),
        _ => None,
    }
}

/// A plain scalar as yaml_serde types it. Text that could be a number is
/// given to yaml_serde itself.
fn resolve_plain(text: &str) -> Option<Value> {
    let bytes = text.as_bytes();
    let first = *bytes.first()?;
    if let Some(keyword) = plain_keyword(text) {
        return Some(keyword);
    }
    let second = bytes.get(1).copied();
    let indicator_needs_space = matches!(first, b'-' | b'?' | b':');
    if indicator_needs_space && second.is_none_or(|b| b == b' ') {
        return None;
    }
    if b",[]{}#&*!|>'\"%@`".contains(&first) {
        return None;
    }
    if first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.') {
        return yaml_serde::from_str::<Value>(text).ok();
    }
    Some(Value::String(text.to_string()))
}

/// A quoted scalar closed on this line: its value and the text after it.
fn quoted(text: &str) -> Option<(String, &str)> {
    let quote = text.as_bytes()[0];
    let body = &text[1..];
    let mut out = String::new();
    if quote == b'\'' {
        let mut rest = body;
        loop {
            let close = rest.find('\'')?;
            out.push_str(&rest[..close]);
            rest = &rest[close + 1..];
            match rest.strip_prefix('\'') {
                Some(after) => {
                    out.push('\'');
                    rest = after;
                }
                None => return Some((out, rest)),
            }
        }
    }
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &body[i + 1..])),
            '\\' => {
                let (_, escape) = chars.next()?;
                let simple = match escape {
                    '0' => '\0',
                    'a' => '\u{07}',
                    'b' => '\u{08}',
                    't' => '\t',
                    'n' => '\n',
                    'v' => '\u{0B}',
                    'f' => '\u{0C}',
                    'r' => '\r',
                    'e' => '\u{1B}',
                    ' ' => ' ',
                    '"' => '"',
                    '/' => '/',
                    '\\' => '\\',
                    'x' | 'u' | 'U' => {
                        let digits = match escape {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let start = i + 2;
                        let hex = body.get(start..start + digits)?;
                        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                            return None;
                        }
                        for _ in 0..digits {
                            chars.next();
                        }
                        char::from_u32(u32::from_str_radix(hex, 16).ok()?)?
                    }
                    _ => return None,
                };
                out.push(simple);
            }
            _ => out.push(c),
        }
    }
    None
}

/// A flow collection (`[a, b]`, `{k: v}`) written on one line.
struct Flow<'t> {
    text: &'t str,
    at: usize,
    /// Enclosing block nodes and flow collections.
    depth: usize,
}

impl<'t> Flow<'t> {
    fn rest(&self) -> &'t str {
        &self.text[self.at..]
    }

    fn skip_spaces(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start_matches(' ').len();
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.rest().as_bytes().first() == Some(&byte);
        self.at += usize::from(found);
        found
    }

    fn node(&mut self) -> Option<Value> {
        self.skip_spaces();
        match *self.rest().as_bytes().first()? {
            b'[' | b'{' if self.depth == MAX_DEPTH => None,
            b'[' => self.nested(Self::sequence),
            b'{' => self.nested(Self::mapping),
            b'\'' | b'"' => {
                let (value, after) = quoted(self.rest())?;
                self.at = self.text.len() - after.len();
                Some(Value::String(value))
            }
            _ => {
                let text = self.plain()?;
                resolve_plain(text)
            }
        }
    }

    /// A plain scalar ending at a flow indicator; a `:` or ` #` inside one
    /// is left to yaml_serde.
    fn plain(&mut self) -> Option<&'t str> {
        let rest = self.rest();
        let end = rest.find([',', '[', ']', '{', '}']).unwrap_or(rest.len());
        let text = rest[..end].trim_end_matches(' ');
        if text.is_empty() || text.contains(':') || contains_pair(text, b" #") {
            return None;
        }
        self.at += end;
        Some(text)
    }

    fn nested(&mut self, collection: fn(&mut Self) -> Option<Value>) -> Option<Value> {
        self.depth += 1;
        let value = collection(self);
        self.depth -= 1;
        value
    }

    fn sequence(&mut self) -> Option<Value> {
        self.at += 1;
        let mut items = Vec::new();
        loop {
            self.skip_spaces();
            if self.eat(b']') {
                return Some(Value::Array(items));
            }
            items.push(self.node()?);
            self.skip_spaces();
            if !self.eat(b',') {
                self.skip_spaces();
                return self.eat(b']').then_some(Value::Array(items));
            }
        }
    }

    fn mapping(&mut self) -> Option<Value> {
        self.at += 1;
        let mut map = Map::new();
        loop {
            self.skip_spaces();
            if self.eat(b'}') {
                return Some(Value::Object(map));
            }
            let key = match *self.rest().as_bytes().first()? {
                b'\'' | b'"' => {
                    let (key, after) = quoted(self.rest())?;
                    self.at = self.text.len() - after.len();
                    key
                }
                _ => {
                    let rest = self.rest();
                    let end = find_pair(rest, b": ")?;
                    let key = &rest[..end];
                    if !is_plain_string_key(key) || key.contains([',', '[', ']', '{', '}']) {
                        return None;
                    }
                    self.at += end;
                    key.to_string()
                }
            };
            self.skip_spaces();
            if !self.eat(b':') || !self.rest().starts_with(' ') {
                return None;
            }
            let value = self.node()?;
            if map.insert(key, value).is_some() {
                return None;
            }
            self.skip_spaces();
            if !self.eat(b',') {
                self.skip_spaces();
                return self.eat(b'}').then_some(Value::Object(map));
            }
        }
    }

    /// After the collection: nothing, or a comment.
    fn end_of_line(&self) -> Option<()> {
        is_line_end(self.rest()).then_some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn find_pair_finds_what_str_find_finds() {
        let texts = [
            "", " ", "#", " #", "a #b", "a#b #c", "  ##", "# #", "a: b", "a:b: c", ":", ": ",
            "a::  b", "é: x #y", "x:\n ", "a  #  # ", "::: : ",
        ];
        for text in texts {
            for pair in [b" #", b": "] {
                let expected = text.find(std::str::from_utf8(pair).unwrap());
                assert_eq!(find_pair(text, pair), expected, "{pair:?} in {text:?}");
            }
        }
    }

    /// The subset's answer, checked against yaml_serde's whenever it gives one.
    fn checked(text: &str) -> Option<Value> {
        let ours = parse(text)?;
        match yaml_serde::from_str::<Value>(text) {
            Ok(theirs) => assert_eq!(ours, theirs, "subset and yaml_serde differ on {text:?}"),
            Err(e) => panic!("subset accepted YAML that yaml_serde rejects ({e}): {text:?}"),
        }
        Some(ours)
    }

    const SAMPLES: &[&str] = &[
        "",
        "# only a comment\n",
        "a: 1\n",
        "a: b\nc: d",
        "version: 2\nmodels:\n  - name: stg_members\n    description: One row per member.\n",
        "models:\n- name: a\n  columns:\n  - name: id\n    tests: [unique, not_null]\n",
        "a:\n  b:\n    c: d\n  e: f\ng: h\n",
        "a: 'it''s'\nb: \"say \\\"hi\\\" \\u00e9 \\x41 \\t\\n\\\\ \\/\"\n",
        "a: x # comment\nb: 'y' # comment\nc: [1, 2] # comment\n",
        "a: x#y\nb: http://example.com/a?b=c\n",
        "a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: true\ng: False\nh: TRUE\n",
        "a: yes\nb: no\nc: on\nd: off\ne: y\nf: n\n",
        "a: 1\nb: -2\nc: +3\nd: 1.5\ne: .5\nf: 1e3\ng: 0x1F\nh: 0o17\ni: 0b101\nj: 007\n",
        "a: .inf\nb: -.inf\nc: .nan\nd: 99999999999999999999\ne: 1_000\nf: 2024-01-01\n",
        "a: 1.0.0\nb: 12:30\nc: -x\nd: .hidden\ne: +\n",
        "a: |\n  line one\n  line two\nb: x\n",
        "a: |-\n  line one\n\n  line three\n\nb: x\n",
        "a: >\n  folded\n  text\n\n  para\nb: x\n",
        "a: >-\n  folded\n  text\n",
        "a: |\n  indented\n    more\n  back\n",
        "a: >\n  text\n    more indented\n  back\n",
        "a: |+\n  keep\n\n",
        "a: |2\n   explicit\n",
        "a: |\n\n  after blank\n",
        "a: >\n\n\n  two blanks first\n  and fold\n",
        "a: |\n  # not a comment\n  text\n# a comment\nb: c\n",
        "a: |\nb: c\n",
        "a: |\n  no final newline",
        "a: |\n  trailing spaces   \n  x\n",
        "- |\n  item\n- >\n  folded item\n",
        "a: [a, 'b', \"c\", [d, e], {f: g}]\n",
        "a: {b: c, 'd': [e], \"f\": {g: h}}\n",
        "a: []\nb: {}\nc: [ ]\nd: { }\n",
        "a: [a, ]\nb: [a,]\nc: [,a]\nd: [a b, c d]\n",
        "a: [a: b]\nb: {a}\nc: {a: }\n",
        "a: [1, 2.5, true, null, ~, -1]\n",
        "a: [unclosed\n  , b]\n",
        "- a\n- b\n-\n- - c\n",
        "-   name: wide\n    x: y\n",
        "key:\n- a\n- b\nother: c\n",
        "a: b: c\n",
        "a: b\n c: d\n",
        "a:\n  - x\n  y: z\n",
        "a: x\n  continued\n",
        "a: 'unclosed\n  quote'\n",
        "a: \"multi\n  line\"\n",
        "a: &anchor x\nb: *anchor\n",
        "a: !tag x\n",
        "? complex\n: key\n",
        "---\na: b\n",
        "a: b\n...\n",
        "%YAML 1.2\n---\na: b\n",
        "a: b\na: c\n",
        "1: one\ntrue: yes\nnull: no\n~: x\n",
        "'quoted key': v\n\"dq key\": w\n'k'  : spaced\n",
        "\"a\":b\n",
        "key : spaced\n",
        "a:\tb\n",
        "a: b\r\nc: d\r\n",
        "\u{feff}a: b\n",
        "a: \u{85}x\n",
        "a: caf\u{e9} \u{1F9D7}\n",
        "a: '\u{7}'\n",
        "  indented: top\n  level: map\n",
        "a:\n    deep: x\n  shallow: y\n",
        "a: 'x' extra\n",
        "a: 'x'# no space\n",
        "a: [x] extra\n",
        "a: - b\n",
        "a: -\n",
        "a: |x\n",
        "a: | # header comment\n  text\n",
        "a: \"\\q\"\n",
        "a: \"\\N\\_\\L\\P\"\n",
        "a: \"\\ud800\"\n",
        "a: \"\\U0001F9D7\"\n",
        "a: @x\n",
        "a: `x`\n",
        "a: %x\n",
        "a: x, y\nb: x [y] {z}\n",
        "scalar only\n",
        "- name: a\n tests: [b]\n",
        "a:\n\n\n  b: c\n",
        "a:   \n  b: c\n",
    ];

    #[test]
    fn samples_agree_with_yaml_serde() {
        let accepted = SAMPLES.iter().filter(|s| checked(s).is_some()).count();
        // Almost half the samples are in the subset; the rest must fall back.
        assert!(
            accepted >= 39,
            "only {accepted} of {} accepted",
            SAMPLES.len()
        );
    }

    #[test]
    fn subset_values() {
        assert_eq!(checked(""), Some(Value::Null));
        assert_eq!(
            checked("models:\n  - name: a\n    tests:\n      - unique\n"),
            Some(json!({"models": [{"name": "a", "tests": ["unique"]}]}))
        );
        assert_eq!(
            checked("a: |\n  x\n  y\nb: >-\n  p\n  q\n"),
            Some(json!({"a": "x\ny\n", "b": "p q"}))
        );
        assert_eq!(checked("a: 2\nb: 1.5\n"), Some(json!({"a": 2, "b": 1.5})));
    }

    #[test]
    fn outside_the_subset_falls_back() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: b\na: c\n",
            "a: x\n  continued\n",
            "a:\tb\n",
            "---\na: b\n",
            "a: |+\n  keep\n",
            "a: b: c\n",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn deep_nesting_is_left_to_yaml_serde() {
        let flow = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(parse(&flow), None);
        let block: String = (0..200)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        assert_eq!(parse(&block), None);
        let shallow = format!("a: {}{}\n", "[".repeat(10), "]".repeat(10));
        assert!(checked(&shallow).is_some());
    }

    /// Every single-character deletion and a set of insertions at every
    /// position of every sample: the subset either declines or agrees.
    #[test]
    fn mutated_samples_agree_with_yaml_serde() {
        const INSERTS: &[&str] = &[
            " ", "\n", ":", ": ", "#", " #", "-", "- ", "'", "\"", "|", ">", "[", "]", "{", "}",
            ",", "\\", "1", ".", "~", "  ", "\n  ",
        ];
        let mut checked_count = 0;
        for sample in SAMPLES {
            let boundaries: Vec<usize> = (0..=sample.len())
                .filter(|&i| sample.is_char_boundary(i))
                .collect();
            for window in boundaries.windows(2) {
                let mut deleted = sample[..window[0]].to_string();
                deleted.push_str(&sample[window[1]..]);
                checked_count += usize::from(checked(&deleted).is_some());
            }
            for &at in &boundaries {
                for insert in INSERTS {
                    let text = format!("{}{insert}{}", &sample[..at], &sample[at..]);
                    checked_count += usize::from(checked(&text).is_some());
                }
            }
        }
        assert!(
            checked_count > 10_000,
            "only {checked_count} variants in the subset"
        );
    }

    /// Every YAML file in the repository, The Hanger's and the fixtures'.
    #[test]
    fn repository_yaml_agrees_with_yaml_serde() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut files = 0;
        let mut accepted = Vec::new();
        for entry in walkdir::WalkDir::new(&root)
            .into_iter()
            .filter_entry(|e| !matches!(e.file_name().to_str(), Some("target" | ".git" | "fuzz")))
            .filter_map(Result::ok)
        {
            let path = entry.path();
            if !matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yml" | "yaml")
            ) {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            files += 1;
            if checked(&text).is_some() {
                accepted.push(path.strip_prefix(&root).unwrap_or(path).to_path_buf());
            }
        }
        assert!(files > 40, "found only {files} YAML files");
        // The Hanger's property files are all read by the subset.
        let hanger = walkdir::WalkDir::new(root.join("models"))
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "yml"))
            .map(|e| {
                e.path()
                    .strip_prefix(&root)
                    .unwrap_or(e.path())
                    .to_path_buf()
            });
        for path in hanger {
            assert!(
                accepted.contains(&path),
                "{} is outside the subset",
                path.display()
            );
        }
    }
}
