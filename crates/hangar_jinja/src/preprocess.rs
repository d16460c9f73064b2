//! Text pre-pass turning dbt's Jinja2 dialect into what minijinja accepts.
//!
//! Every rewrite keeps line breaks where they are, so error lines from
//! minijinja still point into the user's file.

use std::sync::LazyLock;

use regex::{Captures, Regex};

use crate::expressions;

/// Prefix given to macro definitions so that calls between macros always go
/// through hangar's macro resolution (needed for `return()` and overrides).
pub(crate) const MANGLE: &str = "__hm_";

static PY_COLON: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(\{%-?\s*(?:if|elif|for|else)\b[^%]*?)\s*:\s*(-?%\})").expect("valid regex")
});
static TEST_BLOCK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{%(-?)\s*test\s+([A-Za-z_]\w*)").expect("valid regex"));
static END_TEST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\{%(-?)\s*end(?:test|materialization)\s*(-?)%\}").expect("valid regex")
});
static MATERIALIZATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"\{%(-?)\s*materialization\s+([A-Za-z_]\w*)\s*,\s*(?:adapter\s*=\s*['"]([A-Za-z_]\w*)['"]|(default))[^%]*?(-?)%\}"#,
    )
    .expect("valid regex")
});
static MACRO_START: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{%-?\s*macro\s+([A-Za-z_]\w*)\s*\(").expect("valid regex"));
static END_MACRO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{%-?\s*endmacro\b[^%]*%\}").expect("valid regex"));
static SNAPSHOT_TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\{%-?\s*(?:snapshot\s+[A-Za-z_]\w*|endsnapshot)\s*-?%\}").expect("valid regex")
});
static USES_VARARGS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bvarargs\b").expect("valid regex"));
static USES_KWARGS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bkwargs\b").expect("valid regex"));

/// A macro definition found in a file.
#[derive(Debug, Clone)]
pub(crate) struct ScannedMacro {
    pub name: String,
    pub arguments: Vec<String>,
    pub uses_varargs: bool,
    pub uses_kwargs: bool,
    /// `{% macro … %}…{% endmacro %}` as written (after dialect rewrites).
    pub sql: String,
    /// 1-based line of the definition.
    pub line: usize,
}

/// Text rewrites that apply to every template (nodes and macros).
pub(crate) fn rewrite_dialect(source: &str) -> String {
    if source.contains(':') {
        PY_COLON.replace_all(source, "$1 $2").into_owned()
    } else {
        source.to_string()
    }
}

/// Node templates: dialect rewrites, dropping `{% snapshot %}` tags, then
/// the expression rewrites (Python operators, mutable literals).
pub(crate) fn rewrite_node(source: &str, is_snapshot: bool) -> String {
    let mut out = rewrite_dialect(source);
    if is_snapshot {
        out = SNAPSHOT_TAG.replace_all(&out, "").into_owned();
    }
    expressions::rewrite(out)
}

/// Macro files: dialect rewrites, `{% test %}`/`{% materialization %}` blocks
/// become macros, macro names are mangled and implicit `varargs`/`kwargs`
/// become declared parameters. Returns the new source and the macros found.
pub(crate) fn rewrite_macro_file(source: &str) -> (String, Vec<ScannedMacro>) {
    let mut text = rewrite_dialect(source);
    if text.contains("test") {
        text = TEST_BLOCK
            .replace_all(&text, "{%${1} macro test_${2}")
            .into_owned();
    }
    if text.contains("materialization") {
        text = MATERIALIZATION
            .replace_all(&text, |c: &Captures| {
                let adapter = c.get(3).or(c.get(4)).map_or("default", |m| m.as_str());
                format!(
                    "{{%{} macro materialization_{}_{}() {}%}}",
                    &c[1], &c[2], adapter, &c[5]
                )
            })
            .into_owned();
    }
    if text.contains("end") {
        text = END_TEST
            .replace_all(&text, "{%${1} endmacro ${2}%}")
            .into_owned();
    }
    let scanned = scan_macros(&text);
    let mangled = mangle_macros(&text, &scanned);
    (expressions::rewrite(mangled), scanned)
}

pub(crate) fn scan_macros(text: &str) -> Vec<ScannedMacro> {
    let mut found = Vec::new();
    for caps in MACRO_START.captures_iter(text) {
        let (Some(whole), Some(name)) = (caps.get(0), caps.get(1)) else {
            continue;
        };
        let Some(close) = matching_close(text, whole.end() - 1) else {
            continue;
        };
        let arguments = split_top_level(&text[whole.end()..close])
            .into_iter()
            .filter_map(|a| {
                let n = a.split('=').next().unwrap_or("").trim();
                (!n.is_empty()).then(|| n.to_string())
            })
            .collect::<Vec<_>>();
        let end = END_MACRO
            .find_at(text, close)
            .map_or(text.len(), |m| m.end());
        let sql = text[whole.start()..end].to_string();
        let declared = |n: &str| arguments.iter().any(|a| a == n);
        found.push(ScannedMacro {
            name: name.as_str().to_string(),
            uses_varargs: !declared("varargs") && USES_VARARGS.is_match(&sql),
            uses_kwargs: !declared("kwargs") && USES_KWARGS.is_match(&sql),
            arguments,
            sql,
            line: text[..whole.start()].matches('\n').count() + 1,
        });
    }
    found
}

/// Renames `{% macro foo(` to `{% macro __hm_foo(` and appends implicit
/// `varargs` / `kwargs` parameters where the body uses them.
fn mangle_macros(text: &str, scanned: &[ScannedMacro]) -> String {
    let mut out = String::with_capacity(text.len() + scanned.len() * 8);
    let mut last = 0;
    for (caps, info) in MACRO_START.captures_iter(text).zip(scanned) {
        let (Some(whole), Some(name)) = (caps.get(0), caps.get(1)) else {
            continue;
        };
        out.push_str(&text[last..name.start()]);
        out.push_str(MANGLE);
        out.push_str(name.as_str());
        last = name.end();
        if let Some(close) = matching_close(text, whole.end() - 1) {
            out.push_str(&text[last..close]);
            let has_args = !text[whole.end()..close].trim().is_empty();
            let mut extra = Vec::new();
            if info.uses_varargs {
                extra.push("varargs=none");
            }
            if info.uses_kwargs {
                extra.push("kwargs=none");
            }
            if !extra.is_empty() {
                if has_args {
                    out.push_str(", ");
                }
                out.push_str(&extra.join(", "));
            }
            last = close;
        }
    }
    out.push_str(&text[last..]);
    out
}

/// Index of the bracket closing the one at `open`, skipping string literals.
fn matching_close(text: &str, open: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut i = open;
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(q) = quote {
            if b == b'\\' {
                i += 1;
            } else if b == q {
                quote = None;
            }
        } else {
            match b {
                b'\'' | b'"' => quote = Some(b),
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// Splits on commas that are not nested in brackets or strings.
fn split_top_level(text: &str) -> Vec<&str> {
    split_commas(text, false).unwrap_or_else(|| vec![text])
}

/// Like [`split_top_level`], but `None` unless every bracket and quote in
/// `text` is closed, and none closes one opened before `text`.
pub(crate) fn split_balanced(text: &str) -> Option<Vec<&str>> {
    split_commas(text, true)
}

fn split_commas(text: &str, balanced: bool) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if balanced && depth < 0 {
                    return None;
                }
            }
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if balanced && (depth != 0 || quote.is_some()) {
        return None;
    }
    parts.push(&text[start..]);
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_colon_is_dropped() {
        assert_eq!(
            rewrite_dialect("{% if x: %}a{% else: %}b{% endif %}"),
            "{% if x %}a{% else %}b{% endif %}"
        );
        assert_eq!(rewrite_dialect("{% if x == ':' %}"), "{% if x == ':' %}");
    }

    #[test]
    fn nodes_and_macro_files_get_the_expression_rewrites() {
        assert_eq!(
            rewrite_node("{% set x = [] %}{{ '%s' % y }}{% snapshot s %}", true),
            "{% set x = []|__hj_mutable %}{{ (('%s' )|__hj_mod( y)) }}"
        );
        let (text, macros) = rewrite_macro_file("{% macro m(cols=[]) %}{{ a - b }}{% endmacro %}");
        assert_eq!(
            text,
            "{% macro __hm_m(cols=[]|__hj_mutable) %}{{ ((a )|__hj_sub( b)) }}{% endmacro %}"
        );
        // What users see of the macro is what they wrote.
        assert_eq!(
            macros[0].sql,
            "{% macro m(cols=[]) %}{{ a - b }}{% endmacro %}"
        );
    }

    #[test]
    fn test_and_materialization_blocks_become_macros() {
        let (text, macros) = rewrite_macro_file(
            "{% test is_even(model, column_name) %}x{% endtest %}\n{% materialization view, adapter='duckdb' %}y{% endmaterialization %}",
        );
        assert_eq!(
            text,
            "{% macro __hm_test_is_even(model, column_name) %}x{% endmacro %}\n{% macro __hm_materialization_view_duckdb() %}y{% endmacro %}"
        );
        assert_eq!(macros[0].name, "test_is_even");
        assert_eq!(macros[0].arguments, ["model", "column_name"]);
        assert_eq!(macros[1].name, "materialization_view_duckdb");
        assert_eq!(macros[1].line, 2);
    }

    #[test]
    fn implicit_kwargs_are_declared() {
        let (text, macros) = rewrite_macro_file(
            "{% macro m(a, b=f(1, 2)) %}{{ kwargs }}{{ varargs }}{% endmacro %}",
        );
        assert!(text.starts_with("{% macro __hm_m(a, b=f(1, 2), varargs=none, kwargs=none) %}"));
        assert_eq!(macros[0].arguments, ["a", "b"]);
        assert!(macros[0].uses_kwargs && macros[0].uses_varargs);
    }
}
