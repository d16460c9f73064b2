//! Reading Snowflake SQL text just enough to split it into statements and to
//! turn the Connection contract's `$1` placeholders into Snowflake's `?` binds,
//! without touching strings, quoted identifiers, comments or `$$` blocks.

/// What one byte of SQL text belongs to.
#[derive(Clone, Copy, PartialEq)]
enum Part {
    Code,
    /// A string literal, quoted identifier or `$$ … $$` block, delimiters included.
    Literal,
    Comment,
}

/// The part of the SQL each byte of `sql` belongs to.
fn parts(sql: &str) -> Vec<Part> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Code,
        Single,
        Double,
        Line,
        Block,
        Dollar,
    }
    let bytes = sql.as_bytes();
    let mut out = vec![Part::Code; bytes.len()];
    let mut state = State::Code;
    let mut i = 0;
    while i < bytes.len() {
        let next = bytes.get(i + 1).copied();
        // How many bytes this step consumes, and what they are.
        let (width, part) = match state {
            State::Code => match (bytes[i], next) {
                (b'\'', _) => {
                    state = State::Single;
                    (1, Part::Literal)
                }
                (b'"', _) => {
                    state = State::Double;
                    (1, Part::Literal)
                }
                (b'-', Some(b'-')) | (b'/', Some(b'/')) => {
                    state = State::Line;
                    (2, Part::Comment)
                }
                (b'/', Some(b'*')) => {
                    state = State::Block;
                    (2, Part::Comment)
                }
                (b'$', Some(b'$')) => {
                    state = State::Dollar;
                    (2, Part::Literal)
                }
                _ => (1, Part::Code),
            },
            // Snowflake strings take both `\'` and `''` as an escaped quote.
            State::Single => match (bytes[i], next) {
                (b'\\', _) | (b'\'', Some(b'\'')) => (2, Part::Literal),
                (b'\'', _) => {
                    state = State::Code;
                    (1, Part::Literal)
                }
                _ => (1, Part::Literal),
            },
            State::Double => match (bytes[i], next) {
                (b'"', Some(b'"')) => (2, Part::Literal),
                (b'"', _) => {
                    state = State::Code;
                    (1, Part::Literal)
                }
                _ => (1, Part::Literal),
            },
            State::Line => {
                if bytes[i] == b'\n' {
                    state = State::Code;
                }
                (1, Part::Comment)
            }
            State::Block => {
                if bytes[i] == b'*' && next == Some(b'/') {
                    state = State::Code;
                    (2, Part::Comment)
                } else {
                    (1, Part::Comment)
                }
            }
            State::Dollar => {
                if bytes[i] == b'$' && next == Some(b'$') {
                    state = State::Code;
                    (2, Part::Literal)
                } else {
                    (1, Part::Literal)
                }
            }
        };
        let end = (i + width).min(bytes.len());
        out[i..end].fill(part);
        i = end;
    }
    out
}

/// Whether `sql` holds nothing but whitespace, `;` and comments.
fn is_blank(sql: &str, parts: &[Part]) -> bool {
    sql.bytes().zip(parts).all(|(byte, part)| {
        *part == Part::Comment
            || (*part == Part::Code && (byte.is_ascii_whitespace() || byte == b';'))
    })
}

/// The statements of `sql`, split at `;` in code, without blank ones.
/// Snowflake takes one statement per request, as dbt-snowflake splits them.
pub(crate) fn split_statements(sql: &str) -> Vec<&str> {
    let parts = parts(sql);
    let mut out = Vec::new();
    let mut start = 0;
    for (i, byte) in sql.bytes().enumerate() {
        if byte == b';' && parts[i] == Part::Code {
            out.push((start, i));
            start = i + 1;
        }
    }
    out.push((start, sql.len()));
    out.into_iter()
        .filter(|&(from, to)| !is_blank(&sql[from..to], &parts[from..to]))
        .map(|(from, to)| sql[from..to].trim())
        .collect()
}

/// `$1`-style placeholders rewritten to `?`, and for each `?` the index of the
/// parameter it takes (a `$n` used twice is bound twice).
pub(crate) fn positional_binds(
    sql: &str,
    param_count: usize,
) -> Result<(String, Vec<usize>), String> {
    let parts = parts(sql);
    let bytes = sql.as_bytes();
    let mut text = String::with_capacity(sql.len());
    let mut order = Vec::new();
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        // `col$1` is an identifier: a placeholder starts where no identifier does.
        let starts_word = i == 0
            || !(bytes[i - 1].is_ascii_alphanumeric() || matches!(bytes[i - 1], b'_' | b'$'));
        if bytes[i] == b'$' && parts[i] == Part::Code && starts_word {
            let digits = bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if digits > 0 {
                let number: usize = sql[i + 1..i + 1 + digits]
                    .parse()
                    .map_err(|_| format!("invalid placeholder '{}'", &sql[i..i + 1 + digits]))?;
                if number == 0 || number > param_count {
                    return Err(format!(
                        "placeholder ${number} has no value ({param_count} given)"
                    ));
                }
                text.push_str(&sql[copied..i]);
                text.push('?');
                order.push(number - 1);
                i += 1 + digits;
                copied = i;
                continue;
            }
        }
        i += 1;
    }
    text.push_str(&sql[copied..]);
    Ok((text, order))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_only_at_semicolons_in_code() {
        let sql = "insert into t values ('a;b', \"c;d\"); -- x; y\n\
                   select $$ body; $$ /* ; */ ; // trailing; comment\n;; grant select on t to role r";
        assert_eq!(
            split_statements(sql),
            vec![
                "insert into t values ('a;b', \"c;d\")",
                "-- x; y\nselect $$ body; $$ /* ; */",
                "grant select on t to role r",
            ]
        );
        assert_eq!(
            split_statements("select 'it''s; fine', 'a\\'; b'"),
            vec!["select 'it''s; fine', 'a\\'; b'"]
        );
        assert!(split_statements(" ; -- nothing\n").is_empty());
    }

    #[test]
    fn dollar_placeholders_become_positional_binds() {
        let (sql, order) = positional_binds("select * from t where a = $2 and b = $1 or c = $2", 2)
            .unwrap_or_default();
        assert_eq!(sql, "select * from t where a = ? and b = ? or c = ?");
        assert_eq!(order, vec![1, 0, 1]);
        let (sql, order) = positional_binds("select '$1', \"$1\", col$1, $$ $1 $$ -- $1\n, $1", 1)
            .unwrap_or_default();
        assert_eq!(sql, "select '$1', \"$1\", col$1, $$ $1 $$ -- $1\n, ?");
        assert_eq!(order, vec![0]);
        assert_eq!(
            positional_binds("select $3", 2).err().as_deref(),
            Some("placeholder $3 has no value (2 given)")
        );
    }
}
