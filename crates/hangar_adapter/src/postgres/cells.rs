//! Decoding Postgres binary result cells into JSON values.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use postgres::Row;
use postgres::types::{FromSql, Kind, Type};
use serde_json::Value;

use crate::AdapterError;
use crate::text_values::{decimal_to_json, float_to_json};

type DecodeError = Box<dyn std::error::Error + Sync + Send>;

/// All cells of one row.
pub(super) fn row_values(row: &Row) -> Result<Vec<Value>, AdapterError> {
    (0..row.len())
        .map(|i| {
            row.try_get::<_, Cell>(i).map(|c| c.0).map_err(|e| {
                let column = row.columns().get(i);
                AdapterError::database(format!(
                    "cannot read column '{}' of type {}: {e}; cast it to text in the query",
                    column.map_or("?", |c| c.name()),
                    column.map_or("?", |c| c.type_().name()),
                ))
            })
        })
        .collect()
}

/// One decoded cell; accepts every type and fails only on types it cannot read.
struct Cell(Value);

impl<'a> FromSql<'a> for Cell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, DecodeError> {
        decode(ty, raw).map(Cell)
    }

    fn from_sql_null(_ty: &Type) -> Result<Self, DecodeError> {
        Ok(Cell(Value::Null))
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }
}

fn decode(ty: &Type, raw: &[u8]) -> Result<Value, DecodeError> {
    if let Kind::Domain(base) = ty.kind() {
        return decode(base, raw);
    }
    if let Kind::Enum(_) = ty.kind() {
        return text(raw);
    }
    match *ty {
        Type::BOOL => Ok(Value::Bool(raw.first().is_some_and(|b| *b != 0))),
        Type::INT2 => Ok(Value::from(i16::from_be_bytes(fixed(raw)?))),
        Type::INT4 => Ok(Value::from(i32::from_be_bytes(fixed(raw)?))),
        Type::INT8 => Ok(Value::from(i64::from_be_bytes(fixed(raw)?))),
        Type::OID => Ok(Value::from(u32::from_be_bytes(fixed(raw)?))),
        Type::FLOAT4 => Ok(float_to_json(f64::from(f32::from_be_bytes(fixed(raw)?)))),
        Type::FLOAT8 => Ok(float_to_json(f64::from_be_bytes(fixed(raw)?))),
        Type::NUMERIC => numeric(raw).map(|s| decimal_to_json(&s)),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::CHAR => {
            text(raw)
        }
        Type::DATE => Ok(date(i32::from_be_bytes(fixed(raw)?))),
        Type::TIMESTAMP => Ok(timestamp(i64::from_be_bytes(fixed(raw)?), "")),
        Type::TIMESTAMPTZ => Ok(timestamp(i64::from_be_bytes(fixed(raw)?), "+00:00")),
        Type::TIME => Ok(time(i64::from_be_bytes(fixed(raw)?))),
        Type::JSON => Ok(serde_json::from_slice(raw)?),
        // jsonb starts with a version byte.
        Type::JSONB => Ok(serde_json::from_slice(raw.get(1..).unwrap_or_default())?),
        Type::UUID => Ok(Value::String(uuid(raw))),
        _ => Err(format!("type {} is not supported by hangar yet", ty.name()).into()),
    }
}

fn fixed<const N: usize>(raw: &[u8]) -> Result<[u8; N], DecodeError> {
    raw.try_into()
        .map_err(|_| format!("expected {N} bytes, got {}", raw.len()).into())
}

fn text(raw: &[u8]) -> Result<Value, DecodeError> {
    Ok(Value::String(std::str::from_utf8(raw)?.to_string()))
}

fn epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

/// Days since 2000-01-01, with Postgres' infinities.
fn date(days: i32) -> Value {
    match days {
        i32::MAX => Value::from("infinity"),
        i32::MIN => Value::from("-infinity"),
        _ => epoch()
            .date()
            .checked_add_signed(Duration::days(i64::from(days)))
            .map_or(Value::Null, |d| {
                Value::String(d.format("%Y-%m-%d").to_string())
            }),
    }
}

/// Microseconds since 2000-01-01 00:00:00, as ISO 8601.
fn timestamp(micros: i64, suffix: &str) -> Value {
    match micros {
        i64::MAX => Value::from("infinity"),
        i64::MIN => Value::from("-infinity"),
        _ => epoch()
            .checked_add_signed(Duration::microseconds(micros))
            .map_or(Value::Null, |t| {
                Value::String(format!("{}{suffix}", t.format("%Y-%m-%dT%H:%M:%S%.f")))
            }),
    }
}

fn time(micros: i64) -> Value {
    let t = NaiveTime::MIN + Duration::microseconds(micros);
    Value::String(t.format("%H:%M:%S%.f").to_string())
}

fn uuid(raw: &[u8]) -> String {
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    if hex.len() != 32 {
        return hex;
    }
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The binary NUMERIC format: ndigits, weight, sign, dscale, then base-10000 digits.
fn numeric(raw: &[u8]) -> Result<String, DecodeError> {
    let word = |i: usize| -> Result<i16, DecodeError> {
        Ok(i16::from_be_bytes(fixed(
            raw.get(i * 2..i * 2 + 2).unwrap_or_default(),
        )?))
    };
    let ndigits = usize::try_from(word(0)?).map_err(|_| "negative digit count")?;
    let weight = i64::from(word(1)?);
    let sign = word(2)? as u16;
    let dscale = usize::try_from(word(3)?).map_err(|_| "negative scale")?;
    let digits = (0..ndigits)
        .map(|i| word(4 + i))
        .collect::<Result<Vec<_>, _>>()?;
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    let digit_at = |index: i64| -> i16 {
        usize::try_from(index)
            .ok()
            .and_then(|i| digits.get(i).copied())
            .unwrap_or(0)
    };
    let mut whole = String::new();
    for index in 0..=weight {
        if whole.is_empty() {
            whole = digit_at(index).to_string();
        } else {
            whole.push_str(&format!("{:04}", digit_at(index)));
        }
    }
    if whole.is_empty() {
        whole.push('0');
    }
    let mut fraction = String::new();
    let mut index = weight + 1;
    while fraction.len() < dscale {
        fraction.push_str(&format!("{:04}", digit_at(index)));
        index += 1;
    }
    fraction.truncate(dscale);
    let sign = if sign == 0x4000 { "-" } else { "" };
    Ok(if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_bytes(weight: i16, sign: u16, dscale: i16, digits: &[i16]) -> Vec<u8> {
        let mut out = Vec::new();
        for w in [digits.len() as i16, weight, sign as i16, dscale] {
            out.extend_from_slice(&w.to_be_bytes());
        }
        for d in digits {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out
    }

    #[test]
    fn decodes_binary_numerics() {
        // 12345.678 = [1, 2345, 6780], weight 1
        let raw = numeric_bytes(1, 0, 3, &[1, 2345, 6780]);
        assert_eq!(numeric(&raw).ok().as_deref(), Some("12345.678"));
        // -0.05 = [500] at weight -1, scale 2
        let raw = numeric_bytes(-1, 0x4000, 2, &[500]);
        assert_eq!(numeric(&raw).ok().as_deref(), Some("-0.05"));
        // 10000 = [1] at weight 1
        let raw = numeric_bytes(1, 0, 0, &[1]);
        assert_eq!(numeric(&raw).ok().as_deref(), Some("10000"));
        // 0.00001234 = [0, 1234] at weight -2 (digits start at weight), scale 8
        let raw = numeric_bytes(-2, 0, 8, &[1234]);
        assert_eq!(numeric(&raw).ok().as_deref(), Some("0.00001234"));
    }

    #[test]
    fn decodes_dates_and_timestamps_from_2000_epoch() {
        assert_eq!(date(0), Value::from("2000-01-01"));
        assert_eq!(date(-1), Value::from("1999-12-31"));
        assert_eq!(
            timestamp(86_400_000_000 + 1_500_000, ""),
            Value::from("2000-01-02T00:00:01.500")
        );
        assert_eq!(timestamp(i64::MAX, ""), Value::from("infinity"));
    }
}
