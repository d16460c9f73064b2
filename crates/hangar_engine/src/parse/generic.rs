//! Test nodes: generic tests from property YAML and their targets.

use std::sync::Arc;

use hangar_graph::ResourceType;
use hangar_jinja::Jinja;
use hangar_project::config::merge_config;
use hangar_project::properties::{ColumnDef, PropertyFile, TestDef};
use hangar_project::{Diagnostic, Package, codes};
use serde_json::Value;

use super::drafts::{FolderConfigMemo, fqn_for, path_string, string_list, yaml_path_in_folder};
use crate::generic_tests::{GenericTest, TestTarget, build_generic_test};
use crate::node::{Node, NodeRef, TestNodeData};

/// What the tests of one YAML entry attach to.
pub struct Attachment<'a> {
    pub target: TestTarget<'a>,
    /// unique id of the node or source the tests attach to.
    pub attached_id: String,
    /// `models.stg_members`-style key dbt records as `file_key_name`.
    pub file_key_name: String,
}

/// What every generic test is built with.
pub struct TestContext<'a> {
    pub memo: &'a FolderConfigMemo,
    /// Resolves test macros to their unique ids.
    pub jinja: &'a Jinja,
    pub root: &'a Package,
}

/// Generic tests of an entry (`data_tests:` on the entry and on its columns).
pub fn generic_tests_for(
    ctx: &TestContext<'_>,
    file: &PropertyFile,
    package: &Package,
    attachment: &Attachment<'_>,
    entry_tests: &[TestDef],
    columns: &[ColumnDef],
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Box<Node>> {
    let entry = entry_tests.iter().map(|t| (t, None));
    let column = columns.iter().flat_map(|c| {
        // dbt quotes the column name its tests get when the column says `quote: true`.
        let name = if c.quote == Some(true) {
            format!("\"{}\"", c.name.replace('"', "\"\""))
        } else {
            c.name.clone()
        };
        c.data_tests.iter().map(move |t| (t, Some(name.clone())))
    });
    entry
        .chain(column)
        .filter_map(|(test, column)| {
            match test_node(ctx, file, package, attachment, test, column.as_deref()) {
                Ok(node) => Some(Box::new(node)),
                Err(message) => {
                    diagnostics.push(
                        Diagnostic::error(codes::YAML_SCHEMA, message)
                            .at(file.path.clone(), test.line.max(1), 1)
                            .with_source(file.contents.clone(), 0),
                    );
                    None
                }
            }
        })
        .collect()
}

fn test_node(
    ctx: &TestContext<'_>,
    file: &PropertyFile,
    package: &Package,
    attachment: &Attachment<'_>,
    test: &TestDef,
    column: Option<&str>,
) -> Result<Node, String> {
    let mut spec = build_generic_test(&test.raw, &attachment.target, column)?;
    let original = path_string(&file.path);
    let in_folder = yaml_path_in_folder(&original, &package.config);
    let fqn = fqn_for(&package.name, in_folder, &spec.name);
    let mut folder = ctx.memo.get(ResourceType::Test, package, ctx.root, &fqn);
    // A hashed name's alias is kept beside the configs, which stay shared.
    let config_alias = hashed_alias(&mut spec);
    // Most tests have no config of their own: they keep their folder's.
    if !spec.config.is_empty() {
        merge_config(Arc::make_mut(&mut folder.config), &spec.config);
        merge_config(Arc::make_mut(&mut folder.unrendered), &spec.config);
        crate::node::reshare_config(&mut folder.config);
        crate::node::reshare_config(&mut folder.unrendered);
    }
    let raw_code: Arc<str> = spec.raw_code.as_str().into();
    let refs = static_refs(&spec.kwargs);
    let sources = static_sources(&spec.kwargs);
    let unique_id = spec.unique_id(&package.name);
    let tags = string_list(folder.config.get("tags"));
    let depends_on_macros = test_macros(ctx.jinja, &package.name, &spec);
    let path = format!("{}.sql", spec.compiled_name);
    let node = Node::new(ResourceType::Test, &package.name, &spec.name, folder.config);
    // The spec is used up here: its strings and arguments move into the node.
    let test = TestNodeData {
        test_name: Some(spec.test_name),
        namespace: spec.namespace,
        kwargs: spec.kwargs.into(),
        column_name: spec.column_name,
        attached_node: Some(attachment.attached_id.clone()),
        file_key_name: Some(attachment.file_key_name.clone()),
        is_generic: true,
    };
    Ok(Node {
        unique_id,
        original_file_path: original,
        path,
        fqn,
        raw_code,
        unrendered_config: folder.unrendered,
        config_alias,
        description: spec.description,
        tags,
        refs,
        sources,
        depends_on_macros,
        test: Some(test),
        alias: spec.compiled_name,
        abs_path: package.root.join(&file.path),
        ..node
    })
}

/// Takes out of `spec.config` the alias `build_generic_test` gave a test
/// whose name was hashed (not one the user wrote).
fn hashed_alias(spec: &mut GenericTest) -> Option<String> {
    let hashed = spec.name != spec.compiled_name
        && spec.config.get("alias").and_then(Value::as_str) == Some(spec.compiled_name.as_str());
    hashed.then(|| {
        spec.config.remove("alias");
        spec.compiled_name.clone()
    })
}

/// The generic tests dbt does not render at parse time (its fast path).
const UNRENDERED_TESTS: [&str; 2] = ["unique", "not_null"];

/// dbt's `depends_on.macros` of a generic test: its test macro as resolved
/// from the test's package and, for the tests dbt renders at parse time
/// (all but `unique` and `not_null`), `get_where_subquery`, which their
/// `model` argument calls.
fn test_macros(jinja: &Jinja, package: &str, spec: &GenericTest) -> Vec<String> {
    let namespace = spec.namespace.as_deref();
    let resolve = |namespace, name: &str| {
        jinja
            .macro_unique_id(package, namespace, name)
            .unwrap_or_else(|| format!("macro.{}.{name}", namespace.unwrap_or("dbt")))
    };
    let mut macros = vec![resolve(namespace, &format!("test_{}", spec.test_name))];
    if namespace.is_some() || !UNRENDERED_TESTS.contains(&spec.test_name.as_str()) {
        macros.push(resolve(None, "get_where_subquery"));
    }
    macros
}

/// `ref(...)` calls written in the test's arguments, found without rendering.
fn static_refs(kwargs: &serde_json::Map<String, Value>) -> Vec<NodeRef> {
    let mut refs = Vec::new();
    // dbt adds `model` after the other arguments, and lists refs in that order.
    let mut texts = Vec::new();
    let arguments = kwargs.iter().filter(|(k, _)| *k != "model");
    for (_, value) in arguments.chain(kwargs.get_key_value("model")) {
        push_string_leaves(value, &mut texts);
    }
    for text in texts {
        for args in call_args(text, "ref") {
            let (package, name) = match args.as_slice() {
                [name] => (None, name.clone()),
                [package, name] => (Some(package.clone()), name.clone()),
                _ => continue,
            };
            refs.push(NodeRef {
                package,
                name,
                version: None,
                line: 0,
            });
        }
    }
    // One or two refs per test, 30,000 tests: a pushed Vec keeps room for four.
    refs.shrink_to_fit();
    refs
}

fn static_sources(kwargs: &serde_json::Map<String, Value>) -> Vec<(String, String)> {
    string_leaves(kwargs)
        .flat_map(|text| call_args(text, "source"))
        .filter_map(|args| match args.as_slice() {
            [s, t] => Some((s.clone(), t.clone())),
            _ => None,
        })
        .collect()
}

fn string_leaves(map: &serde_json::Map<String, Value>) -> impl Iterator<Item = &str> {
    let mut out = Vec::new();
    map.values().for_each(|v| push_string_leaves(v, &mut out));
    out.into_iter()
}

/// Appends the strings in `value`, however deeply nested.
fn push_string_leaves<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|i| push_string_leaves(i, out)),
        Value::Object(m) => m.values().for_each(|i| push_string_leaves(i, out)),
        _ => {}
    }
}

/// The string-literal arguments of every `func(...)` call in `text`.
pub(super) fn call_args(text: &str, func: &str) -> Vec<Vec<String>> {
    // Most texts searched (column names, accepted values) hold no call: one
    // scan for `(` spares them setting up a substring search (tens of
    // thousands of tests, several texts each).
    if !text.contains('(') {
        return Vec::new();
    }
    let mut calls = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(func) {
        let before_ok = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'));
        let after = rest[at + func.len()..].trim_start();
        rest = &rest[at + func.len()..];
        if !before_ok || !after.starts_with('(') {
            continue;
        }
        let Some(close) = after.find(')') else { break };
        let args: Vec<String> = after[1..close]
            .split(',')
            .map(|a| a.trim().trim_matches(['\'', '"']).to_string())
            .filter(|a| !a.is_empty() && !a.contains('='))
            .collect();
        calls.push(args);
    }
    calls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_refs_and_sources_in_arguments() {
        assert_eq!(
            call_args("{{ get_where_subquery(ref('orders')) }}", "ref"),
            vec![vec!["orders".to_string()]]
        );
        assert_eq!(
            call_args("ref(\"pkg\", \"x\") and source('a','b')", "ref"),
            vec![vec!["pkg".to_string(), "x".to_string()]]
        );
        assert!(call_args("preference(1)", "ref").is_empty());
        assert!(call_args("ref", "ref").is_empty());
        assert!(call_args("ref 'orders'", "ref").is_empty());
        assert_eq!(
            call_args("source('a', 'b')", "source"),
            vec![vec!["a".to_string(), "b".to_string()]]
        );
    }
}
