//! Running data tests: the test's SQL wrapped as dbt's test materialization
//! does, with `fail_calc`, `warn_if`, `error_if`, `limit` and `store_failures`.

use serde_json::Value;

use crate::compile::write_compiled;
use crate::events::NodeStatus;
use crate::materialize::{self, Target};
use crate::node::Node;
use crate::run::{Executed, NodeRunner, Worker, render_diagnostic};

/// dbt's `get_test_sql`: one row with the failure count and both verdicts.
pub fn wrap_test_sql(
    main_sql: &str,
    fail_calc: &str,
    warn_if: &str,
    error_if: &str,
    limit: Option<u64>,
) -> String {
    let limit = limit
        .map(|l| format!("\n    limit {l}"))
        .unwrap_or_default();
    format!(
        "select\n      {fail_calc} as failures,\n      {fail_calc} {warn_if} as should_warn,\n      {fail_calc} {error_if} as should_error\n    from (\n      {main_sql}{limit}\n    ) dbt_internal_test"
    )
}

pub(crate) fn run_test(runner: &NodeRunner<'_>, worker: &mut Worker, node: &Node) -> Executed {
    let compiled = match runner.compile_node(worker, node, false) {
        Ok(sql) => sql,
        Err(d) => return Executed::error(render_diagnostic(&d), None),
    };
    if let Err(d) = write_compiled(runner.target_dir(), node, &compiled) {
        return Executed::error(render_diagnostic(&d), Some(compiled));
    }
    let cfg = |k: &str, d: &str| node.config_str(k).unwrap_or(d).to_string();
    let limit = node.config.get("limit").and_then(Value::as_u64);
    let store_as = match store_failures_as(node) {
        Ok(kind) => kind,
        Err(e) => return Executed::error(e, Some(compiled)),
    };
    let mut conn = match worker.conn_lock() {
        Ok(c) => c,
        Err(e) => return Executed::error(e, Some(compiled)),
    };
    let main_sql = if let Some(kind) = store_as {
        let relation = NodeRunner::relation_ref(node);
        let stored = runner
            .prepare_schema(
                conn.as_mut(),
                relation.database.as_deref(),
                &relation.schema,
            )
            .and_then(|()| {
                let target = Target {
                    adapter: runner.adapter(),
                    cache: runner.cache(),
                    relation: relation.clone(),
                    contract: None,
                    transient: None,
                };
                match kind {
                    StoreAs::Table => materialize::table(&target, conn.as_mut(), &compiled),
                    StoreAs::View => materialize::view(&target, conn.as_mut(), &compiled),
                }
            });
        if let Err(e) = stored {
            return Executed::error(format!("storing failures failed: {e}"), Some(compiled));
        }
        format!(
            "select * from {}",
            runner.adapter().render_relation(&relation)
        )
    } else {
        compiled.clone()
    };
    let sql = wrap_test_sql(
        &main_sql,
        &cfg("fail_calc", "count(*)"),
        &cfg("warn_if", "!= 0"),
        &cfg("error_if", "!= 0"),
        limit,
    );
    let result = match conn.query(&sql, &[]) {
        Ok(r) => r,
        Err(e) => return Executed::error(e.to_string(), Some(compiled)),
    };
    drop(conn);
    let row = result.rows.first().cloned().unwrap_or_default();
    let failures = row.first().and_then(as_u64).unwrap_or(0);
    let truthy = |i: usize| row.get(i).is_some_and(is_true);
    let severity = cfg("severity", "ERROR").to_ascii_uppercase();
    let compiled_at = crate::compile::compiled_path(runner.target_dir(), node);
    let (status, message) = if severity == "ERROR" && truthy(2) {
        (
            NodeStatus::Fail,
            format!(
                "Got {failures} result{}, configured to fail if {}\n\ncompiled code at {}",
                plural(failures),
                cfg("error_if", "!= 0"),
                compiled_at.display()
            ),
        )
    } else if truthy(1) {
        (
            NodeStatus::Warn,
            format!(
                "Got {failures} result{}, configured to warn if {}",
                plural(failures),
                cfg("warn_if", "!= 0")
            ),
        )
    } else {
        (NodeStatus::Pass, String::new())
    };
    Executed {
        status,
        message,
        rows_affected: None,
        failures: Some(failures),
        compiled_code: Some(compiled),
        adapter_message: "OK".into(),
    }
}

/// How a test's failing rows are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StoreAs {
    Table,
    View,
}

/// dbt's rule: `store_failures_as` (table, view or ephemeral) wins over
/// `store_failures`, which stores a table.
fn store_failures_as(node: &Node) -> Result<Option<StoreAs>, String> {
    match node.config.get("store_failures_as") {
        None | Some(Value::Null) => Ok(node
            .config
            .get("store_failures")
            .and_then(Value::as_bool)
            .unwrap_or(false)
            .then_some(StoreAs::Table)),
        Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "table" => Ok(Some(StoreAs::Table)),
            "view" => Ok(Some(StoreAs::View)),
            "ephemeral" => Ok(None),
            other => Err(format!(
                "store_failures_as is `{other}`; expected table, view or ephemeral"
            )),
        },
        Some(other) => Err(format!(
            "store_failures_as must be a string (table, view or ephemeral), not {other}"
        )),
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn as_u64(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_f64().map(|f| f as u64))
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

fn is_true(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => matches!(s.to_ascii_lowercase().as_str(), "true" | "t" | "1"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn store_failures_as_wins_over_store_failures() {
        use hangar_graph::ResourceType;
        let node = |config: serde_json::Value| {
            Node::new(
                ResourceType::Test,
                "p",
                "t",
                config.as_object().cloned().unwrap_or_default(),
            )
        };
        let cases = [
            (json!({}), Ok(None)),
            (json!({"store_failures": true}), Ok(Some(StoreAs::Table))),
            (
                json!({"store_failures": true, "store_failures_as": "ephemeral"}),
                Ok(None),
            ),
            (
                json!({"store_failures": false, "store_failures_as": "view"}),
                Ok(Some(StoreAs::View)),
            ),
            (
                json!({"store_failures_as": "TABLE"}),
                Ok(Some(StoreAs::Table)),
            ),
        ];
        for (config, expected) in cases {
            assert_eq!(
                store_failures_as(&node(config.clone())),
                expected,
                "{config}"
            );
        }
        assert!(store_failures_as(&node(json!({"store_failures_as": "parquet"}))).is_err());
    }

    #[test]
    fn wraps_like_dbt() {
        let sql = wrap_test_sql("select 1", "count(*)", "!= 0", "> 10", Some(5));
        assert!(sql.contains("count(*) > 10 as should_error"));
        assert!(sql.contains("limit 5"));
        assert!(sql.ends_with(") dbt_internal_test"));
    }
}
