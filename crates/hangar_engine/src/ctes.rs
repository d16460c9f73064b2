//! Injection of ephemeral models as CTEs, as dbt does at compile time.

/// Prepend `ctes` (name, compiled SQL) to `sql`. When `sql` already starts
/// with a `with` clause, the ephemeral CTEs are merged into it so the result
/// stays one statement.
pub fn inject_ctes(sql: &str, ctes: &[(String, String)]) -> String {
    if ctes.is_empty() {
        return sql.to_string();
    }
    let cte_list = ctes
        .iter()
        .map(|(name, body)| format!("{name} as (\n{}\n)", body.trim_end()))
        .collect::<Vec<_>>()
        .join(", ");
    match leading_with_keyword(sql) {
        Some((start, end)) => {
            let (head, rest) = (&sql[..start], &sql[end..]);
            let recursive = rest.trim_start();
            if let Some(after) = strip_keyword(recursive, "recursive") {
                format!("{head}with recursive {cte_list}, {after}")
            } else {
                format!("{head}with {cte_list},{rest}")
            }
        }
        None => format!("with {cte_list}\n{sql}"),
    }
}

/// Byte range of a leading `with` keyword, skipping whitespace and comments.
fn leading_with_keyword(sql: &str) -> Option<(usize, usize)> {
    let start = skip_trivia(sql);
    let rest = &sql[start..];
    strip_keyword(rest, "with").map(|_| (start, start + 4))
}

fn strip_keyword<'a>(text: &'a str, keyword: &str) -> Option<&'a str> {
    let head = text.get(..keyword.len())?;
    let after = &text[keyword.len()..];
    let boundary = after
        .chars()
        .next()
        .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
    (head.eq_ignore_ascii_case(keyword) && boundary).then_some(after.trim_start())
}

/// Offset of the first byte that is not whitespace or a SQL comment.
fn skip_trivia(sql: &str) -> usize {
    let bytes = sql.as_bytes();
    let mut i = 0;
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if sql[i..].starts_with("--") {
            i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
        } else if sql[i..].starts_with("/*") {
            i = sql[i + 2..]
                .find("*/")
                .map_or(bytes.len(), |n| i + 2 + n + 2);
        } else {
            return i;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cte(name: &str, body: &str) -> Vec<(String, String)> {
        vec![(name.to_string(), body.to_string())]
    }

    #[test]
    fn plain_select_gets_a_with_clause() {
        let out = inject_ctes(
            "select * from __dbt__cte__e",
            &cte("__dbt__cte__e", "select 1"),
        );
        assert_eq!(
            out,
            "with __dbt__cte__e as (\nselect 1\n)\nselect * from __dbt__cte__e"
        );
    }

    #[test]
    fn existing_with_is_merged() {
        let out = inject_ctes(
            "-- note\nWITH a as (select 1) select * from a",
            &cte("__dbt__cte__e", "select 2"),
        );
        assert_eq!(
            out,
            "-- note\nwith __dbt__cte__e as (\nselect 2\n), a as (select 1) select * from a"
        );
    }

    #[test]
    fn recursive_with_keeps_its_keyword() {
        let out = inject_ctes(
            "with recursive r as (select 1) select * from r",
            &cte("__dbt__cte__e", "select 2"),
        );
        assert_eq!(
            out,
            "with recursive __dbt__cte__e as (\nselect 2\n), r as (select 1) select * from r"
        );
    }

    #[test]
    fn identifiers_starting_with_with_are_not_keywords() {
        let out = inject_ctes("without_x", &cte("c", "select 1"));
        assert!(out.starts_with("with c as"));
    }
}
