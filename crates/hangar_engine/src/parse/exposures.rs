//! Exposures from property YAML, with their `depends_on` resolved as dbt
//! does: `ref(...)` and `source(...)` entries become `refs`, `sources` and
//! `depends_on.nodes`. Exposures are graph nodes, so selection sees them
//! (`+exposure:weekly_report`) and they reach the parent and child maps.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use hangar_graph::{GraphNode, ResourceType};

use hangar_project::properties::{ExposureDef, PropertyFile};
use hangar_project::{Diagnostic, codes, line_col, suggest};
use serde_json::{Map, Value, json};

use super::drafts::{fqn_for, path_string, string_list, yaml_path_in_folder};
use super::generic::call_args;
use super::refs::RefIndex;
use crate::node::{Node, SourceNode};
use crate::session::Session;

/// Every exposure by unique id; an entry naming no existing node or source
/// is reported (H300 / H301, or H303 for a disabled node) at the exposure's line.
pub fn exposures(
    session: &Session,
    nodes: &BTreeMap<String, Box<Node>>,
    disabled: &BTreeMap<String, Vec<Node>>,
    sources: &BTreeMap<String, SourceNode>,
    diagnostics: &mut Vec<Diagnostic>,
) -> BTreeMap<String, Value> {
    let mut files = session.project.packages.iter().flat_map(|p| &p.properties);
    if files.all(|file| file.exposures.is_empty()) {
        // Most projects have none: skip indexing every node by name.
        return BTreeMap::new();
    }
    let known = Known {
        nodes: RefIndex::new(nodes.values().map(|n| &**n)),
        disabled: RefIndex::new(disabled.values().flatten()),
        sources: sources
            .values()
            .map(|s| ((s.source_name.as_str(), s.name.as_str()), s))
            .collect(),
    };
    let root = &session.root_package().name;
    let mut out = BTreeMap::new();
    for package in &session.project.packages {
        for file in &package.properties {
            for e in file.exposures.iter().filter(|e| is_enabled(e)) {
                let id = format!("exposure.{}.{}", package.name, e.name);
                let found = Dependencies::resolve(e, &package.name, root, &known);
                for missing in &found.missing {
                    diagnostics.push(missing_dependency(e, file, missing, &known, &package.name));
                }
                let path = path_string(&file.path);
                let in_folder = yaml_path_in_folder(&path, &package.config);
                let place = Place {
                    package: &package.name,
                    unique_id: &id,
                    fqn: fqn_for(&package.name, in_folder, &e.name),
                    path: in_folder,
                    original_file_path: &path,
                };
                out.insert(id.clone(), exposure_json(e, place, found));
            }
        }
    }
    out
}

/// `config: {enabled: false}` leaves an exposure out, refs unchecked.
fn is_enabled(e: &ExposureDef) -> bool {
    e.config.get("enabled").and_then(Value::as_bool) != Some(false)
}

/// dbt's exposure config: `enabled`, and the tags and meta given at the top
/// level and under `config:` together.
fn exposure_config(e: &ExposureDef) -> (Vec<String>, Map<String, Value>, Value) {
    let mut tags = e.tags.clone();
    for tag in string_list(e.config.get("tags")) {
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    let mut meta = e.meta.clone();
    if let Some(Value::Object(config_meta)) = e.config.get("meta") {
        meta.extend(config_meta.clone());
    }
    let config = json!({"enabled": true, "tags": tags, "meta": meta});
    (tags, meta, config)
}

/// What an exposure's `depends_on` may name.
struct Known<'a> {
    nodes: RefIndex<'a>,
    disabled: RefIndex<'a>,
    sources: HashMap<(&'a str, &'a str), &'a SourceNode>,
}

/// An exposure's identity and where it was declared.
struct Place<'a> {
    package: &'a str,
    unique_id: &'a str,
    fqn: Vec<String>,
    /// The property file's path inside its resource folder, as dbt's `path`.
    path: &'a str,
    original_file_path: &'a str,
}

/// The selection graph's view of an exposure, read from its manifest entry.
pub fn graph_node(exposure: &Value) -> GraphNode {
    let text = |key: &str| {
        exposure
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let strings = |key: &str| string_list(exposure.get(key));
    GraphNode {
        unique_id: text("unique_id"),
        name: text("name"),
        resource_type: ResourceType::Exposure,
        package_name: text("package_name"),
        fqn: strings("fqn"),
        original_file_path: text("original_file_path"),
        path: text("path"),
        tags: strings("tags"),
        config: Arc::new(
            exposure
                .get("config")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        ),
        config_alias: None,
        source_name: None,
        test: None,
        version: None,
        checksum: String::new(),
    }
}

/// The unique ids an exposure's manifest entry depends on.
pub fn depends_on_nodes(exposure: &Value) -> Vec<String> {
    string_list(exposure.pointer("/depends_on/nodes"))
}

#[derive(Default)]
struct Dependencies {
    refs: Vec<Value>,
    sources: Vec<[String; 2]>,
    nodes: Vec<String>,
    /// Entries that name nothing in the project, as written.
    missing: Vec<Missing>,
}

enum Missing {
    Ref(Option<String>, String),
    Source(String, String),
}

impl Missing {
    /// The name to point at in the property file.
    fn name(&self) -> &str {
        match self {
            Missing::Ref(_, name) => name,
            Missing::Source(_, table) => table,
        }
    }
}

impl Dependencies {
    fn resolve(e: &ExposureDef, package: &str, root: &str, known: &Known<'_>) -> Dependencies {
        let mut found = Dependencies::default();
        for entry in &e.depends_on {
            for args in call_args(entry, "ref") {
                let (pkg, name) = match args.as_slice() {
                    [name] => (None, name.clone()),
                    [pkg, name] => (Some(pkg.clone()), name.clone()),
                    _ => continue,
                };
                found
                    .refs
                    .push(json!({"name": name, "package": pkg, "version": null}));
                match known.nodes.find(pkg.as_deref(), &name, package, root) {
                    Some(node) => found.nodes.push(node.unique_id.clone()),
                    None => found.missing.push(Missing::Ref(pkg, name)),
                }
            }
            for args in call_args(entry, "source") {
                let [source, table] = args.as_slice() else {
                    continue;
                };
                found.sources.push([source.clone(), table.clone()]);
                match known.sources.get(&(source.as_str(), table.as_str())) {
                    Some(s) => found.nodes.push(s.unique_id.clone()),
                    None => found
                        .missing
                        .push(Missing::Source(source.clone(), table.clone())),
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        found.nodes.retain(|id| seen.insert(id.clone()));
        found
    }
}

fn missing_dependency(
    e: &ExposureDef,
    file: &PropertyFile,
    missing: &Missing,
    known: &Known<'_>,
    package: &str,
) -> Diagnostic {
    let (line, column) = name_after_line(&file.contents, e.line, missing.name());
    let at = |d: Diagnostic| {
        d.at(file.path.clone(), line, column)
            .with_source(file.contents.clone(), missing.name().len())
    };
    if let Missing::Ref(pkg, name) = missing
        && known
            .disabled
            .find(pkg.as_deref(), name, package, "")
            .is_some()
    {
        return at(Diagnostic::error(
            codes::REF_TO_DISABLED,
            format!(
                "exposure `{}` depends on `{name}`, which is disabled",
                e.name
            ),
        ))
        .with_hint(format!(
            "enable `{name}` or remove it from the exposure's depends_on"
        ));
    }
    let (code, what, hint) = match missing {
        Missing::Ref(pkg, name) => {
            let what = match pkg {
                Some(p) => format!("a node named `{p}.{name}`"),
                None => format!("a node named `{name}`"),
            };
            (codes::UNKNOWN_REF, what, suggest(name, known.nodes.names()))
        }
        Missing::Source(source, table) => {
            let names: Vec<String> = known
                .sources
                .keys()
                .map(|(source, table)| format!("{source}.{table}"))
                .collect();
            let wanted = format!("{source}.{table}");
            let hint = suggest(&wanted, names.iter().map(String::as_str));
            (
                codes::UNKNOWN_SOURCE,
                format!("a source named `{wanted}`"),
                hint,
            )
        }
    };
    let mut d = at(Diagnostic::error(
        code,
        format!(
            "exposure `{}` depends on {what} which was not found",
            e.name
        ),
    ));
    if let Some(near) = hint {
        d = d.with_hint(format!("did you mean `{near}`?"));
    }
    d
}

/// Line and column of the first quoted `name` at or after `line` (the
/// exposure's entry), else the entry's own line.
fn name_after_line(text: &str, line: usize, name: &str) -> (usize, usize) {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    ["'", "\""]
        .iter()
        .filter_map(|quote| text[start..].find(&format!("{quote}{name}{quote}")))
        .min()
        .map_or((line.max(1), 1), |at| line_col(text, start + at + 1))
}

/// An exposure as dbt writes it in the manifest.
fn exposure_json(e: &ExposureDef, place: Place<'_>, depends: Dependencies) -> Value {
    let (tags, meta, config) = exposure_config(e);
    json!({
        "name": e.name,
        "resource_type": "exposure",
        "package_name": place.package,
        "path": place.path,
        "original_file_path": place.original_file_path,
        "unique_id": place.unique_id,
        "fqn": place.fqn,
        "type": e.exposure_type,
        "owner": e.owner,
        "description": e.description.clone().unwrap_or_default(),
        "label": e.label,
        "maturity": e.maturity,
        "meta": meta,
        "tags": tags,
        "config": config,
        "unrendered_config": e.config,
        "url": e.url,
        "depends_on": {"macros": [], "nodes": depends.nodes},
        "refs": depends.refs,
        "sources": depends.sources,
        "metrics": [],
        "created_at": 0.0,
    })
}
