//! Query results as dbt exposes them: agate-like tables and `load_result`.

use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};

use crate::QueryResult;
use crate::relation::{Relation, RelationObject};

/// `run_query(...)` / `load_result(...).table`: rows, columns, column_names.
#[derive(Debug)]
pub(crate) struct Table {
    columns: Vec<String>,
    column_types: Vec<String>,
    rows: Vec<Value>,
    raw_rows: Vec<Vec<Value>>,
}

impl Table {
    pub fn value(result: &QueryResult) -> Value {
        let columns: Arc<Vec<String>> = Arc::new(result.columns.clone());
        let raw_rows: Vec<Vec<Value>> = result
            .rows
            .iter()
            .map(|r| r.iter().map(crate::context::ser).collect())
            .collect();
        let rows = raw_rows
            .iter()
            .map(|values| {
                Value::from_object(Row {
                    columns: columns.clone(),
                    values: values.clone(),
                })
            })
            .collect();
        Value::from_object(Table {
            columns: result.columns.clone(),
            column_types: result.column_types.clone(),
            rows,
            raw_rows,
        })
    }

    fn column(&self, idx: usize) -> Value {
        Value::from_object(Column {
            name: self.columns[idx].clone(),
            data_type: self.column_types.get(idx).cloned().unwrap_or_default(),
            values: self
                .raw_rows
                .iter()
                .map(|r| r.get(idx).cloned().unwrap_or_default())
                .collect(),
        })
    }
}

impl Object for Table {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        if let Some(i) = key.as_i64() {
            let i = if i < 0 { self.rows.len() as i64 + i } else { i };
            return self.rows.get(usize::try_from(i).ok()?).cloned();
        }
        Some(match key.as_str()? {
            "rows" => Value::from(self.rows.clone()),
            "columns" => Value::from(
                (0..self.columns.len())
                    .map(|i| self.column(i))
                    .collect::<Vec<_>>(),
            ),
            "column_names" => Value::from(self.columns.clone()),
            "column_types" => Value::from(self.column_types.clone()),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.rows.clone())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        _args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "print_table" => Ok(Value::from("")),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// One row: indexable by position and by column name.
#[derive(Debug)]
struct Row {
    columns: Arc<Vec<String>>,
    values: Vec<Value>,
}

impl Object for Row {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        if let Some(i) = key.as_i64() {
            let i = if i < 0 {
                self.values.len() as i64 + i
            } else {
                i
            };
            return self.values.get(usize::try_from(i).ok()?).cloned();
        }
        let name = key.as_str()?;
        let idx = self.columns.iter().position(|c| c == name)?;
        self.values.get(idx).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.values.clone())
    }
}

/// A column of a table or of `adapter.get_columns_in_relation`.
#[derive(Debug)]
struct Column {
    name: String,
    data_type: String,
    values: Vec<Value>,
}

pub(crate) fn column_value(name: &str, data_type: &str) -> Value {
    Value::from_object(Column {
        name: name.to_string(),
        data_type: data_type.to_string(),
        values: Vec::new(),
    })
}

impl Object for Column {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "name" | "column" => Value::from(self.name.as_str()),
            "quoted" => Value::from(format!("\"{}\"", self.name.replace('"', "\"\""))),
            "data_type" | "dtype" => Value::from(self.data_type.as_str()),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["name", "data_type"])
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        _args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "values" => Ok(Value::from(self.values.clone())),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// `load_result(name)`: `.table`, `.data`, `.response`.
pub(crate) fn load_result_value(result: &QueryResult) -> Value {
    let response = serde_json::json!({
        "_message": result.message,
        "message": result.message,
        "code": result.message.split_whitespace().next().unwrap_or(""),
        "rows_affected": result.rows_affected,
    });
    Value::from_pairs([
        ("response", crate::context::ser(&response)),
        ("data", crate::context::ser(&result.rows)),
        ("table", Table::value(result)),
    ])
}

pub(crate) fn relation_list(relations: Vec<Relation>) -> Value {
    Value::from(
        relations
            .into_iter()
            .map(RelationObject::value)
            .collect::<Vec<_>>(),
    )
}
