//! Helpers for building diagnostics: "did you mean" and offset → line/column.

/// The candidate closest to `name`, when it is close enough to be a likely
/// typo (edit distance at most a third of the name's length, at least 1).
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let wanted = name.to_lowercase();
    let limit = (wanted.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|candidate| *candidate != name)
        .map(|candidate| {
            let distance = strsim::damerau_levenshtein(&wanted, &candidate.to_lowercase());
            (distance, candidate)
        })
        .filter(|(distance, _)| *distance <= limit)
        .min()
        .map(|(_, candidate)| candidate.to_string())
}

/// 1-based (line, column) of `byte_offset` in `text`; the column counts
/// characters. Offsets past the end (or inside a character) are clamped.
pub fn line_col(text: &str, byte_offset: usize) -> (usize, usize) {
    let mut offset = byte_offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names() {
        let names = ["stg_members", "stg_orders", "dim_customers"];
        let cases = [
            ("stg_membrs", Some("stg_members")),
            ("stg_member", Some("stg_members")),
            ("STG_ORDERS", Some("stg_orders")),
            ("revenue", None),
            ("stg_members", None),
            ("stg_mem", None),
        ];
        for (name, expected) in cases {
            assert_eq!(suggest(name, names), expected.map(String::from), "{name}");
        }
    }

    #[test]
    fn suggest_with_no_candidates() {
        assert_eq!(suggest("x", []), None);
    }

    #[test]
    fn line_col_cases() {
        let text = "ab\ncdé\nf";
        let cases = [
            (0, (1, 1)),
            (2, (1, 3)),
            (3, (2, 1)),
            (5, (2, 3)),
            (6, (2, 3)), // inside `é`: clamped back to its start
            (7, (2, 4)),
            (8, (3, 1)),
            (100, (3, 2)),
        ];
        for (offset, expected) in cases {
            assert_eq!(line_col(text, offset), expected, "offset {offset}");
        }
    }
}
