//! Snapshots (type-2 slowly changing dimensions) with dbt's `timestamp` and
//! `check` strategies and its `dbt_scd_id`, `dbt_updated_at`,
//! `dbt_valid_from` and `dbt_valid_to` columns.

use hangar_adapter::{Adapter, AdapterError, Connection, LogicalType, RelationRef};
use serde_json::Value;

use crate::compile::write_compiled;
use crate::events::NodeStatus;
use crate::materialize::{self, Materialized, Target, config_column};
use crate::node::Node;
use crate::run::{Executed, NodeRunner, Worker, render_diagnostic};

/// How a snapshot detects a changed row.
#[derive(Debug, Clone, PartialEq)]
pub enum Strategy {
    Timestamp { updated_at: String },
    Check { columns: CheckColumns },
}

#[derive(Debug, Clone, PartialEq)]
pub enum CheckColumns {
    All,
    Listed(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotConfig {
    pub unique_key: Vec<String>,
    pub strategy: Strategy,
    pub invalidate_hard_deletes: bool,
}

pub fn snapshot_config(node: &Node) -> Result<SnapshotConfig, String> {
    let unique_key: Vec<String> = match node.config.get("unique_key") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    if unique_key.is_empty() || unique_key.iter().any(|k| k.trim().is_empty()) {
        return Err(format!(
            "snapshot `{}` needs a `unique_key` config (a column or a list of columns)",
            node.name
        ));
    }
    let strategy = match node.config_str("strategy") {
        Some("timestamp") => Strategy::Timestamp {
            updated_at: node
                .config_str("updated_at")
                .ok_or_else(|| {
                    format!(
                        "snapshot `{}` uses the timestamp strategy but has no `updated_at` config",
                        node.name
                    )
                })?
                .to_string(),
        },
        Some("check") => Strategy::Check {
            columns: match node.config.get("check_cols") {
                Some(Value::String(s)) if s == "all" => CheckColumns::All,
                Some(Value::Array(a)) => CheckColumns::Listed(
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect(),
                ),
                _ => {
                    return Err(format!(
                        "snapshot `{}` uses the check strategy but has no `check_cols` (a list or 'all')",
                        node.name
                    ));
                }
            },
        },
        Some(other) => {
            return Err(format!(
                "snapshot `{}` has unknown strategy `{other}` (expected timestamp or check)",
                node.name
            ));
        }
        None => {
            return Err(format!(
                "snapshot `{}` needs a `strategy` config (timestamp or check)",
                node.name
            ));
        }
    };
    let hard_deletes = node.config_str("hard_deletes") == Some("invalidate")
        || node
            .config
            .get("invalidate_hard_deletes")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    Ok(SnapshotConfig {
        unique_key,
        strategy,
        invalidate_hard_deletes: hard_deletes,
    })
}

pub(crate) fn run_snapshot(runner: &NodeRunner<'_>, worker: &mut Worker, node: &Node) -> Executed {
    let cfg = match snapshot_config(node) {
        Ok(c) => c,
        Err(e) => return Executed::error(e, None),
    };
    let compiled = match runner.compile_node(worker, node, false) {
        Ok(sql) => sql,
        Err(d) => return Executed::error(render_diagnostic(&d), None),
    };
    if let Err(d) = write_compiled(runner.target_dir(), node, &compiled) {
        return Executed::error(render_diagnostic(&d), Some(compiled));
    }
    let relation = NodeRunner::relation_ref(node);
    let mut conn = match worker.conn_lock() {
        Ok(c) => c,
        Err(e) => return Executed::error(e, Some(compiled)),
    };
    let target = Target {
        adapter: runner.adapter(),
        cache: runner.cache(),
        relation: relation.clone(),
        contract: None,
        transient: None,
    };
    let result = runner
        .prepare_schema(
            conn.as_mut(),
            relation.database.as_deref(),
            &relation.schema,
        )
        .and_then(|()| match target.existing() {
            None => {
                let sql = first_snapshot_sql(runner.adapter(), &compiled, &cfg);
                materialize::table(&target, conn.as_mut(), &sql)
            }
            Some(_) => update_snapshot(runner.adapter(), conn.as_mut(), &target, &compiled, &cfg),
        });
    drop(conn);
    match result {
        Ok(m) => Executed {
            status: NodeStatus::Success,
            message: m.message.clone(),
            rows_affected: m.rows_affected,
            failures: None,
            compiled_code: Some(compiled),
            adapter_message: m.message,
        },
        Err(e) => Executed::error(e.to_string(), Some(compiled)),
    }
}

fn key_expr(a: &dyn Adapter, alias: &str, keys: &[String]) -> String {
    let text = a.type_name(LogicalType::String);
    keys.iter()
        .map(|k| {
            format!(
                "coalesce(cast({alias}.{} as {text}), '')",
                config_column(a, k)
            )
        })
        .collect::<Vec<_>>()
        .join(" || '|' || ")
}

/// The change timestamp of a source row: `updated_at`, or now for `check`.
fn updated_at_expr(a: &dyn Adapter, cfg: &SnapshotConfig) -> String {
    let ts = a.type_name(LogicalType::Timestamp);
    match &cfg.strategy {
        Strategy::Timestamp { updated_at } => {
            format!(
                "cast(snapshotted_source.{} as {ts})",
                config_column(a, updated_at)
            )
        }
        Strategy::Check { .. } => format!("cast(current_timestamp as {ts})"),
    }
}

fn meta_columns(a: &dyn Adapter, cfg: &SnapshotConfig) -> String {
    let ts = a.type_name(LogicalType::Timestamp);
    let text = a.type_name(LogicalType::String);
    let updated = updated_at_expr(a, cfg);
    format!(
        "md5({} || '|' || coalesce(cast({updated} as {text}), '')) as dbt_scd_id,\n  {updated} as dbt_updated_at,\n  {updated} as dbt_valid_from,\n  cast(null as {ts}) as dbt_valid_to",
        key_expr(a, "snapshotted_source", &cfg.unique_key)
    )
}

pub fn first_snapshot_sql(a: &dyn Adapter, sql: &str, cfg: &SnapshotConfig) -> String {
    format!(
        "select snapshotted_source.*,\n  {}\nfrom (\n{sql}\n) snapshotted_source",
        meta_columns(a, cfg)
    )
}

/// New versions of changed or new rows, and the closing of old versions.
fn update_snapshot(
    a: &dyn Adapter,
    conn: &mut dyn Connection,
    target: &Target<'_>,
    sql: &str,
    cfg: &SnapshotConfig,
) -> Result<Materialized, AdapterError> {
    let dest = a.render_relation(&target.relation);
    let existing_columns = conn.get_columns(&target.relation)?;
    let join = cfg
        .unique_key
        .iter()
        .map(|k| {
            format!(
                "snapshotted_source.{q} = current_rows.{q}",
                q = config_column(a, k)
            )
        })
        .collect::<Vec<_>>()
        .join(" and ");
    let first_key = config_column(a, &cfg.unique_key[0]);
    let changed = match &cfg.strategy {
        Strategy::Timestamp { .. } => {
            format!("{} > current_rows.dbt_updated_at", updated_at_expr(a, cfg))
        }
        Strategy::Check { columns } => {
            // Rendered identifiers: listed columns come from config, the
            // others are the relation's own names.
            let cols: Vec<String> = match columns {
                CheckColumns::Listed(c) => c.iter().map(|c| config_column(a, c)).collect(),
                CheckColumns::All => existing_columns
                    .iter()
                    .map(|c| c.name.clone())
                    .filter(|c| {
                        !c.to_ascii_lowercase().starts_with("dbt_")
                            && !cfg.unique_key.iter().any(|k| k.eq_ignore_ascii_case(c))
                    })
                    .map(|c| a.quote(&c))
                    .collect(),
            };
            let diffs: Vec<String> = cols
                .iter()
                .map(|c| format!("snapshotted_source.{c} is distinct from current_rows.{c}"))
                .collect();
            if diffs.is_empty() {
                "false".to_string()
            } else {
                format!("({})", diffs.join(" or "))
            }
        }
    };
    let staged = RelationRef {
        identifier: format!("{}{}", target.relation.identifier, materialize::TMP_SUFFIX),
        ..target.relation.clone()
    };
    let staged_sql = format!(
        "select snapshotted_source.*,\n  {}\nfrom (\n{sql}\n) snapshotted_source\nleft join (select * from {dest} where dbt_valid_to is null) current_rows on {join}\nwhere current_rows.{first_key} is null or {changed}",
        meta_columns(a, cfg)
    );
    let staged_name = a.render_relation(&staged);
    conn.execute(&a.sql_drop(&staged, hangar_adapter::RelationKind::Table))?;
    conn.execute(&a.sql_create_table_as(&staged, &staged_sql, false))?;
    let key_match = cfg
        .unique_key
        .iter()
        .map(|k| format!("{dest}.{q} = staged.{q}", q = config_column(a, k)))
        .collect::<Vec<_>>()
        .join(" and ");
    let columns = existing_columns
        .iter()
        .map(|c| a.quote(&c.name))
        .collect::<Vec<_>>()
        .join(", ");
    let mut statements = vec![
        format!(
            "update {dest} set dbt_valid_to = (select min(staged.dbt_valid_from) from {staged_name} staged where {key_match}) where dbt_valid_to is null and exists (select 1 from {staged_name} staged where {key_match})"
        ),
        format!("insert into {dest} ({columns}) select {columns} from {staged_name}"),
    ];
    if cfg.invalidate_hard_deletes {
        let source_match = cfg
            .unique_key
            .iter()
            .map(|k| {
                format!(
                    "{dest}.{q} = snapshotted_source.{q}",
                    q = config_column(a, k)
                )
            })
            .collect::<Vec<_>>()
            .join(" and ");
        statements.push(format!(
            "update {dest} set dbt_valid_to = current_timestamp where dbt_valid_to is null and not exists (select 1 from ({sql}) snapshotted_source where {source_match})"
        ));
    }
    let result = (|| {
        conn.begin()?;
        let mut inserted = None;
        for (i, s) in statements.iter().enumerate() {
            let n = conn.execute(s)?;
            if i == 1 {
                inserted = n;
            }
        }
        conn.commit()?;
        Ok(inserted)
    })();
    if result.is_err() {
        let _ = conn.rollback();
    }
    let _ = conn.execute(&a.sql_drop(&staged, hangar_adapter::RelationKind::Table));
    let inserted = result?;
    Ok(Materialized {
        rows_affected: inserted,
        message: format!("INSERT {}", inserted.unwrap_or(0)),
    })
}
