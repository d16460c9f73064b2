//! The selection AST and the parser for one CLI-style expression such as
//! `@tag:nightly`, `2+marts.finance.*+1` or `config.materialized:table`.
//!
//! Grammar (dbt's `RAW_SELECTOR_PATTERN`):
//! `[@][N+][method[.arg…]:]value[+N]`; a space separates a union, a comma an
//! intersection.

use std::fmt;

use super::methods::{self, Method};

/// dbt's `--indirect-selection`: which tests follow the nodes they test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IndirectSelection {
    /// A test is selected when any of its parents is.
    #[default]
    Eager,
    /// Only when all of its parents are selected.
    Cautious,
    /// When all of its parents are selected or are ancestors of selected nodes.
    Buildable,
    /// Only tests that are selected directly.
    Empty,
}

impl IndirectSelection {
    pub fn parse(text: &str) -> Option<IndirectSelection> {
        match text.to_ascii_lowercase().as_str() {
            "eager" => Some(IndirectSelection::Eager),
            "cautious" => Some(IndirectSelection::Cautious),
            "buildable" => Some(IndirectSelection::Buildable),
            "empty" => Some(IndirectSelection::Empty),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            IndirectSelection::Eager => "eager",
            IndirectSelection::Cautious => "cautious",
            IndirectSelection::Buildable => "buildable",
            IndirectSelection::Empty => "empty",
        }
    }
}

impl fmt::Display for IndirectSelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for IndirectSelection {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IndirectSelection::parse(s)
            .ok_or_else(|| format!("`{s}` is not an indirect selection mode: expected eager, cautious, buildable or empty"))
    }
}

/// One selection criterion: a method, its value and the graph operators
/// around it. State and result methods are ordinary criteria: they are
/// answered by a [`super::StateProvider`] when evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectionCriteria {
    /// The expression as written, for messages.
    pub raw: String,
    pub method: Method,
    pub value: String,
    /// `@x`: x, its descendants, and the ancestors of those.
    pub childrens_parents: bool,
    /// `+x` / `N+x`.
    pub parents: bool,
    pub parents_depth: Option<usize>,
    /// `x+` / `x+N`.
    pub children: bool,
    pub children_depth: Option<usize>,
    /// Overrides the run's indirect selection (selectors.yml, `--exclude`).
    pub indirect_selection: Option<IndirectSelection>,
}

/// A selection expression tree. Groups may override the run's indirect
/// selection mode (dbt evaluates `--exclude` eagerly).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectionSpec {
    /// Everything: what an empty `--select` means.
    All,
    /// Nothing: what an empty `--exclude` means.
    Nothing,
    Criteria(SelectionCriteria),
    Union {
        components: Vec<SelectionSpec>,
        indirect_selection: Option<IndirectSelection>,
    },
    Intersection {
        components: Vec<SelectionSpec>,
        indirect_selection: Option<IndirectSelection>,
    },
    /// The first component minus every other one.
    Difference {
        components: Vec<SelectionSpec>,
        indirect_selection: Option<IndirectSelection>,
    },
}

impl SelectionSpec {
    pub fn union(components: Vec<SelectionSpec>) -> SelectionSpec {
        SelectionSpec::Union {
            components,
            indirect_selection: None,
        }
    }

    pub fn intersection(components: Vec<SelectionSpec>) -> SelectionSpec {
        SelectionSpec::Intersection {
            components,
            indirect_selection: None,
        }
    }

    pub fn difference(include: SelectionSpec, exclude: SelectionSpec) -> SelectionSpec {
        SelectionSpec::Difference {
            components: vec![include, exclude],
            indirect_selection: None,
        }
    }

    /// Every criterion in the tree, e.g. to see whether `state:` is used.
    pub fn criteria(&self) -> Vec<&SelectionCriteria> {
        let mut found = Vec::new();
        self.collect_criteria(&mut found);
        found
    }

    /// Whether any criterion needs a previous state (`state:`, `result:`,
    /// `source_status:`).
    pub fn needs_state(&self) -> bool {
        self.criteria().iter().any(|c| c.method.needs_state())
    }

    fn collect_criteria<'a>(&'a self, found: &mut Vec<&'a SelectionCriteria>) {
        match self {
            SelectionSpec::All | SelectionSpec::Nothing => {}
            SelectionSpec::Criteria(c) => found.push(c),
            SelectionSpec::Union { components, .. }
            | SelectionSpec::Intersection { components, .. }
            | SelectionSpec::Difference { components, .. } => {
                components.iter().for_each(|c| c.collect_criteria(found))
            }
        }
    }

    /// Sets `mode` on every criterion and group of this tree.
    pub(crate) fn with_indirect_selection(self, mode: IndirectSelection) -> SelectionSpec {
        let set = |components: Vec<SelectionSpec>| -> Vec<SelectionSpec> {
            components
                .into_iter()
                .map(|c| c.with_indirect_selection(mode))
                .collect()
        };
        match self {
            SelectionSpec::Criteria(mut c) => {
                c.indirect_selection = Some(mode);
                SelectionSpec::Criteria(c)
            }
            SelectionSpec::Union { components, .. } => SelectionSpec::Union {
                components: set(components),
                indirect_selection: Some(mode),
            },
            SelectionSpec::Intersection { components, .. } => SelectionSpec::Intersection {
                components: set(components),
                indirect_selection: Some(mode),
            },
            SelectionSpec::Difference { components, .. } => SelectionSpec::Difference {
                components: set(components),
                indirect_selection: Some(mode),
            },
            other => other,
        }
    }
}

impl fmt::Display for SelectionCriteria {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// A problem in one expression: byte offset and length within it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SpecError {
    pub offset: usize,
    pub len: usize,
    pub message: String,
    pub hint: Option<String>,
}

impl SpecError {
    fn new(offset: usize, len: usize, message: impl Into<String>) -> SpecError {
        SpecError {
            offset,
            len,
            message: message.into(),
            hint: None,
        }
    }
}

/// Parses one expression without spaces or commas, e.g. `+tag:nightly+2`.
pub(crate) fn parse_single_spec(raw: &str) -> Result<SelectionCriteria, SpecError> {
    let mut rest = raw;
    let childrens_parents = rest.starts_with('@');
    if childrens_parents {
        rest = &rest[1..];
    }
    let (parents, parents_depth, after_parents) = split_parents(rest, raw.len() - rest.len())?;
    rest = after_parents;
    let method_offset = raw.len() - rest.len();
    let (method_text, after_method) = split_method(rest);
    let value_offset = raw.len() - after_method.len();
    let (value, children, children_depth) = split_children(after_method, value_offset)?;
    if value.is_empty() {
        let what = method_text.map_or("a node name".to_string(), |m| {
            format!("a value after `{m}:`")
        });
        return Err(SpecError::new(value_offset, 1, format!("expected {what}")));
    }
    if childrens_parents && children {
        return Err(SpecError::new(
            0,
            raw.len(),
            "the `@` prefix and the `+` suffix cannot be combined",
        ));
    }
    let method = match method_text {
        Some(text) => Method::parse(text).map_err(|(message, hint)| SpecError {
            hint,
            ..SpecError::new(method_offset, text.len(), message)
        })?,
        None => Method::default_for(value),
    };
    methods::validate_value(&method, value)
        .map_err(|message| SpecError::new(value_offset, value.len(), message))?;
    Ok(SelectionCriteria {
        raw: raw.to_string(),
        method,
        value: value.to_string(),
        childrens_parents,
        parents,
        parents_depth,
        children,
        children_depth,
        indirect_selection: None,
    })
}

/// `N+` at the start: (parents?, depth, rest).
fn split_parents(text: &str, offset: usize) -> Result<(bool, Option<usize>, &str), SpecError> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if text.as_bytes().get(digits) != Some(&b'+') {
        return Ok((false, None, text));
    }
    let depth = parse_depth(&text[..digits], offset)?;
    Ok((true, depth, &text[digits + 1..]))
}

/// `method[.arg…]:` at the start, when there is one (`[\w.]+:`).
fn split_method(text: &str) -> (Option<&str>, &str) {
    let end = text
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '.'))
        .map_or(text.len(), |(i, _)| i);
    if end > 0 && text[end..].starts_with(':') {
        (Some(&text[..end]), &text[end + 1..])
    } else {
        (None, text)
    }
}

/// `+N` at the end: (value, children?, depth).
fn split_children(text: &str, offset: usize) -> Result<(&str, bool, Option<usize>), SpecError> {
    let digits = text.bytes().rev().take_while(u8::is_ascii_digit).count();
    let before_digits = &text[..text.len() - digits];
    match before_digits.strip_suffix('+') {
        Some(value) => {
            let depth = parse_depth(&text[text.len() - digits..], offset + before_digits.len())?;
            Ok((value, true, depth))
        }
        None => Ok((text, false, None)),
    }
}

fn parse_depth(digits: &str, offset: usize) -> Result<Option<usize>, SpecError> {
    if digits.is_empty() {
        return Ok(None);
    }
    digits.parse().map(Some).map_err(|_| {
        SpecError::new(
            offset,
            digits.len(),
            format!("graph depth `{digits}` is too large"),
        )
    })
}

/// One `--select`/`--exclude` argument: space-separated unions of
/// comma-separated intersections. Empty arguments contribute nothing.
pub(crate) fn parse_union_text(text: &str) -> Result<Vec<SelectionSpec>, SpecError> {
    let mut union = Vec::new();
    for (word_offset, word) in split_with_offsets(text, ' ') {
        if word.is_empty() {
            continue;
        }
        let mut parts = Vec::new();
        for (part_offset, part) in split_with_offsets(word, ',') {
            let at = word_offset + part_offset;
            if part.is_empty() {
                return Err(SpecError::new(
                    at.saturating_sub(1),
                    1,
                    "empty selector next to a `,`",
                ));
            }
            let criteria = parse_single_spec(part).map_err(|e| SpecError {
                offset: e.offset + at,
                ..e
            })?;
            parts.push(SelectionSpec::Criteria(criteria));
        }
        union.push(match parts.len() {
            1 => parts.remove(0),
            _ => SelectionSpec::intersection(parts),
        });
    }
    Ok(union)
}

fn split_with_offsets(text: &str, separator: char) -> impl Iterator<Item = (usize, &str)> {
    text.split(separator).scan(0, move |offset, piece| {
        let start = *offset;
        *offset += piece.len() + separator.len_utf8();
        Some((start, piece))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(raw: &str) -> SelectionCriteria {
        match parse_single_spec(raw) {
            Ok(c) => c,
            Err(e) => panic!("{raw}: {e:?}"),
        }
    }

    #[test]
    fn graph_operators_and_methods_split_like_dbt() {
        let c = parsed("2+tag:nightly+3");
        assert_eq!(
            (c.parents, c.parents_depth, c.children, c.children_depth),
            (true, Some(2), true, Some(3))
        );
        assert_eq!((c.method.name(), c.value.as_str()), ("tag", "nightly"));
        let c = parsed("@config.meta.owner:alice");
        assert!(c.childrens_parents);
        assert_eq!(
            c.method,
            Method::Config(vec!["meta".into(), "owner".into()])
        );
        let c = parsed("x+");
        assert_eq!(
            (c.value.as_str(), c.children, c.children_depth),
            ("x", true, None)
        );
        let c = parsed("a+b");
        assert_eq!((c.value.as_str(), c.children), ("a+b", false));
        let c = parsed("model_v2");
        assert_eq!((c.value.as_str(), c.children), ("model_v2", false));
        assert_eq!(parsed("models/staging").method, Method::Path);
        assert_eq!(parsed("stg_orders.sql").method, Method::File);
        assert_eq!(parsed("marts.*").method, Method::Fqn);
        assert_eq!(parsed("path:C:/x").value, "C:/x");
    }

    #[test]
    fn malformed_expressions_are_rejected() {
        assert!(parse_single_spec("@x+").is_err());
        assert!(parse_single_spec("tag:").is_err());
        assert!(parse_single_spec("+").is_err());
        assert!(parse_single_spec("tags:x").is_err());
        assert!(parse_single_spec("99999999999999999999999+x").is_err());
        assert!(parse_union_text("a,,b").is_err());
        assert_eq!(parse_union_text("a  b").map(|u| u.len()), Ok(2));
    }
}
