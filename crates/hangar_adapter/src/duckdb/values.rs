//! Conversions between DuckDB values, JSON values and parsed text cells.

use chrono::{DateTime, NaiveDate, NaiveTime};
use duckdb::core::{LogicalTypeHandle, LogicalTypeId};
use duckdb::types::{TimeUnit, Value as Duck, ValueRef};
use serde_json::{Map, Value};

use crate::ColumnInfo;
use crate::text_values::{ColumnClass, TypedValue, decimal_to_json, float_to_json};

/// A bound parameter from JSON; arrays and objects are passed as JSON text.
pub(super) fn json_param(value: &Value) -> Duck {
    match value {
        Value::Null => Duck::Null,
        Value::Bool(b) => Duck::Boolean(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Duck::BigInt(i),
            (None, Some(u)) => Duck::UBigInt(u),
            _ => Duck::Double(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Duck::Text(s.clone()),
        other => Duck::Text(other.to_string()),
    }
}

/// A parsed bulk-load cell as an appender value; DuckDB casts it to the column type.
pub(super) fn typed_param(value: TypedValue) -> Duck {
    match value {
        TypedValue::Null => Duck::Null,
        TypedValue::Int(i) => i64::try_from(i).map_or(Duck::HugeInt(i), Duck::BigInt),
        TypedValue::Float(f) => Duck::Double(f),
        TypedValue::Decimal(text) | TypedValue::Text(text) => Duck::Text(text),
        TypedValue::Bool(b) => Duck::Boolean(b),
        TypedValue::Date(d) => Duck::Date32(days_since_unix_epoch(d)),
        TypedValue::Timestamp(t) => {
            Duck::Timestamp(TimeUnit::Microsecond, t.and_utc().timestamp_micros())
        }
    }
}

/// The columns cast by DuckDB itself (not parsed here), named in appender errors.
pub(super) fn cast_columns(classes: &[ColumnClass], names: &[&str]) -> String {
    classes
        .iter()
        .zip(names)
        .filter(|(class, _)| matches!(class, ColumnClass::Text | ColumnClass::Decimal))
        .map(|(_, name)| *name)
        .collect::<Vec<_>>()
        .join("', '")
}

fn days_since_unix_epoch(d: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    i32::try_from((d - epoch).num_days()).unwrap_or(i32::MAX)
}

/// Column names and DuckDB type names of an executed statement.
pub(super) fn result_columns(statement: &duckdb::Statement<'_>) -> Vec<ColumnInfo> {
    statement
        .column_names()
        .iter()
        .enumerate()
        .map(|(i, name)| ColumnInfo::new(name, &type_name(&statement.column_logical_type(i))))
        .collect()
}

fn type_name(handle: &LogicalTypeHandle) -> String {
    let id = handle.id();
    let name = match id {
        LogicalTypeId::Boolean => "BOOLEAN",
        LogicalTypeId::Tinyint => "TINYINT",
        LogicalTypeId::Smallint => "SMALLINT",
        LogicalTypeId::Integer => "INTEGER",
        LogicalTypeId::Bigint => "BIGINT",
        LogicalTypeId::Hugeint => "HUGEINT",
        LogicalTypeId::UTinyint => "UTINYINT",
        LogicalTypeId::USmallint => "USMALLINT",
        LogicalTypeId::UInteger => "UINTEGER",
        LogicalTypeId::UBigint => "UBIGINT",
        LogicalTypeId::UHugeint => "UHUGEINT",
        LogicalTypeId::Float => "FLOAT",
        LogicalTypeId::Double => "DOUBLE",
        LogicalTypeId::Varchar => "VARCHAR",
        LogicalTypeId::Blob => "BLOB",
        LogicalTypeId::Date => "DATE",
        LogicalTypeId::Time => "TIME",
        LogicalTypeId::Timestamp => "TIMESTAMP",
        LogicalTypeId::TimestampS => "TIMESTAMP_S",
        LogicalTypeId::TimestampMs => "TIMESTAMP_MS",
        LogicalTypeId::TimestampNs => "TIMESTAMP_NS",
        LogicalTypeId::TimestampTZ => "TIMESTAMP WITH TIME ZONE",
        LogicalTypeId::Interval => "INTERVAL",
        LogicalTypeId::Uuid => "UUID",
        LogicalTypeId::Decimal => {
            return format!(
                "DECIMAL({},{})",
                handle.decimal_width(),
                handle.decimal_scale()
            );
        }
        other => return format!("{other:?}").to_uppercase(),
    };
    name.to_string()
}

/// A result cell as JSON: numbers stay numbers, dates and times become ISO strings.
pub(super) fn to_json(value: ValueRef<'_>) -> Value {
    owned_to_json(value.to_owned())
}

fn owned_to_json(value: Duck) -> Value {
    match value {
        Duck::Null => Value::Null,
        Duck::Boolean(b) => Value::Bool(b),
        Duck::TinyInt(i) => Value::from(i),
        Duck::SmallInt(i) => Value::from(i),
        Duck::Int(i) => Value::from(i),
        Duck::BigInt(i) => Value::from(i),
        Duck::UTinyInt(i) => Value::from(i),
        Duck::USmallInt(i) => Value::from(i),
        Duck::UInt(i) => Value::from(i),
        Duck::UBigInt(i) => Value::from(i),
        Duck::HugeInt(i) => {
            i64::try_from(i).map_or_else(|_| Value::from(i.to_string()), Value::from)
        }
        Duck::UHugeInt(i) => {
            u64::try_from(i).map_or_else(|_| Value::from(i.to_string()), Value::from)
        }
        Duck::Float(f) => float_to_json(f64::from(f)),
        Duck::Double(f) => float_to_json(f),
        Duck::Decimal(d) => decimal_to_json(&d.to_string()),
        Duck::Timestamp(unit, v) => timestamp(unit.to_micros(v)),
        Duck::Text(s) | Duck::Enum(s) => Value::String(s),
        Duck::Blob(b) | Duck::Geometry(b) => Value::String(hex(&b)),
        Duck::Date32(days) => date(days),
        Duck::Time64(unit, v) => time(unit.to_micros(v)),
        Duck::Interval {
            months,
            days,
            nanos,
        } => Value::String(format!(
            "{months} months {days} days {} microseconds",
            nanos / 1000
        )),
        Duck::List(items) | Duck::Array(items) => {
            Value::Array(items.into_iter().map(owned_to_json).collect())
        }
        Duck::Struct(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), owned_to_json(v.clone())))
                .collect::<Map<_, _>>(),
        ),
        Duck::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (map_key(owned_to_json(k.clone())), owned_to_json(v.clone())))
                .collect::<Map<_, _>>(),
        ),
        Duck::Union(inner) => owned_to_json(*inner),
        other => Value::String(format!("{other:?}")),
    }
}

fn map_key(key: Value) -> String {
    match key {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

fn hex(bytes: &[u8]) -> String {
    let digits: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("\\x{digits}")
}

fn date(days: i32) -> Value {
    NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days(i64::from(days))))
        .map_or(Value::Null, |d| {
            Value::String(d.format("%Y-%m-%d").to_string())
        })
}

fn timestamp(micros: i64) -> Value {
    DateTime::from_timestamp_micros(micros).map_or(Value::Null, |t| {
        Value::String(t.naive_utc().format("%Y-%m-%dT%H:%M:%S%.f").to_string())
    })
}

fn time(micros: i64) -> Value {
    let t = NaiveTime::MIN + chrono::Duration::microseconds(micros);
    Value::String(t.format("%H:%M:%S%.f").to_string())
}
