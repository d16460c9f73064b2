//! Model contracts (`contract: {enforced: true}`): the model's columns are
//! checked against its YAML before building, and tables are created from the
//! declared columns and constraints, as dbt does.

use hangar_adapter::{Adapter, ColumnInfo, ConstraintSupport, RelationRef};
use hangar_project::{Diagnostic, codes};
use serde_json::Value;

use crate::node::Node;

/// A declared column: name, type as written, and its column-level constraints.
#[derive(Debug, Clone, PartialEq)]
pub struct ContractColumn {
    pub name: String,
    pub data_type: String,
    pub constraints: Vec<Value>,
}

/// An enforced contract.
#[derive(Debug, Clone, PartialEq)]
pub struct Contract {
    pub columns: Vec<ContractColumn>,
    /// Model-level constraints (`constraints:` beside `columns:`).
    pub constraints: Vec<Value>,
}

/// True when the node's config enforces a contract.
pub fn is_enforced(node: &Node) -> bool {
    node.config
        .get("contract")
        .and_then(|c| c.get("enforced"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The node's contract, or `None` when it enforces none. Columns without a
/// `data_type` were reported at parse time ([`check`]) and are left out here.
pub fn contract_of(node: &Node) -> Option<Contract> {
    if !is_enforced(node) {
        return None;
    }
    let columns = node
        .columns
        .iter()
        .filter_map(|(name, c)| {
            Some(ContractColumn {
                name: name.clone(),
                data_type: c.data_type.clone()?,
                constraints: c.constraints.clone(),
            })
        })
        .collect();
    Some(Contract {
        columns,
        constraints: node.constraints.clone(),
    })
}

/// Parse-time checks, as dbt's: a contract needs columns, each with a
/// `data_type`, and cannot be put on an ephemeral model.
/// `properties` is the text of the node's property file, to point at the line.
pub fn check(node: &Node, properties: Option<&std::sync::Arc<str>>) -> Option<Diagnostic> {
    if !is_enforced(node) {
        return None;
    }
    let at = |d: Diagnostic, column: Option<&str>| {
        let file = node
            .patch_path
            .as_deref()
            .map_or(node.original_file_path.clone(), |p| {
                p.split_once("://").map_or(p, |(_, path)| path).to_string()
            });
        match properties {
            Some(text) => {
                let line = line_of_entry(text, &node.name, column);
                d.at(file, line, 1).with_source(text.clone(), 0)
            }
            None => d.at(file, 1, 1),
        }
    };
    if node.is_ephemeral() {
        return Some(at(
            Diagnostic::error(
                codes::CONFIG_TYPE,
                format!(
                    "model `{}` is ephemeral, and ephemeral models cannot enforce a contract",
                    node.name
                ),
            )
            .with_hint(
                "materialize it as a table, view or incremental model, or drop `contract.enforced`",
            ),
            None,
        ));
    }
    if node.columns.is_empty() {
        return Some(at(
            Diagnostic::error(
                codes::YAML_SCHEMA,
                format!(
                    "model `{}` enforces a contract but declares no columns",
                    node.name
                ),
            )
            .with_hint("list each column with its `data_type` under the model's `columns:`"),
            None,
        ));
    }
    let untyped: Vec<&str> = node
        .columns
        .iter()
        .filter(|(_, c)| c.data_type.is_none())
        .map(|(n, _)| n.as_str())
        .collect();
    let first = untyped.first()?;
    Some(at(
        Diagnostic::error(
            codes::YAML_SCHEMA,
            format!(
                "model `{}` enforces a contract, so every column needs a `data_type`; missing for: {}",
                node.name,
                untyped.join(", ")
            ),
        )
        .with_hint(format!("add `data_type:` under `- name: {first}`")),
        Some(first),
    ))
}

/// 1-based line of `name: <model>` in a property file, or of the first
/// `name: <column>` after it.
fn line_of_entry(text: &str, model: &str, column: Option<&str>) -> usize {
    let is_name = |line: &str, name: &str| {
        let l = line.trim_start().trim_start_matches("- ").trim();
        l.strip_prefix("name:")
            .is_some_and(|v| v.trim().trim_matches(['"', '\'']) == name)
    };
    let lines: Vec<&str> = text.lines().collect();
    let Some(model_line) = lines.iter().position(|l| is_name(l, model)) else {
        return 1;
    };
    let found = column.and_then(|c| {
        lines[model_line..]
            .iter()
            .position(|l| is_name(l, c))
            .map(|i| model_line + i)
    });
    found.unwrap_or(model_line) + 1
}

/// A type name reduced to what a contract compares: lower case, without
/// size or precision, with each warehouse's synonyms folded together.
pub fn canonical_type(data_type: &str) -> String {
    let lower = data_type.trim().to_ascii_lowercase();
    let base = lower.split('(').next().unwrap_or("").trim();
    let base = base.strip_suffix("[]").unwrap_or(base);
    let name = match base {
        "int" | "int4" | "integer" | "signed" | "int32" => "integer",
        "int8" | "bigint" | "long" | "int64" => "bigint",
        "int2" | "smallint" | "short" | "int16" => "smallint",
        "int1" | "tinyint" => "tinyint",
        "float8" | "double" | "double precision" | "float64" => "double",
        "float4" | "real" | "float32" => "real",
        "numeric" | "decimal" | "number" => "numeric",
        "bool" | "boolean" | "logical" => "boolean",
        "varchar" | "character varying" | "text" | "string" | "char" | "character" | "bpchar"
        | "nvarchar" | "nchar" => "string",
        "timestamp" | "timestamp without time zone" | "datetime" | "timestamp_ntz" => "timestamp",
        "timestamptz" | "timestamp with time zone" | "timestamp_tz" | "timestamp_ltz" => {
            "timestamptz"
        }
        "time" | "time without time zone" => "time",
        "blob" | "bytea" | "binary" | "varbinary" => "binary",
        "jsonb" | "json" => "json",
        other => other,
    };
    name.to_string()
}

/// True when a model column of type `actual` satisfies a declared type.
/// Snowflake has one integer type: it reports `integer`, `bigint`, `smallint`…
/// all as `NUMBER(38,0)` (as dbt-snowflake's comparison of warehouse types sees).
fn types_match(actual: &str, declared: &str) -> bool {
    let (actual_type, declared_type) = (canonical_type(actual), canonical_type(declared));
    if actual_type == declared_type {
        return true;
    }
    let lower = actual.trim().to_ascii_lowercase();
    let whole_number = match lower.strip_prefix("number") {
        Some("") => true,
        Some(args) => args
            .trim()
            .strip_prefix('(')
            .and_then(|a| a.strip_suffix(')'))
            .is_some_and(|a| a.split(',').nth(1).is_none_or(|scale| scale.trim() == "0")),
        None => false,
    };
    whole_number
        && matches!(
            declared_type.as_str(),
            "integer" | "bigint" | "smallint" | "tinyint"
        )
}

/// Compares the model's output columns with the contract. On a mismatch the
/// error holds dbt's column-by-column table.
pub fn compare(contract: &Contract, actual: &[ColumnInfo]) -> Result<(), String> {
    let mut rows: Vec<[String; 4]> = Vec::new();
    for declared in &contract.columns {
        match actual
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(&declared.name))
        {
            None => rows.push([
                declared.name.clone(),
                String::new(),
                declared.data_type.clone(),
                "missing in definition".into(),
            ]),
            Some(a) if !types_match(&a.data_type, &declared.data_type) => rows.push([
                declared.name.clone(),
                a.data_type.clone(),
                declared.data_type.clone(),
                "data type mismatch".into(),
            ]),
            Some(_) => {}
        }
    }
    for a in actual {
        if !contract
            .columns
            .iter()
            .any(|d| d.name.eq_ignore_ascii_case(&a.name))
        {
            rows.push([
                a.name.clone(),
                a.data_type.clone(),
                String::new(),
                "missing in contract".into(),
            ]);
        }
    }
    if rows.is_empty() {
        return Ok(());
    }
    Err(format!(
        "This model has an enforced contract that failed.\nPlease ensure the name, data_type, and number of columns in your contract match the columns in your model's definition.\n\n{}",
        markdown_table(
            &[
                "column_name",
                "definition_type",
                "contract_type",
                "mismatch_reason"
            ],
            &rows
        )
    ))
}

fn markdown_table(header: &[&str; 4], rows: &[[String; 4]]) -> String {
    let widths: Vec<usize> = (0..4)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: [&str; 4]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("| {} |", padded.join(" | "))
    };
    let mut out = vec![line(*header)];
    let dashes: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    out.push(line([&dashes[0], &dashes[1], &dashes[2], &dashes[3]]));
    for r in rows {
        out.push(line([&r[0], &r[1], &r[2], &r[3]]));
    }
    out.join("\n")
}

/// What building a contracted table runs: `create table` from the declared
/// columns and constraints, then `insert … select` of the model's rows in
/// the contract's column order. Constraints the warehouse cannot take are
/// left out ([`unsupported_constraints`] names them for a warning).
pub struct ContractDdl {
    pub create: String,
    pub insert: String,
}

pub fn table_ddl(
    adapter: &dyn Adapter,
    relation: &RelationRef,
    contract: &Contract,
    select_sql: &str,
) -> ContractDdl {
    let mut definitions: Vec<String> = contract
        .columns
        .iter()
        .map(|c| {
            let clauses: Vec<String> = c
                .constraints
                .iter()
                .filter(|k| usable(adapter, k))
                .filter_map(column_clause)
                .collect();
            let mut def = format!("{} {}", adapter.quote(&c.name), c.data_type);
            for clause in clauses {
                def.push(' ');
                def.push_str(&clause);
            }
            def
        })
        .collect();
    for k in &contract.constraints {
        if usable(adapter, k)
            && let Some(clause) = table_clause(adapter, k)
        {
            definitions.push(clause);
        }
    }
    let names: Vec<String> = contract
        .columns
        .iter()
        .map(|c| adapter.quote(&c.name))
        .collect();
    let target = adapter.render_relation(relation);
    ContractDdl {
        create: format!(
            "create table {target} (\n    {}\n)",
            definitions.join(",\n    ")
        ),
        insert: format!(
            "insert into {target} ({cols})\nselect {cols} from (\n{select_sql}\n) as model_subq",
            cols = names.join(", ")
        ),
    }
}

/// The constraints of `contract` that the warehouse cannot take, described
/// for a warning (dbt warns too); [`table_ddl`] leaves them out.
pub fn unsupported_constraints(adapter: &dyn Adapter, contract: &Contract) -> Vec<String> {
    let kind = |c: &Value| {
        c.get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let on_columns = contract.columns.iter().flat_map(|col| {
        col.constraints
            .iter()
            .filter(|c| !usable(adapter, c))
            .map(move |c| format!("{} on column {}", kind(c), col.name))
    });
    let on_model = contract
        .constraints
        .iter()
        .filter(|c| !usable(adapter, c))
        .map(|c| format!("{} on the model", kind(c)));
    on_columns.chain(on_model).collect()
}

/// Whether the warehouse takes the constraint in DDL at all.
fn usable(adapter: &dyn Adapter, constraint: &Value) -> bool {
    let kind = constraint.get("type").and_then(Value::as_str).unwrap_or("");
    adapter.constraint_support(kind) != ConstraintSupport::NotSupported
}

fn expression(c: &Value) -> Option<&str> {
    c.get("expression").and_then(Value::as_str)
}

fn column_clause(c: &Value) -> Option<String> {
    Some(match c.get("type").and_then(Value::as_str)? {
        "not_null" => "not null".into(),
        "unique" => "unique".into(),
        "primary_key" => "primary key".into(),
        "check" => format!("check ({})", expression(c)?),
        "foreign_key" => format!("references {}", expression(c)?),
        "custom" => expression(c)?.to_string(),
        _ => return None,
    })
}

fn table_clause(adapter: &dyn Adapter, c: &Value) -> Option<String> {
    let columns = c
        .get("columns")
        .and_then(Value::as_array)
        .map(|cols| {
            cols.iter()
                .filter_map(Value::as_str)
                .map(|n| adapter.quote(n))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let named = |body: String| match c.get("name").and_then(Value::as_str) {
        Some(name) => format!("constraint {} {body}", adapter.quote(name)),
        None => body,
    };
    Some(named(match c.get("type").and_then(Value::as_str)? {
        "primary_key" if !columns.is_empty() => format!("primary key ({columns})"),
        "unique" if !columns.is_empty() => format!("unique ({columns})"),
        "check" => format!("check ({})", expression(c)?),
        "foreign_key" if !columns.is_empty() => {
            format!("foreign key ({columns}) references {}", expression(c)?)
        }
        "custom" => expression(c)?.to_string(),
        _ => return None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn contract() -> Contract {
        Contract {
            columns: vec![
                ContractColumn {
                    name: "member_id".into(),
                    data_type: "integer".into(),
                    constraints: vec![json!({"type": "not_null"}), json!({"type": "primary_key"})],
                },
                ContractColumn {
                    name: "email".into(),
                    data_type: "varchar(200)".into(),
                    constraints: vec![json!({"type": "check", "expression": "email like '%@%'"})],
                },
            ],
            constraints: vec![json!({"type": "unique", "columns": ["email"], "name": "one_email"})],
        }
    }

    /// A warehouse that takes only `not_null` constraints.
    struct NotNullOnly;

    impl Adapter for NotNullOnly {
        fn adapter_type(&self) -> &'static str {
            "test"
        }
        fn target_name(&self) -> &str {
            "dev"
        }
        fn connect(
            &self,
        ) -> Result<Box<dyn hangar_adapter::Connection>, hangar_adapter::AdapterError> {
            Err(hangar_adapter::AdapterError::Unsupported(
                "no connections".into(),
            ))
        }
        fn capabilities(&self) -> hangar_adapter::Capabilities {
            unreachable!("not used by the DDL builders")
        }
        fn default_database(&self) -> Option<String> {
            None
        }
        fn default_schema(&self) -> String {
            "main".into()
        }
        fn threads(&self) -> usize {
            1
        }
        fn constraint_support(&self, kind: &str) -> ConstraintSupport {
            if kind == "not_null" {
                ConstraintSupport::Enforced
            } else {
                ConstraintSupport::NotSupported
            }
        }
    }

    #[test]
    fn unsupported_constraints_are_named_and_left_out_of_the_ddl() {
        let c = contract();
        assert_eq!(
            unsupported_constraints(&NotNullOnly, &c),
            [
                "primary_key on column member_id",
                "check on column email",
                "unique on the model"
            ]
        );
        let r = RelationRef::new(None, "main", "members");
        let ddl = table_ddl(&NotNullOnly, &r, &c, "select 1");
        insta::assert_snapshot!(ddl.create, @r#"
        create table "main"."members" (
            "member_id" integer not null,
            "email" varchar(200)
        )
        "#);
        assert_eq!(
            ddl.insert,
            "insert into \"main\".\"members\" (\"member_id\", \"email\")\nselect \"member_id\", \"email\" from (\nselect 1\n) as model_subq"
        );
    }

    #[test]
    fn synonyms_compare_equal() {
        assert_eq!(canonical_type("INT4"), canonical_type("integer"));
        assert_eq!(canonical_type("VARCHAR"), canonical_type("text"));
        assert_eq!(canonical_type("DECIMAL(18,3)"), canonical_type("numeric"));
        assert_eq!(canonical_type("timestamp with time zone"), "timestamptz");
        assert_ne!(canonical_type("bigint"), canonical_type("integer"));
    }

    #[test]
    fn snowflake_whole_numbers_satisfy_integer_types() {
        for declared in [
            "integer",
            "int",
            "bigint",
            "smallint",
            "numeric",
            "number(38,0)",
        ] {
            assert!(types_match("NUMBER(38,0)", declared), "{declared}");
        }
        assert!(types_match("NUMBER", "bigint"));
        assert!(!types_match("NUMBER(10,2)", "integer"));
        assert!(!types_match("VARCHAR", "integer"));
        assert!(!types_match("bigint", "integer"));
    }

    #[test]
    fn matching_columns_pass() {
        let actual = [
            ColumnInfo::new("MEMBER_ID", "INTEGER"),
            ColumnInfo::new("email", "VARCHAR"),
        ];
        assert_eq!(compare(&contract(), &actual), Ok(()));
    }

    #[test]
    fn mismatches_are_tabulated_like_dbt() {
        let actual = [
            ColumnInfo::new("member_id", "VARCHAR"),
            ColumnInfo::new("joined_on", "DATE"),
        ];
        let message = compare(&contract(), &actual).unwrap_err();
        insta::assert_snapshot!(message, @r"
        This model has an enforced contract that failed.
        Please ensure the name, data_type, and number of columns in your contract match the columns in your model's definition.

        | column_name | definition_type | contract_type | mismatch_reason       |
        | ----------- | --------------- | ------------- | --------------------- |
        | member_id   | VARCHAR         | integer       | data type mismatch    |
        | email       |                 | varchar(200)  | missing in definition |
        | joined_on   | DATE            |               | missing in contract   |
        ");
    }
}
