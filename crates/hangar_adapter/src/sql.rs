//! Quoting and small SQL spelling helpers shared by the adapters.

use crate::{Adapter, LogicalType};

/// Quotes `identifier` with `quote`, doubling any embedded quote character.
pub fn quote_with(identifier: &str, quote: char) -> String {
    let doubled: String = identifier
        .chars()
        .flat_map(|c| if c == quote { vec![c, c] } else { vec![c] })
        .collect();
    format!("{quote}{doubled}{quote}")
}

/// A standard SQL string literal: `it's` → `'it''s'`.
pub fn sql_string_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `"db"."schema"."identifier"`, leaving out the database when there is none.
pub(crate) fn render_parts<A: Adapter + ?Sized>(
    adapter: &A,
    database: Option<&str>,
    schema: &str,
    identifier: &str,
) -> String {
    let mut parts = Vec::with_capacity(3);
    if let Some(db) = database {
        parts.push(adapter.quote(db));
    }
    parts.push(adapter.quote(schema));
    parts.push(adapter.quote(identifier));
    parts.join(".")
}

/// The names dbt-postgres uses for dbt's cross-database types.
pub(crate) fn ansi_type_name(logical: LogicalType) -> &'static str {
    match logical {
        LogicalType::String => "text",
        LogicalType::Int => "integer",
        LogicalType::BigInt => "bigint",
        LogicalType::Numeric => "numeric(28,6)",
        LogicalType::Float => "float",
        LogicalType::Timestamp => "timestamp",
        LogicalType::Boolean => "boolean",
        LogicalType::Date => "date",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_doubles_embedded_quotes() {
        assert_eq!(quote_with("a\"b", '"'), "\"a\"\"b\"");
        assert_eq!(quote_with("plain", '"'), "\"plain\"");
        assert_eq!(quote_with("", '"'), "\"\"");
    }

    #[test]
    fn string_literal_doubles_single_quotes() {
        assert_eq!(sql_string_literal("it's"), "'it''s'");
        assert_eq!(sql_string_literal("a\\b"), "'a\\b'");
    }
}

/// Whether `sql` holds no statement at all (only whitespace, `;` and comments).
/// A name every warehouse accepts unquoted (and folds to its case):
/// `[A-Za-z_][A-Za-z0-9_$]*`.
pub fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

pub(crate) fn is_blank(sql: &str) -> bool {
    let mut rest = sql;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ';');
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, tail)| tail);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, tail)| tail);
        } else {
            return rest.is_empty();
        }
    }
}

#[cfg(test)]
mod blank_tests {
    use super::is_blank;

    #[test]
    fn comments_and_semicolons_are_blank() {
        assert!(is_blank(""));
        assert!(is_blank("  ;\n-- only a comment\n/* and\nanother */ ;"));
        assert!(!is_blank("-- comment\nselect 1"));
        assert!(!is_blank("/* x */ select 1"));
    }
}
