//! Running one unit test: fixtures typed from the warehouse, the model
//! rendered against them, and the result compared with the expectation.

use std::collections::HashMap;

use hangar_adapter::{Adapter, ColumnInfo, Connection, RelationRef};
use hangar_jinja::{Policy, Relation, Resolver};
use serde_json::Value;

use super::fixtures::{FixtureColumn, diff_rows, fixture_sql, row_keys};
use super::{FixtureRows, InputRef, UnitInput, UnitTestData};
use crate::compile::{EPHEMERAL_PREFIX, write_compiled};
use crate::ctes::inject_ctes;
use crate::events::NodeStatus;
use crate::node::Node;
use crate::run::{Executed, NodeRunner, Worker, render_diagnostic};

pub(crate) fn run_unit_test(runner: &NodeRunner<'_>, worker: &mut Worker, node: &Node) -> Executed {
    let Some(data) = node.unit.as_deref() else {
        return Executed::error(format!("{} has no unit test body", node.unique_id), None);
    };
    let Some(model) = runner.parsed().node(&data.model_id) else {
        return Executed::error(
            format!("model {} is not in the project", data.model_id),
            None,
        );
    };
    let run = UnitRun {
        runner,
        worker,
        node,
        model,
        data,
    };
    match run.execute() {
        Ok(executed) => executed,
        Err(failure) => Executed::error(failure.message, failure.sql),
    }
}

struct UnitFailure {
    message: String,
    sql: Option<String>,
}

impl From<String> for UnitFailure {
    fn from(message: String) -> Self {
        UnitFailure { message, sql: None }
    }
}

struct UnitRun<'r, 'a> {
    runner: &'r NodeRunner<'a>,
    worker: &'r Worker,
    node: &'r Node,
    model: &'r Node,
    data: &'r UnitTestData,
}

impl UnitRun<'_, '_> {
    fn adapter(&self) -> &dyn Adapter {
        self.runner.adapter()
    }

    fn execute(self) -> Result<Executed, UnitFailure> {
        let (ctes, fixtures) = self.fixtures()?;
        let model_sql = self.render_model(&fixtures)?;
        let model_sql = inject_ctes(&model_sql, &ctes);
        let output = self.output_columns(&model_sql)?;
        let (columns, expected_sql) = self.expectation(&output)?;
        let list = columns
            .iter()
            .map(|c| self.ident(c))
            .collect::<Vec<_>>()
            .join(", ");
        let actual_query =
            format!("select {list} from (\n{model_sql}\n) as dbt_internal_unit_test_actual");
        let expected_query =
            format!("select {list} from (\n{expected_sql}\n) as dbt_internal_unit_test_expected");
        let compiled = format!("-- actual\n{actual_query};\n\n-- expected\n{expected_query};\n");
        let with_sql = |message: String| UnitFailure {
            message,
            sql: Some(compiled.clone()),
        };
        if let Err(d) = write_compiled(self.runner.target_dir(), self.node, &compiled) {
            return Err(with_sql(render_diagnostic(&d)));
        }
        let actual = self.query(&actual_query).map_err(with_sql)?;
        let expected = self.query(&expected_query).map_err(with_sql)?;
        let diff = diff_rows(&columns, &expected, &actual);
        let (status, message) = if diff.differing == 0 {
            (NodeStatus::Pass, String::new())
        } else {
            (
                NodeStatus::Fail,
                format!(
                    "actual differs from expected ({} row{} differ):\n\n{}",
                    diff.differing,
                    if diff.differing == 1 { "" } else { "s" },
                    diff.table
                ),
            )
        };
        Ok(Executed {
            status,
            message,
            rows_affected: None,
            failures: Some(diff.differing as u64),
            compiled_code: Some(compiled),
            adapter_message: "OK".into(),
        })
    }

    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Box<dyn Connection>>, String> {
        self.worker.conn_lock()
    }

    fn query(&self, sql: &str) -> Result<Vec<Vec<Value>>, String> {
        let mut conn = self.conn()?;
        conn.query(sql, &[])
            .map(|r| r.rows)
            .map_err(|e| e.to_string())
    }

    /// Simple lower-case names stay bare (so they fold like the model's own
    /// unquoted names on every warehouse); anything else is quoted.
    fn ident(&self, name: &str) -> String {
        let simple = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if simple {
            name.to_string()
        } else {
            self.adapter().quote(name)
        }
    }

    /// One CTE per `given` input, and the relations refs resolve to.
    fn fixtures(&self) -> Result<(Vec<(String, String)>, Fixtures), UnitFailure> {
        let mut ctes = Vec::new();
        let mut fixtures = Fixtures::default();
        for input in &self.data.given {
            let resolved = self.resolve(input)?;
            let cte = self.cte_name(&input.input);
            let sql = self.input_sql(input, &resolved)?;
            let relation = cte_relation(&cte);
            match resolved {
                Resolved::Node(node) => {
                    fixtures.refs.insert(node.unique_id.clone(), relation);
                }
                Resolved::Source(source) => {
                    let key = (source.source_name.clone(), source.name.clone());
                    fixtures.sources.insert(key, relation);
                }
                Resolved::This => fixtures.this = Some(relation),
            }
            ctes.push((cte, sql));
        }
        Ok((ctes, fixtures))
    }

    fn cte_name(&self, input: &InputRef) -> String {
        match input {
            InputRef::Ref { name, .. } => format!("{EPHEMERAL_PREFIX}{name}"),
            InputRef::Source { source, table } => format!("{EPHEMERAL_PREFIX}{source}__{table}"),
            InputRef::This => format!("{EPHEMERAL_PREFIX}this"),
        }
    }

    /// The project node or source a `given` input names.
    fn resolve(&self, input: &UnitInput) -> Result<Resolved<'_>, String> {
        let compiler = self.runner.compiler();
        match &input.input {
            InputRef::Ref { package, name } => compiler
                .find_ref(package.as_deref(), name, &self.model.package_name)
                .map(Resolved::Node)
                .ok_or_else(|| {
                    format!(
                        "given input `{}` names no node in the project",
                        input.written
                    )
                }),
            InputRef::Source { source, table } => compiler
                .find_source(source, table)
                .map(Resolved::Source)
                .ok_or_else(|| {
                    format!(
                        "given input `{}` names no source in the project",
                        input.written
                    )
                }),
            InputRef::This => Ok(Resolved::This),
        }
    }

    /// The warehouse relation an input stands in for.
    fn input_relation(
        &self,
        input: &UnitInput,
        resolved: &Resolved<'_>,
    ) -> Result<RelationRef, String> {
        match resolved {
            Resolved::Node(node) if node.is_ephemeral() => Err(format!(
                "given input `{}` is an ephemeral model: give its rows with `format: sql`, as dbt requires",
                input.written
            )),
            Resolved::Node(node) => Ok(NodeRunner::relation_ref(node)),
            Resolved::Source(s) => Ok(RelationRef {
                database: s.database.clone(),
                schema: s.schema.clone(),
                identifier: s.identifier.clone(),
            }),
            Resolved::This => Ok(NodeRunner::relation_ref(self.model)),
        }
    }

    /// The input's rows as SQL, typed by the relation it replaces when that
    /// relation exists (as dbt types fixtures), else by the literals alone.
    fn input_sql(&self, input: &UnitInput, resolved: &Resolved<'_>) -> Result<String, String> {
        let rows = match &input.rows {
            FixtureRows::Sql(sql) => return Ok(sql.clone()),
            FixtureRows::Rows(rows) => rows,
        };
        let relation = self.input_relation(input, resolved)?;
        let known: Vec<ColumnInfo> = self
            .conn()?
            .get_columns(&relation)
            .map_err(|e| e.to_string())?;
        let columns: Vec<FixtureColumn> = if known.is_empty() {
            let keys = row_keys(rows);
            if keys.is_empty() {
                return Err(format!(
                    "given input `{}` has no rows and its relation does not exist, so its columns are unknown: build it first or use `format: sql`",
                    input.written
                ));
            }
            keys.into_iter()
                .map(|name| FixtureColumn {
                    name,
                    data_type: None,
                })
                .collect()
        } else {
            if let Some(unknown) = row_keys(rows)
                .into_iter()
                .find(|k| !known.iter().any(|c| c.name.eq_ignore_ascii_case(k)))
            {
                return Err(format!(
                    "given input `{}` has a column `{unknown}` that its relation does not have (columns: {})",
                    input.written,
                    names(&known)
                ));
            }
            known
                .into_iter()
                .map(|c| FixtureColumn {
                    name: c.name,
                    data_type: Some(c.data_type),
                })
                .collect()
        };
        Ok(fixture_sql(rows, &columns, &|n| self.ident(n)))
    }

    fn render_model(&self, fixtures: &Fixtures) -> Result<String, UnitFailure> {
        let resolver = FixtureResolver {
            fixtures,
            compiler: self.runner.compiler(),
            docs: &self.runner.parsed().docs,
            test: &self.node.name,
            model: self.model,
        };
        let overrides = &self.data.overrides;
        let is_incremental = overrides.macros.get("is_incremental").is_some_and(truthy);
        let handle = self.runner.jinja_adapter(self.worker);
        self.runner
            .compiler()
            .render_for_unit_test(
                self.model,
                &resolver,
                Some(&handle),
                is_incremental,
                overrides,
                fixtures.this.clone(),
            )
            .map_err(|d| UnitFailure::from(render_diagnostic(&d)))
    }

    /// The model's output columns and their types, from an empty run of its SQL.
    fn output_columns(&self, model_sql: &str) -> Result<Vec<ColumnInfo>, UnitFailure> {
        let probe =
            format!("select * from (\n{model_sql}\n) as dbt_internal_unit_test_probe where 1 = 0");
        let mut conn = self.conn()?;
        conn.query(&probe, &[])
            .map(|r| r.columns)
            .map_err(|e| UnitFailure {
                message: format!("the model's SQL failed on the fixtures: {e}"),
                sql: Some(probe.clone()),
            })
    }

    /// The columns under test and the expected rows as SQL, cast to the
    /// model's output types so both sides compare alike.
    fn expectation(&self, output: &[ColumnInfo]) -> Result<(Vec<String>, String), UnitFailure> {
        let find = |name: &str| output.iter().find(|c| c.name.eq_ignore_ascii_case(name));
        match &self.data.expect {
            FixtureRows::Sql(sql) => {
                Ok((output.iter().map(|c| c.name.clone()).collect(), sql.clone()))
            }
            FixtureRows::Rows(rows) => {
                let keys = if rows.is_empty() {
                    output.iter().map(|c| c.name.clone()).collect()
                } else {
                    row_keys(rows)
                };
                let mut columns = Vec::with_capacity(keys.len());
                for key in keys {
                    let Some(col) = find(&key) else {
                        return Err(format!(
                            "expected column `{key}` is not in the output of model `{}` (columns: {})",
                            self.model.name,
                            names(output)
                        )
                        .into());
                    };
                    columns.push(FixtureColumn {
                        name: col.name.clone(),
                        data_type: Some(col.data_type.clone()),
                    });
                }
                let sql = fixture_sql(rows, &columns, &|n| self.ident(n));
                Ok((columns.into_iter().map(|c| c.name).collect(), sql))
            }
        }
    }
}

fn names(columns: &[ColumnInfo]) -> String {
    columns
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    }
}

/// A fixture CTE as a relation: rendered as its bare name.
fn cte_relation(name: &str) -> Relation {
    let mut r = Relation::new(None, "", name);
    r.include_policy = Policy {
        database: false,
        schema: false,
        identifier: true,
    };
    r.quote_policy = Policy::NONE;
    r.kind = Some("cte".into());
    r
}

/// What a `given` input names in the project.
enum Resolved<'n> {
    Node(&'n Node),
    Source(&'n crate::node::SourceNode),
    This,
}

#[derive(Default)]
struct Fixtures {
    /// By the unique id of the node each fixture replaces.
    refs: HashMap<String, Relation>,
    sources: HashMap<(String, String), Relation>,
    this: Option<Relation>,
}

/// Resolves the model's refs and sources to its test's fixtures; anything
/// the test does not give is an error, as in dbt.
struct FixtureResolver<'f, 'a> {
    fixtures: &'f Fixtures,
    compiler: &'f crate::compile::Compiler<'a>,
    docs: &'f std::collections::BTreeMap<String, crate::parse::DocBlock>,
    test: &'f str,
    model: &'f Node,
}

impl Resolver for FixtureResolver<'_, '_> {
    fn resolve_ref(
        &self,
        package: Option<&str>,
        name: &str,
        _version: Option<&str>,
    ) -> Result<Relation, String> {
        let node = self
            .compiler
            .find_ref(package, name, &self.model.package_name)
            .ok_or_else(|| format!("ref('{name}') names no node"))?;
        self.fixtures.refs.get(&node.unique_id).cloned().ok_or_else(|| {
            format!(
                "unit test `{}`: model `{}` refs `{name}`, which is not among the test's `given` inputs (add `- input: ref('{name}')`)",
                self.test, self.model.name
            )
        })
    }

    fn resolve_source(&self, source: &str, table: &str) -> Result<Relation, String> {
        self.fixtures
            .sources
            .get(&(source.to_string(), table.to_string()))
            .cloned()
            .ok_or_else(|| {
                format!(
                    "unit test `{}`: model `{}` reads source('{source}', '{table}'), which is not among the test's `given` inputs",
                    self.test, self.model.name
                )
            })
    }

    fn doc(&self, package: Option<&str>, name: &str) -> Option<String> {
        crate::parse::find_doc(self.docs, package, name).map(|d| d.block_contents.clone())
    }
}
