//! Pure SQL for unit tests: fixture rows as literal selects, and the
//! comparison of expected with actual rows.

use serde_json::{Map, Value};

/// One column of a fixture; `data_type` is known when the relation it
/// stands in for exists (or, for expectations, from the model's output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureColumn {
    pub name: String,
    pub data_type: Option<String>,
}

/// A value as a SQL literal. Fixture values come from the project's own
/// YAML, and a CTE cannot take bind parameters on every warehouse, so they
/// are written as escaped literals.
pub fn sql_literal(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => hangar_adapter::sql_string_literal(s),
        other => hangar_adapter::sql_string_literal(&other.to_string()),
    }
}

/// A value for a column of known type is cast to it; otherwise text is
/// read the way seeds are (numbers, booleans, dates and timestamps), so CSV
/// fixtures work before the relation they replace exists.
fn literal_for(value: &Value, data_type: Option<&str>) -> String {
    match (data_type, value) {
        (Some(t), v) => format!("cast({} as {t})", sql_literal(v)),
        (None, Value::String(text)) => inferred_literal(text),
        (None, v) => sql_literal(v),
    }
}

fn inferred_literal(text: &str) -> String {
    use chrono::{NaiveDate, NaiveDateTime};
    let t = text.trim();
    let leading_zero = t.len() > 1 && t.starts_with('0') && !t.starts_with("0.");
    let plain_number = !t.is_empty()
        && !leading_zero
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-'))
        && t.parse::<f64>().is_ok_and(f64::is_finite);
    if plain_number {
        return t.to_string();
    }
    if t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("false") {
        return t.to_ascii_lowercase();
    }
    if NaiveDate::parse_from_str(t, "%Y-%m-%d").is_ok() {
        return format!("cast({} as date)", hangar_adapter::sql_string_literal(t));
    }
    let timestamp = [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .any(|f| NaiveDateTime::parse_from_str(t, f).is_ok());
    if timestamp {
        return format!(
            "cast({} as timestamp)",
            hangar_adapter::sql_string_literal(t)
        );
    }
    hangar_adapter::sql_string_literal(text)
}

/// `select … as c1, … union all select …`, one select per row; a column a
/// row leaves out is NULL. No rows gives an empty, still typed, relation.
pub fn fixture_sql(
    rows: &[Map<String, Value>],
    columns: &[FixtureColumn],
    ident: &dyn Fn(&str) -> String,
) -> String {
    let select = |row: Option<&Map<String, Value>>| {
        let items: Vec<String> = columns
            .iter()
            .map(|c| {
                let value = row.and_then(|r| lookup(r, &c.name)).unwrap_or(&Value::Null);
                format!(
                    "{} as {}",
                    literal_for(value, c.data_type.as_deref()),
                    ident(&c.name)
                )
            })
            .collect();
        format!("select {}", items.join(", "))
    };
    if rows.is_empty() {
        return format!("{} where 1 = 0", select(None));
    }
    rows.iter()
        .map(|r| select(Some(r)))
        .collect::<Vec<_>>()
        .join("\nunion all\n")
}

/// Row keys match column names regardless of case, as dbt's do.
fn lookup<'a>(row: &'a Map<String, Value>, column: &str) -> Option<&'a Value> {
    row.get(column).or_else(|| {
        row.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(column))
            .map(|(_, v)| v)
    })
}

/// Every key of the rows, in order of first appearance.
pub fn row_keys(rows: &[Map<String, Value>]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for row in rows {
        for k in row.keys() {
            if !keys.iter().any(|seen| seen.eq_ignore_ascii_case(k)) {
                keys.push(k.clone());
            }
        }
    }
    keys
}

/// The outcome of comparing expected with actual rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowDiff {
    /// Rows in only one of the two sides (each counted once).
    pub differing: usize,
    /// Expected and actual side by side; empty when they match.
    pub table: String,
}

/// Compares the two row sets as multisets (order does not matter, as in
/// dbt) and, when they differ, lays them out side by side: matching rows
/// first, then the rows found on one side only, marked `≠`.
pub fn diff_rows(columns: &[String], expected: &[Vec<Value>], actual: &[Vec<Value>]) -> RowDiff {
    let render_row = |r: &Vec<Value>| r.iter().map(cell).collect::<Vec<_>>();
    let mut exp: Vec<Vec<String>> = expected.iter().map(render_row).collect();
    let mut act: Vec<Vec<String>> = actual.iter().map(render_row).collect();
    exp.sort();
    act.sort();
    let (mut matched, mut only_exp, mut only_act) = (Vec::new(), Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < exp.len() || j < act.len() {
        match (exp.get(i), act.get(j)) {
            (Some(e), Some(a)) if e == a => {
                matched.push(e.clone());
                i += 1;
                j += 1;
            }
            (Some(e), Some(a)) if e < a => {
                only_exp.push(e.clone());
                i += 1;
            }
            (Some(_), Some(a)) | (None, Some(a)) => {
                only_act.push(a.clone());
                j += 1;
            }
            (Some(e), None) => {
                only_exp.push(e.clone());
                i += 1;
            }
            (None, None) => break,
        }
    }
    let differing = only_exp.len() + only_act.len();
    if differing == 0 {
        return RowDiff {
            differing,
            table: String::new(),
        };
    }
    let header: Vec<String> = columns.to_vec();
    let mut lines: Vec<Line> = Vec::new();
    for m in matched {
        lines.push((" ".into(), Some(m.clone()), Some(m)));
    }
    let pairs = only_exp.len().max(only_act.len());
    for k in 0..pairs {
        lines.push((
            "≠".into(),
            only_exp.get(k).cloned(),
            only_act.get(k).cloned(),
        ));
    }
    RowDiff {
        differing,
        table: side_by_side(&header, &lines),
    }
}

type Line = (String, Option<Vec<String>>, Option<Vec<String>>);

fn side_by_side(header: &[String], lines: &[Line]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            lines
                .iter()
                .flat_map(|(_, e, a)| [e, a])
                .filter_map(|r| r.as_ref().and_then(|r| r.get(c)))
                .map(|s| s.chars().count())
                .chain([header[c].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let total: usize = widths.iter().sum::<usize>() + 3 * widths.len().saturating_sub(1);
    let fmt = |row: Option<&Vec<String>>| -> String {
        let Some(row) = row else {
            return " ".repeat(total);
        };
        (0..header.len())
            .map(|c| {
                let text = row.get(c).map_or("", String::as_str);
                format!("{text:<w$}", w = widths[c])
            })
            .collect::<Vec<_>>()
            .join(" | ")
    };
    let half = total;
    let mut out = format!("  {:<half$} ‖ {}\n", "expected", "actual");
    out.push_str(&format!(
        "  {} ‖ {}\n",
        fmt(Some(&header.to_vec())),
        fmt(Some(&header.to_vec()))
    ));
    out.push_str(&format!("  {} ‖ {}\n", "-".repeat(half), "-".repeat(half)));
    for (mark, e, a) in lines {
        out.push_str(&format!(
            "{mark} {} ‖ {}\n",
            fmt(e.as_ref()),
            fmt(a.as_ref())
        ));
    }
    out
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows(v: Value) -> Vec<Map<String, Value>> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_object().unwrap().clone())
            .collect()
    }

    fn col(name: &str, t: Option<&str>) -> FixtureColumn {
        FixtureColumn {
            name: name.into(),
            data_type: t.map(str::to_string),
        }
    }

    fn quote(s: &str) -> String {
        format!("\"{s}\"")
    }

    #[test]
    fn typed_rows_fill_missing_columns_with_null() {
        let sql = fixture_sql(
            &rows(json!([{"id": 1, "name": "o'neil"}, {"ID": 2}])),
            &[col("id", Some("INTEGER")), col("name", Some("VARCHAR"))],
            &quote,
        );
        insta::assert_snapshot!(sql, @r#"
        select cast(1 as INTEGER) as "id", cast('o''neil' as VARCHAR) as "name"
        union all
        select cast(2 as INTEGER) as "id", cast(null as VARCHAR) as "name"
        "#);
    }

    #[test]
    fn no_rows_is_an_empty_typed_relation() {
        let sql = fixture_sql(&[], &[col("id", Some("bigint"))], &quote);
        assert_eq!(sql, "select cast(null as bigint) as \"id\" where 1 = 0");
    }

    #[test]
    fn untyped_values_stay_literals() {
        let sql = fixture_sql(
            &rows(json!([{"ok": true, "n": 1.5, "tags": ["a"]}])),
            &[col("ok", None), col("n", None), col("tags", None)],
            &quote,
        );
        assert_eq!(
            sql,
            "select true as \"ok\", 1.5 as \"n\", '[\"a\"]' as \"tags\""
        );
    }

    #[test]
    fn untyped_text_is_read_like_a_seed() {
        let sql = fixture_sql(
            &rows(
                json!([{"n": "42", "x": "1.5", "b": "TRUE", "d": "2024-03-01", "ts": "2024-03-01 10:00:00", "zip": "007", "s": "north"}]),
            ),
            &["n", "x", "b", "d", "ts", "zip", "s"].map(|c| col(c, None)),
            &quote,
        );
        assert_eq!(
            sql,
            "select 42 as \"n\", 1.5 as \"x\", true as \"b\", cast('2024-03-01' as date) as \"d\", cast('2024-03-01 10:00:00' as timestamp) as \"ts\", '007' as \"zip\", 'north' as \"s\""
        );
    }

    #[test]
    fn keys_in_first_appearance_order() {
        let keys = row_keys(&rows(json!([{"b": 1}, {"a": 2, "B": 3}])));
        assert_eq!(keys, ["b", "a"]);
    }

    #[test]
    fn equal_multisets_match_in_any_order() {
        let cols = vec!["id".to_string()];
        let d = diff_rows(
            &cols,
            &[vec![json!(1)], vec![json!(2)]],
            &[vec![json!(2)], vec![json!(1)]],
        );
        assert_eq!(d.differing, 0);
        assert!(d.table.is_empty());
    }

    #[test]
    fn differences_are_shown_side_by_side() {
        let cols = vec!["id".to_string(), "name".to_string()];
        let expected = [
            vec![json!(1), json!("gerda")],
            vec![json!(2), json!("michelle")],
        ];
        let actual = [
            vec![json!(1), json!("gerda")],
            vec![json!(2), json!("michel")],
            vec![json!(3), Value::Null],
        ];
        let d = diff_rows(&cols, &expected, &actual);
        assert_eq!(d.differing, 3);
        insta::assert_snapshot!(d.table, @r"
          expected      ‖ actual
          id | name     ‖ id | name    
          ------------- ‖ -------------
          1  | gerda    ‖ 1  | gerda   
        ≠ 2  | michelle ‖ 2  | michel  
        ≠               ‖ 3  | null    
        ");
    }
}
