//! Shared YAML plumbing: parse text into `serde_json::Value`, turn YAML errors
//! into diagnostics, find the line of a key or a `name:` entry, and read
//! loosely-typed fields while collecting shape errors instead of failing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::diagnostic::{Diagnostic, codes};

mod subset;

/// Parses one YAML document. YAML merge keys (`<<: *defaults`) are applied.
/// An empty document is `Null`.
pub(crate) fn parse(text: &str) -> Result<Value, yaml_serde::Error> {
    if text.contains("<<") {
        // Only the slow path materialises a YAML value to apply merge keys.
        let mut value: yaml_serde::Value = yaml_serde::from_str(text)?;
        value.apply_merge()?;
        return Ok(yaml_to_json(value));
    }
    if let Some(value) = subset::parse(text) {
        return Ok(value);
    }
    yaml_serde::from_str(text)
}

/// See [`crate::yaml_subset_agrees`].
pub(crate) fn subset_agrees(text: &str) -> bool {
    subset::parse(text)
        .is_none_or(|ours| yaml_serde::from_str::<Value>(text).is_ok_and(|theirs| ours == theirs))
}

/// Converts a YAML value to JSON: non-string keys become their YAML text,
/// tags are dropped, non-finite floats become strings.
fn yaml_to_json(value: yaml_serde::Value) -> Value {
    use yaml_serde::Value as Y;
    match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => number_to_json(&n),
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(mapping) => Value::Object(
            mapping
                .into_iter()
                .map(|(k, v)| (yaml_key_text(k), yaml_to_json(v)))
                .collect(),
        ),
        Y::Tagged(tagged) => yaml_to_json(tagged.value),
    }
}

fn number_to_json(n: &yaml_serde::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::from(i)
    } else if let Some(u) = n.as_u64() {
        Value::from(u)
    } else {
        n.as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(n.to_string()), Value::Number)
    }
}

fn yaml_key_text(key: yaml_serde::Value) -> String {
    match yaml_to_json(key) {
        Value::String(s) => s,
        Value::Null => "null".to_string(),
        other => other.to_string(),
    }
}

/// H102 for YAML that does not parse, located where the parser stopped.
pub(crate) fn syntax_diagnostic(
    file: &Path,
    text: &Arc<str>,
    err: &yaml_serde::Error,
) -> Diagnostic {
    let message = strip_position_suffix(&err.to_string());
    let diag = Diagnostic::error(
        codes::YAML_SYNTAX,
        format!("invalid YAML in {}: {message}", file.display()),
    );
    match err.location() {
        Some(loc) => {
            let (line, column) = visible_position(text, loc.line(), loc.column());
            diag.at(file, line, column).with_source(Arc::clone(text), 1)
        }
        None => diag.at(file, 1, 1),
    }
}

/// Errors at the end of the input point at a blank line; show the end of
/// the last line with content instead.
fn visible_position(text: &str, line: usize, column: usize) -> (usize, usize) {
    let lines: Vec<&str> = text.split('\n').collect();
    let is_blank = |l: usize| {
        lines
            .get(l.wrapping_sub(1))
            .is_none_or(|s| s.trim().is_empty())
    };
    if !is_blank(line) {
        return (line, column);
    }
    (1..line)
        .rev()
        .find(|&l| !is_blank(l))
        .map_or((line, column), |l| {
            (l, lines[l - 1].trim_end().chars().count() + 1)
        })
}

/// yaml_serde and libyaml put " at line L column C" into messages; the
/// diagnostic shows the position itself.
fn strip_position_suffix(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find(" at line ") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + " at line ".len()..];
        let skipped = tail
            .find(|c: char| !(c.is_ascii_digit() || c == ' ' || "column".contains(c)))
            .unwrap_or(tail.len());
        rest = &tail[skipped..];
    }
    out.push_str(rest);
    out
}

/// Byte offsets → 1-based lines, and cheap searches for keys and entries.
pub(crate) struct Locator<'t> {
    text: &'t str,
    line_starts: Vec<usize>,
}

impl<'t> Locator<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Locator { text, line_starts }
    }

    /// 1-based line of a byte offset.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset)
    }

    /// 1-based column (in characters) of a byte offset.
    pub(crate) fn column_of(&self, offset: usize) -> usize {
        let line_start = self.line_starts[self.line_of(offset) - 1];
        self.text
            .get(line_start..offset)
            .map_or(1, |s| s.chars().count() + 1)
    }

    /// Offset of the first `key:` at or after `from` that starts a mapping
    /// entry (preceded by indentation, `- `, `{` or `,`).
    pub(crate) fn find_key(&self, from: usize, key: &str) -> Option<usize> {
        self.keys(from, key).next()
    }

    /// Offsets of the `key:` entries at or after `from`, in order.
    fn keys<'s>(&'s self, from: usize, key: &'s str) -> impl Iterator<Item = usize> + 's {
        let haystack = self.text.get(from..).unwrap_or_default();
        occurrences(haystack, key)
            .filter(move |&at| {
                self.starts_entry(from + at) && haystack[at + key.len()..].starts_with(':')
            })
            .map(move |at| from + at)
    }

    /// Offset of the first `name: <name>` entry at or after `from`
    /// (the value may be quoted and followed by a comment).
    pub(crate) fn find_name(&self, from: usize, name: &str) -> Option<usize> {
        self.keys(from, "name").find(|&at| {
            let value_start = at + "name:".len();
            let line_end = self.text[value_start..]
                .find(['\n', ',', '}'])
                .map_or(self.text.len(), |i| value_start + i);
            scalar_text(&self.text[value_start..line_end]) == name
        })
    }

    /// Offset of the first occurrence of `token` at or after `from` that
    /// is a whole word (used for tests written as `- unique`).
    pub(crate) fn find_word(&self, from: usize, token: &str) -> Option<usize> {
        let haystack = self.text.get(from..)?;
        let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
        occurrences(haystack, token)
            .find(|&at| {
                let before_ok = !haystack[..at].chars().next_back().is_some_and(is_word);
                let after_ok = !haystack[at + token.len()..]
                    .chars()
                    .next()
                    .is_some_and(is_word);
                before_ok && after_ok
            })
            .map(|at| from + at)
    }

    fn starts_entry(&self, offset: usize) -> bool {
        let line_start = self.line_starts[self.line_of(offset) - 1];
        let prefix = &self.text[line_start..offset];
        let trimmed = prefix.trim_end_matches([' ', '\t', '"', '\'']);
        trimmed.is_empty()
            || trimmed.ends_with('-') && trimmed.trim_start_matches([' ', '\t', '-']).is_empty()
            || trimmed.ends_with('{')
            || trimmed.ends_with(',')
    }
}

/// Byte offsets of the non-overlapping occurrences of `needle` (none for an
/// empty one), found by one memchr searcher: `str::find` in a loop set up a
/// new searcher for each occurrence, a few percent of reading property files.
fn occurrences<'a>(haystack: &'a str, needle: &'a str) -> impl Iterator<Item = usize> + 'a {
    (!needle.is_empty())
        .then(|| memchr::memmem::find_iter(haystack.as_bytes(), needle.as_bytes()))
        .into_iter()
        .flatten()
}

/// The text of a plain or quoted scalar as written after `key:`.
fn scalar_text(raw: &str) -> &str {
    let trimmed = raw.trim();
    let without_comment = match subset::find_pair(trimmed, b" #") {
        Some(i) if !trimmed.starts_with(['"', '\'']) => trimmed[..i].trim_end(),
        _ => trimmed,
    };
    for quote in ['"', '\''] {
        if let Some(inner) = without_comment
            .strip_prefix(quote)
            .and_then(|s| s.split(quote).next())
        {
            return inner;
        }
    }
    without_comment
}

/// Reads fields of one YAML file, recording a diagnostic for each value of
/// the wrong shape and carrying on with a default.
pub(crate) struct FieldReader<'a> {
    pub(crate) file: PathBuf,
    pub(crate) text: Arc<str>,
    pub(crate) locator: Locator<'a>,
    /// H103 for property files, H105 for project files.
    pub(crate) code: &'static str,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl<'a> FieldReader<'a> {
    pub(crate) fn new(file: &Path, text: &'a Arc<str>, code: &'static str) -> Self {
        FieldReader {
            file: file.to_path_buf(),
            text: Arc::clone(text),
            locator: Locator::new(text),
            code,
            diagnostics: Vec::new(),
        }
    }

    /// Records a wrong-shape diagnostic at the key `key` searched from `from`.
    pub(crate) fn wrong_shape(
        &mut self,
        from: usize,
        key: &str,
        context: &str,
        expected: &str,
        found: &Value,
    ) {
        let offset = self.locator.find_key(from, key);
        let (line, column) = offset.map_or((self.locator.line_of(from), 1), |o| {
            (self.locator.line_of(o), self.locator.column_of(o))
        });
        let message = format!(
            "`{key}`{context} in {} must be {expected}, found {}",
            self.file.display(),
            describe(found)
        );
        let diag = Diagnostic::error(self.code, message)
            .at(&self.file, line, column)
            .with_source(Arc::clone(&self.text), key.chars().count());
        self.diagnostics.push(diag);
    }

    /// A string-like scalar (numbers and booleans are written as text).
    pub(crate) fn string(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        from: usize,
        context: &str,
    ) -> Option<String> {
        match map.get(key)? {
            Value::Null => None,
            value => scalar_string(value).or_else(|| {
                self.wrong_shape(from, key, context, "a string", value);
                None
            }),
        }
    }

    /// A list of strings, also accepting one string (as dbt does for `tags`).
    pub(crate) fn string_list(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        from: usize,
        context: &str,
    ) -> Vec<String> {
        match map.get(key) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => {
                let strings: Option<Vec<String>> = items.iter().map(scalar_string).collect();
                strings.unwrap_or_else(|| {
                    self.wrong_shape(
                        from,
                        key,
                        context,
                        "a list of strings",
                        &Value::Array(items.clone()),
                    );
                    Vec::new()
                })
            }
            Some(value) => scalar_string(value).map(|s| vec![s]).unwrap_or_else(|| {
                self.wrong_shape(from, key, context, "a string or a list of strings", value);
                Vec::new()
            }),
        }
    }

    /// A list of strings, strictly (no single string, no numbers), as dbt
    /// requires for `model-paths` and the like.
    pub(crate) fn strict_string_list(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        from: usize,
        context: &str,
    ) -> Vec<String> {
        let value = match map.get(key) {
            None | Some(Value::Null) => return Vec::new(),
            Some(value) => value,
        };
        let strings: Option<Vec<String>> = value
            .as_array()
            .and_then(|items| items.iter().map(|v| v.as_str().map(String::from)).collect());
        strings.unwrap_or_else(|| {
            self.wrong_shape(from, key, context, "a list of strings", value);
            Vec::new()
        })
    }

    /// A mapping (`{}` when absent).
    pub(crate) fn object(
        &mut self,
        map: &Map<String, Value>,
        key: &str,
        from: usize,
        context: &str,
    ) -> Map<String, Value> {
        match map.get(key) {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(inner)) => inner.clone(),
            Some(value) => {
                self.wrong_shape(from, key, context, "a mapping", value);
                Map::new()
            }
        }
    }

    /// A list of values (`[]` when absent).
    pub(crate) fn list<'v>(
        &mut self,
        map: &'v Map<String, Value>,
        key: &str,
        from: usize,
        context: &str,
    ) -> &'v [Value] {
        match map.get(key) {
            None | Some(Value::Null) => &[],
            Some(Value::Array(items)) => items,
            Some(value) => {
                self.wrong_shape(from, key, context, "a list", value);
                &[]
            }
        }
    }
}

/// Text of a scalar: strings as they are, numbers and booleans printed.
pub(crate) fn scalar_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// "a string", "a list", … for error messages.
pub(crate) fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_plain_yaml_to_json() {
        let value = parse("a: 1\nb: [x, 'y']\nc: ~\nd: 1.5\n").unwrap();
        assert_eq!(value, json!({"a": 1, "b": ["x", "y"], "c": null, "d": 1.5}));
    }

    #[test]
    fn empty_document_is_null() {
        assert_eq!(parse("").unwrap(), Value::Null);
        assert_eq!(parse("# only a comment\n").unwrap(), Value::Null);
    }

    #[test]
    fn non_string_keys_become_text() {
        let value = parse("1: a\ntrue: b\n").unwrap();
        assert_eq!(value, json!({"1": "a", "true": "b"}));
    }

    #[test]
    fn merge_keys_are_applied() {
        let text = "base: &base\n  a: 1\n  b: 2\nchild:\n  <<: *base\n  b: 3\n";
        let value = parse(text).unwrap();
        assert_eq!(value["child"], json!({"a": 1, "b": 3}));
    }

    #[test]
    fn syntax_error_has_location() {
        let text: Arc<str> = Arc::from("models:\n  - name: a\n   bad: [\n");
        let err = parse(&text).unwrap_err();
        let diag = syntax_diagnostic(Path::new("models/x.yml"), &text, &err);
        assert_eq!(diag.code, codes::YAML_SYNTAX);
        let loc = diag.location.unwrap();
        assert!(loc.line >= 2, "{loc:?}");
        assert_eq!(
            diag.message,
            "invalid YAML in models/x.yml: did not find expected '-' indicator, while parsing a block collection"
        );
    }

    #[test]
    fn finds_names_and_keys() {
        let text = "models:\n  - name: a\n    columns:\n      - name: \"id\" # pk\n        column_name: b\n  - {name: 'b'}\n";
        let loc = Locator::new(text);
        let a = loc.find_name(0, "a").unwrap();
        assert_eq!(loc.line_of(a), 2);
        let id = loc.find_name(a, "id").unwrap();
        assert_eq!(loc.line_of(id), 4);
        assert_eq!(loc.column_of(id), 9);
        let b = loc.find_name(id, "b").unwrap();
        assert_eq!(loc.line_of(b), 6);
        assert_eq!(loc.line_of(loc.find_key(0, "columns").unwrap()), 3);
        assert_eq!(loc.find_name(0, "missing"), None);
    }

    #[test]
    fn find_word_skips_longer_words() {
        let text = "tests:\n  - not_null_x\n  - not_null\n";
        let loc = Locator::new(text);
        assert_eq!(loc.line_of(loc.find_word(0, "not_null").unwrap()), 3);
    }

    #[test]
    fn reader_records_wrong_shapes() {
        let text: Arc<str> = Arc::from("name: a\ncolumns: x\ntags: [1, b]\n");
        let value = parse(&text).unwrap();
        let map = value.as_object().unwrap();
        let mut reader = FieldReader::new(Path::new("m.yml"), &text, codes::YAML_SCHEMA);
        assert!(reader.list(map, "columns", 0, "").is_empty());
        assert_eq!(reader.string_list(map, "tags", 0, ""), vec!["1", "b"]);
        assert_eq!(reader.diagnostics.len(), 1);
        let diag = &reader.diagnostics[0];
        assert_eq!(
            diag.message,
            "`columns` in m.yml must be a list, found a string"
        );
        assert_eq!(diag.location.as_ref().unwrap().line, 2);
    }
}
