//! Data-driven selection cases over a small hand-built project, plus error
//! snapshots and a 10,000-node graph.

use std::collections::BTreeSet;

use hangar_project::{Diagnostic, render};
use serde_json::{Value, json};

use super::*;
use crate::Links;
use crate::node::{ResourceType as RT, TestInfo, TestKind};

/// (short name, unique id, resource type, fqn, original_file_path, parents,
/// tags, config)
struct Spec {
    short: &'static str,
    id: &'static str,
    resource_type: RT,
    fqn: &'static [&'static str],
    file: &'static str,
    parents: &'static [&'static str],
    tags: &'static [&'static str],
    config: fn() -> Value,
}

fn no_config() -> Value {
    json!({})
}

#[rustfmt::skip]
const PROJECT: &[Spec] = &[
    Spec { short: "raw_customers", id: "seed.shop.raw_customers", resource_type: RT::Seed, fqn: &["shop", "raw_customers"], file: "seeds/raw_customers.csv", parents: &[], tags: &[], config: no_config },
    Spec { short: "raw_orders", id: "seed.shop.raw_orders", resource_type: RT::Seed, fqn: &["shop", "raw_orders"], file: "seeds/raw_orders.csv", parents: &[], tags: &["raw"], config: no_config },
    Spec { short: "payments", id: "source.shop.stripe.payments", resource_type: RT::Source, fqn: &["shop", "staging", "stripe", "payments"], file: "models/staging/sources.yml", parents: &[], tags: &[], config: no_config },
    Spec { short: "stg_customers", id: "model.shop.stg_customers", resource_type: RT::Model, fqn: &["shop", "staging", "stg_customers"], file: "models/staging/stg_customers.sql", parents: &["seed.shop.raw_customers"], tags: &["staging"], config: || json!({"materialized": "view"}) },
    Spec { short: "stg_orders", id: "model.shop.stg_orders", resource_type: RT::Model, fqn: &["shop", "staging", "stg_orders"], file: "models/staging/stg_orders.sql", parents: &["seed.shop.raw_orders"], tags: &["staging", "nightly"], config: || json!({"materialized": "view"}) },
    Spec { short: "stg_payments", id: "model.shop.stg_payments", resource_type: RT::Model, fqn: &["shop", "staging", "stg_payments"], file: "models/staging/stg_payments.sql", parents: &["source.shop.stripe.payments"], tags: &["staging"], config: || json!({"materialized": "view"}) },
    Spec { short: "int_orders_payments", id: "model.shop.int_orders_payments", resource_type: RT::Model, fqn: &["shop", "intermediate", "int_orders_payments"], file: "models/intermediate/int_orders_payments.sql", parents: &["model.shop.stg_orders", "model.shop.stg_payments"], tags: &[], config: || json!({"materialized": "ephemeral"}) },
    Spec { short: "dim_customers_v1", id: "model.shop.dim_customers.v1", resource_type: RT::Model, fqn: &["shop", "marts", "core", "dim_customers", "v1"], file: "models/marts/core/dim_customers_v1.sql", parents: &["model.shop.stg_customers"], tags: &[], config: || json!({"materialized": "table", "access": "public", "group": "core"}) },
    Spec { short: "dim_customers_v2", id: "model.shop.dim_customers.v2", resource_type: RT::Model, fqn: &["shop", "marts", "core", "dim_customers", "v2"], file: "models/marts/core/dim_customers.sql", parents: &["model.shop.stg_customers"], tags: &[], config: || json!({"materialized": "table", "access": "public", "group": "core"}) },
    Spec { short: "fct_orders", id: "model.shop.fct_orders", resource_type: RT::Model, fqn: &["shop", "marts", "finance", "fct_orders"], file: "models/marts/finance/fct_orders.sql", parents: &["model.shop.int_orders_payments", "model.shop.dim_customers.v2"], tags: &["finance", "nightly"], config: || json!({"materialized": "table", "group": "finance", "tags": ["finance", "nightly"], "meta": {"owner": "alice"}, "contract": {"enforced": true}, "threads": 4}) },
    Spec { short: "legacy_report", id: "model.shop.legacy_report", resource_type: RT::Model, fqn: &["shop", "marts", "legacy_report"], file: "models/marts/legacy_report.sql", parents: &["model.shop.stg_orders"], tags: &["nightly"], config: || json!({"enabled": false, "materialized": "table"}) },
    Spec { short: "orders_snapshot", id: "snapshot.shop.orders_snapshot", resource_type: RT::Snapshot, fqn: &["shop", "orders_snapshot", "orders_snapshot"], file: "snapshots/orders_snapshot.sql", parents: &["model.shop.stg_orders"], tags: &[], config: || json!({"strategy": "timestamp"}) },
    Spec { short: "unique_stg_orders", id: "test.shop.unique_stg_orders_order_id.1a2b", resource_type: RT::Test, fqn: &["shop", "staging", "unique_stg_orders_order_id"], file: "models/staging/schema.yml", parents: &["model.shop.stg_orders"], tags: &[], config: || json!({"severity": "warn"}) },
    Spec { short: "not_null_fct_orders", id: "test.shop.not_null_fct_orders_order_id.3c4d", resource_type: RT::Test, fqn: &["shop", "marts", "finance", "not_null_fct_orders_order_id"], file: "models/marts/finance/finance.yml", parents: &["model.shop.fct_orders"], tags: &[], config: || json!({"severity": "ERROR"}) },
    Spec { short: "relationships_fct_orders", id: "test.shop.relationships_fct_orders_customer_id.5e6f", resource_type: RT::Test, fqn: &["shop", "marts", "finance", "relationships_fct_orders_customer_id"], file: "models/marts/finance/finance.yml", parents: &["model.shop.fct_orders", "model.shop.dim_customers.v2"], tags: &[], config: no_config },
    Spec { short: "expr_is_true", id: "test.shop.dbt_utils_expression_is_true_int_orders_payments.7a8b", resource_type: RT::Test, fqn: &["shop", "intermediate", "dbt_utils_expression_is_true_int_orders_payments"], file: "models/intermediate/intermediate.yml", parents: &["model.shop.int_orders_payments"], tags: &[], config: no_config },
    Spec { short: "assert_positive_totals", id: "test.shop.assert_positive_totals", resource_type: RT::Test, fqn: &["shop", "assert_positive_totals"], file: "tests/assert_positive_totals.sql", parents: &["model.shop.fct_orders", "model.shop.stg_payments"], tags: &["finance"], config: no_config },
    Spec { short: "unit_fct_orders", id: "unit_test.shop.fct_orders.test_fct_orders_math", resource_type: RT::UnitTest, fqn: &["shop", "marts", "finance", "fct_orders", "test_fct_orders_math"], file: "models/marts/finance/finance.yml", parents: &["model.shop.fct_orders"], tags: &[], config: no_config },
    Spec { short: "weekly_dashboard", id: "exposure.shop.weekly_dashboard", resource_type: RT::Exposure, fqn: &["shop", "weekly_dashboard"], file: "models/marts/exposures.yml", parents: &["model.shop.fct_orders"], tags: &["finance"], config: no_config },
    Spec { short: "revenue_analysis", id: "analysis.shop.revenue_analysis", resource_type: RT::Analysis, fqn: &["shop", "analysis", "revenue_analysis"], file: "analyses/revenue_analysis.sql", parents: &["model.shop.fct_orders"], tags: &[], config: no_config },
    Spec { short: "util_dates", id: "model.utils.util_dates", resource_type: RT::Model, fqn: &["utils", "util_dates"], file: "models/util_dates.sql", parents: &[], tags: &[], config: no_config },
];

fn test_info(short: &str) -> Option<TestInfo> {
    let (kind, name, column) = match short {
        "unique_stg_orders" => (TestKind::Generic, Some("unique"), Some("order_id")),
        "not_null_fct_orders" => (TestKind::Generic, Some("not_null"), Some("order_id")),
        "relationships_fct_orders" => (
            TestKind::Generic,
            Some("relationships"),
            Some("customer_id"),
        ),
        "expr_is_true" => (
            TestKind::Generic,
            Some("dbt_utils.expression_is_true"),
            None,
        ),
        "assert_positive_totals" => (TestKind::Singular, None, None),
        "unit_fct_orders" => (TestKind::Unit, None, None),
        _ => return None,
    };
    Some(TestInfo {
        kind,
        test_name: name.map(str::to_string),
        attached_node: None,
        column_name: column.map(str::to_string),
    })
}

fn project_nodes() -> Vec<(GraphNode, Vec<String>)> {
    PROJECT
        .iter()
        .map(|spec| {
            let Value::Object(config): Value = (spec.config)() else {
                unreachable!("configs are objects")
            };
            let id_parts: Vec<&str> = spec.id.split('.').collect();
            let version = spec
                .id
                .strip_prefix("model.shop.dim_customers.v")
                .map(str::to_string);
            let node = GraphNode {
                unique_id: spec.id.to_string(),
                name: match spec.resource_type {
                    RT::Source => "payments".to_string(),
                    _ if version.is_some() => "dim_customers".to_string(),
                    _ => id_parts[id_parts.len() - 1].to_string(),
                },
                resource_type: spec.resource_type,
                package_name: id_parts[1].to_string(),
                fqn: spec.fqn.iter().map(|s| s.to_string()).collect(),
                original_file_path: spec.file.to_string(),
                path: spec.file.to_string(),
                tags: spec.tags.iter().map(|s| s.to_string()).collect(),
                config: std::sync::Arc::new(config),
                // A generic test with a hashed name keeps its alias beside its config.
                config_alias: (spec.short == "relationships_fct_orders")
                    .then(|| "relationships_fct_orders_5e6f".to_string()),
                source_name: (spec.resource_type == RT::Source).then(|| "stripe".to_string()),
                test: test_info(spec.short),
                version,
                checksum: String::new(),
            };
            let parents = spec.parents.iter().map(|s| s.to_string()).collect();
            (node, parents)
        })
        .map(|(mut node, parents)| {
            // Test ids end in a hash; their names do not.
            if node.resource_type == RT::Test {
                node.name = node.fqn.last().cloned().unwrap_or_default();
            }
            if node.resource_type == RT::UnitTest {
                node.name = "test_fct_orders_math".to_string();
            }
            (node, parents)
        })
        .collect()
}

fn project() -> Graph {
    match Graph::build(project_nodes()) {
        Ok(graph) => graph,
        Err(diagnostics) => panic!("fixture graph is broken: {diagnostics:?}"),
    }
}

fn short_names(ids: &BTreeSet<String>) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = ids
        .iter()
        .map(|id| {
            PROJECT
                .iter()
                .find(|s| s.id == id)
                .map_or("<unknown>", |s| s.short)
        })
        .collect();
    names.sort_unstable();
    names
}

fn all_but(excluded: &[&str]) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = PROJECT
        .iter()
        .map(|s| s.short)
        .filter(|s| !excluded.contains(s))
        .collect();
    names.sort_unstable();
    names
}

use IndirectSelection::{Buildable as B, Cautious as C, Eager as E, Empty as X};

/// (select, exclude, mode, selected short names)
#[rustfmt::skip]
const CASES: &[(&str, &str, IndirectSelection, &[&str])] = &[
    // Bare names, tests following their parents by mode.
    ("stg_orders", "", E, &["stg_orders", "unique_stg_orders"]),
    ("stg_orders", "", X, &["stg_orders"]),
    ("fct_orders", "", E, &["assert_positive_totals", "fct_orders", "not_null_fct_orders", "relationships_fct_orders", "unit_fct_orders"]),
    ("fct_orders", "", C, &["fct_orders", "not_null_fct_orders", "unit_fct_orders"]),
    ("fct_orders", "", B, &["assert_positive_totals", "fct_orders", "not_null_fct_orders", "relationships_fct_orders", "unit_fct_orders"]),
    ("stg_payments", "", E, &["assert_positive_totals", "stg_payments"]),
    ("stg_payments", "", B, &["stg_payments"]),
    ("stg_payments", "", C, &["stg_payments"]),
    // Cautious: a union makes a two-parent test's parents all selected.
    ("fct_orders dim_customers", "", C, &["dim_customers_v1", "dim_customers_v2", "fct_orders", "not_null_fct_orders", "relationships_fct_orders", "unit_fct_orders"]),
    // Graph operators.
    ("+fct_orders", "", E, &["dim_customers_v2", "expr_is_true", "fct_orders", "int_orders_payments", "not_null_fct_orders", "payments", "raw_customers", "raw_orders", "relationships_fct_orders", "stg_customers", "stg_orders", "stg_payments", "unique_stg_orders", "assert_positive_totals", "unit_fct_orders"]),
    ("+fct_orders", "", C, &["dim_customers_v2", "expr_is_true", "fct_orders", "int_orders_payments", "not_null_fct_orders", "payments", "raw_customers", "raw_orders", "relationships_fct_orders", "stg_customers", "stg_orders", "stg_payments", "unique_stg_orders", "assert_positive_totals", "unit_fct_orders"]),
    ("1+fct_orders", "", C, &["dim_customers_v2", "expr_is_true", "fct_orders", "int_orders_payments", "not_null_fct_orders", "relationships_fct_orders", "unit_fct_orders"]),
    ("2+fct_orders", "", X, &["dim_customers_v2", "fct_orders", "int_orders_payments", "stg_customers", "stg_orders", "stg_payments"]),
    ("stg_orders+", "", E, &["assert_positive_totals", "expr_is_true", "fct_orders", "int_orders_payments", "not_null_fct_orders", "orders_snapshot", "relationships_fct_orders", "revenue_analysis", "stg_orders", "unique_stg_orders", "unit_fct_orders", "weekly_dashboard"]),
    ("stg_orders+1", "", E, &["expr_is_true", "int_orders_payments", "orders_snapshot", "stg_orders", "unique_stg_orders"]),
    ("@stg_customers", "", E, &[]),
    ("@stg_payments", "", X, &["assert_positive_totals", "dim_customers_v2", "expr_is_true", "fct_orders", "int_orders_payments", "not_null_fct_orders", "payments", "raw_customers", "raw_orders", "relationships_fct_orders", "revenue_analysis", "stg_customers", "stg_orders", "stg_payments", "unit_fct_orders", "weekly_dashboard"]),
    ("*", "", X, &[]),
    ("fqn:*", "", X, &[]),
    // Qualified names and wildcards.
    ("marts.*", "", X, &["dim_customers_v1", "dim_customers_v2", "fct_orders", "not_null_fct_orders", "relationships_fct_orders", "unit_fct_orders"]),
    ("marts.finance.*", "", X, &["fct_orders", "not_null_fct_orders", "relationships_fct_orders", "unit_fct_orders"]),
    ("shop.staging.stg_orders", "", X, &["stg_orders"]),
    ("staging.stg_*", "", X, &["stg_customers", "stg_orders", "stg_payments"]),
    ("*stg_*", "", X, &["stg_customers", "stg_orders", "stg_payments", "unique_stg_orders"]),
    ("util_*", "", X, &["util_dates"]),
    ("dim_customers", "", X, &["dim_customers_v1", "dim_customers_v2"]),
    ("dim_customers.v2", "", X, &["dim_customers_v2"]),
    ("dim_customers_v1", "", X, &["dim_customers_v1"]),
    // Paths and files.
    ("path:models/staging", "", X, &["payments", "stg_customers", "stg_orders", "stg_payments", "unique_stg_orders"]),
    ("models/marts", "", X, &["dim_customers_v1", "dim_customers_v2", "fct_orders", "not_null_fct_orders", "relationships_fct_orders", "unit_fct_orders", "weekly_dashboard"]),
    ("path:models/*/stg_*.sql", "", X, &["stg_customers", "stg_orders", "stg_payments"]),
    ("path:models/**/finance.yml", "", X, &["not_null_fct_orders", "relationships_fct_orders", "unit_fct_orders"]),
    ("file:stg_orders.sql", "", X, &["stg_orders"]),
    ("file:stg_orders", "", X, &["stg_orders"]),
    ("stg_orders.sql", "", X, &["stg_orders"]),
    ("file:raw_*", "", X, &["raw_customers", "raw_orders"]),
    // Tags and config.
    ("tag:nightly", "", E, &["fct_orders", "not_null_fct_orders", "relationships_fct_orders", "stg_orders", "unique_stg_orders", "assert_positive_totals", "unit_fct_orders"]),
    ("tag:nightly", "", X, &["fct_orders", "stg_orders"]),
    ("tag:stag*", "", E, &["assert_positive_totals", "stg_customers", "stg_orders", "stg_payments", "unique_stg_orders"]),
    ("tag:finance", "", X, &["assert_positive_totals", "fct_orders", "weekly_dashboard"]),
    ("config.materialized:table", "", X, &["dim_customers_v1", "dim_customers_v2", "fct_orders"]),
    ("config.meta.owner:alice", "", X, &["fct_orders"]),
    ("config.contract.enforced:true", "", X, &["fct_orders"]),
    ("config.contract.enforced:false", "", X, &[]),
    ("config.threads:4", "", X, &["fct_orders"]),
    ("config.tags:finance", "", X, &["fct_orders"]),
    ("config.severity:WARN", "", X, &["unique_stg_orders"]),
    ("config.severity:error", "", X, &["not_null_fct_orders"]),
    ("config.enabled:false", "", X, &[]),
    ("config.alias:relationships_fct_orders_5e6f", "", X, &["relationships_fct_orders"]),
    // Resource types, sources, packages.
    ("resource_type:seed", "", X, &["raw_customers", "raw_orders"]),
    ("resource_type:source", "", X, &["payments"]),
    ("resource_type:unit_test", "", X, &["unit_fct_orders"]),
    ("resource_type:macro", "", X, &[]),
    ("source:stripe", "", X, &["payments"]),
    ("source:stripe.payments", "", X, &["payments"]),
    ("source:shop.strip*.*", "", X, &["payments"]),
    ("source:other", "", X, &[]),
    ("source:stripe+1", "", X, &["payments", "stg_payments"]),
    ("package:util*", "", X, &["util_dates"]),
    ("exposure:weekly_dashboard", "", X, &["weekly_dashboard"]),
    ("+exposure:weekly_dashboard", "", E, &["assert_positive_totals", "dim_customers_v2", "expr_is_true", "fct_orders", "int_orders_payments", "not_null_fct_orders", "payments", "raw_customers", "raw_orders", "relationships_fct_orders", "stg_customers", "stg_orders", "stg_payments", "unique_stg_orders", "unit_fct_orders", "weekly_dashboard"]),
    ("unit_test:test_fct_orders_math", "", X, &["unit_fct_orders"]),
    ("unit_test:shop.*", "", X, &["unit_fct_orders"]),
    // Tests.
    ("test_type:generic", "", X, &["expr_is_true", "not_null_fct_orders", "relationships_fct_orders", "unique_stg_orders"]),
    ("test_type:schema", "", X, &["expr_is_true", "not_null_fct_orders", "relationships_fct_orders", "unique_stg_orders"]),
    ("test_type:singular", "", X, &["assert_positive_totals"]),
    ("test_type:data", "", X, &["assert_positive_totals", "expr_is_true", "not_null_fct_orders", "relationships_fct_orders", "unique_stg_orders"]),
    ("test_type:unit", "", X, &["unit_fct_orders"]),
    ("test_name:unique", "", X, &["unique_stg_orders"]),
    ("test_name:not_*", "", X, &["not_null_fct_orders"]),
    ("test_name:expression_is_true", "", X, &["expr_is_true"]),
    ("test_name:dbt_utils.expression_is_true", "", X, &["expr_is_true"]),
    // Models: versions, access, groups.
    ("version:latest", "", X, &["dim_customers_v2"]),
    ("version:old", "", X, &["dim_customers_v1"]),
    ("version:prerelease", "", X, &[]),
    ("version:none", "", X, &["fct_orders", "int_orders_payments", "stg_customers", "stg_orders", "stg_payments", "util_dates"]),
    ("access:public", "", X, &["dim_customers_v1", "dim_customers_v2"]),
    ("access:protected", "", X, &["fct_orders", "int_orders_payments", "stg_customers", "stg_orders", "stg_payments", "util_dates"]),
    ("group:finance", "", X, &["fct_orders"]),
    // Set operators.
    ("tag:nightly,tag:finance", "", E, &["assert_positive_totals", "fct_orders", "not_null_fct_orders", "relationships_fct_orders", "unit_fct_orders"]),
    ("tag:nightly tag:finance", "", X, &["assert_positive_totals", "fct_orders", "stg_orders", "weekly_dashboard"]),
    ("+fct_orders,tag:staging", "", X, &["stg_customers", "stg_orders", "stg_payments"]),
    ("+fct_orders", "stg_orders", E, &["assert_positive_totals", "dim_customers_v2", "expr_is_true", "fct_orders", "int_orders_payments", "not_null_fct_orders", "payments", "raw_customers", "raw_orders", "relationships_fct_orders", "stg_customers", "stg_payments", "unit_fct_orders"]),
    ("fct_orders", "dim_customers", C, &["fct_orders", "not_null_fct_orders", "unit_fct_orders"]),
    ("resource_type:model", "tag:staging config.materialized:table", X, &["int_orders_payments", "util_dates"]),
    ("", "resource_type:test resource_type:unit_test resource_type:source", X, &[]),
];

/// `&[]` in the table for `*`/`@stg_customers`/… stands for "all but" lists
/// that are too long to write; they are filled in here.
fn expected(select: &str, exclude: &str, listed: &[&'static str]) -> Vec<&'static str> {
    match (select, exclude) {
        ("@stg_customers", _) => all_but(&["legacy_report", "orders_snapshot", "util_dates"]),
        ("*" | "fqn:*", _) => all_but(&["legacy_report", "payments", "weekly_dashboard"]),
        ("", _) => all_but(&[
            "legacy_report",
            "payments",
            "unique_stg_orders",
            "not_null_fct_orders",
            "relationships_fct_orders",
            "expr_is_true",
            "assert_positive_totals",
            "unit_fct_orders",
        ]),
        _ => {
            let mut sorted = listed.to_vec();
            sorted.sort_unstable();
            sorted
        }
    }
}

fn words(text: &str) -> Vec<String> {
    if text.is_empty() {
        Vec::new()
    } else {
        vec![text.to_string()]
    }
}

fn run(
    graph: &Graph,
    select: &str,
    exclude: &str,
    mode: IndirectSelection,
) -> Result<BTreeSet<String>, Diagnostic> {
    let spec = parse_selection(&words(select), &words(exclude))?;
    super::select(graph, &spec, mode, None)
}

#[test]
fn selection_cases() {
    let graph = project();
    let mut failures = Vec::new();
    for (select, exclude, mode, listed) in CASES {
        let want = expected(select, exclude, listed);
        match run(&graph, select, exclude, *mode) {
            Ok(got) if short_names(&got) == want => {}
            Ok(got) => failures.push(format!(
                "--select '{select}' --exclude '{exclude}' ({}):\n  got  {:?}\n  want {want:?}",
                mode.as_str(),
                short_names(&got)
            )),
            Err(e) => failures.push(format!("--select '{select}': error {}", e.message)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn no_selection_means_everything_enabled() {
    let graph = project();
    let everything = run(&graph, "", "", E).map(|s| short_names(&s));
    assert_eq!(everything.ok(), Some(all_but(&["legacy_report"])));
}

#[test]
fn several_select_values_are_a_union() {
    let graph = project();
    let spec = parse_selection(
        &[
            "stg_orders".to_string(),
            "stg_customers tag:raw".to_string(),
        ],
        &[],
    );
    let got = spec.and_then(|spec| super::select(&graph, &spec, X, None));
    assert_eq!(
        got.map(|s| short_names(&s)).ok(),
        Some(vec!["raw_orders", "stg_customers", "stg_orders"])
    );
}

struct FakeState;

impl StateProvider for FakeState {
    fn state_matches(&self, node: &GraphNode, value: &str) -> Result<bool, String> {
        match value {
            "modified" => Ok(node.name == "stg_orders"),
            "new" => Ok(node.name == "util_dates"),
            other => Err(format!("`{other}` is not a state this test knows")),
        }
    }

    fn result_matches(&self, node: &GraphNode, value: &str) -> Result<bool, String> {
        Ok(value == "error" && node.name == "fct_orders")
    }
}

#[test]
fn state_and_result_go_through_the_provider() {
    let graph = project();
    let select = |text: &str, mode| {
        let spec = parse_selection(&words(text), &[])?;
        super::select(&graph, &spec, mode, Some(&FakeState)).map(|s| short_names(&s))
    };
    assert_eq!(
        select("state:modified+", X).ok(),
        Some(vec![
            "assert_positive_totals",
            "expr_is_true",
            "fct_orders",
            "int_orders_payments",
            "not_null_fct_orders",
            "orders_snapshot",
            "relationships_fct_orders",
            "revenue_analysis",
            "stg_orders",
            "unique_stg_orders",
            "unit_fct_orders",
            "weekly_dashboard",
        ])
    );
    assert_eq!(select("state:new", E).ok(), Some(vec!["util_dates"]));
    assert_eq!(select("result:error", X).ok(), Some(vec!["fct_orders"]));
    let unknown = select("state:sideways", X).err().map(|d| d.message);
    assert_eq!(
        unknown.as_deref(),
        Some("`state:sideways`: `sideways` is not a state this test knows")
    );
}

#[test]
fn state_without_a_provider_is_a_clear_error() {
    let graph = project();
    let error = run(&graph, "state:modified", "", E)
        .err()
        .map(|d| d.message);
    assert_eq!(
        error.as_deref(),
        Some("`state:modified`: state: selection needs --state")
    );
    let spec = parse_selection(&words("tag:x state:new"), &[]);
    assert!(spec.is_ok_and(|s| s.needs_state()));
}

fn rendered_error(select: &str) -> String {
    match parse_selection(&words(select), &[]) {
        Ok(spec) => format!("unexpectedly parsed: {spec:?}"),
        Err(diagnostic) => render(&diagnostic, false),
    }
}

#[test]
fn bad_selector_errors() {
    let cases = [
        "tags:nightly",
        "stg_orders tag:nightly,@fct_orders+",
        "tag:",
        "tag:a,,tag:b",
        "source:a.b.c.d",
        "resource_type:modle",
        "test_type:integration",
        "version:newest",
        "config:table",
        "tag.x:y",
        "+",
    ];
    let rendered: Vec<String> = cases
        .iter()
        .map(|c| format!("$ --select '{c}'\n{}", rendered_error(c)))
        .collect();
    insta::assert_snapshot!(rendered.join("\n"));
}

fn model(id: &str, parents: &[&str]) -> (GraphNode, Vec<String>) {
    let name = id.rsplit('.').next().unwrap_or(id).to_string();
    let node = GraphNode {
        unique_id: id.to_string(),
        name: name.clone(),
        resource_type: RT::Model,
        package_name: "p".to_string(),
        fqn: vec!["p".to_string(), name.clone()],
        original_file_path: format!("models/{name}.sql"),
        path: String::new(),
        tags: Vec::new(),
        config: Default::default(),
        config_alias: None,
        source_name: None,
        test: None,
        version: None,
        checksum: String::new(),
    };
    (node, parents.iter().map(|p| p.to_string()).collect())
}

#[test]
fn disabled_nodes_are_not_walked_through() {
    let mut disabled = model("model.p.b", &["model.p.a"]);
    std::sync::Arc::make_mut(&mut disabled.0.config)
        .insert("enabled".to_string(), Value::Bool(false));
    let graph = Graph::build(vec![
        model("model.p.a", &[]),
        disabled,
        model("model.p.c", &["model.p.b"]),
    ]);
    let selected = graph
        .map_err(|d| d[0].clone())
        .and_then(|g| run(&g, "a+", "", E));
    assert_eq!(
        selected.ok(),
        Some(BTreeSet::from(["model.p.a".to_string()]))
    );
}

#[test]
fn cycle_error_names_the_full_path() {
    let nodes = vec![
        model("model.p.a", &["model.p.c"]),
        model("model.p.b", &["model.p.a"]),
        model("model.p.c", &["model.p.b"]),
        model("model.p.d", &["model.p.d"]),
        model("model.p.e", &["model.p.stg_missing"]),
        model("model.p.stg_mising", &[]),
    ];
    let diagnostics = match Graph::build(nodes) {
        Ok(_) => panic!("a cyclic graph must not build"),
        Err(diagnostics) => diagnostics,
    };
    let rendered: Vec<String> = diagnostics.iter().map(|d| render(d, false)).collect();
    insta::assert_snapshot!(rendered.join("\n"));
}

/// The links alone (what `hangar parse` checks) report what the graph
/// reports, with the same parents, for nodes given in any order.
#[test]
fn links_report_what_the_graph_reports() {
    let mut duplicate = model("model.p.b", &["model.p.nowhere"]);
    duplicate.0.original_file_path = "models/other/b.sql".to_string();
    let nodes = vec![
        model("model.p.c", &["model.p.b", "model.p.a", "model.p.b"]),
        model("model.p.b", &["model.p.a"]),
        model("model.p.a", &[]),
        duplicate,
        model("model.p.e", &["model.p.stg_missing", "model.p.e"]),
    ];
    let rendered = |diagnostics: Vec<Diagnostic>| -> Vec<String> {
        diagnostics.iter().map(|d| render(d, false)).collect()
    };
    let mut sorted = nodes.clone();
    sorted.sort_by(|a, b| a.0.unique_id.cmp(&b.0.unique_id));
    let ids: Vec<&str> = sorted.iter().map(|(n, _)| n.unique_id.as_str()).collect();
    let parents: Vec<&Vec<String>> = sorted.iter().map(|(_, p)| p).collect();
    let file_of = |i: usize| sorted[i].0.original_file_path.clone();
    let from_links = match Links::build(&ids, &parents, &file_of) {
        Ok(_) => panic!("a duplicate id, an unknown parent and a cycle must fail"),
        Err(diagnostics) => rendered(diagnostics),
    };
    let from_graph = match Graph::build(nodes) {
        Ok(_) => panic!("the graph must fail as the links do"),
        Err(diagnostics) => rendered(diagnostics),
    };
    assert_eq!(from_links, from_graph);
    let text = from_links.join("\n");
    assert_eq!(from_links.len(), 3, "{text}");
    assert!(
        text.contains("two nodes have the unique id `model.p.b`"),
        "{text}"
    );
    assert!(text.contains("defined in `models/b.sql`") && text.contains("models/other/b.sql"));
    // The duplicate is left out with its parents: `model.p.nowhere` is not reported.
    assert!(!text.contains("model.p.nowhere"), "{text}");
    assert!(
        text.contains("`model.p.e` depends on `model.p.stg_missing`"),
        "{text}"
    );
    assert!(
        text.contains("found a cycle: model.p.e -> model.p.e"),
        "{text}"
    );

    let good = vec![
        model("model.p.c", &["model.p.b", "model.p.a", "model.p.b"]),
        model("model.p.a", &[]),
        model("model.p.b", &["model.p.a"]),
    ];
    let graph = Graph::build(good.clone())
        .map_err(rendered)
        .expect("builds");
    let mut sorted = good;
    sorted.sort_by(|a, b| a.0.unique_id.cmp(&b.0.unique_id));
    let ids: Vec<&str> = sorted.iter().map(|(n, _)| n.unique_id.as_str()).collect();
    let parents: Vec<&Vec<String>> = sorted.iter().map(|(_, p)| p).collect();
    let links = Links::build(&ids, &parents, &|_| String::new())
        .map_err(rendered)
        .expect("links");
    let from_graph: Vec<(&str, &[usize])> = graph.parent_lists().collect();
    let from_links: Vec<(&str, &[usize])> = ids
        .iter()
        .copied()
        .zip(links.parents().iter().map(Vec::as_slice))
        .collect();
    assert_eq!(from_graph, from_links);
    assert_eq!(from_links[2], ("model.p.c", &[0, 1][..]));
    // Unsorted ids: a repeated one is still reported, and left out.
    let no_parents: Vec<Vec<String>> = vec![Vec::new(); 3];
    let repeated = Links::build(
        &["model.p.b", "model.p.a", "model.p.b"],
        &no_parents,
        &|i| format!("file{i}"),
    );
    let text = match repeated {
        Ok(_) => panic!("a repeated id must fail"),
        Err(diagnostics) => rendered(diagnostics).join("\n"),
    };
    assert!(
        text.contains("defined in `file0`") && text.contains("and in `file2`"),
        "{text}"
    );
    // Lists of nodes and of parents of different lengths are an error, not a panic.
    let (one, _) = model("model.p.a", &[]);
    assert!(Graph::build_from(vec![one], Vec::<Vec<String>>::new()).is_err());
    assert_eq!(graph.children("model.p.a"), vec!["model.p.b", "model.p.c"]);
    // Reduced to its links, the graph keeps the same ids and parents.
    let (kept_ids, kept_links) = graph.into_links();
    assert_eq!(kept_ids, ids);
    assert_eq!(kept_links.parents(), links.parents());
}

const SELECTORS_YML: &str = r#"
selectors:
  - name: nightly
    description: Nightly models and their parents
    definition:
      method: tag
      value: nightly
      parents: true
  - name: staging_string
    definition: "path:models/staging"
  - name: marts_not_nightly
    default: true
    definition:
      union:
        - "marts.*"
        - method: fqn
          value: fct_orders
          children: true
          children_depth: 1
        - exclude:
            - tag: nightly
            - selector: staging_string
  - name: finance_tables
    definition:
      intersection:
        - config.materialized: table
        - method: selector
          value: uses_payments
        - union:
            - tag: finance
            - method: group
              value: finance
  - name: uses_payments
    definition:
      method: source
      value: stripe
      childrens_parents: true
      indirect_selection: empty
  - name: dims_without_v1
    definition:
      method: fqn
      value: dim_customers
      exclude:
        - "dim_customers.v1"
"#;

#[test]
fn selectors_yml_definitions() {
    let definitions = match parse_selectors_yml(SELECTORS_YML, "selectors.yml") {
        Ok(d) => d,
        Err(e) => panic!(
            "{}",
            e.iter()
                .map(|d| render(d, false))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    };
    assert_eq!(
        definitions.default_selector().map(|s| s.name.as_str()),
        Some("marts_not_nightly")
    );
    assert_eq!(
        definitions
            .get("nightly")
            .and_then(|s| s.description.as_deref()),
        Some("Nightly models and their parents")
    );
    let graph = project();
    let run_selector = |name: &str| {
        let spec = definitions.resolve(name)?;
        super::select(&graph, spec, X, None).map(|s| short_names(&s))
    };
    let cases: [(&str, &[&str]); 5] = [
        (
            "nightly",
            &[
                "fct_orders",
                "dim_customers_v2",
                "int_orders_payments",
                "payments",
                "raw_customers",
                "raw_orders",
                "stg_customers",
                "stg_orders",
                "stg_payments",
            ],
        ),
        (
            "staging_string",
            &[
                "payments",
                "stg_customers",
                "stg_orders",
                "stg_payments",
                "unique_stg_orders",
            ],
        ),
        (
            "marts_not_nightly",
            &[
                "assert_positive_totals",
                "dim_customers_v1",
                "dim_customers_v2",
                "not_null_fct_orders",
                "relationships_fct_orders",
                "revenue_analysis",
                "unit_fct_orders",
                "weekly_dashboard",
            ],
        ),
        ("finance_tables", &["fct_orders"]),
        ("dims_without_v1", &["dim_customers_v2"]),
    ];
    for (name, listed) in cases {
        let mut want = listed.to_vec();
        want.sort_unstable();
        assert_eq!(run_selector(name).ok(), Some(want), "selector {name}");
    }
    let missing = definitions
        .resolve("nightlly")
        .err()
        .map(|d| render(&d, false));
    insta::assert_snapshot!(missing.unwrap_or_default(), @r"
    error[H305]: no selector named `nightlly`
     |
     = help: did you mean `nightly`?
    ");
}

#[test]
fn selectors_yml_errors() {
    let files = [
        "selectors:\n  - name: a\n    definition: {tag: x\n",
        "selectors:\n  - name: a\n    definition:\n      method: tags\n      value: x\n",
        "selectors:\n  - name: a\n    definition: 'selector:b'\n  - name: b\n    definition: 'selector:a'\n",
        "selectors:\n  - name: a\n    definition:\n      union:\n        - tag: x\n      intersection:\n        - tag: y\n",
        "selectors:\n  - name: a\n    definition:\n      exclude:\n        - tag: x\n",
        "selectors:\n  - name: a\n    definition: 'selector:nightlly'\n  - name: nightly\n    definition: tag:nightly\n",
        "selectors:\n  - name: a\n    default: true\n    definition: tag:x\n  - name: b\n    default: true\n    definition: tag:y\n",
        "selectors:\n  - name: a\n    definition: tag:x\n  - name: a\n    definition: tag:y\n",
        "selectors:\n  - definition: tag:x\n",
        "selectors:\n  - name: a\n    definition:\n      method: tag\n      value: x\n      parents_depth: many\n",
    ];
    let rendered: Vec<String> = files
        .iter()
        .map(|text| match parse_selectors_yml(text, "selectors.yml") {
            Ok(d) => format!("unexpectedly parsed: {d:?}"),
            Err(e) => e
                .iter()
                .map(|d| render(d, false))
                .collect::<Vec<_>>()
                .join("\n"),
        })
        .collect();
    insta::assert_snapshot!(rendered.join("\n---\n"));
}

#[test]
fn empty_selectors_file_has_no_selectors() {
    let parsed = parse_selectors_yml("", "selectors.yml");
    assert!(parsed.is_ok_and(|d| d.is_empty() && d.default_selector().is_none()));
}

fn chain(len: usize) -> Graph {
    let nodes = (0..len)
        .map(|i| {
            let parent = format!("model.p.n{:05}", i.saturating_sub(1));
            let parents: Vec<&str> = if i == 0 { Vec::new() } else { vec![&parent] };
            model(&format!("model.p.n{i:05}"), &parents)
        })
        .collect();
    match Graph::build(nodes) {
        Ok(graph) => graph,
        Err(diagnostics) => panic!("chain graph is broken: {diagnostics:?}"),
    }
}

#[test]
fn ten_thousand_node_chain() {
    let graph = chain(10_000);
    let all = run(&graph, "+n09999", "", E);
    assert_eq!(all.as_ref().map(BTreeSet::len).ok(), Some(10_000));
    let some = run(&graph, "3+n05000+2", "", E);
    let want: BTreeSet<String> = (4997..=5002).map(|i| format!("model.p.n{i:05}")).collect();
    assert_eq!(some.ok(), Some(want));
    let order = graph.topological_order();
    assert_eq!(
        (order.first().copied(), order.last().copied()),
        (Some("model.p.n00000"), Some("model.p.n09999"))
    );
}

#[test]
fn graph_queries() {
    let graph = project();
    assert_eq!(
        graph.parents("model.shop.fct_orders"),
        vec![
            "model.shop.dim_customers.v2",
            "model.shop.int_orders_payments"
        ]
    );
    assert_eq!(graph.children("model.shop.int_orders_payments").len(), 2);
    assert_eq!(
        graph.ancestors("model.shop.int_orders_payments", Some(1)),
        vec!["model.shop.stg_orders", "model.shop.stg_payments"]
    );
    assert_eq!(
        graph
            .ancestors("model.shop.int_orders_payments", None)
            .len(),
        4
    );
    assert_eq!(
        graph
            .descendants("source.shop.stripe.payments", Some(2))
            .len(),
        3
    );
    assert!(graph.parents("model.shop.nope").is_empty());
    let order = graph.topological_order();
    assert_eq!(order.len(), graph.len());
    let position = |id: &str| order.iter().position(|o| *o == id);
    assert!(position("model.shop.stg_orders") < position("model.shop.int_orders_payments"));
    // Roots first, ties by unique id.
    assert_eq!(order.first().copied(), Some("model.utils.util_dates"));
    let parent_map = graph.parent_map();
    assert_eq!(parent_map.len(), graph.len());
    assert_eq!(parent_map["seed.shop.raw_orders"], Vec::<String>::new());
    assert_eq!(
        graph.child_map()["model.shop.stg_payments"],
        vec![
            "model.shop.int_orders_payments".to_string(),
            "test.shop.assert_positive_totals".to_string(),
        ]
    );
}
