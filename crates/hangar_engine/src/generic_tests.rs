//! Generic data tests declared in property YAML, named exactly as dbt names
//! them so that the same project gives the same test ids in both tools.

use md5::{Digest, Md5};
use serde_json::{Map, Value};

use crate::pyrepr::{push_str_repr, py_repr, py_str, write_hashable_map};

/// Keys of a test entry that are configs rather than macro arguments.
const CONFIG_ARGS: &[&str] = &[
    "severity",
    "tags",
    "enabled",
    "where",
    "limit",
    "warn_if",
    "error_if",
    "fail_calc",
    "store_failures",
    "store_failures_as",
    "meta",
    "database",
    "schema",
    "alias",
];

/// What a test is attached to, as dbt's TestBuilder sees it.
#[derive(Debug, Clone)]
pub enum TestTarget<'a> {
    /// A model, seed, snapshot or analysis (`ref('name')`).
    Node {
        name: &'a str,
        version: Option<&'a str>,
        is_model: bool,
    },
    /// A source table (`source('src', 'table')`).
    Source { source: &'a str, table: &'a str },
}

/// A generic test resolved from one YAML entry.
#[derive(Debug, Clone, PartialEq)]
pub struct GenericTest {
    /// Name of the test node, in its unique id and fqn: the full synthesized
    /// name, or the user's `name`.
    pub name: String,
    /// Name of the compiled file and the default alias: the full name, or
    /// when that is 64 characters or more, a truncated and hashed one.
    pub compiled_name: String,
    /// Test macro name without namespace, e.g. `unique`.
    pub test_name: String,
    pub namespace: Option<String>,
    /// Arguments passed to the test macro, including `model` and `column_name`.
    pub kwargs: Map<String, Value>,
    /// Config given in the entry (legacy top-level keys and `config:`), as
    /// written (dbt keeps `severity: warn` in its case).
    pub config: Map<String, Value>,
    /// dbt's raw code of the test, as its manifest shows it: the macro
    /// called with `_dbt_generic_test_kwargs`, then the entry's own config as
    /// written (`{{ test_unique(**_dbt_generic_test_kwargs) }}{{ config(severity="warn") }}`).
    pub raw_code: String,
    pub column_name: Option<String>,
    pub description: String,
}

impl GenericTest {
    /// `test.<package>.<name>.<hash>` exactly as dbt computes it.
    pub fn unique_id(&self, package: &str) -> String {
        ["test.", package, ".", &self.name, ".", &self.hash()].concat()
    }

    pub fn test_metadata(&self) -> Value {
        let mut md = Map::new();
        md.insert("name".into(), Value::String(self.test_name.clone()));
        md.insert("kwargs".into(), Value::Object(self.kwargs.clone()));
        md.insert(
            "namespace".into(),
            self.namespace
                .clone()
                .map(Value::String)
                .unwrap_or(Value::Null),
        );
        Value::Object(md)
    }

    /// The last ten hex digits of the md5: the hex of its last five bytes.
    fn hash(&self) -> String {
        let digest = Md5::digest(self.hash_input().as_bytes());
        hex::encode(&digest[digest.len() - 5..])
    }

    /// `name + repr(hashable(test_metadata))`, written without building
    /// `test_metadata` (its keys in sorted order: kwargs, name, namespace).
    fn hash_input(&self) -> String {
        let mut text = String::with_capacity(self.name.len() + 256);
        text.push_str(&self.name);
        text.push_str("{'kwargs': ");
        write_hashable_map(&self.kwargs, &mut text);
        text.push_str(", 'name': ");
        push_str_repr(&self.test_name, &mut text);
        text.push_str(", 'namespace': ");
        push_str_repr(self.namespace.as_deref().unwrap_or("None"), &mut text);
        text.push('}');
        text
    }

    /// The macro to call, e.g. `test_unique` or `dbt_utils.test_expression_is_true`.
    pub fn macro_name(&self) -> String {
        macro_name(self.namespace.as_deref(), &self.test_name)
    }
}

fn macro_name(namespace: Option<&str>, test_name: &str) -> String {
    match namespace {
        Some(ns) => [ns, ".test_", test_name].concat(),
        None => ["test_", test_name].concat(),
    }
}

/// One `key=value` of the raw code's `config(...)`: a string in double
/// quotes, any other value as Python writes it.
pub fn config_argument(key: &str, value: &Value) -> String {
    match value {
        Value::String(s) => format!("{key}=\"{}\"", s.replace('"', "\\\"")),
        other => format!("{key}={}", py_repr(other)),
    }
}

/// dbt's `build_raw_code`: `{{ <macro>(**_dbt_generic_test_kwargs) }}`, then
/// `{{ config(k=v,...) }}` with the config in `order` (strings in double
/// quotes, other values as Python writes them).
fn raw_code(macro_name: &str, config: &Map<String, Value>, order: &[String]) -> String {
    let call = ["{{ ", macro_name, "(**_dbt_generic_test_kwargs) }}"].concat();
    let config: Vec<String> = order
        .iter()
        .filter_map(|key| Some(config_argument(key, config.get(key)?)))
        .collect();
    if config.is_empty() {
        call
    } else {
        format!("{call}{{{{ config({}) }}}}", config.join(","))
    }
}

/// Build a generic test from a YAML entry (`unique`, `{not_null: {...}}`,
/// `{relationships: {to: ref('x'), field: id}}`, `{test_name: …, …}`).
pub fn build_generic_test(
    entry: &Value,
    target: &TestTarget<'_>,
    column_name: Option<&str>,
) -> Result<GenericTest, String> {
    let (full_test_name, mut args) = split_entry(entry)?;
    if let Some(column) = column_name {
        args.insert("column_name".into(), Value::String(column.to_string()));
    }
    // dbt 1.10+: arguments may be nested under `arguments:`.
    if let Some(Value::Object(nested)) = args.remove("arguments") {
        for (k, v) in nested {
            args.entry(k).or_insert(v);
        }
    }
    if args.contains_key("model") {
        return Err("a test's arguments may not include `model`".into());
    }
    let (namespace, test_name) = split_test_name(&full_test_name)?;
    let (config, mut config_order) = extract_config(&mut args)?;
    let description = match args.remove("description") {
        Some(Value::String(s)) => s,
        _ => String::new(),
    };
    args.insert("model".into(), Value::String(model_string(target)));

    let custom_name = match args.remove("name") {
        Some(Value::String(s)) => Some(s),
        Some(other) => return Err(format!("test `name` must be a string, got {other}")),
        None => None,
    };
    let (compiled_name, name) = match custom_name {
        Some(n) => (n.clone(), n),
        None => synthesize_names(target, namespace.as_deref(), &test_name, &args),
    };
    let mut config = config;
    if name != compiled_name && !config.contains_key("alias") {
        config.insert("alias".into(), Value::String(compiled_name.clone()));
        config_order.push("alias".into());
    }
    let raw_code = raw_code(
        &macro_name(namespace.as_deref(), &test_name),
        &config,
        &config_order,
    );
    Ok(GenericTest {
        name,
        compiled_name,
        test_name,
        namespace,
        kwargs: args,
        config,
        raw_code,
        column_name: column_name.map(str::to_string),
        description,
    })
}

fn split_entry(entry: &Value) -> Result<(String, Map<String, Value>), String> {
    match entry {
        Value::String(name) => Ok((name.clone(), Map::new())),
        Value::Object(map) if map.contains_key("test_name") => {
            let mut args = map.clone();
            match args.remove("test_name") {
                Some(Value::String(name)) => Ok((name, args)),
                _ => Err("`test_name` must be a string".into()),
            }
        }
        Value::Object(map) if map.len() == 1 => {
            let (name, args) = map.iter().next().expect("len checked");
            match args {
                Value::Object(a) => Ok((name.clone(), a.clone())),
                Value::Null => Ok((name.clone(), Map::new())),
                other => Err(format!(
                    "the arguments of test `{name}` must be a mapping, got {other}"
                )),
            }
        }
        Value::Object(map) => Err(format!(
            "a test entry must have exactly one key (the test name), found {}: {}",
            map.len(),
            map.keys().cloned().collect::<Vec<_>>().join(", ")
        )),
        other => Err(format!("a test must be a name or a mapping, got {other}")),
    }
}

fn split_test_name(full: &str) -> Result<(Option<String>, String), String> {
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    match full.split_once('.') {
        Some((ns, name)) if valid(ns) && valid(name) => Ok((Some(ns.into()), name.into())),
        None if valid(full) => Ok((None, full.into())),
        _ => Err(format!("`{full}` is not a valid test name")),
    }
}

/// The entry's config, and its keys in dbt's order: the known config keys
/// in [`CONFIG_ARGS`] order, then the others.
fn extract_config(
    args: &mut Map<String, Value>,
) -> Result<(Map<String, Value>, Vec<String>), String> {
    let mut nested = match args.remove("config") {
        Some(Value::Object(c)) => c,
        Some(Value::Null) | None => Map::new(),
        Some(other) => return Err(format!("test `config` must be a mapping, got {other}")),
    };
    let mut config = Map::new();
    let mut order = Vec::new();
    // The config keys given, in CONFIG_ARGS order: an entry has a few
    // arguments, and there are tens of thousands of entries.
    let mut given: Vec<usize> = args
        .keys()
        .chain(nested.keys())
        .filter_map(|k| CONFIG_ARGS.iter().position(|c| c == k))
        .collect();
    given.sort_unstable();
    given.dedup();
    for key in given.into_iter().map(|i| CONFIG_ARGS[i]) {
        let top = args.remove(key).filter(|v| !v.is_null());
        if top.is_some() && nested.contains_key(key) {
            return Err(format!(
                "test config `{key}` is given both as an argument and under `config:`"
            ));
        }
        if let Some(v) = top.or_else(|| nested.remove(key)) {
            config.insert(key.to_string(), v);
            order.push(key.to_string());
        }
    }
    for (k, v) in nested {
        if !v.is_null() {
            order.push(k.clone());
            config.insert(k, v);
        }
    }
    Ok((config, order))
}

/// `{{ get_where_subquery(ref('name')) }}` (or `source(...)`), built with
/// `concat`: tens of thousands of tests, and `format!` costs several times
/// as much.
fn model_string(target: &TestTarget<'_>) -> String {
    const OPEN: &str = "{{ get_where_subquery(";
    const CLOSE: &str = ") }}";
    match target {
        TestTarget::Node {
            name,
            version: Some(v),
            is_model: true,
        } => [OPEN, "ref('", name, "', version='", v, "')", CLOSE].concat(),
        TestTarget::Node { name, .. } => [OPEN, "ref('", name, "')", CLOSE].concat(),
        TestTarget::Source { source, table } => {
            [OPEN, "source('", source, "', '", table, "')", CLOSE].concat()
        }
    }
}

/// dbt's `synthesize_generic_test_names`: (short name, full name).
fn synthesize_names(
    target: &TestTarget<'_>,
    namespace: Option<&str>,
    test_name: &str,
    args: &Map<String, Value>,
) -> (String, String) {
    let (mut prefix, target_name) = match target {
        TestTarget::Node {
            name,
            version: Some(v),
            is_model: true,
        } => (test_name.to_string(), [name, "_v", v].concat()),
        TestTarget::Node { name, .. } => (test_name.to_string(), name.to_string()),
        TestTarget::Source { source, table } => (
            ["source_", test_name].concat(),
            [source, "_", table].concat(),
        ),
    };
    if let Some(ns) = namespace {
        prefix = [ns, "_", &prefix].concat();
    }
    let mut keys: Vec<&String> = args.keys().filter(|k| *k != "model").collect();
    keys.sort();
    let identifier = [&prefix, "_", &target_name].concat();
    // `<identifier>_<part>__<part>...`, each argument part cleaned as it is
    // appended (30,000 tests: no list of parts, no copy of each).
    let mut full = String::with_capacity(identifier.len() + 64);
    full.push_str(&identifier);
    full.push('_');
    let mut first = true;
    for key in keys {
        each_arg_part(&args[key.as_str()], &mut |part| {
            if !first {
                full.push_str("__");
            }
            first = false;
            push_clean_identifier(part, &mut full);
        });
    }
    if full.chars().count() >= 64 {
        let truncated: String = identifier.chars().take(30).collect();
        let label = hex::encode(Md5::digest(full.as_bytes()));
        (format!("{truncated}_{label}"), full)
    } else {
        (full.clone(), full)
    }
}

/// Calls `each` with Python's `str()` of every part of an argument, as
/// dbt flattens it for a test's name: a dict's values, a list's items,
/// else the value itself.
fn each_arg_part(value: &Value, each: &mut dyn FnMut(&str)) {
    let mut part = |item: &Value| match item {
        Value::String(s) => each(s),
        Value::Object(_) | Value::Array(_) => each(&python_container_str(item)),
        leaf => each(&py_str(leaf)),
    };
    match value {
        Value::Object(map) => map.values().for_each(&mut part),
        Value::Array(items) => items.iter().for_each(&mut part),
        leaf => part(leaf),
    }
}

/// `str()` of a list or dict: Python prints the repr of its items.
fn python_container_str(value: &Value) -> String {
    match value {
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(python_container_str)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!(
                    "{}: {}",
                    crate::pyrepr::py_str_repr(k),
                    python_container_str(v)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::String(s) => crate::pyrepr::py_str_repr(s),
        leaf => py_str(leaf),
    }
}

/// Appends `s` with each run of characters other than ASCII letters,
/// digits and `_` replaced by one `_` (dbt's `clean_identifier`).
fn push_clean_identifier(s: &str, out: &mut String) {
    let mut in_run = false;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
            in_run = false;
        } else if !in_run {
            out.push('_');
            in_run = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model(name: &str) -> TestTarget<'_> {
        TestTarget::Node {
            name,
            version: None,
            is_model: true,
        }
    }

    #[test]
    fn simple_column_test_names() {
        let t =
            build_generic_test(&json!("unique"), &model("stg_members"), Some("member_id")).unwrap();
        assert_eq!(t.name, "unique_stg_members_member_id");
        assert_eq!(t.macro_name(), "test_unique");
        assert_eq!(
            t.kwargs["model"],
            json!("{{ get_where_subquery(ref('stg_members')) }}")
        );
        assert!(
            t.unique_id("hanger")
                .starts_with("test.hanger.unique_stg_members_member_id.")
        );
        assert_eq!(t.unique_id("hanger").rsplit('.').next().unwrap().len(), 10);
    }

    #[test]
    fn hash_input_is_name_plus_repr_of_test_metadata() {
        let entries = [
            json!("unique"),
            json!({"accepted_values": {"values": ["a", "it's", 1, 2.0, true, null]}}),
            json!({"dbt_utils.expression_is_true": {"expression": "a \\ b\n", "config": {"severity": "warn"}}}),
            json!({"relationships": {"arguments": {"to": "ref('x')", "field": "é"}}}),
        ];
        for entry in entries {
            let t = build_generic_test(&entry, &model("orders"), Some("status")).unwrap();
            let expected = format!(
                "{}{}",
                t.name,
                crate::pyrepr::hashable_repr(&t.test_metadata())
            );
            assert_eq!(t.hash_input(), expected, "{entry}");
        }
    }

    #[test]
    fn accepted_values_and_relationships() {
        let t = build_generic_test(
            &json!({"accepted_values": {"values": ["a", "b"], "config": {"severity": "warn"}}}),
            &model("orders"),
            Some("status"),
        )
        .unwrap();
        assert_eq!(t.name, "accepted_values_orders_status__a__b");
        assert_eq!(t.config["severity"], json!("warn"));

        let r = build_generic_test(
            &json!({"relationships": {"to": "ref('customers')", "field": "id"}}),
            &model("orders"),
            Some("customer_id"),
        )
        .unwrap();
        assert_eq!(
            r.name,
            "relationships_orders_customer_id__id__ref_customers_"
        );
    }

    #[test]
    fn arguments_of_every_kind_are_flattened_into_the_name_as_python_prints_them() {
        // dbt: each argument (sorted by name) gives a dict's values, a
        // list's items or itself; each part is `str()`ed and cleaned.
        let t = build_generic_test(
            &json!({"accepted_values": {"values": [1, true, {"a": "x"}, ["y", 2]], "quote": false}}),
            &model("m"),
            Some("c"),
        )
        .unwrap();
        assert_eq!(t.name, "accepted_values_m_c__False__1__True___a_x____y_2_");
        let no_arguments = build_generic_test(&json!("my_check"), &model("m"), None).unwrap();
        assert_eq!(no_arguments.name, "my_check_m_");
    }

    #[test]
    fn raw_code_is_dbts_macro_call_and_config() {
        let plain = build_generic_test(&json!("not_null"), &model("orders"), Some("id")).unwrap();
        assert_eq!(
            plain.raw_code,
            "{{ test_not_null(**_dbt_generic_test_kwargs) }}"
        );
        // Known config keys first in dbt's order (legacy and nested alike),
        // strings quoted with `"` escaped, other values as Python writes them.
        let configured = build_generic_test(
            &json!({"dbt_utils.expression_is_true": {
                "expression": "a > 0",
                "where": "kind = \"x\"",
                "config": {"severity": "warn", "tags": ["a", "b"], "store_failures": true}
            }}),
            &model("orders"),
            None,
        )
        .unwrap();
        assert_eq!(
            configured.raw_code,
            "{{ dbt_utils.test_expression_is_true(**_dbt_generic_test_kwargs) }}\
             {{ config(severity=\"warn\",tags=['a', 'b'],where=\"kind = \\\"x\\\"\",store_failures=True) }}"
        );
    }

    #[test]
    fn long_names_are_hashed() {
        let t = build_generic_test(
            &json!({"accepted_values": {"values": ["pending", "shipped", "completed", "returned"]}}),
            &model("fct_orders_enriched"),
            Some("order_status"),
        )
        .unwrap();
        assert!(
            t.compiled_name
                .starts_with("accepted_values_fct_orders_enr_")
        );
        assert_eq!(t.compiled_name.len(), 30 + 1 + 32);
        assert_eq!(t.config["alias"], json!(t.compiled_name));
        assert_eq!(
            t.raw_code,
            format!(
                "{{{{ test_accepted_values(**_dbt_generic_test_kwargs) }}}}{{{{ config(alias=\"{}\") }}}}",
                t.compiled_name
            )
        );
        assert_eq!(
            t.name,
            "accepted_values_fct_orders_enriched_order_status__pending__shipped__completed__returned"
        );
    }

    #[test]
    fn source_tests_and_namespaces() {
        let t = build_generic_test(
            &json!({"dbt_utils.expression_is_true": {"expression": "x > 0"}}),
            &TestTarget::Source {
                source: "gym_ops",
                table: "members",
            },
            None,
        )
        .unwrap();
        assert_eq!(
            t.name,
            "dbt_utils_source_expression_is_true_gym_ops_members_x_0"
        );
        assert_eq!(t.macro_name(), "dbt_utils.test_expression_is_true");
    }

    #[test]
    fn bad_entries_are_errors() {
        assert!(build_generic_test(&json!(3), &model("m"), None).is_err());
        assert!(build_generic_test(&json!({"a": {}, "b": {}}), &model("m"), None).is_err());
        assert!(build_generic_test(&json!({"unique": "x"}), &model("m"), None).is_err());
        assert!(build_generic_test(&json!({"unique": {"model": "x"}}), &model("m"), None).is_err());
    }
}
