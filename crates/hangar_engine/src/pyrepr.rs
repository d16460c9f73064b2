//! Python `repr()` of the plain values dbt hashes into generic test ids.
//!
//! dbt derives a generic test's unique id from
//! `md5(name + repr(hashable(test_metadata)))[-10:]`, where `hashable`
//! sorts dict keys and turns every leaf into `str(leaf)`. Reproducing Python's
//! `repr` byte for byte is what keeps hangar's test ids equal to dbt's.

use serde_json::Value;

/// `repr(get_hashable_md(value))` as dbt computes it.
pub fn hashable_repr(value: &Value) -> String {
    let mut out = String::new();
    write_hashable(value, &mut out);
    out
}

fn write_hashable(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => write_hashable_map(map, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_hashable(item, out);
            }
            out.push(']');
        }
        Value::String(s) => push_str_repr(s, out),
        leaf => push_str_repr(&py_str(leaf), out),
    }
}

/// Appends the repr of a mapping, its keys sorted.
pub fn write_hashable_map(map: &serde_json::Map<String, Value>, out: &mut String) {
    out.push('{');
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by_key(|(key, _)| *key);
    for (i, (key, value)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_str_repr(key, out);
        out.push_str(": ");
        write_hashable(value, out);
    }
    out.push('}');
}

/// Appends `repr(text)`. Most test arguments are printable ASCII without
/// backslashes, whose repr is the text in single quotes, or in double
/// quotes when it holds a single one and no double one (every test's
/// `model`, `{{ get_where_subquery(ref('x')) }}`).
pub fn push_str_repr(text: &str, out: &mut String) {
    let printable = text
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'\\');
    // Python's choice: single quotes unless the text holds only single ones.
    let quote = if !text.contains('\'') {
        Some('\'')
    } else if !text.contains('"') {
        Some('"')
    } else {
        None
    };
    match quote {
        Some(quote) if printable => {
            out.push(quote);
            out.push_str(text);
            out.push(quote);
        }
        _ => out.push_str(&py_str_repr(text)),
    }
}

/// Python's `str()` of a JSON leaf as it arrives from YAML.
pub fn py_str(value: &Value) -> String {
    match value {
        Value::Null => "None".to_string(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
                py_float_str(f)
            } else {
                n.to_string()
            }
        }
        Value::String(s) => s.clone(),
        // Containers are handled by the callers; fall back to a repr.
        other => hashable_repr(other),
    }
}

/// Python's `repr()` of a value as it arrives from YAML (`str()` of a list
/// or a dict is its repr).
pub fn py_repr(value: &Value) -> String {
    match value {
        Value::String(s) => py_str_repr(s),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(py_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", py_str_repr(k), py_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        leaf => py_str(leaf),
    }
}

fn py_float_str(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

/// Python's `repr()` of a `str`, shared with the Jinja layer's `%r`.
pub use hangar_jinja::py_str_repr;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_pick_quotes_like_python() {
        assert_eq!(py_str_repr("abc"), "'abc'");
        assert_eq!(py_str_repr("ref('x')"), "\"ref('x')\"");
        assert_eq!(py_str_repr("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(py_str_repr("line\nbreak"), "'line\\nbreak'");
    }

    #[test]
    fn the_quick_repr_is_python_repr() {
        let texts = [
            "abc",
            "",
            "ref('x')",
            "{{ get_where_subquery(ref('stg_members')) }}",
            "a'b\"c",
            "say \"hi\"",
            "back\\slash",
            "it's \\ here",
            "line\nbreak",
            "tab\tand'quote",
            "caf\u{e9}",
            "del\u{7f}",
        ];
        for text in texts {
            let mut quick = String::new();
            push_str_repr(text, &mut quick);
            assert_eq!(quick, py_str_repr(text), "{text:?}");
        }
    }

    #[test]
    fn leaves_become_python_str() {
        let v = json!({"b": [1, true, null, 1.5, 2.0], "a": "x"});
        assert_eq!(
            hashable_repr(&v),
            "{'a': 'x', 'b': ['1', 'True', 'None', '1.5', '2.0']}"
        );
    }

    #[test]
    fn repr_keeps_types_in_containers() {
        let v = json!({"k": [1, true, null, "a'b"]});
        assert_eq!(py_repr(&v), "{'k': [1, True, None, \"a'b\"]}");
        assert_eq!(py_repr(&json!(2.0)), "2.0");
    }

    #[test]
    fn dbt_test_metadata_shape() {
        let v = json!({
            "name": "unique",
            "kwargs": {"column_name": "id", "model": "{{ get_where_subquery(ref('stg_members')) }}"},
            "namespace": null
        });
        assert_eq!(
            hashable_repr(&v),
            "{'kwargs': {'column_name': 'id', 'model': \"{{ get_where_subquery(ref('stg_members')) }}\"}, 'name': 'unique', 'namespace': 'None'}"
        );
    }
}
