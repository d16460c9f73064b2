//! `selectors.yml`: named selection definitions in dbt's YAML forms — a
//! CLI-style string, `{method: value}`, `{method, value, parents, …}`, and
//! `union` / `intersection` lists with `exclude`, nested arbitrarily, plus
//! references to other selectors (`selector:name`, `{method: selector}`).
//!
//! Departure: a string definition may hold several space/comma-separated
//! expressions, as on the command line (dbt reads a single expression).

use std::collections::HashMap;
use std::sync::Arc;

use hangar_project::{Diagnostic, codes, suggest};
use indexmap::IndexMap;
use yaml_serde::{Mapping, Value};

use super::methods::{self, Method};
use super::spec::{self, IndirectSelection, SelectionCriteria, SelectionSpec};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorDefinition {
    pub name: String,
    pub description: Option<String>,
    /// Applies when no `--select` is given.
    pub default: bool,
    pub definition: SelectionSpec,
}

/// Every selector of a project, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelectorDefinitions {
    selectors: IndexMap<String, SelectorDefinition>,
}

impl SelectorDefinitions {
    pub fn get(&self, name: &str) -> Option<&SelectorDefinition> {
        self.selectors.get(name)
    }

    /// `--selector name`: the definition, or H305 with a "did you mean".
    pub fn resolve(&self, name: &str) -> Result<&SelectionSpec, Diagnostic> {
        self.get(name)
            .map(|s| &s.definition)
            .ok_or_else(|| unknown_selector(name, self.selectors.keys().map(String::as_str)))
    }

    /// The selector marked `default: true`, if any.
    pub fn default_selector(&self) -> Option<&SelectorDefinition> {
        self.selectors.values().find(|s| s.default)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.selectors.keys().map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = &SelectorDefinition> {
        self.selectors.values()
    }

    pub fn len(&self) -> usize {
        self.selectors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.selectors.is_empty()
    }
}

fn unknown_selector<'a>(name: &str, known: impl Iterator<Item = &'a str> + Clone) -> Diagnostic {
    let mut diagnostic = Diagnostic::error(
        codes::UNKNOWN_SELECTOR,
        format!("no selector named `{name}`"),
    );
    if let Some(near) = suggest(name, known.clone()) {
        diagnostic = diagnostic.with_hint(format!("did you mean `{near}`?"));
    } else {
        let names: Vec<&str> = known.collect();
        if names.is_empty() {
            diagnostic =
                diagnostic.with_hint("selectors are defined in `selectors.yml`, which has none");
        } else {
            diagnostic = diagnostic.with_note(format!("defined selectors: {}", names.join(", ")));
        }
    }
    diagnostic
}

/// Parses a `selectors.yml` already rendered by Jinja. Every problem is
/// reported, each located at its selector's `name:` line.
pub fn parse_selectors_yml(text: &str, path: &str) -> Result<SelectorDefinitions, Vec<Diagnostic>> {
    let source: Arc<str> = Arc::from(text);
    let file = FileContext {
        text,
        path,
        source: &source,
    };
    let raw = read_raw_selectors(&file)?;
    let mut diagnostics = Vec::new();
    let mut resolver = Resolver {
        raw: &raw,
        resolved: HashMap::new(),
        stack: Vec::new(),
    };
    let mut selectors = IndexMap::new();
    for entry in &raw {
        match resolver.resolve(&entry.name) {
            Ok(definition) => {
                selectors.insert(
                    entry.name.clone(),
                    SelectorDefinition {
                        name: entry.name.clone(),
                        description: entry.description.clone(),
                        default: entry.default,
                        definition,
                    },
                );
            }
            Err(problem) => diagnostics
                .push(file.at_selector(problem.into_diagnostic(&entry.name), &entry.name)),
        }
    }
    let defaults: Vec<&str> = raw
        .iter()
        .filter(|e| e.default)
        .map(|e| e.name.as_str())
        .collect();
    if defaults.len() > 1 {
        diagnostics.push(file.at_selector(
            Diagnostic::error(
                codes::BAD_SELECTOR,
                format!(
                    "more than one selector has `default: true`: {}",
                    defaults.join(", ")
                ),
            ),
            defaults[1],
        ));
    }
    if diagnostics.is_empty() {
        Ok(SelectorDefinitions { selectors })
    } else {
        Err(diagnostics)
    }
}

struct FileContext<'a> {
    text: &'a str,
    path: &'a str,
    source: &'a Arc<str>,
}

impl FileContext<'_> {
    fn at(&self, diagnostic: Diagnostic, line: usize, column: usize, len: usize) -> Diagnostic {
        diagnostic
            .at(self.path, line, column)
            .with_source(self.source.clone(), len)
    }

    /// Locates a diagnostic at the `name: <name>` line of a selector.
    fn at_selector(&self, diagnostic: Diagnostic, name: &str) -> Diagnostic {
        self.at_nth_selector(diagnostic, name, 0)
    }

    /// As [`Self::at_selector`], for the `nth` (0-based) selector of that name.
    fn at_nth_selector(&self, diagnostic: Diagnostic, name: &str, nth: usize) -> Diagnostic {
        match name_position(self.text, name, nth) {
            Some((line, column)) => self.at(diagnostic, line, column, name.chars().count()),
            None => diagnostic.at(self.path, 1, 1),
        }
    }
}

/// 1-based line and column of `name` on the `nth` `name:` line naming it.
fn name_position(text: &str, name: &str, nth: usize) -> Option<(usize, usize)> {
    text.lines()
        .enumerate()
        .filter_map(|(index, line)| {
            let trimmed = line.trim_start().trim_start_matches("- ").trim_start();
            let value = trimmed.strip_prefix("name:")?.trim();
            let unquoted = value.trim_matches(|c| c == '"' || c == '\'');
            if unquoted != name {
                return None;
            }
            let name_at = line.find("name:").map_or(0, |at| at + 5);
            let column = line[name_at..]
                .find(name)
                .map_or(1, |byte| line[..name_at + byte].chars().count() + 1);
            Some((index + 1, column))
        })
        .nth(nth)
}

struct RawSelector {
    name: String,
    description: Option<String>,
    default: bool,
    definition: Value,
}

fn read_raw_selectors(file: &FileContext<'_>) -> Result<Vec<RawSelector>, Vec<Diagnostic>> {
    let mut document: Value =
        yaml_serde::from_str(file.text).map_err(|e| vec![yaml_error(file, &e)])?;
    document
        .apply_merge()
        .map_err(|e| vec![yaml_error(file, &e)])?;
    let entries = match &document {
        Value::Null => return Ok(Vec::new()),
        Value::Mapping(top) => match top.get("selectors") {
            Some(Value::Sequence(entries)) => entries,
            Some(Value::Null) => return Ok(Vec::new()),
            _ => {
                return Err(vec![schema_error(
                    file,
                    "`selectors.yml` needs a top-level `selectors:` list",
                )]);
            }
        },
        _ => {
            return Err(vec![schema_error(
                file,
                "`selectors.yml` must be a mapping with a `selectors:` list",
            )]);
        }
    };
    let mut diagnostics = Vec::new();
    let mut raw: Vec<RawSelector> = Vec::new();
    for (position, entry) in entries.iter().enumerate() {
        match read_entry(entry, position) {
            Ok(selector) if raw.iter().any(|r| r.name == selector.name) => {
                diagnostics.push(file.at_nth_selector(
                    Diagnostic::error(
                        codes::DUPLICATE_NAME,
                        format!("two selectors are named `{}`", selector.name),
                    ),
                    &selector.name,
                    1,
                ))
            }
            Ok(selector) => raw.push(selector),
            Err(message) => diagnostics.push(schema_error(file, &message)),
        }
    }
    if diagnostics.is_empty() {
        Ok(raw)
    } else {
        Err(diagnostics)
    }
}

fn read_entry(entry: &Value, position: usize) -> Result<RawSelector, String> {
    let which = format!("selector #{}", position + 1);
    let Value::Mapping(map) = entry else {
        return Err(format!(
            "{which} must be a mapping with `name` and `definition`"
        ));
    };
    let name = match map.get("name") {
        Some(Value::String(name)) => name.clone(),
        _ => return Err(format!("{which} needs a `name` string")),
    };
    let Some(definition) = map.get("definition") else {
        return Err(format!("selector `{name}` needs a `definition`"));
    };
    let description = match map.get("description") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            scalar_text(value).ok_or(format!("selector `{name}`: `description` must be text"))?,
        ),
    };
    let default = match map.get("default") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        // A rendered `{{ target.name == 'prod' }}` arrives as text.
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
        Some(_) => {
            return Err(format!(
                "selector `{name}`: `default` must be true or false"
            ));
        }
    };
    Ok(RawSelector {
        name,
        description,
        default,
        definition: definition.clone(),
    })
}

fn yaml_error(file: &FileContext<'_>, error: &yaml_serde::Error) -> Diagnostic {
    let diagnostic = Diagnostic::error(codes::YAML_SYNTAX, format!("invalid YAML: {error}"));
    match error.location() {
        Some(location) => file.at(diagnostic, location.line(), location.column(), 1),
        None => diagnostic.at(file.path, 1, 1),
    }
}

fn schema_error(file: &FileContext<'_>, message: &str) -> Diagnostic {
    Diagnostic::error(codes::YAML_SCHEMA, message.to_string()).at(file.path, 1, 1)
}

/// A problem in one definition, before it is located in the file.
struct Problem {
    code: &'static str,
    message: String,
    hint: Option<String>,
}

impl Problem {
    fn bad(message: impl Into<String>) -> Problem {
        Problem {
            code: codes::BAD_SELECTOR,
            message: message.into(),
            hint: None,
        }
    }

    fn into_diagnostic(self, selector: &str) -> Diagnostic {
        let diagnostic = Diagnostic::error(
            self.code,
            format!("selector `{selector}`: {}", self.message),
        );
        match self.hint {
            Some(hint) => diagnostic.with_hint(hint),
            None => diagnostic,
        }
    }
}

/// Parses definitions on demand so selectors may refer to one another in
/// any order; a reference cycle is an error.
struct Resolver<'a> {
    raw: &'a [RawSelector],
    resolved: HashMap<String, SelectionSpec>,
    stack: Vec<String>,
}

impl Resolver<'_> {
    fn resolve(&mut self, name: &str) -> Result<SelectionSpec, Problem> {
        if let Some(done) = self.resolved.get(name) {
            return Ok(done.clone());
        }
        if self.stack.iter().any(|n| n == name) {
            let mut path = self.stack.clone();
            path.push(name.to_string());
            return Err(Problem::bad(format!(
                "selectors refer to each other in a cycle: {}",
                path.join(" -> ")
            )));
        }
        let Some(entry) = self.raw.iter().find(|r| r.name == name) else {
            let diagnostic = unknown_selector(name, self.raw.iter().map(|r| r.name.as_str()));
            return Err(Problem {
                code: codes::UNKNOWN_SELECTOR,
                message: format!("refers to an unknown selector `{name}`"),
                hint: diagnostic.hint,
            });
        };
        self.stack.push(name.to_string());
        let parsed = self.definition(&entry.definition, true);
        self.stack.pop();
        let parsed = parsed?;
        self.resolved.insert(name.to_string(), parsed.clone());
        Ok(parsed)
    }

    fn definition(&mut self, value: &Value, root: bool) -> Result<SelectionSpec, Problem> {
        match value {
            Value::String(text) => self.text_definition(text),
            Value::Mapping(map) => self.mapping_definition(map, root),
            Value::Tagged(tagged) => self.definition(&tagged.value, root),
            other => Err(Problem::bad(format!(
                "expected a string or a mapping as a definition, found {}",
                describe(other)
            ))),
        }
    }

    fn text_definition(&mut self, text: &str) -> Result<SelectionSpec, Problem> {
        if let Some(name) = text.trim().strip_prefix("selector:") {
            return self.resolve(name.trim());
        }
        let mut union = spec::parse_union_text(text).map_err(|e| Problem {
            code: codes::BAD_SELECTOR,
            message: format!("invalid selector `{text}`: {}", e.message),
            hint: e.hint,
        })?;
        match union.len() {
            0 => Err(Problem::bad("empty definition")),
            1 => Ok(union.remove(0)),
            _ => Ok(SelectionSpec::union(union)),
        }
    }

    fn mapping_definition(&mut self, map: &Mapping, root: bool) -> Result<SelectionSpec, Problem> {
        let keys: Vec<&str> = map.keys().filter_map(Value::as_str).collect();
        if keys.len() != map.len() {
            return Err(Problem::bad("definition keys must be strings"));
        }
        for (key, combine) in [
            ("union", Combine::Union),
            ("intersection", Combine::Intersection),
        ] {
            if let Some(items) = map.get(key) {
                if root && map.len() > 1 {
                    return Err(Problem::bad(format!(
                        "only a single `union` or `intersection` key is allowed at the root of a definition; found {}",
                        keys.join(", ")
                    )));
                }
                return self.set_definition(key, items, combine);
            }
        }
        if map.len() == 1 {
            let key = keys[0];
            let Some(value) = map.get(key) else {
                return Err(Problem::bad("empty definition"));
            };
            return match key {
                "selector" => self.resolve(&scalar_or_problem(value, key)?),
                "exclude" => Err(Problem::bad(
                    "`exclude` must be an item of a `union` or `intersection` list, or sit beside `method` and `value`",
                )),
                _ => self.criteria(key, value, map),
            };
        }
        match (map.get("method"), map.get("value")) {
            (Some(method), Some(value)) => {
                let method = scalar_or_problem(method, "method")?;
                if method == "selector" {
                    return self.resolve(&scalar_or_problem(value, "value")?);
                }
                let base = self.criteria(&method, value, map)?;
                match map.get("exclude") {
                    None => Ok(base),
                    Some(excluded) => {
                        Ok(SelectionSpec::difference(base, self.exclusions(excluded)?))
                    }
                }
            }
            _ => Err(Problem::bad(format!(
                "expected either one key or `method` and `value` keys, but got {}",
                keys.join(", ")
            ))),
        }
    }

    /// `union: [...]` / `intersection: [...]`, with at most one `exclude`.
    fn set_definition(
        &mut self,
        key: &str,
        items: &Value,
        combine: Combine,
    ) -> Result<SelectionSpec, Problem> {
        let Value::Sequence(items) = items else {
            return Err(Problem::bad(format!("`{key}` must be a list")));
        };
        let mut include = Vec::new();
        let mut exclude = None;
        for item in items {
            match item.as_mapping().and_then(|m| m.get("exclude")) {
                Some(_) if exclude.is_some() => {
                    return Err(Problem::bad(format!(
                        "only one `exclude` is allowed in a `{key}` list"
                    )));
                }
                Some(excluded) => exclude = Some(self.exclusions(excluded)?),
                None => include.push(self.definition(item, false)?),
            }
        }
        let group = match combine {
            Combine::Union => SelectionSpec::union(include),
            Combine::Intersection => SelectionSpec::intersection(include),
        };
        Ok(match exclude {
            Some(excluded) => SelectionSpec::difference(group, excluded),
            None => group,
        })
    }

    fn exclusions(&mut self, value: &Value) -> Result<SelectionSpec, Problem> {
        let Value::Sequence(items) = value else {
            return Err(Problem::bad("`exclude` must be a list"));
        };
        let mut parsed = items
            .iter()
            .map(|item| self.definition(item, false))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(match parsed.len() {
            0 => SelectionSpec::Nothing,
            1 => parsed.remove(0),
            _ => SelectionSpec::union(parsed),
        })
    }

    /// `{tag: nightly}` or `{method: tag, value: nightly, parents: true, …}`.
    fn criteria(
        &mut self,
        method_text: &str,
        value: &Value,
        map: &Mapping,
    ) -> Result<SelectionSpec, Problem> {
        let method = Method::parse(method_text).map_err(|(message, hint)| Problem {
            code: codes::BAD_SELECTOR,
            message,
            hint,
        })?;
        let value = scalar_or_problem(value, "value")?;
        methods::validate_value(&method, &value).map_err(Problem::bad)?;
        let criteria = SelectionCriteria {
            raw: format!("{method}:{value}"),
            method,
            value,
            childrens_parents: flag(map, "childrens_parents")?,
            parents: flag(map, "parents")?,
            parents_depth: depth(map, "parents_depth")?,
            children: flag(map, "children")?,
            children_depth: depth(map, "children_depth")?,
            indirect_selection: indirect(map)?,
        };
        if criteria.childrens_parents && criteria.children {
            return Err(Problem::bad(format!(
                "`{}`: `childrens_parents` and `children` cannot be combined",
                criteria.raw
            )));
        }
        Ok(SelectionSpec::Criteria(criteria))
    }
}

#[derive(Clone, Copy)]
enum Combine {
    Union,
    Intersection,
}

fn flag(map: &Mapping, key: &str) -> Result<bool, Problem> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(Problem::bad(format!(
            "`{key}` must be true or false, found {}",
            describe(other)
        ))),
    }
}

fn depth(map: &Mapping, key: &str) -> Result<Option<usize>, Problem> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|d| usize::try_from(d).ok())
            .map(Some)
            .ok_or_else(|| Problem::bad(format!("`{key}` must be a whole number, found {n}"))),
        Some(Value::String(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| Problem::bad(format!("`{key}` must be a whole number, found `{s}`"))),
        Some(other) => Err(Problem::bad(format!(
            "`{key}` must be a whole number, found {}",
            describe(other)
        ))),
    }
}

fn indirect(map: &Mapping) -> Result<Option<IndirectSelection>, Problem> {
    match map.get("indirect_selection") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => {
            let text = scalar_text(value).unwrap_or_default();
            IndirectSelection::parse(&text).map(Some).ok_or_else(|| {
                Problem::bad(format!(
                    "`indirect_selection` must be eager, cautious, buildable or empty, found `{text}`"
                ))
            })
        }
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn scalar_or_problem(value: &Value, key: &str) -> Result<String, Problem> {
    scalar_text(value)
        .ok_or_else(|| Problem::bad(format!("`{key}` must be text, found {}", describe(value))))
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}
