//! Python's `fnmatch` and `pathlib` glob matching, as dbt's selector methods
//! use them, without allocating per match.

/// Whether `pattern` has any glob syntax in it (dbt's wildcard test).
pub(crate) fn has_wildcard(pattern: &str) -> bool {
    pattern.contains(['*', '?', '[', ']'])
}

/// Python's `fnmatch.fnmatchcase`: `*`, `?`, `[seq]`, `[!seq]`; the whole
/// of `text` must match. `*` matches any characters, including `.` and `/`.
pub(crate) fn fnmatch(text: &str, pattern: &str) -> bool {
    if !has_wildcard(pattern) {
        return text == pattern;
    }
    let (t, p) = (text.as_bytes(), pattern.as_bytes());
    let (mut ti, mut pi) = (0usize, 0usize);
    // Where to resume after the last `*`: (pattern index after it, text index).
    let mut backtrack: Option<(usize, usize)> = None;
    while ti < t.len() {
        let step = match p.get(pi) {
            Some(b'*') => {
                backtrack = Some((pi + 1, ti));
                pi += 1;
                continue;
            }
            Some(b'?') => Some((1, char_len(t[ti]))),
            Some(b'[') => match match_class(&p[pi..], text, ti) {
                ClassMatch::Matched {
                    pattern_len,
                    text_len,
                } => Some((pattern_len, text_len)),
                ClassMatch::NoMatch => None,
                ClassMatch::Literal => (t[ti] == b'[').then_some((1, 1)),
            },
            Some(&c) => (t[ti] == c).then_some((1, 1)),
            None => None,
        };
        match (step, backtrack) {
            (Some((dp, dt)), _) => {
                pi += dp;
                ti += dt;
            }
            (None, Some((star_pi, star_ti))) => {
                let next_ti = star_ti + char_len(t[star_ti]);
                backtrack = Some((star_pi, next_ti));
                pi = star_pi;
                ti = next_ti;
            }
            (None, None) => return false,
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

fn char_len(first_byte: u8) -> usize {
    match first_byte {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

enum ClassMatch {
    Matched {
        pattern_len: usize,
        text_len: usize,
    },
    NoMatch,
    /// No closing `]`: Python treats the `[` as a literal character.
    Literal,
}

/// Matches a `[...]` class at the start of `class` against the character at
/// byte `at` of `text`.
fn match_class(class: &[u8], text: &str, at: usize) -> ClassMatch {
    let mut i = 1;
    let negate = class.get(i) == Some(&b'!');
    if negate {
        i += 1;
    }
    // A `]` right after `[` or `[!` is a member, not the end.
    let body_start = i;
    if class.get(i) == Some(&b']') {
        i += 1;
    }
    while i < class.len() && class[i] != b']' {
        i += 1;
    }
    if i >= class.len() {
        return ClassMatch::Literal;
    }
    let Ok(body) = std::str::from_utf8(&class[body_start..i]) else {
        return ClassMatch::NoMatch;
    };
    let Some(c) = text.get(at..).and_then(|rest| rest.chars().next()) else {
        return ClassMatch::NoMatch;
    };
    if class_contains(body, c) != negate {
        ClassMatch::Matched {
            pattern_len: i + 1,
            text_len: c.len_utf8(),
        }
    } else {
        ClassMatch::NoMatch
    }
}

fn class_contains(body: &str, c: char) -> bool {
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if i + 2 < chars.len() && chars[i + 1] == '-' {
            if chars[i] <= c && c <= chars[i + 2] {
                return true;
            }
            i += 3;
        } else {
            if chars[i] == c {
                return true;
            }
            i += 1;
        }
    }
    false
}

/// A `pathlib` glob pattern, split into `/`-separated segments once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathPattern {
    segments: Vec<String>,
}

impl PathPattern {
    /// Normalises `\` to `/` and drops `./`, empty segments and a trailing
    /// slash; `.` alone (the project root) matches everything.
    pub(crate) fn new(pattern: &str) -> PathPattern {
        let normalized = pattern.replace('\\', "/");
        let segments = normalized
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .map(str::to_string)
            .collect();
        PathPattern { segments }
    }

    /// dbt's path method: the glob matches the file itself or one of the
    /// folders it sits in (`path` is relative to the project root).
    pub(crate) fn matches_file_or_ancestor(&self, path: &str) -> bool {
        let path = path.strip_prefix("./").unwrap_or(path);
        match_prefix(&self.segments, Some(path))
    }
}

/// Whether `pattern` matches a segment-aligned prefix of `path` (`None` once
/// every segment is consumed).
fn match_prefix(pattern: &[String], path: Option<&str>) -> bool {
    let Some((first, rest)) = pattern.split_first() else {
        return true;
    };
    let Some(path) = path else {
        return pattern.iter().all(|p| p == "**");
    };
    let (segment, remainder) = match path.split_once('/') {
        Some((segment, remainder)) => (segment, Some(remainder)),
        None => (path, None),
    };
    if first == "**" {
        return match_prefix(rest, Some(path)) || match_prefix(pattern, remainder);
    }
    fnmatch(segment, first) && match_prefix(rest, remainder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch_follows_python() {
        assert!(fnmatch("stg_orders", "stg_*"));
        assert!(fnmatch("a.b.c", "a.*"));
        assert!(fnmatch("abc", "a?c"));
        assert!(fnmatch("abc", "*"));
        assert!(fnmatch("", "*"));
        assert!(fnmatch("a1", "a[0-9]"));
        assert!(!fnmatch("ax", "a[0-9]"));
        assert!(fnmatch("ax", "a[!0-9]"));
        assert!(fnmatch("a[", "a["));
        assert!(fnmatch("é!", "?!"));
        assert!(fnmatch("mississippi", "*sip*"));
        assert!(!fnmatch("stg_orders", "stg"));
        assert!(!fnmatch("abc", "*d"));
    }

    #[test]
    fn path_patterns_match_files_and_folders() {
        let file = "models/staging/stg_orders.sql";
        assert!(PathPattern::new("models/staging").matches_file_or_ancestor(file));
        assert!(PathPattern::new("models/staging/").matches_file_or_ancestor(file));
        assert!(PathPattern::new("./models").matches_file_or_ancestor(file));
        assert!(PathPattern::new("models/staging/stg_orders.sql").matches_file_or_ancestor(file));
        assert!(PathPattern::new("models/*/stg_*.sql").matches_file_or_ancestor(file));
        assert!(PathPattern::new("models/**/*.sql").matches_file_or_ancestor(file));
        assert!(PathPattern::new("models\\staging").matches_file_or_ancestor(file));
        assert!(PathPattern::new(".").matches_file_or_ancestor(file));
        assert!(!PathPattern::new("models/stag").matches_file_or_ancestor(file));
        assert!(!PathPattern::new("models/*.sql").matches_file_or_ancestor(file));
        assert!(
            !PathPattern::new("models/staging/stg_orders.sql/x").matches_file_or_ancestor(file)
        );
    }
}
