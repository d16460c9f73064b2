//! Snowflake result cells and column types as hangar's JSON values and type
//! names, spelled as the other adapters spell them (ISO dates and timestamps,
//! decimals as numbers when exact).

use serde_json::Value;
use snowflake_connector_rs::{CellValue, ColumnType, Schema};

use crate::text_values::{decimal_to_json, float_to_json};
use crate::{ColumnInfo, QueryResult};

pub(super) fn columns(schema: &Schema) -> Vec<ColumnInfo> {
    schema
        .columns()
        .iter()
        .map(|c| ColumnInfo::new(c.name(), &type_name(c.ty())))
        .collect()
}

/// Snowflake's own spelling of a result column's type.
pub(super) fn type_name(ty: &ColumnType) -> String {
    match ty {
        ColumnType::Fixed { .. } => match (ty.precision(), ty.scale()) {
            (Some(p), Some(s)) => format!("NUMBER({p},{s})"),
            (Some(p), None) => format!("NUMBER({p},0)"),
            _ => "NUMBER".to_string(),
        },
        ColumnType::Real => "FLOAT".to_string(),
        ColumnType::Text { .. } => match ty.length() {
            Some(n) => format!("VARCHAR({n})"),
            None => "VARCHAR".to_string(),
        },
        other => other.as_str().to_ascii_uppercase(),
    }
}

pub(super) fn to_json(cell: CellValue) -> Value {
    match cell {
        CellValue::Null => Value::Null,
        CellValue::Boolean(b) => Value::Bool(b),
        CellValue::Integer(i) => i64::try_from(i)
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(i.to_string())),
        CellValue::Float(f) => float_to_json(f),
        CellValue::Decimal(d) => decimal_to_json(d.raw()),
        CellValue::String(s) => Value::String(s),
        CellValue::Date(d) => Value::String(d.format("%Y-%m-%d").to_string()),
        CellValue::Time(t) => Value::String(t.format("%H:%M:%S%.f").to_string()),
        CellValue::TimestampNtz(t) => Value::String(t.format("%Y-%m-%dT%H:%M:%S%.f").to_string()),
        CellValue::TimestampLtz(t) => {
            Value::String(t.format("%Y-%m-%dT%H:%M:%S%.f%:z").to_string())
        }
        CellValue::TimestampTz(t) => Value::String(t.format("%Y-%m-%dT%H:%M:%S%.f%:z").to_string()),
        CellValue::Json(v) => v,
        CellValue::Binary(b) => {
            Value::String(b.as_bytes().iter().map(|x| format!("{x:02x}")).collect())
        }
        other => other.into_json_value(),
    }
}

/// The rows a DML statement changed: Snowflake answers inserts, updates,
/// deletes and merges with one row of `number of rows …` columns.
pub(super) fn rows_affected(result: &QueryResult) -> Option<u64> {
    let counted = |c: &ColumnInfo| c.name.to_ascii_lowercase().starts_with("number of rows ");
    if result.columns.is_empty() || !result.columns.iter().all(counted) {
        return None;
    }
    let row = result.rows.first()?;
    Some(
        row.iter()
            .map(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                    .unwrap_or(0)
            })
            .sum(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use serde_json::json;

    #[test]
    fn cells_are_spelled_like_the_other_adapters() {
        let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap_or_default();
        let noon = day.and_hms_milli_opt(12, 0, 1, 500).unwrap_or_default();
        assert_eq!(to_json(CellValue::Date(day)), json!("2024-02-29"));
        assert_eq!(
            to_json(CellValue::TimestampNtz(noon)),
            json!("2024-02-29T12:00:01.500")
        );
        assert_eq!(to_json(CellValue::Integer(7)), json!(7));
        assert_eq!(
            to_json(CellValue::Integer(i128::from(i64::MAX) + 1)),
            json!("9223372036854775808")
        );
        assert_eq!(to_json(CellValue::Float(f64::INFINITY)), json!("inf"));
        assert_eq!(to_json(CellValue::Null), Value::Null);
    }

    #[test]
    fn dml_results_give_the_rows_affected() {
        let merge = QueryResult {
            columns: vec![
                ColumnInfo::new("number of rows inserted", "NUMBER(38,0)"),
                ColumnInfo::new("number of rows updated", "NUMBER(38,0)"),
            ],
            rows: vec![vec![json!(2), json!(4)]],
            rows_affected: None,
        };
        assert_eq!(rows_affected(&merge), Some(6));
        let select = QueryResult {
            columns: vec![ColumnInfo::new("N", "NUMBER(38,0)")],
            rows: vec![vec![json!(2)]],
            rows_affected: None,
        };
        assert_eq!(rows_affected(&select), None);
    }
}
