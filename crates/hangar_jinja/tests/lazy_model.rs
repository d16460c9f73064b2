//! `model` is built from the engine's node only when a render reads it, once
//! per render, and reads the same as a model given as JSON.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};

use hangar_jinja::{ModelContext, ModelSource, NodeInput, Phase};
use serde_json::{Value, json};
use support::{Names, jinja_with_macros};

struct CountingNode {
    built: AtomicUsize,
}

impl ModelSource for CountingNode {
    fn model_json(&self) -> Value {
        self.built.fetch_add(1, Ordering::SeqCst);
        json!({"name": "orders", "config": {"materialized": "table"}})
    }
}

const MACROS: &str = "{% macro kind() %}{{ model.config.materialized }}{% endmacro %}";

fn render(source: &CountingNode, sql: &str) -> String {
    let (jinja, diagnostics) = jinja_with_macros(MACROS);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let mut node = NodeInput::new(Phase::Compile, "proj", "models/orders.sql", sql);
    node.model = ModelContext::Lazy(source);
    jinja
        .render_node(&node, &Names, None)
        .unwrap_or_else(|d| panic!("{}", d.message))
        .sql
}

#[test]
fn a_template_that_never_reads_model_never_builds_it() {
    let node = CountingNode {
        built: AtomicUsize::new(0),
    };
    assert_eq!(
        render(&node, "select * from {{ ref('a') }}"),
        r#"select * from "db"."main"."a""#
    );
    assert_eq!(node.built.load(Ordering::SeqCst), 0);
}

#[test]
fn model_is_built_once_per_render_and_seen_by_macros() {
    let node = CountingNode {
        built: AtomicUsize::new(0),
    };
    let sql = render(
        &node,
        "{{ model.name }} {{ kind() }} {{ model['config']['materialized'] }}",
    );
    assert_eq!(sql, "orders table table");
    assert_eq!(node.built.load(Ordering::SeqCst), 1);
}
