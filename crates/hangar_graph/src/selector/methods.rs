//! Selection methods (dbt's `selector_methods.py`): which nodes a method
//! looks at and how a value matches them. Values are checked and compiled
//! once per criterion; matching a node allocates nothing.

use std::cmp::Ordering;
use std::fmt;

use hangar_project::suggest;
use serde_json::Value;

use crate::glob::{PathPattern, fnmatch, has_wildcard};
use crate::graph::NodeFacts;
use crate::node::{GraphNode, ResourceType, TestKind};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    Fqn,
    Tag,
    Group,
    Access,
    Source,
    Path,
    File,
    Package,
    /// `config.<key>[.<key>…]`.
    Config(Vec<String>),
    TestName,
    TestType,
    ResourceType,
    State,
    Result,
    SourceStatus,
    Exposure,
    Metric,
    SemanticModel,
    SavedQuery,
    UnitTest,
    Version,
}

/// Method names as written before the `:`.
pub const METHOD_NAMES: [&str; 21] = [
    "fqn",
    "tag",
    "group",
    "access",
    "source",
    "path",
    "file",
    "package",
    "config",
    "test_name",
    "test_type",
    "resource_type",
    "state",
    "result",
    "source_status",
    "exposure",
    "metric",
    "semantic_model",
    "saved_query",
    "unit_test",
    "version",
];

impl Method {
    pub fn name(&self) -> &'static str {
        match self {
            Method::Fqn => "fqn",
            Method::Tag => "tag",
            Method::Group => "group",
            Method::Access => "access",
            Method::Source => "source",
            Method::Path => "path",
            Method::File => "file",
            Method::Package => "package",
            Method::Config(_) => "config",
            Method::TestName => "test_name",
            Method::TestType => "test_type",
            Method::ResourceType => "resource_type",
            Method::State => "state",
            Method::Result => "result",
            Method::SourceStatus => "source_status",
            Method::Exposure => "exposure",
            Method::Metric => "metric",
            Method::SemanticModel => "semantic_model",
            Method::SavedQuery => "saved_query",
            Method::UnitTest => "unit_test",
            Method::Version => "version",
        }
    }

    /// Whether evaluating this method needs a previous run's artifacts.
    pub fn needs_state(&self) -> bool {
        matches!(self, Method::State | Method::Result | Method::SourceStatus)
    }

    /// Parses `method[.arg…]`; on failure, a message and a "did you mean".
    pub(crate) fn parse(text: &str) -> Result<Method, (String, Option<String>)> {
        let mut parts = text.split('.');
        let name = parts.next().unwrap_or_default();
        let arguments: Vec<String> = parts.map(str::to_string).collect();
        if name == "config" {
            if arguments.is_empty() || arguments.iter().any(String::is_empty) {
                return Err((
                    "`config` needs a key: `config.<key>:<value>`".to_string(),
                    Some("for example `config.materialized:table`".to_string()),
                ));
            }
            return Ok(Method::Config(arguments));
        }
        let method = Self::by_name(name).ok_or_else(|| unknown_method(name))?;
        if !arguments.is_empty() {
            return Err((
                format!(
                    "the `{name}` method takes no `.{}` argument",
                    arguments.join(".")
                ),
                None,
            ));
        }
        Ok(method)
    }

    fn by_name(name: &str) -> Option<Method> {
        Some(match name {
            "fqn" => Method::Fqn,
            "tag" => Method::Tag,
            "group" => Method::Group,
            "access" => Method::Access,
            "source" => Method::Source,
            "path" => Method::Path,
            "file" => Method::File,
            "package" => Method::Package,
            "test_name" => Method::TestName,
            "test_type" => Method::TestType,
            "resource_type" => Method::ResourceType,
            "state" => Method::State,
            "result" => Method::Result,
            "source_status" => Method::SourceStatus,
            "exposure" => Method::Exposure,
            "metric" => Method::Metric,
            "semantic_model" => Method::SemanticModel,
            "saved_query" => Method::SavedQuery,
            "unit_test" => Method::UnitTest,
            "version" => Method::Version,
            _ => return None,
        })
    }

    /// dbt's default for a bare value: a path if it has a separator, a file
    /// if it ends like one, else a qualified name.
    pub(crate) fn default_for(value: &str) -> Method {
        let lower = value.to_ascii_lowercase();
        if value.contains(['/', '\\']) {
            Method::Path
        } else if [".sql", ".py", ".csv"]
            .iter()
            .any(|ext| lower.ends_with(ext))
        {
            Method::File
        } else {
            Method::Fqn
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Method::Config(keys) => write!(f, "config.{}", keys.join(".")),
            other => f.write_str(other.name()),
        }
    }
}

fn unknown_method(name: &str) -> (String, Option<String>) {
    let message = format!("`{name}` is not a selection method");
    let hint = match suggest(name, METHOD_NAMES) {
        Some(near) => format!("did you mean `{near}`?"),
        None => format!("selection methods are: {}", METHOD_NAMES.join(", ")),
    };
    (message, Some(hint))
}

/// dbt resource type names that exist but have no nodes here: valid in
/// `resource_type:`, they select nothing.
const OTHER_DBT_RESOURCE_TYPES: [&str; 7] = [
    "rpc",
    "sql_operation",
    "doc",
    "macro",
    "group",
    "fixture",
    "function",
];

/// The parsed value of one criterion, ready to match nodes.
pub(crate) enum Matcher<'a> {
    Fqn(&'a str),
    Tag(&'a str),
    Group(&'a str),
    Access(&'a str),
    Source {
        package: &'a str,
        source: &'a str,
        table: &'a str,
    },
    Path(PathPattern),
    File(&'a str),
    Package(&'a str),
    Config {
        keys: &'a [String],
        value: &'a str,
    },
    TestName(&'a str),
    TestType(&'static [TestKind]),
    ResourceType(Option<ResourceType>),
    Named {
        resource_type: ResourceType,
        package: &'a str,
        name: &'a str,
    },
    Version(VersionSelector),
    /// Answered by the state provider.
    State(&'a str),
    Result(&'a str),
    SourceStatus(&'a str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VersionSelector {
    Latest,
    Prerelease,
    Old,
    None,
}

/// Checks a value when the expression is parsed, so mistakes surface before
/// anything runs.
pub(crate) fn validate_value(method: &Method, value: &str) -> Result<(), String> {
    compile(method, value).map(|_| ())
}

pub(crate) fn compile<'a>(method: &'a Method, value: &'a str) -> Result<Matcher<'a>, String> {
    Ok(match method {
        Method::Fqn => Matcher::Fqn(value),
        Method::Tag => Matcher::Tag(value),
        Method::Group => Matcher::Group(value),
        Method::Access => Matcher::Access(value),
        Method::Source => compile_source(value)?,
        Method::Path => Matcher::Path(PathPattern::new(value)),
        Method::File => Matcher::File(value),
        Method::Package => Matcher::Package(value),
        Method::Config(keys) => Matcher::Config { keys, value },
        Method::TestName => Matcher::TestName(value),
        Method::TestType => Matcher::TestType(test_types(value)?),
        Method::ResourceType => compile_resource_type(value)?,
        Method::State => Matcher::State(value),
        Method::Result => Matcher::Result(value),
        Method::SourceStatus => Matcher::SourceStatus(value),
        Method::Exposure => compile_named(ResourceType::Exposure, value)?,
        Method::Metric => compile_named(ResourceType::Metric, value)?,
        Method::SemanticModel => compile_named(ResourceType::SemanticModel, value)?,
        Method::SavedQuery => compile_named(ResourceType::SavedQuery, value)?,
        Method::UnitTest => compile_named(ResourceType::UnitTest, value)?,
        Method::Version => Matcher::Version(version_selector(value)?),
    })
}

fn compile_source(value: &str) -> Result<Matcher<'_>, String> {
    let parts: Vec<&str> = value.split('.').collect();
    let (package, source, table) = match parts.as_slice() {
        [source] => ("*", *source, "*"),
        [source, table] => ("*", *source, *table),
        [package, source, table] => (*package, *source, *table),
        _ => {
            return Err(format!(
                "invalid source selector `{value}`: expected `source_name`, `source_name.table_name` \
                 or `package_name.source_name.table_name`"
            ));
        }
    };
    Ok(Matcher::Source {
        package,
        source,
        table,
    })
}

fn compile_named(resource_type: ResourceType, value: &str) -> Result<Matcher<'_>, String> {
    let (package, name) = match value.split_once('.') {
        None => ("*", value),
        Some((package, name)) if !name.contains('.') => (package, name),
        Some(_) => {
            return Err(format!(
                "invalid {resource_type} selector `{value}`: expected `name` or `package_name.name`"
            ));
        }
    };
    Ok(Matcher::Named {
        resource_type,
        package,
        name,
    })
}

fn test_types(value: &str) -> Result<&'static [TestKind], String> {
    Ok(match value {
        "generic" | "schema" => &[TestKind::Generic],
        "singular" => &[TestKind::Singular],
        "data" => &[TestKind::Generic, TestKind::Singular],
        "unit" => &[TestKind::Unit],
        _ => {
            return Err(format!(
                "invalid test type `{value}`: expected `generic`, `singular`, `unit` or `data`"
            ));
        }
    })
}

fn compile_resource_type(value: &str) -> Result<Matcher<'_>, String> {
    if let Ok(resource_type) = value.parse::<ResourceType>() {
        return Ok(Matcher::ResourceType(Some(resource_type)));
    }
    if OTHER_DBT_RESOURCE_TYPES.contains(&value) {
        return Ok(Matcher::ResourceType(None));
    }
    let names = ResourceType::ALL.map(ResourceType::as_str);
    let mut message = format!("`{value}` is not a resource type");
    if let Some(near) = suggest(value, names) {
        message.push_str(&format!(" (did you mean `{near}`?)"));
    }
    Err(message)
}

fn version_selector(value: &str) -> Result<VersionSelector, String> {
    match value {
        "latest" => Ok(VersionSelector::Latest),
        "prerelease" => Ok(VersionSelector::Prerelease),
        "old" => Ok(VersionSelector::Old),
        "none" => Ok(VersionSelector::None),
        _ => Err(format!(
            "invalid version selector `{value}`: expected `latest`, `prerelease`, `old` or `none`"
        )),
    }
}

impl Matcher<'_> {
    /// Whether `node` is one of the nodes this method searches (dbt's
    /// `parsed_nodes`, `source_nodes`, … families).
    pub(crate) fn searches(&self, node: &GraphNode) -> bool {
        let t = node.resource_type;
        match self {
            Matcher::Fqn(_) => t.is_fqn_selectable(),
            Matcher::Group(_) => {
                (t.is_fqn_selectable() && t != ResourceType::UnitTest) || t == ResourceType::Metric
            }
            Matcher::Access(_) | Matcher::Version(_) => t == ResourceType::Model,
            Matcher::Source { .. } | Matcher::SourceStatus(_) => t == ResourceType::Source,
            Matcher::Config { .. } => t.is_configurable(),
            Matcher::TestName(_) | Matcher::TestType(_) => node.test_kind().is_some(),
            Matcher::Named { resource_type, .. } => t == *resource_type,
            Matcher::Tag(_)
            | Matcher::Path(_)
            | Matcher::File(_)
            | Matcher::Package(_)
            | Matcher::ResourceType(_)
            | Matcher::State(_)
            | Matcher::Result(_) => true,
        }
    }

    /// Matches the methods that need no state; state methods are answered
    /// by the evaluator.
    pub(crate) fn matches(&self, node: &GraphNode, facts: &NodeFacts) -> bool {
        match self {
            Matcher::Fqn(selector) => fqn_matches(node, facts, selector),
            Matcher::Tag(pattern) => node.tags.iter().any(|tag| fnmatch(tag, pattern)),
            Matcher::Group(group) => {
                node.config.get("group").and_then(Value::as_str) == Some(*group)
            }
            Matcher::Access(access) => {
                node.config
                    .get("access")
                    .and_then(Value::as_str)
                    .unwrap_or("protected")
                    == *access
            }
            Matcher::Source {
                package,
                source,
                table,
            } => {
                fnmatch(&node.package_name, package)
                    && fnmatch(node.source_name.as_deref().unwrap_or_default(), source)
                    && fnmatch(&node.name, table)
            }
            Matcher::Path(pattern) => pattern.matches_file_or_ancestor(&node.original_file_path),
            Matcher::File(pattern) => file_matches(&node.original_file_path, pattern),
            Matcher::Package(pattern) => fnmatch(&node.package_name, pattern),
            Matcher::Config { keys, value } => config_matches(node, keys, value),
            Matcher::TestName(pattern) => test_name_matches(node, pattern),
            Matcher::TestType(kinds) => node.test_kind().is_some_and(|k| kinds.contains(&k)),
            Matcher::ResourceType(wanted) => *wanted == Some(node.resource_type),
            Matcher::Named { package, name, .. } => {
                fnmatch(&node.package_name, package) && fnmatch(&node.name, name)
            }
            Matcher::Version(selector) => version_matches(node, facts, *selector),
            Matcher::State(_) | Matcher::Result(_) | Matcher::SourceStatus(_) => false,
        }
    }
}

/// dbt's `QualifiedNameSelectorMethod`: the full fqn, or the fqn without its
/// package (to match across packages).
fn fqn_matches(node: &GraphNode, facts: &NodeFacts, selector: &str) -> bool {
    let Some(package) = node.fqn.first() else {
        return false;
    };
    let versioned = node.resource_type == ResourceType::Model && node.version.is_some();
    if is_selected_node(&node.fqn, &facts.fqn_joined, selector, versioned) {
        return true;
    }
    let unscoped = &node.fqn[1..];
    let unscoped_joined = facts
        .fqn_joined
        .get(package.len() + 1..)
        .unwrap_or_default();
    !unscoped.is_empty() && is_selected_node(unscoped, unscoped_joined, selector, versioned)
}

/// dbt's `is_selected_node`. `joined` is `fqn` joined with `.`.
fn is_selected_node(fqn: &[String], joined: &str, selector: &str, versioned: bool) -> bool {
    if leaf_matches(fqn, selector, versioned) {
        return true;
    }
    // Dots inside fqn parts act as separators too: compare flattened parts.
    if joined.split('.').count() < selector.split('.').count() {
        return false;
    }
    let (mut joined_offset, mut selector_offset) = (0, 0);
    for (selector_part, fqn_part) in selector.split('.').zip(joined.split('.')) {
        if has_wildcard(selector_part) {
            return fnmatch(&joined[joined_offset..], &selector[selector_offset..]);
        }
        if selector_part != fqn_part {
            return false;
        }
        joined_offset += fqn_part.len() + 1;
        selector_offset += selector_part.len() + 1;
    }
    true
}

/// The node name alone selects it; a versioned model (`…, name, v2`) is
/// also selected by `name`, `name.v2` or `name_v2`.
fn leaf_matches(fqn: &[String], selector: &str, versioned: bool) -> bool {
    match fqn {
        [.., name, version] if versioned => {
            if name == selector {
                return true;
            }
            let mut tail = selector.rsplitn(3, '.');
            let last = tail.next().unwrap_or_default();
            let selector_tail: [&str; 3] = match tail.next() {
                Some(second) => [second, "_", last],
                None => [last, "", ""],
            };
            concat_eq(&[name, "_", version], &selector_tail)
        }
        [.., leaf] => leaf == selector,
        [] => false,
    }
}

fn concat_eq(left: &[&str], right: &[&str]) -> bool {
    left.iter()
        .flat_map(|s| s.bytes())
        .eq(right.iter().flat_map(|s| s.bytes()))
}

/// Matches the file name, with or without its extension.
fn file_matches(path: &str, pattern: &str) -> bool {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let stem = match name.rfind('.') {
        Some(dot) if dot > 0 => &name[..dot],
        _ => name,
    };
    fnmatch(name, pattern) || fnmatch(stem, pattern)
}

fn test_name_matches(node: &GraphNode, pattern: &str) -> bool {
    let Some(info) = node.test.as_ref().filter(|t| t.kind == TestKind::Generic) else {
        return false;
    };
    let Some(name) = info.test_name.as_deref() else {
        return false;
    };
    // dbt matches the macro name without its package namespace.
    let short = name.rsplit('.').next().unwrap_or(name);
    fnmatch(short, pattern) || fnmatch(name, pattern)
}

/// dbt's `ConfigSelectorMethod`: nested keys; a list matches when it holds
/// the value; `true`/`false` match booleans; numbers compare as text.
fn config_matches(node: &GraphNode, keys: &[String], wanted: &str) -> bool {
    let Some((first, rest)) = keys.split_first() else {
        return false;
    };
    let top = node.config_value(first);
    let mut value = top.as_deref();
    for key in rest {
        value = value.and_then(|v| v.as_object()).and_then(|o| o.get(key));
    }
    let case_insensitive = keys.len() == 1 && keys[0] == "severity";
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .any(|item| scalar_matches(item, wanted, case_insensitive)),
        Some(item) => scalar_matches(item, wanted, case_insensitive),
        None => false,
    }
}

fn scalar_matches(value: &Value, wanted: &str, case_insensitive: bool) -> bool {
    match value {
        Value::String(s) if case_insensitive => s.eq_ignore_ascii_case(wanted),
        Value::String(s) => s == wanted,
        Value::Bool(b) => wanted.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
        Value::Number(n) => n.to_string() == wanted,
        Value::Null | Value::Array(_) | Value::Object(_) => false,
    }
}

fn version_matches(node: &GraphNode, facts: &NodeFacts, selector: VersionSelector) -> bool {
    let version = node.version.as_deref();
    let latest = facts.latest_version.as_deref();
    match (selector, version, latest) {
        (VersionSelector::None, None, _) => true,
        (VersionSelector::Latest, Some(v), Some(l)) => compare_versions(v, l).is_eq(),
        (VersionSelector::Prerelease, Some(v), Some(l)) => compare_versions(v, l).is_gt(),
        (VersionSelector::Old, Some(v), Some(l)) => compare_versions(v, l).is_lt(),
        _ => false,
    }
}

/// dbt's `UnparsedVersion` order: numerically when both are numbers, else
/// as text.
pub(crate) fn compare_versions(a: &str, b: &str) -> Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fqn(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn qualified_names_follow_dbt() {
        let f = fqn(&["shop", "marts", "finance", "fct_orders"]);
        let joined = f.join(".");
        assert!(is_selected_node(&f, &joined, "fct_orders", false));
        assert!(is_selected_node(&f, &joined, "shop.marts.*", false));
        assert!(is_selected_node(&f, &joined, "shop.marts", false));
        assert!(is_selected_node(&f, &joined, "shop.*.fct_*", false));
        assert!(!is_selected_node(&f, &joined, "marts.*", false));
        assert!(!is_selected_node(&f, &joined, "fct", false));
        let v = fqn(&["shop", "dim_customers", "v2"]);
        let joined = v.join(".");
        assert!(is_selected_node(&v, &joined, "dim_customers", true));
        assert!(is_selected_node(&v, &joined, "dim_customers.v2", true));
        assert!(is_selected_node(&v, &joined, "dim_customers_v2", true));
        assert!(!is_selected_node(&v, &joined, "dim_customers_v1", true));
    }

    #[test]
    fn versions_compare_numerically_when_they_can() {
        assert!(compare_versions("10", "9").is_gt());
        assert!(compare_versions("1.5", "1.10").is_gt());
        assert!(compare_versions("beta", "alpha").is_gt());
    }
}
