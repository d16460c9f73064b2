//! Converting the text cells of a bulk load (seeds) into typed values, by column type.

use chrono::{NaiveDate, NaiveDateTime};

/// How a column's values are parsed from text; derived from the warehouse type name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnClass {
    Integer,
    Float,
    Decimal,
    Boolean,
    Date,
    Timestamp,
    /// Strings, and any type the warehouse casts from text itself (uuid, json, timestamptz…).
    Text,
}

/// One parsed cell.
#[cfg_attr(not(feature = "duckdb"), allow(dead_code))]
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TypedValue {
    Null,
    Int(i128),
    Float(f64),
    /// A validated decimal literal, kept as text so no precision is lost.
    Decimal(String),
    Bool(bool),
    Date(NaiveDate),
    Timestamp(NaiveDateTime),
    Text(String),
}

#[cfg_attr(not(feature = "duckdb"), allow(dead_code))]
impl ColumnClass {
    /// Classifies a type name such as `INTEGER`, `DECIMAL(10,2)`, `character varying(20)`.
    pub fn of(data_type: &str) -> Self {
        let upper = data_type.trim().to_ascii_uppercase();
        let base = upper.split('(').next().unwrap_or("").trim();
        match base {
            "TINYINT" | "SMALLINT" | "INTEGER" | "INT" | "BIGINT" | "HUGEINT" | "UTINYINT"
            | "USMALLINT" | "UINTEGER" | "UBIGINT" | "UHUGEINT" | "INT1" | "INT2" | "INT4"
            | "INT8" | "SHORT" | "LONG" | "SIGNED" => ColumnClass::Integer,
            "REAL" | "FLOAT" | "FLOAT4" | "FLOAT8" | "DOUBLE" | "DOUBLE PRECISION" => {
                ColumnClass::Float
            }
            "DECIMAL" | "NUMERIC" | "NUMBER" => ColumnClass::Decimal,
            "BOOLEAN" | "BOOL" | "LOGICAL" => ColumnClass::Boolean,
            "DATE" => ColumnClass::Date,
            "TIMESTAMP"
            | "DATETIME"
            | "TIMESTAMP WITHOUT TIME ZONE"
            | "TIMESTAMP_NS"
            | "TIMESTAMP_MS"
            | "TIMESTAMP_S" => ColumnClass::Timestamp,
            _ => ColumnClass::Text,
        }
    }

    /// What a bad value was expected to be, for error messages.
    fn expected(self) -> &'static str {
        match self {
            ColumnClass::Integer => "an integer",
            ColumnClass::Float => "a number",
            ColumnClass::Decimal => "a decimal number",
            ColumnClass::Boolean => "a boolean (true/false)",
            ColumnClass::Date => "a date (YYYY-MM-DD)",
            ColumnClass::Timestamp => "a timestamp (YYYY-MM-DD HH:MM:SS)",
            ColumnClass::Text => "text",
        }
    }

    /// Parses one cell. `None` is NULL; an empty cell is NULL for every class but text,
    /// as dbt reads empty seed cells.
    pub(crate) fn parse(self, cell: Option<&str>) -> Result<TypedValue, String> {
        let Some(raw) = cell else {
            return Ok(TypedValue::Null);
        };
        if self == ColumnClass::Text {
            return Ok(TypedValue::Text(raw.to_string()));
        }
        let text = raw.trim();
        if text.is_empty() {
            return Ok(TypedValue::Null);
        }
        let parsed = match self {
            ColumnClass::Integer => text.parse::<i128>().ok().map(TypedValue::Int),
            ColumnClass::Float => text.parse::<f64>().ok().map(TypedValue::Float),
            ColumnClass::Decimal => {
                is_decimal_literal(text).then(|| TypedValue::Decimal(text.to_string()))
            }
            ColumnClass::Boolean => parse_bool(text).map(TypedValue::Bool),
            ColumnClass::Date => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .map(TypedValue::Date),
            ColumnClass::Timestamp => parse_timestamp(text).map(TypedValue::Timestamp),
            ColumnClass::Text => Some(TypedValue::Text(raw.to_string())),
        };
        parsed.ok_or_else(|| format!("'{raw}' is not {}", self.expected()))
    }
}

#[cfg_attr(not(feature = "duckdb"), allow(dead_code))]
fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "1" => Some(true),
        "false" | "f" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

#[cfg_attr(not(feature = "duckdb"), allow(dead_code))]
fn parse_timestamp(text: &str) -> Option<NaiveDateTime> {
    const FORMATS: [&str; 4] = [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ];
    FORMATS
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
}

/// `[+-]digits[.digits][e[+-]digits]`, with at least one digit in the mantissa.
#[cfg_attr(not(feature = "duckdb"), allow(dead_code))]
fn is_decimal_literal(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_ok = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok =
        (!whole.is_empty() || !fraction.is_empty()) && digits_ok(whole) && digits_ok(fraction);
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits_ok(e)
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_type_names() {
        assert_eq!(ColumnClass::of("INTEGER"), ColumnClass::Integer);
        assert_eq!(ColumnClass::of("bigint"), ColumnClass::Integer);
        assert_eq!(ColumnClass::of("DECIMAL(10,2)"), ColumnClass::Decimal);
        assert_eq!(ColumnClass::of("numeric"), ColumnClass::Decimal);
        assert_eq!(ColumnClass::of("double precision"), ColumnClass::Float);
        assert_eq!(
            ColumnClass::of("timestamp without time zone"),
            ColumnClass::Timestamp
        );
        assert_eq!(
            ColumnClass::of("TIMESTAMP WITH TIME ZONE"),
            ColumnClass::Text
        );
        assert_eq!(ColumnClass::of("character varying(20)"), ColumnClass::Text);
        assert_eq!(ColumnClass::of("boolean"), ColumnClass::Boolean);
        assert_eq!(ColumnClass::of("date"), ColumnClass::Date);
    }

    #[test]
    fn parses_cells_by_class() {
        let date = NaiveDate::from_ymd_opt(2024, 2, 29);
        assert_eq!(
            ColumnClass::Integer.parse(Some(" 42 ")),
            Ok(TypedValue::Int(42))
        );
        assert_eq!(
            ColumnClass::Float.parse(Some("1.5")),
            Ok(TypedValue::Float(1.5))
        );
        assert_eq!(
            ColumnClass::Decimal.parse(Some("-12.30")),
            Ok(TypedValue::Decimal("-12.30".into()))
        );
        assert_eq!(
            ColumnClass::Boolean.parse(Some("TRUE")),
            Ok(TypedValue::Bool(true))
        );
        assert_eq!(
            ColumnClass::Date.parse(Some("2024-02-29")),
            Ok(TypedValue::Date(date.unwrap_or_default()))
        );
        assert_eq!(
            ColumnClass::Timestamp.parse(Some("2024-02-29 13:01:02.5")),
            Ok(TypedValue::Timestamp(
                date.and_then(|d| d.and_hms_milli_opt(13, 1, 2, 500))
                    .unwrap_or_default()
            ))
        );
        assert_eq!(
            ColumnClass::Timestamp.parse(Some("2024-02-29")),
            Ok(TypedValue::Timestamp(
                date.and_then(|d| d.and_hms_opt(0, 0, 0))
                    .unwrap_or_default()
            ))
        );
    }

    #[test]
    fn empty_cells_are_null_except_for_text() {
        assert_eq!(ColumnClass::Integer.parse(Some("")), Ok(TypedValue::Null));
        assert_eq!(
            ColumnClass::Text.parse(Some("")),
            Ok(TypedValue::Text(String::new()))
        );
        assert_eq!(ColumnClass::Text.parse(None), Ok(TypedValue::Null));
    }

    #[test]
    fn bad_values_say_what_was_expected() {
        assert_eq!(
            ColumnClass::Integer.parse(Some("abc")),
            Err("'abc' is not an integer".to_string())
        );
        assert_eq!(
            ColumnClass::Date.parse(Some("2024-13-01")),
            Err("'2024-13-01' is not a date (YYYY-MM-DD)".to_string())
        );
        assert!(ColumnClass::Decimal.parse(Some("1.2.3")).is_err());
        assert!(ColumnClass::Decimal.parse(Some(".")).is_err());
        assert!(ColumnClass::Decimal.parse(Some("1e")).is_err());
        assert!(ColumnClass::Decimal.parse(Some("1.5e-3")).is_ok());
    }
}

/// A decimal's text as JSON: a number when `f64` keeps its value exactly, else the text.
pub(crate) fn decimal_to_json(text: &str) -> serde_json::Value {
    let normalized = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    };
    if let Ok(int) = normalized.parse::<i64>() {
        return serde_json::Value::from(int);
    }
    match normalized.parse::<f64>() {
        Ok(f) if f.is_finite() && f.to_string() == normalized => serde_json::Value::from(f),
        _ => serde_json::Value::String(text.to_string()),
    }
}

/// A float as JSON; NaN and infinities, which JSON lacks, become strings.
pub(crate) fn float_to_json(f: f64) -> serde_json::Value {
    serde_json::Number::from_f64(f)
        .map(serde_json::Value::Number)
        .unwrap_or_else(|| serde_json::Value::String(f.to_string()))
}

#[cfg(test)]
mod json_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decimals_become_numbers_when_exact() {
        assert_eq!(decimal_to_json("12.30"), json!(12.3));
        assert_eq!(decimal_to_json("3.00"), json!(3));
        assert_eq!(decimal_to_json("-0.5"), json!(-0.5));
        assert_eq!(
            decimal_to_json("12345678901234567890.123"),
            json!("12345678901234567890.123")
        );
        assert_eq!(float_to_json(f64::NAN), json!("NaN"));
    }
}
