//! Reading seed CSV files: ragged rows and bad encodings become located
//! errors, and column types are inferred the way dbt's agate tables do.

use std::path::Path;

/// Inferred type of a seed column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedType {
    Boolean,
    Integer,
    BigInt,
    Number,
    Date,
    DateTime,
    Text,
}

#[derive(Debug, Clone)]
pub struct SeedTable {
    pub columns: Vec<String>,
    pub types: Vec<SeedType>,
    /// Rows of cells; empty cells are `None` (NULL).
    pub rows: Vec<Vec<Option<String>>>,
}

/// A problem reading a seed, located in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

pub fn read_seed(bytes: &[u8], delimiter: u8) -> Result<SeedTable, SeedError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes);
    let headers = reader
        .byte_headers()
        .map_err(|e| csv_error(&e, bytes))?
        .clone();
    let mut columns = Vec::with_capacity(headers.len());
    for (i, raw) in headers.iter().enumerate() {
        let name = std::str::from_utf8(raw).map_err(|_| SeedError {
            line: 1,
            column: i + 1,
            message: "column name is not valid UTF-8".into(),
        })?;
        columns.push(name.trim().to_string());
    }
    if columns.is_empty() || columns.iter().all(String::is_empty) {
        return Err(SeedError {
            line: 1,
            column: 1,
            message: "the seed has no header row".into(),
        });
    }
    let mut rows = Vec::new();
    for record in reader.byte_records() {
        let record = record.map_err(|e| csv_error(&e, bytes))?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let mut row = Vec::with_capacity(record.len());
        for (i, cell) in record.iter().enumerate() {
            let text = std::str::from_utf8(cell).map_err(|e| SeedError {
                line,
                column: i + 1,
                message: format!(
                    "invalid UTF-8 in column `{}` at byte {} of the cell",
                    columns[i],
                    e.valid_up_to()
                ),
            })?;
            row.push((!text.is_empty()).then(|| text.to_string()));
        }
        rows.push(row);
    }
    let types = (0..columns.len())
        .map(|c| infer_type(rows.iter().filter_map(|r| r[c].as_deref())))
        .collect();
    Ok(SeedTable {
        columns,
        types,
        rows,
    })
}

pub fn read_seed_file(path: &Path, delimiter: u8) -> Result<SeedTable, SeedError> {
    let bytes = std::fs::read(path).map_err(|e| SeedError {
        line: 0,
        column: 0,
        message: format!("cannot read {}: {e}", path.display()),
    })?;
    read_seed(&bytes, delimiter)
}

fn csv_error(err: &csv::Error, bytes: &[u8]) -> SeedError {
    let line = err.position().map_or(0, |p| p.line() as usize);
    let message = match err.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("row has {len} fields but the header has {expected_len}"),
        csv::ErrorKind::Utf8 { err, .. } => {
            format!("invalid UTF-8 in field {}", err.field() + 1)
        }
        other => format!("{other:?}"),
    };
    let column = match err.kind() {
        csv::ErrorKind::UnequalLengths { len, .. } => *len as usize,
        _ => 1,
    };
    let _ = bytes;
    SeedError {
        line,
        column: column.max(1),
        message,
    }
}

/// The narrowest type every non-empty value fits, in agate's order.
pub fn infer_type<'a>(values: impl Iterator<Item = &'a str>) -> SeedType {
    let candidates = [
        SeedType::Boolean,
        SeedType::Integer,
        SeedType::BigInt,
        SeedType::Number,
        SeedType::Date,
        SeedType::DateTime,
    ];
    let mut possible: Vec<SeedType> = candidates.to_vec();
    let mut any = false;
    for v in values {
        any = true;
        possible.retain(|t| fits(*t, v));
        if possible.is_empty() {
            return SeedType::Text;
        }
    }
    if !any {
        return SeedType::Text;
    }
    possible[0]
}

fn fits(t: SeedType, v: &str) -> bool {
    let v = v.trim();
    match t {
        SeedType::Boolean => matches!(v.to_ascii_lowercase().as_str(), "true" | "false"),
        SeedType::Integer => v.parse::<i32>().is_ok() && !has_leading_zero(v),
        SeedType::BigInt => v.parse::<i64>().is_ok() && !has_leading_zero(v),
        SeedType::Number => {
            !has_leading_zero(v.trim_start_matches('-'))
                && v.parse::<f64>().is_ok_and(f64::is_finite)
                && v.chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
        }
        SeedType::Date => chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok(),
        SeedType::DateTime => parse_datetime(v).is_some(),
        SeedType::Text => true,
    }
}

/// "007" is a code, not a number: agate keeps such columns as text too.
fn has_leading_zero(v: &str) -> bool {
    let digits = v.trim_start_matches(['-', '+']);
    digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0.")
}

pub fn parse_datetime(v: &str) -> Option<chrono::NaiveDateTime> {
    const FORMATS: &[&str] = &[
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ];
    FORMATS
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(v, f).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_agate_like_types() {
        let t = read_seed(
            b"id,price,active,day,at,name,code,big\n1,1.5,true,2024-01-02,2024-01-02 10:00:00,a,007,3000000000\n2,,false,2024-02-03,2024-01-02T11:00:00,b,010,1\n",
            b',',
        )
        .unwrap();
        assert_eq!(
            t.types,
            vec![
                SeedType::Integer,
                SeedType::Number,
                SeedType::Boolean,
                SeedType::Date,
                SeedType::DateTime,
                SeedType::Text,
                SeedType::Text,
                SeedType::BigInt
            ]
        );
        assert_eq!(t.rows[1][1], None);
    }

    #[test]
    fn ragged_row_is_located() {
        let err = read_seed(b"a,b\n1,2\n3\n", b',').unwrap_err();
        assert_eq!(err.line, 3);
        assert!(
            err.message.contains("1 fields but the header has 2"),
            "{}",
            err.message
        );
    }

    #[test]
    fn invalid_utf8_is_located() {
        let err = read_seed(b"a,b\n1,2\n3,\xff\xfe\n", b',').unwrap_err();
        assert_eq!((err.line, err.column), (3, 2));
    }

    #[test]
    fn other_delimiters() {
        let t = read_seed(b"a|b\n1|x\n", b'|').unwrap();
        assert_eq!(t.columns, vec!["a", "b"]);
    }

    #[test]
    fn all_empty_column_is_text() {
        let t = read_seed(b"a,b\n1,\n2,\n", b',').unwrap();
        assert_eq!(t.types[1], SeedType::Text);
    }
}
